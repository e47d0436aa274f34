"""Ledger use cases.

`execute` applies a linked batch inside the caller's unit of work (it never commits), so a
trade's ledger batch and the trade's order state commit together. The other writers are the
ledger's own use cases: each runs in its own unit of work and commits. `submit` (a linked
batch) and `submit_each` (independent transfers) record an audit row for every rejection
and nothing else: a rejected transfer leaves no other trace.

Concurrency (PostgreSQL): the default strategy locks pending transfers, then accounts, in
sorted order, then the journal head (see `ledger.store`). `submit(strategy="serializable")`
instead runs under SERIALIZABLE without row locks and retries aborted transactions a bounded
number of times; `bench/bench_ledger.py` measures both (row locks win: every transaction
writes the journal head, so under SERIALIZABLE concurrent ones abort each other). Either
way appends are serial and each commit waits for its fsync under the head lock; many
concurrent single transfers go faster through `ledger.writer.Writer` (group commit).

All times the ledger writes are UTC (SQLite keeps naive datetimes, read back as UTC), and
the hash chain uses integer microseconds, so hashes agree on both databases.
"""

from __future__ import annotations

import io
import json
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from kernel import csvout
from kernel.clock import system_clock
from kernel.errors import InvalidInput
from ledger import errors as E
from ledger.entries import (
    MAX_BATCH,
    RESOLVING,
    AccountState,
    Discrepancy,
    Entry,
    JournalCheck,
    Ledger,
    Moved,
    PendingState,
    Transfer,
    first_difference,
    micros,
    replayed,
    seal,
)
from ledger.history import prefetched
from ledger.store import LedgerStore, translate
from ledger.transactions import TYPES, AccountKind, Initiator
from ledger.transparency import journal_leaves


class UoW(Protocol):
    @property
    def session(self): ...  # type: ignore[no-untyped-def]  # noqa: ANN201

    def commit(self) -> None: ...
    def __enter__(self) -> UoW: ...
    def __exit__(self, *exc: object) -> None: ...


UoWFactory = Callable[[], UoW]


def asset_code(pollutant: str, zone: str, vintage: int) -> str:
    return f"{pollutant}/{zone}/{vintage}"


MONEY = "CNY"
BUREAU = "BUREAU"
BANK = "BANK"
STRATEGIES = ("locks", "serializable")


def _utc(now: datetime | None) -> datetime:
    now = now or system_clock()
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


@dataclass(frozen=True)
class BatchResult:
    entries: list[Entry]
    replayed: bool  # True when every id already existed with the same fields


@dataclass(frozen=True)
class Outcome:
    """What became of one transfer of an unlinked batch."""

    id: str
    status: str  # created | replayed | rejected
    entry: Entry | None = None
    code: str | None = None
    detail: str | None = None
    field: str | None = None


# -- writing -------------------------------------------------------------------------------
def lock_journal(uow: UoW) -> tuple[int, str]:
    """Take the journal head lock now, before any other row this transaction will lock and
    that another journal writer may lock after the head (ledger accounts and pending
    transfers, a permit's quantity that a trade records): every journal writer takes the
    head first, so none holds such a row while it waits for the head. Use cases that lock
    their own rows before writing the ledger call this first; `execute` takes it anyway.
    Returns the head (seq, hash)."""
    return LedgerStore(uow.session).lock_head()


class _Loaded:
    """Pending and finished transfers and the locked accounts a set of transfers touches,
    and the entries that already exist with the ids in `lookup` (`seen`, for idempotency).

    The journal head is locked first, then pending transfers and accounts (see
    `ledger.store`): a writer that held accounts while it waited for the head deadlocked with
    a trading transaction, which holds the head and then locks accounts (`bench_service.py
    --bureau-ms 20`: 43 of 186 deposits and verifications made during continuous trading
    were refused with a deadlock, each after a second's stall). New single and pending
    transfers (no post, void, expire or reversal: the common case) take the fast path: the
    head lock, the existing entries and the account locks in one round trip
    (`LedgerStore.open_group`)."""

    def __init__(self, store: LedgerStore, transfers: Sequence[Transfer],
                 lookup: Sequence[str] = ()) -> None:
        resolving = {t.pending_id for t in transfers if t.pending_id and t.phase in RESOLVING}
        reversing = {t.pending_id for t in transfers if t.pending_id and t.type == "reversal"}
        ids: set[int] = set()
        for t in transfers:
            ids.add(t.debit_account)
            ids.add(t.credit_account)
        self.head: tuple[int, str] | None = None
        if not resolving and not reversing:
            ids.discard(0)
            self.seen, accounts, self.head = store.open_group(list(lookup), ids, head=True)
            self.known: set[str] = set()
            self.ledger = Ledger(accounts)
            return
        self.head = store.lock_head()
        self.seen = store.existing(lookup) if lookup else {}
        pendings = store.load_pendings(resolving)
        finished = store.load_finished(reversing) if reversing else {}
        for p in pendings.values():
            ids.update((p.debit_account, p.credit_account))
        for f in finished.values():
            ids.update((f.debit_account, f.credit_account))
        ids.discard(0)
        accounts = store.lock_accounts(ids)
        if finished:  # read after the locks: concurrent reversals of one transfer serialise
            for k, v in store.reversed_amounts(finished).items():
                finished[k].reversed = v
        self.known = set(pendings)
        self.ledger = Ledger(accounts, pendings, finished)


@dataclass(frozen=True)
class Part:
    """Transfers applied for one submission, sealed with that submission's batch, actor
    and time (a group commit seals several parts in one transaction)."""

    transfers: Sequence[Transfer]
    moved: Sequence[Moved]
    batch: str | None
    actor: str
    now: datetime


class GroupState(Protocol):
    """What `write_parts` needs of a group: the ledger the parts were applied to, the pending
    transfers that already exist in the database (`known`) and the journal head when the
    caller locked it (None: `write_parts` locks it)."""

    ledger: Ledger
    known: set[str]
    head: tuple[int, str] | None


def write_parts(store: LedgerStore, loaded: GroupState, parts: Sequence[Part]
                ) -> list[list[Entry]]:
    """Store what the core decided: pendings first (their rows are already locked), then,
    under the head lock, the balances, the journal entries and the head in one write, and
    the entries as leaves of the transparency log (`ledger.transparency`)."""
    ledger = loaded.ledger
    pend: set[str] = set()
    for p in parts:
        pend.update(t.id for t in p.transfers if t.phase == "pending")
        pend.update(t.pending_id for t in p.transfers if t.pending_id and t.phase in RESOLVING)
    if pend:
        store.save_pendings([ledger.pendings[i] for i in sorted(pend) if i in ledger.pendings],
                            new_ids=pend - loaded.known)
    seq, prev = loaded.head if loaded.head is not None else store.lock_head()
    out = []
    leaves: list[bytes] | None = [] if TREE_KEPT else None
    for p in parts:
        entries = seal(p.transfers, p.moved, ledger, seq=seq, prev_hash=prev, batch=p.batch,
                       actor=p.actor, now=p.now, leaves=leaves)
        if entries:
            seq, prev = entries[-1].seq, entries[-1].hash
        out.append(entries)
    touched = {a for p in parts for m in p.moved for a in (m.debit_account, m.credit_account)}
    written = [e for entries in out for e in entries]
    store.write([ledger.accounts[i] for i in sorted(touched)], written, (seq, prev),
                None if leaves is None else journal_leaves(store.s, written, leaves))
    return out


#: the journal's entries are appended to the transparency log as they are written (always;
#: `bench/bench_transparency.py` turns it off, and `write_parts` reads it at each call, to
#: measure what keeping the tree costs)
TREE_KEPT = True


def _execute(uow: UoW, transfers: Sequence[Transfer], *, initiator: Initiator, actor: str,
             batch: str | None, now: datetime, row_locks: bool = True) -> BatchResult:
    store = LedgerStore(uow.session, row_locks=row_locks)
    if len(transfers) > MAX_BATCH:
        raise E.BatchTooLarge(f"a batch takes at most {MAX_BATCH} transfers", field="transfers")
    if not transfers:
        return BatchResult([], False)
    loaded = _Loaded(store, transfers, [t.id for t in transfers])
    again = replayed(transfers, loaded.seen)
    if again is not None:
        return BatchResult(again, True)
    moved = loaded.ledger.apply_batch(transfers, initiator, now)
    return BatchResult(write_parts(store, loaded, [Part(transfers, moved, batch, actor, now)])[0],
                       False)


def execute(uow: UoW, transfers: Sequence[Transfer], *, initiator: Initiator, actor: str,
            batch: str | None = None, now: datetime | None = None) -> BatchResult:
    """Apply a linked batch inside the caller's transaction. Raises a LedgerRejection."""
    return _execute(uow, transfers, initiator=initiator, actor=actor, batch=batch,
                    now=_utc(now))


def _retrying(attempts: int, work: Callable[[], object]) -> object:
    """Run `work` (one whole unit of work) again after a retryable database conflict."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except Exception as exc:
            retry = exc if isinstance(exc, E.ConcurrentDuplicate | E.RetryableConflict) else (
                translate(exc))
            if retry is None:
                raise
            if attempt == attempts:
                raise retry from exc
            time.sleep(random.uniform(0, 0.002 * attempt))
    raise AssertionError("unreachable")


def submit(uow_factory: UoWFactory, transfers: Sequence[Transfer], *, initiator: Initiator,
           actor: str, batch: str | None = None, now: datetime | None = None,
           strategy: str = "locks", attempts: int | None = None) -> BatchResult:
    """The ledger's own use case: one linked batch, committed, or rejected with an audit row.

    A repeat of a batch returns the original entries (`replayed`); a unique-key race with a
    concurrent repeat is retried and then answers the same way."""
    if strategy not in STRATEGIES:
        raise InvalidInput(f"strategy must be one of {STRATEGIES}", field="strategy")
    now = _utc(now)
    serializable = strategy == "serializable"

    def once() -> BatchResult:
        with uow_factory() as uow:
            if serializable:
                LedgerStore(uow.session).isolation("SERIALIZABLE")
            result = _execute(uow, transfers, initiator=initiator, actor=actor, batch=batch,
                              now=now, row_locks=not serializable)
            uow.commit()
            return result

    try:
        return _retrying(attempts or (20 if serializable else 3), once)  # type: ignore[return-value]
    except E.LedgerRejection as exc:
        record_rejection(uow_factory, exc, actor, now)
        raise


def submit_each(uow_factory: UoWFactory, transfers: Sequence[Transfer], *,
                initiator: Initiator, actor: str, batch: str | None = None,
                now: datetime | None = None) -> list[Outcome]:
    """An unlinked batch: each transfer succeeds or is rejected on its own, in one commit.
    Repeats are answered per transfer (replayed, or rejected with id_conflict naming the
    field); every rejection gets an audit row."""
    if len(transfers) > MAX_BATCH:
        raise E.BatchTooLarge(f"a batch takes at most {MAX_BATCH} transfers", field="transfers")
    now = _utc(now)

    def once() -> list[Outcome]:
        with uow_factory() as uow:
            store = LedgerStore(uow.session)
            seen = store.existing([t.id for t in transfers])
            out: dict[int, Outcome] = {}
            fresh: list[tuple[int, Transfer]] = []
            ids: set[str] = set()
            for i, t in enumerate(transfers):
                e = seen.get(t.id)
                if e is not None:
                    diff = first_difference(t, e)
                    out[i] = (Outcome(t.id, "replayed", e) if diff is None else _rejected(
                        E.IdConflict(f"transfer {t.id} exists with a different {diff}",
                                     transfer_id=t.id, field=diff)))
                elif t.id in ids:
                    out[i] = _rejected(E.IdConflict(f"transfer {t.id} repeats in the batch",
                                                    transfer_id=t.id, field="id"))
                else:
                    ids.add(t.id)
                    fresh.append((i, t))
            loaded = _Loaded(store, [t for _, t in fresh])
            done: list[tuple[int, Transfer, Moved]] = []
            for i, t in fresh:
                try:
                    done.append((i, t, loaded.ledger.apply(t, initiator, now)))
                except E.LedgerRejection as exc:
                    out[i] = _rejected(exc)
            if done:
                entries = write_parts(store, loaded, [Part([t for _, t, _ in done],
                                                      [m for _, _, m in done], batch, actor,
                                                      now)])[0]
                for (i, t, _), e in zip(done, entries, strict=True):
                    out[i] = Outcome(t.id, "created", e)
            for o in out.values():
                if o.status == "rejected":
                    store.reject(o.id, o.code or "", o.detail or "", actor, now)
            uow.commit()
            return [out[i] for i in range(len(transfers))]

    return _retrying(3, once)  # type: ignore[return-value]


def _rejected(exc: E.LedgerRejection) -> Outcome:
    return Outcome(exc.transfer_id or "", "rejected", None, exc.code, exc.message, exc.field)


def record_rejection(uow_factory: UoWFactory, exc: E.LedgerRejection, actor: str,
                     now: datetime) -> None:
    with uow_factory() as uow:
        LedgerStore(uow.session).reject(exc.transfer_id, exc.code, exc.message, actor, now)
        uow.commit()


def entry_of(uow: UoW, transfer_id: str) -> Entry | None:
    """The journal entry `transfer_id` (its type, phase, accounts and asset), or None."""
    with uow:
        return LedgerStore(uow.session).entry(transfer_id)


def account_kinds(uow: UoW, ids: Sequence[int]) -> dict[int, tuple[AccountKind, str]]:
    """(kind, asset) of each existing account among `ids`, read without row locks: what a
    route needs to refuse a transfer before it reaches the ledger."""
    with uow:
        found = LedgerStore(uow.session, row_locks=False).lock_accounts(ids)
        return {i: (a.kind, a.asset) for i, a in found.items()}


def _target_type(uow_factory: UoWFactory, transfer_id: str, tid: str) -> str:
    with uow_factory() as uow:
        e = LedgerStore(uow.session).entry(transfer_id)
    if e is None:
        raise E.PendingNotFound(f"no pending transfer {transfer_id}", transfer_id=tid,
                                field="pending_id")
    return e.type


def post_pending(uow_factory: UoWFactory, pending_id: str, *, id: str, amount: int = 0,
                 initiator: Initiator, actor: str, reference: str | None = None,
                 now: datetime | None = None) -> BatchResult:
    """Post a pending transfer, in full (amount 0) or in part."""
    t = Transfer(id, _type_or_reject(uow_factory, pending_id, id, actor, now), 0, 0, amount,
                 phase="post", pending_id=pending_id, reference=reference)
    return submit(uow_factory, [t], initiator=initiator, actor=actor, now=now)


def void_pending(uow_factory: UoWFactory, pending_id: str, *, id: str, initiator: Initiator,
                 actor: str, reference: str | None = None,
                 now: datetime | None = None) -> BatchResult:
    """Void what a pending transfer still holds."""
    t = Transfer(id, _type_or_reject(uow_factory, pending_id, id, actor, now), 0, 0, 0,
                 phase="void", pending_id=pending_id, reference=reference)
    return submit(uow_factory, [t], initiator=initiator, actor=actor, now=now)


def _type_or_reject(uow_factory: UoWFactory, target: str, tid: str, actor: str,
                    now: datetime | None) -> str:
    try:
        return _target_type(uow_factory, target, tid)
    except E.LedgerRejection as exc:
        record_rejection(uow_factory, exc, actor, _utc(now))
        raise


def reverse(uow_factory: UoWFactory, transfer_id: str, *, id: str, amount: int = 0,
            initiator: Initiator, actor: str, reference: str | None = None,
            now: datetime | None = None) -> BatchResult:
    """Reverse a finished transfer (all of it, or `amount`) with a new reversal transfer,
    inside the window its type allows (`reversible_days`)."""
    t = Transfer(id, "reversal", 0, 0, amount, pending_id=transfer_id, reference=reference)
    return submit(uow_factory, [t], initiator=initiator, actor=actor, now=now)


def expire_pendings(uow_factory: UoWFactory, now: datetime | None = None, *,
                    limit: int = 1000, actor: str = "system") -> list[str]:
    """Expire pending transfers whose timeout has passed: what they hold is released.
    Returns the ids of the pending transfers expired. Safe to run concurrently with posts:
    the candidates are locked and re-checked before expiring."""
    now = _utc(now)
    expired: list[str] = []
    while True:
        def once() -> tuple[int, list[str]]:
            with uow_factory() as uow:
                store = LedgerStore(uow.session)
                ids = store.expired_pendings(now, limit)
                if not ids:
                    return 0, []
                live = [p for p in store.load_pendings(ids).values()
                        if p.state == "pending"]
                types = {e.id: e.type for e in store.existing([p.id for p in live]).values()}
                transfers = [Transfer(f"{p.id}:expire", types[p.id], 0, 0, 0, phase="expire",
                                      pending_id=p.id) for p in live]
                _execute(uow, transfers, initiator=Initiator.SYSTEM, actor=actor,
                         batch=None, now=now)
                uow.commit()
                return len(ids), [p.id for p in live]

        outcome: tuple[int, list[str]] = _retrying(3, once)  # type: ignore[assignment]
        found, done = outcome
        expired.extend(done)
        if found < limit:
            return expired


# -- freezing ------------------------------------------------------------------------------
def _bureau(initiator: Initiator | str) -> None:
    if initiator != Initiator.BUREAU:
        raise E.InitiatorNotAllowed("only the bureau freezes and unfreezes accounts",
                                    field="initiator")


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("a reason is required", field="reason")
    return reason


def freeze(uow_factory: UoWFactory, account_id: int, *, reason: str, initiator: Initiator,
           actor: str, now: datetime | None = None) -> dict[str, object]:
    """The bureau freezes an account: it then takes part only in the bureau's recovery and
    reversal transfers."""
    _bureau(initiator)
    reason, now = _reason(reason), _utc(now)
    with uow_factory() as uow:
        store = LedgerStore(uow.session)
        a = store.lock_accounts([account_id]).get(account_id)
        if a is None:
            raise E.AccountNotFound(f"no account {account_id}", field="account")
        if a.frozen:
            raise E.AlreadyFrozen(f"account {account_id} is already frozen")
        store.set_frozen(account_id, True, reason)
        store.add_flag(account_id, "freeze", reason, actor, now)
        uow.commit()
    return account_view(uow_factory(), account_id)


def unfreeze(uow_factory: UoWFactory, account_id: int, *, reason: str, initiator: Initiator,
             actor: str, now: datetime | None = None) -> dict[str, object]:
    """The bureau lifts a freeze, once the account's stored balances agree with the journal
    again (a discrepancy found by reconciliation keeps it frozen until resolved)."""
    _bureau(initiator)
    reason, now = _reason(reason), _utc(now)
    with uow_factory() as uow:
        store = LedgerStore(uow.session)
        a = store.lock_accounts([account_id]).get(account_id)
        if a is None:
            raise E.AccountNotFound(f"no account {account_id}", field="account")
        if not a.frozen:
            raise E.NotFrozen(f"account {account_id} is not frozen")
        journal = store.account_totals(account_id)
        stored = [a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending]
        if journal != stored:
            raise E.DiscrepancyUnresolved(
                f"account {account_id} still disagrees with the journal: stored {stored}, "
                f"journal {journal}")
        store.set_frozen(account_id, False, None)
        store.add_flag(account_id, "unfreeze", reason, actor, now)
        uow.commit()
    return account_view(uow_factory(), account_id)


_FIGURES = ("debits_posted", "credits_posted", "debits_pending", "credits_pending")


def resolve(uow_factory: UoWFactory, account_id: int, *, reason: str, initiator: Initiator,
            actor: str, restore: bool = False, now: datetime | None = None
            ) -> dict[str, object]:
    """The bureau resolves a frozen account: reconciliation is run again for it (the whole
    chain is verified, then the account's stored figures are compared with its journal
    sums under its lock), the run is recorded, and the account is unfrozen only when it
    agrees with the journal and no entry failing the chain touches it. The unfreeze flag
    records who resolved it, why, and the run.

    `restore`: when the chain is intact, the journal is the truth, so disagreeing stored
    figures are set to the journal's first (recorded as a `restore` flag with both values).
    Otherwise nothing is changed but the recorded run, and DiscrepancyUnresolved is raised."""
    _bureau(initiator)
    reason, now = _reason(reason), _utc(now)
    report = verify(uow_factory())
    with uow_factory() as uow:
        store = LedgerStore(uow.session)
        a = store.lock_accounts([account_id]).get(account_id)
        if a is None:
            raise E.AccountNotFound(f"no account {account_id}", field="account")
        if not a.frozen:
            raise E.NotFrozen(f"account {account_id} is not frozen")
        journal = store.account_totals(account_id)  # under the lock: no writer moves it
        stored = [a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending]
        problem = None
        if report.first_bad_seq is not None:
            bad = store.existing_by_seq([report.first_bad_seq])
            if restore or not bad or any(account_id in (e.debit_account, e.credit_account)
                                         for e in bad):
                problem = (f"journal entry {report.first_bad_seq} fails verification "
                           f"({report.reason})")
        restored = restore and problem is None and journal != stored
        if problem is None and journal != stored and not restored:
            problem = (f"stored {dict(zip(_FIGURES, stored, strict=True))} disagree with "
                       f"the journal's {dict(zip(_FIGURES, journal, strict=True))}")
        run = store.add_run(started_at=now, finished_at=_utc(None), actor=actor,
                            head_seq=report.head_seq, entries=report.entries, accounts=1,
                            chain_ok=report.first_bad_seq is None,
                            first_bad_seq=report.first_bad_seq,
                            reason=(f"resolution of account {account_id}: "
                                    + (problem or "agrees with the journal"))[:2000],
                            discrepancies=sum(x != y for x, y in zip(stored, journal,
                                                                     strict=True)),
                            frozen=0)
        store.add_discrepancies(run.id, [(account_id, f, x, y) for f, x, y in zip(
            _FIGURES, stored, journal, strict=True) if x != y])
        if restored:
            store.set_balances(account_id, journal)
            store.add_flag(account_id, "restore", f"{reason} (stored {stored} set to the "
                                                  f"journal's {journal})", actor, now,
                           run=run.id)
        if problem is None:
            store.set_frozen(account_id, False, None)
            store.add_flag(account_id, "unfreeze", f"resolved: {reason}", actor, now,
                           run=run.id)
        uow.commit()
    if problem is not None:
        raise E.DiscrepancyUnresolved(f"account {account_id} stays frozen "
                                      f"(reconciliation run {run.id}): {problem}")
    return account_view(uow_factory(), account_id)


# -- verification and reconciliation ------------------------------------------------------
@dataclass
class VerifyReport:
    ok: bool
    entries: int
    accounts: int
    head_seq: int
    first_bad_seq: int | None
    reason: str
    discrepancies: list[Discrepancy] = field(default_factory=list)
    pending_issues: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return dict(ok=self.ok, entries=self.entries, accounts=self.accounts,
                    head_seq=self.head_seq, first_bad_seq=self.first_bad_seq,
                    reason=self.reason, seconds=round(self.seconds, 3),
                    discrepancies=[dict(account=d.account, field=d.field, stored=d.stored,
                                        journal=d.journal) for d in self.discrepancies],
                    pending_issues=self.pending_issues)


def verify(uow: UoW) -> VerifyReport:
    """Stream the journal in seq order, recompute the hash chain and every account's
    balances (and every pending transfer's state) from it, and compare them with the head
    row and the stored figures, all in one consistent snapshot. `ok` is False when any row
    was altered, removed or inserted; `first_bad_seq` names the first bad entry."""
    t0 = time.perf_counter()
    with uow:
        store = LedgerStore(uow.session)
        store.isolation("REPEATABLE READ")
        head_seq, head_hash = store.head()
        check = JournalCheck(time_epoch=store.journal_time_epoch)
        for rows in prefetched(store.journal_rows()):
            check.run(rows)
        accounts = store.all_accounts()
        pendings = store.pending_states()
    return verify_report(check, head_seq, head_hash, accounts, pendings, t0)


def verify_report(check: JournalCheck, head_seq: int, head_hash: str,
                  accounts: Sequence[AccountState], pendings: Mapping[str, PendingState],
                  t0: float) -> VerifyReport:
    """`verify`'s report from a check fed every journal row and, from the same snapshot,
    the head, the stored accounts and pending transfers."""
    bad: list[tuple[int, str]] = []
    if check.first_bad is not None:
        bad.append((check.first_bad, check.reason))
    if check.seq < head_seq:
        bad.append((check.seq + 1, f"the journal ends at {check.seq} but the head is at "
                                   f"{head_seq}: entries were removed"))
    elif check.seq > head_seq:
        bad.append((head_seq + 1, f"entries after the head ({head_seq}) up to {check.seq}: "
                                  "entries were inserted"))
    elif check.prev_hash != head_hash:
        bad.append((head_seq, "the last entry's hash differs from the head's"))
    first = min(bad) if bad else None
    discrepancies = check.compare(accounts)
    issues = []
    for pid, p in sorted(pendings.items()):
        want = check.pendings.get(pid)
        have = [p.amount, p.posted, p.state]
        if want != have:
            issues.append(f"pending {pid}: stored {have}, journal gives {want}")
    for pid in sorted(set(check.pendings) - set(pendings)):
        issues.append(f"pending {pid} is in the journal but not among pending transfers")
    reason = first[1] if first else ("intact" if not discrepancies and not issues else
                                     (discrepancies[0].describe() if discrepancies
                                      else issues[0]))
    return VerifyReport(first is None and not discrepancies and not issues, check.entries,
                        len(accounts), head_seq, first[0] if first else None, reason,
                        discrepancies, issues, time.perf_counter() - t0)


@dataclass
class ReconcileReport:
    run: int
    verify: VerifyReport
    frozen: list[int]

    def as_dict(self) -> dict[str, object]:
        return dict(run=self.run, frozen=self.frozen, **self.verify.as_dict())


def reconcile(uow_factory: UoWFactory, *, actor: str, now: datetime | None = None
              ) -> ReconcileReport:
    """Compare stored balances with the journal and freeze every account that disagrees
    (and both accounts of an entry that fails the hash chain), recording the run, each
    discrepancy and each freeze with its reason. Writers may run meanwhile: a correct
    transfer changes stored balances and journal alike, so a discrepancy stays visible."""
    started = _utc(now)
    report = verify(uow_factory())
    why: dict[int, list[str]] = {}
    for d in report.discrepancies:
        if d.field != "account":
            why.setdefault(d.account, []).append(d.describe())
    with uow_factory() as uow:
        store = LedgerStore(uow.session)
        if report.first_bad_seq is not None:
            for e in store.existing_by_seq([report.first_bad_seq]):
                for acct in (e.debit_account, e.credit_account):
                    why.setdefault(acct, []).append(
                        f"journal entry {e.seq} fails verification: {report.reason}")
        run = store.add_run(started_at=started, finished_at=_utc(None), actor=actor,
                            head_seq=report.head_seq, entries=report.entries,
                            accounts=report.accounts, chain_ok=report.first_bad_seq is None,
                            first_bad_seq=report.first_bad_seq, reason=report.reason[:2000],
                            discrepancies=len(report.discrepancies) + len(
                                report.pending_issues), frozen=0)
        store.add_discrepancies(run.id, [(d.account, d.field, d.stored, d.journal)
                                         for d in report.discrepancies])
        frozen = []
        for acct_id, a in sorted(store.lock_accounts(why).items()):
            if a.frozen:
                continue
            reason = f"reconciliation run {run.id}: " + "; ".join(why[acct_id])
            store.set_frozen(acct_id, True, reason)
            store.add_flag(acct_id, "freeze", reason, actor, started, run=run.id)
            frozen.append(acct_id)
        run.frozen = len(frozen)
        uow.commit()
    return ReconcileReport(run.id, report, frozen)


# -- queries -------------------------------------------------------------------------------
def _account_dict(a: AccountState) -> dict[str, object]:
    return dict(id=a.id, holder=a.holder, kind=str(a.kind), asset=a.asset,
                balance=a.balance, on_hold=a.on_hold, available=a.available,
                pending_in=a.credits_pending, debits_posted=a.debits_posted,
                credits_posted=a.credits_posted, upper_limit=a.upper_limit,
                no_overdraft=a.no_overdraft, frozen=a.frozen)


def _need(store: LedgerStore, account_id: int) -> AccountState:
    a = store.get_account(account_id)
    if a is None:
        raise E.AccountNotFound(f"no account {account_id}", field="account")
    return a


def account_view(uow: UoW, account_id: int) -> dict[str, object]:
    """An account's figures, flags and freeze history."""
    with uow:
        store = LedgerStore(uow.session)
        a = _need(store, account_id)
        return dict(_account_dict(a), frozen_reason=store.frozen_reason(account_id),
                    flags=store.flags(account_id))


def balance_as_of(uow: UoW, account_id: int, at: datetime | None = None) -> dict[str, object]:
    """An account's balance at any instant, recomputed from the journal (entries created at
    or before `at`; a transaction's time is when it was submitted)."""
    at = _utc(at)
    with uow:
        store = LedgerStore(uow.session)
        a = _need(store, account_id)
        dp, cp, dq, cq = store.account_totals(account_id, upto=at)
    return dict(account=a.id, asset=a.asset, as_of=at, balance=cp - dp, debits_posted=dp,
                credits_posted=cp, on_hold=dq, pending_in=cq, available=cp - dp - dq)


def statement(uow: UoW, account_id: int, *, start: datetime | None = None,
              end: datetime | None = None, limit: int = 1000) -> dict[str, object]:
    """The entries of an account created in [start, end), in seq order, each with the
    balance and amount on hold after it, between the opening and closing figures."""
    start = _utc(start) if start is not None else None
    end = _utc(end) if end is not None else None
    if start is not None and end is not None and end <= start:
        raise E.BadTimeRange("end must be after start", field="end")
    with uow:
        store = LedgerStore(uow.session)
        a = _need(store, account_id)
        dp, cp, dq, cq = (store.account_totals(account_id, before=start) if start
                          else [0, 0, 0, 0])
        rows = store.statement_entries(account_id, start=start, end=end, after_seq=0,
                                       limit=limit + 1)
    truncated = len(rows) > limit
    opening = dict(balance=cp - dp, on_hold=dq, pending_in=cq)
    bal, hold, incoming = cp - dp, dq, cq
    lines = []
    for e in rows[:limit]:
        debit = e.debit_account == account_id
        sign = -1 if debit else 1
        if e.phase in ("single", "post"):
            bal += sign * e.amount
        if e.phase == "pending":
            hold, incoming = (hold + e.amount, incoming) if debit else (hold,
                                                                         incoming + e.amount)
        elif e.phase in RESOLVING:
            hold, incoming = (hold - e.amount, incoming) if debit else (hold,
                                                                         incoming - e.amount)
        lines.append(dict(seq=e.seq, id=e.id, type=e.type, phase=e.phase,
                          pending_id=e.pending_id,
                          counterparty=e.credit_account if debit else e.debit_account,
                          debit=e.amount if debit else 0, credit=0 if debit else e.amount,
                          balance=bal, on_hold=hold, pending_in=incoming,
                          reference=e.reference, created_at=_iso(e.created_at)))
    return dict(account=a.id, holder=a.holder, kind=str(a.kind), asset=a.asset, start=start,
                end=end, opening=opening, lines=lines, truncated=truncated,
                closing=dict(balance=bal, on_hold=hold, pending_in=incoming))


def holder_history(uow: UoW, holder: str, limit: int = 200) -> list[dict[str, object]]:
    """The latest journal entries on any account of a holder (a permit: its confirmations,
    verifications, trades and recoveries), newest first."""
    with uow:
        return [_entry_dict(e) for e in LedgerStore(uow.session).holder_entries(holder, limit)]


def holdings(uow: UoW, holders: Sequence[str]) -> list[dict[str, object]]:
    """Balances of every account of the holders: posted balance, on hold, available."""
    with uow:
        return [dict(id=a.id, holder=a.holder, kind=str(a.kind), asset=a.asset,
                     balance=a.balance, on_hold=a.on_hold, available=a.available,
                     upper_limit=a.upper_limit, frozen=a.frozen)
                for a in LedgerStore(uow.session).accounts_of(holders)]


def asset_sums(uow: UoW) -> dict[str, int]:
    with uow:
        return LedgerStore(uow.session).asset_sums()


def rejections(uow: UoW, limit: int = 100) -> list[dict[str, object]]:
    with uow:
        return LedgerStore(uow.session).rejections(limit)


def transaction_types() -> list[dict[str, object]]:
    """The table of transaction types, as data."""
    return [dict(name=t.name, pairs=sorted([str(d), str(c)] for d, c in t.pairs),
                 initiators=sorted(str(i) for i in t.initiators),
                 needs_approval=t.needs_approval, reversible_days=t.reversible_days,
                 passes_freeze=t.passes_freeze, description=t.description)
            for t in TYPES.values()]


# -- export --------------------------------------------------------------------------------
EXPORT_FIELDS = ("seq", "id", "batch", "type", "phase", "pending_id", "debit_account",
                 "credit_account", "asset", "amount", "reference", "initiator", "created_at",
                 "created_at_us", "timeout_at", "timeout_at_us", "prev_hash", "hash",
                 "hash_version")


def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return (dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)).isoformat()


def _entry_dict(e: Entry) -> dict[str, object]:
    return dict(seq=e.seq, id=e.id, batch=e.batch, type=e.type, phase=e.phase,
                pending_id=e.pending_id, debit_account=e.debit_account,
                credit_account=e.credit_account, asset=e.asset, amount=e.amount,
                reference=e.reference, initiator=e.initiator, created_at=_iso(e.created_at),
                created_at_us=micros(e.created_at), timeout_at=_iso(e.timeout_at),
                timeout_at_us=None if e.timeout_at is None else micros(e.timeout_at),
                prev_hash=e.prev_hash, hash=e.hash, hash_version=e.hash_version)


def export_journal(uow: UoW, fmt: str, *, chunk: int = 5000) -> Iterator[str]:
    """The journal for auditors, streamed in seq order as CSV or a JSON array. An entry of
    hash_version 1 has as hash sha256 of the \\x1f-joined fields prev_hash, seq, id, batch,
    type, phase, pending_id, debit_account, credit_account, asset, amount, reference,
    initiator, created_at_us, timeout_at_us (absent values as empty strings); one of
    hash_version 2 sha256 of the canonical bytes of the tag "erts-ledger/journal-chain/v2"
    and the same fields (`ledger.canonical`, docs/ledger-transparency.md), so the chain can
    be recomputed from the export alone. The CSV is written by `kernel.csvout`: a text cell
    beginning with =, +, -, @, a tab, a carriage return or an apostrophe (ids and references
    are chosen by users) carries one more leading apostrophe, so no spreadsheet runs it;
    `kernel.csvout.unescape` gives the exact value back before hashing."""
    if fmt not in ("csv", "json"):
        raise InvalidInput("format must be csv or json", field="format")
    with uow:
        store = LedgerStore(uow.session)
        store.isolation("REPEATABLE READ")
        buf = io.StringIO()
        w = csvout.writer(buf)
        if fmt == "csv":
            w.writerow(EXPORT_FIELDS)
        else:
            buf.write("[")
        n = 0
        for e in store.journal(batch_size=chunk):
            d = _entry_dict(e)
            if fmt == "csv":
                w.writerow([d[k] for k in EXPORT_FIELDS])
            else:
                buf.write(("\n" if n == 0 else ",\n") + json.dumps(d, ensure_ascii=False))
            n += 1
            if n % chunk == 0:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        if fmt == "json":
            buf.write("\n]\n" if n else "]\n")
        yield buf.getvalue()


# -- accounts ------------------------------------------------------------------------------
def ensure_rights_accounts(uow: UoW, *, holder: str, pollutant: str, zone: str, vintage: int,
                           kinds: Sequence[AccountKind], now: datetime,
                           upper_limit: int | None = None) -> dict[AccountKind, int]:
    got = ensure_rights_accounts_many(uow, limits={holder: upper_limit}, pollutant=pollutant,
                                      zone=zone, vintage=vintage, kinds=kinds, now=now)
    return {k: got[(holder, k)] for k in kinds}


def ensure_rights_accounts_many(uow: UoW, *, limits: dict[str, int | None], pollutant: str,
                                zone: str, vintage: int, kinds: Sequence[AccountKind],
                                now: datetime) -> dict[tuple[str, AccountKind], int]:
    """`ensure_rights_accounts` for many holders at once (holder -> the confirmed account's
    upper limit): the existing accounts in one statement, only the missing ones created."""
    got = ensure_rights_accounts_of(uow, wants=[(pollutant, zone, vintage, limits)],
                                    kinds=kinds, now=now)
    return {(h, k): i for (h, k, _), i in got.items()}


def ensure_rights_accounts_of(uow: UoW, *,
                              wants: Sequence[tuple[str, str, int, dict[str, int | None]]],
                              kinds: Sequence[AccountKind], now: datetime
                              ) -> dict[tuple[str, AccountKind, str], int]:
    """`ensure_rights_accounts_many` for several rights at once, each (pollutant, zone,
    vintage, holder -> upper limit): the existing accounts of them all in one statement,
    only the missing ones created. Keyed by (holder, kind, asset code)."""
    store = LedgerStore(uow.session)
    codes = [asset_code(pol, zone, vintage) for pol, zone, vintage, _ in wants]
    found = store.account_ids({h for *_, limits in wants for h in limits}, kinds, codes)
    out = {}
    for code, (pollutant, zone, vintage, limits) in zip(codes, wants, strict=True):
        if any((h, str(k), code) not in found for h in limits for k in kinds):
            store.ensure_asset(code, "right", pollutant, zone, vintage)  # else it exists
        for holder, limit in limits.items():
            for k in kinds:
                got = found.get((holder, str(k), code))
                out[(holder, k, code)] = got if got is not None else store.ensure_account(
                    holder, k, code, now=now,
                    upper_limit=limit if k == AccountKind.CONFIRMED else None)
    return out


def ensure_cash_account(uow: UoW, holder: str, now: datetime) -> int:
    store = LedgerStore(uow.session)
    store.ensure_asset(MONEY, "money")
    return store.ensure_account(holder, AccountKind.CASH, MONEY, now=now)


def issuance_account(uow: UoW, pollutant: str, zone: str, vintage: int, now: datetime) -> int:
    accts = ensure_rights_accounts(uow, holder=BUREAU, pollutant=pollutant, zone=zone,
                                   vintage=vintage, kinds=[AccountKind.ISSUANCE], now=now)
    return accts[AccountKind.ISSUANCE]


def bank_account(uow: UoW, now: datetime) -> int:
    store = LedgerStore(uow.session)
    store.ensure_asset(MONEY, "money")
    return store.ensure_account(BANK, AccountKind.ISSUANCE, MONEY, now=now, no_overdraft=False)
