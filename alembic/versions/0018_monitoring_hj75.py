"""monitoring accounting per HJ 75: substituted hours per daily row

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05

`monitoring_daily.substituted_hours`: of a day's counted hours, those whose concentration or
flow was substituted by the HJ 75 missing-data rule. Existing rows were computed without
substitution: they are backfilled with 0 (the server default), which is what they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("monitoring_daily") as batch:
        batch.add_column(sa.Column("substituted_hours", sa.Integer(), nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("monitoring_daily") as batch:
        batch.drop_column("substituted_hours")
