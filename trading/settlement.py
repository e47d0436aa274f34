"""Ledger plumbing shared by every trading venue: the accounts a market touches, holds, and
the linked batch that settles one trade.

A trade settles as one linked ledger batch inside the caller's unit of work (rights seller →
buyer, money buyer → seller, fees to the bureau's fee account), written with the trade row
and both permits' records, so a trade is all there or not at all.

Accounts: ``MARKET`` holds one settlement (escrow) account per market asset and one for
money; fees go to the ``BUREAU`` fees account; the bureau's reserve and cash accounts are
``BUREAU`` reserve (per asset) and ``BUREAU`` cash.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import ParamSpec, TypeVar

from kernel.errors import DomainError
from kernel.quantities import trade_value
from kernel.records import PermitTrade
from ledger import errors as LE
from ledger import service as ledger
from ledger.entries import PendingState, Transfer
from ledger.service import UoW
from ledger.store import LedgerStore
from ledger.store import translate as db_translate
from ledger.transactions import AccountKind, Initiator
from trading.market import CapHeadroomExceeded, InsufficientCash, InsufficientTradable
from trading.ports import Permits
from trading.prices import fee_ceiling, fee_of, value_ceiling
from trading.store import TradeRecord, TradingStore
from trading.tables import MarketRow, TradeRow

MARKET_HOLDER = "MARKET"
BUREAU = ledger.BUREAU
RESERVE_PARTY = "RESERVE"  # the counterparty a permit records for the bureau reserve
RETRIES = 5


#: account ids by (database, holder, kind, asset): filled only after a commit (`remember`),
#: so an account created by a transaction that rolled back is never remembered
_KNOWN: dict[tuple[str, str, str, str], int] = {}


class Accounts:
    """Ledger accounts a market touches, created on first use.

    Ids of accounts that already existed are kept for the process once the transaction that
    looked them up commits (call `remember` after the commit): accounts are never deleted,
    so an id, once committed, stays right."""

    def __init__(self, uow: UoW, market: MarketRow, now: datetime) -> None:
        self.uow, self.m, self.now = uow, market, now
        self.db = str(uow.session.get_bind().url)
        self.lstore = LedgerStore(uow.session)
        self.found: dict[tuple[str, str, str, str], int] = {}
        self.rights_settlement = self._ensure(MARKET_HOLDER, AccountKind.SETTLEMENT, market.id,
                                              no_overdraft=False)
        self.cash_settlement = self._ensure(MARKET_HOLDER, AccountKind.SETTLEMENT,
                                            ledger.MONEY)
        self._fees: int | None = None

    def _ensure(self, holder: str, kind: str, asset: str, *, no_overdraft: bool = True) -> int:
        key = (self.db, holder, str(kind), asset)
        known = _KNOWN.get(key) or self.found.get(key)
        if known is not None:
            return known
        if asset == ledger.MONEY:
            self.lstore.ensure_asset(ledger.MONEY, "money")
        else:
            m = self.m
            self.lstore.ensure_asset(m.id, "right", m.pollutant, m.zone, m.vintage)
        made = self.lstore.ensure_account(holder, kind, asset, now=self.now,
                                          no_overdraft=no_overdraft)
        self.found[key] = made
        return made

    def lookup(self, holder: str, kind: str, asset: str) -> int | None:
        key = (self.db, holder, str(kind), asset)
        known = _KNOWN.get(key) or self.found.get(key)
        if known is not None:
            return known
        found = self.lstore.account_id(holder, kind, asset)
        if found is not None:
            self.found[key] = found
        return found

    def remember(self) -> None:
        """After the commit: keep the ids this transaction saw."""
        _KNOWN.update(self.found)

    def rights(self, permit: str, kind: AccountKind) -> int:
        found = self.lookup(permit, kind, self.m.id)
        if found is None:
            raise (InsufficientTradable if kind == AccountKind.TRADABLE else
                   CapHeadroomExceeded)(f"permit {permit} holds no {kind} {self.m.id} rights")
        return found

    def cash(self, enterprise: str) -> int:
        return self._ensure(enterprise, AccountKind.CASH, ledger.MONEY)

    def fees(self) -> int:
        if self._fees is None:
            self._fees = self._ensure(BUREAU, AccountKind.FEES, ledger.MONEY)
        return self._fees

    def reserve(self) -> int:
        found = self.lookup(BUREAU, AccountKind.RESERVE, self.m.id)
        if found is None:
            from trading.errors import InsufficientReserve

            raise InsufficientReserve(f"the bureau holds no {self.m.id} reserve")
        return found

    def bureau_cash(self) -> int:
        return self._ensure(BUREAU, AccountKind.CASH, ledger.MONEY)


def lock_ledger(uow: UoW) -> tuple[int, str]:
    """Take the ledger's journal head lock now, right after the market (or venue) lock
    (`ledger.service.lock_journal`).

    A trading transaction writes the ledger in several rounds (holds, each trade, releases)
    and locks accounts, pending transfers and permit quantities as it goes. Every journal
    writer takes the head before any of those, so none of them holds one while it waits for
    the head: the order everywhere is market (or venue) → head → the rest. It costs no
    parallelism, since the head is held to the commit from the first ledger write anyway.
    Returns the head (seq, hash), which stays as it is until this transaction writes the
    journal."""
    return ledger.lock_journal(uow)


def buy_hold_cash(qty: int, price: int, fee_bps: int) -> int:
    """Cash a buy of `qty` at up to `price` must hold: the value rounded up, plus the most
    its fee can be."""
    v = value_ceiling(qty, price)
    return v + fee_ceiling(v, fee_bps)


def hold_transfers(prefix: str, side: str, *, qty: int, price: int | None, permit: str,
                   enterprise: str, acc: Accounts, fee_bps: int, reference: str
                   ) -> list[Transfer]:
    """Pending transfers that back an order: a sell holds tradable rights; a buy reserves
    headroom under the permit cap (a pending credit to its confirmed account) and holds
    cash for qty × price plus the fee."""
    if side == "sell":
        return [Transfer(f"{prefix}:hold", "transfer", acc.rights(permit, AccountKind.TRADABLE),
                         acc.rights_settlement, qty, phase="pending", reference=reference)]
    assert price is not None
    return [
        Transfer(f"{prefix}:room", "transfer", acc.rights_settlement,
                 acc.rights(permit, AccountKind.CONFIRMED), qty, phase="pending",
                 reference=reference),
        Transfer(f"{prefix}:cash", "transfer", acc.cash(enterprise), acc.cash_settlement,
                 buy_hold_cash(qty, price, fee_bps), phase="pending", reference=reference),
    ]


def translate(exc: LE.LedgerRejection, side: str) -> Exception:
    """A ledger rejection of an order's holds, as the trading rule it breaks."""
    if isinstance(exc, LE.OverLimit):
        return CapHeadroomExceeded("buying this quantity would take the permit above its cap")
    if isinstance(exc, LE.InsufficientBalance):
        if side == "sell":
            return InsufficientTradable("not enough tradable rights to hold for this order")
        return InsufficientCash("not enough cash to hold for this order")
    return exc


def hold_ids(prefix: str, side: str) -> list[str]:
    """The pending transfers `hold_transfers` makes for an order: a sell's rights, a buy's
    headroom and cash."""
    return [f"{prefix}:hold"] if side == "sell" else [f"{prefix}:room", f"{prefix}:cash"]


def void_transfers(pendings: Iterable[PendingState], batch: str) -> list[Transfer]:
    """Voids of whatever these pending transfers still hold, in id order."""
    return [Transfer(f"{p.id}:void", "transfer", 0, 0, 0, phase="void", pending_id=p.id,
                     reference=batch)
            for p in sorted(pendings, key=lambda p: p.id)
            if p.state == "pending" and p.remaining > 0]


def release(uow: UoW, prefixes: list[tuple[str, str]], *, actor: str, now: datetime,
            batch: str) -> None:
    """Void whatever holds with these (prefix, side) still hold."""
    ids = [pid for prefix, side in prefixes for pid in hold_ids(prefix, side)]
    voids = void_transfers(LedgerStore(uow.session).load_pendings(ids).values(), batch)
    if voids:
        ledger.execute(uow, voids, initiator=Initiator.SYSTEM, actor=actor, batch=batch,
                       now=now)


@dataclass(frozen=True)
class Party:
    """One side of a trade: who, which permit, and the prefix of its holds."""

    enterprise: str
    permit: str
    hold: str  # prefix of the holds (<hold>:hold for a seller, <hold>:room|cash for a buyer)
    order: str  # order, listing, transfer or auction-bid id, for the trade row


def settlement_transfers(acc: Accounts, *, buy: Party, sell: Party, price: int, qty: int,
                         ref: str, fee_bps: int, cash_hold: PendingState | None
                         ) -> tuple[list[Transfer], int, int, int]:
    """The linked batch that settles one trade (see `settle_trade`), given the buyer's cash
    hold as it stands: (transfers, value, buyer's fee, seller's fee)."""
    value = trade_value(qty, price)
    fee_b = fee_of(value, fee_bps)
    fee_s = fee_of(value, fee_bps)
    due = value + fee_b
    from_hold = min(due, cash_hold.remaining
                    if cash_hold is not None and cash_hold.state == "pending" else 0)
    transfers = [
        Transfer(f"{ref}:rights-out", "transfer", 0, 0, qty, phase="post",
                 pending_id=f"{sell.hold}:hold", reference=ref),
        Transfer(f"{ref}:rights-in", "transfer", 0, 0, qty, phase="post",
                 pending_id=f"{buy.hold}:room", reference=ref),
    ]
    if from_hold:
        transfers.append(Transfer(f"{ref}:cash-in", "transfer", 0, 0, from_hold, phase="post",
                                  pending_id=f"{buy.hold}:cash", reference=ref))
    if due > from_hold:
        transfers.append(Transfer(f"{ref}:cash-extra", "transfer", acc.cash(buy.enterprise),
                                  acc.cash_settlement, due - from_hold, reference=ref))
    if value - fee_s:
        transfers.append(Transfer(f"{ref}:cash-out", "transfer", acc.cash_settlement,
                                  acc.cash(sell.enterprise), value - fee_s, reference=ref))
    if fee_b + fee_s:
        transfers.append(Transfer(f"{ref}:fees", "transfer", acc.cash_settlement, acc.fees(),
                                  fee_b + fee_s, reference=ref))
    return transfers, value, fee_b, fee_s


def settle_trade(uow: UoW, store: TradingStore, acc: Accounts, m: MarketRow, *, buy: Party,
                 sell: Party, price: int, qty: int, ref: str, aggressor: str, venue: str,
                 fee_bps: int, permits: Permits, actor: str, now: datetime) -> TradeRow:
    """Settle one trade between held parties as one linked batch: the seller's rights hold
    and the buyer's headroom hold are posted, the buyer's cash hold pays value and fee into
    settlement (topped up from the buyer's cash if rounding over partial fills passes the
    hold by a fen), the seller receives value less its fee, the fees go to the bureau."""
    cash_id = f"{buy.hold}:cash"
    transfers, value, fee_b, fee_s = settlement_transfers(
        acc, buy=buy, sell=sell, price=price, qty=qty, ref=ref, fee_bps=fee_bps,
        cash_hold=acc.lstore.load_pendings([cash_id]).get(cash_id))
    try:
        ledger.execute(uow, transfers, initiator=Initiator.SYSTEM, actor=actor, batch=ref,
                       now=now)
    except LE.InsufficientBalance as exc:
        raise InsufficientCash("not enough cash to settle the trade") from exc
    return record_trade(uow, store, m, buy=buy, sell=sell, price=price, qty=qty, value=value,
                        fee_buyer=fee_b, fee_seller=fee_s, aggressor=aggressor, venue=venue,
                        permits=permits, now=now)


def record_trade(uow: UoW, store: TradingStore, m: MarketRow, *, buy: Party, sell: Party,
                 price: int, qty: int, value: int, fee_buyer: int, fee_seller: int,
                 aggressor: str, venue: str, permits: Permits, now: datetime) -> TradeRow:
    """The trade row and both permits' records (a reserve seller has no permit)."""
    t = TradeRow(market=m.id, buy_order=buy.order, sell_order=sell.order,
                 buyer=buy.enterprise, seller=sell.enterprise, buyer_permit=buy.permit,
                 seller_permit=sell.permit, price=price, qty=qty, value_fen=value,
                 aggressor=aggressor, at=now, fee_buyer=fee_buyer, fee_seller=fee_seller,
                 venue=venue)
    store.add(t)
    store.flush()
    permits.record_trades(uow, pollutant=m.pollutant, year=m.vintage,
                          trades=permit_records(t))
    return t


def permit_records(t: TradeRow | TradeRecord) -> list[PermitTrade]:
    """What the trade writes into the buyer's permit and the seller's (a reserve seller has
    no permit)."""
    ref = f"trade:{t.id}"
    out = [PermitTrade(t.buyer_permit, "buy", t.qty, t.seller_permit, t.price, ref, t.at)]
    if t.seller_permit != RESERVE_PARTY:
        out.append(PermitTrade(t.seller_permit, "sell", t.qty, t.buyer_permit, t.price, ref,
                               t.at))
    return out


P = ParamSpec("P")
R = TypeVar("R")


def retry_conflicts(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a use case (one unit of work) again when PostgreSQL aborts it for a deadlock or a
    serialisation failure, or a unique-key race: a trading transaction takes ledger locks in
    several rounds (holds, each trade, releases) while holding the journal head, so two
    writers on different markets can deadlock; PostgreSQL breaks the cycle and the loser
    runs again from the start (its book was never put back: it is rebuilt). Rejections are
    never retried."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, RETRIES + 1):
            try:
                return fn(*args, **kwargs)
            except DomainError:
                raise
            except Exception as exc:
                if attempt == RETRIES or db_translate(exc) is None:
                    raise
                time.sleep(random.uniform(0, 0.004 * attempt))
        raise AssertionError("unreachable")

    return wrapper
