"""Column types and helpers shared by every model."""

import sqlite3
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.types import TypeDecorator


def new_uuid() -> str:
    """A random UUID as text: the default of the `uuid` columns (inspections, findings,
    attachments)."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    # Through the clock so that rows made while the demo story replays a past day carry
    # that day (casework/clock.replaying); otherwise simply the current time.
    from casework import clock

    return clock.now()


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite keeps no zone, PostgreSQL does; this makes both behave like PostgreSQL so
    that display code can convert to the configured zone without guessing.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def one_of(column: str, values, name: str | None = None) -> sa.CheckConstraint:
    """A named CHECK constraint restricting `column` to `values`."""
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({quoted})", name=name or f"{column}_valid")


# --- dates in SQL -------------------------------------------------------------------------
# Timestamps are stored in UTC; deadlines and "since" dates are local dates. These two
# expressions let a query work in local dates on both databases: PostgreSQL converts with
# its time zone database, SQLite through a function registered on every connection.


class local_date(sa.sql.functions.GenericFunction):
    """local_date(utc_timestamp, zone_name): the date in that zone at that instant."""

    type = sa.Date()
    name = "local_date"
    inherit_cache = True


@compiles(local_date, "postgresql")
def _local_date_postgresql(element, compiler, **kw):
    at, zone = list(element.clauses)
    return f"CAST(timezone({compiler.process(zone, **kw)}, {compiler.process(at, **kw)}) AS DATE)"


class add_days(sa.sql.functions.GenericFunction):
    """add_days(date, n): the date n days later (n a whole number, not a parameter)."""

    type = sa.Date()
    name = "add_days"
    inherit_cache = True


@compiles(add_days)
def _add_days_sqlite(element, compiler, **kw):
    day, days = list(element.clauses)
    return f"date({compiler.process(day, **kw)}, '{int(days.value):+d} days')"


@compiles(add_days, "postgresql")
def _add_days_postgresql(element, compiler, **kw):
    day, days = list(element.clauses)
    return f"CAST({compiler.process(day, **kw)} + {int(days.value):d} AS DATE)"


def _sqlite_local_date(value, zone):
    if value is None:
        return None
    at = datetime.fromisoformat(value)
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    return at.astimezone(ZoneInfo(zone)).date().isoformat()


@sa.event.listens_for(sa.pool.Pool, "connect")
def _sqlite_functions(dbapi_connection, _record):
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("local_date", 2, _sqlite_local_date,
                                         deterministic=True)
