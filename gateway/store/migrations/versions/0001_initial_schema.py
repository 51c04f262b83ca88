"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 00:09:41.756090
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('employees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration', sa.String(length=12), nullable=False),
    sa.Column('last_name', sa.String(length=60), nullable=False),
    sa.Column('first_name', sa.String(length=60), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employees')),
    sa.UniqueConstraint('registration', name=op.f('uq_employees_registration'))
    )
    op.create_table('employers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=9), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=400), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('building_trade', sa.Boolean(), nullable=False),
    sa.Column('household', sa.Boolean(), nullable=False),
    sa.Column('direct_debit', sa.Boolean(), nullable=False),
    sa.Column('mandate_reference', sa.String(length=35), nullable=True),
    sa.Column('iban', sa.String(length=34), nullable=True),
    sa.Column('bic', sa.String(length=11), nullable=True),
    sa.Column('mandate_signed_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employers')),
    sa.UniqueConstraint('mandate_reference', name=op.f('uq_employers_mandate_reference')),
    sa.UniqueConstraint('number', name=op.f('uq_employers_number'))
    )
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=40), nullable=False),
    sa.Column('job', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=True),
    sa.Column('instance', sa.String(length=100), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
    sa.UniqueConstraint('run_id', name=op.f('uq_job_runs_run_id'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index('ix_job_runs_job_key', ['job', 'key'], unique=False)

    op.create_table('subscribers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('email_verification_code', sa.String(length=64), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscribers')),
    sa.UniqueConstraint('number', name=op.f('uq_subscribers_number'))
    )
    op.create_table('assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_assignments_employer_id_employers')),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_assignments_subscriber_id_subscribers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments'))
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignments_employer_id'), ['employer_id'], unique=False)
        batch_op.create_index('ix_assignments_pair', ['subscriber_id', 'employer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignments_subscriber_id'), ['subscriber_id'], unique=False)

    op.create_table('employments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_employments_employee_id_employees')),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_employments_employer_id_employers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employments'))
    )
    with op.batch_alter_table('employments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_employments_employee_id'), ['employee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_employments_employer_id'), ['employer_id'], unique=False)
        batch_op.create_index('ix_employments_pair', ['employer_id', 'employee_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=True),
    sa.Column('dedup_key', sa.String(length=200), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_notifications_subscriber_id_subscribers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('dedup_key', name=op.f('uq_notifications_dedup_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_subscriber_id'), ['subscriber_id'], unique=False)

    op.create_table('received_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=True),
    sa.Column('test', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('stored_path', sa.String(length=500), nullable=False),
    sa.Column('run_id', sa.String(length=40), nullable=True),
    sa.Column('findings', sa.JSON(), nullable=True),
    sa.Column('total_findings', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_received_files_subscriber_id_subscribers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_received_files')),
    sa.UniqueConstraint('reference', name=op.f('uq_received_files_reference')),
    sa.UniqueConstraint('subscriber_id', 'sha256', name=op.f('uq_received_files_subscriber_id'))
    )
    with op.batch_alter_table('received_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_received_files_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_received_files_subscriber_id'), ['subscriber_id'], unique=False)

    op.create_table('ssh_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('key_type', sa.String(length=40), nullable=False),
    sa.Column('key_data', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.String(length=100), nullable=False),
    sa.Column('comment', sa.String(length=200), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_ssh_keys_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ssh_keys')),
    sa.UniqueConstraint('subscriber_id', 'fingerprint', name=op.f('uq_ssh_keys_subscriber_id'))
    )
    with op.batch_alter_table('ssh_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ssh_keys_subscriber_id'), ['subscriber_id'], unique=False)

    op.create_table('work_permits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_work_permits_employee_id_employees')),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_work_permits_employer_id_employers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_permits'))
    )
    with op.batch_alter_table('work_permits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_permits_employee_id'), ['employee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_permits_employer_id'), ['employer_id'], unique=False)

    op.create_table('declarations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=48), nullable=False),
    sa.Column('received_file_id', sa.Integer(), nullable=True),
    sa.Column('employer_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('employees', sa.Integer(), nullable=False),
    sa.Column('total_gross', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('total_hours', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['corrects_id'], ['declarations.id'], name=op.f('fk_declarations_corrects_id_declarations')),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_declarations_employer_id_employers')),
    sa.ForeignKeyConstraint(['received_file_id'], ['received_files.id'], name=op.f('fk_declarations_received_file_id_received_files')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_declarations')),
    sa.UniqueConstraint('reference', name=op.f('uq_declarations_reference'))
    )
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.create_index('ix_declarations_employer_period', ['employer_id', 'period'], unique=False)
        batch_op.create_index(batch_op.f('ix_declarations_received_file_id'), ['received_file_id'], unique=False)
        batch_op.create_index('uq_declarations_original', ['employer_id', 'period'], unique=True, postgresql_where=sa.text("kind = 'original'"), sqlite_where=sa.text("kind = 'original'"))

    op.create_table('intake_claims',
    sa.Column('received_file_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['received_file_id'], ['received_files.id'], name=op.f('fk_intake_claims_received_file_id_received_files')),
    sa.PrimaryKeyConstraint('received_file_id', name=op.f('pk_intake_claims'))
    )
    op.create_table('declaration_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('declaration_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('gross', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('hours', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('director', sa.Boolean(), nullable=False),
    sa.Column('unemployment_insurance', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_declaration_lines_declaration_id_declarations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_declaration_lines_employee_id_employees')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_declaration_lines'))
    )
    with op.batch_alter_table('declaration_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_declaration_lines_declaration_id'), ['declaration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_declaration_lines_employee_id'), ['employee_id'], unique=False)

    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=True),
    sa.Column('employer_id', sa.Integer(), nullable=True),
    sa.Column('received_file_id', sa.Integer(), nullable=True),
    sa.Column('declaration_id', sa.Integer(), nullable=True),
    sa.Column('period', sa.String(length=7), nullable=True),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_documents_declaration_id_declarations')),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_documents_employer_id_employers')),
    sa.ForeignKeyConstraint(['received_file_id'], ['received_files.id'], name=op.f('fk_documents_received_file_id_received_files')),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_documents_subscriber_id_subscribers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('path', name=op.f('uq_documents_path'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_declaration_id'), ['declaration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_employer_id'), ['employer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_received_file_id'), ['received_file_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_subscriber_id'), ['subscriber_id'], unique=False)

    op.create_table('contributions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('declaration_id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=True),
    sa.Column('fund', sa.String(length=30), nullable=False),
    sa.Column('share', sa.String(length=10), nullable=False),
    sa.Column('base', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('ceiling', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('rate', sa.Numeric(precision=9, scale=6), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('rate_parameter', sa.String(length=100), nullable=False),
    sa.Column('rate_since', sa.Date(), nullable=False),
    sa.Column('rate_source', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_contributions_declaration_id_declarations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['line_id'], ['declaration_lines.id'], name=op.f('fk_contributions_line_id_declaration_lines'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contributions'))
    )
    with op.batch_alter_table('contributions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contributions_declaration_id'), ['declaration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contributions_line_id'), ['line_id'], unique=False)

    op.create_table('declaration_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('start', sa.Date(), nullable=True),
    sa.Column('end', sa.Date(), nullable=True),
    sa.Column('hours', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.ForeignKeyConstraint(['line_id'], ['declaration_lines.id'], name=op.f('fk_declaration_events_line_id_declaration_lines'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_declaration_events'))
    )
    with op.batch_alter_table('declaration_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_declaration_events_line_id'), ['line_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('declaration_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_declaration_events_line_id'))

    op.drop_table('declaration_events')
    with op.batch_alter_table('contributions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contributions_line_id'))
        batch_op.drop_index(batch_op.f('ix_contributions_declaration_id'))

    op.drop_table('contributions')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_documents_received_file_id'))
        batch_op.drop_index(batch_op.f('ix_documents_kind'))
        batch_op.drop_index(batch_op.f('ix_documents_employer_id'))
        batch_op.drop_index(batch_op.f('ix_documents_declaration_id'))

    op.drop_table('documents')
    with op.batch_alter_table('declaration_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_declaration_lines_employee_id'))
        batch_op.drop_index(batch_op.f('ix_declaration_lines_declaration_id'))

    op.drop_table('declaration_lines')
    op.drop_table('intake_claims')
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.drop_index('uq_declarations_original', postgresql_where=sa.text("kind = 'original'"), sqlite_where=sa.text("kind = 'original'"))
        batch_op.drop_index(batch_op.f('ix_declarations_received_file_id'))
        batch_op.drop_index('ix_declarations_employer_period')

    op.drop_table('declarations')
    with op.batch_alter_table('work_permits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_permits_employer_id'))
        batch_op.drop_index(batch_op.f('ix_work_permits_employee_id'))

    op.drop_table('work_permits')
    with op.batch_alter_table('ssh_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ssh_keys_subscriber_id'))

    op.drop_table('ssh_keys')
    with op.batch_alter_table('received_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_received_files_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_received_files_state'))

    op.drop_table('received_files')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_subscriber_id'))

    op.drop_table('notifications')
    with op.batch_alter_table('employments', schema=None) as batch_op:
        batch_op.drop_index('ix_employments_pair')
        batch_op.drop_index(batch_op.f('ix_employments_employer_id'))
        batch_op.drop_index(batch_op.f('ix_employments_employee_id'))

    op.drop_table('employments')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignments_subscriber_id'))
        batch_op.drop_index('ix_assignments_pair')
        batch_op.drop_index(batch_op.f('ix_assignments_employer_id'))

    op.drop_table('assignments')
    op.drop_table('subscribers')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_job_runs_job_key')

    op.drop_table('job_runs')
    op.drop_table('employers')
    op.drop_table('employees')

