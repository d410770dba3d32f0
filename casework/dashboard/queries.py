"""Building blocks shared by the dashboards and the campaign report.

Every figure is a grouped or conditionally aggregated query: the number of statements
stays the same whatever the number of orders, findings or complaints. Periods are local
dates (the configured zone); timestamps are compared with the UTC instants that bound
those local days.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from casework import clock, policy
from casework.cases.models import InspectionCase
from casework.dashboard.models import OrderDayFact
from casework.dbtypes import UTCDateTime
from casework.extensions import db
from casework.institutions.models import Institution, Region
from casework.orders.models import RectificationOrder

# A guard against wide queries: the campaign report refuses periods over five years.
MAX_MONTHS = 62  # a bit more than the five years check_period allows


def ts(value: datetime):
    """A timestamp bound with the column type, so SQLite and PostgreSQL compare alike."""
    return sa.literal(value, UTCDateTime())


@dataclass(frozen=True)
class Month:
    key: str          # "2021-04"
    first: date       # first day of the month within the range
    last: date        # last day of the month within the range

    @property
    def begins(self) -> datetime:
        return clock.start_of_day(self.first)

    @property
    def ends(self) -> datetime:
        """Exclusive: the instant the day after `last` begins."""
        return clock.start_of_day(self.last + timedelta(days=1))


def months(start: date, end: date) -> list[Month]:
    """The calendar months from `start` to `end`, the first and last clipped to the range."""
    result = []
    first = start
    while first <= end and len(result) < MAX_MONTHS:
        next_month = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
        last = min(next_month - timedelta(days=1), end)
        result.append(Month(first.strftime("%Y-%m"), first, last))
        first = next_month
    return result


def scope_ids(actor, campaign):
    """Ids of the institutions in the campaign's region that the actor may see."""
    region = aliased(Region)
    query = sa.select(Institution.id).where(Institution.region_id.in_(
        sa.select(region.id).where(region.path.startswith(campaign.region.path,
                                                          autoescape=True))))
    return policy.visible_institutions(query, actor, Institution)


def scoped_orders(campaign_id: int, actor, campaign):
    """The orders of the campaign in the actor's scope: id, institution, issue date,
    deadline and state (through the case's (campaign_id, institution_id) key)."""
    return (
        sa.select(
            RectificationOrder.id.label("id"),
            InspectionCase.institution_id.label("institution_id"),
            RectificationOrder.issued_on.label("issued_on"),
            RectificationOrder.deadline.label("deadline"),
            RectificationOrder.state.label("state"),
        )
        .join(InspectionCase, InspectionCase.id == RectificationOrder.case_id)
        .where(InspectionCase.campaign_id == campaign_id,
               InspectionCase.institution_id.in_(scope_ids(actor, campaign)))
    )


def among(column, ids):
    """`column IN (ids)` for a select of ids. On PostgreSQL written `= ANY(ARRAY(ids))`:
    the ids are computed first and looked up in the column's index, where a semi-join
    would be planned from an estimate (a campaign's share of all orders, easily off by
    a factor of five) and could read every order's history instead."""
    if db.engine.dialect.name == "postgresql":
        return column == sa.any_(sa.func.array(ids.scalar_subquery()))
    return column.in_(ids)


def count_if(condition):
    """COUNT of the rows meeting `condition` (CASE form: the same on every database)."""
    return sa.func.count(sa.case((condition, 1)))


def sum_if(value, condition):
    return sa.func.coalesce(sa.func.sum(sa.case((condition, value), else_=0)), 0)


def periods_table(periods: list[Month], today: date):
    """The periods as rows (idx, first, last, begins, ends, day, after), a union of literal
    rows: `day` is the day "overdue" is judged on (the period's last day, or today if that
    is earlier) and `after` the instant that day ends."""
    rows = []
    for idx, m in enumerate(periods):
        day = min(m.last, today)
        rows.append(sa.select(
            sa.literal(idx, sa.Integer).label("idx"),
            sa.literal(m.first, sa.Date).label("first"),
            sa.literal(m.last, sa.Date).label("last"),
            ts(m.begins).label("begins"), ts(m.ends).label("ends"),
            sa.literal(day, sa.Date).label("day"),
            ts(clock.start_of_day(day + timedelta(days=1))).label("after")))
    return (sa.union_all(*rows) if len(rows) > 1 else rows[0]).subquery("period")


def order_counts(campaign, actor, periods: list[Month], today: date) -> list[tuple]:
    """Per period, (issued, closed, closed on time, overdue at its end) for the campaign's
    orders in the actor's scope, from the order facts (casework/dashboard/facts.py): two
    grouped reads of the facts' covering index, whatever the number of orders.

    Issued: issue date in the period. Closed: first closed in the period; on time: with
    no late submission. Overdue at the end of `day` (the period's last day, or today):
    the sum of the overdue deltas of every day up to it."""
    if not periods:
        return []
    p, f = periods_table(periods, today), OrderDayFact
    by_day = (sa.select(f.day.label("day"),
                        sa.func.sum(f.issued).label("issued"),
                        sa.func.sum(f.closed).label("closed"),
                        sa.func.sum(f.closed_on_time).label("on_time"),
                        sa.func.sum(f.overdue).label("overdue"))
              .where(f.campaign_id == campaign.id,
                     among(f.institution_id, scope_ids(actor, campaign)),
                     f.day <= sa.literal(periods[-1].last, sa.Date))
              .group_by(f.day)
              .cte("fact_day"))
    if db.engine.dialect.name == "postgresql":
        by_day = by_day.prefix_with("MATERIALIZED")
    d = by_day.c
    in_period = sa.and_(d.day >= p.c.first, d.day <= p.c.last)
    rows = db.session.execute(
        sa.select(p.c.idx,
                  sum_if(d.issued, in_period), sum_if(d.closed, in_period),
                  sum_if(d.on_time, in_period),
                  sum_if(d.overdue, d.day <= p.c.day))
        .select_from(p).join(by_day, d.day <= p.c.last)
        .group_by(p.c.idx)
    ).all()
    found = {r[0]: tuple(int(v) for v in r[1:]) for r in rows}
    return [found.get(i, (0, 0, 0, 0)) for i in range(len(periods))]
