"""log-in attempts keyed by user and address

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05

`login_throttle` holds the log-in counters (identity.service.login): per user and address,
per address, and per user from everywhere, each a row locked while an attempt claims a
slot, so the limits hold under concurrent attempts on PostgreSQL as on SQLite. The old
`login_attempt` rows stay as the history of checked attempts; no backfill: counters start
empty (at most one window of earlier failures is forgotten).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'login_throttle',
        sa.Column('scope', sa.String(length=4), nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_success', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('scope', 'key', name=op.f('pk_login_throttle')),
    )
    with op.batch_alter_table('login_throttle') as t:
        t.create_index('ix_login_throttle_window_start', ['window_start'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_throttle') as t:
        t.drop_index('ix_login_throttle_window_start')
    op.drop_table('login_throttle')
