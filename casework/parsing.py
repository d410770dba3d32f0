"""Lenient parsing of query-string and form values in views: a value that does not parse
is None (the service then says what is missing, in the user's language)."""

from datetime import date

from flask import request


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
