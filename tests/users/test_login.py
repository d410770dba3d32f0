"""Logging in and out: messages, lock-out, throttling, idle timeout, safe redirects."""

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from factories import csrf_token
from flask_babel import gettext
from markupsafe import escape

from casework.users.models import User

# The password of every World user (tests/conftest.py). Not imported: `conftest` is not
# a reliable module name when several conftest.py files exist.
PASSWORD = "Correct-horse-42"
START = datetime.fromisoformat("2024-03-01T09:00:00+08:00")


def _t(app, msgid, **kwargs):
    """The message as an anonymous visitor sees it (the default language), HTML-escaped."""
    with app.test_request_context():
        return str(escape(gettext(msgid, **kwargs)))


def _post_login(client, username, password, **extra):
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token(client), **extra})


def _session_user(client):
    with client.session_transaction() as session:
        return session.get("_user_id")


def _assert_logged_out(client):
    assert _session_user(client) is None
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_login_redirects_to_dashboard_and_shows_the_user(app, client, users, db):
    users["coordinator"].display_name = "张协调员"
    db.session.commit()
    response = _post_login(client, "coord", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"
    assert _session_user(client) == str(users["coordinator"].id)
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "张协调员" in page.get_data(as_text=True)


def test_username_is_trimmed(client, users):
    assert _post_login(client, "  coord  ", PASSWORD).status_code == 302


@pytest.mark.parametrize("username,password", [
    ("coord", "Wrong-password-1"),
    ("nobody-here", PASSWORD),
    ("nobody-here", "Wrong-password-1"),
])
def test_wrong_password_and_unknown_user_get_the_same_message(app, client, users,
                                                              username, password):
    response = _post_login(client, username, password)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert _t(app, "Wrong username or password.") in body
    # Nothing tells which of the two was wrong.
    assert _t(app, "This account is locked after repeated failed logins. "
                   "Try again after %(minutes)d minutes or ask an administrator.",
              minutes=15) not in body
    _assert_logged_out(client)


@pytest.mark.parametrize("username,password,field,msgid,kwargs", [
    ("", PASSWORD, "username", "Enter your username.", {}),
    ("coord", "", "password", "Enter your password.", {}),
    ("u" * 65, PASSWORD, "username", "A username has at most %(max)d characters.", {"max": 64}),
    ("coord", "p" * 129, "password", "A password has at most %(max)d characters.", {"max": 128}),
])
def test_empty_or_overlong_fields_get_field_errors(app, client, users, username, password,
                                                   field, msgid, kwargs):
    response = _post_login(client, username, password)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert _t(app, msgid, **kwargs) in body
    assert f'id="{field}"' in body and "is-invalid" in body
    _assert_logged_out(client)


def test_longest_allowed_username_is_accepted_by_the_form(app, client, users):
    # 64 characters is not a field error, only an unknown user.
    response = _post_login(client, "u" * 64, PASSWORD)
    assert response.status_code == 422
    assert _t(app, "Wrong username or password.") in response.get_data(as_text=True)


def test_deactivated_user_cannot_log_in(app, client, users, db):
    users["inspector"].active = False
    db.session.commit()
    response = _post_login(client, "insp", PASSWORD)
    assert response.status_code == 422
    assert _t(app, "This account is deactivated. Ask an administrator.") in \
        response.get_data(as_text=True)
    _assert_logged_out(client)


def test_account_locks_after_max_failures_and_unlocks_later(app, client, users, db, clock):
    clock(START)
    max_failures = app.config["LOGIN_MAX_FAILURES"]
    lock_minutes = app.config["LOGIN_LOCK_MINUTES"]
    assert (max_failures, lock_minutes) == (5, 15)
    locked = _t(app, "This account is locked after repeated failed logins. "
                     "Try again after %(minutes)d minutes or ask an administrator.",
                minutes=lock_minutes)
    for _ in range(max_failures - 1):
        assert _post_login(client, "insp", "Wrong-password-1").status_code == 422
    # One failure short of the limit: the right password still works, and resets the count.
    assert _post_login(client, "insp", PASSWORD).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})

    for _ in range(max_failures):
        response = _post_login(client, "insp", "Wrong-password-1")
        assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(User, users["inspector"].id).locked_until is not None

    response = _post_login(client, "insp", PASSWORD)
    assert response.status_code == 422
    assert locked in response.get_data(as_text=True)
    _assert_logged_out(client)

    clock(START + timedelta(minutes=lock_minutes - 1))
    assert locked in _post_login(client, "insp", PASSWORD).get_data(as_text=True)

    clock(START + timedelta(minutes=lock_minutes, seconds=30))
    response = _post_login(client, "insp", PASSWORD)
    assert response.status_code == 302
    assert _session_user(client) == str(users["inspector"].id)
    db.session.expire_all()
    assert db.session.get(User, users["inspector"].id).locked_until is None


def test_lock_of_one_account_leaves_others_alone(app, client, users):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _post_login(client, "insp", "Wrong-password-1")
    assert _post_login(client, "coord", PASSWORD).status_code == 302


def test_login_post_is_throttled(app, client, users, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3 per minute")
    token = csrf_token(client)
    for _ in range(3):
        response = client.post("/login", data={"username": "coord", "password": "Wrong-pw-12",
                                                "csrf_token": token})
        assert response.status_code == 422
    response = client.post("/login", data={"username": "coord", "password": PASSWORD,
                                            "csrf_token": token})
    assert response.status_code == 429
    message = re.search(r'data-testid="error-message">([^<]+)<',
                        response.get_data(as_text=True)).group(1)
    assert message.strip()
    as_json = client.post("/login", headers={"Accept": "application/json"},
                          data={"username": "coord", "password": PASSWORD, "csrf_token": token})
    assert as_json.status_code == 429
    assert as_json.get_json()["error"]["code"] == "rate_limited"
    assert _session_user(client) is None
    # Reading the form is not throttled.
    assert client.get("/login").status_code == 200


def test_session_ends_after_idle_timeout(app, client, login, clock):
    idle = app.config["SESSION_IDLE_MINUTES"]
    clock(START)
    login.as_("coordinator")
    # Activity keeps the session alive: the limit is on idleness, not on age.
    clock(START + timedelta(minutes=idle - 5))
    assert client.get("/dashboard").status_code == 200
    clock(START + timedelta(minutes=2 * idle - 10))
    assert client.get("/dashboard").status_code == 200

    clock(START + timedelta(minutes=3 * idle - 9))  # idle + 1 minutes after the last request
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    _assert_logged_out(client)


def test_server_enforces_idle_timeout_even_if_cookie_lives_longer(app, client, login, clock,
                                                                  monkeypatch):
    # A cookie copied elsewhere, or a lifetime set longer by mistake, must not outlive
    # the idle limit: the server keeps its own clock.
    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", timedelta(days=1))
    clock(START)
    login.as_("coordinator")
    clock(START + timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1))
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    # The login page says why, instead of a bare "please log in".
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert str(escape(gettext(
        "Your session expired after a period of inactivity. Please log in again."))) in page
    _assert_logged_out(client)


def test_logout_requires_post_with_csrf_and_ends_the_session(client, login, users):
    login.as_("coordinator")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/dashboard").status_code == 200  # still logged in

    response = login.logout()
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    _assert_logged_out(client)


@pytest.mark.parametrize("target,expected", [
    ("/cases/?state=rectification", "/cases/?state=rectification"),
    ("/campaigns/", "/campaigns/"),
    ("https://evil.example/login", "/dashboard"),
    ("http://localhost/cases/", "/dashboard"),
    ("//evil.example/login", "/dashboard"),
    ("/\\evil.example/login", "/dashboard"),
    ("/\t/evil.example/login", "/dashboard"),
    ("javascript:alert(1)", "/dashboard"),
    ("cases/", "/dashboard"),
])
def test_next_only_allows_same_site_paths(client, users, target, expected):
    response = _post_login(client, "coord", PASSWORD, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_next_from_the_login_link_is_kept(client, users):
    response = client.get("/cases/?state=closed")
    assert response.status_code == 302
    login_url = response.headers["Location"]
    page = client.get(login_url).get_data(as_text=True)
    token = csrf_token(client)
    next_value = "/cases/?state=closed"
    assert f'value="{escape(next_value)}"' in page
    response = client.post("/login", data={"username": "coord", "password": PASSWORD,
                                           "next": next_value, "csrf_token": token})
    assert response.headers["Location"] == next_value


def test_passwords_are_stored_hashed_with_scrypt(db, world):
    from casework.users.services import create_user, set_password

    user = create_user(username="new-insp", display_name="新监督员", role="inspector",
                       password="A-fresh-password-7", region_code=world.city.code)
    stored = db.session.scalar(sa.select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("scrypt:")
    assert "A-fresh-password-7" not in stored
    assert user.check_password("A-fresh-password-7")
    assert not user.check_password("a-fresh-password-7")

    set_password("new-insp", "Another-password-8")
    stored_again = db.session.scalar(sa.select(User.password_hash).where(User.id == user.id))
    assert stored_again.startswith("scrypt:") and stored_again != stored
    assert "Another-password-8" not in stored_again
