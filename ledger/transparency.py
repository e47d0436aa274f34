"""The transparency log's use cases (issue 16; docs/ledger-transparency.md).

- Journal entries become leaves where they are written (`ledger.service._write`, which the
  group-commit writer and the order pipeline use too), under the journal head lock.
- Bound records (trades, permit quantities, permit events) are queued by database triggers
  on every insert or update, whatever path wrote them (ORM, Core, the bulk helpers' unnest
  and COPY); `drain`, run by a `before_commit` hook on every session of an engine passed to
  `install` (the platform's, `app.wiring.build`), appends them as leaves in the same
  transaction, under the same head lock, after the session's last flush.
- `checkpoint` signs (tree size, root, time); `inclusion` and `consistency` answer proofs
  from stored nodes; `verify_checkpoints` (`ledger.history`) rebuilds the tree from the
  journal and the records and compares it with saved signed checkpoints.
"""

from __future__ import annotations

import base64
import logging
import weakref
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ledger import errors as E
from ledger import merkle
from ledger.canonical import (
    JOURNAL,
    LAYOUTS,
    decode,
    encode,
    journal_leaf,
    row_leaf,
)
from ledger.entries import Entry, micros
from ledger.history import DELETED, HistoryReport, verify_checkpoints
from ledger.log_store import Leaf, LogPart, LogStore
from ledger.signing import (
    CheckpointsDoc,
    Signer,
    checkpoint_text,
    rfc3339,
)
from ledger.store import LedgerStore
from storage.bulk import driver_connection

logger = logging.getLogger("erts.ledger")
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()
_installed = False


# -- appending -------------------------------------------------------------------------------
def entry_leaf(e: Entry) -> bytes:
    return journal_leaf(e.seq, e.id, e.batch, e.type, e.phase, e.pending_id, e.debit_account,
                        e.credit_account, e.asset, e.amount, e.reference, e.initiator,
                        micros(e.created_at),
                        None if e.timeout_at is None else micros(e.timeout_at),
                        e.prev_hash, e.hash, e.hash_version)


def journal_data(session: Session, seq: int) -> bytes:
    """A journal leaf's data: its entry's row as it is now (b"" if the row is gone)."""
    e = LedgerStore(session).entry_at(seq)
    return entry_leaf(e) if e is not None else b""


def journal_leaves(session: Session, entries: Sequence[Entry],
                   leaves: Sequence[bytes] = ()) -> LogPart | None:
    """Journal entries being written (consecutive seqs), hashed onto the tree as one run (the
    caller holds the journal head lock); `LedgerStore.write` writes the run with the entries.
    `leaves`: their leaf hashes, when sealing them made them (`ledger.entries.seal`)."""
    hashes = (list(leaves) if len(leaves) == len(entries)
              else [merkle.leaf_hash(entry_leaf(e)) for e in entries])
    log = LogStore(session)
    # the bound records this transaction has written so far go in the same write (PostgreSQL,
    # when announced): one append of the tree for both, not a second one at the commit
    bound = _announced(session, log)
    if entries and entries[-1].seq - entries[0].seq != len(entries) - 1:  # not one run
        bound[:0] = [("journal", str(e.seq), entry_leaf(e)) for e in entries]
        hashes = []
    return log.prepare(bound, journal=(entries[0].seq, hashes) if hashes else None)


#: the NOTICE a statement writing a bound record raises on PostgreSQL (migration 0035)
QUEUED_NOTICE = "erts:log-queued"
_FLAG = "erts_log_queued"  # the watch's flag, an attribute of the driver connection


def _watch(raw: Any) -> list[bool]:
    """Watch a PostgreSQL driver connection for `QUEUED_NOTICE`: the returned flag turns
    True when a statement on it queued bound records."""
    flag = [False]

    def seen(diag: Any) -> None:
        if diag.message_primary == QUEUED_NOTICE:
            flag[0] = True

    raw.add_notice_handler(seen)
    setattr(raw, _FLAG, flag)
    return flag


def drain(session: Session, *, force: bool = False) -> int:
    """Append the bound records queued so far as leaves (each record once, in the order first
    written, with the row as it is now) and empty the queue, under the journal head lock.
    Returns the number of leaves.

    On PostgreSQL the queue is read only when this connection was told a bound record was
    queued (`QUEUED_NOTICE`, reset when the connection goes back to the pool), or with
    `force` (the checkpoint: it also takes what writers outside the platform queued); then
    it is taken in one statement. Elsewhere it is read on every call."""
    log = LogStore(session)
    ledger = LedgerStore(session)
    if session.get_bind().dialect.name == "postgresql":
        raw = driver_connection(session)
        flag = getattr(raw, _FLAG, None)
        if flag is None:  # a connection made before `install`: watched from now on
            flag = _watch(raw)
            force = True
        if not (force or flag[0]):
            return 0
        flag[0] = False
        if not ledger.holds_head():
            if force and not log.queued():
                return 0
            ledger.lock_head()
        leaves = _take(session, log)
        log.append(leaves)
        return len(leaves)
    if not log.queued():
        return 0
    ledger.lock_head()
    queued = log.queued()  # again under the lock: another writer may have drained some
    leaves = _queued_leaves(log, queued)
    log.append(leaves)
    log.clear_queue([i for i, _, _ in queued])
    return len(leaves)


def _announced(session: Session, log: LogStore) -> list[Leaf]:
    """PostgreSQL, under the journal head lock: the leaves of the bound records queued on this
    connection since it was last told (`QUEUED_NOTICE`), the queue taken; else none (the
    commit's `drain` takes whatever is queued later, or on another backend)."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    flag = getattr(driver_connection(session), _FLAG, None)
    if flag is None or not flag[0]:
        return []
    flag[0] = False
    return _take(session, log)


def _take(session: Session, log: LogStore) -> list[Leaf]:
    """PostgreSQL, under the head lock: the queue taken in one statement, as leaves; the
    rows taken counted for `_after_commit`'s vacuum."""
    queued = log.take_queue()
    if not queued:
        return []
    session.info[_TAKEN_KEY] = session.info.get(_TAKEN_KEY, 0) + len(queued)
    return _queued_leaves(log, queued)


#: PostgreSQL: a take of the queue leaves its rows dead, and the next take reads the dead ones
#: again until a vacuum removes them (without autovacuum, or between its runs, every take
#: grew with the history: 8 % of the order writer's time at 400,000 dead rows). So once a
#: process has taken this many rows, it vacuums the queue itself after the commit.
VACUUM_EVERY = 20_000
_TAKEN: weakref.WeakKeyDictionary[Engine, int] = weakref.WeakKeyDictionary()
_TAKEN_KEY = "erts_log_queue_taken"  # in `Session.info`: rows this transaction took


def _after_commit(session: Session) -> None:
    n = session.info.pop(_TAKEN_KEY, 0)
    bind = session.bind
    if not n or not isinstance(bind, Engine) or bind not in _ENGINES:
        return
    _TAKEN[bind] = _TAKEN.get(bind, 0) + n
    if _TAKEN[bind] >= VACUUM_EVERY:
        _TAKEN[bind] = 0
        vacuum_queue(bind)


def _after_rollback(session: Session) -> None:
    session.info.pop(_TAKEN_KEY, None)


def vacuum_queue(engine: Engine) -> bool:
    """`VACUUM ledger_log_queue` on a connection of its own (it cannot run in a transaction;
    it takes no lock that writers or drainers wait for). False, logged, if it failed: the
    queue then stays as it was, and the next vacuum tries again."""
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ledger_log_queue")
        return True
    except Exception:  # housekeeping: never the caller's failure
        logger.warning("could not vacuum ledger_log_queue", exc_info=True)
        return False


def _queued_leaves(log: LogStore, queued: Sequence[tuple[int, str, str]]) -> list[Leaf]:
    """Each queued record once, in the order first written, with its row as it is now."""
    order: dict[tuple[str, str], None] = {}
    for _, kind, ref in queued:
        order.setdefault((kind, ref), None)
    rows: dict[str, dict[str, bytes]] = {}
    for kind in LAYOUTS:
        refs = [r for k, r in order if k == kind]
        rows[kind] = log.record_rows(kind, refs) if refs else {}
    leaves: list[Leaf] = []
    for kind, ref in order:
        data = rows.get(kind, {}).get(ref)
        leaves.append((kind, ref, data if data is not None else encode((DELETED, kind, ref))))
    return leaves


def _before_commit(session: Session) -> None:
    bind = session.bind
    if isinstance(bind, Engine) and bind in _ENGINES:
        session.flush()  # the last ORM writes run their triggers before the queue is read
        drain(session)


def _on_connect(raw: Any, _record: Any) -> None:
    _watch(raw)


def _on_checkin(raw: Any, _record: Any) -> None:
    flag = getattr(raw, _FLAG, None) if raw is not None else None
    if flag is not None:  # a rolled-back transaction's notices do not carry over
        flag[0] = False


def install(engine: Engine) -> None:
    """Drain the queue of bound records before every commit of a session bound to `engine`
    (on PostgreSQL, watching its connections for `QUEUED_NOTICE`)."""
    global _installed
    if engine.dialect.name == "postgresql" and engine not in _ENGINES:
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "checkin", _on_checkin)
    _ENGINES.add(engine)
    if not _installed:
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
        _installed = True


def backfill(session: Session, *, runs: bool = True) -> int:
    """Fill an empty log with what exists: the journal by seq, then trades, permit events and
    permit quantities by key (migration 0032). Returns the number of leaves. Without `runs`,
    a journal leaf is a `ledger_log` row, as the log was before migration 0037 (which turns
    them into runs)."""
    log = LogStore(session)
    if log.size():
        return 0
    ledger = LedgerStore(session)
    off = ledger.journal_time_epoch
    n = 0
    for rows in ledger.journal_rows():
        log.append([("journal", str(r[0]), row_leaf(r, off)) for r in rows], runs=runs)
        n += len(rows)
    for kind in ("trade", "permit_event", "permit_quantity"):
        for batch in log.all_records(kind):
            log.append([(kind, ref, data) for ref, data in batch])
            n += len(batch)
    return n


# -- checkpoints -----------------------------------------------------------------------------
def checkpoint(uow: Any, signer: Signer, *, origin: str, now: datetime
               ) -> dict[str, object] | None:
    """Sign the tree as it is committed now and append the checkpoint. None when the tree is
    empty; the latest checkpoint when the tree has not grown since (same key and origin)."""
    with uow:
        drain(uow.session, force=True)  # what was queued outside the platform's sessions too
        log = LogStore(uow.session)
        f = log.frontier()
        if f.size == 0:
            return None
        root_hex = f.root().hex()
        last = log.latest_checkpoint()
        if (last is not None and last.tree_size == f.size and last.key_id == signer.key_id
                and last.origin == origin):
            return _cp_dict(last)
        stamp = rfc3339(now)
        values = dict(origin=origin, tree_size=f.size, root_hash=root_hex, timestamp=stamp,
                      key_id=signer.key_id, public_key=signer.public_key,
                      signature=signer.sign(checkpoint_text(origin, f.size, root_hex, stamp)))
        log.add_checkpoint(**values)
        uow.commit()
    return {k: values[k] for k in ("tree_size", "root_hash", "timestamp", "key_id",
                                   "signature")}


def _cp_dict(c: Any) -> dict[str, object]:
    return dict(tree_size=c.tree_size, root_hash=c.root_hash, timestamp=c.timestamp,
                key_id=c.key_id, signature=c.signature)


def published(uow: Any, *, origin: str, public_key: str | None = None,
              key_id: str | None = None) -> dict[str, object]:
    """The checkpoints document (ascending tree size): those of `origin` signed with the
    current key (the configured one, else the latest checkpoint's)."""
    with uow:
        rows = [c for c in LogStore(uow.session).checkpoints() if c.origin == origin]
    if public_key is None and rows:
        public_key, key_id = rows[-1].public_key, rows[-1].key_id
    rows = [c for c in rows if c.key_id == key_id]
    return dict(origin=origin, public_key=public_key or "", key_id=key_id or "",
                checkpoints=[_cp_dict(c) for c in rows])


# -- proofs ----------------------------------------------------------------------------------
def _size_or_latest(log: LogStore, size: int | None) -> tuple[int, int]:
    n = log.size()
    if size is None:
        last = log.latest_checkpoint()
        size = last.tree_size if last is not None else n
    if size < 1 or size > n:
        raise E.TreeSizeOutOfRange(f"tree size must be between 1 and {n}", field="size")
    return size, n


#: the kinds whose `ref` the public proof names: a journal entry's seq and a trade's id are
#: public (the trade tape lists trade ids) and name no party. A permit quantity's ref names
#: its permit and a permit event's id is not public: next to a trade's leaf (the log is
#: public in order) they would name the trade's parties, so the public proof omits them.
PUBLIC_REF_KINDS = frozenset({"journal", "trade"})


def inclusion(uow: Any, entry: int, size: int | None = None, *,
              owners: Collection[str] | None = None) -> dict[str, object]:
    """The audit path of leaf `entry` in the tree of `size` leaves (default: the latest
    checkpoint's), with the leaf's data and the root it leads to. With `owners` (the holder
    codes of one enterprise: its credit code and its permits' codes), only a leaf that names
    one of them (`leaf_holders`) is answered; any other is `ledger_leaf_not_found`, exactly
    as a leaf that does not exist."""
    def missing() -> Exception:
        whose = "" if owners is None else " of this enterprise"
        return E.LeafNotFound(f"no leaf {entry}{whose} in the tree of {size} leaves",
                              field="entry")

    with uow:
        log = LogStore(uow.session)
        size, _ = _size_or_latest(log, size)
        if entry < 0 or entry >= size:
            raise missing()
        plan, rplan = merkle.inclusion_plan(entry, size), merkle.root_plan(size)
        nodes, leaf = log.nodes_and_leaf(merkle.plan_nodes(plan) | set(rplan), entry)
        if leaf is None:
            raise missing()
        kind, ref, stored, lh = leaf
        data = stored if stored is not None else journal_data(uow.session, int(ref))
        if owners is not None and not leaf_holders(uow.session, kind, data) & set(owners):
            raise missing()
    return dict(leaf_index=entry, tree_size=size, leaf_data=base64.b64encode(data).decode(),
                leaf_hash=lh.hex(), root_hash=merkle.from_nodes([rplan], nodes)[0].hex(),
                audit_path=[h.hex() for h in merkle.from_nodes(plan, nodes)],
                record=dict(kind=kind, ref=ref))


def public_inclusion(uow: Any, entry: int, size: int | None = None) -> dict[str, object]:
    """The inclusion proof as published without log-in: the leaf's hash, never its data (a
    trade's leaf names its parties, a journal entry's its accounts and amount;
    docs/public-disclosure.md), and the record's kind, with its ref only for the kinds in
    `PUBLIC_REF_KINDS` (else null)."""
    got = inclusion(uow, entry, size)
    got.pop("leaf_data")
    rec: dict[str, str] = got["record"]  # type: ignore[assignment]
    got["record"] = dict(kind=rec["kind"],
                         ref=rec["ref"] if rec["kind"] in PUBLIC_REF_KINDS else None)
    return got


#: the positions of the holder codes in a record's decoded canonical bytes (after the tag)
_HOLDER_FIELDS = {
    "trade": tuple(LAYOUTS["trade"][1].index(c) + 1
                   for c in ("buyer", "seller", "buyer_permit", "seller_permit")),
    "permit_quantity": (LAYOUTS["permit_quantity"][1].index("permit") + 1,),
    "permit_event": (LAYOUTS["permit_event"][1].index("permit") + 1,),
}
_JOURNAL_ACCOUNTS = (7, 8)  # tag, seq, id, batch, type, phase, pending_id, debit, credit


def leaf_holders(session: Session, kind: str, data: bytes) -> set[str]:
    """Whose a leaf is, from its data as logged: a journal entry's the holders of its debit
    and credit accounts, a trade's its buyer and seller (enterprises and permits), a permit
    quantity's or a permit event's its permit (an event's counterparty is the other side's,
    which has its own event). A deleted record's leaf is no one's."""
    try:
        values = decode(data)
    except ValueError:
        return set()
    if kind == "journal" and values[:1] == [JOURNAL]:
        store = LedgerStore(session)
        out = set()
        for i in _JOURNAL_ACCOUNTS:
            account = values[i] if i < len(values) else None
            acc = store.get_account(account) if isinstance(account, int) else None
            if acc is not None:
                out.add(acc.holder)
        return out
    if not values or values[0] != LAYOUTS.get(kind, ("",))[0]:
        return set()
    return {str(values[i]) for i in _HOLDER_FIELDS.get(kind, ())
            if i < len(values) and isinstance(values[i], str)}


def consistency(uow: Any, first: int, second: int) -> dict[str, object]:
    if first < 1 or first > second:
        raise E.ConsistencyRangeInvalid("from must be at least 1 and at most to", field="from")
    with uow:
        log = LogStore(uow.session)
        n = log.size()
        if second > n:
            raise E.TreeSizeOutOfRange(f"tree size must be between 1 and {n}", field="to")
        plan = merkle.consistency_plan(first, second)
        r1, r2 = merkle.root_plan(first), merkle.root_plan(second)
        nodes = log.nodes(merkle.plan_nodes(plan) | set(r1) | set(r2))
    return dict(first=first, second=second,
                first_root=merkle.from_nodes([r1], nodes)[0].hex(),
                second_root=merkle.from_nodes([r2], nodes)[0].hex(),
                consistency_path=[h.hex() for h in merkle.from_nodes(plan, nodes)])


def tree_size(uow: Any) -> int:
    with uow:
        return LogStore(uow.session).size()


def latest_size(uow: Any) -> int:
    """The latest checkpoint's tree size (0 without one)."""
    with uow:
        last = LogStore(uow.session).latest_checkpoint()
        return int(last.tree_size) if last is not None else 0


def leaves_of(uow: Any, kind: str, refs: Sequence[str]) -> dict[str, list[int]]:
    """The leaf indexes of records (for the pages' links to their proofs)."""
    with uow:
        return LogStore(uow.session).leaf_indexes(kind, list(refs))


__all__ = ["CheckpointsDoc", "HistoryReport", "journal_leaves", "backfill", "checkpoint",
           "consistency", "drain", "inclusion", "install", "leaf_holders", "public_inclusion",
           "published", "verify_checkpoints"]
