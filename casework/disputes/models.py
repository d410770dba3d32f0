"""The medical disputes register (医疗纠纷): one row per dispute, its route and status."""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.dbtypes import UTCDateTime, one_of, utcnow
from casework.extensions import db
from casework.institutions.models import Institution
from casework.users.models import User

# What kind, how it is being resolved, where it stands (display names in
# casework/labels.py).
DISPUTE_TYPES = ("diagnosis_treatment", "surgery", "nursing", "medication", "infection",
                 "service", "fees", "other")
DISPUTE_ROUTES = ("negotiation", "mediation", "litigation")
DISPUTE_STATUSES = ("open", "resolved", "withdrawn")


class MedicalDispute(db.Model):
    __tablename__ = "medical_dispute"
    __table_args__ = (
        one_of("type", DISPUTE_TYPES),
        one_of("route", DISPUTE_ROUTES),
        one_of("status", DISPUTE_STATUSES),
        sa.CheckConstraint("amount IS NULL OR amount >= 0", name="amount_not_negative"),
        sa.CheckConstraint("status = 'open' OR resolved_on IS NOT NULL",
                           name="finished_has_date"),
        sa.Index("ix_medical_dispute_institution_date", "institution_id", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institution.id"))
    occurred_on: Mapped[date] = mapped_column(sa.Date, index=True)
    department: Mapped[str | None] = mapped_column(sa.String(100))
    type: Mapped[str] = mapped_column(sa.String(24))
    route: Mapped[str] = mapped_column(sa.String(12))
    # Compensation agreed or awarded, in yuan; unknown until resolved.
    amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    status: Mapped[str] = mapped_column(sa.String(12), default="open")
    resolved_on: Mapped[date | None] = mapped_column(sa.Date)
    summary: Mapped[str] = mapped_column(sa.Text)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inspection_case.id"), index=True)
    registered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    request_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    institution: Mapped[Institution] = relationship()
    registered_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    # History events of a dispute (registered, route or status changed) are recorded
    # with binding.record under this object type; `state` is what they show.
    workflow = "dispute"

    @property
    def state(self) -> str:
        return self.status
