"""The application on the benchmark's database, and SQL statement counting."""

import functools
from contextlib import contextmanager

from bench.generate import sqlalchemy_url

DEMO_PASSWORDS = {"coordinator": "Demo-coordinator-2024", "inspector": "Demo-inspector-2024",
                  "viewer": "Demo-viewer-2024", "institution": "Demo-institution-2024"}


@functools.cache
def make_app(db: str):
    """The app (development settings) on `db`, whatever DATABASE_URL says."""
    from casework import create_app
    from config import DevelopmentConfig

    config = type("BenchConfig", (DevelopmentConfig,), {
        "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(db), "SECRET_KEY": "bench-only"})
    return create_app(config)


@contextmanager
def counting(app):
    """Yields a list that receives every SQL statement executed inside the block."""
    import sqlalchemy as sa

    from casework.extensions import db

    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


def refresh_bulletins(db: str) -> int:
    """Recompute the figures of the demo's bulletins over the generated data (as if they
    had been drafted with it there), without a version bump: the bulletin view then
    shows every institution. Returns how many."""
    import sqlalchemy as sa

    from casework.bulletins.models import Bulletin
    from casework.bulletins.sweeps import refigure
    from casework.extensions import db as database

    app = make_app(db)
    with app.app_context():
        bulletins = database.session.scalars(sa.select(Bulletin)).all()
        for bulletin in bulletins:
            database.session.execute(sa.update(Bulletin.__table__)
                                     .where(Bulletin.__table__.c.id == bulletin.id)
                                     .values(figures=refigure(bulletin)))
        database.session.commit()
        return len(bulletins)
