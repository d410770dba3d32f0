"""Rectification orders (整改通知), their submissions and extension requests."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from casework import sortkeys
from casework.cases.models import InspectionCase
from casework.dbtypes import UTCDateTime, one_of, utcnow
from casework.evidence.models import Attachment
from casework.extensions import db
from casework.inspections.models import Finding
from casework.users.models import User
from workflows import extension as extension_workflow
from workflows import order as order_workflow

EXTENSION_STATUSES = extension_workflow.STATES
# Institutions see what needs them first: sent back, escalated, late; the open ones before
# the finished ones (so "open" is state_rank < len(OPEN_STATES)).
TODO_ORDER = ("returned", "escalated", "overdue", "issued", "acknowledged", "submitted",
              "closed", "cancelled")
LIST_RANK = {state: i for i, state in enumerate(TODO_ORDER)}
OPEN_RANK_LIMIT = len(order_workflow.OPEN_STATES)
if set(TODO_ORDER[:OPEN_RANK_LIMIT]) != order_workflow.OPEN_STATES:
    raise RuntimeError("TODO_ORDER must list the open states first")

order_finding = sa.Table(
    "order_finding",
    db.metadata,
    sa.Column("order_id", sa.ForeignKey("rectification_order.id"), primary_key=True),
    sa.Column("finding_id", sa.ForeignKey("finding.id"), primary_key=True),
    # From a finding to its orders (the report's "rectified"): the key leads with order_id.
    sa.Index("ix_order_finding_finding_id", "finding_id"),
)


class RectificationOrder(db.Model):
    __tablename__ = "rectification_order"
    __table_args__ = (
        one_of("state", order_workflow.STATES),
        sa.Index("ix_rectification_order_state_deadline", "state", "deadline"),
        # The list's order (see TODO_ORDER), served by an index instead of a CASE.
        sa.Index("ix_rectification_order_list_order", "state_rank", "deadline", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(64), unique=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("inspection_case.id"), index=True)
    state: Mapped[str] = mapped_column(sa.String(16), default=order_workflow.INITIAL)
    # The state's place in TODO_ORDER, kept in step by casework.sortkeys.
    state_rank: Mapped[int] = mapped_column(
        sa.Integer, default=sortkeys.rank_default(LIST_RANK, order_workflow.INITIAL), server_default="0")
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    requirements: Mapped[str] = mapped_column(sa.Text)
    issuing_body: Mapped[str] = mapped_column(sa.String(200))
    issued_on: Mapped[date] = mapped_column(sa.Date)
    issued_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    deadline: Mapped[date] = mapped_column(sa.Date)
    # How the deadline was set ({"kind": "working_days", "value": 20}), so it can be
    # recomputed once a year's holiday arrangement is entered.
    deadline_rule: Mapped[dict] = mapped_column(sa.JSON)
    deadline_provisional: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # A retried POST carries the same key and finds the first order instead of a second.
    request_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[InspectionCase] = relationship()
    issued_by: Mapped[User] = relationship()
    findings: Mapped[list[Finding]] = relationship(secondary=order_finding,
                                                   order_by=Finding.id)
    submissions: Mapped[list["Submission"]] = relationship(back_populates="order",
                                                           order_by="Submission.id")
    extension_requests: Mapped[list["ExtensionRequest"]] = relationship(
        back_populates="order", order_by="ExtensionRequest.id")

    __mapper_args__ = {"version_id_col": version}

    workflow = order_workflow.NAME

    @property
    def is_open(self) -> bool:
        return self.state in order_workflow.OPEN_STATES

    def days_left(self, today: date) -> int:
        return (self.deadline - today).days


sortkeys.ranked(RectificationOrder, LIST_RANK, order_workflow.STATES)


class Submission(db.Model):
    """A rectification report with its evidence, as submitted (整改报告)."""

    __tablename__ = "submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("rectification_order.id"), index=True)
    report: Mapped[str] = mapped_column(sa.Text)
    submitted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    late: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    request_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    order: Mapped[RectificationOrder] = relationship(back_populates="submissions")
    submitted_by: Mapped[User] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        primaryjoin="Submission.id == Attachment.submission_id", order_by=Attachment.id,
        viewonly=True)


class ExtensionRequest(db.Model):
    """An institution's request for more time (延期申请) and the coordinator's decision,
    worked through the extension machine (workflows/extension.py); its state is stored
    in `status`."""

    __tablename__ = "extension_request"
    __table_args__ = (
        one_of("status", EXTENSION_STATUSES),
        sa.CheckConstraint("status = 'pending' OR decided_at IS NOT NULL",
                           name="decided_has_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("rectification_order.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    proposed_deadline: Mapped[date] = mapped_column(sa.Date)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(sa.String(12), default=extension_workflow.INITIAL)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_comment: Mapped[str | None] = mapped_column(sa.Text)
    granted_deadline: Mapped[date | None] = mapped_column(sa.Date)
    request_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    version: Mapped[int] = mapped_column(sa.Integer, default=1, server_default="1")

    order: Mapped[RectificationOrder] = relationship(back_populates="extension_requests")
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    # The machine reads and writes `state`; the column keeps its name (no data moved).
    state = synonym("status")

    __mapper_args__ = {"version_id_col": version}

    workflow = extension_workflow.NAME


class OrderNumberSequence(db.Model):
    """The last number issued per year: notices are numbered 〔2026〕001号, 002号, …"""

    __tablename__ = "order_number_sequence"

    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(sa.Integer, default=0)
