"""`flask users ...`: create with the right scope, refuse bad input clearly, manage access."""

import re

import pytest
import sqlalchemy as sa
from flask_babel import gettext

from casework.users.models import User

NEW_PASSWORD = "Fresh-password-2024"


def _user(db, username):
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == username))


def _count(db):
    return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def _csrf(client):
    html = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _login(client, username, password):
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": _csrf(client)})


def _msg(app, msgid, **kwargs):
    """A message in the language the CLI speaks (the default one, no request)."""
    with app.app_context():
        return gettext(msgid, **kwargs)


def test_create_region_user(runner, world, db):
    result = runner.invoke(args=["users", "create", "li.insp", "--role", "inspector",
                                 "--name", "李监督", "--region", world.district.code,
                                 "--email", "li@example.org", "--locale", "en",
                                 "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    assert "li.insp" in result.output
    user = _user(db, "li.insp")
    assert (user.role, user.display_name, user.region_id, user.institution_id, user.email,
            user.locale, user.active) == ("inspector", "李监督", world.district.id, None,
                                          "li@example.org", "en", True)
    assert user.check_password(NEW_PASSWORD)


def test_create_institution_user(runner, world, db):
    result = runner.invoke(args=["users", "create", "clinic.office", "--role", "institution",
                                 "--institution", world.clinic.code,
                                 "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    user = _user(db, "clinic.office")
    assert (user.role, user.institution_id, user.region_id) == (
        "institution", world.clinic.id, None)
    assert user.display_name == "clinic.office"


def test_created_user_can_log_in(runner, world, db, client):
    result = runner.invoke(args=["users", "create", "wang", "--role", "coordinator",
                                 "--region", world.city.code, "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    assert _login(client, "wang", NEW_PASSWORD).status_code == 302


def test_password_is_prompted_twice_when_not_given(runner, world, db):
    result = runner.invoke(args=["users", "create", "zhao", "--role", "viewer",
                                 "--region", world.city.code],
                           input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert _user(db, "zhao").check_password(NEW_PASSWORD)


def test_mismatched_prompted_passwords_are_asked_again(runner, world, db):
    result = runner.invoke(args=["users", "create", "zhao", "--role", "viewer",
                                 "--region", world.city.code],
                           input=f"{NEW_PASSWORD}\nsomething-else-1\n")
    assert result.exit_code != 0
    assert _user(db, "zhao") is None


@pytest.mark.parametrize("args,msgid,kwargs", [
    (["bad.region", "--role", "inspector", "--region", "999999"],
     "A region code is required for this role.", {}),
    (["no.region", "--role", "coordinator"], "A region code is required for this role.", {}),
    (["no.inst", "--role", "institution"],
     "An institution code is required for this role.", {}),
    (["bad.inst", "--role", "institution", "--institution", "NOPE"],
     "An institution code is required for this role.", {}),
    (["shorty", "--role", "viewer", "--region", "640500", "--password", "short-9"],
     "A password needs at least %(n)d characters.", {"n": 10}),
    (["coord", "--role", "coordinator", "--region", "640500"],
     "This username is taken.", {}),
    (["x" * 65, "--role", "admin"], None, {}),
])
def test_create_refuses_bad_input_and_creates_nothing(app, runner, world, db, args, msgid,
                                                      kwargs):
    before = _count(db)
    if "--password" not in args:
        args = [*args, "--password", NEW_PASSWORD]
    result = runner.invoke(args=["users", "create", *args])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)  # a clean error, not a traceback
    assert "Traceback" not in result.output
    if msgid:
        assert _msg(app, msgid, **kwargs) in result.output
    else:  # the overlong username: the message names the limit
        assert "64" in result.output and "Error" in result.output
    assert _count(db) == before


def test_create_refuses_an_unknown_role(runner, world, db):
    before = _count(db)
    result = runner.invoke(args=["users", "create", "x", "--role", "superuser",
                                 "--password", NEW_PASSWORD])
    assert result.exit_code == 2
    assert "superuser" in result.output
    assert _count(db) == before


def test_set_password_changes_it_and_lifts_a_lock(app, runner, users, db, client):
    user = users["inspector"]
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _login(client, "insp", "Wrong-password-1")
    assert _user(db, "insp").locked_until is not None

    result = runner.invoke(args=["users", "set-password", "insp", "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    changed = _user(db, "insp")
    assert changed.locked_until is None and changed.failed_logins == 0
    assert changed.check_password(NEW_PASSWORD)
    assert not changed.check_password("Correct-horse-42")  # the old one
    assert _login(client, "insp", NEW_PASSWORD).status_code == 302
    assert user.id == changed.id


def test_set_password_refuses_a_short_one(app, runner, users, db):
    old_hash = users["inspector"].password_hash
    result = runner.invoke(args=["users", "set-password", "insp", "--password", "short"])
    assert result.exit_code != 0
    assert _msg(app, "A password needs at least %(n)d characters.", n=10) in result.output
    assert _user(db, "insp").password_hash == old_hash


def test_deactivate_blocks_login(app, runner, users, db, client):
    result = runner.invoke(args=["users", "deactivate", "coord"])
    assert result.exit_code == 0, result.output
    assert _user(db, "coord").active is False
    response = _login(client, "coord", "Correct-horse-42")
    assert response.status_code == 422


def test_deactivate_ends_an_open_session(runner, users, db, client, login):
    login.as_("coordinator")
    assert client.get("/dashboard").status_code == 200
    assert runner.invoke(args=["users", "deactivate", "coord"]).exit_code == 0
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("args", [
    ["set-password", "nobody", "--password", NEW_PASSWORD],
    ["deactivate", "nobody"],
])
def test_unknown_user_is_a_clear_error(app, runner, users, args):
    result = runner.invoke(args=["users", *args])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert _msg(app, "No user named %(name)s.", name="nobody") in result.output
