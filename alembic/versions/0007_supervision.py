"""supervision: monitoring imports, daily emissions, report checks

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
    op.create_table('monitoring_import',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('enterprise', sa.String(length=18), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('partial', sa.Boolean(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('accepted', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=True),
    sa.Column('last_day', sa.Date(), nullable=True),
    sa.Column('outlets', sa.Integer(), nullable=False),
    sa.Column('daily_rows', sa.Integer(), nullable=False),
    sa.Column('anomalies', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_import')),
    sa.UniqueConstraint('sha256', name='uq_monitoring_import_sha256')
    )
    with op.batch_alter_table('monitoring_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_import_enterprise'), ['enterprise'], unique=False)

    op.create_table('monitoring_daily',
    sa.Column('permit', sa.String(length=22), nullable=False),
    sa.Column('outlet', sa.String(length=20), nullable=False),
    sa.Column('pollutant', sa.String(length=10), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('emitted_g', sa.BigInteger(), nullable=False),
    sa.Column('hours', sa.Integer(), nullable=False),
    sa.Column('power_kwh', sa.BigInteger(), nullable=False),
    sa.Column('import_id', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('permit', 'outlet', 'pollutant', 'day', name=op.f('pk_monitoring_daily'))
    )
    op.create_table('report_check',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('permit', sa.String(length=22), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=2), nullable=False),
    sa.Column('outlet', sa.String(length=20), nullable=False),
    sa.Column('pollutant', sa.String(length=10), nullable=False),
    sa.Column('reported_kg', sa.BigInteger(), nullable=False),
    sa.Column('monitored_kg', sa.BigInteger(), nullable=True),
    sa.Column('hours', sa.Integer(), nullable=False),
    sa.Column('period_hours', sa.Integer(), nullable=False),
    sa.Column('deviation_pct', sa.String(length=24), nullable=True),
    sa.Column('tolerance_pct', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['permit'], ['permit.code'], name=op.f('fk_report_check_permit_permit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_check')),
    sa.UniqueConstraint('permit', 'year', 'period', 'outlet', 'pollutant', name='uq_report_check_line')
    )
    with op.batch_alter_table('report_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_check_permit'), ['permit'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('report_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_check_permit'))
    op.drop_table('report_check')
    op.drop_table('monitoring_daily')
    with op.batch_alter_table('monitoring_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_import_enterprise'))
    op.drop_table('monitoring_import')
