"""One active scheduler per database: the others stand by until it is gone.

APScheduler 3 must never have two schedulers on one job store, and two schedulers would
each run every job. So `flask scheduler run` first calls `acquire()`, which blocks until
this process is the only one allowed to schedule:

- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) on a connection
  held for the life of the process. The server releases it the moment that session
  ends, however the process died (SIGKILL included).
- SQLite, and any other database: the `scheduler_lease` row. It is taken when missing
  or expired and renewed every third of SCHEDULER_LEASE_SECONDS by a background thread;
  a killed holder stops renewing and its lease runs out. Hosts sharing a database need
  synchronised clocks (NTP), as the expiry is compared with each host's clock.

On PostgreSQL the lease row is written as well, so the jobs page shows who leads either
way. A leader that finds it has lost the lock (its lease taken over, its lock session
gone) sets `lost` and calls its `on_lost` callbacks: the scheduler then stops and exits
so that a process manager restarts it as a standby.
"""

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from casework.jobs.models import SchedulerLease

log = logging.getLogger("casework.scheduler")

LEASE_NAME = "scheduler"
# The advisory lock key: any constant the application uses for nothing else
# (the ASCII of "CASEJOBS" as a signed 64-bit integer).
ADVISORY_LOCK_KEY = int.from_bytes(b"CASEJOBS", "big", signed=True)

_lease = SchedulerLease.__table__
_BACKEND_PID = sa.text("SELECT pg_backend_pid()")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Leadership:
    """This process's hold on the scheduler lock; `release()` gives it up."""

    def __init__(self, engine: sa.Engine, holder: str, lease_seconds: int, mode: str,
                 connection: sa.Connection | None = None):
        self.engine = engine
        self.holder = holder
        self.lease_seconds = lease_seconds
        self.mode = mode  # "advisory" (PostgreSQL) or "lease"
        self.lost = threading.Event()
        self._connection = connection  # the advisory lock's session
        self._backend_pid = connection.scalar(_BACKEND_PID) if connection is not None else None
        self._expires_at: datetime | None = None
        self._callbacks: list[Callable[[], None]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._released = False

    def __repr__(self):
        return f"<Leadership {self.holder} ({self.mode})>"

    @property
    def held(self) -> bool:
        return not self._released and not self.lost.is_set()

    def on_lost(self, callback: Callable[[], None]) -> None:
        """Call `callback()` (from the renewal thread) if leadership is lost."""
        self._callbacks.append(callback)
        if self.lost.is_set():
            callback()

    # --- keeping it ---------------------------------------------------------------

    def renew(self) -> bool:
        """Renew the lease (and check the lock); False once leadership is lost."""
        if not self.held:
            return False
        if self.mode == "advisory":
            try:
                # The lock lives as long as its session: if the session is gone (even if
                # the connection reconnected since), so is the lock, and another
                # scheduler may already hold it.
                same = self._connection.scalar(_BACKEND_PID) == self._backend_pid
            except SQLAlchemyError:
                same = False
            if not same:
                log.error("the scheduler lock's database session was lost")
                self._lose()
                return False
            try:
                self._write_lease_row()
            except SQLAlchemyError:
                log.warning("could not update the scheduler lease row", exc_info=True)
            return True
        now = _utcnow()
        try:
            with self.engine.begin() as conn:
                renewed = conn.execute(
                    _lease.update()
                    .where(_lease.c.name == LEASE_NAME, _lease.c.holder == self.holder)
                    .values(expires_at=now + timedelta(seconds=self.lease_seconds))
                ).rowcount
        except SQLAlchemyError:
            # A database that is briefly unreachable (or a locked SQLite file) does
            # not end leadership while the lease it last wrote still runs.
            if self._expires_at is not None and _utcnow() < self._expires_at:
                log.warning("could not renew the scheduler lease; retrying", exc_info=True)
                return True
            log.error("the scheduler lease expired before it could be renewed")
            self._lose()
            return False
        if renewed != 1:
            log.error("the scheduler lease was taken over by another scheduler")
            self._lose()
            return False
        self._expires_at = now + timedelta(seconds=self.lease_seconds)
        return True

    def _write_lease_row(self, acquired: bool = False) -> None:
        now = _utcnow()
        values = {"holder": self.holder,
                  "expires_at": now + timedelta(seconds=self.lease_seconds)}
        if acquired:
            values["acquired_at"] = now
        with self.engine.begin() as conn:
            if self.mode == "advisory" and not acquired:
                # Only our own row: after a takeover the other leader's row stays.
                query = _lease.update().where(_lease.c.name == LEASE_NAME,
                                              _lease.c.holder == self.holder)
            else:
                query = _lease.update().where(_lease.c.name == LEASE_NAME)
            if conn.execute(query.values(**values)).rowcount == 0 and acquired:
                conn.execute(_lease.insert().values(name=LEASE_NAME,
                                                    **{"acquired_at": now, **values}))

    def _lose(self) -> None:
        if self.lost.is_set():
            return
        self.lost.set()
        self._stop.set()
        for callback in list(self._callbacks):
            try:
                callback()
            except Exception:
                log.exception("on_lost callback %r failed", callback)

    def _renew_forever(self) -> None:
        interval = max(self.lease_seconds / 3, 0.1)
        while not self._stop.wait(interval):
            if not self.renew():
                return

    def start_renewing(self) -> None:
        self._thread = threading.Thread(target=self._renew_forever, daemon=True,
                                        name="scheduler-lease")
        self._thread.start()

    # --- giving it up -------------------------------------------------------------

    def release(self) -> None:
        """Give up leadership: a standby takes over at its next poll. Idempotent."""
        if self._released:
            return
        self._released = True
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        try:
            with self.engine.begin() as conn:
                # Expired now rather than deleted: the jobs page still shows who led.
                conn.execute(_lease.update()
                             .where(_lease.c.name == LEASE_NAME,
                                    _lease.c.holder == self.holder)
                             .values(expires_at=_utcnow()))
        except SQLAlchemyError:
            log.warning("could not mark the scheduler lease released", exc_info=True)
        if self._connection is not None:
            try:
                self._connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"),
                                         {"key": ADVISORY_LOCK_KEY})
            except SQLAlchemyError:
                pass  # the session is gone, and the lock with it
            # Closed for good, not returned to the pool: nothing may inherit the session.
            _discard(self._connection)
            self._connection = None
        log.info("released the scheduler lock (%s)", self.holder)


# --- getting it -----------------------------------------------------------------

def _discard(connection: sa.Connection) -> None:
    """Close a connection for good (not back to the pool), whatever state it is in."""
    try:
        connection.invalidate()
    except SQLAlchemyError:
        pass
    try:
        connection.close()
    except SQLAlchemyError:
        pass


def _try_lease(engine: sa.Engine, holder: str, lease_seconds: int) -> datetime | None:
    """Take the lease row if it is free, expired or already ours; its expiry, or None."""
    now = _utcnow()
    expires = now + timedelta(seconds=lease_seconds)
    with engine.begin() as conn:
        taken = conn.execute(
            _lease.update()
            .where(_lease.c.name == LEASE_NAME,
                   sa.or_(_lease.c.expires_at <= now, _lease.c.holder == holder))
            .values(holder=holder, acquired_at=now, expires_at=expires)
        ).rowcount
        if taken == 1:
            return expires
        if conn.execute(sa.select(_lease.c.name).where(_lease.c.name == LEASE_NAME)).first():
            return None
    try:
        with engine.begin() as conn:
            conn.execute(_lease.insert().values(name=LEASE_NAME, holder=holder,
                                                acquired_at=now, expires_at=expires))
    except IntegrityError:
        return None  # another scheduler inserted it first
    return expires


def current_holder(engine: sa.Engine) -> tuple[str, datetime] | None:
    """(holder, expires_at) of the lease row, or None when there is none."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(_lease.c.holder, _lease.c.expires_at)
                           .where(_lease.c.name == LEASE_NAME)).first()
    return (row.holder, row.expires_at) if row else None


def acquire(app, holder: str, *, stop: threading.Event | None = None,
            timeout: float | None = None, mode: str | None = None,
            poll_seconds: float | None = None) -> Leadership | None:
    """Block until this process is the only active scheduler; its Leadership.

    Polls every few seconds (a quarter of the lease, at most 5 s), logging who holds the
    lock. Returns None if `stop` is set while waiting; raises TimeoutError after
    `timeout` seconds. `mode` forces "advisory" or "lease" (default: advisory on
    PostgreSQL, the lease elsewhere).
    """
    from casework.extensions import db

    with app.app_context():
        engine = db.engine
    lease_seconds = int(app.config["SCHEDULER_LEASE_SECONDS"])
    if mode is None:
        mode = "advisory" if engine.dialect.name == "postgresql" else "lease"
    if mode not in ("advisory", "lease"):
        raise ValueError(f"unknown leadership mode {mode!r}")
    poll = poll_seconds if poll_seconds is not None else min(5.0, max(0.2, lease_seconds / 4))
    stop = stop or threading.Event()
    deadline = None if timeout is None else time.monotonic() + timeout
    connection = None  # advisory mode: the session that tries for the lock
    reported = None
    try:
        while not stop.is_set():
            leadership = None
            try:
                if mode == "advisory":
                    if connection is None:
                        connection = engine.connect().execution_options(
                            isolation_level="AUTOCOMMIT")
                    if connection.scalar(sa.text("SELECT pg_try_advisory_lock(:key)"),
                                         {"key": ADVISORY_LOCK_KEY}):
                        leadership = Leadership(engine, holder, lease_seconds, mode,
                                                connection)
                        connection = None  # the leadership's now
                        try:
                            leadership._write_lease_row(acquired=True)
                        except SQLAlchemyError:
                            log.warning("could not write the scheduler lease row",
                                        exc_info=True)
                else:
                    expires = _try_lease(engine, holder, lease_seconds)
                    if expires is not None:
                        leadership = Leadership(engine, holder, lease_seconds, mode)
                        leadership._expires_at = expires
            except SQLAlchemyError as error:
                log.warning("standby: could not reach the scheduler lock: %s",
                            getattr(error, "orig", None) or error)
                if connection is not None:
                    _discard(connection)
                    connection = None
            if leadership is not None:
                leadership.start_renewing()
                log.info("leader: %s holds the scheduler lock (%s)", holder, mode)
                return leadership
            try:
                current = current_holder(engine)
            except SQLAlchemyError:
                current = None
            name = current[0] if current else "an unknown process"
            if name != reported:
                log.info("standby: waiting for the scheduler lock held by %s", name)
                reported = name
            wait = poll
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    raise TimeoutError(f"the scheduler lock is held by {name}")
            stop.wait(wait)
        return None
    finally:
        if connection is not None:
            _discard(connection)  # never back to the pool while it might hold the lock
