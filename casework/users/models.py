"""Users: one role each, scoped to a region subtree or to one institution."""

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from casework.dbtypes import UTCDateTime, one_of, utcnow
from casework.extensions import db
from casework.institutions.models import Institution, Region

# The stored codes (display names in casework/labels.py).
ROLES = ("coordinator", "inspector", "institution", "admin", "viewer")
REGION_ROLES = ("coordinator", "inspector", "viewer")
LOCALES = ("zh_CN", "en")


class User(UserMixin, db.Model):
    __tablename__ = "user_account"  # "user" is reserved in PostgreSQL
    __table_args__ = (
        one_of("role", ROLES),
        one_of("locale", LOCALES),
        # The scope follows from the role: the database refuses a user who could
        # otherwise see everything by accident.
        sa.CheckConstraint(
            "(role = 'institution' AND institution_id IS NOT NULL AND region_id IS NULL)"
            " OR (role IN ('coordinator', 'inspector', 'viewer')"
            "     AND region_id IS NOT NULL AND institution_id IS NULL)"
            " OR (role = 'admin' AND institution_id IS NULL)",
            name="scope_matches_role",
        ),
        sa.CheckConstraint("failed_logins >= 0", name="failed_logins_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(100))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16))
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id"), index=True)
    institution_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("institution.id"), index=True
    )
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    locale: Mapped[str] = mapped_column(sa.String(8), default="zh_CN")
    # Notifications always reach the in-app inbox; e-mail only when the user wants it.
    email_notifications: Mapped[bool] = mapped_column(sa.Boolean, default=True,
                                                      server_default=sa.true())
    failed_logins: Mapped[int] = mapped_column(sa.Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    region: Mapped[Region | None] = relationship()
    institution: Mapped[Institution | None] = relationship()

    # Flask-Login asks is_active before letting a session through.
    @property
    def is_active(self) -> bool:
        return bool(self.active)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    def __repr__(self):
        return f"<User {self.username} {self.role}>"
