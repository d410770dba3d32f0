"""The one source of "now" and "today", in the configured time zone.

Deadlines and phases are local dates (Asia/Shanghai by default); storing UTC and
asking for the local date here keeps the two from drifting around midnight.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def zone() -> ZoneInfo:
    name = current_app.config["TIMEZONE"] if has_app_context() else "Asia/Shanghai"
    return ZoneInfo(name)


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return datetime.now(zone()).date()
