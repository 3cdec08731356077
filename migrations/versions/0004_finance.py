"""Finance: providers, service agreements, payment schedule lines, payment runs.

Revision ID: 0004_finance
Revises: 0003_records
"""
from alembic import op
import sqlalchemy as sa

revision = "0004_finance"
down_revision = "0003_records"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('finance_payment_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('total_pence', sa.BigInteger(), nullable=False),
    sa.Column('file_name', sa.String(length=120), nullable=True),
    sa.Column('file_sha256', sa.String(length=64), nullable=True),
    sa.Column('file_content', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('download_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_payment_run'))
    )
    op.create_index(op.f('ix_finance_payment_run_period_end'), 'finance_payment_run', ['period_end'], unique=False)
    op.create_table('finance_provider',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('cqc_location_id', sa.String(length=20), nullable=True),
    sa.Column('bank_details_reference', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_finance_provider_created_by_user_account')),
    sa.ForeignKeyConstraint(['updated_by'], ['user_account.id'], name=op.f('fk_finance_provider_updated_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_provider')),
    sa.UniqueConstraint('reference', name=op.f('uq_finance_provider_reference'))
    )
    op.create_table('finance_agreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('provider_id', sa.Integer(), nullable=True),
    sa.Column('payee_reference', sa.String(length=64), nullable=True),
    sa.Column('service_type', sa.String(length=30), nullable=False),
    sa.Column('cost_code', sa.String(length=12), nullable=True),
    sa.Column('unit', sa.String(length=10), nullable=False),
    sa.Column('unit_cost_pence', sa.BigInteger(), nullable=False),
    sa.Column('units_per_week', sa.Numeric(precision=9, scale=2), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('process_instance_id', sa.BigInteger(), nullable=True),
    sa.Column('requested_by', sa.String(length=120), nullable=True),
    sa.Column('authorised_by', sa.String(length=120), nullable=True),
    sa.Column('authorised_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_finance_agreement_end_after_start')),
    sa.CheckConstraint('unit_cost_pence > 0', name=op.f('ck_finance_agreement_unit_cost_positive')),
    sa.CheckConstraint('units_per_week > 0', name=op.f('ck_finance_agreement_units_positive')),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_finance_agreement_case_id_case_record'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_finance_agreement_person_id_person'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['provider_id'], ['finance_provider.id'], name=op.f('fk_finance_agreement_provider_id_finance_provider'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_agreement')),
    sa.UniqueConstraint('reference', name=op.f('uq_finance_agreement_reference'))
    )
    op.create_index(op.f('ix_finance_agreement_case_id'), 'finance_agreement', ['case_id'], unique=False)
    op.create_index('ix_finance_agreement_person_id_status', 'finance_agreement', ['person_id', 'status'], unique=False)
    op.create_index(op.f('ix_finance_agreement_process_instance_id'), 'finance_agreement', ['process_instance_id'], unique=False)
    op.create_index(op.f('ix_finance_agreement_provider_id'), 'finance_agreement', ['provider_id'], unique=False)
    op.create_index(op.f('ix_finance_agreement_status'), 'finance_agreement', ['status'], unique=False)
    op.create_table('finance_schedule_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('units', sa.Numeric(precision=9, scale=2), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('payment_run_id', sa.Integer(), nullable=True),
    sa.Column('exported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status <> 'exported' OR payment_run_id IS NOT NULL", name=op.f('ck_finance_schedule_line_exported_has_run')),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_finance_schedule_line_period_order')),
    sa.ForeignKeyConstraint(['agreement_id'], ['finance_agreement.id'], name=op.f('fk_finance_schedule_line_agreement_id_finance_agreement'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['payment_run_id'], ['finance_payment_run.id'], name=op.f('fk_finance_schedule_line_payment_run_id_finance_payment_run'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_schedule_line')),
    sa.UniqueConstraint('agreement_id', 'period_start', name='uq_finance_schedule_line_agreement_period')
    )
    op.create_index('ix_finance_schedule_line_due', 'finance_schedule_line', ['status', 'period_end'], unique=False)
    op.create_index(op.f('ix_finance_schedule_line_payment_run_id'), 'finance_schedule_line', ['payment_run_id'], unique=False)


def downgrade() -> None:
    op.drop_table('finance_schedule_line')
    op.drop_table('finance_agreement')
    op.drop_table('finance_provider')
    op.drop_table('finance_payment_run')
