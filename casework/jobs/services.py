"""What the jobs page shows: each job's schedule, next and last run, and who leads.

Read-only and in a constant number of queries. The next run times come from the
scheduler's own table (apscheduler_jobs) read with plain SQL, so the web process never
imports or starts APScheduler.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from casework import clock, labels, policy
from casework.extensions import db
from casework.jobs.leadership import LEASE_NAME
from casework.jobs.models import JobRun, SchedulerLease
from casework.jobs.registry import JOBS

JOBSTORE_TABLE = "apscheduler_jobs"  # casework.jobs.scheduler.JOBSTORE_TABLE
RECENT_RUNS = 50


@dataclass
class RunView:
    run: JobRun
    status: str  # ok, failed, running, or interrupted (its process is gone)

    @property
    def duration(self) -> float | None:
        if self.run.finished_at is None:
            return None
        return (self.run.finished_at - self.run.started_at).total_seconds()


@dataclass
class JobView:
    name: str
    title: str
    description: str
    schedule: str
    next_run: datetime | None
    last: RunView | None
    last_ok: JobRun | None  # the last successful run, when the last one was not


@dataclass
class Leader:
    holder: str
    acquired_at: datetime
    expires_at: datetime
    active: bool


@dataclass
class JobsOverview:
    jobs: list[JobView]
    recent: list[RunView]
    leader: Leader | None
    scheduler_seen: bool  # the job store exists: a scheduler has run on this database
    zone: str


def describe_schedule(cron: dict) -> str:
    """A cron dict in words: "Daily at 00:15", "Every 5 minutes", else its fields."""
    fields = set(cron)
    if fields == {"hour", "minute"} and all(isinstance(v, int) for v in cron.values()):
        return str(_l("Daily at %(time)s", time=f"{cron['hour']:02d}:{cron['minute']:02d}"))
    minute = str(cron.get("minute", ""))
    if fields == {"minute"} and minute.startswith("*/") and minute[2:].isdigit():
        return str(_l("Every %(n)s minutes", n=minute[2:]))
    return " ".join(f"{key}={value}" for key, value in cron.items())


def next_run_times() -> dict[str, datetime | None]:
    """{job id: next run (UTC)} from the scheduler's job store; {} before it first ran."""
    conn = db.session.connection()
    if not sa.inspect(conn).has_table(JOBSTORE_TABLE):
        return {}
    table = sa.table(JOBSTORE_TABLE, sa.column("id"), sa.column("next_run_time"))
    return {job_id: (datetime.fromtimestamp(stamp, UTC) if stamp is not None else None)
            for job_id, stamp in conn.execute(sa.select(table.c.id, table.c.next_run_time))}


def _status(run: JobRun, leader: Leader | None) -> str:
    if run.outcome != "running":
        return run.outcome
    # A scheduler run still "running" whose process no longer leads was cut short
    # (the process died); the next run sweeps up what it left.
    if run.source == "scheduler" and (
            leader is None or not leader.active or leader.holder != f"{run.host}:{run.pid}"):
        return "interrupted"
    return "running"


def jobs_overview(actor, recent: int = RECENT_RUNS) -> JobsOverview:
    if actor is not policy.SYSTEM:
        policy.check("jobs_view", actor)
    now = clock.now()
    lease = db.session.get(SchedulerLease, LEASE_NAME)
    leader = None
    if lease is not None:
        leader = Leader(lease.holder, lease.acquired_at, lease.expires_at,
                        active=lease.expires_at > now)
    # The latest run of each job, and its latest successful one: one query.
    latest = sa.select(sa.func.max(JobRun.id)).group_by(JobRun.job)
    latest_ok = (sa.select(sa.func.max(JobRun.id)).where(JobRun.outcome == "ok")
                 .group_by(JobRun.job))
    last, last_ok = {}, {}
    for run in db.session.scalars(sa.select(JobRun).where(
            sa.or_(JobRun.id.in_(latest), JobRun.id.in_(latest_ok)))):
        if run.outcome == "ok" and (run.job not in last_ok or run.id > last_ok[run.job].id):
            last_ok[run.job] = run
        if run.job not in last or run.id > last[run.job].id:
            last[run.job] = run
    runs = db.session.scalars(sa.select(JobRun)
                              .order_by(JobRun.started_at.desc(), JobRun.id.desc())
                              .limit(recent)).all()
    next_runs = next_run_times()
    jobs = []
    for name, job in JOBS.items():
        last_run = last.get(name)
        jobs.append(JobView(
            name=name, title=str(labels.job_title(name)),
            description=str(labels.job_description(name)),
            schedule=describe_schedule(job.cron), next_run=next_runs.get(name),
            last=RunView(last_run, _status(last_run, leader)) if last_run else None,
            last_ok=(last_ok.get(name) if last_run is not None and last_run.outcome != "ok"
                     else None)))
    return JobsOverview(jobs=jobs, recent=[RunView(r, _status(r, leader)) for r in runs],
                        leader=leader, scheduler_seen=bool(next_runs),
                        zone=str(clock.zone()))
