"""Bad-conduct points (不良积分): configurable rules (what a substantiated complaint or a finding is worth), the
append-only ledger (automatic awards, manual awards, reversals) and the threshold
notices. Automatic awards are keyed by `source_key`, so a complaint or finding earns its
points once however often the hook runs; they are added to the caller's transaction
(award_for_complaint, award_for_findings) and commit with the change that caused them.

Notifications (kind, key, params; link /points/institutions/<id>?year=<year>):
* points_threshold_institution, "points:<institution>:<year>:threshold",
  {institution, year, total, threshold}: to the coordinators over the institution;
* points_threshold_staff, "points:<institution>:<year>:staff:<staff>:threshold",
  {institution, staff, year, total, threshold}: to the same.
"""

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from casework import clock, policy, validation
from casework.complaints.models import CATEGORIES, Complaint
from casework.errors import GuardFailed, Invalid, NotFound, StaleObject
from casework.extensions import db
from casework.institutions.models import Institution, StaffMember
from casework.institutions.services import get_institution
from casework.notifications.services import Notice, notify
from casework.oversight.models import VetoFlag
from casework.points.models import POINTS_SOURCES, PointsEntry, PointsRule
from casework.settings import services as settings
from workflows import binding

MAX_CODE = 40
MAX_DESCRIPTION = 300
MAX_REASON = 2000
MAX_POINTS = 100


# --- helpers ----------------------------------------------------------------------------

_text = validation.text


def _whole(value, field, errors, *, minimum, maximum):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        errors[field] = [_("Enter a whole number.")]
        return None
    if not minimum <= number <= maximum:
        errors[field] = [_("Enter a number from %(min)d to %(max)d.", min=minimum,
                           max=maximum)]
        return None
    return number




# --- rules -----------------------------------------------------------------------------

@dataclass
class RuleInput:
    source: str | None
    category: str | None
    institution_points: object
    staff_points: object
    description: str | None
    description_en: str | None = None


def list_rules(actor) -> list[PointsRule]:
    policy.check("points_rules_view", actor)
    return list(db.session.scalars(sa.select(PointsRule).order_by(
        PointsRule.active.desc(), PointsRule.source, PointsRule.category, PointsRule.id)))


def get_rule(rule_id: int, actor) -> PointsRule:
    policy.check("points_rules_view", actor)
    rule = db.session.get(PointsRule, rule_id)
    if rule is None:
        raise NotFound()
    return rule


def _validate_rule(data: RuleInput) -> dict:
    errors: dict[str, list[str]] = {}
    if data.source not in POINTS_SOURCES:
        errors["source"] = [_("Choose what the rule applies to.")]
    category = (data.category or "").strip() or None
    if category and data.source == "complaint" and category not in CATEGORIES:
        errors["category"] = [_("Choose a complaint category, or any.")]
    elif category and len(category) > 64:
        errors["category"] = [_("At most %(max)d characters.", max=64)]
    institution_points = _whole(data.institution_points, "institution_points", errors,
                                minimum=0, maximum=MAX_POINTS)
    staff_points = _whole(data.staff_points, "staff_points", errors, minimum=0,
                          maximum=MAX_POINTS)
    if (institution_points == 0 and staff_points == 0 and "institution_points" not in errors
            and "staff_points" not in errors):
        errors["institution_points"] = [_("A rule gives points to the institution, its "
                                          "staff member or both.")]
    description = _text(data.description, "description", errors, limit=MAX_DESCRIPTION,
                        required_msg=_("Describe what the points are for."))
    description_en = _text(data.description_en, "description_en", errors,
                           limit=MAX_DESCRIPTION)
    if errors:
        raise Invalid(errors)
    return dict(source=data.source, category=category, institution_points=institution_points,
                staff_points=staff_points, description=description,
                description_en=description_en)


def add_rule(data: RuleInput, *, actor, code: str | None = None) -> PointsRule:
    """A new active rule. Raises NotPermitted (points_rules_manage), Invalid."""
    policy.check("points_rules_manage", actor)
    values = _validate_rule(data)
    rule = PointsRule(code=code or f"{values['source']}-{secrets.token_hex(6)}",
                      active=True, updated_by_id=actor.id, updated_at=clock.now(), **values)
    with binding.unit_of_work():
        db.session.add(rule)
    return rule


def update_rule(rule_id: int, data: RuleInput, *, actor, active: bool = True) -> PointsRule:
    """Change a rule (points already awarded stay as they are). `active` False
    deactivates it. Raises NotFound, NotPermitted, Invalid."""
    rule = get_rule(rule_id, actor)
    policy.check("points_rules_manage", actor)
    values = _validate_rule(data)
    with binding.unit_of_work():
        for key, value in values.items():
            setattr(rule, key, value)
        rule.active = bool(active)
        rule.updated_by_id, rule.updated_at = actor.id, clock.now()
    return rule


def set_rule_active(rule_id: int, active: bool, *, actor) -> PointsRule:
    """Deactivate (or reactivate) a rule. Raises NotFound, NotPermitted."""
    rule = get_rule(rule_id, actor)
    policy.check("points_rules_manage", actor)
    with binding.unit_of_work():
        rule.active = bool(active)
        rule.updated_by_id, rule.updated_at = actor.id, clock.now()
    return rule


# --- awarding --------------------------------------------------------------------------

def _year_total(institution_id: int, year: int, staff_id: int | None) -> int:
    query = sa.select(sa.func.coalesce(sa.func.sum(PointsEntry.points), 0)).where(
        PointsEntry.institution_id == institution_id, PointsEntry.year == year)
    query = query.where(PointsEntry.staff_id.is_(None) if staff_id is None
                        else PointsEntry.staff_id == staff_id)
    return int(db.session.scalar(query))


def _coordinators_over(institution_id: int) -> list[int]:
    from casework.jobs.sweeping import coordinator_ids

    return coordinator_ids([institution_id]).get(institution_id, [])


def _name(zh, en):
    return {"zh_CN": zh, "en": en} if en else zh


def _threshold_notices(entries: list[PointsEntry]) -> int:
    """Notify the coordinators over each institution whose year total (or one of whose
    staff members' year total) the new `entries` brought to its threshold. Keyed per
    institution (and staff member) and year: told once a year."""
    if not entries:
        return 0
    db.session.flush()
    limit_institution = settings.get("points_threshold_institution")
    limit_staff = settings.get("points_threshold_staff")
    notices = []
    seen = set()
    for entry in entries:
        if entry.points <= 0:
            continue
        key = (entry.institution_id, entry.year, entry.staff_id)
        if key in seen:
            continue
        seen.add(key)
        total = _year_total(entry.institution_id, entry.year, entry.staff_id)
        limit = limit_institution if entry.staff_id is None else limit_staff
        if total < limit:
            continue
        institution = db.session.get(Institution, entry.institution_id)
        params = {"institution": _name(institution.name, institution.name_en),
                  "year": entry.year, "total": total, "threshold": limit}
        link = f"/points/institutions/{entry.institution_id}?year={entry.year}"
        if entry.staff_id is None:
            kind, notice_key = ("points_threshold_institution",
                                f"points:{entry.institution_id}:{entry.year}:threshold")
        else:
            staff = db.session.get(StaffMember, entry.staff_id)
            params["staff"] = staff.name
            kind, notice_key = ("points_threshold_staff",
                                f"points:{entry.institution_id}:{entry.year}:staff:"
                                f"{entry.staff_id}:threshold")
        notices += [Notice(u, notice_key, kind, params, link)
                    for u in _coordinators_over(entry.institution_id)]
    return notify(notices)


def _existing_keys(keys) -> set[str]:
    keys = list(keys)
    if not keys:
        return set()
    return set(db.session.scalars(sa.select(PointsEntry.source_key)
                                  .where(PointsEntry.source_key.in_(keys))))


def _matching_rules(source: str, categories) -> list[PointsRule]:
    categories = {c for c in categories if c}
    return list(db.session.scalars(
        sa.select(PointsRule).where(
            PointsRule.source == source, PointsRule.active.is_(True),
            sa.or_(PointsRule.category.is_(None), PointsRule.category.in_(categories)))
        .order_by(PointsRule.id)))


def _add_awards(candidates: list[tuple[str, dict]], actor, event: str) -> list[PointsEntry]:
    existing = _existing_keys(key for key, _values in candidates)
    entries = []
    for key, values in candidates:
        if key in existing:
            continue
        entry = PointsEntry(source_key=key, created_by_id=getattr(actor, "id", None),
                            created_at=clock.now(), **values)
        db.session.add(entry)
        entries.append(entry)
    if entries:
        db.session.flush()
        for entry in entries:
            binding.record(entry, event, actor=actor, data={"points": entry.points,
                                                            "source_key": entry.source_key})
        _threshold_notices(entries)
    return entries


def award_for_complaint(complaint: Complaint, actor) -> list[PointsEntry]:
    """Award the points of every active complaint rule matching a substantiated
    complaint's category: institution_points to its institution, staff_points to its
    linked staff member (if any). Adds to the session without committing (the caller
    commits with the conclusion or the link); once per complaint, rule and subject."""
    if complaint.outcome != "substantiated" or complaint.institution_id is None:
        return []
    today = clock.today()
    candidates = []
    for rule in _matching_rules("complaint", [complaint.category]):
        base = dict(institution_id=complaint.institution_id, year=today.year,
                    awarded_on=today, rule_id=rule.id, complaint_id=complaint.id,
                    reason=rule.description)
        if rule.institution_points:
            candidates.append((f"complaint:{complaint.id}:{rule.id}:institution",
                               {**base, "points": rule.institution_points}))
        if rule.staff_points and complaint.staff_id is not None:
            candidates.append((f"complaint:{complaint.id}:{rule.id}:staff:{complaint.staff_id}",
                               {**base, "points": rule.staff_points,
                                "staff_id": complaint.staff_id}))
    return _add_awards(candidates, actor, "award")


def award_for_findings(inspection, actor) -> list[PointsEntry]:
    """Award the points of the active finding rules for each finding of a finalised
    inspection whose key task's code matches (or any): institution_points to the case's
    institution. Adds to the session; the caller commits with the finalisation."""
    from casework.campaigns.models import KeyTask
    from casework.cases.models import InspectionCase
    from casework.inspections.models import Finding

    rows = db.session.execute(
        sa.select(Finding.id, KeyTask.code, InspectionCase.institution_id)
        .join(KeyTask, KeyTask.id == Finding.key_task_id)
        .join(InspectionCase, InspectionCase.id == Finding.case_id)
        .where(Finding.inspection_id == inspection.id).order_by(Finding.id)).all()
    if not rows:
        return []
    rules = _matching_rules("finding", {r.code for r in rows})
    today = clock.today()
    candidates = [
        (f"finding:{r.id}:{rule.id}:institution",
         dict(institution_id=r.institution_id, year=today.year, awarded_on=today,
              rule_id=rule.id, finding_id=r.id, reason=rule.description,
              points=rule.institution_points))
        for r in rows for rule in rules
        if rule.institution_points and rule.category in (None, r.code)]
    return _add_awards(candidates, actor, "award")


def award_manually(institution_id: int, *, actor, points, reason: str | None,
                   staff_id: int | None = None) -> PointsEntry:
    """A coordinator's award to the institution or one of its staff members (this year).
    Raises NotFound, NotPermitted (points_award), Invalid."""
    institution = get_institution(institution_id, actor, "points_award")
    errors: dict[str, list[str]] = {}
    points = _whole(points, "points", errors, minimum=1, maximum=MAX_POINTS)
    reason = _text(reason, "reason", errors, limit=MAX_REASON,
                   required_msg=_("Give the reason for the points."))
    if staff_id is not None:
        staff = db.session.get(StaffMember, staff_id)
        if staff is None or staff.institution_id != institution.id:
            errors["staff_id"] = [_("Choose a staff member of this institution.")]
    if errors:
        raise Invalid(errors)
    today = clock.today()
    entry = PointsEntry(institution_id=institution.id, staff_id=staff_id, year=today.year,
                        awarded_on=today, points=points, reason=reason,
                        created_by_id=actor.id, created_at=clock.now())
    with binding.unit_of_work():
        db.session.add(entry)
        db.session.flush()
        binding.record(entry, "award", actor=actor, comment=reason, data={"points": points})
        _threshold_notices([entry])
    return entry


def reverse_entry(entry_id: int, *, actor, reason: str | None) -> PointsEntry:
    """Cancel an entry by a negative one naming it, once; the reason is required.
    Raises NotFound, NotPermitted (points_reverse), Invalid, GuardFailed (a reversal,
    or already reversed), StaleObject (reversed meanwhile by someone else)."""
    entry = db.session.scalar(sa.select(PointsEntry).where(PointsEntry.id == entry_id)
                              .options(joinedload(PointsEntry.institution)
                                       .joinedload(Institution.region)))
    if entry is None or not policy.allows("points_view", actor, entry.institution):
        raise NotFound()
    policy.check("points_reverse", actor, entry)
    errors: dict[str, list[str]] = {}
    reason = _text(reason, "reason", errors, limit=MAX_REASON,
                   required_msg=_("Give the reason for the reversal."))
    if errors:
        raise Invalid(errors)
    if entry.reverses_id is not None:
        raise GuardFailed([_("A reversal cannot be reversed.")])
    if db.session.scalar(sa.select(PointsEntry.id).where(PointsEntry.reverses_id == entry.id)):
        raise GuardFailed([_("This entry has already been reversed.")])
    today = clock.today()
    reversal = PointsEntry(institution_id=entry.institution_id, staff_id=entry.staff_id,
                           year=entry.year, awarded_on=today, points=-entry.points,
                           reason=reason, reverses_id=entry.id, reversal_reason=reason,
                           created_by_id=actor.id, created_at=clock.now())
    try:
        with binding.unit_of_work():
            db.session.add(reversal)
            db.session.flush()
            binding.record(entry, "reverse", actor=actor, comment=reason,
                           data={"points": entry.points, "reversal_id": reversal.id})
    except sa.exc.IntegrityError:
        # Reversed meanwhile by someone else (reverses_id is unique); the unit rolled back.
        raise StaleObject() from None
    return reversal


# --- reading ---------------------------------------------------------------------------

@dataclass
class Ledger:
    institution: Institution
    year: int
    years: list[int]
    institution_entries: list[PointsEntry]
    staff_entries: list[PointsEntry]
    reversed: dict          # {entry id: its reversal}
    institution_total: int
    staff_totals: list      # [(staff member, total)], highest first
    veto: VetoFlag | None
    staff: list[StaffMember]


def ledger(institution_id: int, actor, year: int | None = None) -> Ledger:
    """An institution's entries for `year` (this year by default), its totals and its
    staff members' totals. Raises NotFound (not visible), NotPermitted."""
    institution = get_institution(institution_id, actor, "points_view")
    this_year = clock.today().year
    year = year or this_year
    entries = list(db.session.scalars(
        sa.select(PointsEntry).where(PointsEntry.institution_id == institution.id,
                                     PointsEntry.year == year)
        .options(joinedload(PointsEntry.staff), joinedload(PointsEntry.rule),
                 joinedload(PointsEntry.created_by))
        .order_by(PointsEntry.awarded_on, PointsEntry.id)))
    years = sorted(set(db.session.scalars(
        sa.select(PointsEntry.year).where(PointsEntry.institution_id == institution.id)
        .distinct())) | {this_year, year}, reverse=True)
    reversed_ = {e.reverses_id: e for e in entries if e.reverses_id is not None}
    staff_totals: dict[int, list] = {}
    for e in entries:
        if e.staff_id is not None:
            staff_totals.setdefault(e.staff_id, [e.staff, 0])[1] += e.points
    veto = db.session.scalar(sa.select(VetoFlag).where(
        VetoFlag.institution_id == institution.id, VetoFlag.year == year,
        VetoFlag.revoked_at.is_(None)).limit(1))
    staff = list(db.session.scalars(sa.select(StaffMember).where(
        StaffMember.institution_id == institution.id, StaffMember.active.is_(True))
        .order_by(StaffMember.name, StaffMember.id)))
    return Ledger(
        institution=institution, year=year, years=years,
        institution_entries=[e for e in entries if e.staff_id is None],
        staff_entries=[e for e in entries if e.staff_id is not None],
        reversed=reversed_,
        institution_total=sum(e.points for e in entries if e.staff_id is None),
        staff_totals=sorted((tuple(v) for v in staff_totals.values()),
                            key=lambda t: (-t[1], t[0].name)),
        veto=veto, staff=staff)


def ledger_history(entries) -> list:
    """The history events of these entries (awards, reversals), newest first, one query."""
    from casework.history.models import HistoryEvent

    ids = [e.id for e in entries]
    if not ids:
        return []
    return list(db.session.scalars(
        sa.select(HistoryEvent).where(HistoryEvent.object_type == PointsEntry.workflow,
                                      HistoryEvent.object_id.in_(ids))
        .options(joinedload(HistoryEvent.actor)).order_by(HistoryEvent.id.desc())))


OVERVIEW_SORTS = ("name", "institution", "staff", "total")


@dataclass(frozen=True)
class OverviewRow:
    institution: Institution
    institution_points: int
    staff_points: int
    staff_max: int

    @property
    def total(self) -> int:
        return self.institution_points + self.staff_points


def overview(actor, year: int | None = None, sort: str = "institution") -> list[OverviewRow]:
    """Institutions in the actor's jurisdiction with their year totals (institution
    entries; staff entries summed, and the highest single staff member), in one query.
    Sorted by `sort` (highest first for the totals). Raises NotPermitted, Invalid."""
    policy.check("points_overview", actor)
    if sort not in OVERVIEW_SORTS:
        raise Invalid({"sort": [_("Unknown value.")]})
    year = year or clock.today().year
    per_staff = (sa.select(PointsEntry.institution_id, PointsEntry.staff_id,
                           sa.func.sum(PointsEntry.points).label("points"))
                 .where(PointsEntry.year == year, PointsEntry.staff_id.is_not(None))
                 .group_by(PointsEntry.institution_id, PointsEntry.staff_id).subquery())
    staff = (sa.select(per_staff.c.institution_id,
                       sa.func.sum(per_staff.c.points).label("points"),
                       sa.func.max(per_staff.c.points).label("most"))
             .group_by(per_staff.c.institution_id).subquery())
    own = (sa.select(PointsEntry.institution_id,
                     sa.func.sum(PointsEntry.points).label("points"))
           .where(PointsEntry.year == year, PointsEntry.staff_id.is_(None))
           .group_by(PointsEntry.institution_id).subquery())
    own_points = sa.func.coalesce(own.c.points, 0)
    staff_points = sa.func.coalesce(staff.c.points, 0)
    query = (sa.select(Institution, own_points, staff_points,
                       sa.func.coalesce(staff.c.most, 0))
             .outerjoin(own, own.c.institution_id == Institution.id)
             .outerjoin(staff, staff.c.institution_id == Institution.id)
             .options(joinedload(Institution.region)))
    query = policy.visible_institutions(query, actor, Institution)
    order = {"name": [Institution.name],
             "institution": [own_points.desc(), staff_points.desc(), Institution.name],
             "staff": [staff_points.desc(), own_points.desc(), Institution.name],
             "total": [(own_points + staff_points).desc(), Institution.name]}[sort]
    rows = db.session.execute(query.order_by(*order, Institution.id)).all()
    return [OverviewRow(i, int(a), int(b), int(c)) for i, a, b, c in rows]


def year_arg(value) -> int | None:
    """A year from the query string (2000–2100), or None."""
    try:
        year = int(value)
    except (TypeError, ValueError):
        return None
    return year if 2000 <= year <= 2100 else None


def entry_institution_id(entry_id: int, actor) -> int:
    """The institution of a ledger entry the actor may see; NotFound otherwise."""
    entry = db.session.get(PointsEntry, entry_id)
    if entry is None or not policy.allows("points_view", actor, entry.institution):
        raise NotFound()
    return entry.institution_id
