"""bureau levels (city, district) and departments of users

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05

Bureau users get a district (None: the city bureau) and a department (None: a general
officer). Both are nullable, so existing users keep their powers: city level, every
department; no backfill is needed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('app_user') as t:
        t.add_column(sa.Column('district', sa.String(length=20), nullable=True))
        t.add_column(sa.Column('department', sa.String(length=12), nullable=True))
        t.create_foreign_key(t.f('fk_app_user_district_district'), 'district', ['district'],
                             ['code'])


def downgrade() -> None:
    with op.batch_alter_table('app_user') as t:
        t.drop_constraint(t.f('fk_app_user_district_district'), type_='foreignkey')
        t.drop_column('department')
        t.drop_column('district')
