"""Regions and institutions as seen by an actor."""

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
