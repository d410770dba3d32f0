from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from casework.extensions import limiter
from casework.users import services
from casework.users.forms import LanguageForm, LoginForm

bp = Blueprint("users", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after login is a phishing aid. Browsers
    # read "/\\host" as "//host" and drop tabs and newlines, so refuse those too.
    if target and target.startswith("/") and not target.startswith("//") \
            and "\\" not in target and target.isprintable() and not urlsplit(target).netloc:
        return target
    return url_for("dashboard.index")


def _login_key():
    return f"{request.remote_addr}|{(request.form.get('username') or '').strip().lower()}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"],
               key_func=_login_key)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        try:
            user = services.authenticate(
                form.username.data, form.password.data,
                max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"],
            )
        except services.LoginFailed as failure:
            form.password.errors.append(failure.message)
        else:
            session.clear()  # a fresh session id on login (fixation)
            login_user(user)
            # The clear above dropped the idle clock set before the view; restart it.
            session["last_seen"] = datetime.now(UTC).timestamp()
            return redirect(_safe_next(form.next.data))
    status = 200 if request.method == "GET" or not form.errors else 422
    return render_template("users/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("users.login"))


@bp.post("/language")
def language():
    form = LanguageForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            services.set_locale(current_user, form.locale.data)
        session["locale"] = form.locale.data
    else:
        flash(_("Unknown language."), "danger")
    return redirect(_safe_next(form.next.data))


@bp.get("/admin/users")
@login_required
def index():
    return render_template("users/index.html", users=services.list_users(current_user))
