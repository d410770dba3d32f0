"""The toolbox every sweep shares: configured day lists, names for
notification params, who to tell, and keyset chunks.

A sweep (casework/jobs/registry.py) is `fn(at) -> summary`: it computes what is due up
to `at` on the local calendar (`clock.local_date(at)`) and creates what is missing, chunk by chunk (CHUNK rows,
a fixed number of queries each), each chunk one `binding.unit_of_work()` with its
notifications. A crash loses at most the chunk under way; the next run finishes it,
and the notifications' unique (user, key) make sure nothing is sent twice.
"""

from collections.abc import Iterable

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from casework import periods
from casework.extensions import db
from casework.institutions.models import Institution, Region
from casework.users.models import User

CHUNK = 500


def setting_days(name: str) -> tuple[int, ...]:
    """A configured list of days ("7,3,1"), largest first."""
    return periods.day_list(current_app.config[name])


def name(zh: str, en: str | None):
    """A name for notification params: the Chinese name, with its English one when the
    row has it ({"zh_CN": ..., "en": ...}), for the inbox to show in the reader's language."""
    return {"zh_CN": zh, "en": en} if en else zh


def coordinator_ids(institution_ids: Iterable[int]) -> dict[int, list[int]]:
    """{institution id: [active coordinators whose region contains it]} in one query."""
    ids = set(institution_ids)
    if not ids:
        return {}
    theirs, mine = aliased(Region), aliased(Region)
    result: dict[int, list[int]] = {}
    for user_id, institution_id in db.session.execute(
            sa.select(User.id, Institution.id)
            .join(theirs, theirs.id == Institution.region_id)
            .join(mine, theirs.path.startswith(mine.path))
            .join(User, User.region_id == mine.id)
            .where(Institution.id.in_(ids), User.role == "coordinator",
                   User.active.is_(True))
            .order_by(User.id)):
        result.setdefault(institution_id, []).append(user_id)
    return result


def region_user_ids(region_ids: Iterable[int], role: str) -> dict[int, list[int]]:
    """{region id: [active users of `role` whose region overlaps it]} in one query.

    Overlap as in policy: a district officer works a city-wide campaign, a city officer
    the district campaigns below the city.
    """
    ids = set(region_ids)
    if not ids:
        return {}
    mine = aliased(Region)
    result: dict[int, list[int]] = {}
    for user_id, region_id in db.session.execute(
            sa.select(User.id, Region.id)
            .join(mine, sa.or_(Region.path.startswith(mine.path),
                               mine.path.startswith(Region.path)))
            .join(User, User.region_id == mine.id)
            .where(Region.id.in_(ids), User.role == role, User.active.is_(True))
            .order_by(User.id)):
        result.setdefault(region_id, []).append(user_id)
    return result


def keyset_chunks(select: sa.Select, id_column, size: int | None = None):
    """Run `select` (whose first column is `id_column`) repeatedly, CHUNK rows at a time
    in id order, starting after the last id of the previous chunk.

    Keyset paging, not OFFSET: rows the previous chunk changed (or could not change)
    neither come back nor make the next chunk skip others. The caller wraps each chunk
    in `binding.unit_of_work()`, so the rows read (and locked) for it commit with it.
    """
    size = size or CHUNK
    last = None
    while True:
        query = select if last is None else select.where(id_column > last)
        rows = db.session.execute(query.order_by(id_column).limit(size)).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]
