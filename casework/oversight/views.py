"""Interviews, accountability records and the one-vote veto: the institution's
oversight page, scheduling an interview, the interview page (record as held, cancel).
Each view parses its input, calls one service and renders or redirects; a refused form
comes back with its messages and what was typed (422)."""

from datetime import time

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework import parsing, policy
from casework.errors import Invalid
from casework.oversight import services
from casework.oversight.models import ACCOUNTABILITY_MEASURES

bp = Blueprint("oversight", __name__, url_prefix="/oversight")


_int = parsing.whole
_date = parsing.day


def _time(value):
    try:
        return time.fromisoformat((value or "").strip())
    except ValueError:
        return None


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
    f = request.form
    try:
        services.record_accountability(
            actor=current_user, institution_id=institution_id, measure=f.get("measure"),
            decided_on=_date(f.get("decided_on")), document_number=f.get("document_number"),
            reason=f.get("reason"), staff_id=_int(f.get("staff_id")),
            queue_key=f.get("queue_key"))
    except Invalid as error:
        return _institution_page(institution_id, "accountability", error.details["errors"], f,
                                 422)
    flash(_("Accountability recorded."), "success")
    return redirect(url_for("oversight.institution", institution_id=institution_id))


@bp.post("/institutions/<int:institution_id>/veto")
@login_required
def set_veto(institution_id):
    f = request.form
    try:
        services.set_veto(actor=current_user, institution_id=institution_id,
                          year=_int(f.get("year")), reason=f.get("reason"),
                          decided_on=_date(f.get("decided_on")))
    except Invalid as error:
        return _institution_page(institution_id, "veto", error.details["errors"], f, 422)
    flash(_("One-vote veto set."), "success")
    return redirect(url_for("oversight.institution", institution_id=institution_id))


@bp.post("/vetoes/<int:flag_id>/revoke")
@login_required
def revoke_veto(flag_id):
    f = request.form
    institution_id = _int(f.get("institution_id"))
    try:
        flag = services.revoke_veto(flag_id, actor=current_user, reason=f.get("reason"))
    except Invalid as error:
        return _institution_page(institution_id, f"revoke-{flag_id}", error.details["errors"],
                                 f, 422)
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
    f = request.form
    try:
        interview = services.schedule_interview(
            actor=current_user, institution_id=_int(f.get("institution_id")),
            reason=f.get("reason"),
            scheduled_for=services.interview_time(_date(f.get("day")), _time(f.get("time"))),
            location=f.get("location"), queue_key=f.get("queue_key"),
            case_id=_int(f.get("case_id")), campaign_id=_int(f.get("campaign_id")))
    except Invalid as error:
        return _new_page(error.details["errors"], f, 422)
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
    f = request.form
    try:
        services.hold_interview(
            interview_id, actor=current_user, version=_int(f.get("version")),
            held_on=_date(f.get("held_on")), attendees=f.get("attendees"),
            minutes=f.get("minutes"), follow_up=f.get("follow_up") == "1",
            requirements=f.get("requirements"), working_days=_int(f.get("working_days")))
    except Invalid as error:
        return _interview_page(interview_id, "hold", error.details["errors"], f, 422)
    flash(_("Interview recorded as held."), "success")
    return redirect(url_for("oversight.interview", interview_id=interview_id))


@bp.post("/interviews/<int:interview_id>/cancel")
@login_required
def cancel_interview(interview_id):
    f = request.form
    try:
        services.cancel_interview(interview_id, actor=current_user,
                                  version=_int(f.get("version")), reason=f.get("reason"))
    except Invalid as error:
        return _interview_page(interview_id, "cancel", error.details["errors"], f, 422)
    flash(_("Interview cancelled."), "success")
    return redirect(url_for("oversight.interview", interview_id=interview_id))
