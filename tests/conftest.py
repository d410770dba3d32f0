"""Fixtures shaped like flaskr's: app, db isolation, client, users per role, login.

DATABASE_URL picks the database: unset means a fresh SQLite file per run; the test
script runs the suite a second time against PostgreSQL.

The database is opt-in: a test gets an app context and its tables emptied afterwards
only by asking for `db` (or `world`, `users`, `client`, `runner`, `login`,
`count_queries`, which ask for it; `app` alone is the migrated app, no cleanup); the
pure machine tests run without a database. The objects the tests
build come from tests/factories.py.
"""

import os
import shutil
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine
from factories import CALENDAR_TABLES, PASSWORD, World, csrf_token
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from casework import create_app
from casework.extensions import db as _db
from config import TestConfig


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        from config import _database_url as normalise

        url = normalise(url)
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        return _worker_database(url, worker) if worker and url.startswith("postgresql") \
            else url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


def _worker_database(url: str, worker: str) -> str:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own
    (casework_test_gw0, …), created beside the one DATABASE_URL names."""
    base = sa.engine.make_url(url)
    name = f"{base.database}_{worker}"
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": name})
            if not exists:
                collate = conn.scalar(sa.text(
                    "SELECT datcollate FROM pg_database WHERE datname = :n"),
                    {"n": base.database})
                conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE template0 '
                                     f"ENCODING 'UTF8' LOCALE '{collate}'"))
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = _database_url(tmp_path_factory)

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        UPLOAD_DIR = str(tmp_path_factory.mktemp("uploads"))

    app = create_app(Config)
    with app.app_context():
        # Start from nothing and build the schema with the migrations themselves, so
        # every run also proves `flask db upgrade` from an empty database.
        _db.drop_all()
        with _db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
            conn.execute(sa.text("DROP TABLE IF EXISTS apscheduler_jobs"))
        from flask_migrate import upgrade

        upgrade()
    return app


_seeded_calendar = {}


def _calendar_fingerprint():
    from casework.workdays.models import CalendarDay, CalendarYear

    return (
        _db.session.scalar(sa.select(sa.func.count()).select_from(CalendarDay)),
        tuple(_db.session.execute(sa.select(CalendarYear.year, CalendarYear.source,
                                            CalendarYear.confirmed)
                                  .order_by(CalendarYear.year)).all()),
    )


def _restore_calendar():
    from casework.workdays import services as workdays
    from casework.workdays.models import CalendarDay, CalendarYear
    from casework.workdays.seed import seed_from_package

    if not _seeded_calendar:
        _seeded_calendar["fingerprint"] = _calendar_fingerprint()
    if _calendar_fingerprint() != _seeded_calendar["fingerprint"]:
        _db.session.execute(sa.delete(CalendarDay))
        _db.session.execute(sa.delete(CalendarYear))
        _db.session.commit()
        seed_from_package()
    workdays.forget_cached_calendar()
    _db.session.remove()


@pytest.fixture(scope="session")
def _calendar_baseline(app):
    with app.app_context():
        _seeded_calendar["fingerprint"] = _calendar_fingerprint()
        _db.session.remove()


@pytest.fixture
def empty_calendar(db):
    """Start from no holiday data at all (restored after the test)."""
    from casework.workdays.models import CalendarDay, CalendarYear

    db.session.execute(sa.delete(CalendarDay))
    db.session.execute(sa.delete(CalendarYear))
    db.session.commit()
    return db


@pytest.fixture
def db(app, _calendar_baseline):
    """Per-test isolation that lets code under test commit: empty every table after."""
    ctx = app.app_context()
    ctx.push()
    yield _db
    _db.session.remove()
    # The holiday arrangements are reference data the migrations seed: kept between
    # tests, and restored only when a test changed them.
    tables = [t for t in reversed(_db.metadata.sorted_tables) if t.name not in CALENDAR_TABLES]
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Only the tables the test touched (with rows, or whose id sequence moved),
            # emptied by DELETE in dependency order: TRUNCATE makes new files and
            # costs a third of a second per test, DELETE of a few rows next to nothing.
            dirty = set(_touched_tables(conn, [t.name for t in tables]))
            # A year a test entered names its user: it goes (and is re-seeded below).
            conn.execute(sa.text("DELETE FROM calendar_year WHERE entered_by_id IS NOT NULL"))
            for table in tables:
                if table.name in dirty:
                    conn.execute(table.delete())
            for name in sorted(dirty):
                if f"{name}_id_seq" in _sequences(conn):
                    conn.execute(sa.text(f'ALTER SEQUENCE "{name}_id_seq" RESTART'))
        else:
            for table in tables:
                conn.execute(table.delete())
    _restore_calendar()
    # Uploaded files go with the rows that pointed at them.
    uploads = Path(app.config["UPLOAD_DIR"])
    for child in uploads.iterdir() if uploads.exists() else ():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    from casework.extensions import limiter

    limiter.reset()
    ctx.pop()


_SEQUENCES: set[str] = set()


def _sequences(conn) -> set[str]:
    if not _SEQUENCES:
        _SEQUENCES.update(conn.scalars(sa.text(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")))
    return _SEQUENCES


def _touched_tables(conn, names: list[str]) -> list[str]:
    # The names are the metadata's own table names, never input.
    with_rows = " UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")"  # noqa: S608
        for name in names)
    used = {row[0] for row in conn.execute(sa.text(with_rows))}
    for sequence in conn.scalars(sa.text(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema() "
            "AND last_value IS NOT NULL")):
        if sequence.endswith("_id_seq"):
            used.add(sequence[:-len("_id_seq")])
    return [name for name in names if name in used]


class IsolatedClient(FlaskClient):
    """Each request in an app context of its own, as in production.

    The test's own context stays pushed for database access; without this, requests
    would share its `g` and session and hide bugs that only show between requests.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app, db):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def world(db):
    return World(db)


@pytest.fixture
def users(world):
    return world.users


class AuthActions:
    def __init__(self, client, users):
        self._client = client
        self._users = users

    def as_(self, role: str):
        user = self._users[role]
        response = self._client.post("/login", data={
            "username": user.username, "password": PASSWORD,
            "csrf_token": csrf_token(self._client),
        })
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return user

    def logout(self):
        return self._client.post("/logout", data={"csrf_token": csrf_token(self._client, "/dashboard")})


@pytest.fixture
def login(client, users):
    return AuthActions(client, users)


@pytest.fixture
def clock():
    """Move the clock: `clock("2022-01-01T09:00+08:00")`; time passes normally from there."""
    travellers = []

    def travel(when, tick=True):
        traveller = time_machine.travel(when, tick=tick)
        traveller.start()
        travellers.append(traveller)
        return traveller

    yield travel
    for traveller in reversed(travellers):
        traveller.stop()


@pytest.fixture
def count_queries(app, db):
    """Context manager counting the SQL statements executed inside it (the benchmark's
    counter, bench/app.py)."""
    from bench.app import counting

    return lambda: counting(app)


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over HTTP in a thread, for the browser journeys."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
