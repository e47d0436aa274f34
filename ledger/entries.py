"""The pure ledger core: apply transfers to account states, or reject them with a code.

Guarantees, for any sequence of calls:
- every asset's balances (credits minus debits, posted) sum to zero over all accounts;
- an account flagged no-overdraft never has `available` below zero;
- an account with an upper limit never has posted plus pending credits above it;
- a linked batch applies entirely or not at all (`apply_batch` works on copies);
- a two-phase transfer holds `amount` as pending until posted (in full or in parts), voided
  or expired; posting never exceeds what is held.
No I/O here: the store loads and locks states, this module decides, the store writes.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ledger import errors as E
from ledger.transactions import SOURCE_KINDS, TYPES, AccountKind, Initiator

MAX_BATCH = 8000
PHASES = ("single", "pending", "post", "void", "expire")


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


@dataclass(frozen=True, slots=True)
class Transfer:
    """A request. For post/void/expire, `pending_id` names the pending transfer and the
    accounts must be those of the pending transfer; `amount` 0 on post means "the rest"."""

    id: str
    type: str
    debit_account: int
    credit_account: int
    amount: int
    phase: str = "single"
    pending_id: str | None = None
    reference: str | None = None
    timeout_s: int | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """A journal entry as written: the transfer plus what the ledger decided."""

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


GENESIS = "0" * 64


def _ts(dt: datetime | None) -> str:
    if dt is None:
        return ""
    return str(_micros(_aware(dt)))


def _micros(dt: datetime) -> int:
    delta = dt.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def entry_hash(e: Entry) -> str:
    """sha256 over the previous hash and every immutable field of the entry."""
    parts = (
        e.prev_hash, str(e.seq), e.id, e.batch or "", e.type, e.phase, e.pending_id or "",
        str(e.debit_account), str(e.credit_account), e.asset, str(e.amount),
        e.reference or "", e.initiator, _ts(e.created_at), _ts(e.timeout_at),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class Ledger:
    """Accounts and pending transfers loaded for one unit of work, and the rules over them."""

    def __init__(self, accounts: dict[int, AccountState],
                 pendings: dict[str, PendingState] | None = None) -> None:
        self.accounts = accounts
        self.pendings = pendings if pendings is not None else {}

    # -- one transfer -------------------------------------------------------------------
    def apply(self, t: Transfer, initiator: Initiator, now: datetime) -> tuple[str, int]:
        """Apply one transfer in place. Returns (asset, amount moved or held)."""
        if t.type not in TYPES:
            raise E.UnknownTransactionType(f"unknown transaction type {t.type!r}",
                                           transfer_id=t.id, field="type")
        tt = TYPES[t.type]
        if initiator not in tt.initiators:
            raise E.InitiatorNotAllowed(f"{initiator} may not initiate {t.type}",
                                        transfer_id=t.id)
        if t.phase not in PHASES:
            raise E.UnknownTransactionType(f"unknown phase {t.phase!r}", transfer_id=t.id,
                                           field="phase")
        if t.phase in ("post", "void", "expire"):
            return self._resolve(t, now)
        if isinstance(t.amount, bool) or not isinstance(t.amount, int) or t.amount <= 0:
            raise E.NonPositiveAmount("amount must be a positive integer", transfer_id=t.id,
                                      field="amount")
        dr, cr = self._pair(t)
        if (dr.kind, cr.kind) not in tt.pairs:
            raise E.KindNotAllowed(
                f"{t.type} may not debit a {dr.kind} account and credit a {cr.kind} account",
                transfer_id=t.id)
        if dr.kind in (AccountKind.SURRENDER, AccountKind.CANCELLATION):
            raise E.ClosedAccount("surrendered or cancelled units never move again",
                                  transfer_id=t.id)
        for a in (dr, cr):
            if a.frozen and not tt.passes_freeze:
                raise E.AccountFrozen(f"account {a.id} is frozen", transfer_id=t.id)
        amt = t.amount
        if dr.no_overdraft and dr.kind not in SOURCE_KINDS and dr.available < amt:
            raise E.InsufficientBalance(
                f"account {dr.id} has {dr.available} available, {amt} needed",
                transfer_id=t.id)
        if cr.upper_limit is not None and (
            cr.balance + cr.credits_pending + amt > cr.upper_limit
        ):
            raise E.OverLimit(
                f"account {cr.id} would exceed its upper limit {cr.upper_limit}",
                transfer_id=t.id)
        if t.phase == "pending":
            if t.id in self.pendings:
                raise E.IdConflict(f"pending transfer {t.id} exists", transfer_id=t.id,
                                   field="id")
            dr.debits_pending += amt
            cr.credits_pending += amt
            timeout = None
            if t.timeout_s:
                timeout = now + timedelta(seconds=t.timeout_s)
            self.pendings[t.id] = PendingState(t.id, dr.id, cr.id, amt, 0, "pending", timeout)
        else:
            dr.debits_posted += amt
            cr.credits_posted += amt
        return dr.asset, amt

    def _pair(self, t: Transfer) -> tuple[AccountState, AccountState]:
        dr = self.accounts.get(t.debit_account)
        cr = self.accounts.get(t.credit_account)
        if dr is None:
            raise E.AccountNotFound(f"no account {t.debit_account}", transfer_id=t.id,
                                    field="debit_account")
        if cr is None:
            raise E.AccountNotFound(f"no account {t.credit_account}", transfer_id=t.id,
                                    field="credit_account")
        if dr.id == cr.id:
            raise E.SameAccount("debit and credit account are the same", transfer_id=t.id)
        if dr.asset != cr.asset:
            raise E.AssetMismatch(f"{dr.asset} cannot move to a {cr.asset} account",
                                  transfer_id=t.id)
        return dr, cr

    def _resolve(self, t: Transfer, now: datetime) -> tuple[str, int]:
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
        if t.phase == "post" and p.timeout_at is not None and _aware(p.timeout_at) <= now:
            raise E.PendingExpired(f"pending transfer {p.id} timed out", transfer_id=t.id)
        dr = self.accounts[p.debit_account]
        cr = self.accounts[p.credit_account]
        if t.phase == "post":
            amt = p.remaining if t.amount == 0 else t.amount
            if isinstance(amt, bool) or not isinstance(amt, int) or amt < 0:
                raise E.NonPositiveAmount("amount must be a positive integer",
                                          transfer_id=t.id, field="amount")
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
            return dr.asset, amt
        rest = p.remaining
        dr.debits_pending -= rest
        cr.credits_pending -= rest
        p.state = "voided" if t.phase == "void" else "expired"
        return dr.asset, rest

    # -- batches ------------------------------------------------------------------------
    def apply_batch(self, transfers: list[Transfer], initiator: Initiator,
                    now: datetime) -> list[tuple[str, int]]:
        """Apply a linked batch: all or nothing. On rejection, nothing changes."""
        if len(transfers) > MAX_BATCH:
            raise E.BatchTooLarge(f"a batch takes at most {MAX_BATCH} transfers")
        touched_a = {i: copy.copy(a) for i, a in self.accounts.items()
                     if any(i in (t.debit_account, t.credit_account) for t in transfers)}
        touched_p = {t.pending_id: copy.copy(self.pendings[t.pending_id])
                     for t in transfers if t.pending_id in self.pendings}
        saved_new = set(self.pendings)
        try:
            return [self.apply(t, initiator, now) for t in transfers]
        except E.LedgerRejection:
            self.accounts.update(touched_a)
            for k in set(self.pendings) - saved_new:
                del self.pendings[k]
            for k, v in touched_p.items():
                if k is not None:
                    self.pendings[k] = v
            raise


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def verify_chain(entries: list[Entry], start_hash: str = GENESIS, start_seq: int = 0
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
