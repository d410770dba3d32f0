"""The one source of "now" and "today", in the configured time zone.

Deadlines and phases are local dates (Asia/Shanghai by default); storing UTC and
asking for the local date here keeps the two from drifting around midnight.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
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
