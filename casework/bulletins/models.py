"""Complaint and dispute bulletins (通报): one per campaign and period, drafted by the
scheduler from the data that exists, published by a coordinator."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.campaigns.models import Campaign
from casework.dbtypes import UTCDateTime, one_of, utcnow
from casework.extensions import db
from workflows import bulletin as bulletin_workflow


class Bulletin(db.Model):
    __tablename__ = "bulletin"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "period_start"),
        one_of("state", bulletin_workflow.STATES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), index=True)
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)
    state: Mapped[str] = mapped_column(sa.String(12), default=bulletin_workflow.INITIAL)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    figures: Mapped[dict | None] = mapped_column(sa.JSON)
    commentary: Mapped[str | None] = mapped_column(sa.Text)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    campaign: Mapped[Campaign] = relationship()

    __mapper_args__ = {"version_id_col": version}

    workflow = bulletin_workflow.NAME
