"""Ledger use cases.

`execute` applies a linked batch inside the caller's unit of work (it never commits), so a
trade's ledger batch and the trade's order state commit together. `submit` is the use case
behind the ledger API: it commits, and on rejection records an audit row in a fresh
transaction after rolling back everything else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Protocol

from kernel.clock import system_clock
from ledger import errors as E
from ledger.entries import Entry, Ledger, Transfer, entry_hash
from ledger.store import LedgerStore
from ledger.transactions import AccountKind, Initiator


class UoW(Protocol):
    @property
    def session(self): ...  # type: ignore[no-untyped-def]  # noqa: ANN201

    def commit(self) -> None: ...
    def __enter__(self) -> UoW: ...
    def __exit__(self, *exc: object) -> None: ...


def asset_code(pollutant: str, zone: str, vintage: int) -> str:
    return f"{pollutant}/{zone}/{vintage}"


MONEY = "CNY"
BUREAU = "BUREAU"
BANK = "BANK"


@dataclass(frozen=True)
class BatchResult:
    entries: list[Entry]
    replayed: bool  # True when every id already existed with the same fields


def _same(t: Transfer, e: Entry) -> str | None:
    """The first field in which a repeated id differs from the original, or None."""
    checks = {
        "type": (t.type, e.type), "phase": (t.phase, e.phase),
        "pending_id": (t.pending_id, e.pending_id),
        "debit_account": (t.debit_account, e.debit_account),
        "credit_account": (t.credit_account, e.credit_account),
        "reference": (t.reference, e.reference),
    }
    if t.phase in ("single", "pending") or t.amount != 0:
        checks["amount"] = (t.amount, e.amount)
    for name, (a, b) in checks.items():
        if a != b:
            return name
    return None


def execute(uow: UoW, transfers: Sequence[Transfer], *, initiator: Initiator, actor: str,
            batch: str | None = None, now: datetime | None = None) -> BatchResult:
    """Apply a linked batch inside the caller's transaction. Raises a LedgerRejection."""
    now = now or system_clock()
    store = LedgerStore(uow.session)
    if len(transfers) > 8000:
        raise E.BatchTooLarge("a batch takes at most 8000 transfers")
    seen = store.existing([t.id for t in transfers])
    if seen:
        for t in transfers:
            e = seen.get(t.id)
            if e is None:
                raise E.IdConflict(f"transfer {t.id} is new but its batch partly exists",
                                   transfer_id=t.id, field="id")
            diff = _same(t, e)
            if diff is not None:
                raise E.IdConflict(f"transfer {t.id} exists with a different {diff}",
                                   transfer_id=t.id, field=diff)
        return BatchResult([seen[t.id] for t in transfers], True)
    if len({t.id for t in transfers}) != len(transfers):
        raise E.IdConflict("a batch repeats a transfer id", field="id")
    pend_ids = {t.pending_id for t in transfers if t.pending_id}
    pendings = store.load_pendings(pend_ids)
    acct_ids: set[int] = set()
    for t in transfers:
        acct_ids.update((t.debit_account, t.credit_account))
    for p in pendings.values():
        acct_ids.update((p.debit_account, p.credit_account))
    accounts = store.lock_accounts(acct_ids)
    known_pendings = set(pendings)
    ledger = Ledger(accounts, pendings)
    moved = ledger.apply_batch(list(transfers), initiator, now)
    seq, prev = store.lock_head()
    entries: list[Entry] = []
    for t, (asset, amount) in zip(transfers, moved, strict=True):
        if t.pending_id and t.phase in ("post", "void", "expire"):
            p = ledger.pendings[t.pending_id]
            dr, cr = p.debit_account, p.credit_account
        else:
            dr, cr = t.debit_account, t.credit_account
        seq += 1
        pend = ledger.pendings.get(t.id) if t.phase == "pending" else None
        e = Entry(seq, t.id, batch, t.type, t.phase, t.pending_id, dr, cr, asset, amount,
                  t.reference, actor, now, pend.timeout_at if pend else None, prev)
        e = Entry(**{f.name: getattr(e, f.name) for f in fields(Entry) if f.name != "hash"},
                  hash=entry_hash(e))
        entries.append(e)
        prev = e.hash
    store.append(entries)
    store.set_head(seq, prev)
    store.save_accounts(accounts[i] for i in acct_ids if i in accounts)
    touched = {t.id for t in transfers if t.phase == "pending"} | pend_ids
    store.save_pendings([ledger.pendings[i] for i in touched if i in ledger.pendings],
                        new_ids=touched - known_pendings)
    return BatchResult(entries, False)


def submit(uow_factory: Callable[[], UoW], transfers: Sequence[Transfer], *,
           initiator: Initiator, actor: str, batch: str | None = None,
           now: datetime | None = None) -> BatchResult:
    """The ledger's own use case: one linked batch, committed, or rejected with an audit row."""
    now = now or system_clock()
    try:
        with uow_factory() as uow:
            result = execute(uow, transfers, initiator=initiator, actor=actor, batch=batch,
                             now=now)
            uow.commit()
            return result
    except E.LedgerRejection as exc:
        record_rejection(uow_factory, exc, actor, now)
        raise


def record_rejection(uow_factory: Callable[[], UoW], exc: E.LedgerRejection, actor: str,
                     now: datetime) -> None:
    with uow_factory() as uow:
        LedgerStore(uow.session).reject(exc.transfer_id, exc.code, exc.message, actor, now)
        uow.commit()


def ensure_rights_accounts(uow: UoW, *, holder: str, pollutant: str, zone: str, vintage: int,
                           kinds: Sequence[AccountKind], now: datetime,
                           upper_limit: int | None = None) -> dict[AccountKind, int]:
    store = LedgerStore(uow.session)
    code = asset_code(pollutant, zone, vintage)
    store.ensure_asset(code, "right", pollutant, zone, vintage)
    out = {}
    for k in kinds:
        out[k] = store.ensure_account(
            holder, k, code, now=now,
            upper_limit=upper_limit if k == AccountKind.CONFIRMED else None)
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
