"""History against saved signed checkpoints (issue 16; docs/ledger-transparency.md): the
Merkle tree rebuilt from the journal and the bound records, not from the stored tree, its
root compared with the signed one at every checkpoint's size.

`verify_checkpoints` (re-exported by `ledger.transparency`) reads the journal itself;
`HistoryCheck` takes the journal's leaves from whoever reads it, so that
`ledger.audit.verify_all` hashes the chain and rebuilds the leaves in one pass.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ledger import merkle
from ledger.canonical import LAYOUTS, encode, row_leaf
from ledger.log_store import LogStore
from ledger.signing import Checkpoint, CheckpointsDoc
from ledger.store import LedgerStore

T = TypeVar("T")
DELETED = "erts-ledger/deleted/v1"
_NO_NODES = 64  # `Frontier.extend` keeps no node at or above this level: none


def leaf_hashes(leaves: Sequence[bytes]) -> list[bytes]:
    """`merkle.leaf_hash` of each, in one comprehension."""
    sha = hashlib.sha256
    return [sha(b"\x00" + d).digest() for d in leaves]


def prefetched(chunks: Iterator[T], depth: int = 2) -> Generator[T, None, None]:
    """Read the next chunks in a thread while the caller works on this one: the database
    (and the driver's network waits) overlap with hashing. The caller must not use the
    connection until the iterator is exhausted or closed (on PostgreSQL, another cursor of
    the same psycopg connection may: the driver serialises them)."""
    q: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(kind: str, value: object) -> bool:
        """Hand on to the consumer, unless it stopped (then nobody takes from a full queue:
        a plain put would wait for ever and so would the consumer's join)."""
        while not stop.is_set():
            try:
                q.put((kind, value), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for c in chunks:
                if not put("item", c):
                    return
            put("end", None)
        except BaseException as exc:  # handed to the consumer
            put("error", exc)

    th = threading.Thread(target=produce, name="ledger-verify-reader", daemon=True)
    th.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "end":
                return
            if kind == "error":
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        th.join()


@dataclass
class HistoryReport:
    ok: bool
    leaves: int
    checkpoints: int
    first_leaf: int | None = None
    checkpoint_size: int | None = None
    record: dict[str, str] | None = None
    reason: str = "every checkpoint matches the history rebuilt from the journal and records"
    unlogged: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return dict(ok=self.ok, leaves=self.leaves, checkpoints=self.checkpoints,
                    first_leaf=self.first_leaf, checkpoint_tree_size=self.checkpoint_size,
                    record=self.record, reason=self.reason, unlogged=self.unlogged[:20],
                    seconds=round(self.seconds, 3))


class JournalLeaves:
    """The journal's leaf hashes in seq order, a chunk at a time from `chunks` (pairs of
    the chunk's seqs and its leaves' hashes): `seqs[pos:]` and `hashes[pos:]` are unused."""

    def __init__(self, chunks: Iterator[tuple[list[int], list[bytes]]]) -> None:
        self.chunks = chunks
        self.seqs: list[int] = []
        self.hashes: list[bytes] = []
        self.pos = 0

    def refill(self) -> bool:
        """The next chunk, once this one is used up; False at the journal's end."""
        self.seqs, self.hashes, self.pos = [], [], 0
        for seqs, hashes in self.chunks:
            if seqs:
                self.seqs, self.hashes = seqs, hashes
                return True
        return False

    def next_seq(self) -> int | None:
        if self.pos < len(self.seqs) or self.refill():
            return self.seqs[self.pos]
        return None


def journal_leaf_chunks(ledger: LedgerStore) -> Iterator[tuple[list[int], list[bytes]]]:
    off = ledger.journal_time_epoch
    for rows in ledger.journal_rows():
        yield [r[0] for r in rows], leaf_hashes([row_leaf(r, off) for r in rows])


class HistoryCheck:
    """The tree rebuilt from the log's leaves in order (`feed`, chunk by chunk): a journal
    leaf is the entry's row now (from `JournalLeaves`), a record's last leaf its row now,
    its earlier leaves (its earlier states) the bytes the log kept. `finish` gives the
    report."""

    def __init__(self, log: LogStore, doc: CheckpointsDoc) -> None:
        self.cps: list[Checkpoint] = sorted(doc.checkpoints, key=lambda c: c.tree_size)
        self.last_of = {k: log.last_leaf_of_each(k) for k in LAYOUTS}
        self.current: dict[str, dict[str, bytes]] = {k: {} for k in LAYOUTS}
        for k in LAYOUTS:
            for batch in log.all_records(k):
                self.current[k].update(batch)
        self.seen: dict[str, set[str]] = {k: set() for k in LAYOUTS}
        self.f = merkle.Frontier()
        self.first_diff: int | None = None
        self.diff_record: dict[str, str] | None = None
        self.ci, self.ok_size = 0, 0
        self.inserted: list[int] = []  # journal entries not in the log (the first 20)
        self.failed: tuple[Checkpoint, int] | None = None  # (checkpoint, tree size then)

    def feed(self, chunk: Sequence[tuple[int, str, str, bytes, bytes]],
             journal: JournalLeaves) -> bool:
        """Put the next leaves of the log onto the tree; False once a checkpoint's root
        differs (feed no more)."""
        seqs, jh, pos, n = journal.seqs, journal.hashes, journal.pos, len(journal.seqs)
        last_of, current, seen, inserted = self.last_of, self.current, self.seen, self.inserted
        sha = hashlib.sha256
        hashes: list[bytes] = []
        for idx, kind, ref, _, stored_data in chunk:
            if kind == "journal":
                seq = int(ref)
                while True:
                    if pos == n:
                        journal.refill()
                        seqs, jh, pos, n = journal.seqs, journal.hashes, 0, len(journal.seqs)
                        if not n:
                            break
                    if seqs[pos] >= seq:
                        break
                    if len(inserted) < 20:  # not in the log
                        inserted.append(seqs[pos])
                    pos += 1
                if pos < n and seqs[pos] == seq:
                    hashes.append(jh[pos])
                    pos += 1
                    continue
                data = encode((DELETED, kind, ref))  # the entry is gone
            elif last_of.get(kind, {}).get(ref) == idx:
                seen[kind].add(ref)
                now_row = current[kind].get(ref)
                data = now_row if now_row is not None else encode((DELETED, kind, ref))
            else:
                data = stored_data
            hashes.append(sha(b"\x00" + data).digest())
        journal.pos = pos
        if self.first_diff is None:
            stored = [r[3] for r in chunk]
            if hashes != stored:
                i = next(i for i, (a, b) in enumerate(zip(hashes, stored, strict=True))
                         if a != b)
                self.first_diff, self.diff_record = chunk[i][0], dict(kind=chunk[i][1],
                                                                      ref=chunk[i][2])
        cps, f = self.cps, self.f
        at = 0
        while at < len(hashes):  # onto the tree, stopping at each checkpoint's size
            upto = len(hashes)
            if self.ci < len(cps) and 0 < cps[self.ci].tree_size - f.size < upto - at:
                upto = at + cps[self.ci].tree_size - f.size
            f.extend(hashes[at:upto], keep_from=_NO_NODES)
            at = upto
            while self.ci < len(cps) and cps[self.ci].tree_size == f.size:
                if f.root().hex() != cps[self.ci].root_hash:
                    self.failed = (cps[self.ci], f.size)
                    return False
                self.ok_size = f.size
                self.ci += 1
        return True

    def settle(self, journal: JournalLeaves) -> None:
        """After the log's last leaf: the first journal entry after it is not in the log."""
        if self.failed is None and self.ci >= len(self.cps):
            nxt = journal.next_seq()
            if nxt is not None and len(self.inserted) < 20:
                self.inserted.append(nxt)

    def finish(self, log: LogStore, t0: float) -> HistoryReport:
        """The report (after `settle`); reads the log for a rewritten tree's first leaf."""
        report = HistoryReport(True, self.f.size, len(self.cps))
        if self.failed is not None:
            cp, size = self.failed
            return _differs(report, cp, self.first_diff, self.diff_record, self.ok_size,
                            size, t0, log)
        if self.ci < len(self.cps):
            return _differs(report, self.cps[self.ci], self.f.size, None, self.ok_size,
                            self.f.size, t0, log, truncated=True)
        report.unlogged.extend(f"journal entry {q} is not in the log"
                               for q in self.inserted[:20])
        for k in LAYOUTS:
            missing = sorted(set(self.current[k]) - self.seen[k])
            report.unlogged.extend(f"{k} {r} is not in the log" for r in missing[:20])
        report.seconds = time.perf_counter() - t0
        return report


def verify_checkpoints(uow: Any, doc: CheckpointsDoc) -> HistoryReport:
    """Rebuild the tree from the journal and the bound records (not from the stored tree)
    and compare its root at every checkpoint's size with the signed one. A journal leaf is
    the entry's row now; a record's last leaf is its row now, its earlier leaves (its earlier
    states) the bytes the log kept. The first leaf named is the first whose rebuilt hash
    differs from the one the log stored; if the log was rewritten to match, the first leaf
    after the last checkpoint that still matches. One REPEATABLE READ snapshot."""
    t0 = time.perf_counter()
    with uow:
        s = uow.session
        ledger = LedgerStore(s)
        ledger.isolation("REPEATABLE READ")
        log = LogStore(s)
        check = HistoryCheck(log, doc)
        journal = JournalLeaves(journal_leaf_chunks(ledger))
        for chunk in log.leaves():  # a journal leaf is rebuilt, not read
            if not check.feed(chunk, journal):
                break
        check.settle(journal)
        return check.finish(log, t0)


def _differs(report: HistoryReport, cp: Checkpoint, first_diff: int | None,
             record: dict[str, str] | None, ok_size: int, size: int, t0: float,
             log: LogStore, *, truncated: bool = False) -> HistoryReport:
    report.ok = False
    report.checkpoint_size = cp.tree_size
    report.leaves = size
    if truncated:
        report.first_leaf = size
        report.reason = (f"the log has {size} leaves, fewer than the checkpoint's "
                         f"{cp.tree_size}: history was removed from leaf {size}")
    elif first_diff is not None and first_diff < cp.tree_size:
        report.first_leaf, report.record = first_diff, record
        what = f"{record['kind']} {record['ref']}" if record else "a record"
        report.reason = (f"leaf {first_diff} ({what}) differs from what the log kept; the "
                         f"checkpoint at tree size {cp.tree_size} does not match")
    else:
        report.first_leaf = ok_size
        leaf = log.leaf(ok_size)
        if leaf is not None:
            report.record = dict(kind=leaf[0], ref=leaf[1])
        report.reason = (f"the rebuilt root at tree size {cp.tree_size} is not the signed "
                         f"one: the log itself was rewritten, from leaf {ok_size} (the first "
                         f"after the last matching checkpoint) to {cp.tree_size - 1}")
    report.seconds = time.perf_counter() - t0
    return report
