"""Working days and Civil Code periods, on known dates. Pure: no app, no database.

The 2024 arrangement below is typed from the State Council's notice for 2024
(国办发明电〔2023〕7号), not taken from a package, so these tests check the counting
against the official calendar itself.
"""

import datetime as dt

import pytest

from casework.workdays.calendar import (
    Deadline,
    DeadlineRule,
    WorkCalendar,
    check_arrangement,
    collapse_entries,
)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def days(first: str, last: str | None = None) -> list[dt.date]:
    start, end = d(first), d(last or first)
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


HOLIDAYS_2024 = {
    **dict.fromkeys(days("2024-01-01"), "元旦"),
    **dict.fromkeys(days("2024-02-10", "2024-02-17"), "春节"),
    **dict.fromkeys(days("2024-04-04", "2024-04-06"), "清明节"),
    **dict.fromkeys(days("2024-05-01", "2024-05-05"), "劳动节"),
    **dict.fromkeys(days("2024-06-10"), "端午节"),
    **dict.fromkeys(days("2024-09-15", "2024-09-17"), "中秋节"),
    **dict.fromkeys(days("2024-10-01", "2024-10-07"), "国庆节"),
}
# Adjusted working days (调休上班), all on weekends.
WORKDAYS_2024 = {
    d("2024-02-04"): "春节", d("2024-02-18"): "春节",     # Sundays
    d("2024-04-07"): "清明节",                             # Sunday
    d("2024-04-28"): "劳动节", d("2024-05-11"): "劳动节",  # Sunday, Saturday
    d("2024-09-14"): "中秋节",                             # Saturday
    d("2024-09-29"): "国庆节", d("2024-10-12"): "国庆节",  # Sunday, Saturday
}

# 2026 as chinesecalendar 1.11 has it; only its December matters below.
HOLIDAYS_2026 = {
    **dict.fromkeys(days("2026-01-01", "2026-01-03"), "元旦"),
    **dict.fromkeys(days("2026-02-15", "2026-02-23"), "春节"),
    **dict.fromkeys(days("2026-10-01", "2026-10-07"), "国庆节"),
}
WORKDAYS_2026 = {d("2026-01-04"): "元旦", d("2026-02-14"): "春节", d("2026-02-28"): "春节",
                 d("2026-09-20"): "国庆节", d("2026-10-10"): "国庆节"}


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar(HOLIDAYS_2024, WORKDAYS_2024, {2024})


def test_the_arrangement_is_what_the_notice_says(cal):
    assert all(w.weekday() >= 5 for w in WORKDAYS_2024)
    assert not cal.is_working_day(d("2024-10-01"))
    assert not cal.is_working_day(d("2024-02-17"))           # Saturday inside 春节
    assert cal.is_working_day(d("2024-09-29"))                # Sunday, worked
    assert cal.is_working_day(d("2024-10-12"))                # Saturday, worked
    assert not cal.is_working_day(d("2024-10-13"))            # plain Sunday
    assert cal.is_working_day(d("2024-10-08"))                # plain Tuesday
    assert cal.kind_of(d("2024-10-01")) == "holiday" and cal.name_of(d("2024-10-01")) == "国庆节"
    assert cal.kind_of(d("2024-09-29")) == "workday"
    assert cal.kind_of(d("2024-10-13")) == "rest" and cal.kind_of(d("2024-10-14")) == "work"


# --- working days -----------------------------------------------------------------

def test_twenty_working_days_from_2024_09_25_across_national_day(cal):
    # Issued Wednesday 2024-09-25, which is not counted (Civil Code art. 201). Counting
    # by hand on the official arrangement (holidays Oct 1–7; worked Sun Sep 29, Sat Oct 12):
    #   Sep 26 Thu 1, Sep 27 Fri 2, (Sat 28 rest), Sun 29 worked 3, Mon 30 4,
    #   (Oct 1–7 holiday), Oct 8 Tue 5, 9 Wed 6, 10 Thu 7, 11 Fri 8, Sat 12 worked 9,
    #   (Sun 13 rest), 14–18 Mon–Fri 10–14, (19–20), 21–25 Mon–Fri 15–19, (26–27),
    #   Mon Oct 28: the 20th working day.
    # 2024-10-30 (a figure sometimes quoted) is what one gets by leaving out the two
    # adjusted working days: exactly the mistake of a calendar without 调休上班.
    counted = [d(x) for x in (
        "2024-09-26", "2024-09-27", "2024-09-29", "2024-09-30", "2024-10-08", "2024-10-09",
        "2024-10-10", "2024-10-11", "2024-10-12", "2024-10-14", "2024-10-15", "2024-10-16",
        "2024-10-17", "2024-10-18", "2024-10-21", "2024-10-22", "2024-10-23", "2024-10-24",
        "2024-10-25", "2024-10-28")]
    assert len(counted) == 20
    for n, expected in enumerate(counted, start=1):
        assert cal.add_working_days(d("2024-09-25"), n) == Deadline(expected, False, ())
    assert cal.add_working_days(d("2024-09-25"), 20).date == d("2024-10-28")


def test_leaving_out_adjusted_working_days_gives_a_wrong_date():
    without_workdays = WorkCalendar(HOLIDAYS_2024, {}, {2024})
    assert without_workdays.add_working_days(d("2024-09-25"), 20).date == d("2024-10-30")
    weekends_only = WorkCalendar({}, {}, {2024})
    assert weekends_only.add_working_days(d("2024-09-25"), 20).date == d("2024-10-23")


@pytest.mark.parametrize("issued,n,expected", [
    # Before the holiday: Thu 8, Fri 9, (Feb 10–17 春节), Sun 18 worked, Mon 19, Tue 20.
    ("2024-02-07", 5, "2024-02-20"),
    # Sun Feb 4 is worked: Fri 2 (1), Sun 4 (2), Mon 5 (3), Tue 6 (4), Wed 7 (5).
    ("2024-02-01", 5, "2024-02-07"),
    # The next working day after Friday Feb 9 is the worked Sunday Feb 18.
    ("2024-02-09", 1, "2024-02-18"),
    # Issued on a holiday: counting starts the day after all the same.
    ("2024-02-12", 1, "2024-02-18"),
    ("2024-02-12", 2, "2024-02-19"),
    # 20 working days over the whole Spring Festival: Feb 5–9 (5), Feb 18–23 (11),
    # Feb 26–Mar 1 (16), Mar 4–7 (20).
    ("2024-02-04", 20, "2024-03-07"),
])
def test_working_days_across_the_spring_festival(cal, issued, n, expected):
    assert cal.add_working_days(d(issued), n) == Deadline(d(expected), False, ())


def test_working_days_across_labour_day(cal):
    # Thu Apr 25 → Fri 26 (1), Sun 28 worked (2), Mon 29 (3), Tue 30 (4), (May 1–5),
    # Mon May 6 (5).
    assert cal.add_working_days(d("2024-04-25"), 5).date == d("2024-05-06")


# --- calendar days ----------------------------------------------------------------

@pytest.mark.parametrize("issued,n,expected", [
    ("2024-03-01", 10, "2024-03-11"),   # ends on a Monday: as it is
    ("2024-03-01", 30, "2024-04-01"),   # Sun Mar 31 is a rest day → Mon Apr 1
    ("2024-09-26", 5, "2024-10-08"),    # Oct 1 holiday → first working day after the run
    ("2024-02-03", 7, "2024-02-18"),    # Feb 10 holiday → worked Sunday Feb 18
    ("2024-09-25", 3, "2024-09-29"),    # Sat Sep 28 rest → worked Sunday Sep 29
    ("2024-10-05", 7, "2024-10-12"),    # ends on the worked Saturday Oct 12: stays
    ("2024-06-07", 3, "2024-06-11"),    # Mon Jun 10 端午 → Tue Jun 11
])
def test_calendar_days_end_on_a_working_day(cal, issued, n, expected):
    assert cal.add_calendar_days(d(issued), n) == Deadline(d(expected), False, ())


# --- months -----------------------------------------------------------------------

@pytest.mark.parametrize("issued,n,expected", [
    ("2024-01-31", 1, "2024-02-29"),    # no Feb 31: the month's last day (leap year), a Thu
    ("2024-03-31", 1, "2024-04-30"),    # no Apr 31: Apr 30, a Tuesday
    ("2024-08-31", 1, "2024-09-30"),    # Sep 30, a Monday
    ("2024-05-31", 1, "2024-07-01"),    # Jun 30 is a Sunday → Mon Jul 1
    ("2024-09-01", 1, "2024-10-08"),    # Oct 1 国庆节 → Oct 8
    ("2024-01-10", 1, "2024-02-18"),    # Feb 10 春节 → worked Sunday Feb 18
    ("2024-01-15", 3, "2024-04-15"),    # same-numbered day, a Monday
    ("2024-03-15", 6, "2024-09-18"),    # Sep 15 中秋 run (15–17) → Wed Sep 18
])
def test_months_end_on_the_same_numbered_day_or_month_end_then_roll(cal, issued, n, expected):
    assert cal.add_months(d(issued), n) == Deadline(d(expected), False, ())


def test_months_across_a_year_end_into_an_unconfirmed_year(cal):
    # 2023 is not in this calendar: Feb 28 2023 (a Tuesday) on weekends alone.
    assert cal.add_months(d("2022-12-31"), 2) == Deadline(d("2023-02-28"), True, (2023,))
    assert cal.add_months(d("2024-11-30"), 3) == Deadline(d("2025-02-28"), True, (2025,))


# --- provisional deadlines ----------------------------------------------------------

def test_a_deadline_reaching_into_an_unconfirmed_year_is_provisional_on_weekends_alone():
    cal = WorkCalendar(HOLIDAYS_2026, WORKDAYS_2026, {2026})
    # Issued Fri 2026-12-18; 2027 unknown, so weekends only there: Dec 21–25 (5),
    # Dec 28–31 (9), Fri Jan 1 2027 (10), Jan 4–8 (15), Jan 11–15 (20).
    assert cal.add_working_days(d("2026-12-18"), 20) == \
        Deadline(d("2027-01-15"), True, (2027,))
    # Staying inside 2026 is not provisional.
    assert cal.add_working_days(d("2026-12-18"), 9) == Deadline(d("2026-12-31"), False, ())
    # Calendar days ending in 2027: Fri Jan 1 counts as a working day for now.
    assert cal.add_calendar_days(d("2026-12-20"), 12) == \
        Deadline(d("2027-01-01"), True, (2027,))


def test_once_the_year_is_entered_the_same_rule_gives_a_confirmed_date():
    # Hypothetical 2027 entries for the test, not the official arrangement.
    holidays = {**HOLIDAYS_2026, **dict.fromkeys(days("2027-01-01", "2027-01-03"), "元旦")}
    cal = WorkCalendar(holidays, WORKDAYS_2026, {2026, 2027})
    rule = {"kind": "working_days", "value": 20}
    # Jan 1 is now a holiday: Dec 21–31 (9), Jan 4–8 (14), Jan 11–15 (19), Mon Jan 18 (20).
    assert cal.deadline_for(rule, d("2026-12-18")) == Deadline(d("2027-01-18"), False, ())
    assert cal.deadline_for({"kind": "calendar_days", "value": 12}, d("2026-12-20")) == \
        Deadline(d("2027-01-04"), False, ())


def test_entries_of_an_unconfirmed_year_are_ignored():
    # A year is only as good as its whole arrangement: half of one is not used.
    cal = WorkCalendar({d("2027-01-01"): "元旦"}, {}, {2026})
    assert cal.is_working_day(d("2027-01-01"))
    assert cal.add_working_days(d("2026-12-31"), 1) == Deadline(d("2027-01-01"), True, (2027,))


def test_every_unconfirmed_year_touched_is_listed():
    cal = WorkCalendar({}, {}, {2025})
    result = cal.add_working_days(d("2024-12-30"), 300)
    assert result.provisional and result.unconfirmed_years == (2024, 2026)


# --- rules --------------------------------------------------------------------------

def test_deadline_for_each_rule_kind(cal):
    issued = d("2024-09-25")
    assert cal.deadline_for({"kind": "working_days", "value": 20}, issued).date == d("2024-10-28")
    assert cal.deadline_for(DeadlineRule("calendar_days", 3), issued).date == d("2024-09-29")
    assert cal.deadline_for({"kind": "months", "value": 1}, issued).date == d("2024-10-25")
    # A date the issuer chose is the deadline as it is, even on a holiday; never provisional.
    assert cal.deadline_for({"kind": "date", "value": "2024-10-03"}, issued) == \
        Deadline(d("2024-10-03"), False, ())
    assert cal.deadline_for({"kind": "date", "value": d("2030-01-01")}, issued) == \
        Deadline(d("2030-01-01"), False, ())


def test_rules_round_trip_through_json():
    for rule in (DeadlineRule("working_days", 20), DeadlineRule("date", d("2024-10-28"))):
        assert DeadlineRule.coerce(rule.to_dict()) == rule
    assert DeadlineRule("date", d("2024-10-28")).to_dict() == \
        {"kind": "date", "value": "2024-10-28"}


@pytest.mark.parametrize("rule", [
    {"kind": "working_days", "value": 0},
    {"kind": "working_days", "value": -3},
    {"kind": "working_days", "value": True},
    {"kind": "working_days", "value": "20"},
    {"kind": "calendar_days", "value": 100000},
    {"kind": "weeks", "value": 2},
    {"kind": "date", "value": 20},
    {"kind": "date", "value": "2024-02-30"},
    {"kind": "months"},
    "20 working days",
])
def test_malformed_rules_are_refused(cal, rule):
    with pytest.raises(ValueError):
        cal.deadline_for(rule, d("2024-09-25"))


def test_a_date_cannot_be_both_holiday_and_working_day():
    with pytest.raises(ValueError):
        WorkCalendar({d("2024-10-12"): "国庆节"}, {d("2024-10-12"): "国庆节"}, {2024})


# --- checking and showing an arrangement -----------------------------------------------

def test_check_arrangement_accepts_the_official_2024():
    assert check_arrangement(2024, list(HOLIDAYS_2024.items()),
                             list(WORKDAYS_2024.items())) == []


def test_check_arrangement_names_every_problem():
    holidays = [(d("2027-01-01"), "元旦"), (d("2026-12-31"), "元旦"), (d("2027-01-01"), "元旦"),
                (d("2027-02-06"), ""), (d("2027-02-07"), "春" * 65)]
    workdays = [(d("2027-02-08"), "春节"), (d("2027-01-01"), None), (d("2027-02-20"), None)]
    found = [(p.field, p.index, p.code) for p in check_arrangement(2027, holidays, workdays)]
    assert found == [
        ("holidays", 1, "not_in_year"),
        ("holidays", 2, "duplicate"),
        ("holidays", 3, "name_missing"),
        ("holidays", 4, "name_too_long"),
        ("workdays", 0, "not_weekend"),
        ("workdays", 1, "not_weekend"),     # Jan 1 2027 is a Friday
        ("workdays", 1, "also_holiday"),
    ]


def test_check_arrangement_wants_holidays_and_the_adjusted_working_days():
    codes = [p.code for p in check_arrangement(2027, [], [])]
    assert codes == ["no_holidays", "no_workdays"]
    holidays = [(d("2027-01-01"), "元旦")]
    assert [p.code for p in check_arrangement(2027, holidays, [])] == ["no_workdays"]
    assert check_arrangement(2027, holidays, [], no_workdays=True) == []
    assert [p.code for p in check_arrangement(2027, holidays, [(d("2027-02-20"), None)],
                                              no_workdays=True)] == ["workdays_and_none"]


def test_collapse_entries_gives_the_form_lines():
    assert collapse_entries(HOLIDAYS_2024.items())[:3] == [
        "2024-01-01 元旦", "2024-02-10..2024-02-17 春节", "2024-04-04..2024-04-06 清明节"]
    assert collapse_entries([(d("2027-02-20"), None), (d("2027-02-21"), None)]) == \
        ["2027-02-20..2027-02-21"]


def test_month_grid_starts_on_monday(cal):
    weeks = cal.month_grid(2024, 10)
    assert weeks[0][0] is None and weeks[0][1].date == d("2024-10-01")  # Oct 1 is a Tuesday
    assert weeks[0][1].kind == "holiday" and weeks[0][1].name == "国庆节"
    cells = {c.date: c.kind for week in weeks for c in week if c}
    assert len(cells) == 31
    assert cells[d("2024-10-12")] == "workday" and cells[d("2024-10-13")] == "rest"
