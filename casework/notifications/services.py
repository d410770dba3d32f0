"""Creating notifications (idempotently) and reading the inbox."""

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from casework.extensions import db
from casework.notifications.models import Notification
from casework.users.models import User


@dataclass(frozen=True)
class Notice:
    """One notification to create: who, the unique key, what kind, its values, a link."""

    user_id: int
    key: str
    kind: str
    params: dict
    link: str | None = None


def notify(notices: Iterable[Notice]) -> int:
    """Add the notices that do not exist yet (by user and key); returns how many.

    Does not commit: the caller commits them with the change they are about, so a
    crash leaves either both or neither. One query finds the existing keys.
    """
    notices = list({(n.user_id, n.key): n for n in notices}.values())
    if not notices:
        return 0
    keys = {n.key for n in notices}
    existing = set(db.session.execute(
        sa.select(Notification.user_id, Notification.key).where(Notification.key.in_(keys))
    ).all())
    wants_mail = dict(db.session.execute(
        sa.select(User.id, User.email_notifications & (User.email.is_not(None)))
        .where(User.id.in_({n.user_id for n in notices}))).all())
    new = [Notification(user_id=n.user_id, key=n.key, kind=n.kind, params=n.params,
                        link=n.link,
                        email_status="pending" if wants_mail.get(n.user_id) else "skipped")
           for n in notices if (n.user_id, n.key) not in existing]
    db.session.add_all(new)
    return len(new)


def institution_user_ids(institution_ids: Iterable[int]) -> dict[int, list[int]]:
    """{institution id: [active institution users' ids]} in one query."""
    result: dict[int, list[int]] = {}
    for user_id, institution_id in db.session.execute(
            sa.select(User.id, User.institution_id).where(
                User.institution_id.in_(set(institution_ids)), User.active.is_(True),
                User.role == "institution")):
        result.setdefault(institution_id, []).append(user_id)
    return result
