"""One active scheduler: a second acquirer stands by until the first is gone.

The lease (SQLite, and the fallback everywhere) runs on both databases; the advisory
lock only on PostgreSQL. Nothing here waits for a lease to run out: the tests move the
expiry in the row or the leadership's clock, or close the lock's session, and poll
(bounded) for the takeover.
"""

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from casework.jobs import leadership
from casework.jobs.leadership import ADVISORY_LOCK_KEY, LEASE_NAME, acquire
from casework.jobs.models import SchedulerLease

WAIT = 15  # seconds: the bound on every wait below


def _modes(db):
    return ["lease", "advisory"] if db.engine.dialect.name == "postgresql" else ["lease"]


def _until(predicate, what, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Standby:
    """acquire() in a thread, as a second scheduler process would call it."""

    def __init__(self, app, holder, mode):
        self.result = None
        self.error = None
        self.stop = threading.Event()

        def run():
            try:
                self.result = acquire(app, holder, mode=mode, stop=self.stop, timeout=WAIT,
                                      poll_seconds=0.05)
            except BaseException as error:  # surfaced by the test
                self.error = error

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def wait_acquired(self):
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the standby never took over"
        assert self.error is None, self.error
        return self.result

    def close(self):
        self.stop.set()
        self.thread.join(WAIT)
        if self.result is not None:
            self.result.release()


@pytest.fixture
def standby_logs(caplog, monkeypatch):
    # Alembic's fileConfig (the app fixture ran the migrations) disables the loggers
    # that existed before it; a scheduler process never runs migrations in-process.
    monkeypatch.setattr(logging.getLogger("casework.scheduler"), "disabled", False)
    caplog.set_level(logging.INFO, logger="casework.scheduler")

    def waiting_for(holder):
        return any(f"standby: waiting for the scheduler lock held by {holder}" in r.message
                   for r in caplog.records)
    return waiting_for


@pytest.fixture
def short_lease(app, monkeypatch):
    monkeypatch.setitem(app.config, "SCHEDULER_LEASE_SECONDS", 30)


def _lease(db):
    db.session.expire_all()
    row = db.session.get(SchedulerLease, LEASE_NAME)
    db.session.rollback()
    return row


@pytest.mark.parametrize("mode", ["lease", "advisory"])
def test_second_acquirer_waits_until_the_first_releases(app, db, mode, standby_logs,
                                                        short_lease):
    if mode not in _modes(db):
        pytest.skip("advisory locks are PostgreSQL's")
    first = acquire(app, "host-a:1", mode=mode, timeout=WAIT)
    assert first.held and first.mode == mode
    assert _lease(db).holder == "host-a:1"  # the jobs page shows the leader either way
    second = Standby(app, "host-b:2", mode)
    try:
        _until(lambda: standby_logs("host-a:1"), "the standby to report the holder")
        assert second.thread.is_alive() and second.result is None
        first.release()
        assert not first.held
        taken = second.wait_acquired()
        assert taken.held and taken.holder == "host-b:2"
        assert _lease(db).holder == "host-b:2"
    finally:
        first.release()
        second.close()
    # Released: the row stays (who led last) but is expired.
    assert _lease(db).expires_at <= datetime.now(UTC)


def test_a_dead_holders_lease_is_taken_once_it_expires(app, db, standby_logs, short_lease):
    # What a SIGKILLed scheduler leaves behind: a lease nobody renews.
    db.session.add(SchedulerLease(name=LEASE_NAME, holder="dead-host:99",
                                  expires_at=datetime.now(UTC) + timedelta(minutes=10)))
    db.session.commit()
    second = Standby(app, "host-b:2", "lease")
    try:
        _until(lambda: standby_logs("dead-host:99"), "the standby to report the dead holder")
        assert second.thread.is_alive()
        # Time passes: move the expiry instead of waiting for it.
        db.session.execute(sa.update(SchedulerLease).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.session.commit()
        taken = second.wait_acquired()
        assert taken.holder == "host-b:2"
        row = _lease(db)
        assert row.holder == "host-b:2" and row.expires_at > datetime.now(UTC)
    finally:
        second.close()


def test_a_live_lease_is_renewed_and_a_lost_one_is_noticed(app, db, short_lease):
    first = acquire(app, "host-a:1", mode="lease", timeout=WAIT)
    lost = []
    first.on_lost(lambda: lost.append(True))
    try:
        before = _lease(db).expires_at
        assert first.renew() and _lease(db).expires_at >= before
        # Another scheduler took the lease over (say ours had expired while this host
        # was suspended): the next renewal finds out and leadership is lost.
        db.session.execute(sa.update(SchedulerLease).values(holder="host-b:2"))
        db.session.commit()
        assert first.renew() is False
        assert first.lost.is_set() and not first.held and lost == [True]
    finally:
        first.release()
    assert _lease(db).holder == "host-b:2"  # a lost leader's release leaves it alone


def test_advisory_lock_is_released_when_its_session_ends(app, db, standby_logs, short_lease):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    # Another process's session holds the lock; its death ends the session.
    other = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        assert other.scalar(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
        db.session.add(SchedulerLease(name=LEASE_NAME, holder="host-a:1",
                                      expires_at=datetime.now(UTC) + timedelta(minutes=10)))
        db.session.commit()
        second = Standby(app, "host-b:2", "advisory")
        try:
            _until(lambda: standby_logs("host-a:1"), "the standby to report the holder")
            assert second.thread.is_alive()
            other.invalidate()  # the connection closes, as when the process is killed
            taken = second.wait_acquired()
            assert taken.holder == "host-b:2" and _lease(db).holder == "host-b:2"
            # The leader checks its own session at each renewal.
            assert taken.renew()
            taken._connection.invalidate()
            assert taken.renew() is False and taken.lost.is_set()
        finally:
            second.close()
    finally:
        other.close()


def test_acquire_gives_up_after_its_timeout_and_stops_on_request(app, db, short_lease):
    first = acquire(app, "host-a:1", timeout=WAIT)
    try:
        with pytest.raises(TimeoutError, match="host-a:1"):
            acquire(app, "host-b:2", timeout=0.2, poll_seconds=0.05)
        stop = threading.Event()
        stop.set()
        assert acquire(app, "host-b:2", stop=stop) is None
    finally:
        first.release()


def test_the_lock_key_is_a_constant_64_bit_integer():
    assert -(2 ** 63) <= leadership.ADVISORY_LOCK_KEY < 2 ** 63
    assert leadership.ADVISORY_LOCK_KEY == int.from_bytes(b"CASEJOBS", "big", signed=True)


def test_a_leader_that_dies_is_replaced_once_its_lease_has_run_out(app, db, short_lease,
                                                                   monkeypatch):
    """Two schedulers in lease mode (on SQLite and PostgreSQL alike); the leader dies
    (stops renewing, as after SIGKILL, without releasing). The standby does not take over
    while the lease runs, and does as soon as the clock passes its expiry. The clock is
    moved (leadership._utcnow), nobody waits for the lease."""
    now = [datetime.now(UTC)]
    monkeypatch.setattr(leadership, "_utcnow", lambda: now[0])
    lease_seconds = app.config["SCHEDULER_LEASE_SECONDS"]
    first = acquire(app, "host-a:1", mode="lease", timeout=WAIT)
    try:
        expires = _lease(db).expires_at
        assert expires == now[0] + timedelta(seconds=lease_seconds)
        first._stop.set()  # dies: its renewal thread stops, nothing is released
        first._thread.join(WAIT)
        # Just before the expiry the lease is still the dead leader's.
        now[0] = expires - timedelta(seconds=1)
        with pytest.raises(TimeoutError, match="host-a:1"):
            acquire(app, "host-b:2", mode="lease", timeout=0.2, poll_seconds=0.05)
        assert _lease(db).holder == "host-a:1"
        # At the expiry it is free: the standby's next poll takes it.
        now[0] = expires
        second = acquire(app, "host-b:2", mode="lease", timeout=0.5, poll_seconds=0.05)
        try:
            assert second.held and _lease(db).holder == "host-b:2"
            assert _lease(db).expires_at == expires + timedelta(seconds=lease_seconds)
            # Had the old leader only been frozen (a suspended VM), it finds out at once.
            assert first.renew() is False and first.lost.is_set()
            assert second.renew() and _lease(db).holder == "host-b:2"
        finally:
            second.release()
    finally:
        first.release()
