"""The reporting sweeps: progress reports created per period, reminded, overdue; the
monthly supervision-report reminder (February!)."""

from datetime import UTC, date, timedelta

import pytest
import sqlalchemy as sa
from factories import SHANGHAI, add_cadence, local, reads, sent, state_of, trail, updates

from casework.campaigns.models import ReportingCadence
from casework.cases.models import InspectionCase
from casework.institutions.models import Institution, Region
from casework.notifications.models import Notification
from casework.reports import sweeps
from casework.reports.models import ProgressReport
from casework.users.models import User


@pytest.fixture
def campaign(db, world, clock):
    clock(local(date(2021, 3, 20)))   # cases are opened before the campaign starts
    campaign = world.make_campaign(db)
    add_cadence(db, campaign, "progress_report", "quarterly")
    return campaign


@pytest.fixture
def cases(db, world, campaign):
    return {name: world.make_case(db, institution=getattr(world, name), campaign=campaign)
            for name in ("hospital", "clinic", "far_hospital")}


def reports(db):
    """{(institution code, period start): (state, due_on)}"""
    return {(code, start): (state, due) for code, start, state, due in db.session.execute(
        sa.select(Institution.code, ProgressReport.period_start, ProgressReport.state,
                  ProgressReport.due_on)
        .join(InspectionCase, InspectionCase.id == ProgressReport.case_id)
        .join(Institution, Institution.id == InspectionCase.institution_id))}


def report_id(db, case, start):
    return db.session.scalar(sa.select(ProgressReport.id).where(
        ProgressReport.case_id == case.id, ProgressReport.period_start == start))


Q2, Q3 = date(2021, 4, 1), date(2021, 7, 1)


def test_the_quarters_report_is_created_on_its_first_local_day(db, world, cases, clock):
    # 1 April 00:30 in Shanghai is still 31 March in UTC: the quarter has begun all the same.
    assert sweeps.progress_reports(local(date(2021, 3, 31), 23, 59))["created"] == 0
    clock(local(Q2, 0, 30))
    summary = sweeps.progress_reports(local(Q2, 0, 30))
    assert summary == {"today": "2021-04-01", "created": 3, "reminders": 0, "overdue": 0,
                       "notifications": 2, "periods": ["2021-Q2"]}
    assert reports(db) == {(code, Q2): ("pending", date(2021, 6, 30))
                           for code in ("H1", "C1", "H2")}
    hospital_report = report_id(db, cases["hospital"], Q2)
    assert sent(db) == {("hosp", f"report:{hospital_report}:created"),
                        ("far-hosp", f"report:{report_id(db, cases['far_hospital'], Q2)}:created")}
    note = db.session.scalar(sa.select(Notification).where(Notification.user_id == world.users["institution"].id))
    assert (note.kind, note.link) == ("report_created", f"/reports/{hospital_report}")
    assert note.params == {"campaign": {"zh_CN": "测试专项行动", "en": "Test campaign"},
                           "institution": "中卫市人民医院", "period_start": "2021-04-01",
                           "period_end": "2021-06-30", "due_on": "2021-06-30"}
    # Idempotent.
    assert sweeps.progress_reports(local(Q2, 18))["created"] == 0
    assert len(sent(db)) == 2


def test_closed_cases_and_cases_opened_after_a_period_get_no_report_for_it(
        db, world, campaign, clock):
    world.make_case(db, institution=world.hospital, campaign=campaign, state="closed",
                    final_summary="已完成")
    clock(local(date(2021, 8, 10)))
    late = world.make_case(db, institution=world.far_hospital, campaign=campaign)
    sweeps.progress_reports(local(date(2021, 8, 10)))
    assert reports(db) == {("H2", Q3): ("pending", date(2021, 9, 30))}
    assert report_id(db, late, Q2) is None


def test_reminders_7_and_1_days_before_due_on_local_days(db, world, cases, clock):
    created_on = {}
    day = date(2021, 6, 15)
    sweeps.progress_reports(local(day))
    while day <= date(2021, 7, 2):
        at = local(day, 1)   # 17:00 UTC the day before
        clock(at, tick=False)
        sweeps.progress_reports(at)
        for _, key in sent(db, "report_due"):
            created_on.setdefault(key, day)
        day += timedelta(days=1)
    hospital, far = report_id(db, cases["hospital"], Q2), report_id(db, cases["far_hospital"], Q2)
    assert created_on == {f"report:{hospital}:reminder:7": date(2021, 6, 23),
                          f"report:{far}:reminder:7": date(2021, 6, 23),
                          f"report:{hospital}:reminder:1": date(2021, 6, 29),
                          f"report:{far}:reminder:1": date(2021, 6, 29)}
    local_days = {n.created_at.astimezone(SHANGHAI).date() for n in db.session.scalars(
        sa.select(Notification).where(Notification.kind == "report_due"))}
    assert local_days == {date(2021, 6, 23), date(2021, 6, 29)}


def test_overdue_the_day_after_due_submitted_ones_spared(db, world, users, cases):
    sweeps.progress_reports(local(Q2))
    hospital = db.session.get(ProgressReport, report_id(db, cases["hospital"], Q2))
    clinic = db.session.get(ProgressReport, report_id(db, cases["clinic"], Q2))
    far = db.session.get(ProgressReport, report_id(db, cases["far_hospital"], Q2))
    hospital.state, clinic.state = "submitted", "returned"
    db.session.commit()
    assert sweeps.progress_reports(local(date(2021, 6, 30), 23, 50))["overdue"] == 0
    summary = sweeps.progress_reports(local(date(2021, 7, 1), 1))
    assert (summary["created"], summary["overdue"]) == (3, 2)
    assert reports(db)[("H1", Q2)][0] == "submitted"
    assert {state_of(db, ProgressReport, r.id) for r in (clinic, far)} == {"overdue"}
    assert trail(db, "report", far.id) == [("mark_overdue", "overdue", "system")]
    # Overdue: the institution's users and the coordinators over it (city and county).
    assert sent(db, "report_overdue") == {
        ("far-hosp", f"report:{far.id}:overdue"), ("coord", f"report:{far.id}:overdue"),
        ("far-coord", f"report:{far.id}:overdue"), ("coord", f"report:{clinic.id}:overdue")}
    again = sweeps.progress_reports(local(date(2021, 7, 2)))
    assert (again["created"], again["overdue"], again["notifications"]) == (0, 0, 0)


def test_a_first_run_mid_campaign_creates_every_period_so_far(db, world, cases):
    summary = sweeps.progress_reports(local(date(2021, 11, 15)))
    assert summary["periods"] == ["2021-Q2", "2021-Q3", "2021-Q4"]
    assert (summary["created"], summary["overdue"], summary["reminders"]) == (9, 6, 0)
    states = reports(db)
    assert {k[1]: v[0] for k, v in states.items() if k[0] == "H1"} == {
        Q2: "overdue", Q3: "overdue", date(2021, 10, 1): "pending"}


def test_due_day_of_the_periods_last_month(db, world, clock):
    clock(local(date(2021, 3, 20)))
    campaign = add_cadence(db, world.make_campaign(db), "progress_report", "half_yearly",
                           due_day=31)
    world.make_case(db, campaign=campaign)
    sweeps.progress_reports(local(date(2021, 7, 5)))
    assert reports(db) == {("H1", date(2021, 4, 1)): ("overdue", date(2021, 6, 30)),
                           ("H1", date(2021, 7, 1)): ("pending", date(2021, 12, 31))}


def test_query_count_does_not_grow_with_the_cases(db, world, users, count_queries, clock):
    counts = []
    clock(local(date(2021, 3, 20)))
    for n in (5, 50):
        campaign = add_cadence(db, world.make_campaign(db, code=f"c{n}"), "progress_report",
                               "quarterly")
        institutions = [Institution(code=f"X{n}-{i}", name=f"医院{i}", type="general_hospital",
                                    level="secondary", ownership="public",
                                    region=world.district) for i in range(n)]
        db.session.add_all(institutions)
        db.session.add_all(User(username=f"u{n}-{i}", display_name="u", role="institution",
                                institution=inst, password_hash="x")
                           for i, inst in enumerate(institutions))
        db.session.add_all(InspectionCase(campaign=campaign, institution=inst)
                           for inst in institutions)
        db.session.commit()
        db.session.expire_all()
        # Created on 1 April, reminded on 23 June, overdue on 1 July (with Q3 created).
        per_day = []
        for day in (date(2021, 4, 1), date(2021, 6, 23), date(2021, 7, 1)):
            with count_queries() as statements:
                sweeps.progress_reports(local(day))
            per_day.append(reads(statements))
            if day == date(2021, 7, 1):
                assert updates(statements, "progress_report") == 1   # one for the chunk
        counts.append(per_day)
        db.session.execute(sa.update(ProgressReport).values(state="accepted"))
        db.session.execute(sa.update(InspectionCase).values(state="closed",
                                                            final_summary="已完成"))
        # One campaign per round: the queries grow with campaigns and periods, not cases.
        db.session.execute(sa.delete(ReportingCadence))
        db.session.commit()
    assert counts[0] == counts[1]
    keys = {k for _, k in sent(db)}
    created = sum(1 for k in keys if k.endswith(":created"))
    assert created == 2 * 55   # Q2 and Q3, one institution user each
    assert sum(1 for k in keys if k.endswith(":reminder:7")) == 55
    assert sum(1 for k in keys if k.endswith(":overdue")) == 55


# --- supervision reports ---------------------------------------------------------------

@pytest.fixture
def inspectors(db, world):
    other_city = Region(code="640300", name="吴忠市", level="city")
    db.session.add(other_city)
    db.session.flush()
    other_city.path = f"/{other_city.id}/"

    def inspector(username, region, active=True):
        user = User(username=username, display_name=username, role="inspector", region=region,
                    password_hash="x", active=active)
        db.session.add(user)
        return user

    inspector("county-insp", world.other_district)
    inspector("wuzhong-insp", other_city)   # another city: not this campaign's
    inspector("gone-insp", world.district, active=False)
    db.session.commit()


def _reminder_days(db, clock, start, end, at_hour=1):
    """Run the supervision sweep every day from `start` to `end` at `at_hour` local time;
    returns {key: local day created} for the city inspector."""
    created = {}
    day = start
    while day <= end:
        clock(local(day, at_hour), tick=False)
        sweeps.supervision_report_reminders(local(day, at_hour))
        for user, key in sent(db, "supervision_report_due"):
            if user == "insp":
                created.setdefault(key, day)
        day += timedelta(days=1)
    return created


def test_supervision_reminders_by_the_30th_february_on_its_last_day(db, world, inspectors,
                                                                   clock):
    campaign = add_cadence(db, world.make_campaign(db), "supervision_report", "monthly",
                           due_day=30)
    created = _reminder_days(db, clock, date(2022, 1, 20), date(2022, 3, 31))
    c = campaign.id
    assert created == {
        # The first run looks back CATCH_UP_DAYS: December's, recorded on that day.
        f"supervision:{c}:2021-12:reminder:5": date(2022, 1, 20),
        f"supervision:{c}:2021-12:reminder:1": date(2022, 1, 20),
        f"supervision:{c}:2022-01:reminder:5": date(2022, 1, 25),
        f"supervision:{c}:2022-01:reminder:1": date(2022, 1, 29),
        f"supervision:{c}:2022-02:reminder:5": date(2022, 2, 23),   # due 28 February
        f"supervision:{c}:2022-02:reminder:1": date(2022, 2, 27),
        f"supervision:{c}:2022-03:reminder:5": date(2022, 3, 25),   # due the 30th, not 31st
        f"supervision:{c}:2022-03:reminder:1": date(2022, 3, 29),
    }
    # The city's and the county's inspectors, not another city's nor an inactive one.
    assert {u for u, _ in sent(db)} == {"insp", "county-insp"}
    note = db.session.scalar(sa.select(Notification).where(
        Notification.key == f"supervision:{c}:2022-02:reminder:1",
        Notification.user_id == world.users["inspector"].id))
    assert (note.kind, note.link) == ("supervision_report_due", f"/campaigns/{c}")
    assert note.params == {"campaign": {"zh_CN": "测试专项行动", "en": "Test campaign"},
                           "month": "2022-02", "due_on": "2022-02-28", "days": 1}
    # Sent on 27 February at 01:00 in Shanghai, which is still the 26th in UTC.
    assert note.created_at.astimezone(SHANGHAI).date() == date(2022, 2, 27)
    assert note.created_at.astimezone(UTC).date() == date(2022, 2, 26)


def test_supervision_reminders_in_a_leap_february(db, world, clock):
    campaign = add_cadence(db, world.make_campaign(db, starts_on=date(2024, 1, 1),
                                                   ends_on=date(2024, 12, 31)),
                           "supervision_report", "monthly", due_day=30)
    created = _reminder_days(db, clock, date(2024, 2, 20), date(2024, 2, 29), at_hour=9)
    assert created == {f"supervision:{campaign.id}:2024-01:reminder:5": date(2024, 2, 20),
                       f"supervision:{campaign.id}:2024-01:reminder:1": date(2024, 2, 20),
                       f"supervision:{campaign.id}:2024-02:reminder:5": date(2024, 2, 24),
                       f"supervision:{campaign.id}:2024-02:reminder:1": date(2024, 2, 28)}


def test_supervision_reminders_catch_up_and_stay_unique(db, world):
    campaign = add_cadence(db, world.make_campaign(db), "supervision_report", "monthly",
                           due_day=30)
    # Down from 20 to 29 April: the 29th sends both of April's reminders, once.
    summary = sweeps.supervision_report_reminders(local(date(2021, 4, 29)))
    assert summary["reminders"] == [{"campaign": campaign.id, "month": "2021-04", "days": 5},
                                    {"campaign": campaign.id, "month": "2021-04", "days": 1}]
    assert summary["notifications"] == 2
    assert sweeps.supervision_report_reminders(local(date(2021, 4, 29), 20))["notifications"] == 0
    # After the due date nothing more for April; nothing before the campaign began.
    assert sweeps.supervision_report_reminders(local(date(2021, 5, 1)))["notifications"] == 0
    assert len(sent(db)) == 2


def test_a_crash_mid_creation_keeps_the_committed_chunks_and_the_rerun_finishes(
        db, world, campaign, cases, monkeypatch):
    from casework.jobs import sweeping

    monkeypatch.setattr(sweeping, "CHUNK", 2)   # the chunk size every sweep pages by
    real, calls = sweeps.notify, []

    def crash_on_second_chunk(notices):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("killed")
        return real(notices)

    monkeypatch.setattr(sweeps, "notify", crash_on_second_chunk)
    with pytest.raises(RuntimeError):
        sweeps.progress_reports(local(Q2))
    db.session.rollback()
    # Cases are paged in id order: hospital and clinic made it, with hosp's notice.
    assert set(reports(db)) == {("H1", Q2), ("C1", Q2)}
    assert sent(db) == {("hosp", f"report:{report_id(db, cases['hospital'], Q2)}:created")}
    monkeypatch.setattr(sweeps, "notify", real)
    assert sweeps.progress_reports(local(Q2))["created"] == 1
    assert set(reports(db)) == {("H1", Q2), ("C1", Q2), ("H2", Q2)}
    assert len(sent(db)) == 2
