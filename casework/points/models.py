"""Bad-conduct points (不良积分): the configurable rules and the ledger.

The ledger is append-only: a wrong entry is not edited but reversed by a new entry of
the opposite sign that names it (`reverses_id`, unique: an entry is reversed once).
Totals are sums over a year (`year`: the year the points count for).
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.dbtypes import UTCDateTime, one_of, utcnow
from casework.extensions import db
from casework.institutions.models import Institution, StaffMember
from casework.users.models import User

# What a rule awards points for, and to whom (display names in casework/labels.py).
POINTS_SOURCES = ("complaint", "finding", "manual")
POINTS_SUBJECTS = ("institution", "staff")


class PointsRule(db.Model):
    """What earns points: e.g. a substantiated red-envelope complaint gives 6 points to the
    staff member named and 3 to the institution. `category` is the complaint category
    or the campaign key task's code the rule applies to (None: any)."""

    __tablename__ = "points_rule"
    __table_args__ = (
        one_of("source", POINTS_SOURCES),
        sa.CheckConstraint("institution_points >= 0 AND staff_points >= 0",
                           name="points_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    source: Mapped[str] = mapped_column(sa.String(12))
    category: Mapped[str | None] = mapped_column(sa.String(64))
    institution_points: Mapped[int] = mapped_column(sa.Integer, default=0)
    staff_points: Mapped[int] = mapped_column(sa.Integer, default=0)
    description: Mapped[str] = mapped_column(sa.String(300))
    description_en: Mapped[str | None] = mapped_column(sa.String(300))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PointsEntry(db.Model):
    """One line of the ledger: points for an institution (staff_id None) or for one of its
    staff members, with the reason and what caused it."""

    __tablename__ = "points_entry"
    __table_args__ = (
        sa.CheckConstraint("points != 0", name="points_not_zero"),
        sa.CheckConstraint("reverses_id IS NULL OR reversal_reason IS NOT NULL",
                           name="reversal_has_reason"),
        sa.Index("ix_points_entry_institution_year", "institution_id", "year"),
        sa.Index("ix_points_entry_staff_year", "staff_id", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institution.id"))
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_member.id"))
    year: Mapped[int] = mapped_column(sa.Integer)
    awarded_on: Mapped[date] = mapped_column(sa.Date)
    points: Mapped[int] = mapped_column(sa.Integer)
    reason: Mapped[str] = mapped_column(sa.Text)
    rule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("points_rule.id"))
    complaint_id: Mapped[int | None] = mapped_column(sa.ForeignKey("complaint.id"), index=True)
    finding_id: Mapped[int | None] = mapped_column(sa.ForeignKey("finding.id"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(sa.ForeignKey("points_entry.id"),
                                                    unique=True)
    reversal_reason: Mapped[str | None] = mapped_column(sa.Text)
    # What makes an automatic award happen once: "complaint:12:institution",
    # "complaint:12:staff:5". Null for manual entries.
    source_key: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    institution: Mapped[Institution] = relationship()
    staff: Mapped[StaffMember | None] = relationship()
    rule: Mapped[PointsRule | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    # History (binding.record) files its events under this type; an entry has no state
    # machine, so its "state" is the one word the history shows.
    workflow = "points_entry"
    state = "recorded"
