"""penalty procedure: the hearing's notice and the late-payment surcharge

Issue 18 (compliance/enforcement/penalty_procedure.py): a requested hearing is fixed (day and place) and
notified to the enterprise at least 7 working days before it (Administrative Penalty Law
Art. 64(2)); a fine paid after its 15 days (Art. 67) carries the surcharge of Art. 72(1),
recorded with the payment. New nullable columns of `penalty_case` only; existing cases keep
NULL (no hearing fixed, no surcharge paid).

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('penalty_case') as t:
        t.add_column(sa.Column('hearing_fixed_on', sa.Date(), nullable=True))
        t.add_column(sa.Column('hearing_place', sa.String(length=200), nullable=True))
        t.add_column(sa.Column('hearing_notified_on', sa.Date(), nullable=True))
        t.add_column(sa.Column('paid_surcharge_fen', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('penalty_case') as t:
        t.drop_column('paid_surcharge_fen')
        t.drop_column('hearing_notified_on')
        t.drop_column('hearing_place')
        t.drop_column('hearing_fixed_on')
