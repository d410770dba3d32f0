"""The medical disputes register (医疗纠纷): register, list and filter, change the route,
status or amount (each change one history event with the old and new values), export.

Disputes are not a state machine: a change is written with binding.record in the same
commit, under the optimistic version check (a stale form is a StaleObject, 409).
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from casework import clock, policy, validation
from casework.cases.models import InspectionCase
from casework.disputes.models import DISPUTE_ROUTES, DISPUTE_STATUSES, DISPUTE_TYPES, MedicalDispute
from casework.errors import Invalid, NotFound
from casework.extensions import db
from casework.history.models import HistoryEvent
from casework.history.services import history_of
from casework.institutions.models import Institution
from casework.pagination import Page, paginate
from workflows import binding

MAX_SUMMARY = 5000
MAX_DEPARTMENT = 100
MAX_COMMENT = 2000
# Numeric(14, 2): at most 12 digits before the decimal point.
MAX_AMOUNT = Decimal("999999999999.99")
EXPORT_LIMIT = 50000


# --- parsing helpers ------------------------------------------------------------------

_text = validation.text


def parse_amount(value, errors, field="amount") -> Decimal | None:
    """An amount in yuan as typed ("12000", "12,000.50", "¥3 500"); None when blank."""
    if value is None:
        return None
    if isinstance(value, Decimal | int):
        text = str(value)
    else:
        text = re.sub(r"[\s,，¥￥元]", "", str(value))
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        errors[field] = [_("Enter the amount in yuan as a number, e.g. 12000 or 12000.50.")]
        return None
    if not amount.is_finite():
        errors[field] = [_("Enter the amount in yuan as a number, e.g. 12000 or 12000.50.")]
        return None
    if amount < 0:
        errors[field] = [_("The amount cannot be negative.")]
        return None
    if amount > MAX_AMOUNT:
        errors[field] = [_("The amount is too large.")]
        return None
    if amount != amount.quantize(Decimal("0.01")):
        errors[field] = [_("At most two decimal places (fen).")]
        return None
    return amount.quantize(Decimal("0.01"))


def parse_date(value, field, errors) -> date | None:
    """A date from the form (ISO "2024-05-01"); None when blank, an error when not a date."""
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[field] = [_("Enter a date as YYYY-MM-DD.")]
        return None


def _choice(value, allowed, field, message, errors):
    if value not in allowed:
        errors[field] = [message]
        return None
    return value


def _status_and_date(status, resolved_on, occurred_on, errors):
    status = _choice(status or "open", DISPUTE_STATUSES, "status", _("Choose a status."), errors)
    today = clock.today()
    if status in ("resolved", "withdrawn"):
        if resolved_on is None and "resolved_on" not in errors:
            errors["resolved_on"] = [_("Give the date the dispute was resolved or withdrawn.")]
        elif resolved_on is not None and resolved_on > today:
            errors["resolved_on"] = [_("The date cannot be in the future.")]
        elif resolved_on is not None and occurred_on and resolved_on < occurred_on:
            errors["resolved_on"] = [_("The dispute cannot end before it occurred.")]
    elif status == "open" and resolved_on is not None:
        errors["resolved_on"] = [_("Leave this date empty while the dispute is open, or "
                                   "choose the status it ended with.")]
    return status


def _first_with_key(request_key):
    if not request_key:
        return None
    return db.session.scalar(sa.select(MedicalDispute)
                             .where(MedicalDispute.request_key == request_key))


# --- register ---------------------------------------------------------------------------

def register_dispute(*, actor, institution_id, occurred_on, type, route, summary,
                     department=None, amount=None, status="open", resolved_on=None,
                     request_key: str | None = None) -> MedicalDispute:
    """Register a dispute as `actor` (dates as date or ISO text, amount as typed).

    Raises NotPermitted (dispute_register), Invalid with every problem at once (nothing
    stored then). Idempotent on `request_key`: a form sent twice registers one dispute.
    """
    errors: dict[str, list[str]] = {}
    institution = None
    if isinstance(institution_id, int) and not isinstance(institution_id, bool):
        institution = db.session.get(Institution, institution_id)
    if institution is None or not policy.allows("dispute_register", actor, institution):
        # Nothing about whether a hospital outside the jurisdiction exists.
        policy.check("dispute_register", actor, None)
        errors["institution_id"] = [_("Choose an institution in your jurisdiction.")]
        institution = None
    if (found := _first_with_key(request_key)) is not None:
        return found
    occurred_on = parse_date(occurred_on, "occurred_on", errors)
    if occurred_on is None and "occurred_on" not in errors:
        errors["occurred_on"] = [_("Give the date the dispute occurred.")]
    elif occurred_on is not None and occurred_on > clock.today():
        errors["occurred_on"] = [_("The date cannot be in the future.")]
    type = _choice(type, DISPUTE_TYPES, "type", _("Choose the type of dispute."), errors)
    route = _choice(route, DISPUTE_ROUTES, "route", _("Choose the resolution route."), errors)
    department = _text(department, "department", errors, limit=MAX_DEPARTMENT)
    summary = _text(summary, "summary", errors, limit=MAX_SUMMARY,
                    required_msg=_("Describe what the dispute is about."))
    amount = parse_amount(amount, errors)
    resolved_on = parse_date(resolved_on, "resolved_on", errors)
    status = _status_and_date(status, resolved_on, occurred_on, errors)
    if errors:
        raise Invalid(errors)
    dispute = MedicalDispute(
        institution=institution, occurred_on=occurred_on, department=department, type=type,
        route=route, amount=amount, status=status,
        resolved_on=resolved_on if status != "open" else None, summary=summary,
        registered_by_id=actor.id, request_key=request_key or None)
    try:
        with binding.unit_of_work():
            db.session.add(dispute)
            db.session.flush()
            binding.record(dispute, "registered", actor=actor,
                           data={"route": route, "status": status,
                                 "amount": str(amount) if amount is not None else None})
    except IntegrityError:
        # The same request, retried while the first was committing; the unit rolled back.
        if (found := _first_with_key(request_key)) is not None:
            return found
        raise
    return dispute


def may_register(actor) -> bool:
    return policy.allows("dispute_register", actor, None)


def registrable_institutions(actor) -> list[Institution]:
    """Institutions a dispute registered by `actor` can be of."""
    if not may_register(actor):
        return []
    query = sa.select(Institution).order_by(Institution.code)
    return list(db.session.scalars(policy.visible_institutions(query, actor, Institution)))


# --- reading ----------------------------------------------------------------------------

@dataclass(frozen=True)
class DisputeFilters:
    institution_id: int | None = None
    route: str | None = None
    status: str | None = None
    type: str | None = None
    occurred_from: date | None = None
    occurred_to: date | None = None

    @classmethod
    def parse(cls, args) -> "DisputeFilters":
        """The filters from query arguments (text); Invalid names every bad one."""
        errors: dict[str, list[str]] = {}
        institution = (args.get("institution") or "").strip()
        institution_id = None
        if institution:
            if institution.isdigit():
                institution_id = int(institution)
            else:
                errors["institution"] = [_("Unknown value.")]
        values = {}
        for field, allowed in (("route", DISPUTE_ROUTES), ("status", DISPUTE_STATUSES),
                               ("type", DISPUTE_TYPES)):
            value = (args.get(field) or "").strip() or None
            if value is not None and value not in allowed:
                errors[field] = [_("Unknown value.")]
                value = None
            values[field] = value
        occurred_from = parse_date(args.get("from"), "from", errors)
        occurred_to = parse_date(args.get("to"), "to", errors)
        if occurred_from and occurred_to and occurred_to < occurred_from:
            errors["to"] = [_("The end of the range is before its start.")]
        if errors:
            raise Invalid(errors)
        return cls(institution_id=institution_id, occurred_from=occurred_from,
                   occurred_to=occurred_to, **values)


def _query(actor, filters: DisputeFilters):
    query = (sa.select(MedicalDispute)
             .options(joinedload(MedicalDispute.institution))
             .order_by(MedicalDispute.occurred_on.desc(), MedicalDispute.id.desc()))
    query = policy.visible_disputes(query, actor, MedicalDispute)
    if filters.institution_id is not None:
        query = query.where(MedicalDispute.institution_id == filters.institution_id)
    for field in ("route", "status", "type"):
        value = getattr(filters, field)
        if value:
            query = query.where(getattr(MedicalDispute, field) == value)
    if filters.occurred_from:
        query = query.where(MedicalDispute.occurred_on >= filters.occurred_from)
    if filters.occurred_to:
        query = query.where(MedicalDispute.occurred_on <= filters.occurred_to)
    return query


def list_disputes(actor, filters: DisputeFilters, *, page: int = 1,
                  per_page: int = 50) -> Page:
    """The disputes the actor may see (policy.visible_disputes), newest first: two
    queries whatever the page size (the count, and the rows with their institutions)."""
    return paginate(_query(actor, filters), page=page, per_page=per_page)


def export_disputes(actor, filters: DisputeFilters) -> list[MedicalDispute]:
    """Every dispute of the filtered list (one query), for the spreadsheet."""
    policy.check("dispute_export", actor)
    return list(db.session.scalars(_query(actor, filters).limit(EXPORT_LIMIT)).unique())


def get_dispute(dispute_id: int, actor) -> MedicalDispute:
    """The dispute, if it exists and the actor may see it; NotFound otherwise."""
    dispute = db.session.scalar(
        sa.select(MedicalDispute).where(MedicalDispute.id == dispute_id).options(
            joinedload(MedicalDispute.institution).joinedload(Institution.region),
            joinedload(MedicalDispute.registered_by)))
    if dispute is None or not policy.allows("dispute_view", actor, dispute):
        raise NotFound()
    return dispute


def dispute_history(dispute) -> list[HistoryEvent]:
    return history_of(dispute)


def may_update(dispute, actor) -> bool:
    return policy.allows("dispute_update", actor, dispute)


def case_choices(dispute) -> list[InspectionCase]:
    """The cases of the dispute's institution, for linking the dispute to one."""
    return list(db.session.scalars(
        sa.select(InspectionCase).where(InspectionCase.institution_id == dispute.institution_id)
        .options(joinedload(InspectionCase.campaign)).order_by(InspectionCase.id.desc())))


def linked_case(dispute) -> InspectionCase | None:
    if dispute.case_id is None:
        return None
    return db.session.scalar(sa.select(InspectionCase).where(
        InspectionCase.id == dispute.case_id).options(joinedload(InspectionCase.campaign)))


# --- changing ---------------------------------------------------------------------------

def _shown(value):
    return None if value is None else str(value)


def update_dispute(dispute_id: int, *, actor, version: int | None, route=None, status=None,
                   resolved_on=None, amount=None, case_id=None,
                   comment: str | None = None) -> HistoryEvent | None:
    """Change the route, status (with the date it ended), amount or linked case.

    One history event "changed" records each changed field's old and new value
    (data old_<field>/new_<field>); nothing changed writes nothing and returns None.
    Raises NotFound, NotPermitted (dispute_update), Invalid (every problem at once),
    StaleObject (the dispute changed since `version` was read).
    """
    dispute = get_dispute(dispute_id, actor)
    policy.check("dispute_update", actor, dispute)
    errors: dict[str, list[str]] = {}
    route = _choice(route, DISPUTE_ROUTES, "route", _("Choose the resolution route."), errors)
    amount = parse_amount(amount, errors)
    resolved_on = parse_date(resolved_on, "resolved_on", errors)
    status = _status_and_date(status, resolved_on, dispute.occurred_on, errors)
    if case_id not in (None, ""):
        case = db.session.get(InspectionCase, case_id) if isinstance(case_id, int) else None
        if case is None or case.institution_id != dispute.institution_id:
            errors["case_id"] = [_("Choose a case of this institution.")]
    else:
        case_id = None
    comment = _text(comment, "comment", errors, limit=MAX_COMMENT)
    if not isinstance(version, int) or isinstance(version, bool):
        errors.setdefault("version", [_("The form is missing the record version; "
                                        "reload the page.")])
    if errors:
        raise Invalid(errors)
    new = {"route": route, "status": status,
           "resolved_on": resolved_on if status != "open" else None,
           "amount": amount, "case_id": case_id}
    with binding.changing(MedicalDispute, dispute.id, version=version) as locked:
        changed = {k: v for k, v in new.items() if getattr(locked, k) != v}
        if not changed:
            return None
        data = {}
        for field, value in changed.items():
            data[f"old_{field}"] = _shown(getattr(locked, field))
            data[f"new_{field}"] = _shown(value)
        old_status = locked.status
        for field, value in changed.items():
            setattr(locked, field, value)
        event = binding.record(locked, "changed", actor=actor, comment=comment, data=data)
        event.from_state = old_status
    return event


# --- demo data --------------------------------------------------------------------------

DEMO = (
    # code, days ago, department, type, route, amount, status, days to resolve, summary
    ("ZW-001", 200, "骨科", "surgery", "mediation", "86000", "resolved", 60,
     "患者术后出现神经损伤，经医疗纠纷人民调解委员会调解达成协议。"),
    ("ZW-001", 45, "急诊科", "diagnosis_treatment", "negotiation", None, "open", None,
     "家属对急诊处置时效有异议，医患双方正在协商。"),
    ("ZW-002", 120, "针灸科", "nursing", "negotiation", "3000", "resolved", 20,
     "针灸后局部感染，协商一致后医院承担后续治疗费用。"),
    ("ZW-003", 90, "产科", "diagnosis_treatment", "litigation", None, "open", None,
     "新生儿产伤，家属已向人民法院提起诉讼。"),
    ("ZW-004", 30, "药剂科", "medication", "mediation", None, "withdrawn", 10,
     "患者认为用药错误，经核实后撤回调解申请。"),
)


def load_demo_disputes() -> int:
    """A handful of disputes on the demo institutions (idempotent by request key);
    returns the number added."""
    from casework.users.models import User

    actor = db.session.scalar(sa.select(User).where(User.username == "coordinator"))
    codes = {code for code, *_rest in DEMO}
    institutions = dict(db.session.execute(
        sa.select(Institution.code, Institution.id).where(Institution.code.in_(codes))).all())
    if actor is None:
        return 0
    added = 0
    today = clock.today()
    for index, (code, ago, department, kind, route, amount, status, took, summary) \
            in enumerate(DEMO):
        key = f"demo-dispute-{index}"
        if code not in institutions or _first_with_key(key) is not None:
            continue
        occurred = date.fromordinal(today.toordinal() - ago)
        ended = date.fromordinal(occurred.toordinal() + took) if took else None
        register_dispute(actor=actor, institution_id=institutions[code], occurred_on=occurred,
                         department=department, type=kind, route=route, amount=amount,
                         status=status, resolved_on=ended, summary=summary, request_key=key)
        added += 1
    return added
