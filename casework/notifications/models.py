"""Notifications: an in-app inbox row per user and event, e-mailed later from the row.

A row is created once per (user, key): the key names what it is about and when
("order:12:reminder:7:2022-03-01"), so a sweep that runs twice, or after a crash,
creates nothing twice. Subject and text are rendered from `kind` and `params` in the
reader's language when shown or mailed.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.dbtypes import UTCDateTime, one_of, utcnow
from casework.extensions import db
from casework.users.models import User

EMAIL_STATUSES = ("pending", "sent", "failed", "skipped")


class Notification(db.Model):
    __tablename__ = "notification"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "key"),
        one_of("email_status", EMAIL_STATUSES),
        sa.Index("ix_notification_user_unread", "user_id", "read_at"),
        sa.Index("ix_notification_email_due", "email_status", "email_next_attempt_at"),
        # notify() finds the keys that exist already by key alone (the unique index
        # starts with user_id).
        sa.Index("ix_notification_key", "key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    key: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(40))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    link: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_status: Mapped[str] = mapped_column(sa.String(8), default="pending")
    email_attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    email_next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_error: Mapped[str | None] = mapped_column(sa.String(500))

    user: Mapped[User] = relationship()
