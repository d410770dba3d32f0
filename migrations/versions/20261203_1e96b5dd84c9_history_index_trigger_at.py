"""History: the index by object type and trigger also holds the time (the escalation queue
reads when each order was last escalated or returned and each case designated for
tackling from the index alone, in one grouped query per kind)

Revision ID: 1e96b5dd84c9
Revises: d38870c21ae6
Create Date: 2026-12-03 00:00:00

"""
from alembic import op

import casework.dbtypes  # noqa: F401  (custom column types used below)


# revision identifiers, used by Alembic.
revision = '1e96b5dd84c9'
down_revision = 'd38870c21ae6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('history_event', schema=None) as batch_op:
        batch_op.create_index('ix_history_event_trigger_at',
                              ['object_type', 'trigger', 'object_id', 'at'], unique=False)
        # Its prefix serves every query the narrower index served.
        batch_op.drop_index('ix_history_event_trigger')


def downgrade():
    with op.batch_alter_table('history_event', schema=None) as batch_op:
        batch_op.create_index('ix_history_event_trigger',
                              ['object_type', 'trigger', 'object_id'], unique=False)
        batch_op.drop_index('ix_history_event_trigger_at')
