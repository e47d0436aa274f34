"""The pure ledger core: apply transfers to account states, or reject them with a code.

Guarantees, for any sequence of calls:
- every asset's balances (credits minus debits, posted) sum to zero over all accounts;
- an account flagged no-overdraft never has `available` below zero;
- an account with an upper limit never has posted plus pending credits above it;
- a linked batch applies entirely or not at all (`apply_batch` restores what it touched);
- a two-phase transfer holds `amount` as pending until posted (in full or in parts), voided
  or expired (expiry only once its timeout has passed); posting never exceeds what is held;
- a frozen account takes part only in the bureau's recovery and reversal transactions;
- a reversal moves at most what the finished transfer moved, back the other way, and only
  inside the reversed type's window (`reversible_days`).
The journal side: `seal` numbers and hash-chains the entries of an applied batch, and
`JournalCheck` recomputes the chain and every balance from journal rows (what `verify` runs).
No I/O here: the store loads and locks states, this module decides, the store writes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import NamedTuple, TypeVar

from ledger import errors as E
from ledger.canonical import chain_hash_v2, chain_hash_v2_leaf, row_leaf
from ledger.canonical import micros as micros  # re-exported: the ledger's time format
from ledger.transactions import SOURCE_KINDS, TYPES, AccountKind, Initiator

MAX_BATCH = 8000
PHASES = ("single", "pending", "post", "void", "expire")
RESOLVING = ("post", "void", "expire")


@dataclass(slots=True)
class AccountState:
    id: int
    holder: str
    kind: AccountKind
    asset: str
    no_overdraft: bool = True
    upper_limit: int | None = None
    frozen: bool = False
    debits_posted: int = 0
    credits_posted: int = 0
    debits_pending: int = 0
    credits_pending: int = 0

    @property
    def balance(self) -> int:
        return self.credits_posted - self.debits_posted

    @property
    def available(self) -> int:
        return self.credits_posted - self.debits_posted - self.debits_pending

    @property
    def on_hold(self) -> int:
        return self.debits_pending


@dataclass(slots=True)
class PendingState:
    id: str
    debit_account: int
    credit_account: int
    amount: int
    posted: int = 0
    state: str = "pending"  # pending | posted | voided | expired
    timeout_at: datetime | None = None

    @property
    def remaining(self) -> int:
        return self.amount - self.posted


@dataclass(slots=True)
class Finished:
    """A finished transfer (single or post entry) as a reversal sees it."""

    id: str
    type: str
    phase: str
    debit_account: int
    credit_account: int
    amount: int
    created_at: datetime
    reversed: int = 0  # already moved back by earlier reversals


_T = TypeVar("_T")


def _copier(cls: type[_T]) -> Callable[[_T], _T]:
    """A shallow copy of a slots dataclass by its constructor (`dataclasses.replace` looks
    the fields up on every call: most of the cost of a batch's undo snapshot)."""
    get = attrgetter(*(f.name for f in fields(cls)))  # type: ignore[arg-type]
    return lambda x: cls(*get(x))


_copy_account = _copier(AccountState)
_copy_pending = _copier(PendingState)
_copy_finished = _copier(Finished)


@dataclass(frozen=True, slots=True)
class Transfer:
    """A request. For post/void/expire, `pending_id` names the pending transfer and the
    accounts are those of the pending transfer (pass 0); `amount` 0 on post means "the rest".
    For a reversal (type "reversal"), `pending_id` names the finished transfer to reverse,
    the accounts are the original's swapped (pass 0), and `amount` 0 means "all of it"."""

    id: str
    type: str
    debit_account: int
    credit_account: int
    amount: int
    phase: str = "single"
    pending_id: str | None = None
    reference: str | None = None
    timeout_s: int | None = None


class Moved(NamedTuple):
    """What one applied transfer did: the asset, the amount moved or held, and the accounts
    actually debited and credited (for post, void, expire and reversal they come from the
    transfer acted on)."""

    asset: str
    amount: int
    debit_account: int
    credit_account: int


@dataclass(frozen=True, slots=True)
class Entry:
    """A journal entry as written: the transfer plus what the ledger decided.

    `pending_id` is the transfer this entry acts on: the pending transfer it posts, voids or
    expires, or the finished transfer it reverses."""

    seq: int
    id: str
    batch: str | None
    type: str
    phase: str
    pending_id: str | None
    debit_account: int
    credit_account: int
    asset: str
    amount: int
    reference: str | None
    initiator: str
    created_at: datetime
    timeout_at: datetime | None
    prev_hash: str
    hash: str = field(default="")
    #: 1: the first rule (fields joined by 0x1f, NULL as ''); 2: canonical bytes
    #: (`ledger.canonical`). Entries keep the version they were written with.
    hash_version: int = 1


GENESIS = "0" * 64
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _aware(dt: datetime) -> datetime:
    """Naive datetimes (SQLite gives them back) are UTC: the ledger only ever writes UTC."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def from_micros(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


#: the hash version new entries are written with
HASH_VERSION = 2
HASH_VERSIONS = (1, 2)


def chain_hash(prev_hash: str, seq: int, id_: str, batch: str | None, type_: str, phase: str,
               pending_id: str | None, debit_account: int, credit_account: int, asset: str,
               amount: int, reference: str | None, initiator: str, created_us: int,
               timeout_us: int | None) -> str:
    """Hash version 1: sha256 over the previous hash and every immutable field of an entry
    (times in µs), joined by 0x1f (ambiguous: kept only to verify the entries written
    with it; version 2 is `ledger.canonical.chain_hash_v2`)."""
    parts = (
        prev_hash, str(seq), id_, batch or "", type_, phase, pending_id or "",
        str(debit_account), str(credit_account), asset, str(amount), reference or "",
        initiator, str(created_us), "" if timeout_us is None else str(timeout_us),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def entry_hash(e: Entry) -> str:
    """sha256 over the previous hash and every immutable field of the entry, by the rule of
    its hash version."""
    rule = chain_hash_v2 if e.hash_version == 2 else chain_hash
    if e.hash_version not in HASH_VERSIONS:
        return ""  # matches no hash: an unknown version fails verification
    return rule(e.prev_hash, e.seq, e.id, e.batch, e.type, e.phase, e.pending_id,
                      e.debit_account, e.credit_account, e.asset, e.amount, e.reference,
                      e.initiator, micros(e.created_at),
                      None if e.timeout_at is None else micros(e.timeout_at))


def _positive(amount: object, transfer_id: str, *, zero_ok: bool = False) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0 or (
            amount == 0 and not zero_ok):
        raise E.NonPositiveAmount("amount must be a positive integer", transfer_id=transfer_id,
                                  field="amount")
    return amount


class Ledger:
    """Accounts, pending and finished transfers loaded for one unit of work, and the rules
    over them."""

    def __init__(self, accounts: dict[int, AccountState],
                 pendings: dict[str, PendingState] | None = None,
                 finished: dict[str, Finished] | None = None) -> None:
        self.accounts = accounts
        self.pendings = pendings if pendings is not None else {}
        self.finished = finished if finished is not None else {}

    # -- one transfer -------------------------------------------------------------------
    def apply(self, t: Transfer, initiator: Initiator, now: datetime) -> Moved:
        """Apply one transfer in place, or raise a LedgerRejection having changed nothing."""
        tt = TYPES.get(t.type)
        if tt is None:
            raise E.UnknownTransactionType(f"unknown transaction type {t.type!r}",
                                           transfer_id=t.id, field="type")
        if t.phase not in PHASES:
            raise E.UnknownTransactionType(f"unknown phase {t.phase!r}", transfer_id=t.id,
                                           field="phase")
        # expiry is the system's by definition, whatever type the held transfer has
        system_expiry = t.phase == "expire" and initiator == Initiator.SYSTEM
        if initiator not in tt.initiators and not system_expiry:
            raise E.InitiatorNotAllowed(f"{initiator} may not initiate {t.type}",
                                        transfer_id=t.id)
        if t.phase in RESOLVING:
            return self._resolve(t, now)
        if t.type == "reversal":
            if t.phase != "single":
                raise E.UnknownTransactionType("a reversal is a single-phase transfer",
                                               transfer_id=t.id, field="phase")
            return self._reverse(t, initiator, now)
        amt = _positive(t.amount, t.id)
        dr, cr = self._pair(t.id, t.debit_account, t.credit_account)
        if dr.kind in (AccountKind.SURRENDER, AccountKind.CANCELLATION):
            raise E.ClosedAccount("surrendered or cancelled units never move again",
                                  transfer_id=t.id)
        if (dr.kind, cr.kind) not in tt.pairs:
            raise E.KindNotAllowed(
                f"{t.type} may not debit a {dr.kind} account and credit a {cr.kind} account",
                transfer_id=t.id)
        self._check_move(t.id, dr, cr, amt, tt.passes_freeze and initiator == Initiator.BUREAU)
        if t.phase == "pending":
            if t.id in self.pendings:
                raise E.IdConflict(f"pending transfer {t.id} exists", transfer_id=t.id,
                                   field="id")
            if t.timeout_s is not None and (isinstance(t.timeout_s, bool) or not isinstance(
                    t.timeout_s, int) or t.timeout_s <= 0):
                raise E.NonPositiveAmount("timeout_s must be a positive number of seconds",
                                          transfer_id=t.id, field="timeout_s")
            dr.debits_pending += amt
            cr.credits_pending += amt
            timeout = now + timedelta(seconds=t.timeout_s) if t.timeout_s else None
            self.pendings[t.id] = PendingState(t.id, dr.id, cr.id, amt, 0, "pending", timeout)
        else:
            dr.debits_posted += amt
            cr.credits_posted += amt
        return Moved(dr.asset, amt, dr.id, cr.id)

    def _pair(self, tid: str, debit: int, credit: int) -> tuple[AccountState, AccountState]:
        dr = self.accounts.get(debit)
        cr = self.accounts.get(credit)
        if dr is None:
            raise E.AccountNotFound(f"no account {debit}", transfer_id=tid,
                                    field="debit_account")
        if cr is None:
            raise E.AccountNotFound(f"no account {credit}", transfer_id=tid,
                                    field="credit_account")
        if dr.id == cr.id:
            raise E.SameAccount("debit and credit account are the same", transfer_id=tid)
        if dr.asset != cr.asset:
            raise E.AssetMismatch(f"{dr.asset} cannot move to a {cr.asset} account",
                                  transfer_id=tid)
        return dr, cr

    @staticmethod
    def _check_move(tid: str, dr: AccountState, cr: AccountState, amt: int,
                    passes_freeze: bool) -> None:
        if dr.kind in (AccountKind.SURRENDER, AccountKind.CANCELLATION):
            raise E.ClosedAccount("surrendered or cancelled units never move again",
                                  transfer_id=tid)
        for a in (dr, cr):
            if a.frozen and not passes_freeze:
                raise E.AccountFrozen(f"account {a.id} is frozen", transfer_id=tid)
        if dr.no_overdraft and dr.kind not in SOURCE_KINDS and dr.available < amt:
            raise E.InsufficientBalance(
                f"account {dr.id} has {dr.available} available, {amt} needed",
                transfer_id=tid)
        if cr.upper_limit is not None and (
            cr.balance + cr.credits_pending + amt > cr.upper_limit
        ):
            raise E.OverLimit(
                f"account {cr.id} would exceed its upper limit {cr.upper_limit}",
                transfer_id=tid)

    def _resolve(self, t: Transfer, now: datetime) -> Moved:
        p = self.pendings.get(t.pending_id or "")
        if p is None:
            raise E.PendingNotFound(f"no pending transfer {t.pending_id}", transfer_id=t.id,
                                    field="pending_id")
        if p.state == "voided":
            raise E.PendingVoided(f"pending transfer {p.id} was voided", transfer_id=t.id)
        if p.state == "expired":
            raise E.PendingExpired(f"pending transfer {p.id} expired", transfer_id=t.id)
        if p.state == "posted":
            raise E.PendingPosted(f"pending transfer {p.id} is already posted",
                                  transfer_id=t.id)
        timed_out = p.timeout_at is not None and _aware(p.timeout_at) <= now
        if t.phase == "post" and timed_out:
            raise E.PendingExpired(f"pending transfer {p.id} timed out", transfer_id=t.id)
        if t.phase == "expire" and not timed_out:
            raise E.PendingNotTimedOut(f"pending transfer {p.id} has not timed out",
                                       transfer_id=t.id)
        dr = self.accounts.get(p.debit_account)
        cr = self.accounts.get(p.credit_account)
        if dr is None or cr is None:
            raise E.AccountNotFound(f"accounts of pending transfer {p.id} not loaded",
                                    transfer_id=t.id, field="pending_id")
        if t.phase == "post":
            amt = _positive(t.amount, t.id, zero_ok=True) or p.remaining
            if amt > p.remaining:
                raise E.PostExceedsPending(
                    f"post of {amt} exceeds the {p.remaining} still pending", transfer_id=t.id)
            dr.debits_pending -= amt
            cr.credits_pending -= amt
            dr.debits_posted += amt
            cr.credits_posted += amt
            p.posted += amt
            if p.posted == p.amount:
                p.state = "posted"
            return Moved(dr.asset, amt, dr.id, cr.id)
        rest = p.remaining
        dr.debits_pending -= rest
        cr.credits_pending -= rest
        p.state = "voided" if t.phase == "void" else "expired"
        return Moved(dr.asset, rest, dr.id, cr.id)

    def _reverse(self, t: Transfer, initiator: Initiator, now: datetime) -> Moved:
        f = self.finished.get(t.pending_id or "")
        if f is None:
            raise E.TransferNotFound(f"no finished transfer {t.pending_id}", transfer_id=t.id,
                                     field="pending_id")
        ot = TYPES.get(f.type)
        if f.phase not in ("single", "post") or ot is None or ot.reversible_days is None:
            raise E.NotReversible(f"a {f.type} ({f.phase}) transfer cannot be reversed",
                                  transfer_id=t.id, field="pending_id")
        if now - _aware(f.created_at) > timedelta(days=ot.reversible_days):
            raise E.ReversalWindowClosed(
                f"{f.type} transfers can be reversed for {ot.reversible_days} days only",
                transfer_id=t.id, field="pending_id")
        left = f.amount - f.reversed
        if left <= 0:
            raise E.AlreadyReversed(f"transfer {f.id} is already reversed", transfer_id=t.id,
                                    field="pending_id")
        amt = _positive(t.amount, t.id, zero_ok=True) or left
        if amt > left:
            raise E.ReversalExceedsOriginal(
                f"reversal of {amt} exceeds the {left} left to reverse", transfer_id=t.id,
                field="amount")
        dr, cr = self._pair(t.id, f.credit_account, f.debit_account)
        passes = TYPES["reversal"].passes_freeze and initiator == Initiator.BUREAU
        self._check_move(t.id, dr, cr, amt, passes)
        dr.debits_posted += amt
        cr.credits_posted += amt
        f.reversed += amt
        return Moved(dr.asset, amt, dr.id, cr.id)

    # -- batches ------------------------------------------------------------------------
    def apply_batch(self, transfers: Sequence[Transfer], initiator: Initiator,
                    now: datetime) -> list[Moved]:
        """Apply a linked batch: all or nothing. On rejection, nothing changes."""
        if len(transfers) > MAX_BATCH:
            raise E.BatchTooLarge(f"a batch takes at most {MAX_BATCH} transfers")
        ids: set[int] = set()
        targets: set[str] = set()
        for t in transfers:
            ids.add(t.debit_account)
            ids.add(t.credit_account)
            if t.pending_id:
                targets.add(t.pending_id)
        for pid in targets:
            p = self.pendings.get(pid)
            if p is not None:
                ids.update((p.debit_account, p.credit_account))
            f = self.finished.get(pid)
            if f is not None:
                ids.update((f.debit_account, f.credit_account))
        accounts, pendings, finished = self.accounts, self.pendings, self.finished
        saved_a = {i: _copy_account(accounts[i]) for i in ids if i in accounts}
        saved_p = {k: _copy_pending(pendings[k]) for k in targets if k in pendings}
        saved_f = {k: _copy_finished(finished[k]) for k in targets if k in finished}
        # the pending transfers this batch may create (a repeated id is not new)
        new = [t.id for t in transfers if t.phase == "pending" and t.id not in pendings]
        try:
            return [self.apply(t, initiator, now) for t in transfers]
        except E.LedgerRejection:
            accounts.update(saved_a)
            pendings.update(saved_p)
            finished.update(saved_f)
            for k in new:
                pendings.pop(k, None)
            raise


# -- idempotency ---------------------------------------------------------------------------
def first_difference(t: Transfer, e: Entry) -> str | None:
    """The first field in which a repeated id differs from the original entry, or None.

    Accounts given as 0 on a post, void, expire or reversal mean "those of the transfer
    acted on", so they match whatever the entry recorded; so does amount 0 ("the rest")."""
    resolving = t.phase in RESOLVING or t.type == "reversal"
    checks: list[tuple[str, object, object]] = [
        ("type", t.type, e.type), ("phase", t.phase, e.phase),
        ("pending_id", t.pending_id, e.pending_id)]
    if not (resolving and t.debit_account == 0):
        checks.append(("debit_account", t.debit_account, e.debit_account))
    if not (resolving and t.credit_account == 0):
        checks.append(("credit_account", t.credit_account, e.credit_account))
    if not (resolving and t.amount == 0):
        checks.append(("amount", t.amount, e.amount))
    if t.phase == "pending":
        held = None if e.timeout_at is None else round(
            (e.timeout_at - e.created_at).total_seconds())
        checks.append(("timeout_s", t.timeout_s or None, held))
    checks.append(("reference", t.reference, e.reference))
    for name, a, b in checks:
        if a != b:
            return name
    return None


def replayed(transfers: Sequence[Transfer], seen: dict[str, Entry]) -> list[Entry] | None:
    """Idempotency of a linked batch: None when every id is new; the original entries when
    every id exists with the same fields; otherwise an IdConflict naming the field."""
    if not seen:
        if len({t.id for t in transfers}) != len(transfers):
            raise E.IdConflict("a batch repeats a transfer id", field="id")
        return None
    out = []
    for t in transfers:
        e = seen.get(t.id)
        if e is None:
            raise E.IdConflict(f"transfer {t.id} is new but its batch partly exists",
                               transfer_id=t.id, field="id")
        diff = first_difference(t, e)
        if diff is not None:
            raise E.IdConflict(f"transfer {t.id} exists with a different {diff}",
                               transfer_id=t.id, field=diff)
        out.append(e)
    return out


# -- the journal ---------------------------------------------------------------------------
def seal(transfers: Sequence[Transfer], moved: Sequence[Moved], ledger: Ledger, *, seq: int,
         prev_hash: str, batch: str | None, actor: str, now: datetime,
         version: int = HASH_VERSION, leaves: list[bytes] | None = None) -> list[Entry]:
    """Number and hash-chain the entries of an applied batch after (seq, prev_hash), by the
    rule of hash `version` (the current one unless a test writes history). With `leaves`
    (version 2), each entry's transparency-log leaf hash is appended to it, made from the
    bytes its chain hash was computed over (`ledger.canonical.chain_hash_v2_leaf`)."""
    fused = leaves if version == 2 else None
    rule = chain_hash_v2 if version == 2 else chain_hash
    entries: list[Entry] = []
    created_us = micros(now)
    for t, m in zip(transfers, moved, strict=True):
        seq += 1
        timeout_at = None
        if t.phase == "pending":
            timeout_at = ledger.pendings[t.id].timeout_at
        timeout_us = None if timeout_at is None else micros(timeout_at)
        if fused is not None:  # (the arguments spelled out: no tuple per entry to collect)
            h, leaf = chain_hash_v2_leaf(prev_hash, seq, t.id, batch, t.type, t.phase,
                                         t.pending_id, m.debit_account, m.credit_account,
                                         m.asset, m.amount, t.reference, actor, created_us,
                                         timeout_us)
            fused.append(leaf)
        else:
            h = rule(prev_hash, seq, t.id, batch, t.type, t.phase, t.pending_id,
                     m.debit_account, m.credit_account, m.asset, m.amount, t.reference, actor,
                     created_us, timeout_us)
        entries.append(Entry(seq, t.id, batch, t.type, t.phase, t.pending_id,
                             m.debit_account, m.credit_account, m.asset, m.amount,
                             t.reference, actor, now, timeout_at, prev_hash, h, version))
        prev_hash = h
    return entries


def verify_chain(entries: Iterable[Entry], start_hash: str = GENESIS, start_seq: int = 0
                 ) -> tuple[bool, int | None, str]:
    """Recompute the chain. Returns (ok, first bad seq, reason)."""
    prev = start_hash
    expect = start_seq + 1
    for e in entries:
        if e.seq != expect:
            return False, e.seq, f"sequence gap: expected {expect}, found {e.seq}"
        if e.prev_hash != prev:
            return False, e.seq, "prev_hash does not match the entry before"
        if entry_hash(e) != e.hash:
            return False, e.seq, "hash does not match the entry's fields"
        prev = e.hash
        expect += 1
    return True, None, "intact"


#: one journal row as `JournalCheck` reads it: times as integer µs (since its `time_epoch`)
Row = tuple[int, str, "str | None", str, str, "str | None", int, int, str, int, "str | None",
            str, int, "int | None", str, str, int]

_POSTED, _PENDING = 0, 1


@dataclass
class JournalCheck:
    """Recompute the hash chain and every account's balances from journal rows, in seq order.

    Feed it rows (`run`, any number of times, chunk by chunk), then compare its `balances`
    with the stored ones. Only the first break of the chain is kept; checking goes on from
    the stored hash so that balances cover every row."""

    seq: int = 0
    prev_hash: str = GENESIS
    #: added to the rows' times to make them µs since the Unix epoch (what the hash uses)
    time_epoch: int = 0
    first_bad: int | None = None
    reason: str = "intact"
    entries: int = 0
    #: account → [debits_posted, credits_posted, debits_pending, credits_pending]
    balances: dict[int, list[int]] = field(default_factory=dict)
    #: pending id → [amount, posted, state]
    pendings: dict[str, list[object]] = field(default_factory=dict)

    def _bad(self, seq: int, reason: str) -> None:
        if self.first_bad is None:
            self.first_bad, self.reason = seq, reason

    def run(self, rows: Iterable[Row], leaves: list[bytes] | None = None) -> None:
        """Check `rows`; with `leaves`, also append each row's log leaf hash (SHA-256 of 0x00
        and the bytes of `ledger.canonical.journal_leaf`; for a matching version-2 hash, from
        the bytes it was computed over) for the history check of `ledger.history`."""
        sha = hashlib.sha256
        bal = self.balances
        pend = self.pendings
        prev, expect, n, off = self.prev_hash, self.seq + 1, self.entries, self.time_epoch
        leaf: bytes | None = None
        for r in rows:
            (seq, id_, batch, type_, phase, pid, dr, cr, asset, amount, ref, initiator,
             created_us, timeout_us, prev_hash, hash_, version) = r
            if self.first_bad is None:
                if seq != expect:
                    self._bad(expect if seq > expect else seq,
                              f"sequence gap: expected {expect}, found {seq}"
                              if seq > expect else f"sequence repeats or goes back at {seq}")
                elif prev_hash != prev:
                    self._bad(seq, "prev_hash does not match the entry before")
                elif version == 2:
                    fields = (prev_hash, seq, id_, batch, type_, phase, pid, dr, cr, asset,
                              amount, ref, initiator, created_us + off,
                              None if timeout_us is None else timeout_us + off)
                    if leaves is None:
                        got = chain_hash_v2(*fields)
                    else:
                        got, leaf = chain_hash_v2_leaf(*fields)
                    if got != hash_:  # its leaf holds the stored hash: made from the row
                        self._bad(seq, "hash does not match the entry's fields")
                        leaf = None
                elif version != 1:
                    self._bad(seq, f"unknown hash version {version}")
                else:
                    parts = (prev_hash, str(seq), id_, batch or "", type_, phase, pid or "",
                             str(dr), str(cr), asset, str(amount), ref or "", initiator,
                             str(created_us + off),
                             "" if timeout_us is None else str(timeout_us + off))
                    if sha("\x1f".join(parts).encode()).hexdigest() != hash_:
                        self._bad(seq, "hash does not match the entry's fields")
            if leaves is not None:
                leaves.append(leaf if leaf is not None else sha(b"\x00" + row_leaf(r, off)
                                                                ).digest())
            leaf = None
            prev, expect, n = hash_, seq + 1, n + 1
            d = bal.get(dr)
            if d is None:
                d = bal[dr] = [0, 0, 0, 0]
            c = bal.get(cr)
            if c is None:
                c = bal[cr] = [0, 0, 0, 0]
            if phase == "single":
                d[0] += amount
                c[1] += amount
            elif phase == "pending":
                d[2] += amount
                c[3] += amount
                pend[id_] = [amount, 0, "pending"]
            else:
                d[2] -= amount
                c[3] -= amount
                p = pend.get(pid or "")
                if phase == "post":
                    d[0] += amount
                    c[1] += amount
                if p is None:
                    self._bad(seq, f"{phase} of unknown pending transfer {pid}")
                elif phase == "post":
                    p[1] = int(p[1]) + amount  # type: ignore[call-overload]
                    if p[1] == p[0]:
                        p[2] = "posted"
                else:
                    p[2] = "voided" if phase == "void" else "expired"
        self.prev_hash, self.seq, self.entries = prev, expect - 1, n

    def compare(self, stored: Iterable[AccountState]) -> list[Discrepancy]:
        """Stored balances against the recomputed ones, account by account."""
        out = []
        names = ("debits_posted", "credits_posted", "debits_pending", "credits_pending")
        seen: set[int] = set()
        for a in stored:
            seen.add(a.id)
            want = self.balances.get(a.id, [0, 0, 0, 0])
            have = [a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending]
            for name, h, w in zip(names, have, want, strict=True):
                if h != w:
                    out.append(Discrepancy(a.id, name, h, w))
        for acct in sorted(set(self.balances) - seen):
            out.append(Discrepancy(acct, "account", 0, 1))
        return out


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """A stored figure of an account that the journal does not bear out."""

    account: int
    field: str  # debits_posted | credits_posted | debits_pending | credits_pending | account
    stored: int
    journal: int

    def describe(self) -> str:
        if self.field == "account":
            return f"account {self.account} appears in the journal but not among accounts"
        return (f"account {self.account}: stored {self.field} {self.stored}, "
                f"journal gives {self.journal}")
