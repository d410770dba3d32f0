"""The history log: one row per transition of any machine. Append-only."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.dbtypes import UTCDateTime, one_of, utcnow
from casework.extensions import db
from casework.users.models import ROLES, User

# The machines, then records whose changes are logged the same way (binding.record).
OBJECT_TYPES = ("case", "order", "complaint", "report", "bulletin",
                "dispute", "interview", "accountability", "veto", "points_entry", "extension")


class HistoryEvent(db.Model):
    __tablename__ = "history_event"
    __table_args__ = (
        one_of("object_type", OBJECT_TYPES),
        one_of("actor_role", (*ROLES, "system")),
        # One object's history in order; on PostgreSQL it also carries what the
        # dashboards' order facts read (when, from and to which state), so a campaign's
        # order history is read from the index alone (no heap visit per event).
        sa.Index("ix_history_event_object", "object_type", "object_id", "id",
                 postgresql_include=["at", "from_state", "to_state"]),
        # The escalation queue counts events by kind (orders returned twice or more) and
        # reads when each object last had one (escalated, returned, designated for
        # tackling): grouped queries answered from this index alone.
        sa.Index("ix_history_event_trigger_at", "object_type", "trigger", "object_id", "at"),
        # The dashboard's latest case events: newest first among one object type.
        sa.Index("ix_history_event_type_id", "object_type", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(sa.String(16))
    object_id: Mapped[int] = mapped_column(sa.Integer)
    trigger: Mapped[str] = mapped_column(sa.String(32))
    from_state: Mapped[str] = mapped_column(sa.String(16))
    to_state: Mapped[str] = mapped_column(sa.String(16))
    # Null for the scheduler, whose role is recorded as "system".
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    actor_role: Mapped[str] = mapped_column(sa.String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict | None] = mapped_column(sa.JSON)

    actor: Mapped[User | None] = relationship()
