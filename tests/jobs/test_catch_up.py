"""Ten days of downtime, then one catch-up run: the same world as running every day.

The same world is built twice (the database emptied in between). Both run the daily
sweeps on 22 June 2021. World A then runs them every day for ten days; world B runs
nothing until one `run_sweeps(at)` on 2 July. The window holds a quarter end (reports
due, reminded, overdue, the next quarter's created), a half-year end (a bulletin), a
month's supervision-report due date, and orders reminded, overdue and escalated.

What must match: order, report and case states, history (which transitions), bulletins
with their figures, and the notifications by (user, key). The one intended difference:
reminders for a date that passed during the downtime are not sent late (a reminder
after the deadline helps nobody); they are listed exactly below.
"""

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
import time_machine
from factories import CALENDAR_TABLES, World, add_findings, local, make_order

from casework import periods
from casework.bulletins.models import Bulletin
from casework.campaigns.definition import DEFINITIONS_DIR, load_definition
from casework.campaigns.importer import import_campaign
from casework.campaigns.models import Campaign
from casework.cases.models import InspectionCase
from casework.history.models import HistoryEvent
from casework.institutions.models import Institution
from casework.jobs.runner import run_sweeps
from casework.notifications.models import Notification
from casework.orders.models import RectificationOrder
from casework.reports.models import ProgressReport
from casework.users.models import User

FINALISED = datetime(2021, 1, 1, tzinfo=UTC)   # before every inspection
DAY0 = date(2021, 6, 22)
DAY10 = DAY0 + timedelta(days=10)   # 2 July


def wipe(db):
    """Empty every table but the holiday calendar, as the db fixture does after a test."""
    db.session.remove()
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in CALENDAR_TABLES]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


def build(db):
    world = World(db)
    inspector = world.users["inspector"]
    campaign, _ = import_campaign(load_definition(DEFINITIONS_DIR / "zhongwei-2021-conduct.yaml"))
    cases = {c.institution.code: c for c in db.session.scalars(
        sa.select(InspectionCase).where(InspectionCase.campaign_id == campaign.id))}
    add_findings(db, cases["H1"], inspector, 2,
                 inspected_on=date(2021, 5, 20), finalised_at=FINALISED)
    # Overdue before the window, escalated inside it.
    make_order(db, cases["H1"], inspector, number="late", issued_on=date(2021, 6, 1),
               deadline=date(2021, 6, 20))
    # Due inside the window: its 1-day reminder (23 June) falls in the downtime.
    make_order(db, cases["H2"], inspector, number="passing", issued_on=date(2021, 6, 1),
               deadline=date(2021, 6, 24))
    # Due after the window: its 7- and 3-day reminders fall in it.
    make_order(db, cases["H1"], inspector, number="later", issued_on=date(2021, 6, 15),
               deadline=date(2021, 7, 5))


def snapshot(db):
    """Everything the sweeps made, with ids replaced by stable names."""
    names = {
        "order": dict(db.session.execute(sa.select(RectificationOrder.id,
                                                   RectificationOrder.number)).all()),
        "case": dict(db.session.execute(
            sa.select(InspectionCase.id, Institution.code).join(Institution)).all()),
        "campaign": dict(db.session.execute(sa.select(Campaign.id, Campaign.code)).all()),
    }
    names["report"] = {i: f"{names['case'][c]}/{s}" for i, c, s in db.session.execute(
        sa.select(ProgressReport.id, ProgressReport.case_id, ProgressReport.period_start))}
    names["bulletin"] = {i: f"{names['campaign'][c]}/{s}" for i, c, s in db.session.execute(
        sa.select(Bulletin.id, Bulletin.campaign_id, Bulletin.period_start))}
    names["supervision"] = names["campaign"]

    def key(value):
        kind, number, rest = re.fullmatch(r"(\w+):(\d+)(:.*)", value).groups()
        return f"{kind}:{names[kind][int(number)]}{rest}"

    def figures(f):
        return {**f, "institutions": [{k: v for k, v in i.items() if k != "id"}
                                      for i in f["institutions"]]}

    return {
        "notifications": {(user, key(k)) for user, k in db.session.execute(
            sa.select(User.username, Notification.key).join(User))},
        "orders": {names["order"][i]: s for i, s in db.session.execute(
            sa.select(RectificationOrder.id, RectificationOrder.state))},
        "cases": {names["case"][i]: s for i, s in db.session.execute(
            sa.select(InspectionCase.id, InspectionCase.state))},
        "reports": {names["report"][i]: (s, due) for i, s, due in db.session.execute(
            sa.select(ProgressReport.id, ProgressReport.state, ProgressReport.due_on))},
        "bulletins": {names["bulletin"][b.id]: (b.period_end, b.state, figures(b.figures))
                      for b in db.session.scalars(sa.select(Bulletin))},
        "history": Counter((names[t][i], trigger, f, to) for t, i, trigger, f, to in
                           db.session.execute(sa.select(
                               HistoryEvent.object_type, HistoryEvent.object_id,
                               HistoryEvent.trigger, HistoryEvent.from_state,
                               HistoryEvent.to_state))),
    }


def scenario(db, days_run):
    wipe(db)
    with time_machine.travel(local(date(2021, 3, 25)), tick=False) as traveller:
        build(db)
        for day in days_run:
            traveller.move_to(local(day))
            runs = run_sweeps(local(day))
            assert {r.outcome for r in runs} == {"ok"}, [(r.job, r.error) for r in runs]
    db.session.expire_all()
    return snapshot(db)


def test_ten_days_down_then_one_catch_up_run_equals_running_daily(db):
    daily = scenario(db, [DAY0 + timedelta(days=n) for n in range(11)])
    caught_up = scenario(db, [DAY0, DAY10])

    for part in ("orders", "cases", "reports", "bulletins", "history"):
        assert caught_up[part] == daily[part], part
    # The states themselves, so that "equal" is not "equally empty".
    assert daily["orders"] == {"late": "escalated", "passing": "escalated", "later": "issued"}
    assert daily["cases"] == {"H1": "rectification", "C1": "rectification",
                              "H2": "rectification"}
    assert daily["reports"] == {
        **{f"{c}/2021-04-01": ("overdue", date(2021, 6, 30)) for c in ("H1", "C1", "H2")},
        **{f"{c}/2021-07-01": ("pending", date(2021, 9, 30)) for c in ("H1", "C1", "H2")}}
    ((period_end, state, figures),) = daily["bulletins"].values()
    assert (period_end, state) == (date(2021, 6, 30), "draft")
    assert {i["code"]: (i["findings"], i["orders"], i["orders_overdue"])
            for i in figures["institutions"]} == {"H1": (2, 2, 1), "H2": (0, 1, 1)}

    # Notifications: exactly what daily runs would have created. Reminders whose date
    # passed during the downtime are created too (inbox only, not e-mailed: see below).
    assert caught_up["notifications"] == daily["notifications"]
    late = {
        ("far-hosp", "order:passing:reminder:1:2021-06-24"),
        ("hosp", "report:H1/2021-04-01:reminder:7"),
        ("hosp", "report:H1/2021-04-01:reminder:1"),
        ("far-hosp", "report:H2/2021-04-01:reminder:7"),
        ("far-hosp", "report:H2/2021-04-01:reminder:1"),
        ("insp", "supervision:zhongwei-2021-conduct:2021-06:reminder:5"),
        ("insp", "supervision:zhongwei-2021-conduct:2021-06:reminder:1"),
        # The first run ever looks back CATCH_UP_DAYS as well.
        *(("hosp", f"order:late:reminder:{d}:2021-06-20") for d in (7, 3, 1)),
        ("insp", "supervision:zhongwei-2021-conduct:2021-05:reminder:5"),
        ("insp", "supervision:zhongwei-2021-conduct:2021-05:reminder:1"),
    }
    q2, q3 = "2021-04-01", "2021-07-01"
    assert caught_up["notifications"] == {
        ("hosp", "order:late:overdue:2021-06-20"),
        *((u, "order:late:escalated:2021-06-20") for u in ("hosp", "coord")),
        *(("far-hosp", f"order:passing:reminder:{d}:2021-06-24") for d in (7, 3)),
        *late,
        ("far-hosp", "order:passing:overdue:2021-06-24"),
        *((u, "order:passing:escalated:2021-06-24") for u in ("far-hosp", "coord", "far-coord")),
        *(("hosp", f"order:later:reminder:{d}:2021-07-05") for d in (7, 3)),
        *((u, f"report:{c}/{q}:created") for u, c in (("hosp", "H1"), ("far-hosp", "H2"))
          for q in (q2, q3)),
        *((u, f"report:{c}/{q2}:overdue") for c, users in (
            ("H1", ("hosp", "coord")), ("C1", ("coord",)),
            ("H2", ("far-hosp", "coord", "far-coord"))) for u in users),
        *((u, f"bulletin:zhongwei-2021-conduct/{q2}:draft") for u in ("coord", "far-coord")),
    }


def test_reminders_caught_up_after_their_date_are_not_mailed(db, world, users, clock):
    """A reminder whose deadline passed during the downtime is recorded, not e-mailed."""
    from casework.notifications.services import Notice, notify

    user = users["institution"]
    user.email = "quality@hospital.example"
    db.session.commit()
    notify([Notice(user.id, "order:1:reminder:3:2021-06-24", "order_deadline_reminder",
                   {"number": "1", "deadline": "2021-06-24", "days": 3},
                   mail=periods.worth_mailing(date(2021, 6, 24), date(2021, 6, 30))),
            Notice(user.id, "order:2:reminder:3:2021-07-05", "order_deadline_reminder",
                   {"number": "2", "deadline": "2021-07-05", "days": 3},
                   mail=periods.worth_mailing(date(2021, 7, 5), date(2021, 6, 30)))])
    db.session.commit()
    status = dict(db.session.execute(
        sa.select(Notification.key, Notification.email_status)).all())
    assert status == {"order:1:reminder:3:2021-06-24": "skipped",
                      "order:2:reminder:3:2021-07-05": "pending"}
