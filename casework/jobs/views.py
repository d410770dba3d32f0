"""The jobs page (/admin/jobs): what the scheduler did and will do, for admins and
coordinators."""

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from casework.jobs import services

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")

# The keys the sweeps put in their summaries (casework/*/sweeps.py, notifications/mail.py);
# a key not listed here shows under its own name rather than disappear.
SUMMARY_LABELS = {
    "overdue": _l("overdue"), "escalated": _l("escalated"), "moved": _l("moved on"),
    "blocked": _l("blocked"), "blocked_cases": _l("cases blocked"),
    "refused": _l("refused"), "created": _l("created"), "drafted": _l("drafted"),
    "orders": _l("orders"), "periods": _l("periods"), "reminders": _l("reminders"),
    "notifications": _l("notifications"), "sent": _l("sent"), "skipped": _l("skipped"),
    "retrying": _l("retrying"), "failed": _l("failed"), "error": _l("error"),
}


@bp.app_template_filter("summary_label")
def summary_label(key: str) -> str:
    return str(SUMMARY_LABELS.get(key, key.replace("_", " ")))


@bp.get("")
@login_required
def index():
    return render_template("jobs/index.html", overview=services.jobs_overview(current_user))
