"""The ledger's public group API: apply many linked batches in memory, write them once.

A caller that settles many things in one transaction (the order pipeline's group of orders,
the ledger's own group-commit writer, a bulk confirmation) opens a `LedgerGroup` on its
session, applies each batch (all or nothing, in memory, against accounts and pending transfers
locked as they are first touched) and calls `write` once: the balances, the journal entries,
the head and the transparency log's leaves in one write (`write_parts`).

Lock order: the journal head first (`lock_head`, or `head` given by a caller that locked it),
then pending transfers and accounts, as every journal writer does (see `ledger.service`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from ledger.entries import AccountState, Ledger, PendingState, Transfer
from ledger.service import Part, UoW, write_parts
from ledger.store import LedgerStore
from ledger.transactions import Initiator

__all__ = ["LedgerGroup", "Part", "write_parts"]


class LedgerGroup:
    """The ledger of one group: accounts and pending transfers locked when first touched,
    each batch applied in memory (all or nothing), everything written once by `write`.

    `head`: the journal head (seq, hash) when the caller locked it already; None: `write`
    locks and reads it."""

    def __init__(self, uow: UoW, *, head: tuple[int, str] | None = None) -> None:
        self.store = LedgerStore(uow.session)
        self.ledger = Ledger({}, {}, {})
        self.known: set[str] = set()  # pending transfers that exist in the database
        self.head = head
        self._absent: set[str] = set()
        self.parts: list[Part] = []

    def load_pendings(self, ids: Iterable[str]) -> None:
        """Lock and load these pending transfers (and their accounts) if not yet loaded."""
        pend = self.ledger.pendings
        missing = {i for i in ids if i and i not in pend and i not in self._absent}
        if not missing:
            return
        found = self.store.load_pendings(missing)
        pend.update(found)
        self.known.update(found)
        self._absent.update(missing - set(found))
        self.load_accounts(a for p in found.values() for a in (p.debit_account,
                                                               p.credit_account))

    def load_accounts(self, ids: Iterable[int]) -> None:
        """Lock and load these accounts if not yet loaded."""
        accounts = self.ledger.accounts
        missing = {i for i in ids if i and i not in accounts}
        if missing:
            accounts.update(self.store.lock_accounts(missing))

    def pending(self, pid: str) -> PendingState | None:
        self.load_pendings([pid])
        return self.ledger.pendings.get(pid)

    def account(self, account_id: int) -> AccountState | None:
        self.load_accounts([account_id])
        return self.ledger.accounts.get(account_id)

    def apply(self, transfers: Sequence[Transfer], *, initiator: Initiator, actor: str,
              batch: str, now: datetime) -> None:
        """Apply a linked batch in memory; raises a LedgerRejection having changed nothing."""
        if not transfers:
            return
        self.load_pendings(t.pending_id for t in transfers if t.pending_id)
        self.load_accounts(a for t in transfers for a in (t.debit_account, t.credit_account))
        moved = self.ledger.apply_batch(transfers, initiator, now)
        self.parts.append(Part(list(transfers), moved, batch, actor, now))

    def write(self) -> None:
        """Write every batch applied, once (nothing when none was)."""
        if self.parts:
            write_parts(self.store, self, self.parts)
