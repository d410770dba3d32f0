"""The scheduler's set-up: jobs registered once, in the configured zone, with the
documented misfire and coalesce settings; what it runs; `flask scheduler run --once`.

The schedulers here are BackgroundSchedulers started paused: the same configuration as
the BlockingScheduler of `flask scheduler run` (build_scheduler), without blocking the
test or running any job. Jobs that do run are this module's own (monkeypatched JOBS),
never the real sweeps.
"""

import pickle
import subprocess
import sys
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from casework.jobs import registry, scheduler
from casework.jobs import runner as job_runner
from casework.jobs.leadership import ADVISORY_LOCK_KEY, LEASE_NAME
from casework.jobs.models import JobRun, SchedulerLease
from casework.jobs.registry import JOBS, Job
from casework.jobs.services import next_run_times

ROOT = Path(__file__).resolve().parents[2]
CALLS = []


def harmless_job(at):
    CALLS.append(at)
    return {"checked": 1}


@pytest.fixture
def job_store(db):
    """Schedulers started here share the app's database; the store's table goes after."""
    started = []

    def start(app):
        with app.app_context():
            sched = scheduler.build_scheduler(app, BackgroundScheduler)
            sched.start(paused=True)
        started.append(sched)
        return sched

    yield start
    for sched in started:
        if sched.running:
            sched.shutdown(wait=False)
    db.session.remove()
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {scheduler.JOBSTORE_TABLE}"))


@pytest.fixture
def test_jobs(monkeypatch):
    """Only this module's harmless job, as the registry and the catch-up see it."""
    job = Job("harmless", f"{__name__}:harmless_job", {"hour": 3, "minute": 0})
    monkeypatch.setattr(registry, "JOBS", {"harmless": job})
    monkeypatch.setattr(job_runner, "JOBS", registry.JOBS)
    monkeypatch.setattr(scheduler, "JOBS", registry.JOBS)
    monkeypatch.setattr(job_runner, "SWEEP_ORDER", ("harmless",))
    CALLS.clear()
    return job


STORE = sa.table(scheduler.JOBSTORE_TABLE, sa.column("id"), sa.column("job_state"))


def _stored_ids(db):
    with db.engine.connect() as conn:
        return sorted(conn.scalars(sa.select(STORE.c.id)))


def test_jobs_are_registered_once_per_name_however_often_it_starts(app, db, job_store):
    first = job_store(app)
    first.add_job(scheduler.RUN_SCHEDULED, CronTrigger(hour=4), args=["retired"],
                  id="retired")  # a job since removed from the registry
    assert _stored_ids(db) == sorted([*JOBS, "retired"])
    first.shutdown(wait=False)
    for _ in range(2):  # restarts: the persistent store keeps one job per name
        job_store(app).shutdown(wait=False)
        assert _stored_ids(db) == sorted(JOBS)


def test_next_run_times_are_in_the_configured_zone(app, db, clock, job_store, monkeypatch):
    # (clock before job_store: the schedulers stop before time travel ends)
    clock("2022-03-01T12:02:00+08:00", tick=False)
    sched = job_store(app)
    shanghai = ZoneInfo("Asia/Shanghai")
    sweep = sched.get_job("deadline_sweep")
    assert sweep.next_run_time == datetime(2022, 3, 2, 0, 15, tzinfo=shanghai)
    assert str(sweep.next_run_time.tzinfo) == "Asia/Shanghai"
    assert sched.get_job("send_mail").next_run_time == datetime(2022, 3, 1, 12, 5,
                                                                tzinfo=shanghai)
    # What the jobs page reads from the store is the same instant.
    assert next_run_times()["deadline_sweep"] == datetime(2022, 3, 1, 16, 15, tzinfo=UTC)
    sched.shutdown(wait=False)

    monkeypatch.setitem(app.config, "TIMEZONE", "Europe/Berlin")
    sched = job_store(app)  # replace_existing: the restart moves the stored triggers
    berlin = ZoneInfo("Europe/Berlin")
    assert sched.get_job("deadline_sweep").next_run_time == datetime(2022, 3, 2, 0, 15,
                                                                     tzinfo=berlin)
    db.session.rollback()
    assert next_run_times()["deadline_sweep"] == datetime(2022, 3, 1, 23, 15, tzinfo=UTC)


def test_misfire_and_coalesce_settings_are_stored_with_each_job(app, db, job_store):
    sched = job_store(app)
    grace = app.config["SCHEDULER_MISFIRE_GRACE_SECONDS"]
    assert grace >= 3600  # generous: a late run still runs (DESIGN.md, Scheduler)
    for name, entry in JOBS.items():
        job = sched.get_job(name)  # read back from the database
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time == grace
        assert job.func_ref == "casework.jobs.scheduler:run_scheduled"
        assert job.args == (name,)
        assert isinstance(job.trigger, CronTrigger)
        assert str(job.trigger.timezone) == app.config["TIMEZONE"]
        assert str(job.trigger) == str(CronTrigger(**entry.cron))
    # The store holds a stable reference to the function, not the function.
    with db.engine.connect() as conn:
        state = conn.scalar(sa.select(STORE.c.job_state)
                            .where(STORE.c.id == "deadline_sweep"))
    assert pickle.loads(state)["func"] == "casework.jobs.scheduler:run_scheduled"
    # One job at a time: sweeps depend on each other's results.
    assert sched._lookup_executor("default")._pool._max_workers == 1


def test_run_scheduled_runs_the_job_in_its_own_app_context(app, db, test_jobs, monkeypatch):
    monkeypatch.setattr(scheduler, "_app", app)
    worker = threading.Thread(target=scheduler.run_scheduled, args=["harmless"])
    worker.start()  # an APScheduler worker thread: no app context of its own
    worker.join(10)
    run = db.session.scalars(sa.select(JobRun)).one()
    assert (run.job, run.source, run.outcome, run.summary) == ("harmless", "scheduler", "ok",
                                                               {"checked": 1})
    assert len(CALLS) == 1


def test_a_scheduler_that_lost_the_lock_runs_nothing(app, db, test_jobs, monkeypatch):
    class Lost:
        held = False

    monkeypatch.setattr(scheduler, "_app", app)
    monkeypatch.setattr(scheduler, "_leadership", Lost())
    scheduler.run_scheduled("harmless")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(JobRun)) == 0
    assert CALLS == []


def test_run_once_catches_up_and_releases_the_lock(app, db, runner, test_jobs):
    result = runner.invoke(args=["scheduler", "run", "--once"])
    assert result.exit_code == 0, result.output
    runs = db.session.scalars(sa.select(JobRun)).all()
    assert [(r.job, r.source, r.outcome) for r in runs] == [("harmless", "scheduler", "ok")]
    lease = db.session.get(SchedulerLease, LEASE_NAME)
    assert lease.holder == scheduler.holder_name()
    assert lease.expires_at <= datetime.now(UTC)  # released


def test_run_once_can_catch_up_as_of_a_given_instant(app, db, runner, test_jobs):
    result = runner.invoke(args=["scheduler", "run", "--once",
                                 "--catch-up-at", "2022-03-10T09:00"])
    assert result.exit_code == 0, result.output
    # A time without a zone is local time in TIMEZONE, as for `jobs run --at`.
    assert CALLS == [datetime(2022, 3, 10, 9, 0, tzinfo=ZoneInfo(app.config["TIMEZONE"]))]
    run = db.session.scalars(sa.select(JobRun)).one()
    assert (run.job, run.source, run.outcome) == ("harmless", "scheduler", "ok")
    assert run.at == datetime(2022, 3, 10, 1, 0, tzinfo=UTC)
    bad = runner.invoke(args=["scheduler", "run", "--once", "--catch-up-at", "tomorrow"])
    assert bad.exit_code == 2 and "ISO time" in bad.output


@contextmanager
def _lock_held_elsewhere(db):
    """Another scheduler leading, as the lock of this database's kind sees it."""
    if db.engine.dialect.name == "postgresql":
        other = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            assert other.scalar(sa.text("SELECT pg_try_advisory_lock(:k)"),
                                {"k": ADVISORY_LOCK_KEY})
            yield
        finally:
            other.invalidate()
            other.close()
    else:
        db.session.add(SchedulerLease(name=LEASE_NAME, holder="other-host:1",
                                      expires_at=datetime.now(UTC) + timedelta(minutes=5)))
        db.session.commit()
        yield


def test_run_once_gives_up_while_another_scheduler_leads(app, db, runner, test_jobs):
    with _lock_held_elsewhere(db):
        result = runner.invoke(args=["scheduler", "run", "--once", "--max-wait", "0.3"])
    assert result.exit_code == scheduler.EXIT_GAVE_UP, result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(JobRun)) == 0
    assert CALLS == []


def test_the_web_app_never_loads_apscheduler():
    # A web worker builds the app and serves pages: no scheduler, not even the library.
    code = ("import sys; from casework import create_app; app = create_app('test'); "
            "app.test_client().get('/login'); "
            "print(sorted(m for m in sys.modules if m.startswith('apscheduler')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
