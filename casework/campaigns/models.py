"""Campaigns and their data: phases, key tasks, coverage rules, cadences, indicators.

A campaign is data, not code: these rows are loaded from the definition files in
casework/campaigns/definitions/ (see definition.py for the format).
"""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.dbtypes import one_of
from casework.extensions import db
from casework.institutions.models import Region

# The stored codes (display names in casework/labels.py); the definition files
# (definition.py) use the same.
PHASE_KINDS = ("mobilisation", "rectification", "tackling", "consolidation", "evaluation")
CADENCE_KINDS = ("progress_report", "bulletin", "supervision_report", "assessment")
FREQUENCIES = ("monthly", "quarterly", "half_yearly")
TARGET_KINDS = ("at_least", "at_most", "exactly", "increase", "decrease", "per_level_count",
                "none")
UNITS = ("%", "‰", "count", "ratio", "minutes", "days", "other")


class Campaign(db.Model):
    __tablename__ = "campaign"
    __table_args__ = (sa.CheckConstraint("ends_on >= starts_on", name="period_ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    title_en: Mapped[str | None] = mapped_column(sa.String(300))
    issuing_body: Mapped[str] = mapped_column(sa.String(200))
    issuing_body_en: Mapped[str | None] = mapped_column(sa.String(200))
    document_number: Mapped[str | None] = mapped_column(sa.String(100))
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id"), index=True)
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date] = mapped_column(sa.Date)
    summary: Mapped[str | None] = mapped_column(sa.Text)

    region: Mapped[Region] = relationship()
    phases: Mapped[list["CampaignPhase"]] = relationship(
        order_by="CampaignPhase.position", cascade="all, delete-orphan", back_populates="campaign"
    )
    key_tasks: Mapped[list["KeyTask"]] = relationship(
        order_by="KeyTask.position", cascade="all, delete-orphan", back_populates="campaign"
    )
    coverage_rules: Mapped[list["CoverageRule"]] = relationship(
        order_by="CoverageRule.position", cascade="all, delete-orphan", back_populates="campaign"
    )
    cadences: Mapped[list["ReportingCadence"]] = relationship(
        order_by="ReportingCadence.position", cascade="all, delete-orphan",
        back_populates="campaign",
    )
    indicators: Mapped[list["Indicator"]] = relationship(
        order_by="Indicator.position", cascade="all, delete-orphan", back_populates="campaign"
    )

    def phase_on(self, day: date) -> "CampaignPhase | None":
        """The phase running on `day`; a nested phase (tackling) wins over its parent."""
        running = [p for p in self.phases if p.starts_on <= day <= p.ends_on]
        return min(running, key=lambda p: p.ends_on - p.starts_on, default=None)

    def __repr__(self):
        return f"<Campaign {self.code}>"


class _CampaignPart:
    """Columns every child row of a campaign shares."""

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)


class CampaignPhase(_CampaignPart, db.Model):
    __tablename__ = "campaign_phase"
    __table_args__ = (
        one_of("kind", PHASE_KINDS),
        sa.CheckConstraint("ends_on >= starts_on", name="period_ordered"),
    )

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str | None] = mapped_column(sa.String(100))
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date] = mapped_column(sa.Date)
    description: Mapped[str | None] = mapped_column(sa.Text)

    campaign: Mapped[Campaign] = relationship(back_populates="phases")


class KeyTask(_CampaignPart, db.Model):
    __tablename__ = "key_task"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "code"),)

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str] = mapped_column(sa.String(300))
    title_en: Mapped[str | None] = mapped_column(sa.String(300))
    description: Mapped[str | None] = mapped_column(sa.Text)

    campaign: Mapped[Campaign] = relationship(back_populates="key_tasks")


class CoverageRule(_CampaignPart, db.Model):
    __tablename__ = "coverage_rule"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "code"),
        sa.CheckConstraint("target_percent BETWEEN 0 AND 100", name="target_percent_range"),
        sa.CheckConstraint(
            "ownership IS NULL OR ownership IN ('public', 'private')", name="ownership_valid"
        ),
    )

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32))
    label: Mapped[str] = mapped_column(sa.String(200))
    label_en: Mapped[str | None] = mapped_column(sa.String(200))
    institution_types: Mapped[list] = mapped_column(sa.JSON)
    levels: Mapped[list | None] = mapped_column(sa.JSON)  # null: every level
    ownership: Mapped[str | None] = mapped_column(sa.String(8))
    target_percent: Mapped[int] = mapped_column(sa.Integer)

    campaign: Mapped[Campaign] = relationship(back_populates="coverage_rules")

    def covers(self, institution) -> bool:
        return self.matches(institution.type, institution.level, institution.ownership)

    def matches(self, type_: str, level: str, ownership: str) -> bool:
        return (type_ in self.institution_types
                and (not self.levels or level in self.levels)
                and (self.ownership is None or self.ownership == ownership))


class ReportingCadence(_CampaignPart, db.Model):
    __tablename__ = "reporting_cadence"
    __table_args__ = (
        one_of("kind", CADENCE_KINDS),
        one_of("frequency", FREQUENCIES),
        sa.CheckConstraint("due_day IS NULL OR due_day BETWEEN 1 AND 31", name="due_day_range"),
    )

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(24))
    frequency: Mapped[str] = mapped_column(sa.String(12))
    due_day: Mapped[int | None] = mapped_column(sa.Integer)
    levels: Mapped[list | None] = mapped_column(sa.JSON)
    description: Mapped[str | None] = mapped_column(sa.Text)
    description_en: Mapped[str | None] = mapped_column(sa.Text)

    campaign: Mapped[Campaign] = relationship(back_populates="cadences")


class Indicator(_CampaignPart, db.Model):
    __tablename__ = "indicator"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "code"), one_of("target_kind", TARGET_KINDS))

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32))
    dimension: Mapped[str] = mapped_column(sa.String(100))
    name: Mapped[str] = mapped_column(sa.String(300))
    unit: Mapped[str] = mapped_column(sa.String(16))
    target_kind: Mapped[str] = mapped_column(sa.String(16))
    target_value: Mapped[float | None] = mapped_column(sa.Float)
    target_text: Mapped[str | None] = mapped_column(sa.String(200))
    lead_unit: Mapped[str | None] = mapped_column(sa.String(200))
    applies_to: Mapped[list | None] = mapped_column(sa.JSON)

    campaign: Mapped[Campaign] = relationship(back_populates="indicators")
