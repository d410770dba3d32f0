"""Which institutions are over their bad-conduct points threshold in a year.

    over = over_threshold(2026)   # {institution_id: OverThreshold(...)}

An institution is over when its own entries (staff_id NULL) add up to at least the
setting "points_threshold_institution", or when one of its staff members' entries add up
to at least "points_threshold_staff". Reversals are entries of the opposite sign, so
plain sums are the totals. Two grouped queries and one settings query, whatever the
number of entries (indexes: points_entry (institution_id, year), (staff_id, year)).
"""

from dataclasses import dataclass, field

import sqlalchemy as sa

from casework.extensions import db
from casework.points.models import PointsEntry
from casework.settings import services as settings


@dataclass
class OverThreshold:
    institution_id: int
    year: int
    institution_points: int = 0          # the institution's own total
    institution_threshold: int = 0
    staff_threshold: int = 0
    # (staff_id, total) of each staff member at or over the staff threshold.
    staff: list[tuple[int, int]] = field(default_factory=list)

    @property
    def institution_over(self) -> bool:
        return self.institution_points >= self.institution_threshold


def over_threshold(year: int, institution_ids=None) -> dict[int, OverThreshold]:
    """The institutions over a points threshold in `year`, by institution id.

    `institution_ids` (an iterable or a SELECT of ids) limits the answer, e.g. to a
    jurisdiction; None: every institution.
    """
    values = settings.current()
    limit_inst = values["points_threshold_institution"]
    limit_staff = values["points_threshold_staff"]
    total = sa.func.sum(PointsEntry.points)

    own = (sa.select(PointsEntry.institution_id, total)
           .where(PointsEntry.year == year, PointsEntry.staff_id.is_(None))
           .group_by(PointsEntry.institution_id).having(total >= limit_inst))
    staff = (sa.select(PointsEntry.institution_id, PointsEntry.staff_id, total)
             .where(PointsEntry.year == year, PointsEntry.staff_id.is_not(None))
             .group_by(PointsEntry.institution_id, PointsEntry.staff_id)
             .having(total >= limit_staff))
    if institution_ids is not None:
        own = own.where(PointsEntry.institution_id.in_(institution_ids))
        staff = staff.where(PointsEntry.institution_id.in_(institution_ids))

    result: dict[int, OverThreshold] = {}

    def entry(institution_id):
        if institution_id not in result:
            result[institution_id] = OverThreshold(institution_id, year,
                                                   institution_threshold=limit_inst,
                                                   staff_threshold=limit_staff)
        return result[institution_id]

    for institution_id, points in db.session.execute(own):
        entry(institution_id).institution_points = int(points)
    for institution_id, staff_id, points in db.session.execute(
            staff.order_by(PointsEntry.institution_id, PointsEntry.staff_id)):
        entry(institution_id).staff.append((staff_id, int(points)))
    return result


def _setting(key: str):
    """A setting's value inside SQL (its default when not stored): a scalar subquery."""
    from casework.settings.models import Setting

    stored = (sa.select(sa.cast(sa.cast(Setting.value, sa.String), sa.Integer))
              .where(Setting.key == key).scalar_subquery())
    return sa.func.coalesce(stored, settings.DEFINITIONS[key].default)


def over_threshold_subquery(year: int, institution_ids=None):
    """`over_threshold` as SQL, for queries that build on it (the escalation queue).

    A subquery of the institutions over a threshold in `year`, one row each:
    institution_id, institution_points (own total), staff_over (how many staff members
    are at or over theirs), crossed_on (the first day one of the two totals reached its
    threshold: running sums in (awarded_on, id) order), institution_threshold,
    staff_threshold. The settings are read inside the query, so it is one statement.
    """
    limit_inst = _setting("points_threshold_institution")
    limit_staff = _setting("points_threshold_staff")
    total = sa.func.sum(PointsEntry.points)

    def scoped(query):
        query = query.where(PointsEntry.year == year)
        if institution_ids is not None:
            query = query.where(PointsEntry.institution_id.in_(institution_ids))
        return query

    own = scoped(sa.select(PointsEntry.institution_id, total.label("points"))
                 .where(PointsEntry.staff_id.is_(None))
                 .group_by(PointsEntry.institution_id)).subquery("own")
    staff = scoped(sa.select(PointsEntry.institution_id, PointsEntry.staff_id)
                   .where(PointsEntry.staff_id.is_not(None))
                   .group_by(PointsEntry.institution_id, PointsEntry.staff_id)
                   .having(total >= limit_staff)).subquery("staff_totals")
    staff_over = (sa.select(staff.c.institution_id, sa.func.count().label("n"))
                  .group_by(staff.c.institution_id).subquery("staff_over"))
    running = scoped(sa.select(
        PointsEntry.institution_id, PointsEntry.staff_id, PointsEntry.awarded_on,
        total.over(partition_by=(PointsEntry.institution_id, PointsEntry.staff_id),
                   order_by=(PointsEntry.awarded_on, PointsEntry.id)).label("total"))
    ).subquery("running")
    crossed = (sa.select(running.c.institution_id,
                         sa.func.min(running.c.awarded_on).label("crossed_on"))
               .where(running.c.total >= sa.case((running.c.staff_id.is_(None), limit_inst),
                                                 else_=limit_staff))
               .group_by(running.c.institution_id).subquery("crossed"))
    over = sa.union(
        sa.select(own.c.institution_id).where(own.c.points >= limit_inst),
        sa.select(staff_over.c.institution_id)).subquery("over")
    return (sa.select(
        over.c.institution_id,
        sa.func.coalesce(own.c.points, 0).label("institution_points"),
        sa.func.coalesce(staff_over.c.n, 0).label("staff_over"),
        crossed.c.crossed_on,
        limit_inst.label("institution_threshold"), limit_staff.label("staff_threshold"))
        .select_from(over)
        .outerjoin(own, own.c.institution_id == over.c.institution_id)
        .outerjoin(staff_over, staff_over.c.institution_id == over.c.institution_id)
        .outerjoin(crossed, crossed.c.institution_id == over.c.institution_id)
        .subquery("over_threshold"))
