"""case record: people, relationships, cases, allocations, notes, chronology, documents

Revision ID: 0003_records
Revises: 0002_engine
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_records"
down_revision = "0002_engine"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # trigram index for partial-name search (pg_trgm is a trusted extension from PostgreSQL 13)
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('local_id', sa.String(length=20), nullable=True),
    sa.Column('nhs_number', sa.String(length=10), nullable=True),
    sa.Column('upn', sa.String(length=13), nullable=True),
    sa.Column('forename', sa.String(length=100), nullable=False),
    sa.Column('middle_names', sa.String(length=200), nullable=True),
    sa.Column('surname', sa.String(length=100), nullable=False),
    sa.Column('preferred_name', sa.String(length=100), nullable=True),
    sa.Column('surname_norm', sa.String(length=100), nullable=False),
    sa.Column('search_name', sa.String(length=300), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('dob_is_expected', sa.Boolean(), nullable=False),
    sa.Column('date_of_death', sa.Date(), nullable=True),
    sa.Column('sex', sa.String(length=1), nullable=True),
    sa.Column('gender', sa.String(length=20), nullable=True),
    sa.Column('ethnicity', sa.String(length=4), nullable=True),
    sa.Column('disabilities', sa.JSON(), nullable=False),
    sa.Column('first_language', sa.String(length=3), nullable=True),
    sa.Column('interpreter_needed', sa.Boolean(), nullable=False),
    sa.Column('restricted', sa.Boolean(), nullable=False),
    sa.Column('pds_linked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.CheckConstraint('date_of_death IS NULL OR date_of_birth IS NULL OR date_of_death >= date_of_birth', name=op.f('ck_person_death_after_birth')),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_person_created_by_user_account')),
    sa.ForeignKeyConstraint(['updated_by'], ['user_account.id'], name=op.f('fk_person_updated_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('local_id', name=op.f('uq_person_local_id')),
    sa.UniqueConstraint('nhs_number', name=op.f('uq_person_nhs_number'))
    )
    op.create_index(op.f('ix_person_date_of_birth'), 'person', ['date_of_birth'], unique=False)
    op.create_index('ix_person_search_name_trgm', 'person', ['search_name'], unique=False, postgresql_using='gin', postgresql_ops={'search_name': 'gin_trgm_ops'})
    op.create_index('ix_person_surname_norm_dob', 'person', ['surname_norm', 'date_of_birth'], unique=False, postgresql_ops={'surname_norm': 'text_pattern_ops'})
    op.create_index(op.f('ix_person_upn'), 'person', ['upn'], unique=False)
    op.create_table('case_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=30), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('service_area', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('open_reason', sa.String(length=30), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('close_reason', sa.String(length=30), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('worker_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_case_record_created_by_user_account')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_case_record_person_id_person'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_case_record_team_id_team')),
    sa.ForeignKeyConstraint(['updated_by'], ['user_account.id'], name=op.f('fk_case_record_updated_by_user_account')),
    sa.ForeignKeyConstraint(['worker_id'], ['user_account.id'], name=op.f('fk_case_record_worker_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_record')),
    sa.UniqueConstraint('reference', name=op.f('uq_case_record_reference'))
    )
    op.create_index('ix_case_record_person_id_status', 'case_record', ['person_id', 'status'], unique=False)
    op.create_index(op.f('ix_case_record_team_id'), 'case_record', ['team_id'], unique=False)
    op.create_index(op.f('ix_case_record_worker_id'), 'case_record', ['worker_id'], unique=False)
    op.create_table('involvement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('professional_name', sa.String(length=200), nullable=True),
    sa.Column('contact', sa.String(length=254), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_involvement_created_by_user_account')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_involvement_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by'], ['user_account.id'], name=op.f('fk_involvement_updated_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_involvement'))
    )
    op.create_index(op.f('ix_involvement_person_id'), 'involvement', ['person_id'], unique=False)
    op.create_table('person_address',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('address_type', sa.String(length=20), nullable=False),
    sa.Column('line1', sa.String(length=200), nullable=False),
    sa.Column('line2', sa.String(length=200), nullable=True),
    sa.Column('town', sa.String(length=100), nullable=True),
    sa.Column('postcode', sa.String(length=10), nullable=True),
    sa.Column('uprn', sa.String(length=12), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('ended_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_person_address_created_by_user_account')),
    sa.ForeignKeyConstraint(['ended_by'], ['user_account.id'], name=op.f('fk_person_address_ended_by_user_account')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_address_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_address'))
    )
    op.create_index(op.f('ix_person_address_person_id'), 'person_address', ['person_id'], unique=False)
    op.create_index(op.f('ix_person_address_postcode'), 'person_address', ['postcode'], unique=False)
    op.create_table('person_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('alert_type', sa.String(length=30), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_person_alert_created_by_user_account')),
    sa.ForeignKeyConstraint(['ended_by'], ['user_account.id'], name=op.f('fk_person_alert_ended_by_user_account')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_alert_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_alert'))
    )
    op.create_index(op.f('ix_person_alert_person_id'), 'person_alert', ['person_id'], unique=False)
    op.create_table('person_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('value', sa.String(length=254), nullable=False),
    sa.Column('preferred', sa.Boolean(), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_person_contact_created_by_user_account')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_contact_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_contact'))
    )
    op.create_index(op.f('ix_person_contact_person_id'), 'person_contact', ['person_id'], unique=False)
    op.create_table('person_name',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('name_type', sa.String(length=20), nullable=False),
    sa.Column('forename', sa.String(length=100), nullable=False),
    sa.Column('middle_names', sa.String(length=200), nullable=True),
    sa.Column('surname', sa.String(length=100), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_person_name_created_by_user_account')),
    sa.ForeignKeyConstraint(['ended_by'], ['user_account.id'], name=op.f('fk_person_name_ended_by_user_account')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_name_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_name'))
    )
    op.create_index(op.f('ix_person_name_person_id'), 'person_name', ['person_id'], unique=False)
    op.create_table('person_relationship',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('related_person_id', sa.Integer(), nullable=False),
    sa.Column('rel_type', sa.String(length=30), nullable=False),
    sa.Column('parental_responsibility', sa.Boolean(), nullable=False),
    sa.Column('same_household', sa.Boolean(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.CheckConstraint('person_id <> related_person_id', name=op.f('ck_person_relationship_not_self')),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_person_relationship_created_by_user_account')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_relationship_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['related_person_id'], ['person.id'], name=op.f('fk_person_relationship_related_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by'], ['user_account.id'], name=op.f('fk_person_relationship_updated_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_relationship'))
    )
    op.create_index(op.f('ix_person_relationship_person_id'), 'person_relationship', ['person_id'], unique=False)
    op.create_index(op.f('ix_person_relationship_related_person_id'), 'person_relationship', ['related_person_id'], unique=False)
    op.create_table('person_restriction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.CheckConstraint('(user_id IS NULL) <> (team_id IS NULL)', name=op.f('ck_person_restriction_one_target')),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_person_restriction_created_by_user_account')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_restriction_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_person_restriction_team_id_team'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_person_restriction_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_restriction')),
    sa.UniqueConstraint('person_id', 'user_id', 'team_id', name='uq_person_restriction_person_user_team')
    )
    op.create_index(op.f('ix_person_restriction_person_id'), 'person_restriction', ['person_id'], unique=False)
    op.create_table('case_allocation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('worker_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('allocated_by', sa.Integer(), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['allocated_by'], ['user_account.id'], name=op.f('fk_case_allocation_allocated_by_user_account')),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_case_allocation_case_id_case_record'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ended_by'], ['user_account.id'], name=op.f('fk_case_allocation_ended_by_user_account')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_case_allocation_team_id_team')),
    sa.ForeignKeyConstraint(['worker_id'], ['user_account.id'], name=op.f('fk_case_allocation_worker_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_allocation'))
    )
    op.create_index(op.f('ix_case_allocation_case_id'), 'case_allocation', ['case_id'], unique=False)
    op.create_table('case_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('note_type', sa.String(length=30), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('significant', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_case_note_case_id_case_record'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['completed_by'], ['user_account.id'], name=op.f('fk_case_note_completed_by_user_account')),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_case_note_created_by_user_account')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_case_note_person_id_person'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['updated_by'], ['user_account.id'], name=op.f('fk_case_note_updated_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_note'))
    )
    op.create_index(op.f('ix_case_note_case_id'), 'case_note', ['case_id'], unique=False)
    op.create_index('ix_case_note_person_id_occurred_at', 'case_note', ['person_id', 'occurred_at'], unique=False)
    op.create_table('case_process',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_case_process_case_id_case_record'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_case_process_created_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_process')),
    sa.UniqueConstraint('case_id', 'instance_id', name='uq_case_process_case_instance')
    )
    op.create_index(op.f('ix_case_process_instance_id'), 'case_process', ['instance_id'], unique=False)
    op.create_table('chronology_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source_ref', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_chronology_entry_case_id_case_record'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_chronology_entry_created_by_user_account')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_chronology_entry_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chronology_entry')),
    sa.UniqueConstraint('person_id', 'source', 'source_ref', name='uq_chronology_entry_person_source_ref')
    )
    op.create_index('ix_chronology_entry_person_id_occurred_at', 'chronology_entry', ['person_id', 'occurred_at'], unique=False)
    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('note_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_document_case_id_case_record'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_document_created_by_user_account')),
    sa.ForeignKeyConstraint(['note_id'], ['case_note.id'], name=op.f('fk_document_note_id_case_note'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_document_person_id_person'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['updated_by'], ['user_account.id'], name=op.f('fk_document_updated_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document'))
    )
    op.create_index(op.f('ix_document_case_id'), 'document', ['case_id'], unique=False)
    op.create_index(op.f('ix_document_note_id'), 'document', ['note_id'], unique=False)
    op.create_index(op.f('ix_document_person_id'), 'document', ['person_id'], unique=False)
    op.create_table('note_correction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('note_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_note_correction_created_by_user_account')),
    sa.ForeignKeyConstraint(['note_id'], ['case_note.id'], name=op.f('fk_note_correction_note_id_case_note'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_note_correction'))
    )
    op.create_index(op.f('ix_note_correction_note_id'), 'note_correction', ['note_id'], unique=False)
    op.create_table('note_person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('note_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['note_id'], ['case_note.id'], name=op.f('fk_note_person_note_id_case_note'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_note_person_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_note_person')),
    sa.UniqueConstraint('note_id', 'person_id', name='uq_note_person_note_person')
    )
    op.create_index(op.f('ix_note_person_person_id'), 'note_person', ['person_id'], unique=False)
    op.create_table('document_access',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('version_no', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('accessed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_document_access_document_id_document'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_document_access_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_access'))
    )
    op.create_index(op.f('ix_document_access_document_id'), 'document_access', ['document_id'], unique=False)
    op.create_table('document_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('version_no', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=120), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_document_version_created_by_user_account')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_document_version_document_id_document'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_version')),
    sa.UniqueConstraint('document_id', 'version_no', name='uq_document_version_document_no')
    )
    op.create_table('record_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_type', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=60), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by'], ['user_account.id'], name=op.f('fk_record_change_changed_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_change'))
    )
    op.create_index(op.f('ix_record_change_person_id'), 'record_change', ['person_id'], unique=False)
    op.create_index('ix_record_change_record', 'record_change', ['record_type', 'record_id'], unique=False)


def downgrade():
    op.drop_table('record_change')
    op.drop_table('document_version')
    op.drop_table('document_access')
    op.drop_table('note_person')
    op.drop_table('note_correction')
    op.drop_table('document')
    op.drop_table('chronology_entry')
    op.drop_table('case_process')
    op.drop_table('case_note')
    op.drop_table('case_allocation')
    op.drop_table('person_restriction')
    op.drop_table('person_relationship')
    op.drop_table('person_name')
    op.drop_table('person_contact')
    op.drop_table('person_alert')
    op.drop_table('person_address')
    op.drop_table('involvement')
    op.drop_table('case_record')
    op.drop_table('person')
