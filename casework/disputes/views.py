"""Medical dispute pages: the list with its filters and spreadsheet, registering a
dispute, and a dispute's page with its history and the form that changes its route,
status or amount.

Each view parses its input, calls one service and renders or redirects. Invalid input
re-renders the page with the messages next to the fields (422), nothing saved and
nothing typed lost.
"""

import dataclasses
import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework import clock, labels, parsing, policy, xlsx
from casework.disputes import forms, services
from casework.errors import Invalid
from casework.institutions import services as institutions

bp = Blueprint("disputes", __name__, url_prefix="/disputes")


@bp.context_processor
def _vocabulary():
    return {"dispute_types": labels.DISPUTE_TYPES, "dispute_routes": labels.DISPUTE_ROUTES,
            "dispute_statuses": labels.STATES["dispute"]}


def _int(value):
    value = (value or "").strip() if isinstance(value, str) else value
    return int(value) if isinstance(value, str) and value.isdigit() else (value or None)


def _page_arg():
    value = request.args.get("page", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else 1


# --- the list -----------------------------------------------------------------------------

def _filters():
    """(filters, errors, picker): the institution filter is a picker (an id chosen from
    the suggestions, or typed text) for the users of a jurisdiction; the picker is None
    for the others (an institution user sees only its own disputes)."""
    picked = None
    if getattr(current_user, "role", None) in policy.REGION_ROLES:
        picked = institutions.pick_institution(
            current_user, parsing.whole(request.args.get("institution")),
            request.args.get("institution_text"))
    try:
        filters = services.DisputeFilters.parse(request.args)
    except Invalid as error:
        return services.DisputeFilters(), error.details["errors"], picked
    if picked is not None and picked.error:
        return filters, {"institution": [picked.error]}, picked
    if picked is not None and picked.id != filters.institution_id:
        filters = dataclasses.replace(filters, institution_id=picked.id)
    return filters, {}, picked


@bp.get("/")
@login_required
def index():
    policy.check("dispute_list", current_user)
    filters, errors, picked = _filters()
    page = services.list_disputes(current_user, filters, page=_page_arg()) if not errors \
        else None
    export_args = {**request.args.to_dict(), "institution": filters.institution_id or ""}
    return render_template(
        "disputes/index.html", page=page, filters=filters, errors=errors, args=request.args,
        picked=picked, export_args=export_args,
        can_register=services.may_register(current_user)), 422 if errors else 200


@bp.get("/export.xlsx")
@login_required
def export():
    filters, errors, _picked = _filters()
    if errors:
        raise Invalid(errors)
    rows = services.export_disputes(current_user, filters)
    header = [_("No."), _("Institution code"), _("Institution"), _("Date occurred"),
              _("Department"), _("Dispute type"), _("Resolution route"), _("Amount (yuan)"),
              _("Status"), _("Date ended"), _("Summary")]
    data = [[d.id, d.institution.code, d.institution.name, d.occurred_on, d.department,
             str(labels.DISPUTE_TYPES[d.type]), str(labels.DISPUTE_ROUTES[d.route]), d.amount,
             str(labels.STATES["dispute"][d.status]), d.resolved_on, d.summary] for d in rows]
    title = _("Medical disputes")
    return xlsx.download(f"{title}-{clock.today().isoformat()}.xlsx",
                         [xlsx.Sheet(title, header, data)])


# --- registering --------------------------------------------------------------------------

def _picks_institution() -> bool:
    """The users of a jurisdiction search the institution (a picker); an institution
    user's form offers its own, already chosen."""
    return getattr(current_user, "role", None) in policy.REGION_ROLES


def _picked(form):
    return institutions.pick_institution(current_user, parsing.whole(form.institution_id.data),
                                         form.institution.data)


def _new_page(form, errors=None, status=200, picked=None):
    if request.method == "GET":
        form.request_key.data = str(uuid.uuid4())
        form.status.data = "open"
    own = []
    if _picks_institution():
        picked = picked or _picked(form)
    else:
        own = services.registrable_institutions(current_user)
        if request.method == "GET" and len(own) == 1:
            form.institution_id.data = str(own[0].id)
    return render_template("disputes/new.html", form=form, errors=errors or {},
                           institutions=own, picked=picked), status


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = forms.RegisterForm()
    if request.method == "GET":
        policy.check("dispute_register", current_user, None)
        return _new_page(form)
    if not form.validate_on_submit():
        return _new_page(form, form.errors, 422)
    picked, institution_id = None, _int(form.institution_id.data)
    if _picks_institution():
        picked = _picked(form)
        if picked.error:
            return _new_page(form, {"institution_id": [picked.error]}, 422, picked)
        institution_id = picked.id
    try:
        dispute = services.register_dispute(
            actor=current_user, institution_id=institution_id,
            occurred_on=form.occurred_on.data, department=form.department.data,
            type=form.type.data or None, route=form.route.data or None,
            amount=form.amount.data, status=form.status.data or "open",
            resolved_on=form.resolved_on.data, summary=form.summary.data,
            request_key=form.request_key.data or None)
    except Invalid as error:
        return _new_page(form, error.details["errors"], 422, picked)
    flash(_("Medical dispute registered."), "success")
    return redirect(url_for("disputes.detail", dispute_id=dispute.id))


# --- one dispute --------------------------------------------------------------------------

def _detail_page(dispute_id, posted=None, errors=None, status=200):
    dispute = services.get_dispute(dispute_id, current_user)
    if posted is not None:
        policy.check("dispute_update", current_user, dispute)
    can_update = services.may_update(dispute, current_user)
    return render_template(
        "disputes/detail.html", dispute=dispute, history=services.dispute_history(dispute),
        can_update=can_update, case=services.linked_case(dispute),
        cases=services.case_choices(dispute) if can_update else [],
        posted=posted, errors=errors or {}), status


@bp.get("/<int:dispute_id>")
@login_required
def detail(dispute_id):
    return _detail_page(dispute_id)


@bp.post("/<int:dispute_id>/update")
@login_required
def update(dispute_id):
    form = forms.UpdateForm()
    if not form.validate_on_submit():
        return _detail_page(dispute_id, request.form, form.errors, 422)
    try:
        event = services.update_dispute(
            dispute_id, actor=current_user, version=_int(form.version.data),
            route=form.route.data or None, status=form.status.data or None,
            resolved_on=form.resolved_on.data, amount=form.amount.data,
            case_id=_int(form.case_id.data), comment=form.comment.data)
    except Invalid as error:
        return _detail_page(dispute_id, request.form, error.details["errors"], 422)
    if event is None:
        flash(_("Nothing changed."), "info")
    else:
        flash(_("Changes saved."), "success")
    return redirect(url_for("disputes.detail", dispute_id=dispute_id))
