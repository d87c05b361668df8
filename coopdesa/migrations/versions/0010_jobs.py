"""background jobs

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 18:40:00

"""
from alembic import op
import sqlalchemy as sa

import coopdesa.db


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('export', 'render', 'network', 'remind', name='jobkind', native_enum=False, length=12), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'succeeded', 'failed', name='jobstate', native_enum=False, length=12), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('message', sa.String(length=500), nullable=True),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('result_file_id', sa.Integer(), nullable=True),
    sa.Column('created_at', coopdesa.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', coopdesa.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', coopdesa.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', coopdesa.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('backend', sa.String(length=8), nullable=False),
    sa.Column('rq_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_job_owner_id_user_account')),
    sa.ForeignKeyConstraint(['result_file_id'], ['stored_file.id'], name=op.f('fk_job_result_file_id_stored_file')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job'))
    )
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index('ix_job_owner_newest', ['owner_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_state'), ['state'], unique=False)


def downgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_state'))
        batch_op.drop_index('ix_job_owner_newest')
    op.drop_table('job')
