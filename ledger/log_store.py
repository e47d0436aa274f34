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
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    case,
    delete,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from ledger import merkle
from ledger.canonical import LAYOUTS, TABLES, record_leaf
from ledger.tables import CheckpointRow, LogHeadRow, LogLeafRow, LogNodeRow, LogQueueRow
from storage.bulk import COPY_FROM, driver_connection, insert_rows, pg_chunks, pg_rows, pg_run

L: Table = LogLeafRow.__table__  # type: ignore[assignment]
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
_PG_QUEUED = "SELECT id, kind, ref FROM ledger_log_queue ORDER BY id"
_PG_TAKE_QUEUE = "DELETE FROM ledger_log_queue RETURNING id, kind, ref"
#: the log's part of a write, as CTEs (the journal's statement adds them to its own)
PG_LOG_CTES = (
    "lg AS (INSERT INTO ledger_log (leaf_index, kind, ref, leaf_hash, leaf_data) "
    "SELECT * FROM unnest(%(l_index)s::bigint[], %(l_kind)s::varchar[], %(l_ref)s::varchar[], "
    "%(l_hash)s::bytea[], %(l_data)s::bytea[])), "
    "nd AS (INSERT INTO ledger_log_node (level, idx, hash) SELECT * FROM unnest("
    "%(n_level)s::smallint[], %(n_idx)s::bigint[], %(n_hash)s::bytea[])), "
    "lh AS (UPDATE ledger_log_head SET size = %(l_size)s, frontier = %(l_frontier)s "
    "WHERE id = 1)")
PG_LOG_WRITE = f"WITH {PG_LOG_CTES} SELECT 1"
_PG_LOG_HEAD = ("UPDATE ledger_log_head SET size = %(l_size)s, frontier = %(l_frontier)s "
                "WHERE id = 1")
_PG_COPY_LEAVES = ("COPY ledger_log (leaf_index, kind, ref, leaf_hash, leaf_data) FROM STDIN "
                   "(FORMAT BINARY)")
_PG_COPY_NODES = "COPY ledger_log_node (level, idx, hash) FROM STDIN (FORMAT BINARY)"
#: the lowest level of the complete subtrees kept in `ledger_log_node` (the "stratum"): a
#: node below it is the root of at most 2**(STRATUM - 1) leaves, hashed from their stored
#: leaf hashes when a proof needs it (a proof needs at most one per level, so at most
#: 2**STRATUM leaf hashes more in its query). Appends write n / 2**STRATUM node rows per n
#: leaves instead of 2n. (Databases filled before keep their lower nodes; they are not read.)
STRATUM = 4


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
    """Leaves hashed onto the tree, not yet written: columns of the new leaves and nodes,
    and the new head."""

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

    def params(self) -> dict[str, object]:
        return dict(l_index=self.leaf_index, l_kind=self.kind, l_ref=self.ref,
                    l_hash=self.leaf_hash, l_data=self.leaf_data, n_level=self.level,
                    n_idx=self.idx, n_hash=self.hash, l_size=self.size,
                    l_frontier=self.frontier)


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

    def prepare(self, leaves: Sequence[Leaf]) -> LogPart | None:
        """Hash leaves onto the tree (the caller holds the journal head lock): the rows to
        write (`write`, or inside the journal's own statement on PostgreSQL)."""
        if not leaves:
            return None
        f = self._cached()
        first = f.size
        hashes = [merkle.leaf_hash(data) for _, _, data in leaves]
        made = f.extend(hashes, keep_from=STRATUM)
        return LogPart(list(range(first, f.size)), [k for k, _, _ in leaves],
                       [r for _, r, _ in leaves], hashes, [d for _, _, d in leaves],
                       [m[0] for m in made], [m[1] for m in made], [m[2] for m in made],
                       f.size, b"".join(f.hashes))

    def write(self, part: LogPart | None) -> None:
        if part is None:
            return
        if self.s.get_bind().dialect.name == "postgresql":
            if len(part.leaf_index) < COPY_FROM:
                pg_run(self.s, PG_LOG_WRITE, part.params())
                return
            # many leaves: binary COPY (rows formatted in C; dumping bytea arrays as
            # statement parameters cost as much as the rest of a batch's write)
            with driver_connection(self.s).cursor() as cur:
                with cur.copy(_PG_COPY_LEAVES) as cp:
                    cp.write(_binary_leaves(part))
                if part.level:
                    with cur.copy(_PG_COPY_NODES) as cp:
                        cp.write(_binary_nodes(part))
            pg_run(self.s, _PG_LOG_HEAD, dict(l_size=part.size, l_frontier=part.frontier))
            return
        insert_rows(self.s, L, [dict(leaf_index=a, kind=b, ref=c, leaf_hash=d, leaf_data=e)
                                for a, b, c, d, e in zip(part.leaf_index, part.kind, part.ref,
                                                         part.leaf_hash, part.leaf_data,
                                                         strict=True)])
        insert_rows(self.s, N, [dict(level=a, idx=b, hash=c) for a, b, c in zip(
            part.level, part.idx, part.hash, strict=True)])
        self.s.execute(update(LH).where(LH.c.id == 1).values(size=part.size,
                                                             frontier=part.frontier))

    def append(self, leaves: Sequence[Leaf]) -> None:
        """Append leaves (the caller holds the journal head lock)."""
        self.write(self.prepare(leaves))

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
                       ) -> tuple[dict[tuple[int, int], bytes],
                                  tuple[str, str, bytes, bytes] | None]:
        """`nodes`, and leaf `leaf` as `leaf` gives it, read with the leaf hashes the low
        nodes need (one query fewer for a proof)."""
        every = set(wanted)
        keys = sorted(k for k in every if k[0] >= STRATUM)
        out, got = self._low_nodes(sorted(every - set(keys)), leaf)
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            for lv, ix, h in self.s.execute(select(N.c.level, N.c.idx, N.c.hash).where(
                    tuple_(N.c.level, N.c.idx).in_(part))):
                out[(int(lv), int(ix))] = bytes(h)
        return out, got

    def _low_nodes(self, low: Sequence[tuple[int, int]], leaf: int | None
                   ) -> tuple[dict[tuple[int, int], bytes], tuple[str, str, bytes, bytes] | None]:
        if not low and leaf is None:
            return {}, None
        wanted = sorted({j for lv, i in low for j in range(i << lv, (i + 1) << lv)}
                        | ({leaf} if leaf is not None else set()))
        hashes: dict[int, bytes] = {}
        got = None
        data = case((L.c.leaf_index == (-1 if leaf is None else leaf), L.c.leaf_data))
        for i in range(0, len(wanted), 500):
            for ix, h, kind, ref, d in self.s.execute(
                    select(L.c.leaf_index, L.c.leaf_hash, L.c.kind, L.c.ref, data).where(
                        L.c.leaf_index.in_(wanted[i:i + 500]))):
                hashes[int(ix)] = bytes(h)
                if ix == leaf:
                    got = (str(kind), str(ref), bytes(d), bytes(h))
        out: dict[tuple[int, int], bytes] = {}
        for lv, i in low:
            span = [hashes.get(j) for j in range(i << lv, (i + 1) << lv)]
            if all(h is not None for h in span):
                out[(lv, i)] = merkle.root(span)  # type: ignore[arg-type]
        return out, got

    def leaf(self, index: int) -> tuple[str, str, bytes, bytes] | None:
        r = self.s.execute(select(L.c.kind, L.c.ref, L.c.leaf_data, L.c.leaf_hash).where(
            L.c.leaf_index == index)).first()
        return None if r is None else (r.kind, r.ref, bytes(r.leaf_data), bytes(r.leaf_hash))

    def leaf_indexes(self, kind: str, refs: Sequence[str]) -> dict[str, list[int]]:
        """The leaves of these records (a permit quantity has one per state it had)."""
        out: dict[str, list[int]] = {}
        for i in range(0, len(refs), CHUNK):
            for ref, idx in self.s.execute(select(L.c.ref, L.c.leaf_index).where(
                    L.c.kind == kind, L.c.ref.in_(list(refs[i:i + CHUNK])))
                    .order_by(L.c.leaf_index)):
                out.setdefault(ref, []).append(int(idx))
        return out

    def leaves(self, *, chunk: int = 50_000, journal_data: bool = True
               ) -> Generator[list[tuple[int, str, str, bytes, bytes]], None, None]:
        """Every leaf in order: (index, kind, ref, leaf hash, leaf data); without
        `journal_data`, a journal leaf's data is b"" (not read: it is the entry's row)."""
        if self.s.get_bind().dialect.name == "postgresql":
            yield from self._pg_leaves(chunk, journal_data)
            return
        data = L.c.leaf_data if journal_data else case((L.c.kind != "journal", L.c.leaf_data))
        last = -1
        while True:
            rows = self.s.execute(select(L.c.leaf_index, L.c.kind, L.c.ref, L.c.leaf_hash,
                                         data).where(L.c.leaf_index > last)
                                  .order_by(L.c.leaf_index).limit(chunk)).all()
            if not rows:
                return
            yield [(int(i), k, r, bytes(h), b"" if d is None else bytes(d))
                   for i, k, r, h, d in rows]
            last = int(rows[-1][0])

    def _pg_leaves(self, chunk: int, journal_data: bool
                   ) -> Generator[list[tuple[int, str, str, bytes, bytes]], None, None]:
        """`leaves` on PostgreSQL: one server-side cursor in binary (keyset pages would each
        search the index again; binary bytea is the bytes, with no hex to decode), rows as
        the driver's tuples."""
        data = ("leaf_data" if journal_data else
                "CASE WHEN kind <> 'journal' THEN leaf_data ELSE ''::bytea END")
        cur = driver_connection(self.s).cursor(name=f"ledger_log_leaves_{next(_CURSORS)}",
                                               binary=True)
        yield from pg_chunks(cur, f"SELECT leaf_index, kind, ref, leaf_hash, {data} "
                                  "FROM ledger_log ORDER BY leaf_index", chunk=chunk)

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
