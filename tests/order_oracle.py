"""The order counts computed live from the orders, their submissions and their history:
the dashboards' computation before the order facts (casework/dashboard/facts.py) held it.
Kept here as the oracle the facts are compared with (tests/dashboard/test_order_facts.py).
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from casework.dashboard.queries import (
    Month,
    among,
    count_if,
    periods_table,
    scoped_orders,
)
from casework.dbtypes import UTCDateTime
from casework.extensions import db
from casework.history.models import HistoryEvent
from casework.orders.models import Submission


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




def live_order_counts(facts: OrderFacts, periods: list[Month], today: date) -> list[tuple]:
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
