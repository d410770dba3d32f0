"""Inspection pages, tablet-first: start an inspection, log findings, finalise, amend.

Each view parses its form, calls one service and renders or redirects. A service's
Invalid comes back as the same form with the messages on its fields (422) and the
typed input kept; every other domain error is mapped by casework/errors.py.
"""

import uuid as uuidlib

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from casework import labels, parsing
from casework.cases.services import get_case
from casework.errors import Invalid
from casework.inspections import services
from casework.inspections.forms import (
    AMENDABLE_LABELS,
    YES_NO_LABELS,
    AmendForm,
    FinaliseForm,
    FindingForm,
    InspectionForm,
)

bp = Blueprint("inspections", __name__)


# --- template helpers -------------------------------------------------------------

@bp.context_processor
def _inspection_helpers():
    return {"severity_label": labels.severity_label,
            "amendable_label": lambda f: AMENDABLE_LABELS.get(f, f),
            "yes_no_label": lambda v: YES_NO_LABELS.get(v, v),
            "attachment_url": _attachment_url,
            "severities": list(labels.SEVERITIES), "amendable_fields": list(AMENDABLE_LABELS)}


def _attachment_url(attachment):
    """The permission-checked download address, or None while the route is missing."""
    try:
        return url_for("evidence.download", attachment_uuid=attachment.uuid)
    except BuildError:
        return None


# --- parsing ----------------------------------------------------------------------

def _uuid(value) -> str | None:
    """A client-generated idempotency key; anything that is not a UUID is ignored."""
    try:
        return str(uuidlib.UUID(str(value or "").strip()))
    except ValueError:
        return None


_int = parsing.whole


def _files(form: FindingForm) -> list[tuple[str, object]]:
    """(name, stream) of every file chosen; browsers send an empty part for none."""
    return [(f.filename, f.stream) for f in (*(form.photos.data or ()),
                                             *(form.documents.data or ()))
            if f and f.filename]


def _show_errors(form, error: Invalid, aliases: dict | None = None) -> dict:
    """Put the service's messages on the form's fields; return those with no field."""
    rest: dict[str, list[str]] = {}
    for name, messages in error.details.get("errors", {}).items():
        field = (aliases or {}).get(name) or getattr(form, name, None)
        if field is None or not hasattr(field, "errors"):
            rest.setdefault(name, []).extend(messages)
        else:
            field.errors = [*field.errors, *messages]
    return rest


def _finding_input(form: FindingForm) -> services.FindingInput:
    return services.FindingInput(
        key_task_id=form.key_task_id.data, severity=form.severity.data,
        description=form.description.data, legal_basis=form.legal_basis.data,
        rectification_required=bool(form.rectification_required.data))


# --- starting an inspection -------------------------------------------------------

@bp.route("/cases/<int:case_id>/inspections/new", methods=["GET", "POST"])
@login_required
def new(case_id):
    form = InspectionForm()
    rest = {}
    if form.is_submitted():
        try:
            inspection = services.start_inspection(
                case_id, actor=current_user, inspected_on=form.inspected_on.data,
                place=form.place.data, inspector_ids=[i for i in form.inspectors.data or ()
                                                      if i is not None],
                notes=form.notes.data, uuid=_uuid(form.uuid.data))
        except Invalid as error:
            rest = _show_errors(form, error)
        else:
            flash(_("Inspection started."), "success")
            return redirect(url_for("inspections.detail", inspection_id=inspection.id))
    else:
        form.uuid.data = str(uuidlib.uuid4())
    case = get_case(case_id, current_user)
    status = 422 if form.is_submitted() else 200
    return render_template("inspections/new.html", form=form, case=case, rest=rest,
                           inspectors=services.eligible_inspectors(case, current_user)), status


# --- the inspection page ----------------------------------------------------------

@bp.get("/inspections/<int:inspection_id>")
@login_required
def detail(inspection_id):
    inspection = services.get_inspection(inspection_id, current_user)
    return render_template("inspections/detail.html", inspection=inspection,
                           finalise_form=FinaliseForm())


@bp.post("/inspections/<int:inspection_id>/finalise")
@login_required
def finalise(inspection_id):
    services.finalise_inspection(inspection_id, actor=current_user)
    flash(_("Inspection finalised: its findings are locked and can only be amended."),
          "success")
    return redirect(url_for("inspections.detail", inspection_id=inspection_id))


# --- findings ---------------------------------------------------------------------

def _render_finding_form(form, inspection, finding=None, rest=None, files_dropped=False):
    rest = dict(rest or {})
    file_errors = rest.pop("files", [])
    status = 422 if form.is_submitted() else 200
    return render_template("inspections/finding_form.html", form=form, inspection=inspection,
                           finding=finding, rest=rest, file_errors=file_errors,
                           files_dropped=files_dropped), status


@bp.route("/inspections/<int:inspection_id>/findings/new", methods=["GET", "POST"])
@login_required
def new_finding(inspection_id):
    form = FindingForm()
    if form.is_submitted():
        files = _files(form)
        try:
            services.record_finding(inspection_id, _finding_input(form),
                                    actor=current_user, files=files,
                                    uuid=_uuid(form.uuid.data))
        except Invalid as error:
            rest = _show_errors(form, error)
            inspection = services.get_inspection(inspection_id, current_user)
            return _render_finding_form(form, inspection, rest=rest,
                                        files_dropped=bool(files))
        flash(_("Finding recorded."), "success")
        # To the top: the message and the checklist for the next finding are there.
        return redirect(url_for("inspections.detail", inspection_id=inspection_id))
    inspection = services.inspection_for_recording(inspection_id, current_user)
    form.uuid.data = str(uuidlib.uuid4())
    form.key_task_id.data = _int(request.args.get("key_task"))
    return _render_finding_form(form, inspection)


@bp.route("/findings/<int:finding_id>/edit", methods=["GET", "POST"])
@login_required
def edit_finding(finding_id):
    if request.method == "POST":
        form = FindingForm()
        files = _files(form)
        try:
            finding = services.update_finding(finding_id, _finding_input(form),
                                              actor=current_user,
                                              version=_int(form.version.data), files=files)
        except Invalid as error:
            rest = _show_errors(form, error)
            finding = services.get_finding(finding_id, current_user)
            return _render_finding_form(form, finding.inspection, finding, rest=rest,
                                        files_dropped=bool(files))
        flash(_("Finding saved."), "success")
        return redirect(url_for("inspections.detail", inspection_id=finding.inspection_id,
                                _anchor=f"finding-{finding.id}"))
    finding = services.finding_for_editing(finding_id, current_user)
    form = FindingForm(obj=finding)
    form.key_task_id.data = finding.key_task_id
    form.version.data = finding.version
    return _render_finding_form(form, finding.inspection, finding)


@bp.route("/findings/<int:finding_id>/amend", methods=["GET", "POST"])
@login_required
def amend_finding(finding_id):
    form = AmendForm()
    rest = {}
    if form.is_submitted():
        try:
            amendment = services.amend_finding(finding_id, actor=current_user,
                                               field=form.field.data, value=form.value(),
                                               reason=form.reason.data)
        except Invalid as error:
            rest = _show_errors(form, error, {"value": form.value_field()})
        else:
            flash(_("Amendment recorded; the original value is kept in the history."),
                  "success")
            return redirect(url_for("inspections.detail",
                                    inspection_id=amendment.finding.inspection_id,
                                    _anchor=f"finding-{finding_id}"))
        finding = services.get_finding(finding_id, current_user)
    else:
        finding = services.finding_for_amending(finding_id, current_user)
        form.field.data = request.args.get("field") if request.args.get("field") in \
            AMENDABLE_LABELS else None
        form.value_flag.data = "no" if finding.rectification_required else "yes"
    status = 422 if form.is_submitted() else 200
    return render_template("inspections/amend.html", form=form, finding=finding,
                           rest=rest), status
