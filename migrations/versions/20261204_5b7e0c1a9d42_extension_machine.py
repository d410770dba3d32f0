"""Extension requests become a machine: a version column, and history logs them

Revision ID: 5b7e0c1a9d42
Revises: d9eb365bb663
Create Date: 2026-12-04 00:00:00

The request's state stays in `status` (same values), so no row is rewritten; existing
requests start at version 1. The history log accepts the object type "extension".
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b7e0c1a9d42'
down_revision = 'd9eb365bb663'
branch_labels = None
depends_on = None

TYPES = ('case', 'order', 'complaint', 'report', 'bulletin', 'dispute', 'interview',
         'accountability', 'veto', 'points_entry')


def _object_types(types) -> str:
    return "object_type IN (" + ", ".join(f"'{t}'" for t in types) + ")"


def upgrade():
    with op.batch_alter_table('extension_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1',
                                      nullable=False))
    with op.batch_alter_table('history_event', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_history_event_object_type_valid'), type_='check')
        batch_op.create_check_constraint('object_type_valid',
                                         _object_types((*TYPES, 'extension')))


def downgrade():
    op.execute(sa.text("DELETE FROM history_event WHERE object_type = 'extension'"))
    with op.batch_alter_table('history_event', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_history_event_object_type_valid'), type_='check')
        batch_op.create_check_constraint('object_type_valid', _object_types(TYPES))
    with op.batch_alter_table('extension_request', schema=None) as batch_op:
        batch_op.drop_column('version')
