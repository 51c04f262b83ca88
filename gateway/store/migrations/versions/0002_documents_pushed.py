"""documents: pushed_at and pushed_sha256 (remote mode: what was put on the remote SFTP outbox)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 00:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pushed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('pushed_sha256', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('pushed_sha256')
        batch_op.drop_column('pushed_at')
