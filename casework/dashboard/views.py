from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from casework.dashboard import services

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def root():
    return redirect(url_for("dashboard.index"))


@bp.get("/dashboard")
@login_required
def index():
    return render_template(f"dashboard/{current_user.role}.html",
                           **services.overview(current_user))
