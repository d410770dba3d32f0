"""Guard marking and the guards shared by several machines.

A guard is a plain function `fn(event) -> bool` where `event` is a `transitions.EventData`
(machines are built with `send_event=True`). It reads the row through `event.model` and the
trigger's keyword arguments through `event.kwargs`, and never changes either.

`@guard(message, reads=(...))` attaches the explanation shown when the guard blocks a
transition: either an English sentence or a callable `(event) -> str` for details such as
the list of blocking orders; `reads` names the row attributes the guard and its message
read (besides `state`), so a batch (workflows/binding.apply_batch) loads just those. Guards must not raise on missing or malformed keyword arguments (they
return False instead): `registry.failed_guards` evaluates every guard of a transition, not
just the first failing one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any


class Reason(str):
    """An English explanation that keeps its template and values.

    It reads as the finished English sentence, and the application can still translate
    the template (a msgid) and fill in the values in the user's language.
    """

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Reason:
        self = super().__new__(cls, template % params if params else template)
        self.template = template
        self.params = params
        return self


Message = str | Callable[[Any], str]
GuardFunc = Callable[[Any], bool]

_MESSAGE_ATTR = "_guard_message"
_READS_ATTR = "_guard_reads"


def guard(message: Message, *, reads: tuple[str, ...] = ()) -> Callable[[GuardFunc], GuardFunc]:
    """Mark `fn` as a guard explained by `message` that reads the row attributes `reads`;
    the function itself is returned unchanged."""
    if not (isinstance(message, str) or callable(message)):
        raise TypeError(f"guard message must be a str or a callable, not {type(message).__name__}")
    if isinstance(reads, str) or not all(isinstance(r, str) for r in reads):
        raise TypeError("guard reads must be a tuple of attribute names")

    def mark(fn: GuardFunc) -> GuardFunc:
        setattr(fn, _MESSAGE_ATTR, message)
        setattr(fn, _READS_ATTR, tuple(reads))
        return fn

    return mark


def guard_reads(fn: GuardFunc) -> tuple[str, ...]:
    """The row attributes guard `fn` reads (declared with @guard(..., reads=))."""
    if not is_guard(fn):
        raise TypeError(f"{fn!r} is not marked with @guard")
    return getattr(fn, _READS_ATTR, ())


def is_guard(fn: object) -> bool:
    """True when `fn` was marked with `@guard`."""
    return callable(fn) and hasattr(fn, _MESSAGE_ATTR)


def guard_message(fn: GuardFunc, event: Any) -> Reason:
    """The explanation of guard `fn` for `event`; TypeError if `fn` is not a marked guard."""
    if not is_guard(fn):
        raise TypeError(f"{fn!r} is not marked with @guard")
    message = getattr(fn, _MESSAGE_ATTR)
    message = message(event) if callable(message) else message
    return message if isinstance(message, Reason) else Reason(message)


# Helpers for writing guards -------------------------------------------------------------


def non_blank(value: object) -> bool:
    """True for a string with at least one non-whitespace character."""
    return isinstance(value, str) and bool(value.strip())


def as_date(value: object) -> dt.date | None:
    """`value` as a plain date, or None when it is not a date.

    A datetime is reduced to its date because comparing a datetime with a date raises
    TypeError, and deadlines are whole days.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


def date_after(later: object, earlier: object) -> bool:
    """True when both are dates and `later` is strictly after `earlier`."""
    a, b = as_date(later), as_date(earlier)
    return a is not None and b is not None and a > b


def listed(items: object) -> str:
    """Comma-separated text of a list of short names (e.g. order numbers) for messages."""
    return ", ".join(str(item) for item in (items or ()))


# Common guards ----------------------------------------------------------------------------


@guard("A reason is required.")
def reason_given(event: Any) -> bool:
    """kwargs["comment"] is a non-blank string."""
    return non_blank(event.kwargs.get("comment"))
