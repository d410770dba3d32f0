"""The order sweeps: overdue on deadline + 1, escalation after ESCALATE_AFTER_DAYS, reminders
7/3/1 days before on the right local day, catch-up, idempotency, chunks, query counts.
"""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from factories import (
    SHANGHAI,
    local,
    make_order,
    sent,
    single_row_updates,
    state_of,
    statements_per_chunk,
    trail,
    updates,
)

from casework.history.models import HistoryEvent
from casework.jobs import sweeping
from casework.notifications.models import Notification
from casework.orders import sweeps
from casework.orders.models import RectificationOrder

# --- fixtures --------------------------------------------------------------------------

@pytest.fixture
def case(db, world):
    return world.make_case(db, state="rectification")


DEADLINE = date(2022, 3, 15)   # a Tuesday
ISSUED = date(2022, 2, 15)


# --- deadline sweep --------------------------------------------------------------------

def test_overdue_the_day_after_the_deadline_local_time(db, world, users, case, clock):
    order = make_order(db, case, users["inspector"], deadline=DEADLINE, issued_on=ISSUED)
    # 23:59 local on the deadline is 15:59 UTC: still the deadline day, not overdue.
    assert sweeps.deadline_sweep(local(DEADLINE, 23, 59))["overdue"] == 0
    # 00:15 local the next day is still 15 March in UTC: overdue all the same.
    clock(local(DEADLINE + timedelta(days=1), 0, 15))
    summary = sweeps.deadline_sweep(local(DEADLINE + timedelta(days=1), 0, 15))
    assert summary == {"today": "2022-03-16", "overdue": 1, "escalated": 0,
                       "notifications": 1, "refused": {}}
    assert state_of(db, RectificationOrder, order.id) == "overdue"
    assert trail(db, "order", order.id) == [("mark_overdue", "overdue", "system")]
    assert sent(db) == {("hosp", f"order:{order.id}:overdue:2022-03-15")}
    note = db.session.scalar(sa.select(Notification))
    assert (note.kind, note.link) == ("order_overdue", f"/orders/{order.id}")
    assert note.params == {"number": order.number, "institution": "中卫市人民医院",
                           "deadline": "2022-03-15"}
    # Idempotent: nothing new on a second run, the same day or the next.
    assert sweeps.deadline_sweep(local(DEADLINE + timedelta(days=1), 9))["notifications"] == 0
    assert len(trail(db, "order", order.id)) == 1


def test_escalated_escalate_after_days_after_overdue(db, world, users, case, app):
    after = app.config["ESCALATE_AFTER_DAYS"]
    order = make_order(db, case, users["inspector"], deadline=DEADLINE, issued_on=ISSUED)
    day = DEADLINE + timedelta(days=1)
    escalated_on = None
    while escalated_on is None and day < DEADLINE + timedelta(days=30):
        if sweeps.deadline_sweep(local(day))["escalated"]:
            escalated_on = day
        day += timedelta(days=1)
    assert escalated_on == DEADLINE + timedelta(days=1 + after)
    assert [h[0] for h in trail(db, "order", order.id)] == ["mark_overdue", "escalate"]
    # Escalation reaches the institution and the coordinator over it, not a coordinator
    # of another county.
    assert sent(db, "order_escalated") == {
        ("hosp", f"order:{order.id}:escalated:2022-03-15"),
        ("coord", f"order:{order.id}:escalated:2022-03-15")}


def test_a_long_missed_deadline_is_overdue_and_escalated_in_one_catch_up_run(
        db, world, users, case):
    order = make_order(db, case, users["inspector"], deadline=DEADLINE, issued_on=ISSUED)
    summary = sweeps.deadline_sweep(local(DEADLINE + timedelta(days=20)))
    assert (summary["overdue"], summary["escalated"], summary["notifications"]) == (1, 1, 3)
    assert state_of(db, RectificationOrder, order.id) == "escalated"
    assert sweeps.deadline_sweep(local(DEADLINE + timedelta(days=21)))["notifications"] == 0


def test_orders_submitted_closed_or_not_yet_due_are_left_alone(db, world, users, case):
    kept = {state: make_order(db, case, users["inspector"], deadline=DEADLINE, issued_on=ISSUED,
                              number=f"N-{state}", state=state)
            for state in ("submitted", "closed", "cancelled")}
    later = make_order(db, case, users["inspector"], deadline=DEADLINE + timedelta(days=1),
                       issued_on=ISSUED)
    returned = make_order(db, case, users["inspector"], deadline=DEADLINE, issued_on=ISSUED,
                          number="N-returned", state="returned")
    summary = sweeps.deadline_sweep(local(DEADLINE + timedelta(days=1)))
    assert summary["overdue"] == 1
    assert state_of(db, RectificationOrder, returned.id) == "overdue"
    assert state_of(db, RectificationOrder, later.id) == "issued"
    assert {s: state_of(db, RectificationOrder, o.id) for s, o in kept.items()} == {
        "submitted": "submitted", "closed": "closed", "cancelled": "cancelled"}


def test_a_crash_mid_sweep_keeps_the_committed_chunks_and_the_rerun_finishes(
        db, world, users, case, monkeypatch):
    orders = [make_order(db, case, users["inspector"], deadline=DEADLINE, issued_on=ISSUED,
                         number=f"N-{i}") for i in range(5)]
    monkeypatch.setattr(sweeping, "CHUNK", 2)
    real = sweeps.binding.apply_batch
    calls = []

    def crash_on_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(sweeps.binding, "apply_batch", crash_on_second_chunk)
    with pytest.raises(RuntimeError):
        sweeps.deadline_sweep(local(DEADLINE + timedelta(days=1)))
    db.session.rollback()
    states = [state_of(db, RectificationOrder, o.id) for o in orders]
    assert states == ["overdue", "overdue", "issued", "issued", "issued"]
    # The committed chunk has its notifications, the lost one has none.
    assert sent(db) == {("hosp", f"order:{o.id}:overdue:2022-03-15") for o in orders[:2]}

    monkeypatch.setattr(sweeps.binding, "apply_batch", real)
    assert sweeps.deadline_sweep(local(DEADLINE + timedelta(days=1)))["overdue"] == 3
    assert {state_of(db, RectificationOrder, o.id) for o in orders} == {"overdue"}
    assert sent(db) == {("hosp", f"order:{o.id}:overdue:2022-03-15") for o in orders}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(HistoryEvent)) == 5


# --- reminders -------------------------------------------------------------------------

def test_reminders_7_3_1_days_before_on_local_days(db, world, users, case, clock):
    order = make_order(db, case, users["inspector"], deadline=DEADLINE, issued_on=ISSUED)
    created_on = {}
    day = ISSUED
    while day <= DEADLINE + timedelta(days=2):
        # 01:00 in Shanghai is 17:00 UTC the day before: the local day must decide.
        at = local(day, 1)
        clock(at, tick=False)
        sweeps.deadline_reminders(at)
        for key in {k for _, k in sent(db)} - set(created_on):
            created_on[key] = day
        day += timedelta(days=1)
    assert created_on == {
        f"order:{order.id}:reminder:7:2022-03-15": date(2022, 3, 8),
        f"order:{order.id}:reminder:3:2022-03-15": date(2022, 3, 12),
        f"order:{order.id}:reminder:1:2022-03-15": date(2022, 3, 14),
    }
    notes = db.session.scalars(sa.select(Notification).order_by(Notification.id)).all()
    assert [n.created_at.astimezone(SHANGHAI).date() for n in notes] == [
        date(2022, 3, 8), date(2022, 3, 12), date(2022, 3, 14)]
    assert [n.created_at.date() for n in notes] == [   # UTC: the day before
        date(2022, 3, 7), date(2022, 3, 11), date(2022, 3, 13)]
    assert notes[0].params == {"number": order.number, "institution": "中卫市人民医院",
                               "deadline": "2022-03-15", "days": 7}
    assert {n.user.username for n in notes} == {"hosp"}


def test_reminders_catch_up_after_downtime_but_do_not_mail_a_passed_deadline(
        db, world, users, case):
    users["institution"].email = "quality@hospital.example"
    db.session.commit()
    order = make_order(db, case, users["inspector"], deadline=DEADLINE, issued_on=ISSUED)
    gone = make_order(db, case, users["inspector"], deadline=date(2022, 3, 10), issued_on=ISSUED)
    # Down from 1 to 13 March: the 13th's run creates the reminders it missed, so the
    # records are what daily runs would have left; only the live deadline's go by e-mail.
    assert sweeps.deadline_reminders(local(date(2022, 3, 13)))["notifications"] == 5
    status = dict(db.session.execute(
        sa.select(Notification.key, Notification.email_status)).all())
    assert status == {
        f"order:{order.id}:reminder:7:2022-03-15": "pending",
        f"order:{order.id}:reminder:3:2022-03-15": "pending",
        **{f"order:{gone.id}:reminder:{d}:2022-03-10": "skipped" for d in (7, 3, 1)},
    }
    assert sweeps.deadline_reminders(local(date(2022, 3, 13), 18))["notifications"] == 0


def test_no_reminder_dated_before_the_order_was_issued(db, world, users, case):
    order = make_order(db, case, users["inspector"], deadline=DEADLINE,
                       issued_on=date(2022, 3, 13))
    for day in (13, 14, 15):
        sweeps.deadline_reminders(local(date(2022, 3, day)))
    assert sent(db) == {("hosp", f"order:{order.id}:reminder:1:2022-03-15")}


def test_submitted_orders_and_inactive_users_get_no_reminder(db, world, users, case):
    make_order(db, case, users["inspector"], deadline=DEADLINE, issued_on=ISSUED,
               state="submitted")
    users["institution"].active = False
    db.session.commit()
    live = make_order(db, case, users["inspector"], deadline=DEADLINE, issued_on=ISSUED,
                      number="N-live")
    assert sweeps.deadline_reminders(local(date(2022, 3, 14)))["notifications"] == 0
    users["institution"].active = True
    db.session.commit()
    assert sweeps.deadline_reminders(local(date(2022, 3, 14)))["notifications"] == 3
    assert {k for _, k in sent(db)} == {f"order:{live.id}:reminder:{d}:2022-03-15"
                                        for d in (7, 3, 1)}


def test_an_extended_deadline_gets_its_own_reminders(db, world, users, case):
    order = make_order(db, case, users["inspector"], deadline=DEADLINE, issued_on=ISSUED)
    sweeps.deadline_reminders(local(date(2022, 3, 14)))
    order.deadline = date(2022, 3, 20)
    db.session.commit()
    sweeps.deadline_reminders(local(date(2022, 3, 19)))
    assert {k for _, k in sent(db)} == (
        {f"order:{order.id}:reminder:{d}:2022-03-15" for d in (7, 3, 1)}
        | {f"order:{order.id}:reminder:{d}:2022-03-20" for d in (7, 3, 1)})


# --- set-based: the same number of queries for 5 and 50 orders -------------------------

@pytest.mark.parametrize("sweep, at, transitions, notices", [
    # overdue and escalated: two transitions, hosp twice and coord once
    (sweeps.deadline_sweep, local(DEADLINE + timedelta(days=20)), 2, 3),
    (sweeps.deadline_reminders, local(date(2022, 3, 14)), 0, 3),   # 7, 3 and 1 days
])
def test_query_count_does_not_grow_with_the_orders(db, world, users, count_queries, sweep, at,
                                                   transitions, notices):
    counts = []
    for n in (5, 50):
        case = world.make_case(db, campaign=world.make_campaign(db, code=f"c{n}"),
                               state="rectification")
        for i in range(n):
            make_order(db, case, users["inspector"], deadline=DEADLINE, issued_on=ISSUED,
                       number=f"N-{n}-{i}")
        db.session.expire_all()
        before = len(sent(db))
        with count_queries() as statements:
            sweep(at)
        counts.append(len(statements))
        # One UPDATE per transition (of all the chunk's rows), not one per row.
        assert updates(statements, "rectification_order") == transitions
        assert len(sent(db)) - before == n * notices
        # Leave nothing for the next round to find.
        db.session.execute(sa.update(RectificationOrder).values(state="closed"))
        db.session.commit()
    assert counts[0] == counts[1]


def test_deadline_sweep_issues_the_same_statements_for_10_and_200_orders(
        db, world, users, count_queries):
    """Set-based: as many statements for 200 due orders as for 10 (one chunk each), the
    UPDATEs batched (no `UPDATE rectification_order … WHERE id = ?`), one INSERT of the
    history events per transition, and versions bumped once per transition as before."""
    counts = []
    for n in (10, 200):
        case = world.make_case(db, campaign=world.make_campaign(db, code=f"c{n}"),
                               state="rectification")
        orders = [make_order(db, case, users["inspector"], deadline=DEADLINE, issued_on=ISSUED,
                             number=f"N-{n}-{i}").id for i in range(n)]
        db.session.expire_all()
        with count_queries() as statements:
            summary = sweeps.deadline_sweep(local(DEADLINE + timedelta(days=20)))
        assert (summary["overdue"], summary["escalated"]) == (n, n)
        counts.append(len(statements))
        assert single_row_updates(statements, "rectification_order") == []
        batched = [s for s in statements if s.lstrip().upper().startswith(
            "UPDATE RECTIFICATION_ORDER")]
        assert len(batched) == 2 and all(" IN " in s.upper() for s in batched)
        assert sum(1 for s in statements
                   if s.lstrip().upper().startswith("INSERT INTO HISTORY_EVENT")) == 2
        assert set(db.session.execute(
            sa.select(RectificationOrder.state, RectificationOrder.version)
            .where(RectificationOrder.id.in_(orders)))) == {("escalated", 3)}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(HistoryEvent)
                                 .where(HistoryEvent.object_id.in_(orders))) == 2 * n
        db.session.execute(sa.update(RectificationOrder).values(state="closed"))
        db.session.commit()
    assert counts[0] == counts[1]


def test_reminders_run_in_chunks_of_a_constant_number_of_statements(
        db, world, users, case, count_queries, monkeypatch):
    """Chunk by chunk (here 2 orders each): the statements grow by the same few per chunk
    (read the chunk, the institution users, the existing keys, the e-mail choices, one
    INSERT), however many reminders the chunk's orders are due; each chunk commits."""
    monkeypatch.setattr(sweeping, "CHUNK", 2)
    made = []

    def grow(n):
        while len(made) < n:
            made.append(make_order(db, case, users["inspector"], deadline=DEADLINE,
                                   issued_on=ISSUED, number=f"N-{len(made)}"))

    def run(n):
        summary = sweeps.deadline_reminders(local(date(2022, 3, 14)))
        assert (summary["orders"], summary["notifications"]) == (n, 3 * n)

    assert statements_per_chunk(db, count_queries, grow, run) <= 5
