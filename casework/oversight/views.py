"""Interviews, accountability records and the one-vote veto: the institution's
oversight page, scheduling an interview, the interview page (record as held, cancel).
Each view parses its input, calls one service and renders or redirects; a refused form
comes back with its messages and what was typed (422)."""


from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework import clock, parsing, policy
from casework.errors import Invalid
from casework.oversight import forms, services
from casework.oversight.models import ACCOUNTABILITY_MEASURES

bp = Blueprint("oversight", __name__, url_prefix="/oversight")


_int = parsing.whole


# --- the institution's page ---------------------------------------------------------------

def _institution_page(institution_id, form=None, errors=None, posted=None, status=200):
    page = services.institution_oversight(institution_id, current_user)
    if posted is not None:
        # Someone who may not act gets 403, not a form to correct.
        policy.check("accountability_record", current_user, page.institution)
    return render_template(
        "oversight/institution.html", page=page, institution=page.institution,
        staff=services.staff_of(page.institution) if page.full else [],
        measures=ACCOUNTABILITY_MEASURES, form=form, errors=errors or {},
        posted=posted or {}), status


@bp.get("/institutions/<int:institution_id>")
@login_required
def institution(institution_id):
    return _institution_page(institution_id)


@bp.post("/institutions/<int:institution_id>/accountability")
@login_required
def record_accountability(institution_id):
    form = forms.AccountabilityForm()
    try:
        services.record_accountability(
            actor=current_user, institution_id=institution_id, measure=form.measure.data,
            decided_on=form.decided_on.data, document_number=form.document_number.data,
            reason=form.reason.data, staff_id=form.staff_id.data,
            queue_key=form.queue_key.data)
    except Invalid as error:
        return _institution_page(institution_id, "accountability", error.details["errors"],
                                 request.form, 422)
    flash(_("Accountability recorded."), "success")
    return redirect(url_for("oversight.institution", institution_id=institution_id))


@bp.post("/institutions/<int:institution_id>/veto")
@login_required
def set_veto(institution_id):
    form = forms.VetoForm()
    try:
        services.set_veto(actor=current_user, institution_id=institution_id,
                          year=form.year.data, reason=form.reason.data,
                          decided_on=form.decided_on.data)
    except Invalid as error:
        return _institution_page(institution_id, "veto", error.details["errors"], request.form,
                                 422)
    flash(_("One-vote veto set."), "success")
    return redirect(url_for("oversight.institution", institution_id=institution_id))


@bp.post("/vetoes/<int:flag_id>/revoke")
@login_required
def revoke_veto(flag_id):
    form = forms.RevokeVetoForm()
    try:
        flag = services.revoke_veto(flag_id, actor=current_user, reason=form.reason.data)
    except Invalid as error:
        return _institution_page(form.institution_id.data, f"revoke-{flag_id}",
                                 error.details["errors"], request.form, 422)
    flash(_("One-vote veto revoked."), "success")
    return redirect(url_for("oversight.institution", institution_id=flag.institution_id))


# --- interviews ---------------------------------------------------------------------------

def _new_page(errors=None, posted=None, status=200):
    values = posted if posted is not None else request.args
    return render_template(
        "oversight/interview_new.html", values=values, errors=errors or {},
        institutions=services.scoped_institutions(current_user)), status


@bp.get("/interviews/new")
@login_required
def new_interview():
    institution_id = _int(request.args.get("institution_id"))
    if institution_id and not request.args.get("queue_key"):
        # Only those who may schedule get the form.
        services.institution_oversight(institution_id, current_user)
    return _new_page()


@bp.post("/interviews/new")
@login_required
def schedule_interview():
    form = forms.InterviewForm()
    try:
        interview = services.schedule_interview(
            actor=current_user, institution_id=form.institution_id.data,
            reason=form.reason.data,
            scheduled_for=(clock.local_time(form.day.data, form.time.data)
                           if form.day.data is not None and form.time.data is not None
                           else None),
            location=form.location.data, queue_key=form.queue_key.data,
            case_id=form.case_id.data, campaign_id=form.campaign_id.data)
    except Invalid as error:
        return _new_page(error.details["errors"], request.form, 422)
    flash(_("Interview scheduled."), "success")
    return redirect(url_for("oversight.interview", interview_id=interview.id))


def _interview_page(interview_id, form=None, errors=None, posted=None, status=200):
    interview = services.get_interview(interview_id, current_user)
    if posted is not None:
        policy.check("interview_hold", current_user, interview)
    return render_template(
        "oversight/interview.html", interview=interview,
        # The forms shown are the triggers the machine allows and the policy grants.
        triggers=services.available_triggers(interview, current_user),
        history=services.interview_history(interview), form=form, errors=errors or {},
        posted=posted or {}), status


@bp.get("/interviews/<int:interview_id>")
@login_required
def interview(interview_id):
    return _interview_page(interview_id)


@bp.post("/interviews/<int:interview_id>/hold")
@login_required
def hold_interview(interview_id):
    form = forms.HoldForm()
    try:
        services.hold_interview(
            interview_id, actor=current_user, version=form.version.data,
            held_on=form.held_on.data, attendees=form.attendees.data,
            minutes=form.minutes.data, follow_up=form.follow_up.data,
            requirements=form.requirements.data, working_days=form.working_days.data)
    except Invalid as error:
        return _interview_page(interview_id, "hold", error.details["errors"], request.form,
                               422)
    flash(_("Interview recorded as held."), "success")
    return redirect(url_for("oversight.interview", interview_id=interview_id))


@bp.post("/interviews/<int:interview_id>/cancel")
@login_required
def cancel_interview(interview_id):
    form = forms.CancelForm()
    try:
        services.cancel_interview(interview_id, actor=current_user,
                                  version=form.version.data, reason=form.reason.data)
    except Invalid as error:
        return _interview_page(interview_id, "cancel", error.details["errors"], request.form,
                               422)
    flash(_("Interview cancelled."), "success")
    return redirect(url_for("oversight.interview", interview_id=interview_id))
