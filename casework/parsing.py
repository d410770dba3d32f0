"""Lenient parsing of query-string and form values in views: a value that does not parse
is None (the service then says what is missing, in the user's language)."""

from datetime import date

from flask import request
from flask_babel import gettext as _

from casework.errors import Invalid


def whole(value) -> int | None:
    """A non-negative whole number written in digits, else None."""
    value = str(value if value is not None else "").strip()
    return int(value) if value.isdigit() else None


def day(value) -> date | None:
    """An ISO date (YYYY-MM-DD), else None."""
    try:
        return date.fromisoformat(str(value if value is not None else "").strip())
    except ValueError:
        return None


def int_arg(name: str) -> int | None:
    """The query-string argument `name` as a whole number, else None."""
    return whole(request.args.get(name))


def page_args() -> dict:
    """`page`, `after`, `before` of a keyset list (see pagination.paginate_keyset): with a
    cursor, the page number is only shown (None when the link did not carry it)."""
    after = request.args.get("after") or None
    before = None if after else request.args.get("before") or None
    page = int_arg("page")
    return {"page": page if (after or before) else (page or 1), "after": after,
            "before": before}


def institution_filter() -> dict:
    """The lists' institution filter: `institution_id` (chosen from the suggestions) or,
    typed without choosing, `institution` (part of a name, at most 200 characters)."""
    name = " ".join((request.args.get("institution") or "").split())[:200] or None
    return {"institution_id": int_arg("institution_id"), "institution": name}


def period_args() -> tuple[date | None, date | None]:
    """The `start` and `end` query arguments (YYYY-MM-DD; absent: None). A value that is
    not a date is refused at once (422, in the user's language): unlike the lenient
    parsers above, a period typed wrong is never silently widened to everything."""
    values, errors = [], {}
    for name, message in (("start", _("Enter a valid start date (YYYY-MM-DD).")),
                          ("end", _("Enter a valid end date (YYYY-MM-DD)."))):
        text = request.args.get(name, "").strip()
        try:
            values.append(date.fromisoformat(text) if text else None)
        except ValueError:
            errors[name] = [message]
    if errors:
        raise Invalid(errors)
    return values[0], values[1]
