"""journal leaves as runs: one row per append instead of one row per entry

A journal entry's leaf was a `ledger_log` row of its own (index, kind, ref, hash and the
entry's canonical bytes, under two indexes): per entry the journal was written twice. The
leaves of one append's journal entries are consecutive, and so are their seqs, so they are
now one `ledger_log_run` row (first leaf, first seq, count, the leaf hashes end to end); a
journal leaf's data is its entry's row, read when a proof is answered. `ledger_log` keeps the
bound records (trades, permit quantities, permit events), whose rows may change later.

Upgrade: the journal leaves already in `ledger_log` become runs (grouped where both the
leaf index and the seq go up by one) and leave `ledger_log`; the append-only triggers are
lifted for that statement only. The leaf hashes are moved, not recomputed: what the log
kept stays what it kept. Downgrade: the reverse, each leaf's data rebuilt from its entry.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CHUNK = 50_000
RUN_MAX = 240  # ledger.log_store.RUN_MAX as this revision made it


def _pg() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def upgrade() -> None:
    op.create_table(
        "ledger_log_run",
        sa.Column("first_index", BigInt, autoincrement=False, nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("first_index", name="pk_ledger_log_run"),
        sa.UniqueConstraint("first_seq", name="uq_ledger_log_run_first_seq"),
    )
    if _pg():  # a run (at most 240 hashes, 7,680 bytes) stays in its row: no TOAST, and
        # hashes do not compress
        op.execute("ALTER TABLE ledger_log_run ALTER COLUMN hashes SET STORAGE PLAIN")
    bind = op.get_bind()
    runs = sa.table("ledger_log_run", sa.column("first_index"), sa.column("first_seq"),
                    sa.column("n"), sa.column("hashes"))
    batch: list[dict[str, object]] = []
    for run in _runs(bind):
        batch.append(run)
        if len(batch) >= 1000:
            bind.execute(sa.insert(runs), batch)
            batch = []
    if batch:
        bind.execute(sa.insert(runs), batch)
    _lifted("ledger_log", "DELETE FROM ledger_log WHERE kind = 'journal'")
    _append_only("ledger_log_run")


def _runs(bind: sa.Connection) -> Iterator[dict[str, object]]:
    """The journal leaves of `ledger_log` as maximal runs, in leaf order."""
    run: dict[str, object] | None = None
    hashes: list[bytes] = []
    last = -1
    while True:
        rows = bind.execute(sa.text(
            "SELECT leaf_index, ref, leaf_hash FROM ledger_log WHERE kind = 'journal' "
            "AND leaf_index > :last ORDER BY leaf_index LIMIT :n"),
            dict(last=last, n=CHUNK)).all()
        if not rows:
            break
        for index, ref, h in rows:
            seq = int(ref)
            if (run is not None and len(hashes) < RUN_MAX
                    and index == int(run["first_index"]) + len(hashes)  # type: ignore[call-overload]
                    and seq == int(run["first_seq"]) + len(hashes)):  # type: ignore[call-overload]
                hashes.append(bytes(h))
                continue
            if run is not None:
                yield dict(run, n=len(hashes), hashes=b"".join(hashes))
            run, hashes = dict(first_index=index, first_seq=seq), [bytes(h)]
        last = int(rows[-1][0])
    if run is not None:
        yield dict(run, n=len(hashes), hashes=b"".join(hashes))


def _lifted(table: str, sql: str) -> None:
    """Run `sql` on an append-only table with its refusal lifted for that statement."""
    if _pg():
        op.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        op.execute(sql)
        op.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")
        return
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    op.execute(sql)
    op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
               f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def _append_only(table: str) -> None:
    """The refusals of migration 0032, on `table`."""
    if _pg():
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION ledger_log_refuse()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION ledger_log_refuse()")
        return
    for op_name in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER {table}_no_{op_name.lower()} BEFORE {op_name} ON {table} "
                   f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def downgrade() -> None:
    from sqlalchemy.orm import Session

    from ledger.canonical import row_leaf
    from ledger.store import LedgerStore

    bind = op.get_bind()
    leaves = sa.table("ledger_log", sa.column("leaf_index"), sa.column("kind"),
                      sa.column("ref"), sa.column("leaf_hash"), sa.column("leaf_data"))
    runs = bind.execute(sa.text(
        "SELECT first_index, first_seq, n, hashes FROM ledger_log_run ORDER BY first_seq")
    ).all()
    where = {int(seq) + k: (int(first) + k, bytes(h)[32 * k:32 * k + 32])
             for first, seq, n, h in runs for k in range(int(n))}
    store = LedgerStore(Session(bind=bind))
    off = store.journal_time_epoch
    for rows in store.journal_rows(chunk=CHUNK):
        out = [dict(leaf_index=where[r[0]][0], kind="journal", ref=str(r[0]),
                    leaf_hash=where[r[0]][1], leaf_data=row_leaf(r, off))
               for r in rows if r[0] in where]
        if out:
            bind.execute(sa.insert(leaves), out)
    if _pg():
        op.execute("DROP TRIGGER IF EXISTS ledger_log_run_append_only ON ledger_log_run")
        op.execute("DROP TRIGGER IF EXISTS ledger_log_run_no_truncate ON ledger_log_run")
    else:
        for op_name in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS ledger_log_run_no_{op_name}")
    op.drop_table("ledger_log_run")
