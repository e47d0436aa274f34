"""trades by market in id order: index (market, id) instead of (market)

The order pipeline reads each market's trades above a watermark in every group
(`trading.store.TradingStore.purchases_after`). With an index on `market` alone PostgreSQL
could read every trade of the market (a bitmap scan of the market index AND-ed with the
primary key range; chosen whenever the column's statistics are stale), which grew with the
market's history: at 117,000 trades one read took 7–30 ms. On (market, id) the read is one
index range scan per market; the index also serves every lookup by market alone.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("trade") as batch_op:
        batch_op.create_index("ix_trade_market_id", ["market", "id"], unique=False)
        batch_op.drop_index("ix_trade_market")


def downgrade() -> None:
    with op.batch_alter_table("trade") as batch_op:
        batch_op.create_index("ix_trade_market", ["market"], unique=False)
        batch_op.drop_index("ix_trade_market_id")
