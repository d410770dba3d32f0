"""Inspection cases: one institution within one campaign."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.campaigns.models import Campaign
from casework.dbtypes import UTCDateTime, one_of, utcnow
from casework.extensions import db
from casework.institutions.models import Institution
from workflows import case as case_workflow

# The orders table by name, not RectificationOrder: casework/orders/models.py imports
# this module, and the models import each other without cycles (tests/test_layers.py).
_ORDER_TABLE = sa.table("rectification_order", sa.column("case_id"), sa.column("number"),
                        sa.column("state"))


class InspectionCase(db.Model):
    __tablename__ = "inspection_case"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "institution_id"),
        one_of("state", case_workflow.STATES),
        sa.CheckConstraint(
            "state <> 'closed' OR (final_summary IS NOT NULL AND final_summary <> '')",
            name="closed_has_summary",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), index=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institution.id"), index=True)
    state: Mapped[str] = mapped_column(sa.String(16), default=case_workflow.INITIAL, index=True)
    # Optimistic locking: SQLAlchemy adds "AND version = :old" to every UPDATE.
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    final_summary: Mapped[str | None] = mapped_column(sa.Text)

    campaign: Mapped[Campaign] = relationship()
    institution: Mapped[Institution] = relationship()

    __mapper_args__ = {"version_id_col": version}

    workflow = case_workflow.NAME

    # Read by the case machine's guards: the numbers of the orders that stand in the way.
    @property
    def blocking_orders(self) -> list[str]:
        return self._order_numbers(("overdue", "escalated"))

    @property
    def unfinished_orders(self) -> list[str]:
        from workflows import order as order_workflow

        return self._order_numbers(tuple(order_workflow.OPEN_STATES))

    def _order_numbers(self, states: tuple[str, ...]) -> list[str]:
        return self._orders_by_case(states, [self.id]).get(self.id, [])

    @staticmethod
    def _orders_by_case(states: tuple[str, ...], ids) -> dict[int, list[str]]:
        orders = _ORDER_TABLE
        result: dict[int, list[str]] = {}
        for case_id, number in db.session.execute(
                sa.select(orders.c.case_id, orders.c.number)
                .where(orders.c.case_id.in_(list(ids)), orders.c.state.in_(states))
                .order_by(orders.c.case_id, orders.c.number)):
            result.setdefault(case_id, []).append(number)
        return result

    @classmethod
    def guard_values(cls, attribute: str, ids) -> dict[int, list[str]]:
        """{case id: value of `attribute`} for many cases in one query, for a batch of
        transitions (workflows/binding.apply_batch): blocking_orders, unfinished_orders."""
        from workflows import order as order_workflow

        states = {"blocking_orders": ("overdue", "escalated"),
                  "unfinished_orders": tuple(order_workflow.OPEN_STATES)}[attribute]
        found = cls._orders_by_case(states, ids)
        return {i: found.get(i, []) for i in ids}

    def __repr__(self):
        return f"<InspectionCase {self.id} {self.state}>"


class MobilisationRecord(db.Model):
    """What an institution files in the mobilisation phase (动员部署): its leading group and
    the main points of its implementation plan. One per case; a case without one after
    the phase ends shows on the escalation queue."""

    __tablename__ = "mobilisation_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("inspection_case.id"), unique=True)
    leading_group: Mapped[str] = mapped_column(sa.Text)
    plan_summary: Mapped[str] = mapped_column(sa.Text)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    case: Mapped[InspectionCase] = relationship()

    __mapper_args__ = {"version_id_col": version}
