"""What the scheduler did (one row per job run) and who may run it (the lease)."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from casework.dbtypes import UTCDateTime, one_of, utcnow
from casework.extensions import db

OUTCOMES = ("running", "ok", "failed")


class JobRun(db.Model):
    __tablename__ = "job_run"
    __table_args__ = (
        one_of("outcome", OUTCOMES),
        one_of("source", ("scheduler", "cli")),
        sa.Index("ix_job_run_job_started", "job", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # the instant the run swept up to
    source: Mapped[str] = mapped_column(sa.String(12))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(sa.String(8), default="running")
    summary: Mapped[dict | None] = mapped_column(sa.JSON)
    error: Mapped[str | None] = mapped_column(sa.Text)
    host: Mapped[str | None] = mapped_column(sa.String(100))
    pid: Mapped[int | None] = mapped_column(sa.Integer)


class SchedulerLease(db.Model):
    """The database lease that makes one scheduler active (SQLite, or as a fallback).

    On PostgreSQL an advisory lock does the same; the lease row still shows who holds it.
    """

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(120))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
