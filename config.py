"""Configuration classes, read from the environment.

Pick one with CASEWORK_ENV (development, test, production); every setting can be
overridden by an environment variable of the same name.
"""

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("CASEWORK_INSTANCE", BASE_DIR / "instance"))


def _database_url(default: str) -> str:
    url = os.environ.get("DATABASE_URL", default)
    # Operators write the libpq form; SQLAlchemy needs the driver named.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = _database_url(f"sqlite:///{INSTANCE_DIR / 'casework.sqlite'}")
    # Pre-ping: a restarted PostgreSQL must not break the next request.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = TIMEZONE
    LANGUAGES = ("zh_CN", "en")

    # Sessions: idle timeout enforced on the server as well as by the cookie.
    SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", 30)
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=SESSION_IDLE_MINUTES)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)

    # Login throttling (Flask-Limiter) and account lock-out.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    LOGIN_MAX_FAILURES = _int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCK_MINUTES = _int("LOGIN_LOCK_MINUTES", 15)

    # Mail (notifications arrive with the scheduler issue).
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_FROM = os.environ.get("MAIL_FROM", "casework@localhost")
    # Where users reach the site: e-mails link back to it (jobs have no request to ask).
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")

    # Uploads (evidence and photos): stored outside the web root.
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    MAX_UPLOAD_MB = _int("MAX_UPLOAD_MB", 20)  # per file
    # A whole request may carry several files; beyond this the server answers 413.
    MAX_REQUEST_MB = _int("MAX_REQUEST_MB", 100)
    MAX_CONTENT_LENGTH = MAX_REQUEST_MB * 1024 * 1024

    PAGE_SIZE = _int("PAGE_SIZE", 50)

    # Scheduler: what is due and when (days, comma-separated lists where several).
    REMINDER_DAYS = os.environ.get("REMINDER_DAYS", "7,3,1")  # before an order deadline
    ESCALATE_AFTER_DAYS = _int("ESCALATE_AFTER_DAYS", 5)  # overdue this long -> escalated
    REPORT_REMINDER_DAYS = os.environ.get("REPORT_REMINDER_DAYS", "7,1")  # before due date
    SUPERVISION_REMINDER_DAYS = os.environ.get("SUPERVISION_REMINDER_DAYS", "5,1")
    # How far back a catch-up run recreates reminders it missed during downtime.
    CATCH_UP_DAYS = _int("CATCH_UP_DAYS", 31)
    SCHEDULER_MISFIRE_GRACE_SECONDS = _int("SCHEDULER_MISFIRE_GRACE_SECONDS", 6 * 3600)
    SCHEDULER_LEASE_SECONDS = _int("SCHEDULER_LEASE_SECONDS", 60)
    MAIL_RETRY_MINUTES = _int("MAIL_RETRY_MINUTES", 15)  # first retry; doubles each time
    MAIL_MAX_ATTEMPTS = _int("MAIL_MAX_ATTEMPTS", 8)
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead, which expires on idle

    # Evidence storage (casework/storage.py): "local" keeps files under UPLOAD_DIR;
    # "s3" uses a bucket on any S3-compatible server (AWS, MinIO, Ceph...) so several
    # web hosts share the files. Credentials left unset fall back to boto3's own chain
    # (AWS_* environment variables, instance role).
    STORAGE_BACKEND = os.environ.get("STORAGE_BACKEND", "local")
    S3_BUCKET = os.environ.get("S3_BUCKET")
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL")  # unset: AWS itself
    S3_REGION = os.environ.get("S3_REGION", "us-east-1")
    S3_ACCESS_KEY_ID = os.environ.get("S3_ACCESS_KEY_ID")
    S3_SECRET_ACCESS_KEY = os.environ.get("S3_SECRET_ACCESS_KEY")
    # What an evidence upload may be, judged from its content (casework/uploads.py):
    # kinds "image" and "pdf", or single formats "jpeg", "png", "webp", "heic".
    ALLOWED_EVIDENCE_TYPES = frozenset(
        t.strip().lower()
        for t in os.environ.get("ALLOWED_EVIDENCE_TYPES", "image,pdf").split(",")
        if t.strip()
    )

    # Complaints and tip-offs (casework/complaints/).
    COMPLAINT_FORM_RATE_LIMIT = os.environ.get("COMPLAINT_FORM_RATE_LIMIT", "5 per hour")
    COMPLAINT_TRACK_RATE_LIMIT = os.environ.get("COMPLAINT_TRACK_RATE_LIMIT", "30 per hour")
    COMPLAINT_FORM_MAX_BYTES = _int("COMPLAINT_FORM_MAX_BYTES", 32 * 1024)  # whole request
    # Fernet key(s) for complainants' personal data, comma-separated: the first encrypts,
    # all decrypt (rotation). Unset: derived from SECRET_KEY (development and tests only).
    PERSONAL_DATA_KEY = os.environ.get("PERSONAL_DATA_KEY")


class DevelopmentConfig(Config):
    DEBUG = False


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = _database_url(
        f"sqlite:///{INSTANCE_DIR / 'casework-test.sqlite'}"
    )
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "1000 per minute")


class ProductionConfig(Config):
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)

    @classmethod
    def validate(cls):
        if not cls.SECRET_KEY:
            raise RuntimeError(
                "SECRET_KEY must be set in the environment in production "
                "(CASEWORK_ENV=production)."
            )
        import logging

        if cls.RATELIMIT_STORAGE_URI.startswith("memory://"):
            logging.getLogger("casework.config").warning(
                "RATELIMIT_STORAGE_URI is memory://: every web worker counts login and "
                "form attempts on its own, so the limits multiply by the number of "
                "workers. Set it to the shared Redis, e.g. redis://127.0.0.1:6379/0."
            )
        if not cls.PERSONAL_DATA_KEY:
            logging.getLogger("casework.config").warning(
                "PERSONAL_DATA_KEY is not set: complainants' personal data is encrypted "
                "with a key derived from SECRET_KEY, so changing SECRET_KEY makes it "
                "unreadable. Generate a key with `python -c \"from cryptography.fernet "
                "import Fernet; print(Fernet.generate_key().decode())\"` and set it."
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def get_config(name: str | None = None):
    name = name or os.environ.get("CASEWORK_ENV", "development")
    try:
        config = CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"Unknown CASEWORK_ENV {name!r}; use one of {sorted(CONFIGS)}") from None
    if hasattr(config, "validate"):
        config.validate()
    return config
