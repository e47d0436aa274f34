"""client-chosen ids scoped to their enterprise

Issue 19: a client-chosen order id was the order's id, one namespace for every enterprise,
so "order id X is taken" told a trader that another enterprise had used X. From this
revision an order's `id` is always the platform's (random, or derived from the enterprise
and the client's id: `trading.service.new_order_id`) and the id a client chooses is kept in `trading_order.client_id` (String(32), nullable), unique per
(enterprise, client_id) only (`uq_trading_order_enterprise_client_id`; NULLs do not clash
on SQLite or PostgreSQL).

Existing orders: their `id` may have been chosen by the client, and nothing records which,
so every existing id of at most 32 characters is copied into `client_id` (ids were globally
unique, so the copies are unique per enterprise). A client that repeats an old id is then
still told it is taken, and cancelling or replacing by it resolves to the same order (its
platform id is the same string).

Listings, negotiated transfers and auction bids keep one id column: a trader may no longer
choose those ids (the API refuses `listing_id`, `transfer_id`, `bid_id` from a trader with
422 `client_id_not_allowed`), so no column is needed for them.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("trading_order") as batch:
        batch.add_column(sa.Column("client_id", sa.String(32), nullable=True))
    op.execute("UPDATE trading_order SET client_id = id WHERE length(id) <= 32")
    with op.batch_alter_table("trading_order") as batch:
        batch.create_unique_constraint("uq_trading_order_enterprise_client_id",
                                       ["enterprise", "client_id"])


def downgrade() -> None:
    with op.batch_alter_table("trading_order") as batch:
        batch.drop_constraint("uq_trading_order_enterprise_client_id", type_="unique")
        batch.drop_column("client_id")
