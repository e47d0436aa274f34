"""environmental protection tax as the law computes it: an outlet's source kind

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable: existing outlets have no recorded source kind; tax drafts say so and assume
    # "process" (compliance/reporting/tax_service.py), so no backfill is invented here
    with op.batch_alter_table("compliance_outlet") as b:
        b.add_column(sa.Column("source_kind", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("compliance_outlet") as b:
        b.drop_column("source_kind")
