"""true-up deduction and vintage rules, standard-change recovery

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('true_up_surrender',
    sa.Column('permit', sa.String(length=22), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('pollutant', sa.String(length=10), nullable=False),
    sa.Column('vintage', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('qty_kg', sa.BigInteger(), nullable=False),
    sa.Column('transfer_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('permit', 'year', 'pollutant', 'vintage',
                            name=op.f('pk_true_up_surrender'))
    )
    with op.batch_alter_table('true_up_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deducted_kg', sa.BigInteger(), server_default='0',
                                      nullable=False))
    with op.batch_alter_table('violation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deducted_kg', sa.BigInteger(), server_default='0',
                                      nullable=False))
    with op.batch_alter_table('standard_flag', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recovery_kg', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('decision', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('moved_kg', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('price', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('amount_fen', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('transfer_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('decided_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('standard_flag', schema=None) as batch_op:
        for col in ('decided_at', 'decided_by', 'transfer_id', 'amount_fen', 'price',
                    'moved_kg', 'decision', 'recovery_kg'):
            batch_op.drop_column(col)
    with op.batch_alter_table('violation', schema=None) as batch_op:
        batch_op.drop_column('deducted_kg')
    with op.batch_alter_table('true_up_line', schema=None) as batch_op:
        batch_op.drop_column('deducted_kg')
    op.drop_table('true_up_surrender')
