"""Keeping the order facts (casework/dashboard/models.py) equal to what they derive from.

`delta_rows(order_ids)` is the one definition: a set-based SELECT deriving every order's
day rows from the order, its case, its submissions and its history. `refresh(ids)`
replaces the rows of some orders with it, `rebuild()` those of every order, `check()`
compares the stored rows with a fresh derivation.

Every ORM flush that touches an order, a submission or an order's history event notes
the order (`track`), and the session refreshes the noted orders just before it commits:
the facts change in the same transaction as what they derive from, whatever service,
job or loader made the change. Writers that bypass the ORM (bulk SQL in the benchmark's
generator, a batched sweep) call `refresh` or `rebuild` themselves.

What an order counts, read on local days d (the configured zone), as the live
computation had it: issued on its issue date; closed on the day of its first move to
`closed`, on time when no submission was late; overdue and open at the end of d when it
was issued by d, its deadline is before d, it had not been closed or cancelled by the end
of d and was not awaiting verification then — its last event by then moved it to
`submitted`, or (an order with no history by then, seeded data) a rectification had been
submitted in time by then. Those are intervals of days; the rows hold their ends as +1/−1.
"""

from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from casework import clock
from casework.cases.models import InspectionCase
from casework.dashboard.models import OrderDayFact
from casework.dbtypes import add_days, local_date
from casework.extensions import db
from casework.history.models import HistoryEvent
from casework.orders.models import RectificationOrder, Submission

CHUNK = 5_000           # orders refreshed per statement
NEVER = date(9999, 12, 31)
FACT_COLUMNS = ("order_id", "day", "campaign_id", "institution_id", "issued", "closed",
                "closed_on_time", "overdue")


def _day(at):
    return local_date(at, sa.literal(clock.zone().key))


def _latest(a, b):
    return sa.case((a > b, a), else_=b)


def _earliest(a, b):
    return sa.case((a < b, a), else_=b)


def delta_rows(order_ids=None) -> sa.Select:
    """SELECT of the fact rows (FACT_COLUMNS) of the orders in `order_ids` (a list, or
    None for every order), summed per (order, day), the all-zero ones left out."""
    def only(column):
        return sa.true() if order_ids is None else column.in_(order_ids)

    never = sa.literal(NEVER, sa.Date)
    events = (sa.select(HistoryEvent.id, HistoryEvent.object_id, HistoryEvent.at,
                        HistoryEvent.from_state, HistoryEvent.to_state)
              .where(HistoryEvent.object_type == "order", only(HistoryEvent.object_id))
              .cte("order_event"))
    changed = events.c.from_state != events.c.to_state
    ends = (sa.select(
        events.c.object_id.label("order_id"),
        sa.func.min(sa.case((sa.and_(events.c.to_state == "closed", changed),
                             events.c.at))).label("closed_at"),
        sa.func.min(sa.case((sa.and_(events.c.to_state.in_(("closed", "cancelled")), changed),
                             events.c.at))).label("ended_at"),
        sa.func.min(events.c.at).label("first_at"))
        .group_by(events.c.object_id).subquery("order_end"))
    submitted = (sa.select(
        Submission.order_id.label("order_id"),
        sa.func.count(sa.case((Submission.late.is_(True), 1))).label("late_count"),
        sa.func.min(sa.case((Submission.late.is_(False), Submission.submitted_at)))
        .label("in_time"))
        .where(only(Submission.order_id))
        .group_by(Submission.order_id).subquery("order_submission"))
    base = (sa.select(
        RectificationOrder.id.label("order_id"),
        InspectionCase.campaign_id, InspectionCase.institution_id,
        RectificationOrder.issued_on,
        # The first day it can be overdue at the end of: issued, and past its deadline.
        _latest(RectificationOrder.issued_on, add_days(RectificationOrder.deadline, 1))
        .label("late_from"),
        _day(ends.c.closed_at).label("closed_on"),
        sa.func.coalesce(_day(ends.c.ended_at), never).label("ended_on"),
        sa.func.coalesce(_day(ends.c.first_at), never).label("logged_from"),
        _day(submitted.c.in_time).label("submitted_on"),
        (sa.func.coalesce(submitted.c.late_count, 0) == 0).label("on_time"))
        .join(InspectionCase, InspectionCase.id == RectificationOrder.case_id)
        .outerjoin(ends, ends.c.order_id == RectificationOrder.id)
        .outerjoin(submitted, submitted.c.order_id == RectificationOrder.id)
        .where(only(RectificationOrder.id))
        .cte("order_base"))
    b = base.c
    # Awaiting verification: from a move to `submitted` until the next event, as days
    # [lo, hi) (read in (at, id) order; the spans of one order never overlap).
    following = sa.func.lead(events.c.at).over(partition_by=events.c.object_id,
                                               order_by=(events.c.at, events.c.id))
    spans = (sa.select(events.c.object_id.label("order_id"), events.c.to_state,
                       _day(events.c.at).label("lo"),
                       sa.func.coalesce(_day(following), never).label("hi"))
             .subquery("span"))
    awaiting = sa.union_all(
        sa.select(spans.c.order_id, spans.c.lo, spans.c.hi)
        .where(spans.c.to_state == "submitted"),
        # No history yet (seeded data): submitted in time, until the history begins.
        sa.select(b.order_id, b.submitted_on.label("lo"), b.logged_from.label("hi"))
        .where(b.submitted_on.is_not(None)),
    ).subquery("awaiting")
    # An awaiting span cuts the overdue interval [late_from, ended_on) where they meet.
    cut_from = _latest(awaiting.c.lo, b.late_from)
    cut_to = _earliest(awaiting.c.hi, b.ended_on)
    cuts = (sa.select(b.order_id, cut_from.label("cut_from"), cut_to.label("cut_to"))
            .join(awaiting, awaiting.c.order_id == b.order_id)
            .where(b.late_from < b.ended_on, cut_from < cut_to)
            .subquery("cut"))

    zero = sa.literal(0, sa.Integer)
    one = sa.literal(1, sa.Integer)

    def row(order_id, day, issued=zero, closed=zero, on_time=zero, overdue=zero):
        return sa.select(order_id.label("order_id"), day.label("day"), issued.label("issued"),
                         closed.label("closed"), on_time.label("closed_on_time"),
                         overdue.label("overdue"))

    deltas = sa.union_all(
        row(b.order_id, b.issued_on, issued=one),
        row(b.order_id, b.closed_on, closed=one,
            on_time=sa.case((b.on_time, 1), else_=0)).where(b.closed_on.is_not(None)),
        row(b.order_id, b.late_from, overdue=one).where(b.late_from < b.ended_on),
        row(b.order_id, b.ended_on, overdue=-one)
        .where(b.late_from < b.ended_on, b.ended_on < sa.literal(NEVER, sa.Date)),
        row(cuts.c.order_id, cuts.c.cut_from, overdue=-one),
        row(cuts.c.order_id, cuts.c.cut_to, overdue=one)
        .where(cuts.c.cut_to < sa.literal(NEVER, sa.Date)),
    ).subquery("delta")
    d = deltas.c
    sums = [sa.func.sum(d[name]).label(name)
            for name in ("issued", "closed", "closed_on_time", "overdue")]
    return (sa.select(d.order_id, d.day, b.campaign_id, b.institution_id, *sums)
            .join(base, b.order_id == d.order_id)
            .group_by(d.order_id, d.day, b.campaign_id, b.institution_id)
            .having(sa.or_(*(s != 0 for s in
                             (sa.func.sum(d[n]) for n in ("issued", "closed",
                                                          "closed_on_time", "overdue"))))))


def _write(session, order_ids) -> None:
    table = OrderDayFact.__table__
    if order_ids is not None:
        session.execute(sa.delete(table).where(table.c.order_id.in_(order_ids)))
    else:
        session.execute(sa.delete(table))
    session.execute(sa.insert(table).from_select(FACT_COLUMNS, delta_rows(order_ids)))


def refresh(order_ids: Iterable[int], session=None) -> None:
    """Replace the fact rows of these orders (any number; in chunks) in the current
    transaction."""
    ids = sorted(set(order_ids))
    for start in range(0, len(ids), CHUNK):
        _write(session or db.session, ids[start:start + CHUNK])


def rebuild() -> int:
    """Derive every order's rows afresh (the current transaction; the caller commits).
    Returns the number of rows."""
    _write(db.session, None)
    return db.session.scalar(sa.select(sa.func.count()).select_from(OrderDayFact))


def check() -> list[tuple]:
    """The rows that differ between the stored facts and a fresh derivation, as
    ("missing" | "extra", row): empty when the facts are right."""
    fresh = delta_rows().subquery("fresh")
    table = OrderDayFact.__table__
    stored = sa.select(*(table.c[n] for n in FACT_COLUMNS))
    derived = sa.select(*(fresh.c[n] for n in FACT_COLUMNS))
    missing = db.session.execute(derived.except_(stored)).all()
    extra = db.session.execute(stored.except_(derived)).all()
    return [("missing", tuple(r)) for r in missing] + [("extra", tuple(r)) for r in extra]


# --- keeping them up to date ------------------------------------------------------------

PENDING = "order_facts_pending"


def _touched(session) -> set[int]:
    ids = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, RectificationOrder):
            ids.add(obj.id)
        elif isinstance(obj, Submission):
            ids.add(obj.order_id)
        elif isinstance(obj, HistoryEvent) and obj.object_type == "order":
            ids.add(obj.object_id)
        elif isinstance(obj, InspectionCase) and _moved(obj):
            # A case moved to another campaign or institution (an administrator's fix):
            # its orders' rows carry both.
            ids.update(session.scalars(sa.select(RectificationOrder.id)
                                       .where(RectificationOrder.case_id == obj.id)))
    ids.discard(None)
    return ids


def _moved(case) -> bool:
    attrs = sa.inspect(case).attrs
    return attrs.campaign_id.history.has_changes() or attrs.institution_id.history.has_changes()


def _after_flush(session, _context):
    touched = _touched(session)
    if touched:
        session.info.setdefault(PENDING, set()).update(touched)


def _before_commit(session):
    session.flush()
    pending = session.info.pop(PENDING, None)
    if pending:
        refresh(pending, session)


def _after_soft_rollback(session, _transaction):
    session.info.pop(PENDING, None)


# Every session (the app's, the scheduler's, a loader's): installed once, on import.
sa.event.listen(Session, "after_flush", _after_flush)
sa.event.listen(Session, "before_commit", _before_commit)
sa.event.listen(Session, "after_soft_rollback", _after_soft_rollback)
