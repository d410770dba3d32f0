"""On-site inspections (现场督查) and their findings (发现问题)."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.campaigns.models import KeyTask
from casework.cases.models import InspectionCase
from casework.dbtypes import UTCDateTime, new_uuid, one_of, utcnow
from casework.extensions import db
from casework.users.models import User

SEVERITIES = ("minor", "moderate", "serious")


inspection_inspector = sa.Table(
    "inspection_inspector",
    db.metadata,
    sa.Column("inspection_id", sa.ForeignKey("inspection.id"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("user_account.id"), primary_key=True),
)


class Inspection(db.Model):
    __tablename__ = "inspection"
    __table_args__ = (
        sa.CheckConstraint("(finalised_at IS NULL) = (finalised_by_id IS NULL)",
                           name="finalised_together"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Client-generated on tablets (offline capture), so a retried upload is recognised.
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("inspection_case.id"), index=True)
    inspected_on: Mapped[date] = mapped_column(sa.Date)
    place: Mapped[str] = mapped_column(sa.String(200))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finalised_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    case: Mapped[InspectionCase] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    inspectors: Mapped[list[User]] = relationship(secondary=inspection_inspector,
                                                  order_by=User.id)
    findings: Mapped[list["Finding"]] = relationship(back_populates="inspection",
                                                     order_by="Finding.id")

    @property
    def is_final(self) -> bool:
        return self.finalised_at is not None


class Finding(db.Model):
    __tablename__ = "finding"
    __table_args__ = (one_of("severity", SEVERITIES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    inspection_id: Mapped[int] = mapped_column(sa.ForeignKey("inspection.id"), index=True)
    # Denormalised from the inspection: lists and reports filter findings by case.
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("inspection_case.id"), index=True)
    key_task_id: Mapped[int] = mapped_column(sa.ForeignKey("key_task.id"), index=True)
    severity: Mapped[str] = mapped_column(sa.String(12))
    description: Mapped[str] = mapped_column(sa.Text)
    legal_basis: Mapped[str | None] = mapped_column(sa.Text)
    rectification_required: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    inspection: Mapped[Inspection] = relationship(back_populates="findings")
    key_task: Mapped[KeyTask] = relationship()
    created_by: Mapped[User] = relationship()
    attachments: Mapped[list["Attachment"]] = relationship(  # noqa: F821
        "Attachment", primaryjoin="Finding.id == Attachment.finding_id",
        order_by="Attachment.id", viewonly=True)
    amendments: Mapped[list["FindingAmendment"]] = relationship(
        back_populates="finding", order_by="FindingAmendment.id")

    __mapper_args__ = {"version_id_col": version}


class FindingAmendment(db.Model):
    """A correction to a finalised finding: the original value stays on record."""

    __tablename__ = "finding_amendment"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(sa.ForeignKey("finding.id"), index=True)
    field: Mapped[str] = mapped_column(sa.String(32))
    old_value: Mapped[str | None] = mapped_column(sa.Text)
    new_value: Mapped[str | None] = mapped_column(sa.Text)
    reason: Mapped[str] = mapped_column(sa.Text)
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    finding: Mapped[Finding] = relationship(back_populates="amendments")
    actor: Mapped[User] = relationship()
