"""The whole Zhongwei campaign, simulated day by day with time-machine.

The campaign is loaded from its definition file (casework/campaigns/definitions/
zhongwei-2021-conduct.yaml) over the test world: Zhongwei city with a tertiary hospital
(H1) and a clinic (C1) in Shapotou district and a secondary hospital (H2) in Zhongning
county, so three cases. Every day from 1 April 2021 to 1 January 2023 (the day after the
campaign, when its last report goes overdue and its last bulletin is drafted) the
scheduler's daily sweeps run once, by `run_sweeps(at)`, at 09:00 in Shanghai, and at
01:00 (17:00 UTC the day before) on the days a reminder must be dated by the local day.
Users act in between: orders are issued at 08:00, reports and rectifications submitted
at noon. Afterwards everything is read back from the rows' own timestamps (history
events, notifications, reports, bulletins) converted to local dates, and counted exactly.
"""

import time
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
import time_machine
from factories import SHANGHAI, add_findings, local, make_order

from casework.bulletins.models import Bulletin
from casework.campaigns.definition import DEFINITIONS_DIR, load_definition
from casework.campaigns.importer import import_campaign
from casework.cases.models import InspectionCase
from casework.history.models import HistoryEvent
from casework.institutions.models import Institution
from casework.jobs.runner import run_sweeps
from casework.notifications.models import Notification
from casework.orders.models import RectificationOrder
from casework.reports.models import ProgressReport
from casework.users.models import User
from workflows import binding

FIRST, LAST = date(2021, 4, 1), date(2023, 1, 1)
# O3's reminder days: the sweeps run at 01:00 local, which is still the day before in UTC.
FINALISED = datetime(2021, 1, 1, tzinfo=UTC)   # before every inspection
EARLY_DAYS = {date(2022, 3, 8), date(2022, 3, 12), date(2022, 3, 14)}
QUARTERS = [(date(2021, 4, 1), date(2021, 6, 30)), (date(2021, 7, 1), date(2021, 9, 30)),
            (date(2021, 10, 1), date(2021, 12, 31)), (date(2022, 1, 1), date(2022, 3, 31)),
            (date(2022, 4, 1), date(2022, 6, 30)), (date(2022, 7, 1), date(2022, 9, 30)),
            (date(2022, 10, 1), date(2022, 12, 31))]
D = timedelta


def local_day(instant: datetime) -> date:
    return instant.astimezone(SHANGHAI).date()


class Simulation:
    """The campaign's world, and what its users do on which days."""

    def __init__(self, db, world):
        self.db, self.world, self.users = db, world, world.users
        self.campaign, opened = import_campaign(
            load_definition(DEFINITIONS_DIR / "zhongwei-2021-conduct.yaml"))
        assert opened == 3
        self.cases = {c.institution.code: c for c in db.session.scalars(
            sa.select(InspectionCase).where(InspectionCase.campaign_id == self.campaign.id))}
        self.orders: dict[str, RectificationOrder] = {}

    def morning(self, day: date):
        inspector = self.users["inspector"]
        issue = {  # name: (case, deadline)
            date(2021, 6, 1): ("O1", "H1", date(2021, 7, 1)),
            date(2021, 9, 1): ("O2", "H2", date(2021, 9, 30)),
            date(2022, 2, 20): ("O3", "H2", date(2022, 3, 15)),
            date(2022, 12, 5): ("O4", "H1", date(2022, 12, 8)),   # three days only
        }
        if day in issue:
            name, code, deadline = issue[day]
            self.orders[name] = make_order(self.db, self.cases[code], inspector,
                                           deadline=deadline, issued_on=day, number=name)
        findings = {date(2021, 5, 20): ("H1", 2), date(2021, 5, 21): ("C1", 3),
                    date(2022, 2, 15): ("H2", 1), date(2022, 8, 8): ("H1", 1)}
        if day in findings:
            code, n = findings[day]
            add_findings(self.db, self.cases[code], inspector, n,
                         inspected_on=day, finalised_at=FINALISED)

    def noon(self, day: date):
        hosp, far_hosp = self.users["institution"], self.users["other_institution"]
        # H1 files every quarterly report on the 25th of the quarter's last month: after
        # the 7-day reminder, before the 1-day one. H2 files only its first, on the due day.
        if day.day == 25 and day.month in (3, 6, 9, 12):
            self._submit_report("H1", day, hosp)
        if day == date(2021, 6, 30):
            self._submit_report("H2", day, far_hosp)
        if day == date(2021, 8, 2):      # O1, escalated, rectified late...
            self._fire("O1", "submit", hosp, report="已整改", evidence_count=1)
        if day == date(2021, 8, 5):      # ...and verified
            self._fire("O1", "verify", self.users["inspector"])
        if day == date(2021, 9, 2):
            self._fire("O2", "acknowledge", far_hosp)
        if day == date(2021, 9, 25):     # after the 7-day reminder, before the 3-day one
            self._fire("O2", "submit", far_hosp, report="已整改", evidence_count=1)
        if day == date(2021, 9, 28):
            self._fire("O2", "verify", self.users["inspector"])

    def _fire(self, name, trigger, actor, **kwargs):
        order = self.db.session.get(RectificationOrder, self.orders[name].id)
        binding.apply(order, trigger, actor=actor, version=order.version, **kwargs)

    def _submit_report(self, code, day, actor):
        report = self.db.session.scalar(sa.select(ProgressReport).where(
            ProgressReport.case_id == self.cases[code].id, ProgressReport.period_start
            <= day, ProgressReport.period_end >= day))
        binding.apply(report, "submit", actor=actor, version=report.version,
                      changes={"body": "本季度治理进展"})

    def run(self):
        failures = []
        traveller = time_machine.travel(local(FIRST, 8), tick=False)
        coordinates = traveller.start()
        try:
            day = FIRST
            while day <= LAST:
                coordinates.move_to(local(day, 8))
                self.morning(day)
                at = local(day, 1 if day in EARLY_DAYS else 9)
                coordinates.move_to(at)
                failures += [(day, r.job, r.error) for r in run_sweeps(at, source="scheduler")
                             if r.outcome != "ok"]
                coordinates.move_to(local(day, 12))
                self.noon(day)
                day += D(days=1)
        finally:
            traveller.stop()
        return failures


def notices(db, kind):
    """{(username, key): local day created} of one kind."""
    return {(user, key): local_day(created) for user, key, created in db.session.execute(
        sa.select(User.username, Notification.key, Notification.created_at)
        .join(User, User.id == Notification.user_id).where(Notification.kind == kind))}


def transitions(db, object_type, ids):
    """{id: [(trigger, local day)]} in order."""
    result = {i: [] for i in ids}
    for object_id, trigger, at in db.session.execute(
            sa.select(HistoryEvent.object_id, HistoryEvent.trigger, HistoryEvent.at)
            .where(HistoryEvent.object_type == object_type, HistoryEvent.object_id.in_(ids))
            .order_by(HistoryEvent.id)):
        result[object_id].append((trigger, local_day(at)))
    return result


def test_the_zhongwei_campaign_day_by_day(db, world, clock):
    clock(local(date(2021, 3, 25)), tick=False)   # the campaign is loaded before it starts
    sim = Simulation(db, world)
    clock(local(FIRST, 8))
    started = time.perf_counter()
    failures = sim.run()
    elapsed = time.perf_counter() - started
    print(f"\nsimulated {(LAST - FIRST).days + 1} days on {db.engine.dialect.name} "
          f"in {elapsed:.1f} s")
    assert failures == []
    db.session.expire_all()
    cases, orders = sim.cases, {n: o.id for n, o in sim.orders.items()}
    h1, c1, h2 = cases["H1"].id, cases["C1"].id, cases["H2"].id

    # --- phases: rectification on 1 May 2021, consolidation on 1 December 2022 -----------
    assert transitions(db, "case", [h1, c1, h2]) == {
        h1: [("start_rectification", date(2021, 5, 1)),
             ("start_consolidation", date(2022, 12, 1))],
        c1: [("start_rectification", date(2021, 5, 1)),
             ("start_consolidation", date(2022, 12, 1))],
        h2: [("start_rectification", date(2021, 5, 1))],   # blocked by O3, escalated
    }
    blocked_key = f"case:{h2}:blocked:start_consolidation:2022-12-01"
    assert notices(db, "case_phase_blocked") == {("coord", blocked_key): date(2022, 12, 1),
                                                 ("far-coord", blocked_key): date(2022, 12, 1)}

    # --- orders: reminders 7/3/1 days before, overdue on deadline + 1, escalated 5 later ---
    o1, o2, o3, o4 = (orders[n] for n in ("O1", "O2", "O3", "O4"))
    assert transitions(db, "order", [o1, o2, o3, o4]) == {
        o1: [("mark_overdue", date(2021, 7, 2)), ("escalate", date(2021, 7, 7)),
             ("submit", date(2021, 8, 2)), ("verify", date(2021, 8, 5))],
        o2: [("acknowledge", date(2021, 9, 2)), ("submit", date(2021, 9, 25)),
             ("verify", date(2021, 9, 28))],
        o3: [("mark_overdue", date(2022, 3, 16)), ("escalate", date(2022, 3, 21))],
        o4: [("mark_overdue", date(2022, 12, 9)), ("escalate", date(2022, 12, 14))],
    }
    assert notices(db, "order_deadline_reminder") == {
        ("hosp", f"order:{o1}:reminder:7:2021-07-01"): date(2021, 6, 24),
        ("hosp", f"order:{o1}:reminder:3:2021-07-01"): date(2021, 6, 28),
        ("hosp", f"order:{o1}:reminder:1:2021-07-01"): date(2021, 6, 30),
        ("far-hosp", f"order:{o2}:reminder:7:2021-09-30"): date(2021, 9, 23),
        ("far-hosp", f"order:{o3}:reminder:7:2022-03-15"): date(2022, 3, 8),
        ("far-hosp", f"order:{o3}:reminder:3:2022-03-15"): date(2022, 3, 12),
        ("far-hosp", f"order:{o3}:reminder:1:2022-03-15"): date(2022, 3, 14),
        # Issued three days before its deadline: no 7-day reminder dated before it existed.
        ("hosp", f"order:{o4}:reminder:3:2022-12-08"): date(2022, 12, 5),
        ("hosp", f"order:{o4}:reminder:1:2022-12-08"): date(2022, 12, 7),
    }
    # O3's reminders were made at 01:00 in Shanghai: the day before in UTC.
    assert sorted(c.astimezone(UTC).date() for c in db.session.scalars(
        sa.select(Notification.created_at).where(
            Notification.key.like(f"order:{o3}:reminder:%")))) == [
        date(2022, 3, 7), date(2022, 3, 11), date(2022, 3, 13)]
    assert notices(db, "order_overdue") == {
        ("hosp", f"order:{o1}:overdue:2021-07-01"): date(2021, 7, 2),
        ("far-hosp", f"order:{o3}:overdue:2022-03-15"): date(2022, 3, 16),
        ("hosp", f"order:{o4}:overdue:2022-12-08"): date(2022, 12, 9),
    }
    assert notices(db, "order_escalated") == {
        ("hosp", f"order:{o1}:escalated:2021-07-01"): date(2021, 7, 7),
        ("coord", f"order:{o1}:escalated:2021-07-01"): date(2021, 7, 7),
        ("far-hosp", f"order:{o3}:escalated:2022-03-15"): date(2022, 3, 21),
        ("coord", f"order:{o3}:escalated:2022-03-15"): date(2022, 3, 21),
        ("far-coord", f"order:{o3}:escalated:2022-03-15"): date(2022, 3, 21),
        ("hosp", f"order:{o4}:escalated:2022-12-08"): date(2022, 12, 14),
        ("coord", f"order:{o4}:escalated:2022-12-08"): date(2022, 12, 14),
    }

    # --- progress reports: 3 cases x 7 quarters, each created on its quarter's first day --
    rows = db.session.execute(
        sa.select(ProgressReport.id, ProgressReport.case_id, ProgressReport.period_start,
                  ProgressReport.period_end, ProgressReport.due_on, ProgressReport.state,
                  ProgressReport.created_at)).all()
    assert len(rows) == 21
    assert sorted((r.case_id, r.period_start, r.period_end, r.due_on, local_day(r.created_at))
                  for r in rows) == sorted(
        (case, start, end, end, start) for case in (h1, c1, h2) for start, end in QUARTERS)
    report = {(r.case_id, r.period_start): r.id for r in rows}
    state = {(r.case_id, r.period_start): r.state for r in rows}
    assert state == {
        **{(h1, s): "submitted" for s, _ in QUARTERS},   # H1 files every quarter in time
        **{(c1, s): "overdue" for s, _ in QUARTERS},     # the clinic never does
        (h2, QUARTERS[0][0]): "submitted",
        **{(h2, s): "overdue" for s, _ in QUARTERS[1:]},
    }
    overdue_on = {i: day for i, moves in transitions(db, "report", list(report.values())).items()
                  for trigger, day in moves if trigger == "mark_overdue"}
    assert overdue_on == {report[(case, start)]: end + D(days=1)
                          for case in (c1, h2) for start, end in QUARTERS
                          if (case, start) != (h2, QUARTERS[0][0])}
    assert len(overdue_on) == 13
    assert max(overdue_on.values()) == date(2023, 1, 1)
    # Created: to H1's and H2's users (the clinic has none).
    assert notices(db, "report_created") == {
        (user, f"report:{report[(case, start)]}:created"): start
        for user, case in (("hosp", h1), ("far-hosp", h2)) for start, _ in QUARTERS}
    # Reminders 7 days and 1 day before the quarter's end: H1 files on the 25th, between.
    assert notices(db, "report_due") == {
        **{("hosp", f"report:{report[(h1, s)]}:reminder:7"): e - D(days=7) for s, e in QUARTERS},
        **{("far-hosp", f"report:{report[(h2, s)]}:reminder:{d}"): e - D(days=d)
           for s, e in QUARTERS for d in (7, 1)},
    }
    assert notices(db, "report_overdue") == {
        **{(user, f"report:{report[(case, s)]}:overdue"): e + D(days=1)
           for case, users in ((c1, ("coord",)), (h2, ("far-hosp", "coord", "far-coord")))
           for s, e in QUARTERS if (case, s) != (h2, QUARTERS[0][0]) for user in users},
    }

    # --- bulletins: one draft per half-year, the day after it ends -----------------------
    drafts = db.session.scalars(sa.select(Bulletin).order_by(Bulletin.period_start)).all()
    assert [(b.period_start, b.period_end, b.state, local_day(b.generated_at)) for b in drafts] == [
        (date(2021, 4, 1), date(2021, 6, 30), "draft", date(2021, 7, 1)),
        (date(2021, 7, 1), date(2021, 12, 31), "draft", date(2022, 1, 1)),
        (date(2022, 1, 1), date(2022, 6, 30), "draft", date(2022, 7, 1)),
        (date(2022, 7, 1), date(2022, 12, 31), "draft", date(2023, 1, 1)),
    ]

    def counts(bulletin):   # secondary and above: H1 and H2, not the clinic
        return {i["code"]: (i["findings"], i["orders"], i["orders_overdue"])
                for i in bulletin.figures["institutions"]}

    # The escalation queue's contract: an id and an interview flag per row, a threshold.
    for b in drafts:
        assert b.figures["threshold"] == {"rate": 5, "count": 5}
        assert all(isinstance(i["id"], int) and i["interview"] is False
                   for i in b.figures["institutions"])
        assert b.figures["totals"]["complaints"] == b.figures["totals"]["disputes"] == 0
    assert [counts(b) for b in drafts] == [
        {"H1": (2, 1, 0), "H2": (0, 0, 0)},   # O1 not yet overdue on 1 July
        {"H1": (0, 0, 0), "H2": (0, 1, 0)},   # O2, closed
        {"H1": (0, 0, 0), "H2": (1, 1, 1)},   # O3, escalated
        {"H1": (1, 1, 1), "H2": (0, 0, 0)},   # O4, escalated
    ]
    assert notices(db, "bulletin_draft") == {
        (user, f"bulletin:{b.id}:draft"): local_day(b.generated_at)
        for b in drafts for user in ("coord", "far-coord")}

    # --- supervision reports: by the 30th of each month, February's last day ------------
    campaign_id = sim.campaign.id
    expected = {}
    for year, month in [(2021, m) for m in range(4, 13)] + [(2022, m) for m in range(1, 13)]:
        due = date(year, month, 28 if month == 2 else 30)
        for d in (5, 1):
            expected[("insp", f"supervision:{campaign_id}:{year}-{month:02d}:reminder:{d}")] = \
                due - D(days=d)
    assert len(expected) == 42
    assert notices(db, "supervision_report_due") == expected

    # --- and nothing else -------------------------------------------------------------
    assert dict(db.session.execute(sa.select(Notification.kind, sa.func.count())
                                   .group_by(Notification.kind)).all()) == {
        "case_phase_blocked": 2, "order_deadline_reminder": 9, "order_overdue": 3,
        "order_escalated": 7, "report_created": 14, "report_due": 7 + 14,
        "report_overdue": 7 + 6 * 3, "bulletin_draft": 8, "supervision_report_due": 42}
    assert {i.code for i in db.session.scalars(sa.select(Institution))} == {"H1", "C1", "H2"}
