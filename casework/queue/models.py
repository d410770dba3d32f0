"""Who works an escalation-queue item. The items themselves are not stored: they are
computed from their sources (orders, reports, cases, points, complaints) each time, so
an item leaves the queue the moment its cause is gone. A claim names the item by its
key ("order_escalated:12", "institution_points:4:2026") and outlives nothing but itself.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.dbtypes import UTCDateTime, utcnow
from casework.extensions import db
from casework.users.models import User

# The kinds of item that need a coordinator, in the queue's order (display names in
# casework/labels.py).
QUEUE_KINDS = ("order_escalated", "order_overdue", "order_returned_twice", "report_overdue",
               "case_tackling", "case_blocked", "institution_complaints",
               "institution_points", "case_no_mobilisation_record")


class QueueClaim(db.Model):
    __tablename__ = "queue_claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    assignee_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    assigned_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(sa.String(500))

    assignee: Mapped[User] = relationship(foreign_keys=[assignee_id])
    assigned_by: Mapped[User] = relationship(foreign_keys=[assigned_by_id])
