from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from casework import parsing
from casework.dashboard import services

bp = Blueprint("dashboard", __name__)


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
    start, end = parsing.period_args()
    return render_template(f"dashboard/{current_user.role}.html",
                           **services.overview(current_user, parsing.int_arg("campaign"),
                                               start, end))
