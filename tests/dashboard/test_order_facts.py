"""The order facts (casework/dashboard/facts.py): equal to the live computation from the
orders' history on random histories, kept up to date by every commit, rebuilt and
checked from the command line."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from factories import make_institution
from order_oracle import live_order_counts, order_facts
from report_scenario import build

from casework.dashboard import facts
from casework.dashboard.models import OrderDayFact
from casework.dashboard.queries import Month, months, order_counts
from casework.history.models import HistoryEvent
from casework.orders.models import RectificationOrder, Submission

# Paths an order's history may take (the order machine's states), each step a trigger.
PATHS = [
    [("acknowledge", "acknowledged"), ("submit", "submitted"), ("verify", "closed")],
    [("acknowledge", "acknowledged"), ("submit", "submitted"), ("return", "returned"),
     ("submit", "submitted"), ("verify", "closed")],
    [("acknowledge", "acknowledged"), ("mark_overdue", "overdue"), ("escalate", "escalated"),
     ("submit", "submitted")],
    [("acknowledge", "acknowledged"), ("mark_overdue", "overdue"), ("submit", "submitted"),
     ("return", "returned")],
    [("acknowledge", "acknowledged"), ("extend", "acknowledged"), ("cancel", "cancelled")],
    [("mark_overdue", "overdue"), ("escalate", "escalated")],
    [],
]


def random_orders(world, db, campaign, rng: random.Random, n: int):
    """n orders with random dates, histories (at random hours, so local and UTC days
    differ) and submissions; some seeded with submissions and no history."""
    cases = [world.make_case(db, inst, campaign, state="rectification")
             for inst in (world.hospital, world.clinic, world.far_hospital)]
    inspector, institution = world.users["inspector"], world.users["institution"]
    for k in range(n):
        issued = date(2021, 1, 1) + timedelta(days=rng.randrange(330))
        deadline = issued + timedelta(days=rng.randrange(0, 70))
        path = rng.choice(PATHS)
        order = RectificationOrder(
            number=f"随机〔2021〕{k:04d}号", case_id=rng.choice(cases).id, requirements="整改",
            issuing_body="卫健委", issued_on=issued, issued_by_id=inspector.id,
            deadline=deadline, deadline_rule={"kind": "date"},
            state=path[-1][1] if path else "issued")
        db.session.add(order)
        db.session.flush()
        at = datetime(issued.year, issued.month, issued.day, tzinfo=UTC) - timedelta(hours=8)
        state = "issued"
        seeded = not path and rng.random() < 0.5
        for trigger, to_state in path:
            at += timedelta(days=rng.choice((0, 0, 1, 3, 9, 20, 45)), hours=rng.randrange(24),
                            minutes=rng.randrange(60))
            db.session.add(HistoryEvent(object_type="order", object_id=order.id,
                                        trigger=trigger, from_state=state, to_state=to_state,
                                        actor_role="inspector", at=at))
            if trigger == "submit":
                db.session.add(Submission(order_id=order.id, report="已整改",
                                          submitted_by_id=institution.id, submitted_at=at,
                                          late=at.date() > deadline))
            state = to_state
        if seeded:
            db.session.add(Submission(
                order_id=order.id, report="已整改", submitted_by_id=institution.id,
                submitted_at=at + timedelta(days=rng.randrange(60), hours=rng.randrange(24)),
                late=rng.random() < 0.3))
    db.session.commit()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_facts_equal_the_live_computation_on_random_histories(world, db, users, app, seed):
    campaign = world.make_campaign(db)
    random_orders(world, db, campaign, random.Random(seed), 80)
    assert facts.check() == []
    periods = months(date(2020, 12, 1), date(2022, 4, 30))
    with app.test_request_context():
        for role in ("coordinator", "district_coordinator", "institution", "viewer"):
            actor = users[role]
            for today in (date(2021, 3, 17), date(2021, 9, 30), date(2023, 1, 1)):
                live = live_order_counts(order_facts(campaign.id, actor, campaign), periods,
                                         today)
                assert order_counts(campaign, actor, periods, today) == live, (role, today)
            whole = [Month("period", date(2021, 2, 1), date(2021, 11, 15))]
            assert order_counts(campaign, actor, whole, date(2022, 1, 1)) == live_order_counts(
                order_facts(campaign.id, actor, campaign), whole, date(2022, 1, 1))
    # Something was counted: the comparison is not between two lists of zeros.
    total = order_counts(campaign, users["coordinator"], periods, date(2023, 1, 1))
    assert sum(r[0] for r in total) == 80 and sum(r[3] for r in total) > 0
    assert sum(r[1] for r in total) > sum(r[2] for r in total) > 0


def test_every_commit_keeps_the_facts_and_a_rollback_leaves_them(world, db, users, app):
    s = build(world, db)
    assert facts.check() == []
    before = db.session.execute(sa.select(OrderDayFact.__table__)).all()
    order = db.session.scalars(sa.select(RectificationOrder)
                               .where(RectificationOrder.state == "overdue")).first()
    # A change rolled back leaves the facts as they were.
    db.session.add(HistoryEvent(object_type="order", object_id=order.id, trigger="submit",
                                from_state="overdue", to_state="submitted",
                                actor_role="institution", at=datetime(2021, 8, 1, tzinfo=UTC)))
    db.session.flush()
    db.session.rollback()
    assert db.session.execute(sa.select(OrderDayFact.__table__)).all() == before
    # Committed: submitted on 08-01, so no longer overdue from that day.
    db.session.add(HistoryEvent(object_type="order", object_id=order.id, trigger="submit",
                                from_state="overdue", to_state="submitted",
                                actor_role="institution", at=datetime(2021, 8, 1, tzinfo=UTC)))
    order.deadline = date(2021, 7, 20)
    db.session.commit()
    assert facts.check() == []
    rows = dict(db.session.execute(
        sa.select(OrderDayFact.day, OrderDayFact.overdue)
        .where(OrderDayFact.order_id == order.id, OrderDayFact.overdue != 0)).all())
    assert rows == {date(2021, 7, 21): 1, date(2021, 8, 1): -1}
    # The case moved to another institution: the order's rows follow it.
    other = make_institution(db, "640500000001", "另一医院", region=world.city)
    case = db.session.get(type(s.h1), order.case_id)
    case.institution_id = other.id
    db.session.commit()
    assert facts.check() == []
    assert set(db.session.scalars(sa.select(OrderDayFact.institution_id)
                                  .where(OrderDayFact.order_id == order.id))) == {other.id}
    # Deleted orders leave no rows.
    db.session.execute(sa.delete(Submission).where(Submission.order_id == order.id))
    db.session.execute(sa.delete(HistoryEvent).where(HistoryEvent.object_id == order.id,
                                                     HistoryEvent.object_type == "order"))
    db.session.execute(sa.text("DELETE FROM order_finding WHERE order_id = :id"),
                       {"id": order.id})
    db.session.delete(order)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderDayFact)
                             .where(OrderDayFact.order_id == order.id)) == 0


def test_the_cli_checks_and_rebuilds(world, db, runner):
    build(world, db)
    result = runner.invoke(args=["facts", "check"])
    assert result.exit_code == 0, result.output
    assert "0" in result.output
    # Facts gone wrong (a bulk load that forgot them): check says so, rebuild mends them.
    count = db.session.scalar(sa.select(sa.func.count()).select_from(OrderDayFact))
    db.session.execute(sa.delete(OrderDayFact).where(OrderDayFact.issued == 1))
    db.session.execute(sa.update(OrderDayFact).values(overdue=OrderDayFact.overdue + 5))
    db.session.commit()
    result = runner.invoke(args=["facts", "check"])
    assert result.exit_code == 1
    assert "flask facts rebuild" in result.output
    result = runner.invoke(args=["facts", "rebuild"])
    assert result.exit_code == 0, result.output
    assert str(count) in result.output
    db.session.expire_all()
    assert facts.check() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderDayFact)) == count
