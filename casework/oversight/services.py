"""Interviews (约谈), accountability records (问责) and the one-vote veto (一票否决).

An interview is a machine (workflows/interview.py): scheduled, then held (with the date,
attendees, minutes and, if the commission wants one, a follow-up rectification order
raised in the same step) or cancelled with a reason, both through binding.apply.
Accountability records and veto flags are not machines: every change writes a history
event (binding.record) in the same unit of work as the change.

A follow-up order answering an order item of the escalation queue (an escalated,
overdue or twice-returned order) *supersedes* that order: what a commission does after
summoning an institution over an order it let lapse is to revoke the lapsed notice and
issue a new one with a fresh deadline, naming the interview. So the old order is
cancelled (reason: superseded after the interview) and the new one covers the same
findings; the item leaves the queue because its order is no longer open. For the
other items the follow-up order covers no finding: it carries the interview's
requirements alone. The cancellation, the follow-up order and the interview held
commit together or not at all.
"""

from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from casework import clock, policy, validation
from casework.cases.models import InspectionCase
from casework.errors import GuardFailed, Invalid, NotFound
from casework.extensions import db
from casework.history.models import HistoryEvent
from casework.institutions.models import Institution, StaffMember
from casework.oversight.models import (
    ACCOUNTABILITY_MEASURES,
    AccountabilityRecord,
    Interview,
    VetoFlag,
)
from workflows import binding
from workflows import interview as interview_workflow

MAX_TEXT = 5000
ORDER_ITEM_KINDS = ("order_escalated", "order_overdue", "order_returned_twice")


_text = partial(validation.text, limit=MAX_TEXT)


def _institution(institution_id) -> Institution:
    institution = db.session.scalar(
        sa.select(Institution).where(Institution.id == institution_id)
        .options(joinedload(Institution.region))) if institution_id else None
    if institution is None:
        raise NotFound()
    return institution


# --- reading ------------------------------------------------------------------------------

@dataclass
class OversightPage:
    institution: Institution
    interviews: list
    accountability: list
    vetoes: list
    history: list
    full: bool          # False: an institution user, who sees its interviews only


def institution_oversight(institution_id: int, actor) -> OversightPage:
    """An institution's interviews, accountability records and veto flags with their
    history. Institutions see their own interviews only; NotFound for anyone else."""
    institution = _institution(institution_id)
    full = policy.allows("oversight_view", actor, institution)
    own = (getattr(actor, "role", None) == "institution"
           and actor.institution_id == institution.id)
    if not (full or own):
        raise NotFound()
    interviews = list(db.session.scalars(
        sa.select(Interview).where(Interview.institution_id == institution.id)
        .options(joinedload(Interview.created_by)).order_by(Interview.scheduled_for.desc())))
    accountability, vetoes = [], []
    if full:
        accountability = list(db.session.scalars(
            sa.select(AccountabilityRecord)
            .where(AccountabilityRecord.institution_id == institution.id)
            .options(joinedload(AccountabilityRecord.staff))
            .order_by(AccountabilityRecord.decided_on.desc(), AccountabilityRecord.id.desc())))
        vetoes = list(db.session.scalars(
            sa.select(VetoFlag).where(VetoFlag.institution_id == institution.id)
            .order_by(VetoFlag.year.desc(), VetoFlag.id.desc())))
    pairs = [("interview", [i.id for i in interviews]),
             ("accountability", [a.id for a in accountability]),
             ("veto", [v.id for v in vetoes])]
    condition = sa.or_(*[sa.and_(HistoryEvent.object_type == kind,
                                 HistoryEvent.object_id.in_(ids)) for kind, ids in pairs])
    history = list(db.session.scalars(
        sa.select(HistoryEvent).where(condition).options(joinedload(HistoryEvent.actor))
        .order_by(HistoryEvent.id)))
    return OversightPage(institution, interviews, accountability, vetoes, history, full)


def get_interview(interview_id: int, actor) -> Interview:
    interview = db.session.scalar(
        sa.select(Interview).where(Interview.id == interview_id)
        .options(joinedload(Interview.institution).joinedload(Institution.region)))
    if interview is None or not policy.allows("interview_view", actor, interview):
        raise NotFound()
    return interview


def available_triggers(interview, actor) -> list[str]:
    """The interview's triggers the machine allows now and the actor may fire."""
    return binding.available_triggers(interview, actor)


def interview_history(interview) -> list[HistoryEvent]:
    from casework.history.services import history_of

    return history_of(interview)


def staff_of(institution) -> list[StaffMember]:
    return list(db.session.scalars(
        sa.select(StaffMember).where(StaffMember.institution_id == institution.id)
        .order_by(StaffMember.name)))


def scoped_institutions(actor) -> list[Institution]:
    return list(db.session.scalars(policy.visible_institutions(
        sa.select(Institution), actor, Institution).order_by(Institution.name)))


# --- interviews ---------------------------------------------------------------------------

def _case_for(institution_id, campaign_id) -> InspectionCase | None:
    if not campaign_id:
        return None
    return db.session.scalar(sa.select(InspectionCase).where(
        InspectionCase.institution_id == institution_id,
        InspectionCase.campaign_id == campaign_id))


def schedule_interview(*, actor, institution_id: int | None, reason: str | None,
                       scheduled_for: datetime | None, location: str | None,
                       queue_key: str | None = None, case_id: int | None = None,
                       campaign_id: int | None = None) -> Interview:
    """Schedule an interview of an institution's leaders.

    With `queue_key` the interview answers that escalation-queue item: the item must be
    on the actor's queue now (NotFound otherwise) and gives the institution, case and
    campaign. Raises NotFound, NotPermitted, Invalid (reason, time, place).
    """
    queue_key = (queue_key or "").strip() or None
    if queue_key:
        from casework.queue.services import get_item

        item = get_item(queue_key, actor)
        institution_id = item.institution_id
        case_id = case_id or item.case_id
        campaign_id = campaign_id or item.campaign_id
    institution = _institution(institution_id)
    policy.check("interview_schedule", actor, institution)
    errors: dict[str, list[str]] = {}
    reason = _text(reason, "reason", errors, required_msg=_("Give the reason for the interview."))
    location = _text(location, "location", errors, limit=200)
    if scheduled_for is None:
        errors["scheduled_for"] = [_("Enter the date and time of the interview.")]
    case = None
    if case_id:
        case = db.session.get(InspectionCase, case_id)
        if case is None or case.institution_id != institution.id:
            errors["case_id"] = [_("The case is not this institution's.")]
        else:
            campaign_id = case.campaign_id
    elif campaign_id:
        case = _case_for(institution.id, campaign_id)
    if errors:
        raise Invalid(errors)
    scheduled_for = clock.localized(scheduled_for)
    with binding.unit_of_work():
        interview = Interview(institution=institution, campaign_id=campaign_id,
                              case_id=case.id if case else None, queue_key=queue_key,
                              reason=reason, scheduled_for=scheduled_for, location=location,
                              state=interview_workflow.INITIAL, created_by_id=actor.id)
        db.session.add(interview)
        db.session.flush()
        binding.record(interview, interview_workflow.CREATION_EVENT, actor=actor,
                       comment=reason, data={"scheduled_for": scheduled_for,
                                             "location": location, "queue_key": queue_key})
    return interview


def hold_interview(interview_id: int, *, actor, version: int | None, held_on: date | None,
                   attendees: str | None, minutes: str | None, follow_up: bool = False,
                   requirements: str | None = None, working_days: int | None = None
                   ) -> Interview:
    """Record the interview as held; optionally raise a follow-up rectification order for
    the institution's case in the campaign (see the module docstring for orders that it
    supersedes). Fires the machine's `hold`. Raises NotFound, NotPermitted, Invalid, and
    the binding's errors (IllegalTrigger when not scheduled, StaleObject); nothing is
    written then."""
    from casework.orders import services as orders

    interview = get_interview(interview_id, actor)
    policy.check("interview_hold", actor, interview)
    errors: dict[str, list[str]] = {}
    if held_on is None:
        errors["held_on"] = [_("Enter the date the interview was held.")]
    elif held_on > clock.today():
        errors["held_on"] = [_("The date cannot be in the future.")]
    attendees = _text(attendees, "attendees", errors, required_msg=_("List who attended."))
    minutes = _text(minutes, "minutes", errors, required_msg=_("Write the minutes."))
    case, superseded, rule = None, None, None
    if follow_up:
        requirements = _text(requirements, "requirements", errors,
                             required_msg=_("State what must be rectified."))
        try:
            rule = orders.deadline_rule("working_days", working_days)
        except Invalid as error:
            errors["working_days"] = error.details["errors"]["deadline"]
        case = (db.session.get(InspectionCase, interview.case_id) if interview.case_id
                else _case_for(interview.institution_id, interview.campaign_id))
        if case is None:
            errors["follow_up"] = [_("This interview is linked to no case, so no order can "
                                     "be raised from it.")]
        else:
            policy.check("order_raise", actor, case)
            kind, _sep, ident = (interview.queue_key or "").partition(":")
            if kind in ORDER_ITEM_KINDS and ident.isdigit():
                order = db.session.get(orders.RectificationOrder, int(ident))
                if order is not None and order.is_open and order.case_id == case.id:
                    policy.check("order_cancel", actor, order)
                    superseded = order
    if errors:
        raise Invalid(errors)
    when = held_on.isoformat()
    finding_ids = [f.id for f in superseded.findings] if superseded is not None else []

    # The cancellation of a superseded order, the follow-up order and the interview
    # held commit together, or none of them does.
    with binding.unit_of_work():
        if superseded is not None:
            binding.apply(superseded, "cancel", actor=actor, version=superseded.version,
                          comment=_("Superseded by a follow-up order issued after the "
                                    "interview of %(date)s.", date=when))
        follow_up_order = None
        if follow_up:
            db.session.flush()  # the superseded order's findings are free again
            text = _("Follow-up to the interview of %(date)s.", date=when) + "\n" + requirements
            follow_up_order = orders.add_order(case, actor=actor, finding_ids=finding_ids,
                                               requirements=text, rule=rule,
                                               allow_no_findings=True)
            db.session.flush()
        binding.apply(
            interview, "hold", actor=actor, version=version, comment=minutes,
            changes={"held_on": held_on, "attendees": attendees, "minutes": minutes,
                     "follow_up_order_id": follow_up_order.id if follow_up_order else None},
            held_on=held_on,
            follow_up_order=follow_up_order.number if follow_up_order else None,
            superseded_order=superseded.number if superseded else None)
    return interview


def cancel_interview(interview_id: int, *, actor, version: int | None,
                     reason: str | None) -> Interview:
    """Cancel a scheduled interview (reason required): the machine's `cancel`. Raises
    NotFound, NotPermitted, Invalid, and the binding's errors (IllegalTrigger when not
    scheduled, StaleObject)."""
    interview = get_interview(interview_id, actor)
    policy.check("interview_cancel", actor, interview)
    errors: dict[str, list[str]] = {}
    reason = _text(reason, "reason", errors, required_msg=_("Give the reason for cancelling."))
    if errors:
        raise Invalid(errors)
    binding.apply(interview, "cancel", actor=actor, version=version, comment=reason)
    return interview


# --- accountability -----------------------------------------------------------------------

def record_accountability(*, actor, institution_id: int | None, measure: str | None,
                          decided_on: date | None, document_number: str | None,
                          reason: str | None, staff_id: int | None = None,
                          queue_key: str | None = None, case_id: int | None = None
                          ) -> AccountabilityRecord:
    """Record an accountability measure against an institution or one of its staff.

    A record naming a queue item answers it (the item leaves the queue). Raises
    NotFound, NotPermitted, Invalid.
    """
    queue_key = (queue_key or "").strip() or None
    if queue_key:
        from casework.queue.services import get_item

        item = get_item(queue_key, actor)
        institution_id = item.institution_id
        case_id = case_id or item.case_id
    institution = _institution(institution_id)
    policy.check("accountability_record", actor, institution)
    errors: dict[str, list[str]] = {}
    if measure not in ACCOUNTABILITY_MEASURES:
        errors["measure"] = [_("Choose the measure.")]
    if decided_on is None:
        errors["decided_on"] = [_("Enter the date of the decision.")]
    elif decided_on > clock.today():
        errors["decided_on"] = [_("The date cannot be in the future.")]
    document_number = _text(document_number, "document_number", errors, limit=100)
    reason = _text(reason, "reason", errors, required_msg=_("Give the reason."))
    staff = None
    if staff_id:
        staff = db.session.get(StaffMember, staff_id)
        if staff is None or staff.institution_id != institution.id:
            errors["staff_id"] = [_("Choose a staff member of this institution.")]
    if case_id:
        case = db.session.get(InspectionCase, case_id)
        if case is None or case.institution_id != institution.id:
            errors["case_id"] = [_("The case is not this institution's.")]
    if errors:
        raise Invalid(errors)
    record = AccountabilityRecord(
        institution=institution, staff=staff, case_id=case_id, queue_key=queue_key,
        measure=measure, decided_on=decided_on, document_number=document_number,
        reason=reason, created_by_id=actor.id)
    with binding.unit_of_work():
        db.session.add(record)
        db.session.flush()
        binding.record(record, "record", actor=actor, comment=reason,
                       data={"measure": measure, "document_number": document_number,
                             "staff": staff.name if staff else None, "queue_key": queue_key})
    return record


# --- one-vote veto ------------------------------------------------------------------------

def set_veto(*, actor, institution_id: int | None, year: int | None, reason: str | None,
             decided_on: date | None = None) -> VetoFlag:
    """Set the one-vote veto on an institution for a year. One active flag per
    institution and year (GuardFailed). Raises NotFound, NotPermitted, Invalid."""
    institution = _institution(institution_id)
    policy.check("veto_set", actor, institution)
    errors: dict[str, list[str]] = {}
    this_year = clock.today().year
    if year is None or not this_year - 5 <= year <= this_year + 1:
        errors["year"] = [_("Enter a year from %(first)d to %(last)d.",
                            first=this_year - 5, last=this_year + 1)]
    reason = _text(reason, "reason", errors, required_msg=_("Give the reason."))
    decided_on = decided_on or clock.today()
    if decided_on > clock.today():
        errors["decided_on"] = [_("The date cannot be in the future.")]
    if errors:
        raise Invalid(errors)
    with binding.unit_of_work():
        # The institution row is the lock: two coordinators setting at once get one flag.
        db.session.execute(sa.select(Institution.id).where(Institution.id == institution.id)
                           .with_for_update())
        active = db.session.scalar(sa.select(VetoFlag.id).where(
            VetoFlag.institution_id == institution.id, VetoFlag.year == year,
            VetoFlag.revoked_at.is_(None)))
        if active is not None:
            raise GuardFailed([_("The one-vote veto is already set for this institution "
                                 "and year.")])
        flag = VetoFlag(institution=institution, year=year, reason=reason,
                        decided_on=decided_on, created_by_id=actor.id)
        db.session.add(flag)
        db.session.flush()
        binding.record(flag, "set", actor=actor, comment=reason, data={"year": year})
    return flag


def revoke_veto(flag_id: int, *, actor, reason: str | None) -> VetoFlag:
    """Revoke an active veto flag (reason required); it stays on record."""
    # A raise anywhere in the unit rolls back and releases the row lock.
    with binding.unit_of_work():
        flag = db.session.scalar(
            sa.select(VetoFlag).where(VetoFlag.id == flag_id).with_for_update()
            .execution_options(populate_existing=True))
        if flag is None or not policy.allows("oversight_view", actor, flag.institution):
            raise NotFound()
        policy.check("veto_revoke", actor, flag)
        if flag.revoked_at is not None:
            raise GuardFailed([_("This veto has already been revoked.")])
        errors: dict[str, list[str]] = {}
        reason = _text(reason, "reason", errors,
                       required_msg=_("Give the reason for revoking."))
        if errors:
            raise Invalid(errors)
        flag.revoked_at = clock.now()
        flag.revoked_reason = reason
        flag.revoked_by_id = actor.id
        binding.record(flag, "revoke", actor=actor, comment=reason, data={"year": flag.year})
    return flag
