"""The arrangements of past years, from the chinesecalendar package (2004–2026 in 1.11).

chinesecalendar raises for a year it does not know (2027 in 1.11): the honest answer.
Never fill a missing year from a rule-based guess (python-holidays lists 2027 with
weekend holidays moved to Monday and no adjusted working day, which is not the official
arrangement); an admin enters it from the State Council's notice instead.
"""

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

import chinese_calendar
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from casework import clock
from casework.extensions import db
from casework.workdays.calendar import HOLIDAY, WORKDAY
from casework.workdays.models import CalendarDay, CalendarYear
from workflows import binding


class YearDays(NamedTuple):
    holidays: list[tuple[dt.date, str]]
    workdays: list[tuple[dt.date, str]]


def package_years() -> range:
    """The years the installed chinesecalendar covers (2004–2026 for 1.11)."""
    years = {d.year for d in chinese_calendar.holidays}
    return range(min(years), max(years) + 1)


def _chinese_name(english: str) -> str:
    # The package keys days by the English holiday name; its Holiday enum carries the
    # Chinese one (春节, 国庆节 ...), which is what the users read.
    try:
        return chinese_calendar.Holiday(english).chinese
    except ValueError:
        return english


def package_days(years: Iterable[int]) -> dict[int, YearDays]:
    """{year: YearDays(holidays, workdays)}, each a sorted list of (date, Chinese name).

    Raises ValueError for a year the package does not cover (nothing is guessed).
    """
    covered = package_years()
    result: dict[int, YearDays] = {}
    for year in years:
        if year not in covered:
            raise ValueError(
                f"chinesecalendar {chinese_calendar.__version__} has no arrangement for "
                f"{year} (it covers {covered.start}–{covered.stop - 1}); "
                "enter that year on the working-day calendar page"
            )
        result[year] = YearDays(
            sorted((d, _chinese_name(n)) for d, n in chinese_calendar.holidays.items()
                   if d.year == year),
            sorted((d, _chinese_name(n)) for d, n in chinese_calendar.workdays.items()
                   if d.year == year),
        )
    return result


def seed_from_package(years: Iterable[int] | None = None, *, notify: bool = False) -> list[str]:
    """Insert or update the package's years as confirmed, source 'package'; idempotent.

    A year an admin entered is kept as it is (the admin's entry is the newer word), and
    the summary says when it differs from the package. With `notify`, the year-confirmed
    hooks run for each year that was not confirmed before (leave it off in migrations:
    the hooks may query tables of a later revision). Commits. Returns one line per year.
    """
    from casework.workdays import services

    years = list(package_years() if years is None else years)
    data = package_days(years)
    existing = {row.year: row for row in db.session.scalars(
        sa.select(CalendarYear).where(CalendarYear.year.in_(years))
        .options(selectinload(CalendarYear.days)))}
    summary: list[str] = []
    newly_confirmed: list[int] = []
    with binding.unit_of_work():
        for year in years:
            wanted = {(d, HOLIDAY, n) for d, n in data[year].holidays} | \
                {(d, WORKDAY, n) for d, n in data[year].workdays}
            row = existing.get(year)
            have = {(day.date, day.kind, day.name) for day in row.days} if row else set()
            if row is not None and row.source == "admin":
                differs = " (differs from the package)" if have != wanted else ""
                summary.append(f"{year}: kept the admin's entry{differs}")
                continue
            if row is not None and row.confirmed and have == wanted:
                summary.append(f"{year}: unchanged")
                continue
            if row is None:
                row = CalendarYear(year=year, source="package")
                db.session.add(row)
                action = "added"
            else:
                action = "updated"
            if not row.confirmed:
                newly_confirmed.append(year)
            row.confirmed = True
            row.source = "package"
            row.entered_by_id = None
            row.entered_at = clock.now()
            row.note = f"chinesecalendar {chinese_calendar.__version__}"
            row.days = [CalendarDay(date=d, kind=kind, name=n) for d, kind, n in sorted(wanted)]
            summary.append(f"{year}: {action} ({len(data[year].holidays)} holidays, "
                           f"{len(data[year].workdays)} adjusted working days)")
    services.forget_cached_calendar()
    if notify:
        for year in newly_confirmed:
            services.run_year_confirmed_hooks(year)
    return summary
