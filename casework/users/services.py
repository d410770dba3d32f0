"""Accounts: authentication with lock-out, and user administration."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from casework import policy
from casework.errors import Invalid, NotFound
from casework.extensions import db
from casework.institutions.models import Institution, Region
from casework.users.models import LOCALES, REGION_ROLES, ROLES, User
from workflows import binding

MIN_PASSWORD_LENGTH = 10
# Checked against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


class LoginFailed(Exception):
    """Authentication refused; `message` is safe to show (says nothing about which part)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def authenticate(username: str, password: str, *, max_failures: int, lock_minutes: int,
                 now: datetime | None = None) -> User:
    """Return the active user with these credentials, or raise LoginFailed.

    After `max_failures` consecutive failures the account is locked for `lock_minutes`;
    the failure count and lock are committed even though the login fails.
    """
    now = now or datetime.now(UTC)
    user = db.session.scalar(sa.select(User).where(User.username == username.strip()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        raise LoginFailed(_("Wrong username or password."))
    if user.is_locked(now):
        raise LoginFailed(_("This account is locked after repeated failed logins. "
                            "Try again after %(minutes)d minutes or ask an administrator.",
                            minutes=lock_minutes))
    if not user.check_password(password):
        with binding.unit_of_work():
            user.failed_logins += 1
            if user.failed_logins >= max_failures:
                user.locked_until = now + timedelta(minutes=lock_minutes)
                user.failed_logins = 0
        raise LoginFailed(_("Wrong username or password."))
    if not user.active:
        raise LoginFailed(_("This account is deactivated. Ask an administrator."))
    with binding.unit_of_work():
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
    return user


def _validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid({"password": [_("A password needs at least %(n)d characters.",
                                      n=MIN_PASSWORD_LENGTH)]})
    if len(password) > 128:
        raise Invalid({"password": [_("A password has at most %(max)d characters.", max=128)]})


def create_user(*, username: str, display_name: str, role: str, password: str,
                region_code: str | None = None, institution_code: str | None = None,
                email: str | None = None, locale: str = "zh_CN", actor=policy.SYSTEM) -> User:
    """Create a user; the scope (region or institution) must match the role.

    Raises Invalid with every problem found, NotPermitted for a non-admin actor.
    """
    if actor is not policy.SYSTEM:
        policy.check("users_manage", actor)
    errors: dict[str, list[str]] = {}
    username = (username or "").strip()
    if not username:
        errors.setdefault("username", []).append(_("Enter your username."))
    elif len(username) > 64:
        errors.setdefault("username", []).append(
            _("A username has at most %(max)d characters.", max=64))
    elif db.session.scalar(sa.select(User.id).where(User.username == username)):
        errors.setdefault("username", []).append(_("This username is taken."))
    if role not in ROLES:
        errors.setdefault("role", []).append(_("Unknown role."))
    if locale not in LOCALES:
        errors.setdefault("locale", []).append(_("Unknown language."))
    region = institution = None
    if role in REGION_ROLES or (role == "admin" and region_code):
        region = db.session.scalar(sa.select(Region).where(Region.code == region_code))
        if region is None:
            errors.setdefault("region", []).append(_("A region code is required for this role."))
    if role == "institution":
        institution = db.session.scalar(
            sa.select(Institution).where(Institution.code == institution_code))
        if institution is None:
            errors.setdefault("institution", []).append(
                _("An institution code is required for this role."))
    try:
        _validate_password(password)
    except Invalid as exc:
        errors.update(exc.details["errors"])
    if errors:
        raise Invalid(errors)
    user = User(username=username, display_name=(display_name or username)[:100], role=role,
                region=region, institution=institution, email=email, locale=locale,
                active=True, failed_logins=0)
    user.set_password(password)
    with binding.unit_of_work():
        db.session.add(user)
    return user


def _get_by_username(username: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise NotFound(_("No user named %(name)s.", name=username))
    return user


def set_password(username: str, password: str, actor=policy.SYSTEM) -> User:
    if actor is not policy.SYSTEM:
        policy.check("users_manage", actor)
    _validate_password(password)
    user = _get_by_username(username)
    with binding.unit_of_work():
        user.set_password(password)
        user.failed_logins = 0
        user.locked_until = None
    return user


def deactivate_user(username: str, actor=policy.SYSTEM) -> User:
    if actor is not policy.SYSTEM:
        policy.check("users_manage", actor)
    user = _get_by_username(username)
    with binding.unit_of_work():
        user.active = False
    return user


def set_locale(user: User, locale: str) -> None:
    if locale not in LOCALES:
        raise Invalid({"locale": [_("Unknown language.")]})
    with binding.unit_of_work():
        user.locale = locale


def list_users(actor) -> list[User]:
    policy.check("users_manage", actor)
    return list(db.session.scalars(
        sa.select(User).options(sa.orm.joinedload(User.region), sa.orm.joinedload(User.institution))
        .order_by(User.role, User.username)
    ))
