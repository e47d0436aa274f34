"""allocation: computation runs and their changes, scenarios and scenario runs, standards
and the permits they flag, reserve requests, plans and grants

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reserve_plan',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('applicants', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_by', sa.String(length=64), nullable=True),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('problem', sa.JSON(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reserve_plan'))
    )
    op.create_table('scenario',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario')),
    sa.UniqueConstraint('name', name=op.f('uq_scenario_name'))
    )
    op.create_table('computation_run',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('parameter_version', sa.String(length=40), nullable=False),
    sa.Column('scenario', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('facilities', sa.Integer(), nullable=False),
    sa.Column('quantities', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.Column('held_back', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['scenario'], ['scenario.id'], name=op.f('fk_computation_run_scenario_scenario')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_computation_run'))
    )
    op.create_table('scenario_run',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('scenario', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('run_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('parameter_version', sa.String(length=40), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['scenario'], ['scenario.id'], name=op.f('fk_scenario_run_scenario_scenario')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_run'))
    )
    with op.batch_alter_table('scenario_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scenario_run_scenario'), ['scenario'], unique=False)

    op.create_table('standard',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('effective', sa.Date(), nullable=False),
    sa.Column('limits', sa.JSON(), nullable=False),
    sa.Column('parameter_version', sa.String(length=40), nullable=False),
    sa.Column('registered_by', sa.String(length=64), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('applied_run', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['applied_run'], ['computation_run.id'], name=op.f('fk_standard_applied_run_computation_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standard')),
    sa.UniqueConstraint('name', name=op.f('uq_standard_name'))
    )
    op.create_table('computation_change',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('run', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('permit', sa.String(length=22), nullable=False),
    sa.Column('pollutant', sa.String(length=10), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('old_spec_kg', sa.BigInteger(), nullable=False),
    sa.Column('new_spec_kg', sa.BigInteger(), nullable=False),
    sa.Column('old_share_kg', sa.BigInteger(), nullable=True),
    sa.Column('new_share_kg', sa.BigInteger(), nullable=True),
    sa.Column('old_cap_kg', sa.BigInteger(), nullable=False),
    sa.Column('new_cap_kg', sa.BigInteger(), nullable=False),
    sa.Column('old_allocated_kg', sa.BigInteger(), nullable=False),
    sa.Column('new_allocated_kg', sa.BigInteger(), nullable=False),
    sa.Column('old_binding', sa.String(length=20), nullable=False),
    sa.Column('new_binding', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['permit'], ['permit.code'], name=op.f('fk_computation_change_permit_permit')),
    sa.ForeignKeyConstraint(['run'], ['computation_run.id'], name=op.f('fk_computation_change_run_computation_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_computation_change'))
    )
    with op.batch_alter_table('computation_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_computation_change_permit'), ['permit'], unique=False)
        batch_op.create_index(batch_op.f('ix_computation_change_run'), ['run'], unique=False)

    op.create_table('reserve_grant',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('plan', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('permit', sa.String(length=22), nullable=False),
    sa.Column('pollutant', sa.String(length=10), nullable=False),
    sa.Column('zone', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('granted_kg', sa.BigInteger(), nullable=False),
    sa.Column('released_kg', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['permit'], ['permit.code'], name=op.f('fk_reserve_grant_permit_permit')),
    sa.ForeignKeyConstraint(['plan'], ['reserve_plan.id'], name=op.f('fk_reserve_grant_plan_reserve_plan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reserve_grant'))
    )
    with op.batch_alter_table('reserve_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reserve_grant_permit'), ['permit'], unique=False)
        batch_op.create_index(batch_op.f('ix_reserve_grant_plan'), ['plan'], unique=False)

    op.create_table('reserve_request',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('permit', sa.String(length=22), nullable=False),
    sa.Column('pollutant', sa.String(length=10), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('qty_kg', sa.BigInteger(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('min_pct', sa.Integer(), nullable=False),
    sa.Column('all_or_nothing', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['permit'], ['permit.code'], name=op.f('fk_reserve_request_permit_permit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reserve_request'))
    )
    with op.batch_alter_table('reserve_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reserve_request_permit'), ['permit'], unique=False)

    op.create_table('standard_flag',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('standard', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('permit', sa.String(length=22), nullable=False),
    sa.Column('pollutant', sa.String(length=10), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('zone', sa.String(length=20), nullable=False),
    sa.Column('old_spec_kg', sa.BigInteger(), nullable=False),
    sa.Column('new_spec_kg', sa.BigInteger(), nullable=False),
    sa.Column('old_cap_kg', sa.BigInteger(), nullable=False),
    sa.Column('new_cap_kg', sa.BigInteger(), nullable=False),
    sa.Column('old_allocated_kg', sa.BigInteger(), nullable=False),
    sa.Column('new_allocated_kg', sa.BigInteger(), nullable=False),
    sa.Column('new_binding', sa.String(length=20), nullable=False),
    sa.Column('permitted_kg', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['permit'], ['permit.code'], name=op.f('fk_standard_flag_permit_permit')),
    sa.ForeignKeyConstraint(['standard'], ['standard.id'], name=op.f('fk_standard_flag_standard_standard')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standard_flag'))
    )
    with op.batch_alter_table('standard_flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standard_flag_permit'), ['permit'], unique=False)
        batch_op.create_index(batch_op.f('ix_standard_flag_standard'), ['standard'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('standard_flag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standard_flag_standard'))
        batch_op.drop_index(batch_op.f('ix_standard_flag_permit'))

    op.drop_table('standard_flag')
    with op.batch_alter_table('reserve_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reserve_request_permit'))

    op.drop_table('reserve_request')
    with op.batch_alter_table('reserve_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reserve_grant_plan'))
        batch_op.drop_index(batch_op.f('ix_reserve_grant_permit'))

    op.drop_table('reserve_grant')
    with op.batch_alter_table('computation_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_computation_change_run'))
        batch_op.drop_index(batch_op.f('ix_computation_change_permit'))

    op.drop_table('computation_change')
    op.drop_table('standard')
    with op.batch_alter_table('scenario_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scenario_run_scenario'))

    op.drop_table('scenario_run')
    op.drop_table('computation_run')
    op.drop_table('scenario')
    op.drop_table('reserve_plan')
