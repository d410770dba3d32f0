"""Quarterly progress reports (进展报告): one per case and period, created by the scheduler."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.cases.models import InspectionCase
from casework.dbtypes import UTCDateTime, one_of, utcnow
from casework.extensions import db
from casework.users.models import User
from workflows import report as report_workflow


class ProgressReport(db.Model):
    __tablename__ = "progress_report"
    __table_args__ = (
        sa.UniqueConstraint("case_id", "period_start"),
        one_of("state", report_workflow.STATES),
        sa.CheckConstraint("period_end >= period_start", name="period_ordered"),
        sa.Index("ix_progress_report_state_due", "state", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("inspection_case.id"), index=True)
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)
    due_on: Mapped[date] = mapped_column(sa.Date)
    state: Mapped[str] = mapped_column(sa.String(12), default=report_workflow.INITIAL)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    body: Mapped[str | None] = mapped_column(sa.Text)
    # Structured figures of the quarter (self-inspections held, problems found/rectified…).
    fields: Mapped[dict | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    late: Mapped[bool] = mapped_column(sa.Boolean, default=False)

    case: Mapped[InspectionCase] = relationship()
    submitted_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    workflow = report_workflow.NAME
