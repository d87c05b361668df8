"""agreement changes, postponement, cancellation, addenda

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 14:00:00

"""
from alembic import op
import sqlalchemy as sa

import coopdesa.db


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
