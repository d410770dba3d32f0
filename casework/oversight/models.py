"""Oversight records on institutions: interviews (约谈), accountability (问责) and the
one-vote veto (一票否决) for a year.

An interview is worked through its machine (workflows/interview.py, binding.apply); each
change to the other records is a history event (binding.record) under its own object
type, and their `state` is what the history shows.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.dbtypes import UTCDateTime, one_of, utcnow
from casework.extensions import db
from casework.institutions.models import Institution, StaffMember
from casework.users.models import User
from workflows import interview as interview_workflow

# The stored codes (display names in casework/labels.py).
ACCOUNTABILITY_MEASURES = ("circulated_criticism", "admonishment_talk", "written_inspection",
                           "organisational_handling", "referred_for_discipline", "other")


class Interview(db.Model):
    """A summons of an institution's leaders to a talk (约谈): scheduled, then held (with
    attendees, minutes and usually a follow-up rectification order) or cancelled."""

    __tablename__ = "interview"
    __table_args__ = (
        one_of("state", interview_workflow.STATES),
        sa.CheckConstraint("state != 'held' OR (held_on IS NOT NULL AND minutes IS NOT NULL)",
                           name="held_has_minutes"),
        sa.Index("ix_interview_institution_state", "institution_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institution.id"))
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaign.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inspection_case.id"), index=True)
    # The escalation-queue item it answers ("institution_points:4:2026"), if any.
    queue_key: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[str | None] = mapped_column(sa.String(200))
    state: Mapped[str] = mapped_column(sa.String(12), default=interview_workflow.INITIAL)
    held_on: Mapped[date | None] = mapped_column(sa.Date)
    attendees: Mapped[str | None] = mapped_column(sa.Text)
    minutes: Mapped[str | None] = mapped_column(sa.Text)
    follow_up_order_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("rectification_order.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    institution: Mapped[Institution] = relationship()
    created_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}
    workflow = interview_workflow.NAME


class AccountabilityRecord(db.Model):
    """An accountability measure (问责) decided against an institution or one of its staff."""

    __tablename__ = "accountability_record"
    __table_args__ = (one_of("measure", ACCOUNTABILITY_MEASURES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institution.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_member.id"))
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inspection_case.id"))
    queue_key: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    measure: Mapped[str] = mapped_column(sa.String(32))
    decided_on: Mapped[date] = mapped_column(sa.Date)
    # The decision document's number (文号), where there is one.
    document_number: Mapped[str | None] = mapped_column(sa.String(100))
    reason: Mapped[str] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    institution: Mapped[Institution] = relationship()
    staff: Mapped[StaffMember | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    workflow = "accountability"
    state = "recorded"


class VetoFlag(db.Model):
    """The one-vote veto (一票否决) on an institution for a year: it fails that year's
    assessment whatever else it scores. Revoked, never deleted."""

    __tablename__ = "veto_flag"
    __table_args__ = (
        sa.CheckConstraint("revoked_at IS NULL OR revoked_reason IS NOT NULL",
                           name="revocation_has_reason"),
        sa.Index("ix_veto_flag_institution_year", "institution_id", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institution.id"))
    year: Mapped[int] = mapped_column(sa.Integer)
    reason: Mapped[str] = mapped_column(sa.Text)
    decided_on: Mapped[date] = mapped_column(sa.Date)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(sa.Text)
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    institution: Mapped[Institution] = relationship()

    workflow = "veto"

    @property
    def state(self) -> str:
        return "revoked" if self.revoked_at else "active"
