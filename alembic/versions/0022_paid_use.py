"""paid use of rights: bills, unit kind, priced reserve releases

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05

Permits get their unit kind (existing | new | expanded); every permit issued before is an
existing unit (backfilled by the server default). Reserve plans record a price per
pollutant, their grants the price and amount each grantee paid. Paid-use bills are new.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        'paid_use_bill',
        sa.Column('id', BigInt, autoincrement=True, nullable=False),
        sa.Column('enterprise', sa.String(length=18), nullable=False),
        sa.Column('permit', sa.String(length=22), nullable=False),
        sa.Column('pollutant', sa.String(length=10), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('reference', sa.String(length=64), nullable=False),
        sa.Column('qty_kg', sa.BigInteger(), nullable=False),
        sa.Column('price', sa.BigInteger(), nullable=False),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('price_version', sa.String(length=20), nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('paid_by', sa.String(length=64), nullable=True),
        sa.Column('transfer_id', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_paid_use_bill')),
        sa.UniqueConstraint('source', 'reference', name='uq_paid_use_bill_source_reference'),
    )
    with op.batch_alter_table('paid_use_bill') as t:
        t.create_index(t.f('ix_paid_use_bill_enterprise'), ['enterprise'], unique=False)
        t.create_index(t.f('ix_paid_use_bill_permit'), ['permit'], unique=False)
        t.create_index('ix_paid_use_bill_permit_pollutant_year',
                       ['permit', 'pollutant', 'year'], unique=False)
        t.create_index('ix_paid_use_bill_status_due_on', ['status', 'due_on'], unique=False)
    with op.batch_alter_table('permit') as t:
        t.add_column(sa.Column('unit_kind', sa.String(length=10), server_default='existing',
                               nullable=False))
    with op.batch_alter_table('reserve_plan') as t:
        t.add_column(sa.Column('prices', sa.JSON(), nullable=True))
    with op.batch_alter_table('reserve_grant') as t:
        t.add_column(sa.Column('price', sa.BigInteger(), nullable=True))
        t.add_column(sa.Column('amount_fen', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reserve_grant') as t:
        t.drop_column('amount_fen')
        t.drop_column('price')
    with op.batch_alter_table('reserve_plan') as t:
        t.drop_column('prices')
    with op.batch_alter_table('permit') as t:
        t.drop_column('unit_kind')
    with op.batch_alter_table('paid_use_bill') as t:
        t.drop_index('ix_paid_use_bill_status_due_on')
        t.drop_index('ix_paid_use_bill_permit_pollutant_year')
        t.drop_index(t.f('ix_paid_use_bill_permit'))
        t.drop_index(t.f('ix_paid_use_bill_enterprise'))
    op.drop_table('paid_use_bill')
