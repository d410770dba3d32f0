"""Building blocks shared by the dashboards and the campaign report.

Every figure is a grouped or conditionally aggregated query: the number of statements
stays the same whatever the number of orders, findings or complaints. Periods are local
dates (the configured zone); timestamps are compared with the UTC instants that bound
those local days.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from casework import clock, policy
from casework.cases.models import InspectionCase
from casework.dbtypes import UTCDateTime
from casework.history.models import HistoryEvent
from casework.institutions.models import Institution, Region
from casework.orders.models import RectificationOrder, Submission

# A guard against wide queries: the campaign report refuses periods over five years.
MAX_MONTHS = 62  # a bit more than the five years check_period allows


def instant(day: date) -> datetime:
    """The UTC instant at which the local `day` begins."""
    return datetime.combine(day, time.min, tzinfo=clock.zone()).astimezone(UTC)


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
        return instant(self.first)

    @property
    def ends(self) -> datetime:
        """Exclusive: the instant the day after `last` begins."""
        return instant(self.last + timedelta(days=1))


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


def order_facts(campaign_id: int, actor, campaign):
    """One row per order of the campaign in the actor's scope: institution, issue date,
    deadline, state, when it was closed and when it ended (closed or cancelled), and
    whether any rectification was submitted late, and when one was first submitted in time."""
    ends = (
        sa.select(
            HistoryEvent.object_id.label("order_id"),
            sa.func.min(sa.case((HistoryEvent.to_state == "closed", HistoryEvent.at)))
            .label("closed_at"),
            sa.func.min(HistoryEvent.at).label("ended_at"),
        )
        .where(HistoryEvent.object_type == "order",
               HistoryEvent.to_state.in_(("closed", "cancelled")),
               HistoryEvent.from_state != HistoryEvent.to_state)
        .group_by(HistoryEvent.object_id)
        .subquery("order_end")
    )
    late = sa.exists().where(Submission.order_id == RectificationOrder.id,
                             Submission.late.is_(True))
    submitted_in_time = (sa.select(sa.func.min(Submission.submitted_at))
                         .where(Submission.order_id == RectificationOrder.id,
                                Submission.late.is_(False))
                         .scalar_subquery())
    return (
        sa.select(
            RectificationOrder.id.label("id"),
            InspectionCase.institution_id.label("institution_id"),
            RectificationOrder.issued_on.label("issued_on"),
            RectificationOrder.deadline.label("deadline"),
            RectificationOrder.state.label("state"),
            ends.c.closed_at.label("closed_at"),
            ends.c.ended_at.label("ended_at"),
            late.label("late"),
            submitted_in_time.label("submitted_in_time"),
        )
        .join(InspectionCase, InspectionCase.id == RectificationOrder.case_id)
        .outerjoin(ends, ends.c.order_id == RectificationOrder.id)
        .where(InspectionCase.campaign_id == campaign_id,
               InspectionCase.institution_id.in_(scope_ids(actor, campaign)))
        .subquery("order_facts")
    )


def count_if(condition):
    """COUNT of the rows meeting `condition` (CASE form: the same on every database)."""
    return sa.func.count(sa.case((condition, 1)))


def sum_if(value, condition):
    return sa.func.coalesce(sa.func.sum(sa.case((condition, value), else_=0)), 0)


def overdue_at(facts, day: date):
    """Overdue at the end of `day`: issued, deadline before it, not closed or cancelled by
    then, and not awaiting verification then (a rectification submitted and not yet
    verified is the inspector's move, not the institution's delay).

    Awaiting verification is read from the order's history: its last event by then moved
    it to `submitted`. A submission the inspector returned leaves the order overdue once
    its deadline has passed, as the order machine has it. Orders with no history by then
    (seeded data) fall back to "a rectification was submitted in time by then"."""
    after = ts(instant(day + timedelta(days=1)))
    state_then = (sa.select(HistoryEvent.to_state)
                  .where(HistoryEvent.object_type == "order",
                         HistoryEvent.object_id == facts.c.id, HistoryEvent.at < after)
                  .order_by(HistoryEvent.at.desc(), HistoryEvent.id.desc())
                  .limit(1).scalar_subquery())
    submitted_then = sa.case((sa.and_(facts.c.submitted_in_time.is_not(None),
                                      facts.c.submitted_in_time < after), "submitted"),
                             else_="issued")
    return sa.and_(facts.c.issued_on <= day, facts.c.deadline < day,
                   sa.or_(facts.c.ended_at.is_(None), facts.c.ended_at >= after),
                   sa.func.coalesce(state_then, submitted_then) != "submitted")
