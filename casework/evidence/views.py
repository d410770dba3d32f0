"""Evidence files and finding photos, served only to those who may see them."""

from urllib.parse import quote

from flask import Blueprint, Response, abort, request
from flask_login import current_user, login_required
from werkzeug.wsgi import wrap_file

from casework.evidence import services

bp = Blueprint("evidence", __name__, url_prefix="/evidence")

# Shown in the browser rather than saved: what a tablet opens with a tap.
INLINE_KINDS = ("image", "pdf")


@bp.get("/<attachment_uuid>")
@login_required
def download(attachment_uuid):
    """The file's bytes with the type found from its content; 404 for anyone who may not
    see what it belongs to (no hint whether it exists)."""
    try:
        attachment, stream = services.open_attachment(attachment_uuid, current_user)
    except FileNotFoundError:
        abort(404)
    response = Response(wrap_file(request.environ, stream), mimetype=attachment.content_type,
                        direct_passthrough=True)
    response.content_length = attachment.size
    disposition = "inline" if attachment.kind in INLINE_KINDS else "attachment"
    # RFC 6266/5987: the user's name may be Chinese; quote() leaves only safe ASCII.
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename*=UTF-8''{quote(attachment.original_name, safe='')}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
