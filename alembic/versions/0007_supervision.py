"""supervision: monitoring imports, daily emissions, anomaly clues

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('monitoring_daily',
    sa.Column('permit', sa.String(length=22), nullable=False),
    sa.Column('outlet', sa.String(length=20), nullable=False),
    sa.Column('pollutant', sa.String(length=10), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('emitted_g', sa.BigInteger(), nullable=False),
    sa.Column('hours', sa.Integer(), nullable=False),
    sa.Column('power_kwh', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('permit', 'outlet', 'pollutant', 'day', name=op.f('pk_monitoring_daily'))
    )


def downgrade() -> None:
    op.drop_table('monitoring_daily')
