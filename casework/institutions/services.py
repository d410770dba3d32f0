"""Regions and institutions as seen by an actor."""

import sqlalchemy as sa

from casework.extensions import db
from casework.institutions.models import Region


def visible_regions(actor) -> list[Region]:
    """The actor's region and everything below it, in tree order (for filters)."""
    region = getattr(actor, "region", None)
    if getattr(actor, "role", None) not in ("coordinator", "inspector", "viewer") or not region:
        return []
    return list(db.session.scalars(
        sa.select(Region).where(Region.path.startswith(region.path, autoescape=True))
        .order_by(Region.path)
    ))
