"""Day tallies by region: complaints, medical disputes and findings

Revision ID: 8d4e0f3a2b71
Revises: 7c3d9e2f1a60
Create Date: 2026-12-04 21:30:00

The dashboards' complaint and dispute chart and the campaign report's complaint,
dispute and finding figures sum these rows (casework/dashboard/tallies.py) instead of
counting every complaint of a city. The upgrade derives them from the existing rows.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8d4e0f3a2b71'
down_revision = '7c3d9e2f1a60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'complaint_day_tally',
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('received', sa.Integer(), nullable=False),
        sa.Column('handled', sa.Integer(), nullable=False),
        sa.Column('substantiated', sa.Integer(), nullable=False),
        sa.Column('transferred', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('region_id', 'day', name=op.f('pk_complaint_day_tally')),
    )
    op.create_table(
        'dispute_day_tally',
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('route', sa.String(length=12), nullable=False),
        sa.Column('occurred', sa.Integer(), nullable=False),
        sa.Column('resolved', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('region_id', 'day', 'route',
                                name=op.f('pk_dispute_day_tally')),
    )
    op.create_table(
        'finding_day_tally',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('key_task_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('found', sa.Integer(), nullable=False),
        sa.Column('to_rectify', sa.Integer(), nullable=False),
        sa.Column('rectified', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('campaign_id', 'region_id', 'key_task_id', 'day',
                                name=op.f('pk_finding_day_tally')),
    )
    # Existing rows: derived once, here (the application keeps the tallies from now on).
    from casework.dashboard.tallies import TALLIES

    bind = op.get_bind()
    for tally in TALLIES:
        names = [c.name for c in tally.table.columns]
        table = sa.table(tally.table.name, *(sa.column(n) for n in names))
        bind.execute(sa.insert(table).from_select(names, tally.derive([])))


def downgrade():
    op.drop_table('finding_day_tally')
    op.drop_table('dispute_day_tally')
    op.drop_table('complaint_day_tally')
