"""Files attached to findings (photos, documents) and to rectification submissions.

The bytes live in the configured storage (casework/storage.py) under a random key;
the row keeps what the checks found (type from the content, size, hash).
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.dbtypes import UTCDateTime, new_uuid, utcnow
from casework.extensions import db
from casework.users.models import User


class Attachment(db.Model):
    __tablename__ = "attachment"
    __table_args__ = (
        sa.CheckConstraint(
            "(CASE WHEN finding_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN submission_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN report_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="exactly_one_owner"),
        sa.CheckConstraint("size > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    finding_id: Mapped[int | None] = mapped_column(sa.ForeignKey("finding.id"), index=True)
    submission_id: Mapped[int | None] = mapped_column(sa.ForeignKey("submission.id"),
                                                      index=True)
    report_id: Mapped[int | None] = mapped_column(sa.ForeignKey("progress_report.id"),
                                                  index=True)
    kind: Mapped[str] = mapped_column(sa.String(12))  # image | pdf
    original_name: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploaded_by: Mapped[User] = relationship()
    finding = relationship("Finding", foreign_keys=[finding_id], viewonly=False)
    submission = relationship("Submission", foreign_keys=[submission_id])
    report = relationship("ProgressReport", foreign_keys=[report_id])

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
