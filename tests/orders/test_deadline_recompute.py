"""A deadline that reaches into a year without an arrangement: provisional, then fixed."""

import datetime as dt

import sqlalchemy as sa

from casework.history.models import HistoryEvent
from casework.inspections import services as inspections
from casework.orders import services as orders
from casework.workdays import services as workdays


def d(text):
    return dt.date.fromisoformat(text)


def span(first, last, name):
    start, end = d(first), d(last)
    return [(start + dt.timedelta(days=i), name) for i in range((end - start).days + 1)]


def _order_in_december(world, db, users, clock):
    clock("2026-12-14T10:00:00+08:00")
    case = world.make_case(db, state="rectification")
    inspector = users["inspector"]
    inspection = inspections.start_inspection(case.id, actor=inspector,
                                              inspected_on=d("2026-12-14"), place="门诊楼")
    inspections.record_finding(inspection.id, inspections.FindingInput(
        key_task_id=case.campaign.key_tasks[0].id, severity="serious",
        description="收受红包"), actor=inspector)
    inspections.finalise_inspection(inspection.id, actor=inspector)
    finding = inspection.findings[0]
    return orders.raise_order(case.id, actor=inspector, finding_ids=[finding.id],
                              requirements="立即整改", rule={"kind": "working_days", "value": 20})


def test_deadline_into_an_unentered_year_is_provisional_then_recomputed(world, db, users, clock):
    order = _order_in_december(world, db, users, clock)
    # 20 working days from Mon 2026-12-14, counting 2027 on weekends alone (2027 is not
    # entered): Dec 15-18 (4), 21-25 (9), 28-31 (13), Fri 2027-01-01 (14: without an
    # arrangement it is a plain Friday), Jan 4-8 (19), Mon Jan 11 (20).
    assert order.deadline == d("2027-01-11")
    assert order.deadline_provisional is True

    # The admin enters 2027 with New Year's Day off (Jan 1-3) and no adjusted working day.
    workdays.enter_year(2027, span("2027-01-01", "2027-01-03", "元旦"), [],
                        actor=users["admin"], no_workdays=True)
    db.session.expire_all()
    order = db.session.get(type(order), order.id)
    assert order.deadline == d("2027-01-12")  # one working day lost to New Year's Day
    assert order.deadline_provisional is False
    events = db.session.scalars(sa.select(HistoryEvent).where(
        HistoryEvent.object_type == "order", HistoryEvent.object_id == order.id)).all()
    assert [(e.trigger, e.actor_role, e.data["old_deadline"], e.data["new_deadline"])
            for e in events] == [("recompute_deadline", "system", "2027-01-11", "2027-01-12")]


def test_confirmed_deadline_is_not_touched(world, db, users, clock):
    clock("2024-09-25T10:00:00+08:00")
    case = world.make_case(db, state="rectification")
    inspector = users["inspector"]
    inspection = inspections.start_inspection(case.id, actor=inspector,
                                              inspected_on=d("2024-09-25"), place="药房")
    inspections.record_finding(inspection.id, inspections.FindingInput(
        key_task_id=case.campaign.key_tasks[0].id, severity="minor", description="处方不规范"),
        actor=inspector)
    inspections.finalise_inspection(inspection.id, actor=inspector)
    order = orders.raise_order(case.id, actor=inspector,
                               finding_ids=[inspection.findings[0].id], requirements="规范处方",
                               rule={"kind": "working_days", "value": 20})
    # National Day 2024: Oct 1-7 off, Sun Sep 29 and Sat Oct 12 worked -> Mon Oct 28.
    assert (order.deadline, order.deadline_provisional) == (d("2024-10-28"), False)
    assert orders.recompute_provisional_deadlines(2024) == 0
