"""Complaints and tip-offs: intake (staff and the public form), the complaint machine,
and the complainant's personal data (encrypted, masked, every reveal logged)."""

import re
import secrets
from dataclasses import dataclass
from datetime import date
from functools import partial

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from casework import clock, policy, validation
from casework.complaints import personal_data as pd
from casework.complaints.models import (
    CATEGORIES,
    CHANNELS,
    LIST_RANK,
    ComplainantDetails,
    Complaint,
    PersonalDataAccess,
)
from casework.errors import IllegalTrigger, Invalid, NotFound
from casework.extensions import db
from casework.history.models import HistoryEvent
from casework.history.services import history_of
from casework.institutions.models import Institution
from casework.labels import state_label
from casework.pagination import Key, Page, paginate_keyset
from casework.settings import services as settings
from casework.users.models import User
from casework.workdays import services as workdays
from workflows import binding
from workflows import complaint as complaint_workflow

MAX_DESCRIPTION = 5000
PUBLIC_MAX_DESCRIPTION = 3000
MAX_NAMED = 200
MAX_NAME = 50
MAX_TEXT = 5000
# No 0/O, 1/I/L: a code read out over the phone must not be misheard.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12


# --- helpers ----------------------------------------------------------------------

_text = partial(validation.text, limit=MAX_TEXT)


def new_tracking_code() -> str:
    """12 characters from 31 (about 2⁵⁹ codes): random, not guessable, nothing personal."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(value: str | None) -> str:
    """What the complainant typed (any case, spaces or dashes) as a stored code."""
    return re.sub(r"[^A-Z0-9]", "", (value or "").upper())[:32]


def format_code(code: str) -> str:
    """ABCD-EFGH-JKMN: easier to copy down."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def _deadline(received_on: date) -> date:
    days = settings.get("complaint_handling_days")
    return workdays.compute_deadline({"kind": "calendar_days", "value": days}, received_on).date


def _personal_data(name, phone, id_number, anonymous, errors, *, required: bool):
    """Validated (name, phone, id_number); anonymous complaints carry none."""
    if anonymous:
        return None, None, None
    name = _text(name, "name", errors, limit=MAX_NAME,
                 required_msg=_("Give the complainant's name, or mark the complaint as "
                                "anonymous.") if required else None)
    phone = pd.normalise_phone((phone or "").strip()) or None
    if phone and not pd.valid_phone(phone):
        errors["phone"] = [_("Enter a mobile number of 11 digits or a landline number with "
                             "its area code.")]
    elif required and not phone:
        errors["phone"] = [_("Give a phone number so that the reply can reach the "
                             "complainant, or mark the complaint as anonymous.")]
    id_number = (id_number or "").strip().upper() or None
    if id_number and not pd.valid_id_number(id_number):
        errors["id_number"] = [_("This is not a valid 18-character resident ID number.")]
    return name, phone, id_number


def _details(complaint, name, phone, id_number) -> ComplainantDetails:
    return ComplainantDetails(
        complaint_id=complaint.id, name_enc=pd.encrypt(name), phone_enc=pd.encrypt(phone),
        id_number_enc=pd.encrypt(id_number), name_masked=pd.mask_name(name),
        phone_masked=pd.mask_phone(phone), id_number_masked=pd.mask_id_number(id_number))


def _store(complaint: Complaint, name, phone, id_number) -> Complaint:
    """Add the complaint and its details with a fresh tracking code and commit."""
    for _attempt in range(5):
        complaint.tracking_code = new_tracking_code()
        try:
            with binding.unit_of_work():
                db.session.add(complaint)
                db.session.flush()
                db.session.add(_details(complaint, name, phone, id_number))
            return complaint
        except IntegrityError:
            # The unit rolled back.
            found = _first_with_key(complaint.request_key)
            if found:
                return found
            # A tracking code already taken (about never): draw again.
            continue
    raise RuntimeError("no free tracking code after 5 attempts")


def _first_with_key(request_key):
    if not request_key:
        return None
    return db.session.scalar(sa.select(Complaint).where(Complaint.request_key == request_key))


# --- intake -----------------------------------------------------------------------

def register_complaint(*, actor, channel: str | None, category: str | None,
                       description: str | None, institution_id: int | None = None,
                       staff_named: str | None = None, received_on: date | None = None,
                       anonymous: bool = False, name: str | None = None,
                       phone: str | None = None, id_number: str | None = None,
                       request_key: str | None = None) -> Complaint:
    """Register a complaint received by hotline, SMS, letter, visit (or web) as `actor`.

    Anonymous complaints carry no personal data; otherwise the complainant's name is
    required and phone and ID number are checked when given. The handling deadline is
    the setting complaint_handling_days in calendar days from `received_on` (today by
    default).
    Idempotent on `request_key`. Raises Invalid (every problem at once), NotPermitted.
    """
    errors: dict[str, list[str]] = {}
    institution = db.session.get(Institution, institution_id) if institution_id else None
    if institution_id and institution is None:
        errors["institution_id"] = [_("Choose an institution in your jurisdiction.")]
    else:
        # A district officer registers complaints about institutions of the district;
        # one about no institution in particular is for the city.
        policy.check("complaint_register", actor, institution)
    if (found := _first_with_key(request_key)):
        return found
    if channel not in CHANNELS:
        errors["channel"] = [_("Choose the channel the complaint came by.")]
    if category not in CATEGORIES:
        errors["category"] = [_("Choose a category.")]
    description = _text(description, "description", errors, limit=MAX_DESCRIPTION,
                        required_msg=_("Describe what the complaint is about."))
    staff_named = _text(staff_named, "staff_named", errors, limit=MAX_NAMED)
    today = clock.today()
    received_on = received_on or today
    if received_on > today:
        errors["received_on"] = [_("The date received cannot be in the future.")]
    name, phone, id_number = _personal_data(name, phone, id_number, anonymous, errors,
                                            required=False)
    if not anonymous and not name:
        errors.setdefault("name", [_("Give the complainant's name, or mark the complaint "
                                     "as anonymous.")])
    if errors:
        raise Invalid(errors)
    complaint = Complaint(
        channel=channel, category=category, description=description, institution=institution,
        staff_named=staff_named, received_on=received_on, deadline=_deadline(received_on),
        anonymous=bool(anonymous), registered_by_id=actor.id, request_key=request_key)
    return _store(complaint, name, phone, id_number)


def submit_public_complaint(*, category: str | None, description: str | None,
                            institution_named: str | None = None,
                            staff_named: str | None = None, anonymous: bool = False,
                            name: str | None = None, phone: str | None = None,
                            id_number: str | None = None) -> Complaint:
    """A complaint from the public web form (no login). Returns it; its tracking_code is
    what the complainant keeps. Everything is stored as plain text (pages escape it).
    Not anonymous: name and phone are required (so that the reply can reach them).
    Raises Invalid with every problem; nothing is stored then.
    """
    errors: dict[str, list[str]] = {}
    if category not in CATEGORIES:
        errors["category"] = [_("Choose a category.")]
    description = _text(description, "description", errors, limit=PUBLIC_MAX_DESCRIPTION,
                        required_msg=_("Describe what the complaint is about."))
    institution_named = _text(institution_named, "institution_named", errors, limit=MAX_NAMED,
                              required_msg=_("Name the institution the complaint is about."))
    staff_named = _text(staff_named, "staff_named", errors, limit=MAX_NAMED)
    name, phone, id_number = _personal_data(name, phone, id_number, anonymous, errors,
                                            required=True)
    if errors:
        raise Invalid(errors)
    today = clock.today()
    complaint = Complaint(
        channel="web", category=category, description=description,
        institution_named=institution_named, staff_named=staff_named, received_on=today,
        deadline=_deadline(today), anonymous=bool(anonymous))
    return _store(complaint, name, phone, id_number)


@dataclass(frozen=True)
class PublicStatus:
    """All the public tracking page shows: nothing personal, no staff or handler."""

    state: str
    state_label: str
    received_on: date
    reply: str | None


def public_status(tracking_code: str | None) -> PublicStatus:
    """The status of the complaint with this code; NotFound (the same for any wrong code)."""
    code = normalise_code(tracking_code)
    if len(code) != CODE_LENGTH:
        raise NotFound()
    row = db.session.execute(
        sa.select(Complaint.state, Complaint.received_on, Complaint.reply)
        .where(Complaint.tracking_code == code)).one_or_none()
    if row is None:
        raise NotFound()
    state, received_on, reply = row
    shown = reply if state in ("replied", "closed") else None
    return PublicStatus(state, str(state_label(state, complaint_workflow.NAME)), received_on,
                        shown)


# --- reading ----------------------------------------------------------------------

# States in which the complaint is still being handled: the deadline runs (the machine's).
OPEN_STATES = complaint_workflow.OPEN_STATES


def is_overdue(complaint, today: date | None = None) -> bool:
    """Still being handled and past its handling deadline."""
    return complaint.state in OPEN_STATES and complaint.deadline < (today or clock.today())


@dataclass(frozen=True)
class ComplaintFilters:
    state: str | None = None
    category: str | None = None
    channel: str | None = None
    overdue: bool = False
    institution_id: int | None = None
    # Part of an institution's name (the filter typed without choosing from the list).
    institution: str | None = None


# The list's order: the open ones (state_rank 0, see LIST_RANK) by nearest deadline, then
# the closed ones; newest first within a day. Served by ix_complaint_list_order.
LIST_KEYS = [Key(Complaint.state_rank), Key(Complaint.deadline),
             Key(Complaint.id, descending=True)]


def _filtered(actor, filters: ComplaintFilters) -> sa.Select:
    """The complaints the filters choose, not yet ordered (see LIST_KEYS)."""
    query = (sa.select(Complaint)
             .options(joinedload(Complaint.institution), joinedload(Complaint.handler),
                      joinedload(Complaint.staff)))
    query = policy.visible_complaints(query, actor, Complaint)
    if filters.overdue:
        # The open states all rank 0: said twice so the index on the rank serves it.
        query = query.where(Complaint.state.in_(OPEN_STATES),
                            Complaint.state_rank == LIST_RANK[OPEN_STATES[0]],
                            Complaint.deadline < clock.today())
    if filters.institution_id:
        query = query.where(Complaint.institution_id == filters.institution_id)
    elif filters.institution:
        query = query.where(Complaint.institution_id.in_(
            sa.select(Institution.id).where(
                Institution.name.icontains(filters.institution, autoescape=True))))
    errors = {}
    for field, allowed in (("state", complaint_workflow.STATES), ("category", CATEGORIES),
                           ("channel", CHANNELS)):
        value = getattr(filters, field)
        if value:
            if value not in allowed:
                errors[field] = [_("Unknown value.")]
            else:
                query = query.where(getattr(Complaint, field) == value)
                if field == "state":
                    query = query.where(Complaint.state_rank == LIST_RANK[value])
    if errors:
        raise Invalid(errors)
    return query


def list_complaints(actor, filters: ComplaintFilters, *, page: int | None = 1,
                    per_page: int = 50, after: str | None = None,
                    before: str | None = None) -> Page:
    """Complaints the actor may see (policy.visible_complaints): nearest deadline first
    among the open ones, then the finished ones, newest first. `filters.overdue`: only
    those still being handled past their deadline; `filters.institution_id` about that
    institution, else `filters.institution` about institutions whose name contains it.
    Keyset pages (see pagination.paginate_keyset: `after`/`before` cursors, the count
    capped). Raises Invalid (unknown filter, bad cursor)."""
    return paginate_keyset(_filtered(actor, filters), LIST_KEYS, per_page=per_page,
                           page=page, after=after, before=before)


def get_complaint(complaint_id: int, actor) -> Complaint:
    """The complaint, if it exists and the actor may see it; NotFound otherwise."""
    complaint = db.session.scalar(
        sa.select(Complaint).where(Complaint.id == complaint_id).options(
            joinedload(Complaint.institution).joinedload(Institution.region),
            joinedload(Complaint.handler), joinedload(Complaint.registered_by),
            joinedload(Complaint.staff)))
    if complaint is None or not policy.allows("complaint_view", actor, complaint):
        raise NotFound()
    return complaint


def complaint_history(complaint) -> list[HistoryEvent]:
    return history_of(complaint)


def available_triggers(complaint, actor) -> list[str]:
    return binding.available_triggers(complaint, actor)


def handler_choices(complaint) -> list[User]:
    """Active inspectors and coordinators who can take the complaint on."""
    candidates = db.session.scalars(
        sa.select(User).where(User.active.is_(True), User.role.in_(("inspector", "coordinator")))
        .options(joinedload(User.region)).order_by(User.display_name, User.id)).all()
    return [u for u in candidates if policy.allows("complaint_handler_eligible", u, complaint)]


# --- the machine ------------------------------------------------------------------

def fire_complaint(complaint_id: int, trigger: str, *, actor, version: int | None,
                   comment: str | None = None, handler_id: int | None = None,
                   outcome: str | None = None, findings: str | None = None,
                   department: str | None = None) -> HistoryEvent:
    """Fire a complaint trigger (see workflows/complaint.py) through binding.apply.

    assign needs `handler_id` (an active inspector or coordinator who can reach the
    complaint); conclude `outcome` and `findings`; reply the reply text (`comment`);
    transfer `department`. Raises Invalid (per field) before anything is tried, then
    the binding's errors (NotPermitted, IllegalTrigger, StaleObject, GuardFailed).
    """
    complaint = get_complaint(complaint_id, actor)
    if trigger not in complaint_workflow.TRIGGERS:
        raise IllegalTrigger(trigger, complaint.state, available_triggers(complaint, actor),
                             complaint_workflow.NAME)
    policy.check(f"complaint_{trigger}", actor, complaint)
    errors: dict[str, list[str]] = {}
    kwargs: dict = {}
    effects: dict = {}
    if trigger == "assign":
        handler = db.session.get(User, handler_id) if handler_id else None
        if handler is None or not policy.allows("complaint_handler_eligible", handler,
                                                complaint):
            errors["handler_id"] = [_("Choose an active inspector or coordinator who can "
                                      "reach this complaint.")]
        else:
            kwargs["handler_id"] = handler.id
            effects["handler_id"] = handler.id
    elif trigger == "conclude":
        if outcome not in complaint_workflow.OUTCOMES:
            errors["outcome"] = [_("Choose whether the complaint is substantiated.")]
        findings = _text(findings, "findings", errors, required_msg=_("Write what the "
                         "investigation found."))
        kwargs["outcome"] = outcome
        effects.update(outcome=outcome, findings=findings)
    elif trigger == "reply":
        comment = _text(comment, "comment", errors,
                        required_msg=_("Write the reply to the complainant."))
        effects["reply"] = comment
    elif trigger == "transfer":
        if department not in complaint_workflow.TRANSFER_DEPARTMENTS:
            errors["department"] = [_("Choose the department the complaint goes to.")]
        kwargs["department"] = department
        effects["transfer_department"] = department
    if trigger != "reply":
        _text(comment, "comment", errors, limit=2000)
    if errors:
        raise Invalid(errors)

    # A substantiated conclusion earns its points in the same commit (the machine
    # declares the effect: workflows/complaint.py EFFECTS, casework/effects.py).
    return binding.apply(complaint, trigger, actor=actor, version=version, comment=comment,
                         effects=effects, **kwargs)


# --- personal data ----------------------------------------------------------------

@dataclass(frozen=True)
class Complainant:
    name: str | None
    phone: str | None
    id_number: str | None


def masked_complainant(complaint) -> Complainant:
    """The complainant's details as everyone may see them: masked, never decrypted."""
    row = db.session.execute(
        sa.select(ComplainantDetails.name_masked, ComplainantDetails.phone_masked,
                  ComplainantDetails.id_number_masked)
        .where(ComplainantDetails.complaint_id == complaint.id)).one_or_none()
    return Complainant(*(row or (None, None, None)))


def reveal_personal_data(complaint_id: int, *, actor, purpose: str = "view",
                         ip: str | None = None) -> Complainant:
    """Decrypt the complainant's details for `actor` and log that they did.

    Only for policy complaint_personal_data_view (the coordinators in reach and the
    handler). The access row commits before the data is returned: no unlogged look.
    Raises NotFound, NotPermitted.
    """
    complaint = get_complaint(complaint_id, actor)
    policy.check("complaint_personal_data_view", actor, complaint)
    details = db.session.get(ComplainantDetails, complaint.id)
    with binding.unit_of_work():
        db.session.add(PersonalDataAccess(complaint_id=complaint.id, user_id=actor.id,
                                          at=clock.now(), purpose=purpose,
                                          ip=(ip or "")[:45] or None))
    if details is None:
        return Complainant(None, None, None)
    return Complainant(pd.decrypt(details.name_enc), pd.decrypt(details.phone_enc),
                       pd.decrypt(details.id_number_enc))


def personal_data_accesses(complaint, actor) -> list[PersonalDataAccess]:
    """Who looked at this complaint's personal data, for those who may look themselves."""
    if not policy.allows("complaint_personal_data_view", actor, complaint):
        return []
    return list(db.session.scalars(
        sa.select(PersonalDataAccess).where(PersonalDataAccess.complaint_id == complaint.id)
        .options(joinedload(PersonalDataAccess.user)).order_by(PersonalDataAccess.id.desc())))



def may_register(actor) -> bool:
    """Whether the actor may register complaints at all (about some institution or none)."""
    if policy.allows("complaint_register", actor, None):
        return True
    first = db.session.scalar(policy.visible_institutions(
        sa.select(Institution), actor, Institution).limit(1))
    return first is not None and policy.allows("complaint_register", actor, first)


# --- linking ----------------------------------------------------------------------

@dataclass
class LinkInput:
    """What the complaint is about, as found out: ids chosen, or a new staff member."""

    institution_id: int | None = None
    case_id: int | None = None
    finding_id: int | None = None
    staff_id: int | None = None
    new_staff_name: str | None = None
    new_staff_department: str | None = None
    new_staff_title: str | None = None


LINK_FIELDS = ("institution_id", "case_id", "finding_id", "staff_id")


def link_choices(complaint, actor) -> dict:
    """What the link form offers for the complaint's institution: its cases (with their
    findings) and active staff members (the institution itself is searched: the form's
    picker, institutions.services.pick_institution)."""
    from casework.cases.models import InspectionCase
    from casework.inspections.models import Finding
    from casework.institutions.models import StaffMember

    if not policy.allows("complaint_link", actor, complaint):
        return {}
    choices = {"cases": [], "findings": [], "staff": []}
    if complaint.institution_id is not None:
        choices["cases"] = list(db.session.scalars(
            sa.select(InspectionCase).where(
                InspectionCase.institution_id == complaint.institution_id)
            .options(joinedload(InspectionCase.campaign)).order_by(InspectionCase.id.desc())))
        choices["findings"] = list(db.session.scalars(
            sa.select(Finding).join(InspectionCase, InspectionCase.id == Finding.case_id)
            .where(InspectionCase.institution_id == complaint.institution_id)
            .options(joinedload(Finding.key_task)).order_by(Finding.case_id, Finding.id)))
        choices["staff"] = list(db.session.scalars(
            sa.select(StaffMember).where(StaffMember.institution_id == complaint.institution_id,
                                         StaffMember.active.is_(True))
            .order_by(StaffMember.name, StaffMember.id)))
    return choices


def link_complaint(complaint_id: int, data: LinkInput, *, actor,
                   version: int | None) -> Complaint:
    """Link the complaint to an institution (in the actor's jurisdiction), a case of that
    institution, a finding of that case and a staff member of that institution (an
    existing one, or a new one registered here). Fields left empty are unlinked.

    One history event "linked" with the old and new ids; nothing personal is read.
    A substantiated complaint linked after its conclusion earns the points it had not
    earned yet (points.award_for_complaint), in the same commit.
    Raises NotFound, NotPermitted (complaint_link), Invalid (per field), StaleObject.
    """
    from casework.cases.models import InspectionCase
    from casework.inspections.models import Finding
    from casework.institutions.models import StaffMember
    from casework.institutions.services import StaffInput, validate_staff
    from casework.points import services as points

    complaint = get_complaint(complaint_id, actor)
    policy.check("complaint_link", actor, complaint)
    errors: dict[str, list[str]] = {}
    institution = case = finding = staff = None
    if data.institution_id:
        institution = db.session.get(Institution, data.institution_id)
        if institution is None or not (policy.in_jurisdiction(actor, institution)
                                       or institution.id == complaint.institution_id):
            errors["institution_id"] = [_("Choose an institution in your jurisdiction.")]
            institution = None
    if data.case_id:
        case = db.session.get(InspectionCase, data.case_id)
        if case is None or institution is None or case.institution_id != institution.id:
            errors["case_id"] = [_("Choose a case of the linked institution.")]
            case = None
    if data.finding_id:
        finding = db.session.get(Finding, data.finding_id)
        if finding is None or case is None or finding.case_id != case.id:
            errors["finding_id"] = [_("Choose a finding of the linked case.")]
            finding = None
    new_name = (data.new_staff_name or "").strip()
    if data.staff_id and new_name:
        errors["staff_id"] = [_("Choose a staff member or add a new one, not both.")]
    elif data.staff_id:
        staff = db.session.get(StaffMember, data.staff_id)
        if staff is None or institution is None or staff.institution_id != institution.id:
            errors["staff_id"] = [_("Choose a staff member of the linked institution.")]
            staff = None
    elif new_name:
        if institution is None:
            errors["new_staff_name"] = [_("Link an institution before adding its staff "
                                          "member.")]
        elif not policy.allows("staff_manage", actor, institution):
            errors["new_staff_name"] = [_("You may not add staff members to this "
                                          "institution.")]
        else:
            try:
                staff_values = validate_staff(StaffInput(
                    name=new_name, department=data.new_staff_department,
                    title=data.new_staff_title))
            except Invalid as error:
                for field, messages in error.details["errors"].items():
                    errors[f"new_staff_{field}"] = messages
            else:
                staff = StaffMember(institution_id=institution.id, **staff_values)
    if errors:
        raise Invalid(errors)
    with binding.changing(Complaint, complaint.id, version=version) as locked:
        old = {f: getattr(locked, f) for f in LINK_FIELDS}
        if staff is not None and staff.id is None:
            db.session.add(staff)
            db.session.flush()
        locked.institution_id = institution.id if institution else None
        locked.case_id = case.id if case else None
        locked.finding_id = finding.id if finding else None
        locked.staff_id = staff.id if staff else None
        new = {f: getattr(locked, f) for f in LINK_FIELDS}
        db.session.flush()
        binding.record(locked, "linked", actor=actor,
                       data={**{f"old_{k}": v for k, v in old.items()},
                             **{f"new_{k}": v for k, v in new.items()}})
        if locked.state in ("concluded", "replied", "closed"):
            db.session.expire(locked, ["institution", "staff"])
            points.award_for_complaint(locked, actor)
    return complaint


# --- export -----------------------------------------------------------------------

EXPORT_LIMIT = 20000


@dataclass(frozen=True)
class ExportRow:
    complaint: Complaint
    complainant: Complainant
    overdue: bool


def export_complaints(actor, filters: ComplaintFilters, *, include_details: bool = False,
                      ip: str | None = None) -> list[ExportRow]:
    """The filtered list (at most EXPORT_LIMIT rows) with the complainants' details
    masked; with `include_details` (policy complaint_export_personal_data) decrypted
    wherever complaint_personal_data_view allows, one PersonalDataAccess row (purpose
    "export") per complaint decrypted, all committed before anything is returned.
    Raises NotPermitted, Invalid (unknown filter)."""
    policy.check("complaint_export", actor)
    if include_details:
        policy.check("complaint_export_personal_data", actor)
    ordered = _filtered(actor, filters).order_by(*(k.ordering for k in LIST_KEYS))
    complaints = list(db.session.scalars(ordered.limit(EXPORT_LIMIT)).unique())
    details = {d.complaint_id: d for d in db.session.scalars(
        sa.select(ComplainantDetails).where(
            ComplainantDetails.complaint_id.in_([c.id for c in complaints])))} \
        if complaints else {}
    today = clock.today()
    rows, logged = [], []
    for complaint in complaints:
        d = details.get(complaint.id)
        if d is None or complaint.anonymous:
            shown = Complainant(None, None, None)
        elif include_details and policy.allows("complaint_personal_data_view", actor,
                                               complaint):
            shown = Complainant(pd.decrypt(d.name_enc), pd.decrypt(d.phone_enc),
                                pd.decrypt(d.id_number_enc))
            logged.append(complaint.id)
        else:
            shown = Complainant(d.name_masked, d.phone_masked, d.id_number_masked)
        rows.append(ExportRow(complaint, shown, is_overdue(complaint, today)))
    if logged:
        at = clock.now()
        with binding.unit_of_work():
            db.session.add_all(
                PersonalDataAccess(complaint_id=i, user_id=actor.id, at=at, purpose="export",
                                   ip=(ip or "")[:45] or None)
                for i in logged)
    return rows
