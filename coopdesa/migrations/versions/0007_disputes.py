"""disputes and their settlement steps

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 14:00:00

"""
from alembic import op
import sqlalchemy as sa

import coopdesa.db


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dispute',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('clauses', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('state', sa.Enum('open', 'settled', 'to_court', 'withdrawn', name='disputestate', native_enum=False, length=12), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', coopdesa.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', coopdesa.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('close_reason', sa.Text(), nullable=True),
    sa.Column('berita_acara_id', sa.Integer(), nullable=True),
    sa.Column('berita_acara_sha256', sa.String(length=64), nullable=True),
    sa.Column('scan_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['berita_acara_id'], ['stored_file.id'], name=op.f('fk_dispute_berita_acara_id_stored_file')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['user_account.id'], name=op.f('fk_dispute_opened_by_id_user_account')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_dispute_proposal_id_proposal'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scan_id'], ['stored_file.id'], name=op.f('fk_dispute_scan_id_stored_file')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute'))
    )
    with op.batch_alter_table('dispute', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispute_proposal_id'), ['proposal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispute_state'), ['state'], unique=False)

    op.create_table('dispute_party',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispute_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['dispute_id'], ['dispute.id'], name=op.f('fk_dispute_party_dispute_id_dispute'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['proposal_party.id'], name=op.f('fk_dispute_party_party_id_proposal_party'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute_party')),
    sa.UniqueConstraint('dispute_id', 'party_id', name='dispute_party_once')
    )
    with op.batch_alter_table('dispute_party', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispute_party_dispute_id'), ['dispute_id'], unique=False)

    op.create_table('dispute_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispute_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('level', sa.Enum('musyawarah', 'camat', 'bupati', 'pengadilan', name='level', native_enum=False, length=12), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('facilitator_name', sa.String(length=120), nullable=True),
    sa.Column('facilitator_office', sa.String(length=120), nullable=True),
    sa.Column('outcome', sa.Enum('settled', 'not_settled', 'putusan', name='outcome', native_enum=False, length=12), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('terms', sa.Text(), nullable=True),
    sa.Column('court_name', sa.String(length=200), nullable=True),
    sa.Column('case_number', sa.String(length=80), nullable=True),
    sa.Column('signatories', sa.JSON(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', coopdesa.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dispute_id'], ['dispute.id'], name=op.f('fk_dispute_step_dispute_id_dispute'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_dispute_step_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute_step')),
    sa.UniqueConstraint('dispute_id', 'position', name='step_position_once')
    )
    with op.batch_alter_table('dispute_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispute_step_dispute_id'), ['dispute_id'], unique=False)


def downgrade():
    with op.batch_alter_table('dispute_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispute_step_dispute_id'))

    op.drop_table('dispute_step')
    with op.batch_alter_table('dispute_party', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispute_party_dispute_id'))

    op.drop_table('dispute_party')
    with op.batch_alter_table('dispute', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispute_state'))
        batch_op.drop_index(batch_op.f('ix_dispute_proposal_id'))

    op.drop_table('dispute')
