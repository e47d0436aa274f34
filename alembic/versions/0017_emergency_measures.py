"""emergency measures per permit and alert level

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05

Each permit may carry its emergency emission-reduction list entry: performance grade
(permit_emergency_plan) and per alert level a cut and the measure's text
(permit_emergency_measure). Alert caps record the baseline they used (basis, grams over
days), the cut applied and where it came from, the grade and measure, and the zone the
region totals group by. Existing caps were computed from the permitted quantity over the
days of the year at the alert's cut: they are backfilled as such.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'permit_emergency_plan',
        sa.Column('permit', sa.String(length=22), nullable=False),
        sa.Column('grade', sa.String(length=12), nullable=False),
        sa.Column('set_by', sa.String(length=64), nullable=False),
        sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['permit'], ['permit.code'],
                                name=op.f('fk_permit_emergency_plan_permit_permit')),
        sa.PrimaryKeyConstraint('permit', name=op.f('pk_permit_emergency_plan')),
    )
    op.create_table(
        'permit_emergency_measure',
        sa.Column('permit', sa.String(length=22), nullable=False),
        sa.Column('level', sa.String(length=6), nullable=False),
        sa.Column('cut_pct', sa.Integer(), nullable=False),
        sa.Column('measure', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ['permit'], ['permit_emergency_plan.permit'],
            name=op.f('fk_permit_emergency_measure_permit_permit_emergency_plan')),
        sa.PrimaryKeyConstraint('permit', 'level', name=op.f('pk_permit_emergency_measure')),
        sa.CheckConstraint('cut_pct BETWEEN 0 AND 100',
                           name=op.f('ck_permit_emergency_measure_cut_range')),
    )
    with op.batch_alter_table('pollution_alert_cap') as t:
        t.add_column(sa.Column('zone', sa.String(length=20), server_default='',
                               nullable=False))
        t.add_column(sa.Column('basis', sa.String(length=12), server_default='permitted',
                               nullable=False))
        t.add_column(sa.Column('baseline_g', sa.BigInteger(), server_default='0',
                               nullable=False))
        t.add_column(sa.Column('baseline_days', sa.Integer(), server_default='365',
                               nullable=False))
        t.add_column(sa.Column('cut_pct', sa.Integer(), server_default='0', nullable=False))
        t.add_column(sa.Column('cut_source', sa.String(length=8), server_default='alert',
                               nullable=False))
        t.add_column(sa.Column('grade', sa.String(length=12), nullable=True))
        t.add_column(sa.Column('measure', sa.Text(), nullable=True))
    # existing caps: permitted quantity over the days of the year, at the alert's cut
    op.execute(
        "UPDATE pollution_alert_cap SET basis = 'permitted', cut_source = 'alert', "
        "baseline_g = permitted_kg * 1000, baseline_days = days_in_year, "
        "cut_pct = (SELECT a.cut_pct FROM pollution_alert AS a "
        "WHERE a.id = pollution_alert_cap.alert), "
        "zone = COALESCE((SELECT MIN(q.zone) FROM permit_quantity AS q "
        "WHERE q.permit = pollution_alert_cap.permit "
        "AND q.pollutant = pollution_alert_cap.pollutant), '')")


def downgrade() -> None:
    with op.batch_alter_table('pollution_alert_cap') as t:
        for name in ('measure', 'grade', 'cut_source', 'cut_pct', 'baseline_days',
                     'baseline_g', 'basis', 'zone'):
            t.drop_column(name)
    op.drop_table('permit_emergency_measure')
    op.drop_table('permit_emergency_plan')
