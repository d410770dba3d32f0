from datetime import date

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework.dashboard import services
from casework.errors import Invalid

bp = Blueprint("dashboard", __name__)


def period_args() -> tuple[date | None, date | None]:
    """The `start` and `end` query arguments (YYYY-MM-DD; absent: None). A value that is
    not a date is refused at once (422, in the user's language)."""
    values, errors = [], {}
    for name, message in (("start", _("Enter a valid start date (YYYY-MM-DD).")),
                          ("end", _("Enter a valid end date (YYYY-MM-DD)."))):
        text = request.args.get(name, "").strip()
        try:
            values.append(date.fromisoformat(text) if text else None)
        except ValueError:
            errors[name] = [message]
    if errors:
        raise Invalid(errors)
    return values[0], values[1]


def int_arg(name: str) -> int | None:
    value = request.args.get(name, "").strip()
    return int(value) if value.isdigit() else None


@bp.get("/")
def root():
    return redirect(url_for("dashboard.index"))


@bp.get("/status")
def status():
    """No login: for monitoring, and the benchmark's baseline (bench/measure.py)."""
    return render_template("status.txt", **services.status()), 200, {
        "Content-Type": "text/plain; charset=utf-8"}


@bp.get("/dashboard")
@login_required
def index():
    start, end = period_args()
    return render_template(f"dashboard/{current_user.role}.html",
                           **services.overview(current_user, int_arg("campaign"), start, end))
