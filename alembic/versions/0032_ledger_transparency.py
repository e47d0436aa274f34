"""ledger transparency (issue 16): hash version, the Merkle log, its queue, checkpoints

- `ledger_journal.hash_version` (1 for every entry written before, which keeps verifying by
  the old rule; new entries are written with 2, canonical bytes);
- `ledger_log` (leaves), `ledger_log_node` (complete subtrees), `ledger_log_head` (size and
  frontier), `ledger_checkpoint`: append-only, like the journal;
- `ledger_log_queue` and triggers on `trade`, `permit_quantity` and `permit_event`: every
  insert or update of those rows, by whatever path, queues the record; the ledger appends
  it as a leaf before the transaction commits (ledger.transparency);
- the log is filled with what exists (journal by seq, then trades, permit events and permit
  quantities), so the tree covers history from the start.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY = ("ledger_log", "ledger_log_node", "ledger_checkpoint")
BOUND = {"trade": "CAST(NEW.id AS TEXT)", "permit_event": "CAST(NEW.id AS TEXT)",
         "permit_quantity": "NEW.permit || '/' || NEW.pollutant || '/' || CAST(NEW.year AS TEXT)"}


def upgrade() -> None:
    with op.batch_alter_table("ledger_journal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hash_version", sa.SmallInteger(), nullable=False,
                                      server_default="1"))
    op.create_table(
        "ledger_log",
        sa.Column("leaf_index", BigInt, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(80), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("leaf_data", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_ledger_log_kind_ref", "ledger_log", ["kind", "ref"])
    op.create_table(
        "ledger_log_node",
        sa.Column("level", sa.SmallInteger(), primary_key=True, autoincrement=False),
        sa.Column("idx", BigInt, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "ledger_log_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "ledger_log_queue",
        sa.Column("id", BigInt, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(80), nullable=False),
    )
    op.create_table(
        "ledger_checkpoint",
        sa.Column("id", BigInt, primary_key=True, autoincrement=True),
        sa.Column("origin", sa.String(200), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("timestamp", sa.String(20), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(100), nullable=False),
    )
    op.create_index("ix_ledger_checkpoint_tree_size", "ledger_checkpoint", ["tree_size"])
    op.execute("INSERT INTO ledger_log_head (id, size, frontier) VALUES (1, 0, X'')"
               if op.get_bind().dialect.name == "sqlite" else
               "INSERT INTO ledger_log_head (id, size, frontier) VALUES (1, 0, ''::bytea)")

    from sqlalchemy.orm import Session

    from ledger.transparency import backfill

    backfill(Session(bind=op.get_bind()), runs=False)  # 0037 makes the journal's runs
    _triggers()


def _triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION ledger_log_refuse() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP; "
            "END; $$ LANGUAGE plpgsql")
        for t in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
                       "FOR EACH ROW EXECUTE FUNCTION ledger_log_refuse()")
            op.execute(f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION ledger_log_refuse()")
        op.execute(
            "CREATE FUNCTION ledger_log_enqueue() RETURNS trigger AS $$ BEGIN "
            "IF TG_TABLE_NAME = 'permit_quantity' THEN "
            "INSERT INTO ledger_log_queue (kind, ref) VALUES ('permit_quantity', "
            "NEW.permit || '/' || NEW.pollutant || '/' || NEW.year::text); "
            "ELSE INSERT INTO ledger_log_queue (kind, ref) VALUES (TG_TABLE_NAME, "
            "NEW.id::text); END IF; RETURN NULL; END; $$ LANGUAGE plpgsql")
        for t in BOUND:
            op.execute(f"CREATE TRIGGER {t}_ledger_log AFTER INSERT OR UPDATE ON {t} "
                       "FOR EACH ROW EXECUTE FUNCTION ledger_log_enqueue()")
        return
    for t in APPEND_ONLY:
        for op_name in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {t}_no_{op_name.lower()} BEFORE {op_name} ON {t} "
                       f"BEGIN SELECT RAISE(ABORT, '{t} is append-only'); END")
    for t, ref in BOUND.items():
        for op_name in ("INSERT", "UPDATE"):
            op.execute(f"CREATE TRIGGER {t}_ledger_log_{op_name.lower()} AFTER {op_name} ON "
                       f"{t} BEGIN INSERT INTO ledger_log_queue (kind, ref) VALUES ('{t}', "
                       f"{ref}); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for t in BOUND:
            op.execute(f"DROP TRIGGER IF EXISTS {t}_ledger_log ON {t}")
        op.execute("DROP FUNCTION IF EXISTS ledger_log_enqueue()")
        for t in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}")
            op.execute(f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t}")
        op.execute("DROP FUNCTION IF EXISTS ledger_log_refuse()")
    else:
        for t in BOUND:
            for op_name in ("insert", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {t}_ledger_log_{op_name}")
        for t in APPEND_ONLY:
            for op_name in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {t}_no_{op_name}")
    op.drop_index("ix_ledger_checkpoint_tree_size", table_name="ledger_checkpoint")
    op.drop_table("ledger_checkpoint")
    op.drop_table("ledger_log_queue")
    op.drop_table("ledger_log_head")
    op.drop_table("ledger_log_node")
    op.drop_index("ix_ledger_log_kind_ref", table_name="ledger_log")
    op.drop_table("ledger_log")
    with op.batch_alter_table("ledger_journal", schema=None) as batch_op:
        batch_op.drop_column("hash_version")
