"""public dissemination: withheld documents

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 14:00:00

"""
from alembic import op
import sqlalchemy as sa

import coopdesa.db


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('publication_withholding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('legal_basis', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('withheld_by_id', sa.Integer(), nullable=True),
    sa.Column('withheld_at', coopdesa.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lifted_by_id', sa.Integer(), nullable=True),
    sa.Column('lifted_at', coopdesa.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lift_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['user_account.id'], name=op.f('fk_publication_withholding_lifted_by_id_user_account')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_publication_withholding_proposal_id_proposal'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['withheld_by_id'], ['user_account.id'], name=op.f('fk_publication_withholding_withheld_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publication_withholding'))
    )
    with op.batch_alter_table('publication_withholding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publication_withholding_proposal_id'), ['proposal_id'], unique=False)


def downgrade():
    with op.batch_alter_table('publication_withholding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publication_withholding_proposal_id'))

    op.drop_table('publication_withholding')
