"""Real `flask scheduler run` processes on the test database.

- Two schedulers started at once: one leads and runs the jobs, the other stands by; the
  leader killed with SIGKILL, the standby takes over; no two runs overlap.
- A scheduler killed with SIGKILL in the middle of a sweep (inside an uncommitted
  chunk) and restarted: every notification exactly once, none missing.

The processes run fast test jobs instead of the real sweeps: CASEWORK_SCHEDULER_TEST_JOBS
names a function of this module (imported there as a top-level module, with this
directory on PYTHONPATH) that replaces the job table before the scheduler registers it.
The lease is 2 s so a takeover after SIGKILL comes quickly; every wait is bounded and
every process is killed at the end whatever happens.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from casework.jobs.models import JobRun, SchedulerLease
from casework.jobs.registry import Job

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
MODULE = Path(__file__).stem
WAIT = 30  # seconds: the bound on every wait
LEASE_SECONDS = 2
CHUNKS, CHUNK_SIZE = 5, 20


# --- what runs inside the scheduler processes -----------------------------------

def install_tick_job():
    """Hook: a harmless job every second (also the catch-up's only sweep)."""
    _install(Job("test_tick", f"{MODULE}:tick", {"second": "*"}))


def install_chunked_job():
    """Hook: the notification sweep in chunks (run by the catch-up at start)."""
    _install(Job("test_chunks", f"{MODULE}:chunked_notifications",
                 {"month": 1, "day": 1, "hour": 3}))


def _install(job):
    from casework.jobs import registry, runner

    registry.JOBS.clear()
    registry.JOBS[job.name] = job
    runner.SWEEP_ORDER = (job.name,)


def tick(at):
    time.sleep(0.2)  # long enough for overlapping runs to show
    return {"tick": 1}


def chunked_notifications(at):
    """100 notifications with unique keys, committed 20 at a time.

    With TEST_CHUNK_PAUSE_FILE set it stops inside the third chunk (written, not
    committed), writes that file and waits to be killed.
    """
    from casework.extensions import db
    from casework.notifications.services import Notice, notify

    user_id = int(os.environ["TEST_CHUNK_USER"])
    pause_file = os.environ.get("TEST_CHUNK_PAUSE_FILE")
    created = 0
    for chunk in range(CHUNKS):
        created += notify(Notice(user_id, f"test-chunk:{i:03d}", "test", {"i": i})
                          for i in range(chunk * CHUNK_SIZE, (chunk + 1) * CHUNK_SIZE))
        if chunk == 2 and pause_file:
            db.session.flush()
            Path(pause_file).write_text(str(os.getpid()))
            time.sleep(WAIT * 2)
        db.session.commit()
    return {"created": created}


# --- the test side ----------------------------------------------------------------

class Scheduler:
    def __init__(self, proc, log_path):
        self.proc = proc
        self.pid = proc.pid
        self.log_path = log_path

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def schedulers(app, db, tmp_path):
    started = []

    def start(label, *args, hook, env=None):
        log_path = tmp_path / f"{label}.log"
        environment = {
            **os.environ,
            "CASEWORK_ENV": "test",
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "SCHEDULER_LEASE_SECONDS": str(LEASE_SECONDS),
            "CASEWORK_SCHEDULER_TEST_JOBS": f"{MODULE}:{hook}",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), str(ROOT),
                                                        os.environ.get("PYTHONPATH")])),
            **(env or {}),
        }
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run", *args],
                cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
        started.append(Scheduler(proc, log_path))
        return started[-1]

    try:
        yield start
    finally:
        for scheduler in started:
            if scheduler.proc.poll() is None:
                scheduler.proc.kill()
            scheduler.proc.wait(WAIT)
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS apscheduler_jobs"))


def _until(predicate, what, *alive):
    deadline = time.monotonic() + WAIT
    while not predicate():
        for scheduler in alive:
            if scheduler.proc.poll() is not None:
                raise AssertionError(f"scheduler {scheduler.pid} exited "
                                     f"({scheduler.proc.returncode}) while waiting for "
                                     f"{what}:\n{scheduler.log()[-3000:]}")
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {s.pid}\n{s.log()[-3000:]}" for s in alive)
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        time.sleep(0.1)


def _runs(db, job):
    with db.engine.connect() as conn:
        return conn.execute(
            sa.select(JobRun.pid, JobRun.started_at, JobRun.finished_at, JobRun.outcome,
                      JobRun.source, JobRun.summary)
            .where(JobRun.job == job).order_by(JobRun.id)).all()


def _finished_by(db, pid):
    return [r for r in _runs(db, "test_tick") if r.pid == pid and r.finished_at]


def test_two_schedulers_run_each_job_once_and_the_standby_takes_over(db, schedulers):
    first = schedulers("first", hook="install_tick_job")
    second = schedulers("second", hook="install_tick_job")
    both = (first, second)
    _until(lambda: len([r for r in _runs(db, "test_tick") if r.finished_at]) >= 3,
           "the leader's first runs", *both)
    leader_pid = _runs(db, "test_tick")[0].pid
    leader, standby = both if first.pid == leader_pid else both[::-1]
    _until(lambda: "standby: waiting for the scheduler lock held by "
                   f"{socket.gethostname()}:{leader_pid}" in standby.log(),
           "the other process to stand by", *both)
    # Standing by while the leader runs a job every second: still one process only.
    _until(lambda: len(_finished_by(db, leader_pid)) >= 5, "more runs", *both)
    assert {r.pid for r in _runs(db, "test_tick")} == {leader_pid}

    leader.proc.kill()  # SIGKILL: no clean-up, the lease just stops being renewed
    assert leader.proc.wait(WAIT) == -signal.SIGKILL
    killed_at = datetime.now(UTC)
    _until(lambda: len(_finished_by(db, standby.pid)) >= 2, "the standby to take over",
           standby)
    assert "leader:" in standby.log()

    runs = _runs(db, "test_tick")
    assert {r.pid for r in runs} == {leader_pid, standby.pid}
    assert {r.source for r in runs} == {"scheduler"}
    old = [r for r in runs if r.pid == leader_pid]
    new = [r for r in runs if r.pid == standby.pid]
    # A run cut short by the kill has no finish time: it ended at the kill at the latest.
    ends = {id(r): r.finished_at or killed_at for r in runs}
    # Never two runs at once: within each process (max_instances=1), and the new leader
    # started only after the old one's last run had ended.
    for group in (old, new):
        for earlier, later in zip(group, group[1:], strict=False):
            assert later.started_at >= ends[id(earlier)]
    assert min(r.started_at for r in new) >= max(ends[id(r)] for r in old)

    standby.proc.send_signal(signal.SIGTERM)  # a graceful stop releases the lock
    assert standby.proc.wait(WAIT) == 0, standby.log()[-3000:]
    assert "released the scheduler lock" in standby.log()
    with db.engine.connect() as conn:
        lease = conn.execute(sa.select(SchedulerLease.holder, SchedulerLease.expires_at)).one()
    assert lease.holder == f"{socket.gethostname()}:{standby.pid}"
    assert lease.expires_at <= datetime.now(UTC)


def test_a_scheduler_that_loses_the_lock_stops_and_exits_1(db, schedulers):
    leader = schedulers("leader", hook="install_tick_job")
    _until(lambda: _finished_by(db, leader.pid), "the first run", leader)
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # The lock's session ends (a database restart, an admin's kill).
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                "AND database = (SELECT oid FROM pg_database "
                "WHERE datname = current_database()) AND pid <> pg_backend_pid()"))
        else:
            # Its lease taken over (it had expired while this host was suspended, say).
            conn.execute(sa.update(SchedulerLease).values(holder="other-host:1"))
    try:
        assert leader.proc.wait(WAIT) == 1  # a process manager restarts it as a standby
    except subprocess.TimeoutExpired:
        pytest.fail(f"the scheduler kept running without the lock:\n{leader.log()[-3000:]}")
    assert "lost" in leader.log() or "taken over" in leader.log()


def test_a_sweep_killed_midway_is_finished_by_the_restarted_scheduler(db, world, schedulers,
                                                                      tmp_path):
    user = {"TEST_CHUNK_USER": str(world.users["coordinator"].id)}
    marker = tmp_path / "inside-chunk-3"
    killed = schedulers("killed", hook="install_chunked_job",
                        env={**user, "TEST_CHUNK_PAUSE_FILE": str(marker)})
    _until(marker.exists, "the sweep to reach its third chunk", killed)

    def keys():
        with db.engine.connect() as conn:
            return conn.scalars(sa.text(
                "SELECT key FROM notification WHERE key LIKE 'test-chunk:%'")).all()

    assert len(keys()) == 2 * CHUNK_SIZE  # two chunks committed, the third in flight
    killed.proc.kill()  # SIGKILL inside the uncommitted chunk
    assert killed.proc.wait(WAIT) == -signal.SIGKILL

    restarted = schedulers("restarted", "--once", hook="install_chunked_job", env=user)
    try:
        assert restarted.proc.wait(WAIT) == 0, restarted.log()[-3000:]
    except subprocess.TimeoutExpired:
        pytest.fail(f"the restarted scheduler did not finish:\n{restarted.log()[-3000:]}")

    found = keys()
    assert len(found) == CHUNKS * CHUNK_SIZE  # none twice...
    assert set(found) == {f"test-chunk:{i:03d}" for i in range(CHUNKS * CHUNK_SIZE)}  # none missing
    runs = _runs(db, "test_chunks")
    assert [(r.pid, r.outcome, r.finished_at is None) for r in runs] == [
        (killed.pid, "running", True),  # cut short: no finish, shown as interrupted
        (restarted.pid, "ok", False),
    ]
    assert runs[1].summary == {"created": 3 * CHUNK_SIZE}  # exactly what was missing
