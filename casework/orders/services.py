"""Rectification orders: raised from findings, worked through the order machine."""

from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import BinaryIO

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from casework import clock, policy, validation
from casework.cases.models import InspectionCase
from casework.cases.services import get_case
from casework.errors import GuardFailed, Invalid, NotFound
from casework.evidence import services as evidence
from casework.extensions import db
from casework.history.models import HistoryEvent
from casework.history.services import history_of
from casework.inspections.models import Finding, Inspection
from casework.institutions.models import Institution
from casework.orders.models import (
    LIST_RANK,
    OPEN_RANK_LIMIT,
    ExtensionRequest,
    OrderNumberSequence,
    RectificationOrder,
    Submission,
    order_finding,
)
from casework.pagination import Key, Page, paginate_keyset
from casework.workdays import services as workdays
from workflows import binding
from workflows import case as case_workflow
from workflows import extension as extension_workflow
from workflows import order as order_workflow

MAX_TEXT = 5000
DEADLINE_KINDS = ("date", "calendar_days", "working_days", "months")
# Upper bounds that catch a typo (200 months) without getting in anyone's way.
DEADLINE_LIMITS = {"calendar_days": 365, "working_days": 250, "months": 12}
# What needs attention first (TODO_ORDER, stored as state_rank), then by deadline.
LIST_KEYS = [Key(RectificationOrder.state_rank), Key(RectificationOrder.deadline),
             Key(RectificationOrder.id)]


_text = partial(validation.text, limit=MAX_TEXT)


def deadline_rule(kind: str | None, value) -> dict:
    """A validated deadline rule ({"kind", "value"}) from form or API input; Invalid if bad."""
    if kind not in DEADLINE_KINDS:
        raise Invalid({"deadline": [_("Choose how the deadline is set.")]})
    if kind == "date":
        if not isinstance(value, date):
            raise Invalid({"deadline": [_("Enter the deadline date.")]})
        return {"kind": "date", "value": value.isoformat()}
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise Invalid({"deadline": [_("Enter a whole number of days or months, at least 1.")]})
    if value > DEADLINE_LIMITS[kind]:
        raise Invalid({"deadline": [_("At most %(max)d.", max=DEADLINE_LIMITS[kind])]})
    return {"kind": kind, "value": value}


def compute_deadline(rule: dict, issued_on: date):
    """The deadline for `rule` counted from `issued_on` (see casework.workdays)."""
    return workdays.compute_deadline(rule, issued_on)


def _first_with_key(model, request_key: str | None):
    """The row an earlier attempt with this idempotency key created, if any."""
    if not request_key:
        return None
    return db.session.scalar(sa.select(model).where(model.request_key == request_key))


def _next_number(year: int) -> str:
    # The sequence row is locked so that two inspectors issuing at once get 001 and 002.
    sequence = db.session.execute(
        sa.select(OrderNumberSequence).where(OrderNumberSequence.year == year)
        .with_for_update()).scalar_one_or_none()
    if sequence is None:
        sequence = OrderNumberSequence(year=year, last=0)
        db.session.add(sequence)
    sequence.last += 1
    return f"整改〔{year}〕{sequence.last:04d}号"


@dataclass
class Candidates:
    """Findings of a case that can go into a new order."""

    open_findings: list[Finding]     # require rectification, in no live order yet
    draft_findings: list[Finding]    # recorded but their inspection is not finalised


def order_candidates(case) -> Candidates:
    covered = sa.select(order_finding.c.finding_id).join(
        RectificationOrder, RectificationOrder.id == order_finding.c.order_id
    ).where(RectificationOrder.state != "cancelled")
    findings = db.session.scalars(
        sa.select(Finding).join(Inspection)
        .where(Finding.case_id == case.id, Finding.rectification_required.is_(True),
               Finding.id.not_in(covered))
        .options(joinedload(Finding.key_task), joinedload(Finding.inspection))
        .order_by(Finding.id)).all()
    return Candidates([f for f in findings if f.inspection.is_final],
                      [f for f in findings if not f.inspection.is_final])


def raise_order(case_id: int, *, actor, finding_ids: list[int], requirements: str | None,
                rule: dict, issuing_body: str | None = None, request_key: str | None = None,
                allow_no_findings: bool = False) -> RectificationOrder:
    """Issue a rectification order covering findings of one case.

    `allow_no_findings`: an order may cover no finding (a follow-up order raised at an
    interview, whose requirements stand on their own).

    The deadline is computed from `rule` (see deadline_rule) counted from today; a
    deadline reaching into a year whose holiday arrangement is not entered yet is
    provisional. Idempotent on `request_key`. Raises Invalid (with every problem),
    GuardFailed (case closed), NotPermitted.
    """
    case = get_case(case_id, actor)
    policy.check("order_raise", actor, case)
    if (found := _first_with_key(RectificationOrder, request_key)):
        return found
    try:
        with binding.unit_of_work():
            order = add_order(case, actor=actor, finding_ids=finding_ids,
                              requirements=requirements, rule=rule, issuing_body=issuing_body,
                              request_key=request_key, allow_no_findings=allow_no_findings)
    except IntegrityError:
        # The same request, retried while the first was still committing (the unit has
        # rolled back).
        if (found := _first_with_key(RectificationOrder, request_key)):
            return found
        raise
    return order


def add_order(case, *, actor, finding_ids: list[int], requirements: str | None, rule: dict,
              issuing_body: str | None = None, request_key: str | None = None,
              allow_no_findings: bool = False) -> RectificationOrder:
    """Validate and add the order to the session without committing: for a caller that
    commits it together with something else in its unit of work (an interview held with
    a follow-up order). The caller has checked order_raise. Raises Invalid, GuardFailed
    as raise_order."""
    if case.state in case_workflow.CLOSED_STATES:
        raise GuardFailed([_("The case is closed; reopen it before issuing orders.")])
    errors: dict[str, list[str]] = {}
    requirements = _text(requirements, "requirements", errors,
                         required_msg=_("State what must be rectified."))
    issuing_body = _text(issuing_body or case.campaign.issuing_body, "issuing_body", errors,
                         limit=200)
    candidates = {f.id: f for f in order_candidates(case).open_findings}
    chosen = [candidates.get(i) for i in dict.fromkeys(finding_ids or [])]
    if not chosen and not allow_no_findings:
        errors["findings"] = [_("Choose at least one finding.")]
    elif None in chosen:
        errors["findings"] = [_("Only findings of this case that require rectification, "
                                "are finalised and are in no other order can be chosen.")]
    today = clock.today()
    deadline = compute_deadline(rule, today) if rule else None
    if deadline is None or deadline.date <= today:
        errors["deadline"] = [_("The deadline must be after today.")]
    if errors:
        raise Invalid(errors)
    order = RectificationOrder(
        number=_next_number(today.year), case=case, requirements=requirements,
        issuing_body=issuing_body, issued_on=today, issued_by_id=actor.id,
        deadline=deadline.date, deadline_rule=rule,
        deadline_provisional=deadline.provisional, request_key=request_key,
        findings=chosen)
    db.session.add(order)
    return order


def get_order(order_id: int, actor) -> RectificationOrder:
    """The order, if it exists and the actor may see it; NotFound otherwise."""
    order = db.session.scalar(
        sa.select(RectificationOrder).where(RectificationOrder.id == order_id).options(
            joinedload(RectificationOrder.case).joinedload(InspectionCase.institution)
            .joinedload(Institution.region),
            joinedload(RectificationOrder.case).joinedload(InspectionCase.campaign),
            selectinload(RectificationOrder.findings).options(
                joinedload(Finding.key_task), selectinload(Finding.attachments)),
            selectinload(RectificationOrder.submissions).options(
                selectinload(Submission.attachments), joinedload(Submission.submitted_by)),
            selectinload(RectificationOrder.extension_requests),
            joinedload(RectificationOrder.issued_by),
        ))
    if order is None or not policy.allows("order_view", actor, order):
        raise NotFound()
    return order


@dataclass(frozen=True)
class OrderFilters:
    state: str | None = None
    case_id: int | None = None
    open_only: bool = False
    institution_id: int | None = None
    # Part of an institution's name (the filter typed without choosing from the list).
    institution: str | None = None


def list_orders(actor, filters: OrderFilters, *, page: int | None = 1, per_page: int = 50,
                after: str | None = None, before: str | None = None) -> Page:
    """Orders the actor may see; what needs attention first (TODO_ORDER), then by
    deadline. Keyset pages (see pagination.paginate_keyset: `after`/`before` cursors,
    the count capped). Raises Invalid (unknown state, bad cursor)."""
    query = (
        sa.select(RectificationOrder)
        .join(InspectionCase, InspectionCase.id == RectificationOrder.case_id)
        .join(Institution, Institution.id == InspectionCase.institution_id)
        .options(joinedload(RectificationOrder.case).joinedload(InspectionCase.institution),
                 joinedload(RectificationOrder.case).joinedload(InspectionCase.campaign))
    )
    query = policy.visible_institutions(query, actor, Institution)
    if filters.state:
        if filters.state not in order_workflow.STATES:
            raise Invalid({"state": [_("Unknown state.")]})
        # Each state has a rank of its own: the rank is what the index serves.
        query = query.where(RectificationOrder.state == filters.state,
                            RectificationOrder.state_rank == LIST_RANK[filters.state])
    if filters.open_only:
        query = query.where(RectificationOrder.state.in_(order_workflow.OPEN_STATES),
                            RectificationOrder.state_rank < OPEN_RANK_LIMIT)
    if filters.case_id:
        query = query.where(RectificationOrder.case_id == filters.case_id)
    if filters.institution_id:
        query = query.where(Institution.id == filters.institution_id)
    elif filters.institution:
        query = query.where(Institution.name.icontains(filters.institution, autoescape=True))
    return paginate_keyset(query, LIST_KEYS, per_page=per_page, page=page, after=after,
                           before=before)


def case_orders(case) -> list[RectificationOrder]:
    return list(db.session.scalars(
        sa.select(RectificationOrder).where(RectificationOrder.case_id == case.id)
        .options(selectinload(RectificationOrder.findings))
        .order_by(RectificationOrder.id)))


def order_history(order) -> list[HistoryEvent]:
    """The order's history with its extension requests' (asked for, approved, declined),
    oldest first."""
    requests = [r.id for r in order.extension_requests]
    if not requests:
        return history_of(order)
    return list(db.session.scalars(
        sa.select(HistoryEvent).where(sa.or_(
            sa.and_(HistoryEvent.object_type == order.workflow,
                    HistoryEvent.object_id == order.id),
            sa.and_(HistoryEvent.object_type == extension_workflow.NAME,
                    HistoryEvent.object_id.in_(requests))))
        .options(joinedload(HistoryEvent.actor)).order_by(HistoryEvent.id)))


def available_triggers(order, actor) -> list[str]:
    return binding.available_triggers(order, actor)


# Triggers fired directly from a button with an optional comment; submit and extend
# carry more and have their own services.
SIMPLE_TRIGGERS = ("acknowledge", "verify", "return", "escalate", "cancel")


def fire_order(order_id: int, trigger: str, *, actor, version: int | None,
               comment: str | None = None) -> HistoryEvent:
    """Fire acknowledge / verify / return / escalate / cancel; see binding.apply."""
    return binding.apply_listed(get_order(order_id, actor), trigger, SIMPLE_TRIGGERS,
                                actor=actor, version=version, comment=comment,
                                max_comment=MAX_TEXT)


def submit_rectification(order_id: int, *, actor, version: int | None, report: str | None,
                         files: list[tuple[str, BinaryIO]], request_key: str | None = None
                         ) -> Submission:
    """Submit a rectification report with evidence (fires `submit`).

    Idempotent on `request_key`: a retried POST returns the first submission. A
    submission after the deadline is marked late. Raises Invalid (no report, no or bad
    files — nothing is stored then), the binding's errors otherwise.
    """
    order = get_order(order_id, actor)
    policy.check("order_submit", actor, order)
    if (found := _first_with_key(Submission, request_key)):
        return found
    errors: dict[str, list[str]] = {}
    report = _text(report, "report", errors,
                   required_msg=_("Write the rectification report."))
    if not files:
        errors["files"] = [_("Attach at least one evidence file (photo or PDF).")]
    stored = evidence.store_with_errors(files, errors)
    try:
        with evidence.kept_only_if_committed(stored):
            submission = Submission(order=order, report=report, submitted_by_id=actor.id,
                                    late=clock.today() > order.deadline,
                                    request_key=request_key)
            db.session.add(submission)
            db.session.flush()
            evidence.attach(stored, actor=actor, submission=submission)
            binding.apply(order, "submit", actor=actor, version=version, report=report,
                          evidence_count=len(stored))
    except IntegrityError:
        # The same request, retried while the first was still committing.
        if (found := _first_with_key(Submission, request_key)):
            return found
        raise
    return submission


def request_extension(order_id: int, *, actor, reason: str | None,
                      proposed_deadline: date | None, request_key: str | None = None
                      ) -> ExtensionRequest:
    """An institution asks for more time; a coordinator decides (decide_extension).

    The request starts in the extension machine's initial state; its creation is that
    machine's `request` history event. Idempotent on `request_key`. Raises NotPermitted,
    GuardFailed (the order is not with the institution, or a request is already
    waiting), Invalid.
    """
    order = get_order(order_id, actor)
    policy.check("order_request_extension", actor, order)
    if (found := _first_with_key(ExtensionRequest, request_key)):
        return found
    if order.state not in order_workflow.EXTENDABLE_STATES:
        raise GuardFailed([_("An extension can only be asked for while the order is open "
                             "and not awaiting verification.")])
    if any(r.state in extension_workflow.OPEN_STATES for r in order.extension_requests):
        raise GuardFailed([_("An extension request is already waiting for a decision.")])
    errors: dict[str, list[str]] = {}
    reason = _text(reason, "reason", errors, required_msg=_("Give the reason for the request."))
    if proposed_deadline is None:
        errors["proposed_deadline"] = [_("Enter the proposed new deadline.")]
    elif proposed_deadline <= max(order.deadline, clock.today()):
        errors["proposed_deadline"] = [
            _("The proposed deadline must be later than the current deadline and today.")]
    if errors:
        raise Invalid(errors)
    with binding.unit_of_work():
        extension = ExtensionRequest(order=order, reason=reason,
                                     proposed_deadline=proposed_deadline,
                                     state=extension_workflow.INITIAL,
                                     requested_by_id=actor.id, request_key=request_key)
        db.session.add(extension)
        db.session.flush()
        binding.record(extension, extension_workflow.CREATION_EVENT, actor=actor,
                       comment=reason, data={"proposed_deadline": proposed_deadline})
    return extension


def decide_extension(request_id: int, *, actor, approve: bool, version: int | None,
                     comment: str | None = None, new_deadline: date | None = None
                     ) -> ExtensionRequest:
    """Approve or decline an extension request (the extension machine's `approve` /
    `decline`). Approving also fires the order's `extend` with the new deadline; `version`
    is the order's, as the user read it. Both commit together or not at all.

    Raises NotFound, NotPermitted, GuardFailed (already decided), Invalid (a decline
    without a reason, a new deadline not later than the current one and today; nothing
    is written), and the binding's errors.
    """
    with binding.unit_of_work():
        # Locked: two coordinators deciding at once must not turn an approval into a
        # decline (the second waits here, then finds the request decided).
        extension = db.session.scalar(
            sa.select(ExtensionRequest).where(ExtensionRequest.id == request_id)
            .with_for_update().execution_options(populate_existing=True))
        if extension is None:
            raise NotFound()
        order = get_order(extension.order_id, actor)
        policy.check("extension_approve" if approve else "extension_decline", actor, extension)
        if extension.state not in extension_workflow.OPEN_STATES:
            raise GuardFailed([_("This request has already been decided.")])
        errors: dict[str, list[str]] = {}
        comment = _text(comment, "comment", errors,
                        required_msg=None if approve else _("Give the reason for declining."))
        granted = (new_deadline or extension.proposed_deadline) if approve else None
        if granted is not None and granted <= max(order.deadline, clock.today()):
            errors["new_deadline"] = [
                _("The new deadline must be later than the current deadline and today.")]
        if errors:
            raise Invalid(errors)
        decision = {"decided_by_id": actor.id, "decided_at": clock.now(),
                    "decision_comment": comment}
        if not approve:
            binding.apply(extension, "decline", actor=actor, version=extension.version,
                          comment=comment, changes=decision)
            return extension
        binding.apply(extension, "approve", actor=actor, version=extension.version,
                      comment=comment, changes={**decision, "granted_deadline": granted},
                      new_deadline=granted)
        rule = {"kind": "date", "value": granted.isoformat()}
        binding.apply(order, "extend", actor=actor, version=version, comment=comment,
                      new_deadline=granted,
                      effects={"deadline": granted, "deadline_rule": rule,
                               "deadline_provisional": False})
    return extension


@workdays.on_year_confirmed
def recompute_provisional_deadlines(year: int) -> int:
    """Recompute provisional deadlines once `year`'s holiday arrangement is entered.

    Called by the working-day calendar when an admin confirms a year. Each change is a
    history event ("recompute_deadline") by the system. Returns how many orders changed.
    """
    changed = 0
    with binding.unit_of_work():
        orders = db.session.scalars(sa.select(RectificationOrder).where(
            RectificationOrder.deadline_provisional.is_(True),
            RectificationOrder.state.in_(order_workflow.OPEN_STATES))).all()
        for order in orders:
            deadline = compute_deadline(order.deadline_rule, order.issued_on)
            if (deadline.date != order.deadline
                    or deadline.provisional != order.deadline_provisional):
                binding.record(order, "recompute_deadline", actor=policy.SYSTEM,
                               data={"old_deadline": order.deadline,
                                     "new_deadline": deadline.date, "year": year,
                                     "provisional": deadline.provisional})
                order.deadline = deadline.date
                order.deadline_provisional = deadline.provisional
                changed += 1
    return changed
