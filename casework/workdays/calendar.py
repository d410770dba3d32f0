"""Working days (工作日) and deadlines as the Civil Code counts them. Pure: no Flask, no DB.

The official arrangement of each year (public holidays 法定节假日 and adjusted working
days 调休上班, published by the State Council each November/December) is data, handed
in by whoever builds a `WorkCalendar`. A year counts only when it is *confirmed* (its
adjusted working days are in the data too); in any other year the calendar falls back
on weekends alone, and every deadline that touched such a year says so (`provisional`).

Periods (Civil Code arts. 200–204, see DESIGN.md):
- the day of issue is not counted (art. 201);
- N working days end on the N-th working day after the day of issue;
- N calendar days end on the N-th day after it; N months on the same-numbered day of
  the month N months later, or that month's last day when it has no such day (art. 202);
- when a calendar-day or month period ends on a weekend rest day or a public holiday,
  it ends on the first working day after it (art. 203). An adjusted working day on a
  weekend is a working day, so a period may end on a Sunday.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

HOLIDAY = "holiday"
WORKDAY = "workday"  # an adjusted working day on a weekend (调休上班)
DAY_KINDS = (HOLIDAY, WORKDAY)

RULE_KINDS = ("date", "calendar_days", "working_days", "months")
# Far enough for any rectification deadline, short enough to catch a typo (2000 days).
MAX_RULE_VALUE = {"calendar_days": 3660, "working_days": 2500, "months": 120}


@dataclass(frozen=True)
class Deadline:
    """A computed deadline.

    `provisional` is True when the computation looked at a date in a year whose
    arrangement is not confirmed (that year counted weekends only); those years are
    listed in `unconfirmed_years`, ascending.
    """

    date: dt.date
    provisional: bool = False
    unconfirmed_years: tuple[int, ...] = ()


@dataclass(frozen=True)
class DeadlineRule:
    """How a deadline was set, stored with an order so it can be recomputed later.

    kind "date": `value` is the deadline itself (a date the issuer chose, not rolled);
    kinds "calendar_days", "working_days", "months": `value` is a positive int.
    """

    kind: str
    value: dt.date | int

    def __post_init__(self):
        if self.kind not in RULE_KINDS:
            raise ValueError(f"unknown deadline rule kind {self.kind!r}")
        if self.kind == "date":
            if not isinstance(self.value, dt.date) or isinstance(self.value, dt.datetime):
                raise ValueError("a 'date' rule needs a datetime.date value")
        else:
            if isinstance(self.value, bool) or not isinstance(self.value, int):
                raise ValueError(f"a {self.kind!r} rule needs an int value")
            if not 1 <= self.value <= MAX_RULE_VALUE[self.kind]:
                raise ValueError(f"a {self.kind!r} rule needs a value between 1 and "
                                 f"{MAX_RULE_VALUE[self.kind]}")

    @classmethod
    def coerce(cls, rule: DeadlineRule | Mapping) -> DeadlineRule:
        """A rule from itself or from a dict such as {"kind": "working_days", "value": 20}.

        A "date" value may be an ISO string (as stored in JSON). Raises ValueError.
        """
        if isinstance(rule, cls):
            return rule
        if not isinstance(rule, Mapping) or "kind" not in rule or "value" not in rule:
            raise ValueError("a deadline rule needs 'kind' and 'value'")
        kind, value = rule["kind"], rule["value"]
        if kind == "date" and isinstance(value, str):
            value = dt.date.fromisoformat(value)
        return cls(kind, value)

    def to_dict(self) -> dict:
        """JSON-ready: {"kind": ..., "value": int or "YYYY-MM-DD"}."""
        value = self.value.isoformat() if isinstance(self.value, dt.date) else self.value
        return {"kind": self.kind, "value": value}


@dataclass(frozen=True)
class ArrangementProblem:
    """One thing wrong with a year's entries, for `check_arrangement`.

    `field` is "holidays", "workdays" or "year"; `index` points into that list (None for
    the whole list); `other_index` is the earlier entry a duplicate repeats.
    """

    field: str
    index: int | None
    code: str
    day: dt.date | None = None
    other_index: int | None = None


@dataclass(frozen=True)
class DayCell:
    """One day of a month grid: kind is holiday, workday (调休上班), rest (weekend) or work."""

    date: dt.date
    kind: str
    name: str | None = None


@dataclass
class WorkCalendar:
    """Working days from holidays, adjusted working days and the confirmed years.

    `holidays` and `workdays` map dates to names (an iterable of dates is accepted too).
    Entries of years not in `confirmed_years` are ignored: such a year is counted on
    weekends alone, and deadlines touching it are provisional.
    """

    holidays: Mapping[dt.date, str | None] | Iterable[dt.date] = field(default_factory=dict)
    workdays: Mapping[dt.date, str | None] | Iterable[dt.date] = field(default_factory=dict)
    confirmed_years: Iterable[int] = ()

    def __post_init__(self):
        self.confirmed_years = frozenset(self.confirmed_years)
        self.holidays = self._confirmed_only(self.holidays)
        self.workdays = self._confirmed_only(self.workdays)
        both = set(self.holidays) & set(self.workdays)
        if both:
            raise ValueError(f"dates both holiday and adjusted working day: {sorted(both)}")

    def _confirmed_only(self, days) -> dict[dt.date, str | None]:
        if not isinstance(days, Mapping):
            days = dict.fromkeys(days)
        return {d: name for d, name in days.items() if d.year in self.confirmed_years}

    # --- single days ---------------------------------------------------------------

    def is_confirmed(self, year: int) -> bool:
        return year in self.confirmed_years

    def is_working_day(self, day: dt.date) -> bool:
        """Whether people work on `day` (weekends alone in an unconfirmed year)."""
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def kind_of(self, day: dt.date) -> str:
        """"holiday", "workday" (adjusted, 调休上班), "rest" (weekend) or "work"."""
        if day in self.holidays:
            return HOLIDAY
        if day in self.workdays:
            return WORKDAY
        return "rest" if day.weekday() >= 5 else "work"

    def name_of(self, day: dt.date) -> str | None:
        return self.holidays.get(day) or self.workdays.get(day)

    # --- periods -------------------------------------------------------------------

    def add_working_days(self, start: dt.date, n: int) -> Deadline:
        """The n-th working day after `start` (which is not counted); n >= 1."""
        _positive(n)
        touched: set[int] = set()
        day, counted = start, 0
        while counted < n:
            day += dt.timedelta(days=1)
            touched.add(day.year)
            if self.is_working_day(day):
                counted += 1
        return self._deadline(day, touched)

    def add_calendar_days(self, start: dt.date, n: int) -> Deadline:
        """`start` + n days; when that is a rest day or holiday, the next working day."""
        _positive(n)
        return self._rolled(start + dt.timedelta(days=n))

    def add_months(self, start: dt.date, n: int) -> Deadline:
        """The same-numbered day n months after `start`, or that month's last day;
        when that is a rest day or holiday, the next working day."""
        _positive(n)
        months = start.month - 1 + n
        year, month = start.year + months // 12, months % 12 + 1
        last = _stdlib_calendar.monthrange(year, month)[1]
        return self._rolled(dt.date(year, month, min(start.day, last)))

    def deadline_for(self, rule: DeadlineRule | Mapping, issued_on: dt.date) -> Deadline:
        """The deadline `rule` gives for an order issued on `issued_on`.

        A "date" rule is the date itself: the issuer chose it, so it is neither rolled
        nor provisional. Raises ValueError for a malformed rule.
        """
        rule = DeadlineRule.coerce(rule)
        if rule.kind == "date":
            return Deadline(rule.value)
        compute = {"calendar_days": self.add_calendar_days,
                   "working_days": self.add_working_days,
                   "months": self.add_months}[rule.kind]
        return compute(issued_on, rule.value)

    def _rolled(self, end: dt.date) -> Deadline:
        touched = {end.year}
        while not self.is_working_day(end):
            end += dt.timedelta(days=1)
            touched.add(end.year)
        return self._deadline(end, touched)

    def _deadline(self, day: dt.date, touched_years: set[int]) -> Deadline:
        unconfirmed = tuple(sorted(y for y in touched_years if y not in self.confirmed_years))
        return Deadline(day, bool(unconfirmed), unconfirmed)

    # --- display -------------------------------------------------------------------

    def month_grid(self, year: int, month: int) -> list[list[DayCell | None]]:
        """Weeks (Monday first, as Chinese calendars print) of one month; None pads."""
        weeks = []
        for week in _stdlib_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            weeks.append([DayCell(d, self.kind_of(d), self.name_of(d)) if d.month == month
                          else None for d in week])
        return weeks


def _positive(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"a period needs a whole number of at least 1, not {n!r}")


def check_arrangement(year: int, holidays: list[tuple[dt.date, str | None]],
                      workdays: list[tuple[dt.date, str | None]],
                      *, no_workdays: bool = False) -> list[ArrangementProblem]:
    """Everything wrong with a year's entries; empty when they can be saved.

    Codes: not_in_year, duplicate, name_missing, name_too_long (holidays and
    workdays); not_weekend (an adjusted working day must be a Saturday or Sunday);
    also_holiday (a working day that is also entered as a holiday); no_holidays;
    no_workdays (none entered and `no_workdays` was not stated: a year without its
    adjusted working days is not the official arrangement).
    """
    problems: list[ArrangementProblem] = []
    holiday_at: dict[dt.date, int] = {}
    for field_name, entries in (("holidays", holidays), ("workdays", workdays)):
        seen: dict[dt.date, int] = {}
        for index, (day, name) in enumerate(entries):
            name = (name or "").strip()
            if day.year != year:
                problems.append(ArrangementProblem(field_name, index, "not_in_year", day))
            if day in seen:
                problems.append(ArrangementProblem(field_name, index, "duplicate", day,
                                                   other_index=seen[day]))
            else:
                seen[day] = index
            if field_name == "holidays" and not name:
                problems.append(ArrangementProblem(field_name, index, "name_missing", day))
            if len(name) > 64:
                problems.append(ArrangementProblem(field_name, index, "name_too_long", day))
            if field_name == "workdays":
                if day.weekday() < 5:
                    problems.append(ArrangementProblem(field_name, index, "not_weekend", day))
                if day in holiday_at:
                    problems.append(ArrangementProblem(field_name, index, "also_holiday", day,
                                                       other_index=holiday_at[day]))
        if field_name == "holidays":
            holiday_at = seen
    if not holidays:
        problems.append(ArrangementProblem("holidays", None, "no_holidays"))
    if not workdays and not no_workdays:
        problems.append(ArrangementProblem("workdays", None, "no_workdays"))
    if workdays and no_workdays:
        problems.append(ArrangementProblem("workdays", None, "workdays_and_none"))
    return problems


def collapse_entries(entries: Iterable[tuple[dt.date, str | None]]) -> list[str]:
    """Entries as the admin form's lines: consecutive days with one name become a range.

    ("2024-02-10..2024-02-17 春节"), so a saved year can be edited and saved again.
    """
    lines: list[str] = []
    run: list = []  # [first, last, name]
    for day, name in sorted(entries, key=lambda e: e[0]):
        if run and name == run[2] and day == run[1] + dt.timedelta(days=1):
            run[1] = day
            continue
        if run:
            lines.append(_line(*run))
        run = [day, day, name]
    if run:
        lines.append(_line(*run))
    return lines


def _line(first: dt.date, last: dt.date, name: str | None) -> str:
    span = first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}"
    return f"{span} {name}" if name else span
