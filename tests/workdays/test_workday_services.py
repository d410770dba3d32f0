"""The calendar in the database: seeding, entering a year, hooks, permissions, deadlines."""

import datetime as dt
import logging

import chinese_calendar
import pytest
import sqlalchemy as sa
from factories import unchanged

from casework import policy
from casework.errors import Invalid, NotPermitted
from casework.workdays import services
from casework.workdays.calendar import Deadline
from casework.workdays.models import CalendarDay, CalendarYear
from casework.workdays.seed import package_days, package_years, seed_from_package

# These tests build the calendar themselves, from nothing.
pytestmark = pytest.mark.usefixtures("empty_calendar")

def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def span(first: str, last: str, name: str | None) -> list[tuple[dt.date, str | None]]:
    start, end = d(first), d(last)
    return [(start + dt.timedelta(days=i), name) for i in range((end - start).days + 1)]


# Hypothetical 2027 entries for the tests (the official notice is not out yet): shaped
# like a real one, with weekend holidays and adjusted working days.
HOLIDAYS_2027 = span("2027-01-01", "2027-01-03", "元旦") + span("2027-02-06", "2027-02-12", "春节")
WORKDAYS_2027 = [(d("2027-02-14"), "春节"), (d("2027-02-20"), "春节")]


@pytest.fixture
def hooks(monkeypatch):
    """A clean hook list for the test (the orders module may have registered its own)."""
    monkeypatch.setattr(services, "_YEAR_CONFIRMED_HOOKS", [])
    return services._YEAR_CONFIRMED_HOOKS


@pytest.fixture
def seeded(db, hooks):
    seed_from_package()
    return db


def _years(db):
    return {y.year: y for y in db.session.scalars(sa.select(CalendarYear))}


def _days(db, year):
    return {(r.date, r.kind, r.name) for r in db.session.scalars(
        sa.select(CalendarDay).where(CalendarDay.year == year))}


# --- seeding ------------------------------------------------------------------------

def test_package_covers_2004_to_2026_and_refuses_2027():
    assert package_years() == range(2004, 2027)
    with pytest.raises(ValueError, match="2027"):
        package_days([2027])
    days_2024 = package_days([2024])[2024]
    assert (d("2024-02-10"), "春节") in days_2024.holidays
    assert days_2024.workdays == [(d("2024-02-04"), "春节"), (d("2024-02-18"), "春节"),
                                  (d("2024-04-07"), "清明"), (d("2024-04-28"), "劳动节"),
                                  (d("2024-05-11"), "劳动节"), (d("2024-09-14"), "中秋"),
                                  (d("2024-09-29"), "国庆节"), (d("2024-10-12"), "国庆节")]


def test_seeding_is_idempotent(db, hooks):
    first = seed_from_package()
    assert len(first) == 23 and all(": added" in line for line in first)
    years = _years(db)
    assert sorted(years) == list(range(2004, 2027))
    assert all(y.confirmed and y.source == "package" and y.entered_by_id is None
               for y in years.values())
    count = db.session.scalar(sa.select(sa.func.count()).select_from(CalendarDay))
    assert count == len(chinese_calendar.holidays) + len(chinese_calendar.workdays)
    again = seed_from_package()
    assert again == [f"{year}: unchanged" for year in range(2004, 2027)]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarDay)) == count


def test_seeding_repairs_a_damaged_package_year(seeded, db):
    db.session.execute(sa.delete(CalendarDay).where(CalendarDay.date == d("2024-09-29")))
    db.session.commit()
    assert services.compute_deadline({"kind": "working_days", "value": 20},
                                     d("2024-09-25")).date == d("2024-10-29")
    summary = seed_from_package([2024])
    assert summary == ["2024: updated (28 holidays, 8 adjusted working days)"]
    assert (d("2024-09-29"), "workday", "国庆节") in _days(db, 2024)


def test_seeding_keeps_a_year_an_admin_entered(db, users, hooks):
    services.enter_year(2026, [(d("2026-01-01"), "元旦")], [(d("2026-01-04"), "元旦")],
                        actor=users["admin"], note="test")
    summary = seed_from_package([2025, 2026])
    assert summary[1] == "2026: kept the admin's entry (differs from the package)"
    assert _years(db)[2026].source == "admin"
    assert _days(db, 2026) == {(d("2026-01-01"), "holiday", "元旦"),
                               (d("2026-01-04"), "workday", "元旦")}


def test_the_seeded_calendar_matches_chinesecalendar_on_every_day(seeded):
    calendar = services.load_calendar()
    day, mismatches = d("2004-01-01"), []
    while day <= d("2026-12-31"):
        if calendar.is_working_day(day) != chinese_calendar.is_workday(day):
            mismatches.append(day)
        day += dt.timedelta(days=1)
    assert mismatches == []
    for sample, name in (("2024-02-12", "春节"), ("2024-10-12", "国庆节"),
                         ("2015-09-03", "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日")):
        assert calendar.name_of(d(sample)) == name


def test_seed_notifies_only_years_newly_confirmed(db, hooks):
    called = []
    services.on_year_confirmed(called.append)
    seed_from_package([2023, 2024], notify=True)
    seed_from_package([2024, 2025], notify=True)
    assert called == [2023, 2024, 2025]


# --- deadlines ------------------------------------------------------------------------

def test_compute_deadline_on_the_official_calendar(seeded):
    rule = {"kind": "working_days", "value": 20}
    # See test_workday_calendar.py for the count by hand.
    assert services.compute_deadline(rule, d("2024-09-25")) == Deadline(d("2024-10-28"))
    assert services.compute_deadline({"kind": "calendar_days", "value": 7},
                                     d("2024-02-03")) == Deadline(d("2024-02-18"))
    with pytest.raises(Invalid):
        services.compute_deadline({"kind": "working_days", "value": 0}, d("2024-09-25"))


def test_a_deadline_in_2027_is_provisional_until_2027_is_entered(seeded, users):
    rule = {"kind": "working_days", "value": 20}
    assert services.compute_deadline(rule, d("2026-12-18")) == \
        Deadline(d("2027-01-15"), True, (2027,))
    services.enter_year(2027, HOLIDAYS_2027, WORKDAYS_2027, actor=users["admin"], note=None)
    assert services.compute_deadline(rule, d("2026-12-18")) == Deadline(d("2027-01-18"))


def test_a_request_sees_a_year_right_after_it_is_saved(app, seeded, users):
    rule = {"kind": "working_days", "value": 20}
    with app.test_request_context():
        assert services.compute_deadline(rule, d("2026-12-18")).provisional
        assert services.load_calendar() is services.load_calendar()  # cached in the request
        services.enter_year(2027, HOLIDAYS_2027, WORKDAYS_2027, actor=users["admin"])
        assert services.compute_deadline(rule, d("2026-12-18")) == Deadline(d("2027-01-18"))


def test_load_calendar_for_some_years_only(seeded):
    calendar = services.load_calendar([2024])
    assert calendar.is_confirmed(2024) and not calendar.is_confirmed(2023)
    assert calendar.add_working_days(d("2024-09-25"), 20).date == d("2024-10-28")


def test_unconfirmed_years_needed(seeded, users):
    assert services.unconfirmed_years_needed(d("2026-11-25")) == [2027]
    assert services.unconfirmed_years_needed(d("2025-06-01")) == []
    assert services.unconfirmed_years_needed(d("2027-01-05")) == [2027, 2028]
    services.enter_year(2027, HOLIDAYS_2027, WORKDAYS_2027, actor=users["admin"])
    assert services.unconfirmed_years_needed(d("2027-01-05")) == [2028]


# --- entering a year -------------------------------------------------------------------

def test_admin_enters_a_year_and_hooks_run_after_the_commit(db, users, hooks):
    seen = []

    @services.on_year_confirmed
    def recompute(year):
        # Runs after the commit: the year is there for anyone who looks.
        row = db.session.get(CalendarYear, year)
        seen.append((year, row.confirmed, len(row.days),
                     services.load_calendar().is_working_day(d("2027-02-14"))))

    services.on_year_confirmed(recompute)  # registering twice keeps one
    row = services.enter_year(2027, HOLIDAYS_2027, WORKDAYS_2027, actor=users["admin"],
                              note=" 国办发明电〔2026〕X号 ")
    assert seen == [(2027, True, 12, True)]
    assert (row.year, row.confirmed, row.source, row.entered_by_id, row.note) == \
        (2027, True, "admin", users["admin"].id, "国办发明电〔2026〕X号")
    assert _days(db, 2027) == {(day, "holiday", name) for day, name in HOLIDAYS_2027} | \
        {(day, "workday", name) for day, name in WORKDAYS_2027}


def test_entering_a_year_again_replaces_its_days(db, users, hooks):
    services.enter_year(2027, HOLIDAYS_2027, WORKDAYS_2027, actor=users["admin"])
    services.enter_year(2027, [(d("2027-01-01"), "元旦")], [], actor=users["admin"],
                        no_workdays=True)
    assert _days(db, 2027) == {(d("2027-01-01"), "holiday", "元旦")}
    assert _years(db)[2027].confirmed


def test_a_failing_hook_is_logged_and_the_others_still_run(db, users, hooks, caplog):
    called = []

    def broken(year):
        raise RuntimeError("boom")

    services.on_year_confirmed(broken)
    services.on_year_confirmed(called.append)
    with caplog.at_level(logging.ERROR):
        services.enter_year(2027, HOLIDAYS_2027, WORKDAYS_2027, actor=users["admin"])
    assert called == [2027]
    assert "boom" in caplog.text
    assert _years(db)[2027].confirmed


def test_a_failing_hook_keeps_nothing_it_wrote_and_the_next_hook_commits(db, users, hooks):
    def broken(year):
        db.session.get(CalendarYear, year).note = "written by the broken hook"
        raise RuntimeError("boom")

    def working(year):
        db.session.get(CalendarYear, year).entered_by_id = users["coordinator"].id

    services.on_year_confirmed(broken)
    services.on_year_confirmed(working)
    services.enter_year(2027, HOLIDAYS_2027, WORKDAYS_2027, actor=users["admin"], note="通知")
    db.session.rollback()  # what is not committed is gone
    db.session.expire_all()
    row = _years(db)[2027]
    assert (row.confirmed, row.note, row.entered_by_id) == (True, "通知", users["coordinator"].id)


@pytest.mark.parametrize("holidays,workdays,kwargs,errors", [
    ([], [], {}, {"holidays": 1, "workdays": 1}),
    (HOLIDAYS_2027 + [(d("2026-12-31"), "元旦")], WORKDAYS_2027, {}, {"holidays": 1}),
    (HOLIDAYS_2027 + [(d("2027-01-01"), "元旦")], WORKDAYS_2027, {}, {"holidays": 1}),
    (HOLIDAYS_2027 + [(d("2027-05-01"), " ")], WORKDAYS_2027, {}, {"holidays": 1}),
    (HOLIDAYS_2027, [(d("2027-02-15"), "春节")], {}, {"workdays": 1}),        # a Monday
    (HOLIDAYS_2027, [(d("2027-02-06"), "春节")], {}, {"workdays": 1}),        # also a holiday
    (HOLIDAYS_2027, [], {}, {"workdays": 1}),                                 # none, not stated
    (HOLIDAYS_2027, WORKDAYS_2027, {"no_workdays": True}, {"workdays": 1}),
    (HOLIDAYS_2027, WORKDAYS_2027, {"note": "x" * 501}, {"note": 1}),
])
def test_enter_year_refuses_bad_entries_and_saves_nothing(db, users, hooks, holidays,
                                                         workdays, kwargs, errors):
    called = []
    services.on_year_confirmed(called.append)
    with pytest.raises(Invalid) as raised:
        services.enter_year(2027, holidays, workdays, actor=users["admin"], **kwargs)
    found = raised.value.details["errors"]
    assert {field: len(messages) for field, messages in found.items()} == errors
    assert _years(db) == {} and called == []


def test_enter_year_refuses_a_year_out_of_range(db, users):
    with pytest.raises(Invalid):
        services.enter_year(1999, [(d("1999-01-01"), "元旦")], [], actor=users["admin"],
                            no_workdays=True)


@pytest.mark.parametrize("role", ["coordinator", "inspector", "institution", "viewer",
                                  "other_institution", "district_coordinator"])
def test_only_admins_enter_a_year(db, users, hooks, role):
    with unchanged(db, "calendar_year", "calendar_day"), pytest.raises(NotPermitted):
        services.enter_year(2027, HOLIDAYS_2027, WORKDAYS_2027, actor=users[role])
    with pytest.raises(NotPermitted):
        services.list_years(users[role])
    with pytest.raises(NotPermitted):
        services.year_view(2027, users[role])
    assert _years(db) == {}
    assert not policy.allows("workdays_manage", users[role])
    assert policy.allows("workdays_manage", users["admin"])


def test_the_system_actor_may_not_enter_a_year(db, hooks):
    with unchanged(db, "calendar_year", "calendar_day"), pytest.raises(NotPermitted):
        services.enter_year(2027, HOLIDAYS_2027, WORKDAYS_2027, actor=policy.SYSTEM)


# --- listing and the command line ---------------------------------------------------------

def test_list_years_counts_days(seeded, users):
    services.enter_year(2027, HOLIDAYS_2027, WORKDAYS_2027, actor=users["admin"], note="n")
    years = services.list_years(users["admin"])
    assert [y.year for y in years[:2]] == [2027, 2026]
    top = years[0]
    assert (top.confirmed, top.source, top.holidays, top.workdays, top.entered_by, top.note) \
        == (True, "admin", 10, 2, users["admin"].display_name, "n")
    assert (years[2].year, years[2].holidays, years[2].workdays) == (2025, 28, 5)


def test_cli_seed_and_show(runner, db, hooks):
    result = runner.invoke(args=["workdays", "seed"])
    assert result.exit_code == 0, result.output
    assert "2024: added (28 holidays, 8 adjusted working days)" in result.output
    result = runner.invoke(args=["workdays", "show", "2024"])
    assert result.exit_code == 0, result.output
    assert "2024: confirmed, source package" in result.output
    assert "  2024-10-01..2024-10-07 国庆节" in result.output
    assert "  2024-09-29 国庆节" in result.output
    result = runner.invoke(args=["workdays", "show", "2027"])
    assert result.exit_code == 0 and "not entered" in result.output
