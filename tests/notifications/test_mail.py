"""E-mail against a real SMTP server (aiosmtpd on 127.0.0.1, started by the tests):
each pending notification sent once, in the reader's language; users without e-mail
skipped; a dead, silent or refusing server retried later with a growing delay, never
raising, and given up after MAIL_MAX_ATTEMPTS."""

import email
import email.policy
import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from factories import fresh

from casework.jobs.runner import run_job
from casework.notifications import mail
from casework.notifications.kinds import render_in
from casework.notifications.models import Notification
from casework.notifications.services import Notice, notify

T0 = datetime(2022, 3, 1, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
REMINDER = {"number": "ZW-2022-001", "deadline": "2022-03-04", "days": 3}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """The aiosmtpd handler: keeps every accepted message; refuses chosen recipients."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: set[str] = set()
        self.shut_down_at: set[str] = set()  # answer DATA for these with 421 (closing)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.shut_down_at & set(envelope.rcpt_tos):
            return "421 4.3.2 Service shutting down"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address) -> list:
        return [m for m in self.messages if m["To"].addresses[0].addr_spec == address]


class SMTPServer:
    """A real SMTP server on a fixed local port that a test can start and stop."""

    def __init__(self, port):
        self.port = port
        self.mailbox = Mailbox()
        self.controller = None

    def start(self):
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def mail_config(app, monkeypatch):
    """Point the app at a local port (nothing listens there yet) with fast settings."""
    port = free_port()
    for name, value in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_USE_TLS": False,
                        "MAIL_USERNAME": None, "MAIL_PASSWORD": None,
                        "MAIL_FROM": "casework@zw.example.org",
                        "BASE_URL": "https://casework.zw.example.org", "MAIL_TIMEOUT": 5,
                        "MAIL_RETRY_MINUTES": 15, "MAIL_MAX_ATTEMPTS": 4}.items():
        monkeypatch.setitem(app.config, name, value)
    return app.config


@pytest.fixture
def server(mail_config):
    """Not started: `server.start()` brings it up on the configured port."""
    smtp = SMTPServer(mail_config["MAIL_PORT"])
    yield smtp
    smtp.stop()


@pytest.fixture
def smtp(server):
    """The server, up."""
    server.start()
    return server


@pytest.fixture
def people(users, db):
    """Three users who want e-mail: hospital (zh_CN), coordinator (en), inspector (zh_CN)."""
    addresses = {"institution": "hosp@zw.example.org", "coordinator": "coord@zw.example.org",
                 "inspector": "insp@zw.example.org"}
    for role, address in addresses.items():
        users[role].email = address
        users[role].email_notifications = True
    users["coordinator"].locale = "en"
    db.session.commit()
    return users


def add(db, user, key, kind="order_deadline_reminder", params=REMINDER, link="/orders/7"):
    notify([Notice(user_id=user.id, key=key, kind=kind, params=params, link=link)])
    db.session.commit()
    return db.session.scalar(sa.select(Notification).where(
        Notification.user_id == user.id, Notification.key == key))


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


# --- sending --------------------------------------------------------------------------

def test_each_pending_notification_is_sent_once(smtp, people, db):
    rows = [add(db, people[role], f"k:{role}") for role in ("institution", "coordinator")]

    summary = mail.send_pending(T0)

    assert summary == {"sent": 2, "skipped": 0, "retrying": 0, "failed": 0}
    assert len(smtp.mailbox.messages) == 2
    for row in rows:
        row = fresh(db, row)
        assert (row.email_status, row.email_attempts, row.email_error) == ("sent", 1, None)
        assert row.email_sent_at is not None and row.email_next_attempt_at is None
    # The second run has nothing left to send.
    assert mail.send_pending(T0 + timedelta(minutes=5))["sent"] == 0
    assert len(smtp.mailbox.messages) == 2


class Crash(BaseException):
    """The process dying mid-run (no handler catches it)."""


def test_a_crash_keeps_every_message_sent_before_it(smtp, people, db, monkeypatch):
    first, second = [add(db, people[role], f"k:{role}") for role in ("institution", "coordinator")]
    build = mail.build_message

    def crash_on_the_second(notification, at):
        if notification.id == second.id:
            raise Crash()
        return build(notification, at)

    monkeypatch.setattr(mail, "build_message", crash_on_the_second)
    with pytest.raises(Crash):
        mail.send_pending(T0)
    db.session.rollback()  # what is not committed is gone
    assert len(smtp.mailbox.messages) == 1
    assert fresh(db, first).email_status == "sent"  # committed before the next message
    assert (fresh(db, second).email_status, fresh(db, second).email_attempts) == ("pending", 0)


def test_mail_is_in_the_readers_language(smtp, people, db, app):
    add(db, people["institution"], "zh")          # zh_CN, the default
    add(db, people["coordinator"], "en")

    mail.send_pending(T0)

    [chinese] = smtp.mailbox.to("hosp@zw.example.org")
    [english] = smtp.mailbox.to("coord@zw.example.org")
    with app.test_request_context():
        expected_zh = render_in("zh_CN", "order_deadline_reminder", REMINDER)
    assert chinese["Subject"] == expected_zh.subject
    assert expected_zh.text in body(chinese)
    assert "2022年3月4日" in body(chinese)
    assert chinese["Content-Language"] == "zh-CN"
    assert english["Subject"] == "Order ZW-2022-001 is due in 3 days"
    assert ("Rectification order ZW-2022-001 is due on March 4, 2022, in 3 days."
            in body(english))
    assert english["Content-Language"] == "en"


def test_mail_links_to_the_site_and_has_a_stable_message_id(smtp, people, db):
    row = add(db, people["coordinator"], "link", link="/orders/7")

    mail.send_pending(T0)

    [message] = smtp.mailbox.messages
    text = body(message)
    assert "https://casework.zw.example.org/orders/7" in text
    assert "https://casework.zw.example.org/notifications/settings" in text
    assert message["Message-ID"] == mail.message_id(fresh(db, row))
    assert message["Message-ID"].startswith(f"<notification.{row.id}.")
    assert message["From"].addresses[0].addr_spec == "casework@zw.example.org"
    assert message["Auto-Submitted"] == "auto-generated"


def test_users_without_email_are_skipped(smtp, people, db):
    wanted = add(db, people["institution"], "a")
    turned_off = add(db, people["coordinator"], "b")
    no_address = add(db, people["inspector"], "c")
    assert {fresh(db, r).email_status for r in (wanted, turned_off, no_address)} == {"pending"}
    # They change their minds after the notifications were created.
    people["coordinator"].email_notifications = False
    people["inspector"].email = None
    db.session.commit()

    summary = mail.send_pending(T0)

    assert summary["sent"] == 1 and summary["skipped"] == 2
    assert [m["To"].addresses[0].addr_spec for m in smtp.mailbox.messages] == [
        "hosp@zw.example.org"]
    assert fresh(db, turned_off).email_status == "skipped"
    assert fresh(db, no_address).email_status == "skipped"
    # Created while e-mail is off: skipped from the start, never mailed.
    late = add(db, people["coordinator"], "d")
    assert fresh(db, late).email_status == "skipped"
    mail.send_pending(T0)
    assert len(smtp.mailbox.messages) == 1


def test_more_than_one_batch(smtp, people, db, monkeypatch):
    monkeypatch.setattr(mail, "BATCH_SIZE", 3)
    for i in range(7):
        add(db, people["institution" if i % 2 else "coordinator"], f"batch:{i}")

    assert mail.send_pending(T0)["sent"] == 7
    assert len(smtp.mailbox.messages) == 7
    assert len({m["Message-ID"] for m in smtp.mailbox.messages}) == 7


# --- a failing server -------------------------------------------------------------------

def test_server_down_returns_normally_and_schedules_a_retry(server, people, db):
    rows = [add(db, people["institution"], "a"), add(db, people["coordinator"], "b")]

    summary = mail.send_pending(T0)  # nothing listens on the port

    assert summary["sent"] == 0 and summary["retrying"] == 2
    assert "ConnectionRefusedError" in summary["error"]
    for row in rows:
        row = fresh(db, row)
        assert row.email_status == "pending"
        assert row.email_attempts == 1
        assert row.email_next_attempt_at == T0 + timedelta(minutes=15)
        assert "ConnectionRefusedError" in row.email_error
        assert row.email_sent_at is None


def test_retry_after_the_server_comes_back_sends_exactly_once(server, people, db, clock):
    clock(T0)
    row = add(db, people["institution"], "a")
    mail.send_pending(T0)
    assert fresh(db, row).email_attempts == 1

    server.start()
    # Not due yet: the retry waits for its time even though the server is back.
    clock(T0 + timedelta(minutes=5))
    assert mail.send_pending(T0 + timedelta(minutes=5))["sent"] == 0
    assert server.mailbox.messages == []

    clock(T0 + timedelta(minutes=16))
    assert mail.send_pending(T0 + timedelta(minutes=16))["sent"] == 1
    assert mail.send_pending(T0 + timedelta(minutes=21))["sent"] == 0
    assert len(server.mailbox.messages) == 1
    row = fresh(db, row)
    assert (row.email_status, row.email_attempts) == ("sent", 2)


def test_delay_doubles_and_after_max_attempts_the_mail_failed(server, people, db):
    row = add(db, people["institution"], "a")
    at, delays = T0, []

    for _ in range(4):  # MAIL_MAX_ATTEMPTS = 4 in mail_config
        mail.send_pending(at)
        row = fresh(db, row)
        if row.email_next_attempt_at is not None:
            delays.append(row.email_next_attempt_at - at)
            at = row.email_next_attempt_at

    assert delays == [timedelta(minutes=m) for m in (15, 30, 60)]
    assert (row.email_status, row.email_attempts) == ("failed", 4)
    assert row.email_next_attempt_at is None
    # Given up: a server that comes back later does not get it.
    server.start()
    assert mail.send_pending(at + timedelta(days=1))["sent"] == 0
    assert server.mailbox.messages == []


def test_a_silent_server_times_out(mail_config, people, db, monkeypatch):
    monkeypatch.setitem(mail_config, "MAIL_TIMEOUT", 0.5)
    # Accepts the TCP connection (backlog) but never greets.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", mail_config["MAIL_PORT"]))
        silent.listen(5)
        row = add(db, people["institution"], "a")
        started = datetime.now(UTC)
        summary = mail.send_pending(T0)
        elapsed = datetime.now(UTC) - started
    assert summary["retrying"] == 1
    assert elapsed < timedelta(seconds=5)
    row = fresh(db, row)
    assert row.email_attempts == 1 and "timed out" in row.email_error.lower()


def test_a_refused_recipient_does_not_stop_the_others(smtp, people, db):
    smtp.mailbox.refuse.add("coord@zw.example.org")
    refused = add(db, people["coordinator"], "a")
    accepted = add(db, people["institution"], "b")

    summary = mail.send_pending(T0)

    assert summary["sent"] == 1 and summary["retrying"] == 1
    assert fresh(db, accepted).email_status == "sent"
    refused = fresh(db, refused)
    assert refused.email_status == "pending" and refused.email_attempts == 1
    assert "550" in refused.email_error


def test_the_mail_job_succeeds_with_the_server_down(server, people, db):
    add(db, people["institution"], "a")

    run = run_job("send_mail", T0)

    assert run.outcome == "ok"
    assert run.summary["retrying"] == 1


def test_rows_claimed_by_another_mailer_are_left_alone(smtp, people, db):
    row = add(db, people["institution"], "a")
    # Another mailer took the row a moment ago and is sending it.
    assert [n.id for n in mail._claim([row.id], T0)] == [row.id]

    assert mail.send_pending(T0)["sent"] == 0
    assert smtp.mailbox.messages == []
    # Had it died, the row is due again once the claim runs out.
    later = fresh(db, row).email_next_attempt_at + timedelta(seconds=1)
    assert mail.send_pending(later)["sent"] == 1


def test_a_connection_lost_mid_batch_leaves_the_rest_due(smtp, people, db):
    smtp.mailbox.shut_down_at.add("coord@zw.example.org")
    first = add(db, people["institution"], "a")
    broken = add(db, people["coordinator"], "b")
    untried = add(db, people["inspector"], "c")

    summary = mail.send_pending(T0)

    assert (summary["sent"], summary["retrying"]) == (1, 1)
    assert fresh(db, first).email_status == "sent"
    broken = fresh(db, broken)
    assert broken.email_attempts == 1 and "421" in broken.email_error
    untried = fresh(db, untried)
    assert (untried.email_status, untried.email_attempts) == ("pending", 0)
    assert untried.email_next_attempt_at is None  # not tried, so not delayed
    smtp.mailbox.shut_down_at.clear()
    assert mail.send_pending(T0 + timedelta(minutes=1))["sent"] == 1  # the untried one
    assert fresh(db, untried).email_status == "sent"
