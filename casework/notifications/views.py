"""The inbox (/notifications/), marking read, and the e-mail preference page.

Each view parses its input, calls one service and renders or redirects. Every query
is scoped to the logged-in user by the services: another user's notification is 404.
"""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from casework.errors import Invalid
from casework.notifications import services
from casework.notifications.forms import InboxActionForm, MailPreferenceForm
from casework.notifications.kinds import render

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def safe_link(link: str | None) -> str | None:
    """A notification's link if it is a path of this site, else None (never an
    off-site or javascript: address, whatever a sweep stored)."""
    if link and link.startswith("/") and not link.startswith("//") and "\\" not in link \
            and link.isprintable():
        return link
    return None


@bp.context_processor
def _inbox_helpers():
    return {"render_notice": lambda n: render(n.kind, n.params), "notice_link": safe_link}


def _page_arg() -> int:
    value = request.args.get("page", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else 1


@bp.get("/")
@login_required
def index():
    page = services.list_notifications(current_user, page=_page_arg(),
                                       per_page=current_app.config["PAGE_SIZE"])
    return render_template("notifications/index.html", page=page, form=InboxActionForm())


def _back_to_inbox(form: InboxActionForm):
    return redirect(url_for("notifications.index", page=form.page.data or None))


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id):
    form = InboxActionForm()
    if not form.validate_on_submit():
        raise Invalid(form.errors)
    services.mark_read(notification_id, current_user)
    return _back_to_inbox(form)


@bp.post("/<int:notification_id>/open")
@login_required
def open_link(notification_id):
    """Follow a notification's link and mark it read on the way (a POST: reading changes
    state, so it carries the CSRF token like every other change)."""
    form = InboxActionForm()
    if not form.validate_on_submit():
        raise Invalid(form.errors)
    notification = services.mark_read(notification_id, current_user)
    return redirect(safe_link(notification.link) or url_for("notifications.index"))


@bp.post("/read-all")
@login_required
def read_all():
    form = InboxActionForm()
    if not form.validate_on_submit():
        raise Invalid(form.errors)
    count = services.mark_all_read(current_user)
    flash(ngettext("%(num)d notification marked as read.",
                   "%(num)d notifications marked as read.", count), "success")
    return _back_to_inbox(form)


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    form = MailPreferenceForm()
    if request.method == "GET":
        form.email_notifications.data = current_user.email_notifications
        form.email.data = current_user.email or ""
        return render_template("notifications/settings.html", form=form, errors={})
    if not form.validate_on_submit():
        raise Invalid(form.errors)
    try:
        services.set_mail_preference(current_user, form.email_notifications.data,
                                     form.email.data)
    except Invalid as error:
        return render_template("notifications/settings.html", form=form,
                               errors=error.details["errors"]), 422
    flash(_("Your e-mail settings are saved."), "success")
    return redirect(url_for("notifications.settings"))
