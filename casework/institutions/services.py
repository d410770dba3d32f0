"""Regions and institutions as seen by an actor, and each institution's staff register.

Staff: a small register per institution (name, department, title, licence number,
active), kept by the coordinators and inspectors in jurisdiction; complaints link to it
and staff points land on it.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from casework import policy, validation
from casework.errors import Invalid, NotFound
from casework.extensions import db
from casework.institutions.models import Institution, Region, StaffMember
from workflows import binding

MAX_NAME = 100


def visible_regions(actor) -> list[Region]:
    """The actor's region and everything below it, in tree order (for filters)."""
    region = getattr(actor, "region", None)
    if getattr(actor, "role", None) not in ("coordinator", "inspector", "viewer") or not region:
        return []
    return list(db.session.scalars(
        sa.select(Region).where(Region.path.startswith(region.path, autoescape=True))
        .order_by(Region.path)
    ))


SEARCH_LIMIT = 20
SEARCH_MAX_LENGTH = 100


def search_institutions(actor, text: str | None, *, limit: int = SEARCH_LIMIT) -> list:
    """At most `limit` (≤ SEARCH_LIMIT) institutions the actor may see
    (policy.visible_institutions) whose name (Chinese or English) contains `text`: those
    starting with it first, then by name. Raises Invalid (empty or over-long text)."""
    text = " ".join((text or "").split())
    if not text:
        raise Invalid({"q": [_("Type part of the institution's name.")]})
    if len(text) > SEARCH_MAX_LENGTH:
        raise Invalid({"q": [_("At most %(n)d characters.", n=SEARCH_MAX_LENGTH)]})
    query = sa.select(Institution).where(sa.or_(
        Institution.name.icontains(text, autoescape=True),
        Institution.name_en.icontains(text, autoescape=True)))
    query = policy.visible_institutions(query, actor, Institution)
    starts = sa.case((Institution.name.istartswith(text, autoescape=True), 0), else_=1)
    query = query.order_by(starts, Institution.name, Institution.id)
    return list(db.session.scalars(query.limit(max(1, min(limit, SEARCH_LIMIT)))))


def get_institution(institution_id: int, actor, action: str) -> Institution:
    """The institution if it exists and `action` allows the actor on it; NotFound when the
    actor may not even see it (another hospital), NotPermitted when they may see but not
    do."""
    institution = db.session.scalar(
        sa.select(Institution).where(Institution.id == institution_id)
        .options(joinedload(Institution.region)))
    if institution is None or not (policy.allows("staff_view", actor, institution)
                                   or policy.allows("points_view", actor, institution)):
        raise NotFound()
    policy.check(action, actor, institution)
    return institution


# --- staff members ---------------------------------------------------------------------

@dataclass
class StaffInput:
    name: str | None
    department: str | None = None
    title: str | None = None
    licence_number: str | None = None
    active: bool = True


def list_staff(institution_id: int, actor, *, active_only: bool = False) -> tuple:
    """(institution, its staff members by name). Raises NotFound, NotPermitted."""
    institution = get_institution(institution_id, actor, "staff_view")
    query = (sa.select(StaffMember).where(StaffMember.institution_id == institution.id)
             .order_by(StaffMember.active.desc(), StaffMember.name, StaffMember.id))
    if active_only:
        query = query.where(StaffMember.active.is_(True))
    return institution, list(db.session.scalars(query))


def validate_staff(data: StaffInput) -> dict:
    """The column values of a staff member from `data`, checked (also for complaint
    linking, which may add a staff member inline). Raises Invalid (per field)."""
    errors: dict[str, list[str]] = {}
    values = {
        "name": validation.text(data.name, "name", errors, limit=MAX_NAME,
                      required_msg=_("Enter the staff member's name.")),
        "department": validation.text(data.department, "department", errors, limit=MAX_NAME),
        "title": validation.text(data.title, "title", errors, limit=MAX_NAME),
        "licence_number": validation.text(data.licence_number, "licence_number", errors, limit=40),
        "active": bool(data.active),
    }
    if errors:
        raise Invalid(errors)
    return values


def _new_staff(institution, data: StaffInput) -> StaffMember:
    member = StaffMember(institution_id=institution.id, **validate_staff(data))
    db.session.add(member)
    return member


def add_staff(institution_id: int, data: StaffInput, *, actor) -> StaffMember:
    """Register a staff member of the institution. Raises NotFound, NotPermitted, Invalid."""
    with binding.unit_of_work():
        institution = get_institution(institution_id, actor, "staff_manage")
        member = _new_staff(institution, data)
    return member


def get_staff(staff_id: int, actor) -> StaffMember:
    member = db.session.scalar(sa.select(StaffMember).where(StaffMember.id == staff_id)
                               .options(joinedload(StaffMember.institution)
                                        .joinedload(Institution.region)))
    if member is None or not policy.allows("staff_view", actor, member.institution):
        raise NotFound()
    return member


def update_staff(staff_id: int, data: StaffInput, *, actor) -> StaffMember:
    """Change a staff member's details or mark them (in)active. Raises NotFound,
    NotPermitted, Invalid."""
    with binding.unit_of_work():
        member = get_staff(staff_id, actor)
        policy.check("staff_manage", actor, member.institution)
        for key, value in validate_staff(data).items():
            setattr(member, key, value)
    return member


# --- the institution picker (forms and filters without a list of every institution) ----

@dataclass(frozen=True)
class Picked:
    """What an institution picker field holds: the chosen id (None: none), the text shown
    in it, and, when the typed text fits several or no institutions, the error and (at
    most SEARCH_LIMIT) the matching institutions to show without the script."""
    id: int | None = None
    text: str = ""
    error: str | None = None
    matches: tuple = ()


def visible_institution(actor, institution_id: int | None) -> Institution | None:
    """The institution with this id if the actor may see it, else None."""
    if not institution_id:
        return None
    query = sa.select(Institution).where(Institution.id == institution_id)
    return db.session.scalar(policy.visible_institutions(query, actor, Institution))


def pick_institution(actor, institution_id: int | None, text: str | None) -> Picked:
    """Read a picker: the hidden `institution_id` the suggestions (static/js/lists.js)
    filled, and the text typed into the field.

    The id counts while the text is still that institution's name or code, or when no
    text was sent at all (a link, a client posting only the id); a changed text, typed
    without the script, is read again, and a text sent empty means none. An id the actor
    may not see is
    passed on as it is: the service that receives it refuses it, as it always has. Text
    without an id (no script) picks the one institution the actor may see whose code or
    name it is, else the only one whose name contains it; otherwise `error` says so and
    `matches` lists at most SEARCH_LIMIT of them by code."""
    from casework.labels import localized

    emptied = text is not None and not text.strip()
    text = " ".join((text or "").split())[:200]
    if institution_id and not emptied:
        chosen = visible_institution(actor, institution_id)
        if chosen is None:
            return Picked(institution_id, text)
        if not text or text.casefold() in {
                v.casefold() for v in (chosen.name, chosen.name_en, chosen.code) if v}:
            return Picked(chosen.id, localized(chosen, "name"))
    if not text:
        return Picked()
    exact = sa.select(Institution).where(sa.or_(
        sa.func.lower(Institution.code) == text.lower(), Institution.name == text,
        Institution.name_en == text))
    found = list(db.session.scalars(
        policy.visible_institutions(exact, actor, Institution).limit(2)))
    if len(found) != 1:
        found = search_institutions(actor, text) if len(text) <= SEARCH_MAX_LENGTH else []
    if len(found) == 1:
        return Picked(found[0].id, localized(found[0], "name"))
    if not found:
        return Picked(None, text, _("No institution in your jurisdiction matches "
                                    "“%(text)s”.", text=text))
    return Picked(None, text, _("Several institutions match “%(text)s”: choose one of "
                                "the suggestions, or type its code.", text=text),
                  tuple(found))
