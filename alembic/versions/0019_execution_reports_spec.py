"""execution reports as the specification defines them

Adds the structured fields of HJ 944-2018 to `execution_report` (production and operating
hours, treatment facilities' operation, self-monitoring results, records, tax paid, the
commitment), report-level flags, and the management class and report-parameter version its
due date was computed under. Existing reports keep NULL fields (they were filed before the
fields were asked for); `flags` is backfilled with "" and `rules_version` with "2018.1" (the
fixed-day rule their stored due dates came from).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

_NULLABLE: list[tuple[str, sa.types.TypeEngine[Any]]] = [
    ("operating_hours", sa.Integer()),
    ("output", sa.BigInteger()),
    ("output_unit", sa.String(length=8)),
    ("capacity", sa.BigInteger()),
    ("facility_normal_hours", sa.Integer()),
    ("facility_abnormal_hours", sa.Integer()),
    ("abnormal_reason", sa.Text()),
    ("monitoring_samples", sa.Integer()),
    ("monitoring_exceedances", sa.Integer()),
    ("records_kept", sa.Boolean()),
    ("tax_paid_fen", sa.BigInteger()),
    ("commitment", sa.Boolean()),
    ("commitment_by", sa.String(length=60)),
    ("management_class", sa.String(length=12)),
]


def upgrade() -> None:
    with op.batch_alter_table("execution_report") as batch:
        for name, type_ in _NULLABLE:
            batch.add_column(sa.Column(name, type_, nullable=True))
        batch.add_column(sa.Column("flags", sa.String(length=120), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("rules_version", sa.String(length=20), nullable=False,
                                   server_default="2018.1"))


def downgrade() -> None:
    names = ["rules_version", "flags", *(n for n, _t in reversed(_NULLABLE))]
    if op.get_bind().dialect.name == "sqlite":
        # SQLite ≥ 3.35 drops plain columns in place; a batch copy would have to drop the
        # table its report lines reference, which foreign keys (on) refuse
        for name in names:
            op.execute(f"ALTER TABLE execution_report DROP COLUMN {name}")
        return
    with op.batch_alter_table("execution_report") as batch:
        for name in names:
            batch.drop_column(name)
