"""`flask jobs list|run` — the jobs by hand, and how missed runs are caught up.

`flask scheduler run` — the scheduler process (casework/jobs/scheduler.py).
"""

from datetime import datetime

import click
from flask.cli import AppGroup

from casework import clock

jobs_cli = AppGroup("jobs", help="Scheduler jobs: run one by hand or catch up.")


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use an ISO time, e.g. 2022-03-01T09:00 or "
                                 "2022-03-01T09:00+08:00") from None
    return clock.localized(parsed)


@jobs_cli.command("list")
def list_command():
    """List the jobs and their schedules."""
    from flask_babel import force_locale

    from casework import labels
    from casework.jobs.registry import JOBS

    with force_locale("en"):
        for job in JOBS.values():
            schedule = " ".join(f"{k}={v}" for k, v in job.cron.items())
            click.echo(f"{job.name:30} {schedule:22} {labels.job_description(job.name)}")


@jobs_cli.command("run")
@click.argument("name")
@click.option("--at", "at", default=None, help="Run as of this instant (ISO time).")
def run_command(name, at):
    """Run job NAME (or "all" for every daily sweep in order) as of --at (default now)."""
    from casework.jobs.registry import JOBS
    from casework.jobs.runner import run_job, run_sweeps

    instant = _instant(at)
    if name == "all":
        runs = run_sweeps(instant)
    elif name in JOBS:
        runs = [run_job(name, instant)]
    else:
        raise click.ClickException(f"Unknown job {name!r}; known: all, {', '.join(JOBS)}")
    failed = False
    for run in runs:
        click.echo(f"{run.job}: {run.outcome} {run.summary or run.error or ''}")
        failed = failed or run.outcome != "ok"
    if failed:
        raise click.exceptions.Exit(1)


scheduler_cli = AppGroup("scheduler", help="The scheduler process (one active per database).")


@scheduler_cli.command("run")
@click.option("--once", is_flag=True,
              help="Take the lock, run every daily sweep once as of now (the catch-up), "
                   "release it and exit.")
@click.option("--max-wait", type=float, default=None, metavar="SECONDS",
              help="Give up (exit 75) if another scheduler still holds the lock by then "
                   "(default: wait as a standby for as long as it takes).")
@click.option("--catch-up-at", "catch_up_at", default=None, metavar="ISO-TIME",
              help="Run the catch-up as of this instant instead of now (as jobs run --at); "
                   "the scheduled runs after it keep their real times.")
def scheduler_run_command(once, max_wait, catch_up_at):
    """Run the scheduler: wait for the lock, catch up, then wake the jobs on time."""
    from flask import current_app

    from casework.jobs.scheduler import serve

    code = serve(current_app._get_current_object(), once=once, max_wait=max_wait,
                 catch_up_at=_instant(catch_up_at))
    if code:
        raise click.exceptions.Exit(code)
