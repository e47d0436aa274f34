"""the transparency log's queue announces itself (issue 16)

On PostgreSQL, a statement that inserts or updates a bound record (trade, permit_quantity,
permit_event) now also raises one NOTICE, `erts:log-queued`, after the rows' queue triggers
ran (a statement-level trigger). The platform's connections watch for it
(`ledger.transparency`), so a commit that wrote no bound record skips the queue altogether
instead of reading it on every commit. SQLite is unchanged (its queue read is in-process).

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

BOUND = ("trade", "permit_event", "permit_quantity")
NOTICE = "erts:log-queued"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE FUNCTION ledger_log_notice() RETURNS trigger AS $$ BEGIN "
               f"RAISE NOTICE '{NOTICE}'; RETURN NULL; END; $$ LANGUAGE plpgsql")
    for t in BOUND:
        op.execute(f"CREATE TRIGGER {t}_ledger_log_notice AFTER INSERT OR UPDATE ON {t} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION ledger_log_notice()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for t in BOUND:
        op.execute(f"DROP TRIGGER IF EXISTS {t}_ledger_log_notice ON {t}")
    op.execute("DROP FUNCTION IF EXISTS ledger_log_notice()")
