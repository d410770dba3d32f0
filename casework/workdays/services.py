"""The working-day calendar: loading it, computing deadlines, entering a year.

Other modules compute deadlines with `compute_deadline` and learn of a newly entered
year through `on_year_confirmed` (the orders module recomputes its provisional
deadlines there), so this module never imports theirs.
"""

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from casework import clock, policy
from casework.errors import Invalid, NotFound, StaleObject
from casework.extensions import db
from casework.users.models import User
from casework.workdays.calendar import (
    HOLIDAY,
    WORKDAY,
    ArrangementProblem,
    DayCell,
    Deadline,
    DeadlineRule,
    WorkCalendar,
    check_arrangement,
    collapse_entries,
)
from casework.workdays.models import CalendarDay, CalendarYear
from workflows import binding

MIN_YEAR, MAX_YEAR = 2000, 2200

# Called with the year after an arrangement is saved (and committed).
_YEAR_CONFIRMED_HOOKS: list[Callable[[int], None]] = []


# --- hooks ----------------------------------------------------------------------

def on_year_confirmed(callback: Callable[[int], None]) -> Callable[[int], None]:
    """Register `callback(year)`, called after a year's arrangement is entered.

    Usable as a decorator; registering the same callback twice keeps one. Callbacks run
    after the commit, in the same app context, each in a unit of work of its own (what
    it writes commits when it returns); one that raises is logged, its unit rolled back,
    and the others still run, so a callback should be a sweep that a later run can redo.
    """
    if callback not in _YEAR_CONFIRMED_HOOKS:
        _YEAR_CONFIRMED_HOOKS.append(callback)
    return callback


def run_year_confirmed_hooks(year: int) -> None:
    for callback in list(_YEAR_CONFIRMED_HOOKS):
        try:
            with binding.unit_of_work():
                callback(year)
        except Exception:
            current_app.logger.exception("year-confirmed hook %r failed for %s", callback, year)


# --- the calendar ---------------------------------------------------------------

def forget_cached_calendar() -> None:
    """Drop this request's cached calendar (after the arrangement changed)."""
    if has_request_context():
        g.pop("_workdays_calendars", None)


def load_calendar(years: Iterable[int] | None = None) -> WorkCalendar:
    """The calendar from the database (all years, or only `years`), in one query.

    Cached for the rest of the request; saving a year drops the cache, so the next
    computation sees it.
    """
    key = None if years is None else tuple(sorted(set(years)))
    cache = g.setdefault("_workdays_calendars", {}) if has_request_context() else {}
    if key in cache:
        return cache[key]
    query = (sa.select(CalendarYear.year, CalendarYear.confirmed, CalendarDay.date,
                       CalendarDay.kind, CalendarDay.name)
             .outerjoin(CalendarDay, CalendarDay.year == CalendarYear.year))
    if key is not None:
        query = query.where(CalendarYear.year.in_(key))
    holidays: dict[dt.date, str | None] = {}
    workdays: dict[dt.date, str | None] = {}
    confirmed: set[int] = set()
    for year, is_confirmed, day, kind, name in db.session.execute(query):
        if is_confirmed:
            confirmed.add(year)
        if day is not None:
            (holidays if kind == HOLIDAY else workdays)[day] = name
    calendar = WorkCalendar(holidays, workdays, confirmed)
    cache[key] = calendar
    return calendar


def compute_deadline(rule: DeadlineRule | Mapping, issued_on: dt.date) -> Deadline:
    """The deadline of `rule` for an order issued on `issued_on`, on the current data.

    Provisional (weekends only) in any year not yet confirmed. Raises Invalid for a
    malformed rule.
    """
    try:
        rule = DeadlineRule.coerce(rule)
    except ValueError as error:
        raise Invalid({"deadline": [_("This deadline cannot be computed: %(reason)s",
                                      reason=str(error))]}) from None
    return load_calendar().deadline_for(rule, issued_on)


def unconfirmed_years_needed(today: dt.date | None = None) -> list[int]:
    """This year and next, those of the two without a confirmed arrangement (for warnings)."""
    today = today or clock.today()
    wanted = (today.year, today.year + 1)
    confirmed = set(db.session.scalars(sa.select(CalendarYear.year).where(
        CalendarYear.year.in_(wanted), CalendarYear.confirmed.is_(True))))
    return [year for year in wanted if year not in confirmed]


# --- entering a year --------------------------------------------------------------

_PROBLEMS = {
    "not_in_year": _l("%(date)s is not in %(year)d."),
    "duplicate": _l("%(date)s is entered twice."),
    "name_missing": _l("%(date)s has no holiday name (for example 春节)."),
    "name_too_long": _l("The name of %(date)s is longer than 64 characters."),
    "not_weekend": _l("%(date)s is a weekday: an adjusted working day (调休上班) is "
                      "always a Saturday or Sunday."),
    "also_holiday": _l("%(date)s is entered as a holiday as well."),
    "no_holidays": _l("Enter at least one public holiday."),
    "no_workdays": _l("Enter the adjusted working days (调休上班) too, or state that this "
                      "year has none: without them the year would count as unconfirmed."),
    "workdays_and_none": _l("Adjusted working days are entered although the year is "
                            "stated to have none."),
}


def describe_problem(problem: ArrangementProblem, year: int) -> str:
    """A problem found by check_arrangement, in the user's language."""
    day = problem.day.isoformat() if problem.day else ""
    return _PROBLEMS[problem.code] % {"date": day, "year": year}


def enter_year(year: int, holidays: list[tuple[dt.date, str | None]],
               workdays: list[tuple[dt.date, str | None]], actor, note: str | None = None,
               *, no_workdays: bool = False) -> CalendarYear:
    """Enter or replace the official arrangement of `year` and mark it confirmed.

    `holidays` are the public holidays (each named, weekend days inside a holiday run
    included), `workdays` the adjusted working days (调休上班, Saturdays or Sundays).
    `no_workdays` states that the year really has none. Replaces every day stored for
    the year, sets source 'admin', commits, then runs the year-confirmed hooks.

    Raises NotPermitted (not an admin), Invalid (every problem, per field; nothing is
    saved), StaleObject (another admin saved the same year at the same moment).
    """
    policy.check("workdays_manage", actor)
    errors: dict[str, list[str]] = {}
    if not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise Invalid({"year": [_("Enter a year between %(min)d and %(max)d.",
                                  min=MIN_YEAR, max=MAX_YEAR)]})
    for problem in check_arrangement(year, holidays, workdays, no_workdays=no_workdays):
        errors.setdefault(problem.field, []).append(describe_problem(problem, year))
    note = (note or "").strip() or None
    if note and len(note) > 500:
        errors.setdefault("note", []).append(_("At most %(max)d characters.", max=500))
    if errors:
        raise Invalid(errors)

    try:
        # The year's row is locked; the unit rolls back (releasing it) on any error.
        with binding.unit_of_work():
            row = db.session.scalar(
                sa.select(CalendarYear).where(CalendarYear.year == year).with_for_update())
            if row is None:
                row = CalendarYear(year=year)
                db.session.add(row)
            else:
                # Replace, not merge: the notice is the whole arrangement of the year.
                db.session.execute(sa.delete(CalendarDay).where(CalendarDay.year == year))
            row.confirmed = True
            row.source = "admin"
            row.entered_by_id = actor.id
            row.entered_at = clock.now()
            row.note = note
            db.session.flush()
            db.session.add_all(
                [CalendarDay(date=d, year=year, kind=HOLIDAY, name=(n or "").strip())
                 for d, n in holidays]
                + [CalendarDay(date=d, year=year, kind=WORKDAY, name=(n or "").strip() or None)
                   for d, n in workdays])
    except IntegrityError:
        # Another admin saved the same year at the same moment; the unit rolled back.
        raise StaleObject() from None
    db.session.expire(row)
    forget_cached_calendar()
    run_year_confirmed_hooks(year)
    return row


# --- pages ------------------------------------------------------------------------

@dataclass(frozen=True)
class YearSummary:
    year: int
    confirmed: bool
    source: str
    holidays: int
    workdays: int
    entered_by: str | None
    entered_at: dt.datetime
    note: str | None


@dataclass(frozen=True)
class YearView:
    """One year for the detail page: its row (None if never entered), month grids and
    its entries as the form's lines."""

    year: int
    row: CalendarYear | None
    confirmed: bool
    months: list[tuple[int, list[list[DayCell | None]]]]
    holiday_lines: list[str]
    workday_lines: list[str]


def list_years(actor) -> list[YearSummary]:
    """Every year in the data, newest first, with its day counts."""
    if actor is not policy.SYSTEM:
        policy.check("workdays_view", actor)
    holidays = sa.func.count(CalendarDay.date).filter(CalendarDay.kind == HOLIDAY)
    workdays = sa.func.count(CalendarDay.date).filter(CalendarDay.kind == WORKDAY)
    rows = db.session.execute(
        sa.select(CalendarYear.year, CalendarYear.confirmed, CalendarYear.source,
                  holidays, workdays, User.display_name, CalendarYear.entered_at,
                  CalendarYear.note)
        .outerjoin(CalendarDay, CalendarDay.year == CalendarYear.year)
        .outerjoin(User, User.id == CalendarYear.entered_by_id)
        .group_by(CalendarYear.year, CalendarYear.confirmed, CalendarYear.source,
                  User.display_name, CalendarYear.entered_at, CalendarYear.note)
        .order_by(CalendarYear.year.desc()))
    return [YearSummary(*row) for row in rows]


def year_view(year: int, actor) -> YearView:
    """The year's arrangement and its twelve month grids (weekends only if unconfirmed)."""
    if actor is not policy.SYSTEM:
        policy.check("workdays_view", actor)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise NotFound()
    row = db.session.scalar(
        sa.select(CalendarYear).where(CalendarYear.year == year)
        .options(selectinload(CalendarYear.days),
                 joinedload(CalendarYear.entered_by)))
    days = row.days if row else []
    confirmed = bool(row and row.confirmed)
    calendar = WorkCalendar({d.date: d.name for d in days if d.kind == HOLIDAY},
                            {d.date: d.name for d in days if d.kind == WORKDAY},
                            [year] if confirmed else [])
    return YearView(
        year=year, row=row, confirmed=confirmed,
        months=[(month, calendar.month_grid(year, month)) for month in range(1, 13)],
        holiday_lines=collapse_entries((d.date, d.name) for d in days if d.kind == HOLIDAY),
        workday_lines=collapse_entries((d.date, d.name) for d in days if d.kind == WORKDAY),
    )
