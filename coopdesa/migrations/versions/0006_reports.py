"""implementation reports and reporting schedules

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 14:00:00

"""
from alembic import op
import sqlalchemy as sa

import coopdesa.db


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

FUNDING_SOURCES = ('apb_desa', 'bum_desa', 'pihak_ketiga', 'apbd_kabupaten', 'apbd_provinsi',
                   'apbn', 'swadaya', 'lainnya')


def upgrade():
    op.create_table('report_schedule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.Enum('quarterly', 'half_yearly', 'yearly', name='reportperiod', native_enum=False, length=12), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('set_at', coopdesa.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_report_schedule_proposal_id_proposal'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_by_id'], ['user_account.id'], name=op.f('fk_report_schedule_set_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_schedule')),
    sa.UniqueConstraint('proposal_id', name=op.f('uq_report_schedule_proposal_id'))
    )

    op.create_table('implementation_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('activities', sa.Text(), nullable=False),
    sa.Column('outputs', sa.Text(), nullable=False),
    sa.Column('outcomes', sa.Text(), nullable=False),
    sa.Column('problems', sa.Text(), nullable=True),
    sa.Column('next_steps', sa.Text(), nullable=True),
    sa.Column('addressees', sa.JSON(), nullable=False),
    sa.Column('reporter_label', sa.String(length=200), nullable=False),
    sa.Column('signer_name', sa.String(length=120), nullable=False),
    sa.Column('filed_by_id', sa.Integer(), nullable=True),
    sa.Column('filed_at', coopdesa.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('render_error', sa.String(length=500), nullable=True),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_implementation_report_period_order')),
    sa.ForeignKeyConstraint(['file_id'], ['stored_file.id'], name=op.f('fk_implementation_report_file_id_stored_file')),
    sa.ForeignKeyConstraint(['filed_by_id'], ['user_account.id'], name=op.f('fk_implementation_report_filed_by_id_user_account')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_implementation_report_proposal_id_proposal'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_implementation_report')),
    sa.UniqueConstraint('proposal_id', 'period_start', name='report_period_once')
    )
    with op.batch_alter_table('implementation_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_implementation_report_proposal_id'), ['proposal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_implementation_report_sha256'), ['sha256'], unique=False)

    op.create_table('report_aim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('aim', sa.String(length=500), nullable=False),
    sa.Column('status', sa.Enum('tercapai', 'sebagian', 'belum', name='aimstatus', native_enum=False, length=10), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['report_id'], ['implementation_report.id'], name=op.f('fk_report_aim_report_id_implementation_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_aim'))
    )
    with op.batch_alter_table('report_aim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_aim_report_id'), ['report_id'], unique=False)

    op.create_table('report_funding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum(*FUNDING_SOURCES, name='fundingsource', native_enum=False, length=16), nullable=False),
    sa.Column('apbdes_year', sa.Integer(), nullable=True),
    sa.Column('received', sa.BigInteger(), nullable=False),
    sa.Column('spent', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('received >= 0', name=op.f('ck_report_funding_received_not_negative')),
    sa.CheckConstraint('spent >= 0', name=op.f('ck_report_funding_spent_not_negative')),
    sa.ForeignKeyConstraint(['report_id'], ['implementation_report.id'], name=op.f('fk_report_funding_report_id_implementation_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_funding'))
    )
    with op.batch_alter_table('report_funding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_funding_report_id'), ['report_id'], unique=False)

    op.create_table('report_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['stored_file.id'], name=op.f('fk_report_attachment_file_id_stored_file')),
    sa.ForeignKeyConstraint(['report_id'], ['implementation_report.id'], name=op.f('fk_report_attachment_report_id_implementation_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_attachment'))
    )
    with op.batch_alter_table('report_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_attachment_report_id'), ['report_id'], unique=False)


def downgrade():
    with op.batch_alter_table('report_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_attachment_report_id'))
    op.drop_table('report_attachment')
    with op.batch_alter_table('report_funding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_funding_report_id'))
    op.drop_table('report_funding')
    with op.batch_alter_table('report_aim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_aim_report_id'))
    op.drop_table('report_aim')
    with op.batch_alter_table('implementation_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_implementation_report_sha256'))
        batch_op.drop_index(batch_op.f('ix_implementation_report_proposal_id'))
    op.drop_table('implementation_report')
    op.drop_table('report_schedule')
