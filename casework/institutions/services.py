"""Regions and institutions as seen by an actor."""

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from casework import policy
from casework.errors import Invalid
from casework.extensions import db
from casework.institutions.models import Institution, Region


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
