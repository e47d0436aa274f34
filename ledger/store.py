"""Ledger repository: all SQL of the ledger. Maps rows to `AccountState`, `PendingState`, `Entry`.

Locking: `lock_accounts` takes row locks in ascending id order (PostgreSQL), `lock_head` locks
the single journal-head row, so journal appends are serial and the hash chain has no forks.
On SQLite the writer already holds the database lock (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ledger.entries import GENESIS, AccountState, Entry, PendingState
from ledger.tables import AccountRow, AssetRow, HeadRow, JournalRow, PendingRow, RejectionRow
from ledger.transactions import AccountKind


def _upsert_ignore(session: Session, table: type, values: dict[str, object]) -> None:
    dialect = session.get_bind().dialect.name
    mod = postgresql if dialect == "postgresql" else sqlite
    stmt = mod.insert(table).values(**values).on_conflict_do_nothing()  # type: ignore[attr-defined]
    session.execute(stmt)


def _state(r: AccountRow) -> AccountState:
    return AccountState(r.id, r.holder, AccountKind(r.kind), r.asset, r.no_overdraft,
                        r.upper_limit, r.frozen, r.debits_posted, r.credits_posted,
                        r.debits_pending, r.credits_pending)


def _entry(r: JournalRow) -> Entry:
    return Entry(r.seq, r.id, r.batch, r.type, r.phase, r.pending_id, r.debit_account,
                 r.credit_account, r.asset, r.amount, r.reference, r.initiator, r.created_at,
                 r.timeout_at, r.prev_hash, r.hash)


class LedgerStore:
    def __init__(self, session: Session) -> None:
        self.s = session

    @property
    def postgres(self) -> bool:
        return self.s.get_bind().dialect.name == "postgresql"

    # -- assets and accounts ------------------------------------------------------------
    def ensure_asset(self, code: str, kind: str, pollutant: str | None = None,
                     zone: str | None = None, vintage: int | None = None) -> None:
        if self.s.get(AssetRow, code) is None:
            _upsert_ignore(self.s, AssetRow, dict(
                code=code, kind=kind, pollutant=pollutant, zone=zone, vintage=vintage,
                unit="fen" if kind == "money" else "kg"))

    def account_id(self, holder: str, kind: str, asset: str) -> int | None:
        return self.s.scalar(select(AccountRow.id).where(
            AccountRow.holder == holder, AccountRow.kind == kind, AccountRow.asset == asset))

    def ensure_account(self, holder: str, kind: str, asset: str, *, now: datetime,
                       no_overdraft: bool = True, upper_limit: int | None = None) -> int:
        found = self.account_id(holder, kind, asset)
        if found is not None:
            return found
        _upsert_ignore(self.s, AccountRow, dict(
            holder=holder, kind=kind, asset=asset, no_overdraft=no_overdraft,
            upper_limit=upper_limit, frozen=False, debits_posted=0, credits_posted=0,
            debits_pending=0, credits_pending=0, created_at=now))
        made = self.account_id(holder, kind, asset)
        assert made is not None
        return made

    def set_upper_limit(self, account_id: int, limit: int | None) -> None:
        self.s.execute(update(AccountRow).where(AccountRow.id == account_id)
                       .values(upper_limit=limit))

    def set_frozen(self, account_id: int, frozen: bool, reason: str | None) -> None:
        self.s.execute(update(AccountRow).where(AccountRow.id == account_id)
                       .values(frozen=frozen, frozen_reason=reason))

    def get_account(self, account_id: int) -> AccountState | None:
        r = self.s.get(AccountRow, account_id, populate_existing=True)
        return _state(r) if r is not None else None

    def accounts_of(self, holders: Iterable[str]) -> list[AccountState]:
        rows = self.s.scalars(select(AccountRow).where(AccountRow.holder.in_(list(holders)))
                              .order_by(AccountRow.asset, AccountRow.kind))
        return [_state(r) for r in rows]

    def lock_accounts(self, ids: Iterable[int]) -> dict[int, AccountState]:
        wanted = sorted(set(ids))
        out: dict[int, AccountState] = {}
        for chunk_start in range(0, len(wanted), 2000):
            chunk = wanted[chunk_start:chunk_start + 2000]
            q = (select(AccountRow).where(AccountRow.id.in_(chunk)).order_by(AccountRow.id)
                 .execution_options(populate_existing=True))
            if self.postgres:
                q = q.with_for_update()
            for r in self.s.scalars(q):
                out[r.id] = _state(r)
        return out

    def save_accounts(self, states: Iterable[AccountState]) -> None:
        rows = [dict(id=a.id, debits_posted=a.debits_posted, credits_posted=a.credits_posted,
                     debits_pending=a.debits_pending, credits_pending=a.credits_pending)
                for a in states]
        if rows:
            self.s.execute(update(AccountRow), rows)

    # -- pending transfers --------------------------------------------------------------
    def load_pendings(self, ids: Iterable[str]) -> dict[str, PendingState]:
        wanted = sorted({i for i in ids if i})
        if not wanted:
            return {}
        q = (select(PendingRow).where(PendingRow.id.in_(wanted))
             .execution_options(populate_existing=True))
        if self.postgres:
            q = q.with_for_update()
        return {r.id: PendingState(r.id, r.debit_account, r.credit_account, r.amount, r.posted,
                                   r.state, r.timeout_at) for r in self.s.scalars(q)}

    def save_pendings(self, states: Iterable[PendingState], new_ids: set[str]) -> None:
        new = [dict(id=p.id, debit_account=p.debit_account, credit_account=p.credit_account,
                    amount=p.amount, posted=p.posted, state=p.state, timeout_at=p.timeout_at)
               for p in states if p.id in new_ids]
        old = [dict(id=p.id, posted=p.posted, state=p.state)
               for p in states if p.id not in new_ids]
        if new:
            self.s.execute(insert(PendingRow), new)
        if old:
            self.s.execute(update(PendingRow), old)

    def expired_pendings(self, now: datetime, limit: int = 1000) -> list[str]:
        return list(self.s.scalars(select(PendingRow.id).where(
            PendingRow.state == "pending", PendingRow.timeout_at.is_not(None),
            PendingRow.timeout_at <= now).limit(limit)))

    # -- journal ------------------------------------------------------------------------
    def lock_head(self) -> tuple[int, str]:
        q = select(HeadRow).where(HeadRow.id == 1).execution_options(populate_existing=True)
        if self.postgres:
            q = q.with_for_update()
        head = self.s.scalar(q)
        if head is None:
            _upsert_ignore(self.s, HeadRow, dict(id=1, seq=0, hash=GENESIS))
            head = self.s.scalar(q)
            assert head is not None
        return head.seq, head.hash

    def set_head(self, seq: int, hash_: str) -> None:
        self.s.execute(update(HeadRow).where(HeadRow.id == 1).values(seq=seq, hash=hash_))

    def existing(self, ids: Iterable[str]) -> dict[str, Entry]:
        wanted = list(ids)
        out: dict[str, Entry] = {}
        for i in range(0, len(wanted), 2000):
            for r in self.s.scalars(select(JournalRow).where(
                    JournalRow.id.in_(wanted[i:i + 2000]))):
                out[r.id] = _entry(r)
        return out

    def append(self, entries: list[Entry]) -> None:
        if entries:
            self.s.execute(insert(JournalRow), [dict(
                seq=e.seq, id=e.id, batch=e.batch, type=e.type, phase=e.phase,
                pending_id=e.pending_id, debit_account=e.debit_account,
                credit_account=e.credit_account, asset=e.asset, amount=e.amount,
                reference=e.reference, initiator=e.initiator, created_at=e.created_at,
                timeout_at=e.timeout_at, prev_hash=e.prev_hash, hash=e.hash) for e in entries])

    def reject(self, transfer_id: str | None, code: str, detail: str, initiator: str,
               now: datetime) -> None:
        self.s.add(RejectionRow(transfer_id=transfer_id, code=code, detail=detail,
                                initiator=initiator, created_at=now))

    def journal(self, *, after_seq: int = 0, batch_size: int = 50_000) -> Iterator[Entry]:
        last = after_seq
        while True:
            rows = self.s.scalars(select(JournalRow).where(JournalRow.seq > last)
                                  .order_by(JournalRow.seq).limit(batch_size)).all()
            if not rows:
                return
            for r in rows:
                yield _entry(r)
            last = rows[-1].seq

    def entries_for_accounts(self, ids: list[int], limit: int = 500) -> list[Entry]:
        rows = self.s.scalars(select(JournalRow).where(
            (JournalRow.debit_account.in_(ids)) | (JournalRow.credit_account.in_(ids)))
            .order_by(JournalRow.seq.desc()).limit(limit))
        return [_entry(r) for r in rows]

    def asset_sums(self) -> dict[str, int]:
        """Sum of posted balances per asset over every account (must be zero)."""
        rows = self.s.execute(select(AccountRow.asset, func.sum(
            AccountRow.credits_posted - AccountRow.debits_posted)).group_by(AccountRow.asset))
        return {a: int(s or 0) for a, s in rows}
