"""hot append tables without row-level foreign keys (PostgreSQL)

Every order appends about six journal entries, a pending transfer or two, its order row, and
for each trade a trade row and two permit events. On PostgreSQL each foreign key is a lookup
with a row lock per inserted row: timed around each COPY while bench/bench_service.py ran
the order pipeline, they were about a fifth of a group's time (the journal's COPY of 200
entries took 10.7 ms with its two keys, 5.1 ms without).

The rows they point at are, when these rows are written, read and locked by the same
transaction (accounts FOR UPDATE before any journal append, the market FOR UPDATE before any
order, the permit's quantity FOR UPDATE before a trade's events), so the keys never refused
anything the application writes. What they also guarded, that a referenced row cannot be
deleted, is kept by triggers that refuse DELETE and TRUNCATE on ledger_account, market,
enterprise and permit: nothing in the platform deletes those rows.

SQLite keeps its foreign keys: it checks them in-process, cheaply, and dropping one there
means rebuilding the table (the append-only journal with it).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

#: (table, constraint, column, referenced table, referenced column)
_KEYS = (
    ("ledger_journal", "fk_ledger_journal_debit_account_ledger_account", "debit_account",
     "ledger_account", "id"),
    ("ledger_journal", "fk_ledger_journal_credit_account_ledger_account", "credit_account",
     "ledger_account", "id"),
    ("ledger_pending", "fk_ledger_pending_debit_account_ledger_account", "debit_account",
     "ledger_account", "id"),
    ("ledger_pending", "fk_ledger_pending_credit_account_ledger_account", "credit_account",
     "ledger_account", "id"),
    ("trading_order", "fk_trading_order_market_market", "market", "market", "id"),
    ("trading_order", "fk_trading_order_enterprise_enterprise", "enterprise", "enterprise",
     "credit_code"),
    ("trading_order", "fk_trading_order_permit_permit", "permit", "permit", "code"),
    ("trade", "fk_trade_market_market", "market", "market", "id"),
    ("permit_event", "fk_permit_event_permit_permit", "permit", "permit", "code"),
)
_KEPT = ("ledger_account", "market", "enterprise", "permit")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, name, *_ in _KEYS:
        op.drop_constraint(name, table, type_="foreignkey")
    op.execute(
        "CREATE FUNCTION erts_refuse_delete() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION '% rows are never deleted: other records refer to them', "
        "TG_TABLE_NAME USING ERRCODE = 'restrict_violation'; END $$ LANGUAGE plpgsql")
    for table in _KEPT:
        op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION erts_refuse_delete()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION erts_refuse_delete()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _KEPT:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    op.execute("DROP FUNCTION IF EXISTS erts_refuse_delete()")
    for table, name, column, ref_table, ref_column in _KEYS:
        op.create_foreign_key(name, table, ref_table, [column], [ref_column])
