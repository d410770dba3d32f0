"""Complainants' personal data: encryption, validation and masking.

Encrypted with Fernet (AES-128-CBC + HMAC) under PERSONAL_DATA_KEY; several keys,
comma-separated, allow rotation (the first encrypts, any decrypts). Without a key
(development, tests) one is derived from SECRET_KEY; production warns at start-up.
"""

import base64
import hashlib
import re
from datetime import date

from cryptography.fernet import Fernet, MultiFernet
from flask import current_app

PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
ID_RE = re.compile(r"^\d{17}[\dX]$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def _cipher() -> MultiFernet:
    configured = current_app.config.get("PERSONAL_DATA_KEY")
    if configured:
        keys = [k.strip() for k in configured.split(",") if k.strip()]
    else:
        secret = str(current_app.config["SECRET_KEY"]).encode()
        digest = hashlib.sha256(b"casework personal data|" + secret).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(k) for k in keys])


def encrypt(value: str | None) -> str | None:
    if not value:
        return None
    return _cipher().encrypt(value.encode()).decode()


def decrypt(token: str | None) -> str | None:
    if not token:
        return None
    return _cipher().decrypt(token.encode()).decode()


def normalise_phone(value: str) -> str:
    return re.sub(r"[\s()]", "", value)


def valid_phone(value: str) -> bool:
    """A mainland mobile (13912345678) or landline with area code (0955-1234567)."""
    return bool(PHONE_RE.match(value))


def valid_id_number(value: str) -> bool:
    """An 18-character resident ID number (GB 11643): birth date and ISO 7064 check digit."""
    if not ID_RE.match(value):
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == value[17]


def mask_name(value: str | None) -> str | None:
    """张三 → 张**: the surname stays, the length does not show."""
    if not value:
        return None
    return value[0] + "**"


def mask_phone(value: str | None) -> str | None:
    """13812345678 → 138****5678."""
    if not value:
        return None
    digits = value.replace("-", "")
    if len(digits) < 8:
        return "****"
    return digits[:3] + "****" + digits[-4:]


def mask_id_number(value: str | None) -> str | None:
    """110101199003071234 → 11010*********1234."""
    if not value:
        return None
    return value[:5] + "*" * 9 + value[-4:]
