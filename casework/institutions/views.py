"""Institutions as JSON for the filter forms' search-as-you-type (static/js/lists.js)."""

from flask import Blueprint, jsonify, request
from flask_login import current_user, login_required

from casework.institutions import services
from casework.labels import localized

bp = Blueprint("institutions", __name__)


@bp.get("/api/institutions/search")
@login_required
def search():
    """?q=part of a name: at most 20 institutions the user may see, as
    {"institutions": [{"id": 1, "name": "…"}]}; no q or one over 100 characters: 422."""
    found = services.search_institutions(current_user, request.args.get("q"))
    return jsonify(institutions=[{"id": i.id, "name": localized(i, "name")} for i in found])
