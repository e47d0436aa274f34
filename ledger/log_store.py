"""The transparency log's SQL: leaves, complete subtree nodes, the head (size and frontier),
the queue of bound records, and checkpoints.

Appends run under the journal head lock (`LedgerStore.lock_head`): the log and the journal
have one order. An append reads the head row once per transaction (then keeps the frontier
in `session.info` for that transaction), hashes O(log n) nodes per leaf and inserts the
leaves, the new complete nodes and the new head. Proofs read only the O(log n) stored nodes
they need (`ledger.merkle.*_plan`).

The bound records (trades, permit quantities, permit events) are read through the private
`Table` mirrors below (their columns as the canonical layout names them), so the ledger
imports neither trading nor allocation.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from ledger import merkle
from ledger.canonical import LAYOUTS, TABLES, record_leaf
from ledger.tables import (
    CheckpointRow,
    LogHeadRow,
    LogLeafRow,
    LogNodeRow,
    LogQueueRow,
    LogRunRow,
)
from storage.bulk import COPY_FROM, driver_connection, insert_rows, pg_chunks, pg_rows, pg_run

L: Table = LogLeafRow.__table__  # type: ignore[assignment]
R: Table = LogRunRow.__table__  # type: ignore[assignment]
N: Table = LogNodeRow.__table__  # type: ignore[assignment]
LH: Table = LogHeadRow.__table__  # type: ignore[assignment]
Q: Table = LogQueueRow.__table__  # type: ignore[assignment]
C: Table = CheckpointRow.__table__  # type: ignore[assignment]
CHUNK = 2000
_CURSORS = itertools.count()  # server-side cursors' names: several may be open at once

_mirror = MetaData()
_TZ = DateTime(timezone=True)
#: read-only mirrors of the bound tables (only the columns the canonical bytes hold)
RECORD_TABLES: dict[str, Table] = {
    "trade": Table(
        "trade", _mirror, Column("id", BigInteger, primary_key=True), Column("market", String),
        Column("buy_order", String), Column("sell_order", String), Column("buyer", String),
        Column("seller", String), Column("buyer_permit", String),
        Column("seller_permit", String), Column("price", BigInteger), Column("qty", BigInteger),
        Column("value_fen", BigInteger), Column("aggressor", String), Column("at", _TZ),
        Column("fee_buyer", BigInteger), Column("fee_seller", BigInteger),
        Column("venue", String)),
    "permit_quantity": Table(
        "permit_quantity", _mirror, Column("permit", String, primary_key=True),
        Column("pollutant", String, primary_key=True), Column("year", Integer, primary_key=True),
        Column("zone", String), Column("spec_kg", BigInteger), Column("eia_kg", BigInteger),
        Column("share_kg", BigInteger), Column("binding", String), Column("cap_kg", BigInteger),
        Column("allocated_kg", BigInteger), Column("permitted_kg", BigInteger),
        Column("confirmed", Boolean)),
    "permit_event": Table(
        "permit_event", _mirror, Column("id", BigInteger, primary_key=True),
        Column("permit", String), Column("pollutant", String), Column("year", Integer),
        Column("kind", String), Column("qty_kg", BigInteger), Column("counterparty", String),
        Column("price", BigInteger), Column("reference", String),
        Column("permitted_after_kg", BigInteger), Column("at", _TZ), Column("note", Text)),
}
assert all(tuple(c.name for c in t.columns) == LAYOUTS[k][1] and t.name == TABLES[k]
           for k, t in RECORD_TABLES.items())

Leaf = tuple[str, str, bytes]  # kind, ref, leaf data
#: a stored leaf: kind, ref, data (None for a journal leaf: its entry's row), leaf hash
StoredLeaf = tuple[str, str, bytes | None, bytes]
_PG_QUEUED = "SELECT id, kind, ref FROM ledger_log_queue ORDER BY id"
_PG_TAKE_QUEUE = "DELETE FROM ledger_log_queue RETURNING id, kind, ref"
#: the log's part of a write, as CTEs (`LogPart.ctes` names those a write needs; the
#: journal's statement adds them to its own). Bytes go in binary (`%b`): a bytea array in
#: text is hex-escaped and parsed again (15 ms against 1.4 ms for a run of 8,000 hashes).
_PG_CTES = {
    "lg": "lg AS (INSERT INTO ledger_log (leaf_index, kind, ref, leaf_hash, leaf_data) "
          "SELECT * FROM unnest(%(l_index)s::bigint[], %(l_kind)s::varchar[], "
          "%(l_ref)s::varchar[], %(l_hash)b::bytea[], %(l_data)b::bytea[]))",
    "rn": "rn AS (INSERT INTO ledger_log_run (first_index, first_seq, n, hashes) "
          "SELECT * FROM unnest(%(r_first)s::bigint[], %(r_seq)s::bigint[], %(r_n)s::int[], "
          "%(r_hashes)b::bytea[]))",
    # one run (a write of up to RUN_MAX journal entries, the usual case): its values as they
    # are, quicker for the server to plan and for the driver to send than arrays of one
    "rn1": "rn AS (INSERT INTO ledger_log_run (first_index, first_seq, n, hashes) "
           "VALUES (%(r1_first)s::bigint, %(r1_seq)s::bigint, %(r1_n)s::int, "
           "%(r1_hashes)b::bytea))",
    # the new nodes as ranges (level, first idx, count, offset of the first's hash in
    # n_hashes, all the hashes end to end): a few array elements, not three per node
    "nd": "nd AS (INSERT INTO ledger_log_node (level, idx, hash) "
          "SELECT r.lv, r.first + g.k, substr(%(n_hashes)b, (r.off + g.k) * 32 + 1, 32) "
          "FROM unnest(%(n_level)s::smallint[], %(n_first)s::bigint[], %(n_count)s::int[], "
          "%(n_off)s::int[]) AS r(lv, first, cnt, off) "
          "CROSS JOIN LATERAL generate_series(0, r.cnt - 1) AS g(k))",
    "lh": "lh AS (UPDATE ledger_log_head SET size = %(l_size)s, frontier = %(l_frontier)b "
          "WHERE id = 1)",
}
#: the most leaves of one run row: its hashes (7,680 bytes) stay in the row on PostgreSQL
#: (storage PLAIN, migration 0037: no TOAST to write or to read a proof's slice from)
RUN_MAX = 240
#: the most new nodes written inside the statement (more: by COPY); a batch of 8,000 journal
#: entries makes about 500
NODES_INLINE = 1_000
_PG_COPY_LEAVES = ("COPY ledger_log (leaf_index, kind, ref, leaf_hash, leaf_data) FROM STDIN "
                   "(FORMAT BINARY)")
_PG_COPY_NODES = "COPY ledger_log_node (level, idx, hash) FROM STDIN (FORMAT BINARY)"
#: the lowest level of the complete subtrees kept in `ledger_log_node` (the "stratum"): a
#: node below it is the root of at most 2**(STRATUM - 1) leaves, hashed from their stored
#: leaf hashes when a proof needs it (a proof needs at most one per level, so at most
#: 2**STRATUM leaf hashes more in its query). Appends write n / 2**STRATUM node rows per n
#: leaves instead of 2n. (Databases filled before keep their lower nodes; they are not read.)
STRATUM = 4


#: (seq, leaf index) of journal entries: each seq's run, the last starting at or before it
_PG_JOURNAL_INDEXES = (
    "SELECT q.seq, r.first_index + (q.seq - r.first_seq) FROM unnest(%s::bigint[]) AS q(seq) "
    "CROSS JOIN LATERAL (SELECT first_index, first_seq, n FROM ledger_log_run "
    "WHERE first_seq <= q.seq ORDER BY first_seq DESC LIMIT 1) AS r "
    "WHERE q.seq < r.first_seq + r.n")


#: what a proof reads (`LogStore._leaf_hashes`, `._pg_nodes_and_leaf`), in one statement: the
#: leaf rows among `wanted`, the data of `leaf` only; for each range [lo, hi] of consecutive
#: indexes, the slice of each run meeting it (the runs from the last one starting at or before
#: lo), as (first index, hashes, 'journal', first seq, NULL, 1); the stored nodes (lv, ix), as
#: (idx, hash, 'node', level, NULL, 2)
_PG_PROOF_READ = (
    "SELECT leaf_index, leaf_hash, kind, ref, CASE WHEN leaf_index = %(leaf)s THEN leaf_data "
    "END, 0 FROM ledger_log WHERE leaf_index = ANY(%(wanted)s::bigint[]) "
    "UNION ALL "
    "SELECT r.first_index + s.skip, substr(r.hashes, s.skip * 32 + 1, (s.stop - s.skip) * 32), "
    "'journal', (r.first_seq + s.skip)::text, NULL::bytea, 1 "
    "FROM unnest(%(lo)s::bigint[], %(hi)s::bigint[]) AS q(lo, hi) "
    "CROSS JOIN LATERAL (SELECT first_index, first_seq, n, hashes FROM ledger_log_run "
    "WHERE first_index >= coalesce((SELECT max(first_index) FROM ledger_log_run "
    "WHERE first_index <= q.lo), q.lo) AND first_index <= q.hi AND first_index + n > q.lo) "
    "AS r CROSS JOIN LATERAL (SELECT greatest(q.lo - r.first_index, 0)::int AS skip, "
    "least(q.hi + 1 - r.first_index, r.n)::int AS stop) AS s "
    "UNION ALL "
    "SELECT n.idx, n.hash, 'node', n.level::text, NULL::bytea, 2 "
    "FROM unnest(%(lv)s::smallint[], %(ix)s::bigint[]) AS k(lv, ix) "
    "JOIN ledger_log_node AS n ON n.level = k.lv AND n.idx = k.ix")


def _low_leaves(low: Iterable[tuple[int, int]], leaf: int | None) -> list[int]:
    """The leaves under the low nodes, and `leaf`, in order."""
    return sorted({j for lv, i in low for j in range(i << lv, (i + 1) << lv)}
                  | ({leaf} if leaf is not None else set()))


def _ranges(indexes: Sequence[int]) -> list[list[int]]:
    """Sorted indexes as [lo, hi] ranges of consecutive ones."""
    ranges: list[list[int]] = []
    for j in indexes:
        if ranges and ranges[-1][1] == j - 1:
            ranges[-1][1] = j
        else:
            ranges.append([j, j])
    return ranges


def _leaf_rows(rows: Iterable[Sequence[Any]]
               ) -> Iterator[tuple[int, str, str, bytes, bytes | None]]:
    """Rows of `_PG_PROOF_READ`'s first two kinds as leaves (a run's slice: its leaves)."""
    for index, h, kind, ref, d, run in rows:
        if not run:
            yield int(index), str(kind), str(ref), bytes(h), None if d is None else bytes(d)
            continue
        blob, first, seq = bytes(h), int(index), int(ref)
        for k in range(len(blob) // 32):
            yield first + k, "journal", str(seq + k), blob[32 * k:32 * k + 32], None


@cache
def _pg_record_sql(kind: str) -> str:
    """The rows of some records of `kind`, their columns in the canonical layout's order:
    by id, or (permit quantities) by (permit, pollutant, year)."""
    t = RECORD_TABLES[kind]
    cols = ", ".join(f'"{c.name}"' for c in t.columns)
    if kind == "permit_quantity":
        return (f"SELECT {cols} FROM {t.name} WHERE (permit, pollutant, year) IN "
                "(SELECT * FROM unnest(%s::varchar[], %s::varchar[], %s::int[]))")
    return f"SELECT {cols} FROM {t.name} WHERE id = ANY(%s::bigint[])"


@dataclass
class LogPart:
    """Leaves hashed onto the tree, not yet written: columns of the new leaf rows (bound
    records), of the new journal runs and of the new nodes, and the new head."""

    leaf_index: list[int]
    kind: list[str]
    ref: list[str]
    leaf_hash: list[bytes]
    leaf_data: list[bytes]
    level: list[int]
    idx: list[int]
    hash: list[bytes]
    size: int
    frontier: bytes
    run_first: list[int] = field(default_factory=list)
    run_seq: list[int] = field(default_factory=list)
    run_n: list[int] = field(default_factory=list)
    run_hashes: list[bytes] = field(default_factory=list)

    def params(self) -> dict[str, object]:
        lv: list[int] = []
        first: list[int] = []
        count: list[int] = []
        off: list[int] = []
        for k, (level, idx) in enumerate(zip(self.level, self.idx, strict=True)):
            if count and level == lv[-1] and idx == first[-1] + count[-1]:
                count[-1] += 1
                continue
            lv.append(level)
            first.append(idx)
            count.append(1)
            off.append(k)
        return dict(l_index=self.leaf_index, l_kind=self.kind, l_ref=self.ref,
                    l_hash=self.leaf_hash, l_data=self.leaf_data, n_level=lv, n_first=first,
                    n_count=count, n_off=off, n_hashes=b"".join(self.hash),
                    l_size=self.size, l_frontier=self.frontier, r_first=self.run_first,
                    r_seq=self.run_seq, r_n=self.run_n, r_hashes=self.run_hashes,
                    **(dict(r1_first=self.run_first[0], r1_seq=self.run_seq[0],
                            r1_n=self.run_n[0], r1_hashes=self.run_hashes[0])
                       if len(self.run_first) == 1 else {}))

    def ctes(self) -> str:
        """The CTEs that write this part (PostgreSQL): only the kinds of row it has."""
        names = [n for n, rows in (("lg", self.leaf_index), ("rn", self.run_first),
                                   ("nd", self.level)) if rows]
        if len(self.run_first) == 1:
            names[names.index("rn")] = "rn1"
        return ", ".join(_PG_CTES[n] for n in [*names, "lh"])


#: PostgreSQL's binary COPY format: signature, flags, header extension; rows of (field
#: count, then per field its length and bytes, big-endian); the trailer
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_TRAILER = b"\xff\xff"
_LEAF_HEAD = struct.Struct(">hiq").pack  # 5 fields, 8 bytes of leaf_index, the index
_NODE_ROW = struct.Struct(">hihiqi").pack  # 3 fields, level (2 bytes), idx (8), hash's length
_LEN = struct.Struct(">i").pack
_H32 = _LEN(32)


def _binary_leaves(part: LogPart) -> bytes:
    """The leaves of `part` as one binary COPY stream (formatting them row by row through
    the driver cost more than the rest of the log's write)."""
    out = [_COPY_SIGNATURE]
    texts: dict[str, bytes] = {}
    for idx, kind, ref, h, data in zip(part.leaf_index, part.kind, part.ref, part.leaf_hash,
                                       part.leaf_data, strict=True):
        k = texts.get(kind)
        if k is None:
            b = kind.encode()
            k = texts[kind] = _LEN(len(b)) + b
        r = ref.encode()
        out += (_LEAF_HEAD(5, 8, idx), k, _LEN(len(r)), r, _H32, h, _LEN(len(data)), data)
    out.append(_COPY_TRAILER)
    return b"".join(out)


def _binary_nodes(part: LogPart) -> bytes:
    out = [_COPY_SIGNATURE]
    for lv, idx, h in zip(part.level, part.idx, part.hash, strict=True):
        out += (_NODE_ROW(3, 2, lv, 8, idx, 32), h)
    out.append(_COPY_TRAILER)
    return b"".join(out)


def _frontier(size: int, blob: bytes) -> merkle.Frontier:
    return merkle.Frontier(size, [bytes(blob[i:i + 32]) for i in range(0, len(blob), 32)])


class LogStore:
    def __init__(self, session: Session) -> None:
        self.s = session

    # -- appending ------------------------------------------------------------------------
    def _cached(self) -> merkle.Frontier:
        tx = self.s.get_transaction()
        got = self.s.info.get("erts_log")
        if tx is not None and got is not None and got[0] is tx:
            return got[1]  # type: ignore[no-any-return]
        f = self.frontier()
        self.s.info["erts_log"] = (tx, f)
        return f

    def frontier(self) -> merkle.Frontier:
        row = self.s.execute(select(LH.c.size, LH.c.frontier).where(LH.c.id == 1)).first()
        if row is None:
            self.s.execute(insert(LH).values(id=1, size=0, frontier=b""))
            return merkle.Frontier()
        return _frontier(int(row.size), bytes(row.frontier))

    def remember(self, size: int, frontier: bytes) -> None:
        """The head as read with the journal head lock (PostgreSQL: the same statement), kept
        for this transaction's appends."""
        self.s.info["erts_log"] = (self.s.get_transaction(), _frontier(size, frontier))

    def prepare(self, leaves: Sequence[Leaf], *, runs: bool = True,
                journal: tuple[int, list[bytes]] | None = None) -> LogPart | None:
        """Hash leaves onto the tree (the caller holds the journal head lock): the rows to
        write (`write`, or inside the journal's own statement on PostgreSQL). Journal leaves
        whose indexes and seqs both go up by one are one run row (`runs`; without it, a leaf
        row each, as before migration 0037). `journal`: (first seq, leaf hashes) of
        consecutive journal entries already hashed, appended first, as one run."""
        first_seq, ahead = journal if journal is not None else (0, [])
        if not leaves and not ahead:
            return None
        f = self._cached()
        first = f.size
        hashes = [merkle.leaf_hash(data) for _, _, data in leaves]
        made = f.extend(ahead + hashes if ahead else hashes, keep_from=STRATUM)
        part = LogPart([], [], [], [], [], [m[0] for m in made], [m[1] for m in made],
                       [m[2] for m in made], f.size, b"".join(f.hashes))
        for k in range(0, len(ahead), RUN_MAX):
            part.run_first.append(first + k)
            part.run_seq.append(first_seq + k)
            part.run_n.append(len(ahead[k:k + RUN_MAX]))
            part.run_hashes.append(b"".join(ahead[k:k + RUN_MAX]))
        first += len(ahead)
        run: list[bytes] = []
        for i, ((kind, ref, data), h) in enumerate(zip(leaves, hashes, strict=True)):
            index = first + i
            if runs and kind == "journal":
                seq = int(ref)
                if (run and len(run) < RUN_MAX and part.run_first[-1] + len(run) == index
                        and part.run_seq[-1] + len(run) == seq):
                    run.append(h)
                    continue
                if run:
                    part.run_n.append(len(run))
                    part.run_hashes.append(b"".join(run))
                part.run_first.append(index)
                part.run_seq.append(seq)
                run = [h]
                continue
            part.leaf_index.append(index)
            part.kind.append(kind)
            part.ref.append(ref)
            part.leaf_hash.append(h)
            part.leaf_data.append(data)
        if run:
            part.run_n.append(len(run))
            part.run_hashes.append(b"".join(run))
        return part

    def write(self, part: LogPart | None) -> None:
        if part is None:
            return
        if self.s.get_bind().dialect.name == "postgresql":
            part = self.copied(part)
            pg_run(self.s, f"WITH {part.ctes()} SELECT 1", part.params())
            return
        insert_rows(self.s, L, [dict(leaf_index=a, kind=b, ref=c, leaf_hash=d, leaf_data=e)
                                for a, b, c, d, e in zip(part.leaf_index, part.kind, part.ref,
                                                         part.leaf_hash, part.leaf_data,
                                                         strict=True)])
        insert_rows(self.s, R, [dict(first_index=a, first_seq=b, n=c, hashes=d)
                                for a, b, c, d in zip(part.run_first, part.run_seq,
                                                      part.run_n, part.run_hashes,
                                                      strict=True)])
        insert_rows(self.s, N, [dict(level=a, idx=b, hash=c) for a, b, c in zip(
            part.level, part.idx, part.hash, strict=True)])
        self.s.execute(update(LH).where(LH.c.id == 1).values(size=part.size,
                                                             frontier=part.frontier))

    def copied(self, part: LogPart) -> LogPart:
        """PostgreSQL: write many leaf rows, and many nodes, by binary COPY (rows formatted
        in C); the rest of `part`, left to write in one statement (its arrays go in binary:
        up to `NODES_INLINE` nodes cost less there than a COPY's round trip)."""
        rows, nodes = len(part.leaf_index) >= COPY_FROM, len(part.level) > NODES_INLINE
        if not (rows or nodes):
            return part
        with driver_connection(self.s).cursor() as cur:
            if rows:
                with cur.copy(_PG_COPY_LEAVES) as cp:
                    cp.write(_binary_leaves(part))
            if nodes:
                with cur.copy(_PG_COPY_NODES) as cp:
                    cp.write(_binary_nodes(part))
        if rows:
            part = replace(part, leaf_index=[], kind=[], ref=[], leaf_hash=[], leaf_data=[])
        if nodes:
            part = replace(part, level=[], idx=[], hash=[])
        return part

    def append(self, leaves: Sequence[Leaf], *, runs: bool = True) -> None:
        """Append leaves (the caller holds the journal head lock)."""
        self.write(self.prepare(leaves, runs=runs))

    # -- the queue of bound records --------------------------------------------------------
    def queued(self) -> list[tuple[int, str, str]]:
        if self.s.get_bind().dialect.name == "postgresql":  # on every commit: prepared
            rows: Iterable[Sequence[Any]] = pg_rows(self.s, _PG_QUEUED)
        else:
            rows = self.s.execute(select(Q.c.id, Q.c.kind, Q.c.ref).order_by(Q.c.id))
        return [(int(i), str(k), str(r)) for i, k, r in rows]

    def take_queue(self) -> list[tuple[int, str, str]]:
        """PostgreSQL: empty the queue in one statement and return what it held, in order
        (the caller holds the journal head lock, so no other drainer takes the same rows)."""
        return sorted((int(i), str(k), str(r)) for i, k, r in pg_rows(self.s, _PG_TAKE_QUEUE))

    def clear_queue(self, ids: Sequence[int]) -> None:
        for i in range(0, len(ids), CHUNK):
            self.s.execute(delete(Q).where(Q.c.id.in_(list(ids[i:i + CHUNK]))))

    def record_rows(self, kind: str, refs: Sequence[str]) -> dict[str, bytes]:
        """The canonical bytes of the current rows of these records (missing ones absent)."""
        t = RECORD_TABLES[kind]
        out: dict[str, bytes] = {}
        if self.s.get_bind().dialect.name == "postgresql":  # every drain: one prepared read
            if kind == "permit_quantity":
                split = [r.rsplit("/", 2) for r in refs]
                params: tuple[Any, ...] = ([k[0] for k in split], [k[1] for k in split],
                                           [int(k[2]) for k in split])
            else:
                params = ([int(r) for r in refs],)
            for row in pg_rows(self.s, _pg_record_sql(kind), params):
                ref = (f"{row[0]}/{row[1]}/{row[2]}" if kind == "permit_quantity"
                       else str(row[0]))
                out[ref] = record_leaf(kind, row)
            return out
        for i in range(0, len(refs), CHUNK):
            part = refs[i:i + CHUNK]
            if kind == "permit_quantity":
                keys = []
                for r in part:
                    permit, pollutant, year = r.rsplit("/", 2)
                    keys.append((permit, pollutant, int(year)))
                cond = tuple_(t.c.permit, t.c.pollutant, t.c.year).in_(keys)
            else:
                cond = t.c.id.in_([int(r) for r in part])
            for row in self.s.execute(select(t).where(cond)):
                m = row._mapping
                ref = (f"{m['permit']}/{m['pollutant']}/{m['year']}"
                       if kind == "permit_quantity" else str(m["id"]))
                out[ref] = record_leaf(kind, dict(m))
        return out

    def all_records(self, kind: str, chunk: int = 20_000) -> Iterator[list[tuple[str, bytes]]]:
        """Every row of a bound table as (ref, canonical bytes), in key order."""
        t = RECORD_TABLES[kind]
        keys = list(t.primary_key.columns)
        result = self.s.execute(select(t).order_by(*keys).execution_options(yield_per=chunk))
        batch: list[tuple[str, bytes]] = []
        for row in result:
            m = row._mapping
            ref = (f"{m['permit']}/{m['pollutant']}/{m['year']}"
                   if kind == "permit_quantity" else str(m["id"]))
            batch.append((ref, record_leaf(kind, dict(m))))
            if len(batch) >= chunk:
                yield batch
                batch = []
        if batch:
            yield batch

    # -- reading ----------------------------------------------------------------------------
    def size(self) -> int:
        got = self.s.scalar(select(LH.c.size).where(LH.c.id == 1))
        return int(got or 0)

    def nodes(self, wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The hashes of complete subtrees (level, idx): stored from level `STRATUM` up,
        below it hashed from the subtree's leaf hashes (a missing one is left out)."""
        return self.nodes_and_leaf(wanted, None)[0]

    def nodes_and_leaf(self, wanted: Iterable[tuple[int, int]], leaf: int | None
                       ) -> tuple[dict[tuple[int, int], bytes], StoredLeaf | None]:
        """`nodes`, and leaf `leaf` as `leaf` gives it, read with the leaf hashes the low
        nodes need (one query fewer for a proof)."""
        every = set(wanted)
        keys = sorted(k for k in every if k[0] >= STRATUM)
        if self.s.get_bind().dialect.name == "postgresql":  # every proof: one statement
            return self._pg_nodes_and_leaf(keys, sorted(every - set(keys)), leaf)
        out, got = self._low_nodes(sorted(every - set(keys)), leaf)
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            for lv, ix, h in self.s.execute(select(N.c.level, N.c.idx, N.c.hash).where(
                    tuple_(N.c.level, N.c.idx).in_(part))):
                out[(int(lv), int(ix))] = bytes(h)
        return out, got

    def _pg_nodes_and_leaf(self, keys: Sequence[tuple[int, int]],
                           low: Sequence[tuple[int, int]], leaf: int | None
                           ) -> tuple[dict[tuple[int, int], bytes], StoredLeaf | None]:
        wanted = _low_leaves(low, leaf)
        ranges = _ranges(wanted)
        nodes: dict[tuple[int, int], bytes] = {}
        leaves: list[Sequence[Any]] = []
        for row in pg_rows(self.s, _PG_PROOF_READ, dict(
                wanted=wanted, leaf=-1 if leaf is None else leaf, lo=[r[0] for r in ranges],
                hi=[r[1] for r in ranges], lv=[k[0] for k in keys], ix=[k[1] for k in keys])):
            if row[5] == 2:
                nodes[(int(row[3]), int(row[0]))] = bytes(row[1])
            else:
                leaves.append(row)
        out, got = self._fold_low(low, leaf, _leaf_rows(leaves))
        out.update(nodes)
        return out, got

    def _low_nodes(self, low: Sequence[tuple[int, int]], leaf: int | None
                   ) -> tuple[dict[tuple[int, int], bytes], StoredLeaf | None]:
        if not low and leaf is None:
            return {}, None
        return self._fold_low(low, leaf, self._leaf_hashes(_low_leaves(low, leaf), leaf))

    @staticmethod
    def _fold_low(low: Sequence[tuple[int, int]], leaf: int | None,
                  rows: Iterable[tuple[int, str, str, bytes, bytes | None]]
                  ) -> tuple[dict[tuple[int, int], bytes], StoredLeaf | None]:
        """The low nodes hashed from their leaves' hashes, and leaf `leaf`."""
        hashes: dict[int, bytes] = {}
        got = None
        for index, kind, ref, h, data in rows:
            hashes[index] = h
            if index == leaf:
                got = (kind, ref, data, h)
        out: dict[tuple[int, int], bytes] = {}
        for lv, i in low:
            span = [hashes.get(j) for j in range(i << lv, (i + 1) << lv)]
            if all(h is not None for h in span):
                out[(lv, i)] = merkle.root(span)  # type: ignore[arg-type]
        return out, got

    def _leaf_hashes(self, wanted: Sequence[int], leaf: int | None
                     ) -> Iterator[tuple[int, str, str, bytes, bytes | None]]:
        """Leaves `wanted` (sorted) as (index, kind, ref, hash, data): data only for `leaf`,
        and None for a journal leaf (its entry's row is its data). One statement: the leaf
        rows, and the slices of the runs that hold the rest."""
        ranges = _ranges(wanted)
        if self.s.get_bind().dialect.name == "postgresql":
            rows: Iterable[Sequence[Any]] = pg_rows(self.s, _PG_PROOF_READ, dict(
                wanted=list(wanted), leaf=-1 if leaf is None else leaf,
                lo=[r[0] for r in ranges], hi=[r[1] for r in ranges], lv=[], ix=[]))
        else:
            rows = self.s.execute(self._leaf_hashes_sql(wanted, ranges, leaf))
        yield from _leaf_rows(rows)

    @staticmethod
    def _leaf_hashes_sql(wanted: Sequence[int], ranges: Sequence[Sequence[int]],
                         leaf: int | None) -> Any:
        """`_PG_LEAF_HASHES` in SQLAlchemy's terms (SQLite)."""
        data = case((L.c.leaf_index == (-1 if leaf is None else leaf), L.c.leaf_data))
        parts = [select(L.c.leaf_index, L.c.leaf_hash, L.c.kind, L.c.ref, data,
                        literal(0).label("run")).where(L.c.leaf_index.in_(wanted[i:i + 500]))
                 for i in range(0, len(wanted), 500)]
        for lo, hi in ranges:
            # the runs that meet [lo, hi]: from the last one starting at or before lo
            start = (select(R.c.first_index).where(R.c.first_index <= lo)
                     .order_by(R.c.first_index.desc()).limit(1).scalar_subquery())
            skip = case((R.c.first_index < lo, lo - R.c.first_index), else_=0)
            end = case((R.c.first_index + R.c.n > hi + 1, hi + 1 - R.c.first_index),
                       else_=R.c.n)
            parts.append(select(
                R.c.first_index + skip, func.substr(R.c.hashes, cast(skip * 32 + 1, Integer),
                                                    cast((end - skip) * 32, Integer)),
                literal("journal"), cast(R.c.first_seq + skip, String),
                cast(null(), LargeBinary), literal(1))
                .where(R.c.first_index >= func.coalesce(start, lo), R.c.first_index <= hi,
                       R.c.first_index + R.c.n > lo))
        return union_all(*parts)

    def leaf(self, index: int) -> StoredLeaf | None:
        """Leaf `index` as (kind, ref, data, hash); a journal leaf's data is None (its
        entry's row)."""
        for i, kind, ref, h, data in self._leaf_hashes([index], index):
            if i == index:
                return kind, ref, data, h
        return None

    def leaf_indexes(self, kind: str, refs: Sequence[str]) -> dict[str, list[int]]:
        """The leaves of these records (a permit quantity has one per state it had)."""
        out: dict[str, list[int]] = {}
        if kind == "journal":
            seqs = sorted({int(r) for r in refs if r.isdigit()})
            for seq, idx in self._journal_indexes(seqs):
                out.setdefault(str(seq), []).append(idx)
        for i in range(0, len(refs), CHUNK):
            for ref, idx in self.s.execute(select(L.c.ref, L.c.leaf_index).where(
                    L.c.kind == kind, L.c.ref.in_(list(refs[i:i + CHUNK])))
                    .order_by(L.c.leaf_index)):
                out.setdefault(ref, []).append(int(idx))
        return out

    def _journal_indexes(self, seqs: Sequence[int]) -> Iterator[tuple[int, int]]:
        """(seq, leaf index) of these journal entries, from the runs (those not in a run
        left out)."""
        if not seqs:
            return
        if self.s.get_bind().dialect.name == "postgresql":
            yield from ((int(q), int(i)) for q, i in pg_rows(self.s, _PG_JOURNAL_INDEXES,
                                                                 (list(seqs),)))
            return
        for seq in seqs:
            r = self.s.execute(select(R.c.first_index, R.c.first_seq, R.c.n)
                               .where(R.c.first_seq <= seq)
                               .order_by(R.c.first_seq.desc()).limit(1)).first()
            if r is not None and seq < r.first_seq + r.n:
                yield seq, int(r.first_index) + seq - int(r.first_seq)

    def leaves(self, *, chunk: int = 50_000
               ) -> Generator[list[tuple[int, str, str, bytes, bytes]], None, None]:
        """Every leaf in order: (index, kind, ref, leaf hash, leaf data); a journal leaf's
        data is b"" (not stored: it is the entry's row)."""
        pg = self.s.get_bind().dialect.name == "postgresql"
        rows = self._pg_rows(chunk) if pg else self._rows(chunk)
        runs = self._pg_runs(chunk) if pg else self._runs(chunk)
        try:
            # a run at a time (the journal: most leaves), the few leaf rows between runs
            one = itertools.chain.from_iterable(rows)
            row = next(one, None)
            out: list[tuple[int, str, str, bytes, bytes]] = []
            for part in runs:
                for first, seq, n, blob in part:
                    while row is not None and row[0] < first:
                        out.append(row)
                        row = next(one, None)
                    out += [(first + k, "journal", str(seq + k), blob[32 * k:32 * k + 32], b"")
                            for k in range(n)]
                    if len(out) >= chunk:
                        yield out
                        out = []
            while row is not None:
                out.append(row)
                row = next(one, None)
                if len(out) >= chunk:
                    yield out
                    out = []
            if out:
                yield out
        finally:
            rows.close()
            runs.close()

    def _rows(self, chunk: int) -> Generator[list[tuple[int, str, str, bytes, bytes]], None, None]:
        last = -1
        while True:
            rows = self.s.execute(select(L.c.leaf_index, L.c.kind, L.c.ref, L.c.leaf_hash,
                                         L.c.leaf_data).where(L.c.leaf_index > last)
                                  .order_by(L.c.leaf_index).limit(chunk)).all()
            if not rows:
                return
            yield [(int(i), k, r, bytes(h), bytes(d)) for i, k, r, h, d in rows]
            last = int(rows[-1][0])

    def _runs(self, chunk: int) -> Generator[list[tuple[int, int, int, bytes]], None, None]:
        last = -1
        while True:
            rows = self.s.execute(select(R.c.first_index, R.c.first_seq, R.c.n, R.c.hashes)
                                  .where(R.c.first_index > last)
                                  .order_by(R.c.first_index).limit(max(chunk // 100, 10))).all()
            if not rows:
                return
            yield [(int(i), int(q), int(n), bytes(h)) for i, q, n, h in rows]
            last = int(rows[-1][0])

    def _pg_rows(self, chunk: int
                 ) -> Generator[list[tuple[int, str, str, bytes, bytes]], None, None]:
        """The leaf rows on PostgreSQL: one server-side cursor in binary (keyset pages would
        each search the index again; binary bytea is the bytes, with no hex to decode)."""
        cur = driver_connection(self.s).cursor(name=f"ledger_log_leaves_{next(_CURSORS)}",
                                               binary=True)
        yield from pg_chunks(cur, "SELECT leaf_index, kind, ref, leaf_hash, leaf_data "
                                  "FROM ledger_log ORDER BY leaf_index", chunk=chunk)

    def _pg_runs(self, chunk: int) -> Generator[list[tuple[int, int, int, bytes]], None, None]:
        cur = driver_connection(self.s).cursor(name=f"ledger_log_runs_{next(_CURSORS)}",
                                               binary=True)
        yield from pg_chunks(cur, "SELECT first_index, first_seq, n, hashes "
                                  "FROM ledger_log_run ORDER BY first_index",
                             chunk=max(chunk // 100, 10))

    def last_leaf_of_each(self, kind: str) -> dict[str, int]:
        return {r: int(i) for r, i in self.s.execute(
            select(L.c.ref, func.max(L.c.leaf_index)).where(L.c.kind == kind)
            .group_by(L.c.ref))}

    # -- checkpoints ------------------------------------------------------------------------
    def add_checkpoint(self, **values: Any) -> None:
        self.s.execute(insert(C).values(**values))

    def checkpoints(self) -> list[Any]:
        """Every checkpoint (rows with attribute access), ascending tree size."""
        return list(self.s.execute(select(C).order_by(C.c.tree_size, C.c.id)).all())

    def latest_checkpoint(self) -> Any | None:
        return self.s.execute(select(C).order_by(C.c.tree_size.desc(), C.c.id.desc())
                              .limit(1)).first()
