"""The scheduler process: `flask scheduler run [--once]`.

APScheduler only wakes the jobs; what is due lives in the domain tables and every job
is a sweep that creates what is missing (DESIGN.md, Scheduler). So the choices here:

- one dedicated process, never a web worker (nothing in create_app starts this), and
  only one active per database: it waits as a standby until `leadership.acquire()`
  makes it the leader;
- on becoming leader it first runs every daily sweep once for "now" (the catch-up;
  `--catch-up-at` names another instant):
  whatever was missed while no scheduler ran, or left half done by one that was killed,
  is brought current before the cron triggers take over;
- a BlockingScheduler in the configured zone with its job store in the application
  database (table apscheduler_jobs, written by this process only), jobs registered
  idempotently under their names; `coalesce=True` (runs piled up while the process was
  busy or suspended make one run, a sweep covers them all) and a generous
  `misfire_grace_time` (a late run still runs rather than being skipped), one instance
  of a job at a time and one job at a time (sweeps depend on each other's results, and
  SQLite has one writer);
- SIGTERM/SIGINT: no new jobs start, the running one finishes, the lock is released and
  the process exits 0; if leadership is lost it stops and exits 1 (to be restarted as a
  standby).
"""

import logging
import os
import signal
import socket
import threading
from datetime import datetime
from importlib import import_module
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from casework.jobs import runner
from casework.jobs.leadership import Leadership, acquire
from casework.jobs.registry import JOBS

log = logging.getLogger("casework.scheduler")

JOBSTORE_TABLE = "apscheduler_jobs"
# The job store pickles this reference: keep the function here, under this name.
RUN_SCHEDULED = "casework.jobs.scheduler:run_scheduled"
# Test-only: "module:function" called (with CASEWORK_ENV=test only) before the jobs are
# registered, to swap in fast jobs (tests/jobs/test_scheduler_processes.py).
TEST_HOOK_ENV = "CASEWORK_SCHEDULER_TEST_JOBS"
EXIT_GAVE_UP = 75  # EX_TEMPFAIL: --max-wait ran out while another scheduler led

_app = None
_leadership: Leadership | None = None


def run_scheduled(name: str) -> None:
    """What APScheduler calls (in its worker thread): run job `name` as of now."""
    if _app is None:
        raise RuntimeError("run_scheduled needs the scheduler's app (see serve())")
    if _leadership is not None and not _leadership.held:
        log.warning("not running %s: this process is no longer the leader", name)
        return
    with _app.app_context():
        runner.run_job(name, source="scheduler")


class AppJobStore(SQLAlchemyJobStore):
    """The job store on the application's engine, which it must not dispose of."""

    def shutdown(self):
        pass


def build_scheduler(app, scheduler_class=BlockingScheduler):
    """A scheduler with every job of the registry; call start() on it (app context)."""
    from casework.extensions import db

    zone = ZoneInfo(app.config["TIMEZONE"])
    scheduler = scheduler_class(
        jobstores={"default": AppJobStore(engine=db.engine, tablename=JOBSTORE_TABLE)},
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": int(app.config["SCHEDULER_MISFIRE_GRACE_SECONDS"])},
        timezone=zone,
    )
    # replace_existing: a restart updates each stored job (trigger, settings) in place.
    for job in JOBS.values():
        scheduler.add_job(RUN_SCHEDULED, trigger=CronTrigger(timezone=zone, **job.cron),
                          args=[job.name], id=job.name, name=job.name,
                          replace_existing=True)

    def drop_retired_jobs(_event):
        # A job removed from the registry must not linger in the store.
        for stored in scheduler.get_jobs():
            if stored.id not in JOBS:
                log.info("removing retired job %s from the job store", stored.id)
                scheduler.remove_job(stored.id)

    scheduler.add_listener(drop_retired_jobs, EVENT_SCHEDULER_STARTED)
    return scheduler


def catch_up(at: datetime | None = None) -> None:
    """Every daily sweep once, as of `at` (default now; app context)."""
    for run in runner.run_sweeps(at, source="scheduler"):
        log.info("catch-up %s: %s %s", run.job, run.outcome, run.summary or run.error or "")


def _configure_logging() -> None:
    root = logging.getLogger()
    if not root.handlers:  # a real process; under pytest its handlers are kept
        logging.basicConfig(
            level=logging.INFO,
            format="%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s")
    logging.getLogger("casework").setLevel(logging.INFO)


def _apply_test_hook(app) -> None:
    target = os.environ.get(TEST_HOOK_ENV)
    if target and app.config.get("TESTING"):
        module, _, function = target.partition(":")
        getattr(import_module(module), function)()


def holder_name() -> str:
    """host:pid, as JobRun rows record them."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}"


def serve(app, *, once: bool = False, max_wait: float | None = None,
          catch_up_at: datetime | None = None) -> int:
    """Wait for leadership, catch up, then schedule until stopped; the exit code.

    `catch_up_at`: the catch-up's instant instead of now (`--catch-up-at`: re-running the
    sweeps of a day past, and the benchmark's handover, bench/schedulers.py); the cron
    triggers after it run at their real times as always.
    """
    global _app, _leadership
    _configure_logging()
    _apply_test_hook(app)
    stop = threading.Event()
    started = threading.Event()
    lost = threading.Event()
    previous = {}

    def on_signal(signum, _frame):
        log.info("%s received: stopping", signal.Signals(signum).name)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, on_signal)
    try:
        try:
            leadership = acquire(app, holder_name(), stop=stop, timeout=max_wait)
        except TimeoutError as error:
            log.warning("gave up waiting: %s", error)
            return EXIT_GAVE_UP
        if leadership is None:
            return 0
        try:
            with app.app_context():
                catch_up(catch_up_at)
            if once or stop.is_set():
                return 0
            with app.app_context():
                scheduler = build_scheduler(app)

            def on_lost():
                lost.set()
                stop.set()

            leadership.on_lost(on_lost)
            scheduler.add_listener(lambda _event: started.set(), EVENT_SCHEDULER_STARTED)

            def stopper():
                stop.wait()
                if started.wait(timeout=60):
                    scheduler.shutdown(wait=True)  # lets the running job finish

            threading.Thread(target=stopper, daemon=True, name="scheduler-stop").start()
            _app, _leadership = app, leadership
            log.info("scheduling %d jobs in %s", len(JOBS), app.config["TIMEZONE"])
            scheduler.start()  # blocks until the stopper shuts it down
            return 1 if lost.is_set() else 0
        finally:
            _app = _leadership = None
            leadership.release()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
