"""cooperation network: stored results per kabupaten/kota

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import coopdesa.db


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('network_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope_code', sa.String(length=13).with_variant(sa.String(length=13, collation='C'), 'postgresql'), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('computed_at', coopdesa.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('elapsed_ms', sa.Integer(), nullable=False),
    sa.Column('node_count', sa.Integer(), nullable=False),
    sa.Column('edge_count', sa.Integer(), nullable=False),
    sa.Column('agreement_count', sa.Integer(), nullable=False),
    sa.Column('village_count', sa.Integer(), nullable=False),
    sa.Column('isolated_count', sa.Integer(), nullable=False),
    sa.Column('community_count', sa.Integer(), nullable=False),
    sa.Column('density', sa.Float(), nullable=False),
    sa.Column('cross_kecamatan', sa.Integer(), nullable=False),
    sa.Column('cross_kabupaten', sa.Integer(), nullable=False),
    sa.Column('betweenness_exact', sa.Boolean(), nullable=False),
    sa.Column('stage_counts', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['scope_code'], ['region.code'], name=op.f('fk_network_result_scope_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_result')),
    sa.UniqueConstraint('scope_code', name=op.f('uq_network_result_scope_code'))
    )
    op.create_table('network_node',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('result_id', sa.Integer(), nullable=False),
    sa.Column('node_key', sa.String(length=40), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('desa_code', sa.String(length=13).with_variant(sa.String(length=13, collation='C'), 'postgresql'), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('region', sa.String(length=20), nullable=False),
    sa.Column('inside', sa.Boolean(), nullable=False),
    sa.Column('degree', sa.Integer(), nullable=False),
    sa.Column('weighted_degree', sa.Integer(), nullable=False),
    sa.Column('betweenness', sa.Float(), nullable=False),
    sa.Column('community', sa.Integer(), nullable=True),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('outside_kecamatan', sa.Integer(), nullable=False),
    sa.Column('outside_kabupaten', sa.Integer(), nullable=False),
    sa.Column('stage', sa.Enum('bonding', 'bridging', 'networking', name='stage', native_enum=False, length=12), nullable=True),
    sa.Column('active_partners', sa.Integer(), nullable=False),
    sa.Column('active_kinds', sa.Integer(), nullable=False),
    sa.Column('active_outside', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['result_id'], ['network_result.id'], name=op.f('fk_network_node_result_id_network_result'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_node')),
    sa.UniqueConstraint('result_id', 'node_key', name='node_once')
    )
    with op.batch_alter_table('network_node', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_node_result_id'), ['result_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_network_node_desa_code'), ['desa_code'], unique=False)


def downgrade():
    with op.batch_alter_table('network_node', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_network_node_desa_code'))
        batch_op.drop_index(batch_op.f('ix_network_node_result_id'))
    op.drop_table('network_node')
    op.drop_table('network_result')
