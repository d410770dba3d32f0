"""The migrations build exactly the schema the models describe, and run both ways."""

import re
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import Migrate

VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"


def include_object(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and name == "apscheduler_jobs")


def _differences(db, metadata=None):
    with db.engine.connect() as conn:
        # Filtered as migrations/env.py filters: only APScheduler's own job-store table.
        # Every table, column, type, index, constraint and foreign key of the models must
        # come from a migration, and nothing more.
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": include_object})
        return compare_metadata(context, metadata if metadata is not None else db.metadata)


def _script_directory(app):
    migrate: Migrate = app.extensions["migrate"].migrate
    return ScriptDirectory.from_config(migrate.get_config())


def _tables(db):
    return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_models_match_the_migrations(app, db):
    assert _differences(db) == []


def test_comparison_would_see_a_difference(app, db):
    # The check above can fail: a column only in the models is reported.
    models = sa.MetaData(naming_convention=db.metadata.naming_convention)
    for table in db.metadata.sorted_tables:
        table.to_metadata(models)
    models.tables["region"].append_column(sa.Column("not_migrated", sa.Integer))
    diffs = _differences(db, models)
    assert [(d[0], d[3].name) for d in diffs] == [("add_column", "not_migrated")], diffs


def test_downgrade_to_base_and_upgrade_again(app, db, runner):
    db.session.remove()
    model_tables = set(db.metadata.tables)
    assert _tables(db) >= model_tables
    try:
        result = runner.invoke(args=["db", "downgrade", "base"])
        assert result.exit_code == 0, result.output
        assert _tables(db) == set()
        with db.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() is None
    finally:
        # The app fixture's database is shared by the whole run: always rebuild it.
        result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert _tables(db) >= model_tables
    head = _script_directory(app).get_current_head()
    with db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head
    assert _differences(db) == []


def test_migrations_work_after_the_round_trip(app, world, db):
    # The rebuilt schema takes data, constraints included.
    case = world.make_case(db)
    assert case.id is not None and case.version == 1


def test_one_head_and_a_linear_history(app, db):
    script = _script_directory(app)
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert revisions
    assert [r for r in revisions if r.down_revision is None] == [revisions[-1]]
    assert all(not isinstance(r.down_revision, tuple) for r in revisions)


def test_migration_files_are_date_prefixed(app):
    files = sorted(VERSIONS.glob("*.py"))
    assert files
    for path in files:
        match = re.fullmatch(r"(\d{8})_([0-9a-f]+)_\w+\.py", path.name)
        assert match, f"{path.name}: name it YYYYMMDD_<revision>_<slug>.py"
        day = datetime.strptime(match.group(1), "%Y%m%d").date()
        text = path.read_text(encoding="utf-8")
        assert re.search(rf"^revision = ['\"]{match.group(2)}['\"]", text, re.M), path.name
        created = re.search(r"^Create Date: (\d{4}-\d{2}-\d{2})", text, re.M)
        assert created and created.group(1) == day.isoformat(), path.name
