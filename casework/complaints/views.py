"""Complaint pages: the officers' list, registering, the complaint page with its actions
and the complainant's details (masked; shown on request and logged), and the two public
pages (file a complaint, follow it by its tracking code), which need no login.

Each view parses its input, calls one service and renders or redirects. Invalid input
re-renders the page with the messages next to the fields (422), nothing saved.
"""

import uuid

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework import labels, parsing, policy, xlsx
from casework.complaints import forms, services
from casework.errors import Invalid, NotFound
from casework.extensions import csrf, limiter
from casework.forms import Posted
from casework.institutions import services as institutions
from workflows import complaint as complaint_workflow

bp = Blueprint("complaints", __name__)


@bp.context_processor
def _vocabulary():
    return {"channels": labels.COMPLAINT_CHANNELS, "categories": labels.COMPLAINT_CATEGORIES,
            "outcomes": labels.COMPLAINT_OUTCOMES, "departments": labels.TRANSFER_DEPARTMENTS,
            "format_code": services.format_code}


_int_arg = parsing.int_arg


# --- officers' pages ----------------------------------------------------------------

def _filters():
    return services.ComplaintFilters(
        state=request.args.get("state") or None, category=request.args.get("category") or None,
        channel=request.args.get("channel") or None,
        overdue=request.args.get("overdue") == "1", **parsing.institution_filter())


@bp.get("/complaints/")
@login_required
def index():
    filters = _filters()
    page = services.list_complaints(current_user, filters, **parsing.page_args())
    return render_template("complaints/index.html", page=page, filters=filters,
                           states=complaint_workflow.STATES,
                           can_register=services.may_register(current_user),
                           is_overdue=services.is_overdue)


@bp.get("/complaints/export.xlsx")
@login_required
def export():
    filters = _filters()
    rows = services.export_complaints(current_user, filters,
                                      include_details=request.args.get("details") == "1",
                                      ip=request.remote_addr)
    header = [_("No."), _("Received on"), _("Channel"), _("Category"), _("Institution"),
              _("Staff member"), _("State"), _("Handling deadline"), _("Overdue"),
              _("Handler"), _("Investigation outcome"), _("Complainant"), _("Phone"),
              _("ID number"), _("Description")]
    data = []
    for row in rows:
        c = row.complaint
        institution = (c.institution.name if c.institution else c.institution_named) or ""
        staff = c.staff.name if c.staff else (c.staff_named or "")
        data.append([
            c.id, c.received_on, str(labels.COMPLAINT_CHANNELS[c.channel]),
            str(labels.COMPLAINT_CATEGORIES[c.category]), institution, staff,
            str(labels.state_label(c.state, "complaint")), c.deadline,
            _("Yes") if row.overdue else "", c.handler.display_name if c.handler else "",
            str(labels.COMPLAINT_OUTCOMES[c.outcome]) if c.outcome else "",
            _("Anonymous") if c.anonymous else (row.complainant.name or ""),
            row.complainant.phone or "", row.complainant.id_number or "", c.description])
    return xlsx.download(f"complaints-{services.clock.today().isoformat()}.xlsx",
                         [xlsx.Sheet(_("Complaints and tip-offs"), header, data)])


def _new_page(form, errors=None, status=200, picked=None):
    if request.method == "GET":
        form.request_key.data = str(uuid.uuid4())
        form.channel.data = "hotline"
    if picked is None:
        picked = institutions.pick_institution(current_user, form.institution_id.data,
                                               form.institution.data)
    return render_template("complaints/new.html", form=form, errors=errors or {},
                           picked=picked), status


@bp.route("/complaints/new", methods=["GET", "POST"])
@login_required
def new():
    form = forms.RegisterForm()
    if request.method == "GET":
        if not services.may_register(current_user):
            policy.check("complaint_register", current_user, None)
        return _new_page(form)
    if not form.validate_on_submit():
        return _new_page(form, form.errors, 422)
    # The institution: chosen from the suggestions, or typed (a code or a name).
    picked = institutions.pick_institution(current_user, form.institution_id.data,
                                           form.institution.data)
    if picked.error:
        return _new_page(form, {"institution_id": [picked.error]}, 422, picked)
    try:
        complaint = services.register_complaint(
            actor=current_user, channel=form.channel.data, category=form.category.data,
            description=form.description.data, institution_id=picked.id,
            staff_named=form.staff_named.data, received_on=form.received_on.data,
            anonymous=form.anonymous.data, name=form.name.data, phone=form.phone.data,
            id_number=form.id_number.data, request_key=form.request_key.data or None)
    except Invalid as error:
        return _new_page(form, error.details["errors"], 422, picked)
    flash(_("Complaint registered."), "success")
    return redirect(url_for("complaints.detail", complaint_id=complaint.id))


def _detail_page(complaint_id, *, posted=None, revealed=None, status=200, require=None):
    complaint = services.get_complaint(complaint_id, current_user)
    if require:
        policy.check(require, current_user, complaint)
    actions = services.available_triggers(complaint, current_user)
    link = services.link_choices(complaint, current_user)
    return render_template(
        "complaints/detail.html", complaint=complaint, link=link,
        link_institution=_link_institution(complaint, posted) if link else None,
        history=services.complaint_history(complaint), actions=actions,
        handlers=services.handler_choices(complaint) if "assign" in actions else [],
        masked=services.masked_complainant(complaint), revealed=revealed,
        overdue=services.is_overdue(complaint),
        can_reveal=policy.allows("complaint_personal_data_view", current_user, complaint),
        accesses=services.personal_data_accesses(complaint, current_user),
        posted=posted,
    ), status


def _link_institution(complaint, posted):
    """The link form's institution picker: what was sent, else the linked institution."""
    if posted is not None and posted.form == "link":
        return institutions.pick_institution(
            current_user, parsing.whole(posted.values.get("institution_id")),
            posted.values.get("institution"))
    if complaint.institution is None:
        return institutions.Picked()
    return institutions.Picked(complaint.institution_id,
                               labels.localized(complaint.institution, "name"))


@bp.get("/complaints/<int:complaint_id>")
@login_required
def detail(complaint_id):
    return _detail_page(complaint_id)


@bp.post("/complaints/<int:complaint_id>/fire/<trigger>")
@login_required
def fire(complaint_id, trigger):
    form = forms.ComplaintActionForm()
    if trigger not in complaint_workflow.TRIGGERS:
        raise NotFound()
    if not form.validate_on_submit():
        return _detail_page(complaint_id, posted=Posted(trigger, request.form, form.errors),
                            status=422, require=f"complaint_{trigger}")
    try:
        services.fire_complaint(
            complaint_id, trigger, actor=current_user, version=form.version.data,
            comment=form.comment.data, handler_id=form.handler_id.data,
            outcome=form.outcome.data or None, findings=form.findings.data,
            department=form.department.data or None)
    except Invalid as error:
        return _detail_page(complaint_id,
                            posted=Posted(trigger, request.form, error.details["errors"]),
                            status=422)
    flash(_("Done: %(action)s.", action=labels.trigger_label(trigger, "complaint")), "success")
    return redirect(url_for("complaints.detail", complaint_id=complaint_id))


@bp.post("/complaints/<int:complaint_id>/link")
@login_required
def link(complaint_id):
    form = forms.LinkForm()
    if not form.validate_on_submit():
        return _detail_page(complaint_id, posted=Posted("link", request.form, form.errors),
                            status=422, require="complaint_link")
    # The institution: chosen from the suggestions, or typed (a code or a name).
    picked = institutions.pick_institution(current_user, form.institution_id.data,
                                           form.institution.data)
    if picked.error:
        return _detail_page(complaint_id, status=422, require="complaint_link", posted=Posted(
            "link", request.form, {"institution_id": [picked.error]}))
    try:
        services.link_complaint(complaint_id, services.LinkInput(
            institution_id=picked.id, case_id=form.case_id.data,
            finding_id=form.finding_id.data, staff_id=form.staff_id.data,
            new_staff_name=form.new_staff_name.data,
            new_staff_department=form.new_staff_department.data,
            new_staff_title=form.new_staff_title.data),
            actor=current_user, version=form.version.data)
    except Invalid as error:
        return _detail_page(complaint_id,
                            posted=Posted("link", request.form, error.details["errors"]),
                            status=422)
    flash(_("Links saved."), "success")
    return redirect(url_for("complaints.detail", complaint_id=complaint_id))


@bp.post("/complaints/<int:complaint_id>/personal-data")
@login_required
def reveal(complaint_id):
    forms.RevealForm()  # CSRF is checked for every POST by CSRFProtect
    revealed = services.reveal_personal_data(complaint_id, actor=current_user, purpose="view",
                                             ip=request.remote_addr)
    response, status = _detail_page(complaint_id, revealed=revealed)
    return response, status, {"Cache-Control": "no-store"}


# --- public pages -------------------------------------------------------------------

def _small_request():
    """Public forms take a few kilobytes of text: refuse more before anything reads the
    body (so before the form is built), then check CSRF, exempted from the global check
    only because that check would read the body first."""
    request.max_content_length = current_app.config["COMPLAINT_FORM_MAX_BYTES"]
    csrf.protect()


@bp.route("/public/complaints/new", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit(lambda: current_app.config["COMPLAINT_FORM_RATE_LIMIT"], methods=["POST"])
def public_new():
    if request.method == "POST":
        _small_request()
    form = forms.PublicComplaintForm(meta={"csrf": False})
    errors = {}
    if request.method == "POST":
        try:
            complaint = services.submit_public_complaint(
                category=form.category.data, description=form.description.data,
                institution_named=form.institution_named.data,
                staff_named=form.staff_named.data, anonymous=form.anonymous.data,
                name=form.name.data, phone=form.phone.data, id_number=form.id_number.data)
        except Invalid as error:
            errors = error.details["errors"]
        else:
            return render_template("complaints/public_filed.html",
                                   code=complaint.tracking_code), 201, {"Cache-Control": "no-store"}
    return render_template("complaints/public_new.html", form=form,
                           errors=errors), 422 if errors else 200


@bp.route("/public/complaints/track", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit(lambda: current_app.config["COMPLAINT_TRACK_RATE_LIMIT"], methods=["POST"])
def public_track():
    if request.method == "POST":
        _small_request()
    form = forms.TrackForm(meta={"csrf": False})
    status, found, not_found = 200, None, False
    if request.method == "POST":
        try:
            found = services.public_status(form.code.data)
        except NotFound:
            status, not_found = 404, True
    return render_template("complaints/public_track.html", form=form, status=found,
                           not_found=not_found), status, {"Cache-Control": "no-store"}
