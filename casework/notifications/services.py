"""Creating notifications (idempotently), reading the inbox, the e-mail preference."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from casework import clock
from casework.errors import Invalid, NotFound
from casework.extensions import db
from casework.notifications.models import Notification
from casework.pagination import Page, paginate
from casework.users.models import User
from workflows import binding


@dataclass(frozen=True)
class Notice:
    """One notification to create: who, the unique key, what kind, its values, a link."""

    user_id: int
    key: str
    kind: str
    params: dict
    link: str | None = None
    mail: bool = True  # False: inbox only (e.g. a reminder caught up after its date)


def notify(notices: Iterable[Notice]) -> int:
    """Add the notices that do not exist yet (by user and key); returns how many.

    Does not commit: the caller commits them with the change they are about, so a
    crash leaves either both or neither. Three statements however many notices: one
    finds the existing keys (on the key index), one the recipients' e-mail choice, one
    multi-row INSERT writes the new ones (not loaded into the session).
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
    new = [{"user_id": n.user_id, "key": n.key, "kind": n.kind, "params": n.params,
            "link": n.link,
            "email_status": "pending" if n.mail and wants_mail.get(n.user_id) else "skipped"}
           for n in notices if (n.user_id, n.key) not in existing]
    if new:
        db.session.execute(sa.insert(Notification.__table__), new)
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


# --- the inbox ------------------------------------------------------------------
# A notification belongs to one user: every function below is scoped to the actor's
# own rows, and another user's id is "not found" (no hint that it exists).

def list_notifications(actor, *, page: int = 1, per_page: int = 50) -> Page:
    """The actor's notifications, newest first, one page (two queries, however many)."""
    mine = Notification.user_id == actor.id
    query = (sa.select(Notification).where(mine)
             .order_by(Notification.created_at.desc(), Notification.id.desc()))
    count = sa.select(sa.func.count(Notification.id)).where(mine)
    return paginate(query, page=page, per_page=per_page, count_query=count)


def unread_count(actor) -> int:
    """How many of the actor's notifications are unread (one query, on the index)."""
    if not getattr(actor, "is_authenticated", False) or actor.id is None:
        return 0
    return db.session.scalar(
        sa.select(sa.func.count(Notification.id))
        .where(Notification.user_id == actor.id, Notification.read_at.is_(None))) or 0


def mark_read(notification_id: int, actor, at: datetime | None = None) -> Notification:
    """Mark one of the actor's notifications read (again: no change); returns it.

    Raises NotFound for an id that does not exist or is someone else's.
    """
    notification = db.session.scalar(sa.select(Notification).where(
        Notification.id == notification_id, Notification.user_id == actor.id))
    if notification is None:
        raise NotFound()
    if notification.read_at is None:
        with binding.unit_of_work():
            notification.read_at = at or clock.now()
    return notification


def mark_all_read(actor, at: datetime | None = None) -> int:
    """Mark every unread notification of the actor read; returns how many changed."""
    with binding.unit_of_work():
        result = db.session.execute(
            sa.update(Notification)
            .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
            .values(read_at=at or clock.now())
            .execution_options(synchronize_session=False))
    return result.rowcount


# --- e-mail preference ----------------------------------------------------------

# Deliberately plain: ASCII local part and domain (no SMTPUTF8 needed), a dot in the
# domain, no spaces or line breaks (nothing that could smuggle a header).
EMAIL_RE = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")
EMAIL_MAX_LENGTH = 254


def set_mail_preference(user: User, enabled: bool, email: str | None) -> User:
    """Save whether `user` wants notifications by e-mail, and the address to use.

    An empty address is allowed only with e-mail off. Raises Invalid (nothing saved)
    for a malformed address or e-mail on without one. Notifications already in the
    inbox keep their e-mail status: turning e-mail on does not mail old news; turning
    it off stops pending mail (the mailer skips them).
    """
    email = (email or "").strip()
    errors: dict[str, list[str]] = {}
    if len(email) > EMAIL_MAX_LENGTH:
        errors["email"] = [_("An e-mail address has at most %(max)d characters.",
                             max=EMAIL_MAX_LENGTH)]
    elif email and not EMAIL_RE.fullmatch(email):
        errors["email"] = [_("Enter a valid e-mail address, like name@example.org.")]
    elif enabled and not email:
        errors["email"] = [_("Enter an e-mail address to receive notifications by e-mail.")]
    if errors:
        raise Invalid(errors)
    with binding.unit_of_work():
        user.email = email or None
        user.email_notifications = bool(enabled)
    return user
