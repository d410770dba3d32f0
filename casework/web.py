"""Request-wide behaviour: security headers, session idle timeout, template helpers."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from babel import Locale
from flask import current_app, flash, g, request, session
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user

from casework import clock, labels, policy
from casework.errors import register_error_handlers
from casework.extensions import db, login_manager
from workflows import registry

# Every asset is served by the app itself (intranet use), so the policy can be strict.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def init_app(app):
    login_manager.login_view = "users.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id):
        from casework.users.models import User

        return db.session.get(User, int(user_id))

    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "warning"

    @app.before_request
    def enforce_idle_timeout():
        # The cookie expires on the client too, but a copied cookie must not outlive
        # the idle limit either, so the server keeps its own clock.
        session.permanent = True
        if request.endpoint == "static":
            return
        now = datetime.now(UTC).timestamp()
        last = session.get("last_seen")
        limit = app.config["SESSION_IDLE_MINUTES"] * 60
        if current_user.is_authenticated and last is not None and now - last > limit:
            logout_user()
            session.clear()
            flash(_("Your session expired after a period of inactivity. Please log in again."),
                  "warning")
        session["last_seen"] = now

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "geolocation=(), microphone=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        if current_user.is_authenticated and request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.context_processor
    def template_helpers():
        return {"current_locale": current_locale, "nav_items": nav_items,
                "today": clock.today, "unread_notifications": unread_notifications,
                # Templates ask the policy, never encode role rules:
                # {% if may("inspection_start", case) %}.
                "may": lambda action, obj=None: policy.allows(action, current_user, obj)}

    register_error_handlers(app)
    app.jinja_env.filters.update(labels.TEMPLATE_FILTERS)
    # Which triggers need a reason is the machine's (guarded by reason_given), not a page's:
    # {% if needs_reason(trigger, "order") %}.
    app.jinja_env.globals["needs_reason"] = (
        lambda trigger, machine="case": trigger in registry.needs_reason(machine))


def current_locale() -> str:
    """The active language as configured ("zh_CN", "en").

    Not str(get_locale()): Babel spells zh_CN "zh_Hans_CN", which matched nothing.
    """
    locale = get_locale()
    for code in current_app.config["LANGUAGES"]:
        if Locale.parse(code) == locale:
            return code
    return str(locale)


@dataclass(frozen=True)
class NavItem:
    """One navigation entry: shown to whoever the policy allows `action`."""

    endpoint: str
    label: object                   # a lazy string
    icon: str
    action: str | None              # None: every signed-in user
    primary_for: tuple[str, ...] = ("*",)   # roles that have it in the bar, not "More"
    label_for: dict = field(default_factory=dict)   # {role: label} where it reads differently

    def primary(self, role: str) -> bool:
        return "*" in self.primary_for or role in self.primary_for


# The menu in order. Who sees an entry is the policy's answer to its action, never a
# role list of its own (tests/test_policy.py checks every action named here exists).
NAVIGATION = (
    NavItem("dashboard.index", _l("Dashboard"), "bi-speedometer2", None),
    NavItem("campaigns.index", _l("Campaigns"), "bi-flag", None),
    NavItem("cases.index", _l("Cases"), "bi-folder2-open", "case_list"),
    # For an institution the order list is its to-do list (待办整改).
    NavItem("orders.index", _l("Orders"), "bi-list-check", "order_list",
            label_for={"institution": _l("To-do")}),
    NavItem("queue.index", _l("Escalation queue"), "bi-exclamation-diamond", "queue_view",
            primary_for=("coordinator",)),
    NavItem("reports.index", _l("Progress reports"), "bi-journal-text", "report_list"),
    NavItem("complaints.index", _l("Complaints"), "bi-chat-left-dots", "complaint_list",
            primary_for=()),
    NavItem("disputes.index", _l("Medical disputes"), "bi-clipboard2-pulse", "dispute_list",
            primary_for=()),
    NavItem("bulletins.index", _l("Bulletins"), "bi-megaphone", "bulletin_list",
            primary_for=()),
    NavItem("points.index", _l("Bad-conduct points"), "bi-clipboard-data", "points_list",
            primary_for=()),
    NavItem("users.index", _l("Users"), "bi-people", "users_manage"),
    NavItem("workdays.index", _l("Working-day calendar"), "bi-calendar3", "workdays_view"),
    NavItem("settings.edit", _l("Settings"), "bi-gear", "settings_update"),
    NavItem("jobs.index", _l("Scheduled jobs"), "bi-clock-history", "jobs_view",
            primary_for=("admin",)),
)


def nav_items() -> list[tuple[str, str, str, bool]]:
    """Navigation for the current user: (endpoint, label, icon, primary), the entries of
    NAVIGATION the policy allows.

    Primary items sit in the bar, one tap away on a tablet; the others go under "More",
    so the bar fits 1024 px whatever the role.
    """
    role = current_user.role
    return [(item.endpoint, item.label_for.get(role, item.label), item.icon,
             item.primary(role))
            for item in NAVIGATION
            if item.action is None or policy.allows(item.action, current_user)]


def unread_notifications() -> int:
    """The current user's unread notifications for the navigation badge: one query per
    request however often a page asks (cached on `g`), none for anonymous pages."""
    if not current_user.is_authenticated:
        return 0
    if "unread_notifications" not in g:
        from casework.notifications.services import unread_count

        g.unread_notifications = unread_count(current_user)
    return g.unread_notifications
