"""violations by article; enforcement hand-over

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05

Each violation carries its kind and article (compliance/enforcement/violations.py); existing rows are
true-up exceedances: quantity_exceedance, Art. 34(1) (the server defaults backfill them). A
violation opened by hand or from a confirmed problem clue records the date it occurred, its
facts, who opened it, the clue, and the count of instances (Art. 37 fines per instance). A
violation handed to enforcement records the receiving department, date and officer, then the
result (text, date, officer).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('violation') as t:
        t.add_column(sa.Column('kind', sa.String(length=32),
                               server_default='quantity_exceedance', nullable=False))
        t.add_column(sa.Column('article', sa.String(length=12), server_default='34(1)',
                               nullable=False))
        t.add_column(sa.Column('instances', sa.Integer(), server_default='1', nullable=False))
        t.add_column(sa.Column('occurred_on', sa.Date(), nullable=True))
        t.add_column(sa.Column('facts', sa.Text(), nullable=True))
        t.add_column(sa.Column('opened_by', sa.String(length=64), nullable=True))
        t.add_column(sa.Column('clue', BIGINT, nullable=True))
        t.add_column(sa.Column('transferred_to', sa.String(length=100), nullable=True))
        t.add_column(sa.Column('transferred_on', sa.Date(), nullable=True))
        t.add_column(sa.Column('transferred_by', sa.String(length=64), nullable=True))
        t.add_column(sa.Column('result', sa.Text(), nullable=True))
        t.add_column(sa.Column('result_on', sa.Date(), nullable=True))
        t.add_column(sa.Column('result_by', sa.String(length=64), nullable=True))
        t.create_index('ix_violation_kind', ['kind'], unique=False)
        t.create_unique_constraint('uq_violation_clue', ['clue'])


def downgrade() -> None:
    with op.batch_alter_table('violation') as t:
        t.drop_constraint('uq_violation_clue', type_='unique')
        t.drop_index('ix_violation_kind')
        for col in ('result_by', 'result_on', 'result', 'transferred_by', 'transferred_on',
                    'transferred_to', 'clue', 'opened_by', 'facts', 'occurred_on',
                    'instances', 'article', 'kind'):
            t.drop_column(col)
