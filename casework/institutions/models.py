"""Regions (the jurisdiction tree) and the medical institutions in them."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.dbtypes import UTCDateTime, one_of, utcnow
from casework.extensions import db

# The stored codes (display names in casework/labels.py).
REGION_LEVELS = ("province", "city", "district", "county")
INSTITUTION_TYPES = (
    "general_hospital",
    "tcm_hospital",
    "maternal_child_hospital",
    "specialist_hospital",
    "community_health_centre",
    "community_health_station",
    "township_health_centre",
    "outpatient_department",
    "clinic",
)
HOSPITAL_TYPES = INSTITUTION_TYPES[:4]
INSTITUTION_LEVELS = ("tertiary", "secondary", "primary", "ungraded")
OWNERSHIPS = ("public", "private")


class Region(db.Model):
    """A node of the jurisdiction tree.

    `path` is the materialised path of ids ("/1/4/"), so "this region and everything
    under it" is one indexed prefix match instead of a recursive query.
    """

    __tablename__ = "region"
    __table_args__ = (one_of("level", REGION_LEVELS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str | None] = mapped_column(sa.String(100))
    level: Mapped[str] = mapped_column(sa.String(12))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id"), index=True)
    path: Mapped[str] = mapped_column(sa.String(255), default="", index=True)

    parent: Mapped["Region | None"] = relationship(remote_side=[id])

    def __repr__(self):
        return f"<Region {self.code} {self.name}>"


class Institution(db.Model):
    __tablename__ = "institution"
    __table_args__ = (
        one_of("type", INSTITUTION_TYPES),
        one_of("level", INSTITUTION_LEVELS),
        one_of("ownership", OWNERSHIPS),
        sa.CheckConstraint("annual_visits IS NULL OR annual_visits >= 0", name="visits_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str | None] = mapped_column(sa.String(200))
    type: Mapped[str] = mapped_column(sa.String(32), index=True)
    level: Mapped[str] = mapped_column(sa.String(12))
    ownership: Mapped[str] = mapped_column(sa.String(8))
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id"), index=True)
    annual_visits: Mapped[int | None] = mapped_column(sa.Integer)
    specialties: Mapped[list | None] = mapped_column(sa.JSON)

    region: Mapped[Region] = relationship()

    @property
    def is_hospital(self) -> bool:
        return self.type in HOSPITAL_TYPES

    def __repr__(self):
        return f"<Institution {self.code} {self.name}>"


class StaffMember(db.Model):
    """A named member of an institution's staff: what complaints name and points land on.

    Registered by coordinators and inspectors as complaints and findings name people;
    never deleted (points and complaints refer to them), only marked inactive.
    """

    __tablename__ = "staff_member"
    __table_args__ = (sa.Index("ix_staff_member_institution_name", "institution_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institution.id"))
    name: Mapped[str] = mapped_column(sa.String(100))
    department: Mapped[str | None] = mapped_column(sa.String(100))
    title: Mapped[str | None] = mapped_column(sa.String(100))
    # Practising certificate number (执业证书编码) where known: tells namesakes apart.
    licence_number: Mapped[str | None] = mapped_column(sa.String(40))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    institution: Mapped[Institution] = relationship()

    def __repr__(self):
        return f"<StaffMember {self.name} @{self.institution_id}>"
