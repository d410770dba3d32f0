"""Calendar arithmetic for the scheduler's sweeps: reporting periods, due dates, reminders.

Pure functions of dates (no database, no Flask). A reporting period is a calendar month,
quarter or half-year; a campaign's periods are the calendar periods that overlap it,
clipped to its first and last day, so a campaign starting on 1 November has a first
quarter of November–December and nothing before it.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

# Months per period of each cadence frequency (ReportingCadence.frequency).
MONTHS_PER_PERIOD = {"monthly": 1, "quarterly": 3, "half_yearly": 6}


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: first and last day (both included) and a stable label
    ("2021-04", "2021-Q2", "2021-H1"); a clipped period keeps its calendar label."""

    start: date
    end: date
    label: str

    def as_dict(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "label": self.label}


def last_day(year: int, month: int) -> date:
    """The last day of `month` (28, 29, 30 or 31)."""
    return date(year, month, calendar.monthrange(year, month)[1])


def clamped_day(year: int, month: int, day: int) -> date:
    """Day `day` of the month, or the month's last day when the month is shorter
    (due day 30 in February is the 28th, or the 29th in a leap year)."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _label(year: int, month: int, months: int) -> str:
    if months == 1:
        return f"{year:04d}-{month:02d}"
    if months == 3:
        return f"{year:04d}-Q{(month - 1) // 3 + 1}"
    return f"{year:04d}-H{(month - 1) // 6 + 1}"


def periods(start: date, end: date, frequency: str) -> list[Period]:
    """The calendar periods of `frequency` (monthly, quarterly, half_yearly) that overlap
    [start, end], clipped to it, in date order. ValueError for an unknown frequency or
    end before start."""
    try:
        months = MONTHS_PER_PERIOD[frequency]
    except KeyError:
        raise ValueError(f"unknown frequency {frequency!r}") from None
    if end < start:
        raise ValueError(f"period ends ({end}) before it starts ({start})")
    result = []
    year, month = start.year, start.month - (start.month - 1) % months
    while date(year, month, 1) <= end:
        last_month = month + months - 1
        calendar_end = last_day(year, last_month)
        result.append(Period(max(start, date(year, month, 1)), min(end, calendar_end),
                             _label(year, month, months)))
        year, month = (year + 1, 1) if last_month == 12 else (year, last_month + 1)
    return result


def months(start: date, end: date) -> list[Period]:
    return periods(start, end, "monthly")


def quarters(start: date, end: date) -> list[Period]:
    return periods(start, end, "quarterly")


def half_years(start: date, end: date) -> list[Period]:
    return periods(start, end, "half_yearly")


def due_date(period: Period, due_day: int | None) -> date:
    """When a period's report is due: `due_day` of the period's last month (clamped to
    that month's length), or without a due day the period's last day."""
    if due_day is None:
        return period.end
    return clamped_day(period.end.year, period.end.month, due_day)


def reminders_due(due: date, days: Iterable[int], today: date, catch_up_days: int,
                  not_before: date | None = None) -> list[int]:
    """The reminders ("d days before `due`") that should exist by `today`.

    A reminder is due once its date (due − d) has come, and is created late after
    downtime for up to `catch_up_days` — even when `due` has passed meanwhile, so that a
    catch-up leaves the records as daily runs would have (such a late one is not
    e-mailed: see `worth_mailing`) — but never for a date before `not_before` (before the
    order or report existed). Returns the d's, largest first.
    """
    wanted = []
    for d in sorted(set(days), reverse=True):
        on = due - timedelta(days=d)
        if on <= today and on >= today - timedelta(days=catch_up_days) and (
                not_before is None or on >= not_before):
            wanted.append(d)
    return wanted


def worth_mailing(due: date, today: date) -> bool:
    """A reminder created after its due date passed (a catch-up) stays in the inbox only."""
    return due >= today


def day_list(value: str | Iterable[int] | None) -> tuple[int, ...]:
    """A configured list of days ("7,3,1", or already a sequence) as positive ints,
    largest first. ValueError for anything else."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    days = set()
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        number = int(item)
        if number < 1:
            raise ValueError(f"reminder days must be positive, not {number}")
        days.add(number)
    return tuple(sorted(days, reverse=True))


def period_kind(start: date, end: date) -> tuple[str, int, int] | None:
    """("quarter", year, n), ("half", year, n) or ("year", year, 1) when the period is
    exactly that calendar span; None for any other period."""
    if start.day != 1:
        return None
    for kind, months in (("quarter", 3), ("half", 6), ("year", 12)):
        if (start.month - 1) % months:
            continue
        last = start.month + months - 1
        following = date(start.year + (last == 12), last % 12 + 1, 1)
        if (following - end).days == 1:
            return kind, start.year, (start.month - 1) // months + 1
    return None
