"""The form for entering a year's arrangement: one line per holiday or adjusted working day.

Lines are `YYYY-MM-DD name` or a range `YYYY-MM-DD..YYYY-MM-DD name` (e.g.
`2027-02-06..2027-02-12 春节`); blank lines and lines starting with # are skipped. Every
wrong line is reported with its number and what is wrong, and the form is valid only
when every line is right, so nothing is saved from a half-correct text.
"""

import datetime as dt
import re
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from casework.workdays.calendar import check_arrangement
from casework.workdays.services import describe_problem

MAX_LINES = 200
MAX_RANGE_DAYS = 31  # the longest official holiday run is nine days: longer is a typo
_DATE = r"\d{4}[-/]\d{1,2}[-/]\d{1,2}"
# Full-width tilde and 至 too: that is how the State Council's notices write ranges.
_LINE = re.compile(rf"^(?P<first>{_DATE})(?:\s*(?:\.\.|~|～|至)\s*(?P<last>[\d/-]+))?"
                   # The name after a space, or straight after the date ("2027-01-01元旦"),
                   # but never a half-written range ("2027-02-06..").
                   r"(?:(?:\s+|(?=[^\d\s]))(?![.~～至\s])(?P<name>.*))?$")


@dataclass(frozen=True)
class Entry:
    day: dt.date
    name: str
    line: int


def _date(text: str) -> dt.date | None:
    parts = re.split(r"[-/]", text)
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    try:
        return dt.date(*(int(p) for p in parts))
    except ValueError:
        return None


def parse_lines(text: str) -> tuple[list[Entry], list[tuple[int, str]]]:
    """Entries (ranges expanded, one per day) and the errors as (line number, message)."""
    entries: list[Entry] = []
    errors: list[tuple[int, str]] = []
    lines = (text or "").splitlines()
    if len(lines) > MAX_LINES:
        return [], [(0, _("At most %(max)d lines.", max=MAX_LINES))]
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            errors.append((number, _(
                "Line %(line)d: “%(text)s” is not understood. Write a date and a name "
                "(2027-01-01 元旦) or a range and a name (2027-02-06..2027-02-12 春节).",
                line=number, text=line[:40])))
            continue
        first = _date(match["first"])
        last = _date(match["last"]) if match["last"] else first
        bad = [t for t, d in ((match["first"], first), (match["last"], last)) if t and d is None]
        if bad:
            errors.append((number, _("Line %(line)d: “%(value)s” is not a date. Write "
                                     "YYYY-MM-DD, for example 2027-02-06.",
                                     line=number, value=bad[0][:20])))
            continue
        if last < first:
            errors.append((number, _("Line %(line)d: the range ends before it starts.",
                                     line=number)))
            continue
        if (last - first).days >= MAX_RANGE_DAYS:
            errors.append((number, _("Line %(line)d: a range of more than %(max)d days is "
                                     "surely a typing error.", line=number,
                                     max=MAX_RANGE_DAYS)))
            continue
        name = (match["name"] or "").strip()
        day = first
        while day <= last:
            entries.append(Entry(day, name, number))
            day += dt.timedelta(days=1)
    return entries, errors


class YearForm(FlaskForm):
    """A year's public holidays and adjusted working days (调休上班), as text."""

    holidays = TextAreaField(_l("Public holidays"), validators=[
        Length(max=20000, message=_l("At most %(max)d characters.")),
    ])
    workdays = TextAreaField(_l("Adjusted working days (weekend days worked)"), validators=[
        Length(max=20000, message=_l("At most %(max)d characters.")),
    ])
    no_workdays = BooleanField(_l("This year has no adjusted working days"))
    note = StringField(_l("Source (notice number, date)"), validators=[
        Optional(), Length(max=500, message=_l("At most %(max)d characters.")),
    ])

    def __init__(self, year: int, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.year = year
        self.holiday_entries: list[tuple[dt.date, str]] = []
        self.workday_entries: list[tuple[dt.date, str]] = []

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        holidays, holiday_errors = parse_lines(self.holidays.data)
        workdays, workday_errors = parse_lines(self.workdays.data)
        entries = {"holidays": holidays, "workdays": workdays}
        found = {"holidays": list(holiday_errors), "workdays": list(workday_errors)}
        unreadable = bool(holiday_errors or workday_errors)
        # The readable lines are judged even when others are not, so that one round
        # shows every mistake; only the whole-list checks wait for a fully read text.
        problems = check_arrangement(
            self.year, [(e.day, e.name) for e in holidays], [(e.day, e.name) for e in workdays],
            no_workdays=bool(self.no_workdays.data))
        shown: set[tuple[str, int, str]] = set()
        for problem in problems:
            message = describe_problem(problem, self.year)
            if problem.index is None:
                if not unreadable:
                    found[problem.field].append((0, message))
                continue
            line = entries[problem.field][problem.index].line
            # One message per line and kind: a wrong range is one mistake, not seven.
            if (problem.field, line, problem.code) in shown:
                continue
            shown.add((problem.field, line, problem.code))
            if problem.code == "also_holiday":
                message = _("Line %(line)d: %(problem)s (holidays, line %(other)d)",
                            line=line, problem=message,
                            other=holidays[problem.other_index].line)
            elif problem.code == "duplicate":
                message = _("Line %(line)d: %(problem)s (first on line %(other)d)",
                            line=line, problem=message,
                            other=entries[problem.field][problem.other_index].line)
            else:
                message = _("Line %(line)d: %(problem)s", line=line, problem=message)
            found[problem.field].append((line, message))
        for name, errors in found.items():
            field = getattr(self, name)
            # In line order, whatever found them.
            field.errors = [*field.errors, *(m for _line, m in sorted(errors, key=lambda e: e[0]))]
        if unreadable or problems:
            return False
        self.holiday_entries = [(e.day, e.name) for e in holidays]
        self.workday_entries = [(e.day, e.name or None) for e in workdays]
        return valid
