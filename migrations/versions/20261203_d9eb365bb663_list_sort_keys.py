"""Complaints and orders: a stored list rank (state_rank) and indexes serving the lists' order

Revision ID: d9eb365bb663
Revises: 786f2f7c223d
Create Date: 2026-12-03 00:00:00

The complaint and order lists sorted by a CASE over the state, which no index can serve.
They now sort by state_rank (kept equal to the state's rank by casework.sortkeys); the
ranks are written here as they stand today, so the backfill does not depend on app code.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd9eb365bb663'
down_revision = '786f2f7c223d'
branch_labels = None
depends_on = None

COMPLAINT_RANK = {"closed": 1}  # every other state: 0
ORDER_RANK = {state: i for i, state in enumerate((
    "returned", "escalated", "overdue", "issued", "acknowledged", "submitted", "closed",
    "cancelled"))}


def _backfill(table: str, ranks: dict[str, int]) -> None:
    t = sa.table(table, sa.column("state", sa.String), sa.column("state_rank", sa.Integer))
    op.execute(t.update().values(state_rank=sa.case(ranks, value=t.c.state, else_=0)))


def upgrade():
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state_rank', sa.Integer(), server_default='0',
                                      nullable=False))
    _backfill('complaint', COMPLAINT_RANK)
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_list_order', ['state_rank', 'deadline'],
                              unique=False)

    with op.batch_alter_table('rectification_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state_rank', sa.Integer(), server_default='0',
                                      nullable=False))
    _backfill('rectification_order', ORDER_RANK)
    with op.batch_alter_table('rectification_order', schema=None) as batch_op:
        batch_op.create_index('ix_rectification_order_list_order',
                              ['state_rank', 'deadline', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('rectification_order', schema=None) as batch_op:
        batch_op.drop_index('ix_rectification_order_list_order')
        batch_op.drop_column('state_rank')
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_list_order')
        batch_op.drop_column('state_rank')
