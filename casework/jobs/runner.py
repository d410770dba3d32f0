"""Running a job for an instant, with a JobRun row saying what happened."""

import os
import socket
import traceback
from datetime import datetime

from flask import current_app

from casework import clock
from casework.extensions import db
from casework.jobs.models import JobRun
from casework.jobs.registry import JOBS, SWEEP_ORDER


class UnknownJob(KeyError):
    pass


def run_job(name: str, at: datetime | None = None, *, source: str = "cli") -> JobRun:
    """Run job `name` as of `at` (default now); returns its JobRun (outcome ok or failed).

    A failing job is recorded and does not raise: the next run sweeps up what this one
    left. The JobRun row is committed before the job starts, so a crashed run shows as
    "running" with no finish time.
    """
    try:
        job = JOBS[name]
    except KeyError:
        raise UnknownJob(name) from None
    at = at or clock.now()
    run = JobRun(job=name, at=at, source=source, outcome="running",
                 host=socket.gethostname()[:100], pid=os.getpid())
    db.session.add(run)
    db.session.commit()
    run_id = run.id
    try:
        summary = job.function()(at)
    except Exception as error:  # recorded, not raised: the scheduler keeps going
        db.session.rollback()
        current_app.logger.exception("job %s failed", name)
        run = db.session.get(JobRun, run_id)
        run.outcome = "failed"
        run.error = "".join(traceback.format_exception_only(error)).strip()[:2000]
        run.finished_at = clock.now()
        db.session.commit()
        return run
    run = db.session.get(JobRun, run_id)
    run.outcome = "ok"
    run.summary = summary
    run.finished_at = clock.now()
    db.session.commit()
    return run


def run_sweeps(at: datetime | None = None, *, source: str = "cli") -> list[JobRun]:
    """Every daily sweep for one instant, in dependency order (the catch-up command)."""
    return [run_job(name, at, source=source) for name in SWEEP_ORDER]
