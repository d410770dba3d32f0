"""Order facts: what each order adds to the dashboards' monthly counts, by day

Revision ID: 7c3d9e2f1a60
Revises: 5b1e0c7d2a94
Create Date: 2026-12-04 21:00:00

The dashboards and the campaign report read these rows instead of every history event
of a campaign's orders. The upgrade derives them from the orders, their submissions and
their history in one INSERT … SELECT (casework/dashboard/facts.py; about 30 s for a
province's 200,000 orders). `flask facts check` compares them with a fresh derivation.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c3d9e2f1a60'
down_revision = '5b1e0c7d2a94'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'order_day_fact',
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('issued', sa.SmallInteger(), nullable=False),
        sa.Column('closed', sa.SmallInteger(), nullable=False),
        sa.Column('closed_on_time', sa.SmallInteger(), nullable=False),
        sa.Column('overdue', sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint('order_id', 'day', name=op.f('pk_order_day_fact')),
    )
    op.create_index('ix_order_day_fact_scope', 'order_day_fact',
                    ['campaign_id', 'institution_id', 'day', 'issued', 'closed',
                     'closed_on_time', 'overdue'], unique=False)
    # Existing orders: derived once, here (the application keeps them from now on).
    from casework.dashboard.facts import FACT_COLUMNS, delta_rows

    bind = op.get_bind()
    table = sa.table('order_day_fact', *(sa.column(n) for n in FACT_COLUMNS))
    bind.execute(sa.insert(table).from_select(FACT_COLUMNS, delta_rows()))


def downgrade():
    op.drop_index('ix_order_day_fact_scope', table_name='order_day_fact')
    op.drop_table('order_day_fact')
