"""Notifications: an index on the key alone (notify() looks up existing keys by key)

Revision ID: 3f902184816c
Revises: 1e96b5dd84c9
Create Date: 2026-12-03 00:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3f902184816c'
down_revision = '1e96b5dd84c9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_key', ['key'], unique=False)


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_key')
