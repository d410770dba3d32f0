"""seed working-day calendar from chinesecalendar

Revision ID: bff426d54702
Revises: 841b67bdc560
Create Date: 2026-11-25 00:53:43.453513

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

import casework.dbtypes  # noqa: F401  (custom column types used below)


# revision identifiers, used by Alembic.
revision = 'bff426d54702'
down_revision = '841b67bdc560'
branch_labels = None
depends_on = None


# Frozen table shapes: the migration must not follow later changes to the models.
calendar_year = sa.table(
    "calendar_year",
    sa.column("year", sa.Integer), sa.column("confirmed", sa.Boolean),
    sa.column("source", sa.String), sa.column("note", sa.String),
    sa.column("entered_at", sa.DateTime(timezone=True)),
)
calendar_day = sa.table(
    "calendar_day",
    sa.column("date", sa.Date), sa.column("year", sa.Integer),
    sa.column("kind", sa.String), sa.column("name", sa.String),
)


def upgrade():
    """The official arrangements the installed chinesecalendar knows (2004–2026 in 1.11).

    Later years are entered by an administrator on the working-day calendar page when
    the State Council publishes them; nothing is guessed.
    """
    from casework.workdays.seed import package_days, package_years

    years = list(package_years())
    data = package_days(years)
    now = datetime.now(UTC)
    op.bulk_insert(calendar_year, [
        {"year": y, "confirmed": True, "source": "package", "entered_at": now,
         "note": "chinesecalendar"} for y in years])
    op.bulk_insert(calendar_day, [
        {"date": d, "year": y, "kind": kind, "name": name}
        for y in years
        for kind, days in (("holiday", data[y].holidays), ("workday", data[y].workdays))
        for d, name in days])


def downgrade():
    op.execute(calendar_day.delete().where(calendar_day.c.year.in_(
        sa.select(calendar_year.c.year).where(calendar_year.c.source == "package"))))
    op.execute(calendar_year.delete().where(calendar_year.c.source == "package"))
