"""market simulation runs (issue 21)

A run of the market simulation (simulation/): which scenario, with which allocation
parameter version, MAC parameter version, seeds, days and strategy, who ran it and when, and
its results (price paths over seeds, volumes, abatement by sector, costs against no trading
and against the least-cost benchmark, auction prices) as JSON. One new table.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "simulation_run",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  primary_key=True, autoincrement=True),
        sa.Column("scenario", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  sa.ForeignKey("scenario.id", ondelete="CASCADE",
                                name="fk_simulation_run_scenario_scenario"),
                  nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("parameter_version", sa.String(length=40), nullable=False),
        sa.Column("mac_version", sa.String(length=40), nullable=False),
        sa.Column("seeds", sa.Integer(), nullable=False),
        sa.Column("first_seed", sa.BigInteger(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.String(length=16), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
    )
    op.create_index("ix_simulation_run_scenario", "simulation_run", ["scenario"])


def downgrade() -> None:
    op.drop_index("ix_simulation_run_scenario", table_name="simulation_run")
    op.drop_table("simulation_run")
