"""auction schedule and the reason of a market's halt or resumption (issue 18)

- ``auction``: ``announce_at``, ``open_at``, ``close_at`` (UTC instants, entered as Beijing
  times): the server announces, opens and closes the auction at these times
  (`trading.auction_service.run_due_auctions`); all empty for an auction run by hand.
- ``market``: ``state_reason``, ``state_at``, ``state_by``: why, when and by whom the market was
  last halted, resumed or closed; shown on the market page.

Bid statuses gain ``withdrawn`` and ``replaced`` (no schema change: the column is text).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("auction") as b:
        b.add_column(sa.Column("announce_at", sa.DateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("open_at", sa.DateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("close_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("market") as b:
        b.add_column(sa.Column("state_reason", sa.String(200), nullable=True))
        b.add_column(sa.Column("state_at", sa.DateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("state_by", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("market") as b:
        b.drop_column("state_by")
        b.drop_column("state_at")
        b.drop_column("state_reason")
    with op.batch_alter_table("auction") as b:
        b.drop_column("close_at")
        b.drop_column("open_at")
        b.drop_column("announce_at")
