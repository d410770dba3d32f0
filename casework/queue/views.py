"""The escalation queue's pages: the list with filters and bulk claiming, and one
item's page with the actions that answer it. Each view parses its input, calls one
service and renders or redirects; a refused form comes back with its messages (422)."""

import dataclasses

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework import labels, parsing, policy
from casework.errors import Invalid
from casework.institutions import services as institutions
from casework.queue import forms, services
from casework.queue.models import QUEUE_KINDS

bp = Blueprint("queue", __name__, url_prefix="/queue")


_int = parsing.whole


def _filters() -> services.QueueFilters:
    args = request.args
    return services.QueueFilters(
        kind=args.get("kind") or None, region_id=_int(args.get("region")),
        institution_id=_int(args.get("institution")), owner=args.get("owner") or "anyone",
        campaign_id=_int(args.get("campaign")), sort=args.get("sort") or "age")


def _index_page(errors=None, status=200):
    filters = _filters()
    # The institution: chosen from the suggestions (its id), or typed without the script.
    picked = institutions.pick_institution(current_user, filters.institution_id,
                                           request.args.get("institution_text"))
    if picked.error:
        errors, status = {**(errors or {}), "institution": [picked.error]}, 422
    elif picked.id != filters.institution_id:
        filters = dataclasses.replace(filters, institution_id=picked.id)
    page = services.list_queue(current_user, filters, page=_int(request.args.get("page")) or 1)
    return render_template(
        "queue/index.html", page=page, filters=filters, kinds=QUEUE_KINDS, picked=picked,
        choices=services.filter_choices(current_user), errors=errors or {},
        can_claim=policy.allows("queue_claim", current_user)), status


@bp.get("/")
@login_required
def index():
    return _index_page()


@bp.post("/assign")
@login_required
def assign():
    form = forms.AssignForm()
    try:
        n = services.assign_items(form.item.data, actor=current_user, action=form.action.data,
                                  assignee_id=form.assignee.data, expected=form.expected())
    except Invalid as error:
        return _index_page(error.details["errors"], 422)
    flash(_("%(n)d item(s) updated.", n=n), "success")
    back = form.next.data
    return redirect(back if back.startswith("/queue/") else url_for("queue.index"))


def _item_page(key, errors=None, posted=None, status=200):
    item = services.get_item(key, current_user)
    return render_template("queue/item.html", item=item, errors=errors or {},
                           posted=posted or {}, choices=services.filter_choices(current_user),
                           labels=labels), status


@bp.get("/item/<path:key>")
@login_required
def item(key):
    return _item_page(key)


@bp.post("/item/<path:key>/escalate")
@login_required
def escalate(key):
    form = forms.ItemActionForm()
    try:
        services.escalate_item(key, actor=current_user, version=form.version.data,
                               comment=form.comment.data)
    except Invalid as error:
        return _item_page(key, error.details["errors"], request.form, 422)
    flash(_("Order escalated."), "success")
    return redirect(url_for("queue.index"))


@bp.post("/item/<path:key>/tackling")
@login_required
def tackling(key):
    form = forms.ItemActionForm()
    try:
        services.designate_tackling_item(key, actor=current_user, version=form.version.data,
                                         comment=form.comment.data)
    except Invalid as error:
        return _item_page(key, error.details["errors"], request.form, 422)
    flash(_("Case designated for tackling."), "success")
    return redirect(url_for("queue.index"))


@bp.post("/item/<path:key>/extension")
@login_required
def extension(key):
    form = forms.ExtensionDecisionForm()
    approve = form.approve
    try:
        services.decide_extension_item(
            key, actor=current_user, approve=approve, version=form.version.data,
            comment=form.comment.data, new_deadline=form.new_deadline.data)
    except Invalid as error:
        return _item_page(key, error.details["errors"], request.form, 422)
    flash(_("Extension approved.") if approve else _("Extension declined."), "success")
    return redirect(url_for("queue.index"))


@bp.app_context_processor
def _queue_helpers():
    def queue_badge():
        """The number of items on the current user's queue (dashboard link): one COUNT,
        at most once per request however many templates show it."""
        if "queue_badge" not in g:
            g.queue_badge = None
            if policy.allows("queue_view", current_user):
                n, capped = services.queue_count(current_user)
                g.queue_badge = f"{n:,}+" if capped else n
        return g.queue_badge

    return {"queue_badge": queue_badge}
