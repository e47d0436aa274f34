"""ledger reconciliation runs, discrepancies and account freeze history

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('ledger_reconciliation',
    sa.Column('id', BigInt, autoincrement=True, nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('head_seq', sa.BigInteger(), nullable=False),
    sa.Column('entries', sa.BigInteger(), nullable=False),
    sa.Column('accounts', sa.Integer(), nullable=False),
    sa.Column('chain_ok', sa.Boolean(), nullable=False),
    sa.Column('first_bad_seq', sa.BigInteger(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('discrepancies', sa.Integer(), nullable=False),
    sa.Column('frozen', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_reconciliation'))
    )
    op.create_table('ledger_discrepancy',
    sa.Column('id', BigInt, autoincrement=True, nullable=False),
    sa.Column('run', BigInt, nullable=False),
    sa.Column('account', BigInt, nullable=False),
    sa.Column('field', sa.String(length=20), nullable=False),
    sa.Column('stored', sa.BigInteger(), nullable=False),
    sa.Column('journal', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['run'], ['ledger_reconciliation.id'], name=op.f('fk_ledger_discrepancy_run_ledger_reconciliation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_discrepancy'))
    )
    with op.batch_alter_table('ledger_discrepancy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_discrepancy_run'), ['run'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_discrepancy_account'), ['account'], unique=False)

    op.create_table('ledger_account_flag',
    sa.Column('id', BigInt, autoincrement=True, nullable=False),
    sa.Column('account', BigInt, nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('run', BigInt, nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account'], ['ledger_account.id'], name=op.f('fk_ledger_account_flag_account_ledger_account')),
    sa.ForeignKeyConstraint(['run'], ['ledger_reconciliation.id'], name=op.f('fk_ledger_account_flag_run_ledger_reconciliation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_account_flag'))
    )
    with op.batch_alter_table('ledger_account_flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_account_flag_account'), ['account'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ledger_account_flag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_account_flag_account'))
    op.drop_table('ledger_account_flag')
    with op.batch_alter_table('ledger_discrepancy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_discrepancy_account'))
        batch_op.drop_index(batch_op.f('ix_ledger_discrepancy_run'))
    op.drop_table('ledger_discrepancy')
    op.drop_table('ledger_reconciliation')
