"""casework/periods.py: reporting periods, due dates (February!), reminder days."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from casework import clock, periods
from casework.periods import Period

D = date


def test_quarters_of_the_zhongwei_campaign():
    assert periods.quarters(D(2021, 4, 1), D(2022, 12, 31)) == [
        Period(D(2021, 4, 1), D(2021, 6, 30), "2021-Q2"),
        Period(D(2021, 7, 1), D(2021, 9, 30), "2021-Q3"),
        Period(D(2021, 10, 1), D(2021, 12, 31), "2021-Q4"),
        Period(D(2022, 1, 1), D(2022, 3, 31), "2022-Q1"),
        Period(D(2022, 4, 1), D(2022, 6, 30), "2022-Q2"),
        Period(D(2022, 7, 1), D(2022, 9, 30), "2022-Q3"),
        Period(D(2022, 10, 1), D(2022, 12, 31), "2022-Q4"),
    ]


def test_half_years_of_the_zhongwei_campaign_first_one_clipped_to_its_start():
    assert periods.half_years(D(2021, 4, 1), D(2022, 12, 31)) == [
        Period(D(2021, 4, 1), D(2021, 6, 30), "2021-H1"),
        Period(D(2021, 7, 1), D(2021, 12, 31), "2021-H2"),
        Period(D(2022, 1, 1), D(2022, 6, 30), "2022-H1"),
        Period(D(2022, 7, 1), D(2022, 12, 31), "2022-H2"),
    ]


def test_periods_clip_at_both_ends_and_keep_calendar_labels():
    assert periods.quarters(D(2023, 11, 1), D(2024, 2, 10)) == [
        Period(D(2023, 11, 1), D(2023, 12, 31), "2023-Q4"),
        Period(D(2024, 1, 1), D(2024, 2, 10), "2024-Q1"),
    ]
    assert periods.quarters(D(2022, 5, 5), D(2022, 5, 5)) == [
        Period(D(2022, 5, 5), D(2022, 5, 5), "2022-Q2")]


def test_months_have_their_own_lengths():
    months = periods.months(D(2021, 4, 1), D(2022, 12, 31))
    assert len(months) == 21
    assert [m.label for m in months[:3]] == ["2021-04", "2021-05", "2021-06"]
    lengths = {m.label: (m.end - m.start).days + 1 for m in months}
    assert lengths["2021-04"] == 30 and lengths["2021-05"] == 31
    assert lengths["2021-12"] == 31 and lengths["2022-02"] == 28
    assert lengths["2022-06"] == 30 and lengths["2022-07"] == 31
    assert periods.months(D(2024, 2, 1), D(2024, 2, 29)) == [
        Period(D(2024, 2, 1), D(2024, 2, 29), "2024-02")]


def test_unknown_frequency_and_reversed_range_are_refused():
    with pytest.raises(ValueError):
        periods.periods(D(2021, 1, 1), D(2021, 12, 31), "weekly")
    with pytest.raises(ValueError):
        periods.quarters(D(2021, 12, 31), D(2021, 1, 1))


@pytest.mark.parametrize("year, month, expected", [
    (2022, 2, D(2022, 2, 28)),   # due day 30 in February: its last day
    (2024, 2, D(2024, 2, 29)),   # leap year
    (2021, 4, D(2021, 4, 30)),   # 30-day month: the 30th itself
    (2021, 5, D(2021, 5, 30)),   # 31-day month: the 30th, not the 31st
])
def test_due_day_30_clamped_to_the_month(year, month, expected):
    assert periods.clamped_day(year, month, 30) == expected
    (month_period,) = periods.months(D(year, month, 1), periods.last_day(year, month))
    assert periods.due_date(month_period, 30) == expected


def test_due_day_31_and_no_due_day():
    (april,) = periods.months(D(2021, 4, 1), D(2021, 4, 30))
    assert periods.due_date(april, 31) == D(2021, 4, 30)
    q = periods.quarters(D(2021, 4, 1), D(2021, 6, 30))[0]
    assert periods.due_date(q, None) == D(2021, 6, 30)
    assert periods.due_date(q, 15) == D(2021, 6, 15)   # the period's last month
    assert periods.last_day(2100, 2) == D(2100, 2, 28)  # not a leap year


def test_reminders_due_from_their_day_with_catch_up():
    due = D(2022, 3, 15)
    days = (7, 3, 1)
    assert periods.reminders_due(due, days, D(2022, 3, 7), 31) == []
    assert periods.reminders_due(due, days, D(2022, 3, 8), 31) == [7]
    assert periods.reminders_due(due, days, D(2022, 3, 12), 31) == [7, 3]
    assert periods.reminders_due(due, days, D(2022, 3, 15), 31) == [7, 3, 1]
    # After the deadline a catch-up still records them (as daily runs would have), but
    # they are not worth an e-mail any more.
    assert periods.reminders_due(due, days, D(2022, 3, 16), 31) == [7, 3, 1]
    assert periods.worth_mailing(due, D(2022, 3, 15)) is True
    assert periods.worth_mailing(due, D(2022, 3, 16)) is False
    # Catch-up window: a reminder whose day is more than CATCH_UP_DAYS ago is not sent.
    assert periods.reminders_due(due, days, D(2022, 3, 14), 2) == [3, 1]
    # Nothing dated before the thing existed.
    assert periods.reminders_due(due, days, D(2022, 3, 14), 31, D(2022, 3, 10)) == [3, 1]


def test_day_list_parses_the_settings():
    assert periods.day_list("7,3,1") == (7, 3, 1)
    assert periods.day_list(" 1, 7 ,3,,7") == (7, 3, 1)
    assert periods.day_list([5, 1]) == (5, 1)
    assert periods.day_list("") == ()
    with pytest.raises(ValueError):
        periods.day_list("7,0")
    with pytest.raises(ValueError):
        periods.day_list("seven")


def test_local_date_is_the_day_in_the_zone():
    shanghai = ZoneInfo("Asia/Shanghai")
    # 17:00 UTC on 7 March is 01:00 on 8 March in Shanghai.
    assert clock.local_date(datetime(2022, 3, 7, 17, 0, tzinfo=UTC), shanghai) == D(2022, 3, 8)
    assert clock.local_date(datetime(2022, 3, 7, 15, 59, tzinfo=UTC), shanghai) == D(2022, 3, 7)
    assert clock.local_date(datetime(2022, 3, 7, 23, 30), shanghai) == D(2022, 3, 7)
    midnight = clock.local_time(D(2022, 3, 8), in_zone=shanghai)
    assert midnight.astimezone(UTC) == datetime(2022, 3, 7, 16, 0, tzinfo=UTC)
