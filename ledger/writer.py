"""Group commit: one writer thread per process commits concurrent submissions together.

Every ledger transaction appends to the one hash-chained journal under the journal-head
row lock, held until the commit is durable (an fsync). One transaction per submission is
therefore bounded by the commit latency, however many clients there are. `Writer` removes
that bound the way databases do: client threads hand their linked batches to one thread,
which applies every batch waiting at that moment in one transaction (each batch still all
or nothing on its own, each repeat or rejection answered on its own, with its audit row),
commits once, then wakes every client. A client is answered only after the commit, so an
acknowledged transfer is durable exactly as with `submit`.

Forming a group: see `kernel.batching.gather` (wait up to `linger`, 2 ms, for as many
requests as the last commit answered).

Each group costs a fixed number of round trips whatever its size (the existing-id check,
the account locks and the head lock in one pipeline, the write in one statement, the
commit), so transfers per second grow with the group.

If a group's transaction fails for a reason other than a rejection (a database error, a
unique-key race with a writer in another process), every batch of the group is retried
alone through `submit`, so one bad batch never fails the others.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from kernel.batching import gather
from ledger import errors as E
from ledger.entries import MAX_BATCH, Transfer, replayed
from ledger.service import BatchResult, Part, UoWFactory, _Loaded, _utc, submit, write_parts
from ledger.store import LedgerStore
from ledger.transactions import Initiator


@dataclass
class _Request:
    transfers: list[Transfer]
    initiator: Initiator
    actor: str
    batch: str | None
    now: datetime
    done: threading.Event = field(default_factory=threading.Event)
    result: BatchResult | None = None
    error: BaseException | None = None


class Writer:
    """`submit` for many threads at once, with one commit per group of waiting batches."""

    def __init__(self, uow_factory: UoWFactory, *, max_transfers: int = MAX_BATCH,
                 threads: int = 1, linger: float = 0.002) -> None:
        self._uow = uow_factory
        self._max = max_transfers
        self._linger = linger
        self._q: queue.Queue[_Request | None] = queue.Queue()
        self._lock = threading.Lock()
        self.groups = 0  # how many transactions committed (for benchmarks)
        # More than one writer overlaps one group's work before the journal head (the
        # idempotency check, account locks, the rules) with another group's commit; on the
        # 2-core machine the benchmark ran on it was no faster, so one is the default. With
        # several, a repeat racing its original is settled by the unique key (retried alone).
        self._threads = [threading.Thread(target=self._run, name=f"ledger-writer-{i}",
                                          daemon=True) for i in range(threads)]
        for t in self._threads:
            t.start()

    def submit(self, transfers: Sequence[Transfer], *, initiator: Initiator, actor: str,
               batch: str | None = None, now: datetime | None = None) -> BatchResult:
        """Like `ledger.service.submit`: returns once the batch is committed (or replayed),
        raises its LedgerRejection otherwise."""
        if len(transfers) > MAX_BATCH:
            raise E.BatchTooLarge(f"a batch takes at most {MAX_BATCH} transfers",
                                  field="transfers")
        if not all(t.is_alive() for t in self._threads):
            raise RuntimeError("the ledger writer is closed")
        req = _Request(list(transfers), initiator, actor, batch, _utc(now))
        self._q.put(req)
        req.done.wait()
        if req.error is not None:
            raise req.error
        assert req.result is not None
        return req.result

    def close(self) -> None:
        for _ in self._threads:
            self._q.put(None)
        for t in self._threads:
            t.join()

    # -- the writer threads -----------------------------------------------------------------
    def _run(self) -> None:
        carry: _Request | None = None
        expect = 1
        while True:
            first = carry if carry is not None else self._q.get()
            if first is None:
                return
            group, carry, closing = gather(self._q, first, expect=expect,
                                           linger=self._linger, fits=self._fits(first))
            try:
                self._commit(group)
            except Exception:
                for r in group:
                    self._alone(r)
            # who sends next: the clients answered now, once they have made their next
            # request, and those that queued while this group committed
            expect = len(group) + self._q.qsize()
            for r in group:
                r.done.set()
            if closing:
                return

    def _fits(self, first: _Request) -> Callable[[list[_Request], _Request], bool]:
        """Whether a request may join the group `first` starts: at most `max_transfers` in
        all, and no id twice (a repeat goes to the next group: it keeps its order, and sees
        the original committed)."""
        ids, n = {t.id for t in first.transfers}, [len(first.transfers)]

        def fits(_group: list[_Request], r: _Request) -> bool:
            mine = {t.id for t in r.transfers}
            if ids & mine or n[0] + len(r.transfers) > self._max:
                return False
            ids.update(mine)
            n[0] += len(r.transfers)
            return True

        return fits

    def _commit(self, group: list[_Request]) -> None:
        with self._uow() as uow:
            store = LedgerStore(uow.session)
            everything = [t for r in group for t in r.transfers]
            loaded = _Loaded(store, everything, [t.id for t in everything])
            seen = loaded.seen
            parts, owners = [], []
            results: dict[int, BatchResult] = {}
            errors: dict[int, E.LedgerRejection] = {}
            for k, r in enumerate(group):
                try:
                    again = replayed(r.transfers, {t.id: seen[t.id] for t in r.transfers
                                                   if t.id in seen})
                    if again is not None:
                        results[k] = BatchResult(again, True)
                        continue
                    moved = loaded.ledger.apply_batch(r.transfers, r.initiator, r.now)
                    parts.append(Part(r.transfers, moved, r.batch, r.actor, r.now))
                    owners.append(k)
                except E.LedgerRejection as exc:
                    errors[k] = exc
                    store.reject(exc.transfer_id, exc.code, exc.message, r.actor, r.now)
            if parts:
                for k, entries in zip(owners, write_parts(store, loaded, parts), strict=True):
                    results[k] = BatchResult(entries, False)
            uow.commit()
        with self._lock:
            self.groups += 1
        for k, r in enumerate(group):
            r.result, r.error = results.get(k), errors.get(k)

    def _alone(self, r: _Request) -> None:
        try:
            r.result = submit(self._uow, r.transfers, initiator=r.initiator, actor=r.actor,
                              batch=r.batch, now=r.now)
            r.error = None
        except BaseException as exc:  # handed to the waiting client
            r.result, r.error = None, exc
