"""The jobs page (/admin/jobs): what the scheduler did and will do, for admins and
coordinators."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from casework.jobs import services

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")


@bp.get("")
@login_required
def index():
    return render_template("jobs/index.html", overview=services.jobs_overview(current_user))
