"""The one source of "now" and "today", in the configured time zone, and the helpers
between instants and local days.

Deadlines and phases are local dates (Asia/Shanghai by default); storing UTC and
asking for the local date here keeps the two from drifting around midnight.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, tzinfo
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

# Set only by `replaying()`: the demo story runs the real services at past instants.
_replayed: ContextVar[datetime | None] = ContextVar("replayed_now", default=None)


def zone() -> ZoneInfo:
    name = current_app.config["TIMEZONE"] if has_app_context() else "Asia/Shanghai"
    return ZoneInfo(name)


def now() -> datetime:
    return _replayed.get() or datetime.now(UTC)


def today() -> date:
    return now().astimezone(zone()).date()


def local_date(at: datetime, in_zone: tzinfo | None = None) -> date:
    """The calendar day `at` falls on in `in_zone` (default the configured zone): the day
    every sweep reasons about. A naive `at` is taken as local time."""
    if at.tzinfo is None:
        return at.date()
    return at.astimezone(in_zone or zone()).date()


def local_time(day: date, at: time = time.min, in_zone: tzinfo | None = None) -> datetime:
    """The aware instant of local time `at` (default midnight) on `day` in `in_zone`
    (default the configured zone)."""
    return datetime.combine(day, at, tzinfo=in_zone or zone())


def localized(at: datetime) -> datetime:
    """`at` as an aware instant: a naive one is local time in the configured zone (as
    users mean a time they type), an aware one is kept."""
    return at.replace(tzinfo=zone()) if at.tzinfo is None else at


def start_of_day(day: date) -> datetime:
    """The UTC instant at which the local `day` begins."""
    return local_time(day).astimezone(UTC)


@contextmanager
def replaying(at: datetime):
    """Within the block, "now" is `at` (aware) for every service and column default.

    For casework/demo/story.py, which tells a campaign's story through the same services
    users call, on the days it happened. Never used by requests or jobs.
    """
    if at.tzinfo is None:
        raise ValueError("replaying() needs an aware datetime")
    token = _replayed.set(at.astimezone(UTC))
    try:
        yield
    finally:
        _replayed.reset(token)
