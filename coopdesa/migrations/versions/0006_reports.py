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


def upgrade():
    pass


def downgrade():
    pass
