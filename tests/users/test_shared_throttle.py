"""Login throttling is shared by every web worker when RATELIMIT_STORAGE_URI is Redis.

Two processes (as two gunicorn workers would be), each its own create_app() on the same
Redis URI, post wrong logins for one username: the limit counts both processes' attempts
together, so the second process is refused once the sum reaches it. The account lock-out
(failed_logins, locked_until) lives in the database and is shared anyway.

Needs a Redis server: REDIS_URL (default redis://127.0.0.1:6379/15). When none answers
the test is skipped with that reason (listed by pytest -ra); CASEWORK_REQUIRE_REDIS=1
makes it fail instead, for machines where Redis is part of the set-up.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")

pytestmark = pytest.mark.redis

# One "worker": its own application on the shared storage; prints the statuses it got.
WORKER = """
import json, os, sys
from config import TestConfig
from casework import create_app

class Config(TestConfig):
    RATELIMIT_STORAGE_URI = os.environ["TEST_REDIS_URL"]
    RATELIMIT_KEY_PREFIX = os.environ["TEST_KEY_PREFIX"]
    LOGIN_RATE_LIMIT = "4 per minute"
    WTF_CSRF_ENABLED = False

app = create_app(Config)
client = app.test_client()
statuses = [client.post("/login", data={"username": "shared-user",
                                        "password": "Wrong-password-1"}).status_code
            for _ in range(int(sys.argv[1]))]
print(json.dumps(statuses))
"""


def _redis_or_skip():
    try:
        import redis
    except ImportError:  # pragma: no cover - pinned in pyproject
        pytest.fail("the redis client package is missing (pip install -c requirements.lock -e .)")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        message = f"no Redis at {REDIS_URL} ({error}); start redis-server or set REDIS_URL"
        if os.environ.get("CASEWORK_REQUIRE_REDIS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return client


def _worker(app, prefix, attempts):
    env = {**os.environ, "CASEWORK_ENV": "test", "PYTHONPATH": str(ROOT),
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "TEST_REDIS_URL": REDIS_URL, "TEST_KEY_PREFIX": prefix}
    done = subprocess.run([sys.executable, "-c", WORKER, str(attempts)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_app_instances_share_the_login_limit(app, db):
    redis_client = _redis_or_skip()
    prefix = f"casework-test-{uuid.uuid4().hex}"
    try:
        # 4 per minute in all: 3 attempts in the first worker, then 3 in the second.
        assert _worker(app, prefix, 3) == [422, 422, 422]
        assert _worker(app, prefix, 3) == [422, 429, 429]
        assert redis_client.keys(f"*{prefix}*")  # the counts live in Redis, not in a process
    finally:
        for key in redis_client.scan_iter(f"*{prefix}*"):
            redis_client.delete(key)
