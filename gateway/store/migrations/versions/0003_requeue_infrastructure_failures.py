"""received files parked as failed by a fault of the infrastructure, or with their records committed, given back

Before this revision a lost database connection, a busy writer lock or a full disk parked the file being
processed as ``failed``, sometimes after its declarations had been committed. Now such a file waits at its
state and goes on by itself. This revision repairs what the old behaviour left:

- a failed file whose declarations were committed is put back at the state its records show (``computed``,
  or ``recorded`` when contributions are missing): no state says ``failed`` for records that stand;
- a failed file whose error was a fault of the infrastructure is given back to the intake (claim row), to be
  judged afresh when nothing was recorded, or to have its documents made when it was;
- other failed files (a bug) are left for ``gateway failed list|retry``; held files with records keep their
  error so that they are listed there too.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 00:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# Text found in the ``error`` of a file parked by a fault of the database or the disk.
INFRASTRUCTURE_SIGNS = (
    # (not the bare « base de données: » prefix: an IntegrityError, a bug, is reported with it too)
    "OperationalError", "InterfaceError", "DatabaseUnavailable", "base de données occupée",
    "database or disk is full", "disk I/O error", "database is locked", "No space left", "Errno 28", "Errno 5",
    "Errno 30", "Read-only file system", "AdminShutdown", "server closed the connection", "connection refused",
    "Disk quota exceeded",
)


def upgrade() -> None:
    bind = op.get_bind()
    files = sa.table('received_files', sa.column('id', sa.Integer), sa.column('state', sa.String),
                     sa.column('error', sa.Text), sa.column('outcome', sa.String), sa.column('findings', sa.JSON),
                     sa.column('total_findings', sa.Integer), sa.column('processed_at', sa.DateTime))
    declarations = sa.table('declarations', sa.column('received_file_id', sa.Integer),
                            sa.column('computed_at', sa.DateTime))
    claims = sa.table('intake_claims', sa.column('received_file_id', sa.Integer))
    failed = bind.execute(sa.select(files.c.id, files.c.error).where(files.c.state == 'failed')).all()
    for file_id, error in failed:
        infrastructure = any(sign in (error or "") for sign in INFRASTRUCTURE_SIGNS)
        computed = bind.execute(sa.select(declarations.c.computed_at)
                                .where(declarations.c.received_file_id == file_id)).scalars().all()
        if computed:  # records committed: never failed; resumes at what its records show
            state = 'computed' if all(c is not None for c in computed) else 'recorded'
            values = {'state': state, 'outcome': None, 'error': None if infrastructure else
                      (error or 'fichier en échec avant la révision 0003')}
        elif infrastructure:  # nothing recorded, not the file's fault: judged afresh
            values = {'state': 'received', 'outcome': None, 'error': None, 'findings': None,
                      'total_findings': 0, 'processed_at': None}
        else:
            continue
        bind.execute(sa.update(files).where(files.c.id == file_id).values(**values))
        if values['error'] is None and not bind.execute(
                sa.select(claims.c.received_file_id).where(claims.c.received_file_id == file_id)).first():
            bind.execute(sa.insert(claims).values(received_file_id=file_id))


def downgrade() -> None:
    pass  # the files given back are processed by then; nothing to undo
