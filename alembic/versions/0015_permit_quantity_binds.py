"""permit quantity binds from issuance; true-up against the permit

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05

The permitted quantity is the permit's legal limit from issuance (DOMAIN §3): a quantity not
yet confirmed holds its allocated quantity (plus what trades and releases added, which it
held before), and surrender at the true-up no longer lowers it, so the kg surrendered are
added back. Deductions from the next year still lower that year's quantity. The true-up
records the limit it judged, what banking wrote into it and any early-run override reason.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('true_up') as t:
        t.add_column(sa.Column('override_reason', sa.Text(), nullable=True))
    with op.batch_alter_table('true_up_line') as t:
        t.add_column(sa.Column('permitted_kg', sa.BigInteger(), nullable=True))
        t.add_column(sa.Column('banked_kg', sa.BigInteger(), server_default='0',
                               nullable=False))
    op.execute("UPDATE permit_quantity SET permitted_kg = permitted_kg + allocated_kg "
               "WHERE NOT confirmed")
    op.execute("UPDATE permit_quantity SET permitted_kg = permitted_kg + COALESCE(("
               "SELECT -SUM(e.qty_kg) FROM permit_event AS e WHERE e.permit = "
               "permit_quantity.permit AND e.pollutant = permit_quantity.pollutant AND "
               "e.year = permit_quantity.year AND e.kind = 'surrender'), 0) WHERE confirmed")


def downgrade() -> None:
    op.execute("UPDATE permit_quantity SET permitted_kg = permitted_kg - COALESCE(("
               "SELECT -SUM(e.qty_kg) FROM permit_event AS e WHERE e.permit = "
               "permit_quantity.permit AND e.pollutant = permit_quantity.pollutant AND "
               "e.year = permit_quantity.year AND e.kind = 'surrender'), 0) WHERE confirmed")
    op.execute("UPDATE permit_quantity SET permitted_kg = permitted_kg - allocated_kg "
               "WHERE NOT confirmed")
    with op.batch_alter_table('true_up_line') as t:
        t.drop_column('banked_kg')
        t.drop_column('permitted_kg')
    with op.batch_alter_table('true_up') as t:
        t.drop_column('override_reason')
