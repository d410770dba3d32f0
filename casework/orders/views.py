"""Rectification orders: the list (an institution's to-do list), issuing an order, the
order page with its actions, and the printable notice (整改通知书).

Each view parses its input, calls one service and renders or redirects. Invalid input
on a form re-renders its page with the messages next to the fields (422), what was
typed kept and nothing saved; every other domain error is errors.py's page.
"""

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework import labels, parsing, policy
from casework.cases.services import get_case
from casework.errors import Invalid
from casework.forms import Posted
from casework.orders import forms, services
from workflows import extension as extension_workflow
from workflows import order as order_workflow
from workflows import registry
from workflows.diagram import render_svg

bp = Blueprint("orders", __name__)


def _new_key() -> str:
    """An idempotency key for a form about to be shown: a retried POST carries it again."""
    return str(uuid.uuid4())


_int_arg = parsing.int_arg


# --- list -------------------------------------------------------------------------

@bp.get("/orders/")
@login_required
def index():
    # No state: the open orders (what needs doing); "all": closed and cancelled too.
    state = request.args.get("state") or None
    filters = services.OrderFilters(state=None if state == "all" else state,
                                    open_only=state is None, **parsing.institution_filter())
    page = services.list_orders(current_user, filters, **parsing.page_args())
    # An institution's own to-do list has nothing to filter by institution.
    return render_template("orders/index.html", page=page, filters=filters, chosen=state or "",
                           states=order_workflow.STATES,
                           show_institution_filter=current_user.institution_id is None)


# --- issuing ----------------------------------------------------------------------

def _new_page(case_id, form, errors=None, status=200):
    case = get_case(case_id, current_user)
    policy.check("order_raise", current_user, case)
    candidates = services.order_candidates(case)
    if request.method == "GET":
        form.findings.data = [f.id for f in candidates.open_findings]
        form.issuing_body.data = case.campaign.issuing_body
        # The commonest rule in the campaigns' own documents: 20 个工作日内.
        form.deadline_kind.data = "working_days"
        form.working_days.data = 20
        form.request_key.data = _new_key()
    return render_template("orders/new.html", case=case, candidates=candidates, form=form,
                           errors=errors or {}, deadline_kinds=forms.DEADLINE_KINDS,
                           severity_labels=labels.SEVERITIES), status


@bp.route("/cases/<int:case_id>/orders/new", methods=["GET", "POST"])
@login_required
def new(case_id):
    form = forms.OrderForm()
    if request.method == "GET":
        return _new_page(case_id, form)
    kind, value = form.deadline_input()
    rule_errors = {}
    try:
        rule = services.deadline_rule(kind, value)
    except Invalid as error:
        # raise_order still runs, so that every other problem is reported at once.
        rule, rule_errors = None, error.details["errors"]
    try:
        order = services.raise_order(
            case_id, actor=current_user, finding_ids=form.findings.data or [],
            requirements=form.requirements.data, rule=rule,
            issuing_body=form.issuing_body.data, request_key=form.request_key.data or None)
    except Invalid as error:
        return _new_page(case_id, form, {**error.details["errors"], **rule_errors}, 422)
    flash(_("Rectification order %(number)s issued.", number=order.number), "success")
    return redirect(url_for("orders.detail", order_id=order.id))


# --- the order page -----------------------------------------------------------------

def _detail_page(order_id, posted: Posted | None = None, status=200, require=None):
    """The order page; `posted` re-shows a refused form. `require` is the action the
    refused form asked for: someone who may not do it gets 403, not a form to fix."""
    order = services.get_order(order_id, current_user)
    if require:
        policy.check(require, current_user, order)
    triggers = services.available_triggers(order, current_user)
    pending = [r for r in order.extension_requests
               if r.state in extension_workflow.OPEN_STATES]
    return render_template(
        "orders/detail.html", order=order, history=services.order_history(order),
        actions=[t for t in triggers if t in services.SIMPLE_TRIGGERS],
        can_submit="submit" in triggers,
        # Asking for time makes sense while the order is with the institution.
        can_request_extension=(policy.allows("order_request_extension", current_user, order)
                               and order.state in order_workflow.EXTENDABLE_STATES
                               and not pending),
        can_decide_extension=policy.allows("order_extend", current_user, order),
        pending_extensions=pending,
        posted=posted, new_key=_new_key(),
        diagram=render_svg(order_workflow.NAME, order.state,
                           state_labels={s: str(labels.state_label(s, "order"))
                                         for s in order_workflow.STATES},
                           trigger_labels={t: str(labels.trigger_label(t, "order"))
                                           for t in order_workflow.TRIGGERS}),
    ), status


@bp.get("/orders/<int:order_id>")
@login_required
def detail(order_id):
    return _detail_page(order_id)


def _done(order_id, trigger):
    flash(_("Done: %(action)s.", action=labels.trigger_label(trigger, "order")), "success")
    return redirect(url_for("orders.detail", order_id=order_id))


@bp.post("/orders/<int:order_id>/fire/<trigger>")
@login_required
def fire(order_id, trigger):
    form = forms.action_form(trigger)
    if not form.validate_on_submit() and trigger in services.SIMPLE_TRIGGERS:
        return _detail_page(order_id, Posted(trigger, request.form, form.errors), 422,
                            require=f"order_{trigger}")
    services.fire_order(order_id, trigger, actor=current_user, version=form.version.data,
                        comment=form.comment.data)
    return _done(order_id, trigger)


@bp.post("/orders/<int:order_id>/submit")
@login_required
def submit(order_id):
    form = forms.SubmitForm()
    # An empty file input still sends a part without a name: not a file.
    files = [(f.filename, f.stream) for f in request.files.getlist("files") if f.filename]
    try:
        services.submit_rectification(
            order_id, actor=current_user, version=form.version.data, report=form.report.data,
            files=files, request_key=form.request_key.data or None)
    except Invalid as error:
        return _detail_page(order_id, Posted("submit", request.form, error.details["errors"]),
                            422)
    return _done(order_id, "submit")


@bp.post("/orders/<int:order_id>/extensions")
@login_required
def request_extension(order_id):
    form = forms.ExtensionRequestForm()
    try:
        services.request_extension(
            order_id, actor=current_user, reason=form.reason.data,
            proposed_deadline=form.proposed_deadline.data,
            request_key=form.request_key.data or None)
    except Invalid as error:
        return _detail_page(order_id, Posted("request_extension", request.form,
                                             error.details["errors"]), 422)
    flash(_("Extension requested."), "success")
    return redirect(url_for("orders.detail", order_id=order_id))


@bp.post("/orders/<int:order_id>/extensions/<int:request_id>")
@login_required
def decide_extension(order_id, request_id):
    form = forms.ExtensionDecisionForm()
    decision = form.decision.data
    if decision not in ("approve", "decline"):
        abort(400)
    try:
        extension = services.decide_extension(
            request_id, actor=current_user, approve=decision == "approve",
            version=form.version.data, comment=form.comment.data,
            new_deadline=form.new_deadline.data)
    except Invalid as error:
        return _detail_page(order_id, Posted(f"{decision}-{request_id}", request.form,
                                             error.details["errors"]), 422)
    if extension.status == registry.destination("extension", "approve"):
        return _done(extension.order_id, "extend")
    return _done(extension.order_id, "decline_extension")


# --- the printable notice -----------------------------------------------------------

@bp.get("/orders/<int:order_id>/notice")
@login_required
def notice(order_id):
    return render_template("orders/notice.html",
                           order=services.get_order(order_id, current_user))
