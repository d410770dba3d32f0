"""Dashboard indexes: history by object type and id (latest case events), complaints by
institution and date (complaints per month in scope), order findings by finding (report)

Revision ID: 786f2f7c223d
Revises: 3f902184816c
Create Date: 2026-12-03 00:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '786f2f7c223d'
down_revision = '3f902184816c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('history_event', schema=None) as batch_op:
        batch_op.create_index('ix_history_event_type_id', ['object_type', 'id'], unique=False)
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_institution_received',
                              ['institution_id', 'received_on'], unique=False)
    with op.batch_alter_table('order_finding', schema=None) as batch_op:
        batch_op.create_index('ix_order_finding_finding_id', ['finding_id'], unique=False)


def downgrade():
    with op.batch_alter_table('order_finding', schema=None) as batch_op:
        batch_op.drop_index('ix_order_finding_finding_id')
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_institution_received')
    with op.batch_alter_table('history_event', schema=None) as batch_op:
        batch_op.drop_index('ix_history_event_type_id')
