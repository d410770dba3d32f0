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
from casework.dbtypes import UTCDateTime
from casework.extensions import db
from casework.history.models import HistoryEvent
from casework.institutions.models import Institution, Region
from casework.orders.models import RectificationOrder, Submission

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


@dataclass(frozen=True)
class OrderFacts:
    """`facts`: one row per order of the campaign in scope (see order_facts);
    `awaiting`: the spans during which an order was awaiting verification, by its history."""
    facts: sa.Subquery
    awaiting: sa.Subquery

    @property
    def c(self):
        return self.facts.c


def order_facts(campaign_id: int, actor, campaign) -> OrderFacts:
    """One row per order of the campaign in the actor's scope: institution, issue date,
    deadline, state, when it was closed and when it ended (closed or cancelled), whether
    any rectification was submitted late, when one was first submitted in time, and its
    first history event; with the spans it spent awaiting verification (see overdue_at).

    The orders are chosen first; history and submissions are read for those orders only,
    each in one grouped pass (no per-order subquery)."""
    orders = scoped_orders(campaign_id, actor, campaign).subquery("scoped_order")
    order_ids = sa.select(scoped_orders(campaign_id, actor, campaign).subquery().c.id)
    events = (sa.select(HistoryEvent.id, HistoryEvent.object_id, HistoryEvent.at,
                        HistoryEvent.from_state, HistoryEvent.to_state)
              .where(HistoryEvent.object_type == "order", among(HistoryEvent.object_id, order_ids))
              # Read once for both the grouped ends and the spans below.
              .cte("order_event").prefix_with("MATERIALIZED"))
    changed = events.c.from_state != events.c.to_state
    ends = (
        sa.select(
            events.c.object_id.label("order_id"),
            sa.func.min(sa.case((sa.and_(events.c.to_state == "closed", changed),
                                 events.c.at))).label("closed_at"),
            sa.func.min(sa.case((sa.and_(events.c.to_state.in_(("closed", "cancelled")),
                                         changed), events.c.at))).label("ended_at"),
            sa.func.min(events.c.at).label("first_at"),
        )
        .group_by(events.c.object_id)
        .subquery("order_end")
    )
    submitted = (
        sa.select(
            Submission.order_id.label("order_id"),
            count_if(Submission.late.is_(True)).label("late_count"),
            sa.func.min(sa.case((Submission.late.is_(False), Submission.submitted_at)))
            .label("submitted_in_time"),
        )
        .where(among(Submission.order_id, order_ids))
        .group_by(Submission.order_id)
        .subquery("order_submission")
    )
    facts = (
        sa.select(
            orders.c.id, orders.c.institution_id, orders.c.issued_on, orders.c.deadline,
            orders.c.state,
            ends.c.closed_at.label("closed_at"),
            ends.c.ended_at.label("ended_at"),
            ends.c.first_at.label("first_at"),
            (sa.func.coalesce(submitted.c.late_count, 0) > 0).label("late"),
            sa.type_coerce(submitted.c.submitted_in_time, UTCDateTime())
            .label("submitted_in_time"),
        )
        .outerjoin(ends, ends.c.order_id == orders.c.id)
        .outerjoin(submitted, submitted.c.order_id == orders.c.id)
        # Computed once, before it meets the periods (else PostgreSQL may join every
        # period to every order before grouping the history).
        .cte("order_facts").prefix_with("MATERIALIZED")
    )
    # Awaiting verification: from an event moving the order to `submitted` until its next
    # event (history read in (at, id) order). A span (lo, hi] holds the instant t when
    # lo < t <= hi (hi null: up to now). The spans of one order never overlap.
    following = sa.func.lead(events.c.at).over(partition_by=events.c.object_id,
                                               order_by=(events.c.at, events.c.id))
    spans = (sa.select(events.c.object_id.label("order_id"), events.c.to_state,
                       events.c.at.label("lo"), following.label("hi"))
             .subquery("order_span"))
    awaiting = (sa.select(spans.c.order_id, spans.c.lo, spans.c.hi)
                .where(spans.c.to_state == "submitted").subquery("awaiting"))
    return OrderFacts(facts, awaiting)


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


def order_counts(facts: OrderFacts, periods: list[Month], today: date) -> list[tuple]:
    """Per period, (issued, closed, closed on time, overdue at its end): one grouped query.

    Issued: issue date in the period. Closed: first closed in the period; on time: with
    no late submission. Overdue at the end of `day` (the period's last day, or today):
    issued, deadline before it, not closed or cancelled by then, and not awaiting
    verification then (a rectification submitted and not yet verified is the inspector's
    move, not the institution's delay).

    Awaiting verification is read from the order's history: its last event by then moved
    it to `submitted`. A submission the inspector returned leaves the order overdue once
    its deadline has passed, as the order machine has it. Orders with no history by then
    (seeded data) fall back to "a rectification was submitted in time by then"."""
    if not periods:
        return []
    p, f, a = periods_table(periods, today), facts.facts, facts.awaiting
    issued = sa.and_(f.c.issued_on >= p.c.first, f.c.issued_on <= p.c.last)
    closed = sa.and_(f.c.closed_at >= p.c.begins, f.c.closed_at < p.c.ends)
    open_late = sa.and_(f.c.issued_on <= p.c.day, f.c.deadline < p.c.day,
                        sa.or_(f.c.ended_at.is_(None), f.c.ended_at >= p.c.after))
    # No history by then (seeded data): awaiting if submitted in time by then.
    awaiting_unlogged = sa.and_(f.c.submitted_in_time.is_not(None),
                                f.c.submitted_in_time < p.c.after,
                                sa.or_(f.c.first_at.is_(None), f.c.first_at >= p.c.after))
    # At most one span matches a (period, order): the join adds no rows.
    rows = db.session.execute(
        sa.select(p.c.idx, count_if(issued), count_if(closed),
                  count_if(sa.and_(closed, f.c.late.is_(False))),
                  count_if(sa.and_(open_late, a.c.order_id.is_(None),
                                   sa.not_(awaiting_unlogged))))
        .select_from(p)
        .join(f, sa.or_(issued, closed, open_late))
        .outerjoin(a, sa.and_(a.c.order_id == f.c.id, open_late, a.c.lo < p.c.after,
                              sa.or_(a.c.hi.is_(None), a.c.hi >= p.c.after)))
        .group_by(p.c.idx)
    ).all()
    found = {r[0]: tuple(r[1:]) for r in rows}
    return [found.get(i, (0, 0, 0, 0)) for i in range(len(periods))]
