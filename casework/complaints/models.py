"""Complaints, their complainants' personal data (encrypted, in a table of its own) and
the log of every look at that data."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework import sortkeys
from casework.dbtypes import UTCDateTime, one_of, utcnow
from casework.extensions import db
from casework.institutions.models import Institution, StaffMember
from casework.users.models import User
from workflows import complaint as complaint_workflow

CHANNELS = ("hotline", "sms", "web", "letter", "visit")
CATEGORIES = ("service_attitude", "red_envelope", "irregular_fees", "over_treatment",
              "illegal_advertising", "other")
ACCESS_PURPOSES = ("view", "export")
HANDLED_STATES = ("assigned", "investigating", "concluded", "replied")
# The list shows the closed complaints after all others (Complaint.state_rank).
LIST_RANK = {s: 1 if s == "closed" else 0 for s in complaint_workflow.STATES}


def _quoted(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


class Complaint(db.Model):
    """A complaint or tip-off. Nothing personal lives on this row: the complainant's
    details are in ComplainantDetails, which ordinary queries never touch."""

    __tablename__ = "complaint"
    __table_args__ = (
        one_of("state", complaint_workflow.STATES),
        one_of("channel", CHANNELS),
        one_of("category", CATEGORIES),
        sa.CheckConstraint(f"outcome IS NULL OR outcome IN ({_quoted(complaint_workflow.OUTCOMES)})",
                           name="outcome_valid"),
        sa.CheckConstraint(
            "transfer_department IS NULL OR transfer_department IN "
            f"({_quoted(complaint_workflow.TRANSFER_DEPARTMENTS)})", name="department_valid"),
        # The database refuses states that the machine could not have produced.
        sa.CheckConstraint(f"state NOT IN ({_quoted(HANDLED_STATES)}) OR handler_id IS NOT NULL",
                           name="handled_has_handler"),
        sa.CheckConstraint("state NOT IN ('concluded', 'replied') OR outcome IS NOT NULL",
                           name="concluded_has_outcome"),
        sa.CheckConstraint("state != 'replied' OR reply IS NOT NULL", name="replied_has_reply"),
        sa.CheckConstraint("state != 'transferred' OR transfer_department IS NOT NULL",
                           name="transferred_has_department"),
        sa.Index("ix_complaint_state_deadline", "state", "deadline"),
        # Complaints per month about the institutions in a dashboard's scope.
        sa.Index("ix_complaint_institution_received", "institution_id", "received_on"),
        # The list's order (see LIST_RANK), served by an index instead of a CASE.
        sa.Index("ix_complaint_list_order", "state_rank", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the complainant is given to follow the complaint: random, nothing personal.
    tracking_code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    channel: Mapped[str] = mapped_column(sa.String(12))
    category: Mapped[str] = mapped_column(sa.String(24), index=True)
    institution_id: Mapped[int | None] = mapped_column(sa.ForeignKey("institution.id"),
                                                       index=True)
    # The institution as the complainant named it (a public complaint names it in words).
    institution_named: Mapped[str | None] = mapped_column(sa.String(200))
    staff_named: Mapped[str | None] = mapped_column(sa.String(200))
    # The staff member the complaint turned out to be about, once identified.
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_member.id"), index=True)
    description: Mapped[str] = mapped_column(sa.Text)
    received_on: Mapped[date] = mapped_column(sa.Date)
    deadline: Mapped[date] = mapped_column(sa.Date)
    state: Mapped[str] = mapped_column(sa.String(16), default=complaint_workflow.INITIAL)
    # LIST_RANK[state], kept in step by casework.sortkeys (the list sorts by it).
    state_rank: Mapped[int] = mapped_column(
        sa.Integer, default=sortkeys.rank_default(LIST_RANK, complaint_workflow.INITIAL), server_default="0")
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    handler_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    outcome: Mapped[str | None] = mapped_column(sa.String(16))
    findings: Mapped[str | None] = mapped_column(sa.Text)
    reply: Mapped[str | None] = mapped_column(sa.Text)
    transfer_department: Mapped[str | None] = mapped_column(sa.String(32))
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inspection_case.id"), index=True)
    finding_id: Mapped[int | None] = mapped_column(sa.ForeignKey("finding.id"), index=True)
    anonymous: Mapped[bool] = mapped_column(sa.Boolean, default=False,
                                            server_default=sa.false())
    # None for the public form: nobody logged in.
    registered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    request_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    institution: Mapped[Institution | None] = relationship()
    staff: Mapped[StaffMember | None] = relationship()
    case: Mapped["InspectionCase | None"] = relationship("InspectionCase")  # noqa: F821
    finding: Mapped["Finding | None"] = relationship("Finding")  # noqa: F821
    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id])
    registered_by: Mapped[User | None] = relationship(foreign_keys=[registered_by_id])

    __mapper_args__ = {"version_id_col": version}

    workflow = complaint_workflow.NAME


sortkeys.ranked(Complaint, LIST_RANK, complaint_workflow.STATES)


class ComplainantDetails(db.Model):
    """The complainant's personal data, encrypted (Fernet), with masked forms for display.

    A table of its own so that no list or detail query loads it by accident; only
    complaints.services.reveal_personal_data decrypts it, and logs that it did.
    """

    __tablename__ = "complainant_details"

    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaint.id"), primary_key=True)
    name_enc: Mapped[str | None] = mapped_column(sa.Text)
    phone_enc: Mapped[str | None] = mapped_column(sa.Text)
    id_number_enc: Mapped[str | None] = mapped_column(sa.Text)
    name_masked: Mapped[str | None] = mapped_column(sa.String(40))
    phone_masked: Mapped[str | None] = mapped_column(sa.String(40))
    id_number_masked: Mapped[str | None] = mapped_column(sa.String(40))


class PersonalDataAccess(db.Model):
    """One look at a complainant's personal data: who, when, which complaint, why, from where."""

    __tablename__ = "personal_data_access"
    __table_args__ = (one_of("purpose", ACCESS_PURPOSES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaint.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    purpose: Mapped[str] = mapped_column(sa.String(12))
    ip: Mapped[str | None] = mapped_column(sa.String(45))

    user: Mapped[User] = relationship()
