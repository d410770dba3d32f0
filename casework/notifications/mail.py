"""E-mailing notifications: the `send_mail` job (casework.jobs.registry).

`send_pending(at)` mails every notification whose e-mail is pending and due, to users
who want e-mail and have an address (the others are marked `skipped`), each in the
recipient's language, in plain text with an absolute link (config BASE_URL).

Delivery guarantees, and their limits:

* A message is marked `sent` only after the SMTP server accepted it, and that is
  committed (one unit of work per message) before the next message goes out, so
  send_pending runs outside any unit of work (it refuses to run inside one). SMTP has
  no idempotency, so a crash between the server's "250 OK" and that commit sends that
  one message again on the next run: at most one duplicate per crash, never a lost
  message. The Message-ID is derived from the notification (its id and creation time),
  so a receiving system that de-duplicates by Message-ID shows the repeat once.
* Before sending, a batch is claimed: its rows' next attempt moves CLAIM_MINUTES ahead
  in one conditional UPDATE, so a second mailer running at the same time (a manual
  `flask jobs run send_mail` next to the scheduler) does not pick the same rows. A run
  that dies leaves its claimed rows to be retried once the claim expires.
* A failing mail server never raises out of send_pending: refused connections, SMTP
  errors and timeouts (MAIL_TIMEOUT, 10 s by default) are recorded on the notification
  (email_attempts + 1, email_error, email_next_attempt_at = at + MAIL_RETRY_MINUTES ×
  2^(attempts - 1)); after MAIL_MAX_ATTEMPTS attempts the notification is `failed`.
  When the server cannot be reached at all, the run stops after the first batch, so a
  dead server costs one timeout per run, not one per message. Mail is a job of its own:
  the sweeps only create rows and never wait for SMTP.
"""

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from casework import clock
from casework.extensions import db
from casework.notifications.kinds import render
from casework.notifications.models import Notification
from casework.users.models import User
from workflows import binding

log = logging.getLogger(__name__)

BATCH_SIZE = 100
CLAIM_MINUTES = 10  # longer than a batch can take: BATCH_SIZE messages, one timeout
DEFAULT_TIMEOUT_SECONDS = 10


class ServerUnavailable(Exception):
    """The connection to the mail server failed or broke: stop this run."""


@dataclass
class Summary:
    sent: int = 0
    skipped: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        result = {"sent": self.sent, "skipped": self.skipped, "retrying": self.retrying,
                  "failed": self.failed}
        if self.errors:
            result["error"] = self.errors[-1]
        return result


def send_pending(at: datetime) -> dict:
    """Mail the notifications due by `at`; returns {"sent", "skipped", "retrying",
    "failed"[, "error"]} counts. Never raises for a mail-server problem.

    Commits as it goes (claims, then each message), so it must not run inside a unit
    of work, which would hold every "sent" until the end: RuntimeError then."""
    if binding.in_unit_of_work():
        raise RuntimeError("send_pending commits each message: call it outside a unit of work")
    at = _aware(at)
    summary = Summary()
    after_id = 0
    while True:
        ids = _due_ids(at, after_id)
        if not ids:
            break
        after_id = ids[-1]
        summary.skipped += _skip_unwanted(ids)
        claimed = _claim(ids, at)
        if not claimed:
            continue
        try:
            _send_batch(claimed, at, summary)
        except ServerUnavailable:
            break  # the rest stays pending and due: the next run tries again
    return summary.as_dict()


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _due(at: datetime):
    return sa.and_(Notification.email_status == "pending",
                   sa.or_(Notification.email_next_attempt_at.is_(None),
                          Notification.email_next_attempt_at <= at))


def _due_ids(at: datetime, after_id: int) -> list[int]:
    return list(db.session.scalars(
        sa.select(Notification.id).where(_due(at), Notification.id > after_id)
        .order_by(Notification.id).limit(BATCH_SIZE)))


def _wants_mail():
    return sa.and_(User.email_notifications.is_(True), User.active.is_(True),
                   User.email.is_not(None), User.email != "")


def _skip_unwanted(ids: list[int]) -> int:
    """Mark `skipped` the batch's notifications whose user wants no e-mail (or has no
    address, or was deactivated) since they were created; returns how many."""
    unwanted = sa.select(User.id).where(sa.not_(_wants_mail()))
    with binding.unit_of_work():
        result = db.session.execute(
            sa.update(Notification)
            .where(Notification.id.in_(ids), Notification.email_status == "pending",
                   Notification.user_id.in_(unwanted))
            .values(email_status="skipped", email_next_attempt_at=None)
            .execution_options(synchronize_session=False))
    return result.rowcount


def _claim(ids: list[int], at: datetime) -> list[Notification]:
    """Claim the batch's still-due rows for this run and load them with their users."""
    until = max(at, clock.now()) + timedelta(minutes=CLAIM_MINUTES)
    with binding.unit_of_work():
        claimed = list(db.session.scalars(
            sa.update(Notification)
            .where(Notification.id.in_(ids), _due(at))
            .values(email_next_attempt_at=until)
            .returning(Notification.id)
            .execution_options(synchronize_session=False)))
    if not claimed:
        return []
    return list(db.session.scalars(
        sa.select(Notification).join(Notification.user)
        .where(Notification.id.in_(claimed))
        .options(sa.orm.contains_eager(Notification.user))
        .order_by(Notification.id)))


def _send_batch(batch: list[Notification], at: datetime, summary: Summary) -> None:
    """Send a batch over one SMTP connection; raises ServerUnavailable when the
    connection fails or breaks (after recording the failure on the affected rows)."""
    config = current_app.config
    try:
        smtp = _connect(config)
    except (smtplib.SMTPException, OSError) as error:
        message = _describe(error)
        log.warning("mail server %s:%s unavailable: %s", config["MAIL_SERVER"],
                    config["MAIL_PORT"], message)
        with binding.unit_of_work():
            for notification in batch:
                _record_failure(notification, at, message, summary)
        summary.errors.append(message)
        raise ServerUnavailable(message) from error
    broken = False
    try:
        for position, notification in enumerate(batch):
            try:
                message = build_message(notification, at)
            except Exception as error:  # a bug in one message must not stop the others
                log.exception("could not build the e-mail of notification %s", notification.id)
                with binding.unit_of_work():
                    _record_failure(notification, at, _describe(error), summary)
                continue
            try:
                smtp.send_message(message)
            except (smtplib.SMTPException, OSError) as error:
                description = _describe(error)
                lost = broken = _connection_lost(error)
                with binding.unit_of_work():
                    _record_failure(notification, at, description, summary)
                    summary.errors.append(description)
                    if lost:
                        # This message failed; the rest of the batch was not tried and
                        # is due again (its claim released) for the next run.
                        for untried in batch[position + 1:]:
                            untried.email_next_attempt_at = None
                if lost:
                    raise ServerUnavailable(description) from error
                # Refused for this message only (recipient, size...): the connection
                # still serves the others.
                continue
            # Committed before the next message: a crash repeats one at most.
            with binding.unit_of_work():
                notification.email_status = "sent"
                notification.email_sent_at = clock.now()
                notification.email_next_attempt_at = None
                notification.email_attempts += 1
                notification.email_error = None
            summary.sent += 1
    finally:
        if broken:
            smtp.close()  # QUIT on a dead or silent connection would wait a timeout more
        else:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


def _connection_lost(error: BaseException) -> bool:
    """Whether `error` ended the SMTP session (rather than refusing one message).

    SMTPException is an OSError too: socket errors and timeouts are the OSErrors that
    are not SMTPExceptions. A 421 reply means the server is closing the channel.
    """
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return any(code == 421 for code, _reply in error.recipients.values())
    if isinstance(error, smtplib.SMTPException):
        return getattr(error, "smtp_code", None) == 421
    return True


def _connect(config) -> smtplib.SMTP:
    timeout = config.get("MAIL_TIMEOUT", DEFAULT_TIMEOUT_SECONDS)
    smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout)
    try:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _record_failure(notification: Notification, at: datetime, error: str,
                    summary: Summary) -> None:
    """One more failed attempt: retry later with a doubling delay, or give up."""
    config = current_app.config
    notification.email_attempts = (notification.email_attempts or 0) + 1
    notification.email_error = error[:500]
    if notification.email_attempts >= config["MAIL_MAX_ATTEMPTS"]:
        notification.email_status = "failed"
        notification.email_next_attempt_at = None
        summary.failed += 1
    else:
        delay = config["MAIL_RETRY_MINUTES"] * 2 ** (notification.email_attempts - 1)
        notification.email_next_attempt_at = at + timedelta(minutes=delay)
        summary.retrying += 1


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# --- the message ------------------------------------------------------------------

def site_url(endpoint: str, **values) -> str:
    """The absolute address of a page of the site, without a request (BASE_URL)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme or "http")
    return adapter.build(endpoint, values, force_external=True)


def absolute_url(path: str | None) -> str | None:
    """`path` ("/orders/12") on the site's BASE_URL; absolute links pass unchanged."""
    if not path:
        return None
    if urlsplit(path).scheme in ("http", "https"):
        return path
    return current_app.config["BASE_URL"].rstrip("/") + "/" + path.lstrip("/")


def message_id(notification: Notification) -> str:
    """The same Message-ID every time this notification is sent (see the module doc)."""
    domain = urlsplit(current_app.config["BASE_URL"]).hostname or "casework.invalid"
    created = int(notification.created_at.timestamp()) if notification.created_at else 0
    return f"<notification.{notification.id}.{created}@{domain}>"


def build_message(notification: Notification, at: datetime) -> EmailMessage:
    """The e-mail of `notification` in its user's language: plain text, UTF-8."""
    user = notification.user
    locale = user.locale or "zh_CN"
    with force_locale(locale):
        rendered = render(notification.kind, notification.params)
        link = absolute_url(notification.link)
        parts = [rendered.text]
        if link:
            parts.append(_("Open: %(url)s", url=link))
        parts.append("-- \n" + _(
            "You receive this e-mail because e-mail notifications are on in Casework. "
            "Change this at %(url)s", url=site_url("notifications.settings")))
        subject = rendered.subject
        sender_name = _("Casework")
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = formataddr((str(sender_name), current_app.config["MAIL_FROM"]))
    message["To"] = formataddr((user.display_name, user.email))
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = message_id(notification)
    # Out-of-office replies and mailing-list loops must not answer a robot.
    message["Auto-Submitted"] = "auto-generated"
    text = "\n\n".join(parts) + "\n"
    # base64 for anything beyond ASCII: not every relay on the way accepts 8-bit data.
    message.set_content(text, cte=None if text.isascii() else "base64")
    # After set_content, which replaces every Content-* header.
    message["Content-Language"] = "zh-CN" if locale == "zh_CN" else locale.replace("_", "-")
    return message
