"""Reserve auctions against the database: the bureau sells reserve rights by sealed bid.

Lifecycle: draft → open → closed → cleared | cancelled; cleared → settled. Each step is one
unit of work.

- create (draft): the offer, the reserve price (never below the pollutant's base price,
  `trading.prices`), the rule (uniform or pay-as-bid), the optional per-bidder cap and the
  tie-break seed. The seed is fixed and published when the auction is created, before any
  bid, so the random tie order cannot be chosen after seeing the bids.
- open: the offered rights are held in the bureau reserve (a pending transfer reserve →
  market settlement), so they cannot be sold twice.
- bid (open only): a bid holds a deposit and headroom. Deposit: the bid's full value
  (qty × price, rounded up): a winner pays at most its own price, so the deposit always
  covers the payment and the deposit is also the cash check; nothing is left to collect
  after the auction. Headroom: a pending credit to the bidder's confirmed account, so a
  win can never take the permit above its cap.
- close: no more bids.
- clear: `trading.auction.clear` (the same code as `erts auction clear`) over the bids in
  arrival order. Cancelled (undersubscribed): every hold is voided. Cleared: the losing
  bids' deposits and headroom are voided at once; the winners' stay held.
- settle: per winning bid one linked batch posts its headroom hold for the quantity won
  (the rights come from the offer hold: reserve → settlement → confirmed, `reserve_release`),
  takes the payment out of its deposit and pays it to the bureau's cash account, and voids
  the rest of its holds; the unsold part of the offer returns to the reserve. Every win is a
  trade row (venue ``auction``, seller ``BUREAU``) and a record in the winner's permit.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from kernel.clock import trading_day
from kernel.errors import InvalidInput
from kernel.quantities import trade_value
from ledger import errors as LE
from ledger import service as ledger
from ledger.entries import Transfer
from ledger.service import UoW
from ledger.store import LedgerStore
from ledger.transactions import AccountKind, Initiator
from trading.auction import RULES, Bid, bidder_cap, clear
from trading.errors import (
    AuctionNotFound,
    AuctionWrongState,
    InsufficientReserve,
    ReserveBelowBasePrice,
)
from trading.market import CapHeadroomExceeded, InsufficientCash, MarketNotFound, check_value
from trading.ports import Permits
from trading.prices import base_price, value_ceiling
from trading.service import VENUE_ID_MAX, check_id, utc
from trading.settlement import (
    BUREAU,
    RESERVE_PARTY,
    Accounts,
    Party,
    lock_ledger,
    record_trade,
    retry_conflicts,
)
from trading.store import TradingStore
from trading.tables import AuctionBidRow, AuctionRow, MarketRow

DEPOSIT_PCT = 100  # of the bid's value; see the module docstring


def _int(value: object, name: str, *, zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if zero else 1):
        raise InvalidInput(f"{name} must be a {'non-negative' if zero else 'positive'} "
                           "whole number", field=name)
    return value


def _auction(uow: UoW, store: TradingStore, auction_id: str, *states: str) -> AuctionRow:
    a = store.auction(auction_id, lock=True)
    if a is None:
        raise AuctionNotFound(f"no auction {auction_id}", field="auction")
    lock_ledger(uow)
    if states and a.status not in states:
        raise AuctionWrongState(f"auction {auction_id} is {a.status}; this needs "
                                f"{' or '.join(states)}")
    return a


def _market(store: TradingStore, market_id: str) -> MarketRow:
    m = store.market(market_id)
    if m is None:
        raise MarketNotFound(f"no market {market_id!r}", field="market")
    return m


def create_auction(uow: UoW, *, market: str, offered: int, reserve_price: int,
                   rule: str = "uniform", bidder_cap_pct: str | int | float | None = None,
                   tie_seed: int | None = None, actor: str, now: datetime | None = None,
                   auction_id: str | None = None) -> dict[str, Any]:
    now = utc(now)
    _int(offered, "offered")
    check_id(auction_id, "auction_id", VENUE_ID_MAX)
    _int(reserve_price, "reserve_price")
    check_value(offered, reserve_price, "offered")
    if rule not in RULES:
        raise InvalidInput("rule must be uniform or pay_as_bid", field="rule")
    cap_text = None
    if bidder_cap_pct is not None:
        try:
            cap_text = str(Decimal(str(bidder_cap_pct)))
        except InvalidOperation:
            raise InvalidInput("bidder_cap_pct must be a number", field="bidder_cap_pct"
                               ) from None
        bidder_cap(offered, cap_text)  # (0, 100] or bad_auction_input
    seed = secrets.randbelow(1 << 62) if tie_seed is None else _int(tie_seed, "tie_seed",
                                                                      zero=True)
    with uow:
        store = TradingStore(uow.session)
        m = _market(store, market)
        floor = base_price(m.pollutant)
        if reserve_price < floor:
            raise ReserveBelowBasePrice(
                f"reserve price {reserve_price} fen/t is below the {m.pollutant} base price "
                f"{floor} fen/t", field="reserve_price")
        aid = auction_id or f"auc-{uuid.uuid4().hex[:16]}"
        if store.auction(aid) is not None:
            raise AuctionWrongState(f"auction {aid} exists", field="auction")
        a = AuctionRow(id=aid, market=m.id, offered=offered, reserve_price=reserve_price,
                       rule=rule, tie_seed=seed, bidder_cap_pct=cap_text,
                       deposit_pct=DEPOSIT_PCT, status="draft", price=None, sold=0,
                       reason=None, created_by=actor, created_at=now, updated_at=now)
        store.add(a)
        store.flush()
        out = _view(a, [], reveal=True)
        uow.commit()
        return out


@retry_conflicts
def open_auction(uow: UoW, auction_id: str, *, actor: str, now: datetime | None = None
                 ) -> dict[str, Any]:
    """Hold the offered rights in the bureau reserve and start taking bids."""
    now = utc(now)
    with uow:
        store = TradingStore(uow.session)
        a = _auction(uow, store, auction_id, "draft")
        m = _market(store, a.market)
        acc = Accounts(uow, m, now)
        try:
            ledger.execute(uow, [Transfer(f"auction:{a.id}:offer", "transfer", acc.reserve(),
                                          acc.rights_settlement, a.offered, phase="pending",
                                          reference=f"auction:{a.id}")],
                           initiator=Initiator.BUREAU, actor=actor, batch=f"auction:{a.id}:open",
                           now=now)
        except LE.InsufficientBalance as exc:
            raise InsufficientReserve(f"the reserve holds less than {a.offered} kg",
                                      field="offered") from exc
        a.status, a.updated_at = "open", now
        out = _view(a, [], reveal=True)
        uow.commit()
        return out


@retry_conflicts
def place_bid(uow: UoW, *, auction_id: str, enterprise: str, permit: str, qty: int,
              price: int, permits: Permits, actor: str, now: datetime | None = None,
              bid_id: str | None = None) -> dict[str, Any]:
    """A sealed bid: holds its deposit (full value) and headroom under the permit cap."""
    now = utc(now)
    _int(qty, "qty")
    _int(price, "price")
    check_value(qty, price)
    check_id(bid_id, "bid_id", VENUE_ID_MAX)
    with uow:
        store = TradingStore(uow.session)
        a = _auction(uow, store, auction_id, "open")
        m = _market(store, a.market)
        if qty % m.min_lot:
            raise InvalidInput(f"qty must be a whole number of lots of {m.min_lot} kg",
                               field="qty")
        permits.check_trading_permit(uow, enterprise=enterprise, permit=permit,
                                     pollutant=m.pollutant, zone=m.zone, year=m.vintage,
                                     today=trading_day(now))
        bid = bid_id or f"bid-{uuid.uuid4().hex[:16]}"
        if store.bid(bid) is not None:
            raise InvalidInput(f"bid id {bid} is taken", field="bid_id")
        acc = Accounts(uow, m, now)
        deposit = value_ceiling(qty, price) * DEPOSIT_PCT // 100
        try:
            ledger.execute(uow, [
                Transfer(f"{bid}:room", "reserve_release", acc.rights_settlement,
                         acc.rights(permit, AccountKind.CONFIRMED), qty, phase="pending",
                         reference=f"auction:{a.id}"),
                Transfer(f"{bid}:cash", "transfer", acc.cash(enterprise), acc.cash_settlement,
                         deposit, phase="pending", reference=f"auction:{a.id}"),
            ], initiator=Initiator.SYSTEM, actor=actor, batch=f"{bid}:holds", now=now)
        except LE.OverLimit as exc:
            raise CapHeadroomExceeded("winning this bid would take the permit above its cap",
                                      field="qty") from exc
        except LE.InsufficientBalance as exc:
            raise InsufficientCash(f"a deposit of {deposit} fen is needed", field="price"
                                   ) from exc
        row = AuctionBidRow(id=bid, auction=a.id, enterprise=enterprise, permit=permit,
                            qty=qty, price=price, deposit=deposit, won=0, pay_price=None,
                            status="open", created_at=now)
        store.add(row)
        store.flush()
        out = _bid_dict(row)
        uow.commit()
        return out


def close_auction(uow: UoW, auction_id: str, *, actor: str, now: datetime | None = None
                  ) -> dict[str, Any]:
    now = utc(now)
    with uow:
        store = TradingStore(uow.session)
        a = _auction(uow, store, auction_id, "open")
        a.status, a.updated_at = "closed", now
        out = _view(a, [], reveal=True)
        uow.commit()
        return out


def _void(uow: UoW, ids: list[str], *, actor: str, now: datetime, batch: str) -> None:
    """Void what these pending transfers still hold (a bid's ``:room`` hold is a
    reserve release, the others plain transfers)."""
    pend = LedgerStore(uow.session).load_pendings(ids)
    voids = [Transfer(f"{pid}:void", "reserve_release" if pid.endswith(":room") else "transfer",
                      0, 0, 0, phase="void", pending_id=pid, reference=batch)
             for pid, p in sorted(pend.items()) if p.state == "pending" and p.remaining > 0]
    if voids:
        ledger.execute(uow, voids, initiator=Initiator.SYSTEM, actor=actor, batch=batch,
                       now=now)


@retry_conflicts
def clear_auction(uow: UoW, auction_id: str, *, actor: str, now: datetime | None = None
                  ) -> dict[str, Any]:
    """Clear a closed auction with `trading.auction.clear`; release what lost."""
    now = utc(now)
    with uow:
        store = TradingStore(uow.session)
        a = _auction(uow, store, auction_id, "closed")
        bids = store.bids(a.id)
        result = clear(a.offered, a.reserve_price,
                       [Bid(b.enterprise, b.qty, b.price) for b in bids], rule=a.rule,  # type: ignore[arg-type]
                       tie_seed=a.tie_seed, bidder_cap_pct=a.bidder_cap_pct)
        won = {f.bid_index: f for f in result.fills}
        losers: list[str] = []
        for i, b in enumerate(bids):
            f = won.get(i)
            if f is None:
                b.status = "lost" if result.status == "cleared" else "released"
                losers.extend([f"{b.id}:room", f"{b.id}:cash"])
            else:
                b.status, b.won, b.pay_price = "won", f.qty, f.price
        if result.status == "cancelled":
            losers.append(f"auction:{a.id}:offer")
            a.status, a.reason = "cancelled", result.reason
        else:
            a.status, a.price, a.sold = "cleared", result.price, sum(
                f.qty for f in result.fills)
        _void(uow, losers, actor=actor, now=now, batch=f"auction:{a.id}:clear")
        a.updated_at = now
        out = _view(a, bids, reveal=True)
        uow.commit()
        return out


@retry_conflicts
def settle_auction(uow: UoW, auction_id: str, *, permits: Permits, actor: str,
                   now: datetime | None = None) -> dict[str, Any]:
    """Deliver the rights and collect the payments of a cleared auction."""
    now = utc(now)
    with uow:
        store = TradingStore(uow.session)
        a = _auction(uow, store, auction_id, "cleared")
        m = _market(store, a.market)
        acc = Accounts(uow, m, now)
        bureau_cash = acc.bureau_cash()
        offer = f"auction:{a.id}:offer"
        first = [Transfer(f"{offer}:post", "transfer", 0, 0, a.sold, phase="post",
                          pending_id=offer, reference=f"auction:{a.id}")]
        if a.sold < a.offered:
            first.append(Transfer(f"{offer}:void", "transfer", 0, 0, 0, phase="void",
                                  pending_id=offer, reference=f"auction:{a.id}"))
        ledger.execute(uow, first, initiator=Initiator.SYSTEM, actor=actor,
                       batch=f"auction:{a.id}:offer", now=now)
        bids = store.bids(a.id)
        for b in bids:
            if b.status != "won":
                continue
            assert b.pay_price is not None
            value = trade_value(b.won, b.pay_price)
            ref = f"{b.id}:settle"
            batch = [Transfer(f"{b.id}:room:post", "reserve_release", 0, 0, b.won,
                              phase="post", pending_id=f"{b.id}:room", reference=ref)]
            if b.won < b.qty:
                batch.append(Transfer(f"{b.id}:room:void", "reserve_release", 0, 0, 0,
                                      phase="void", pending_id=f"{b.id}:room", reference=ref))
            if value:
                batch.append(Transfer(f"{b.id}:cash:post", "transfer", 0, 0, value,
                                      phase="post", pending_id=f"{b.id}:cash", reference=ref))
                batch.append(Transfer(f"{b.id}:pay", "reserve_release", acc.cash_settlement,
                                      bureau_cash, value, reference=ref))
            if value < b.deposit:
                batch.append(Transfer(f"{b.id}:cash:void", "transfer", 0, 0, 0, phase="void",
                                      pending_id=f"{b.id}:cash", reference=ref))
            ledger.execute(uow, batch, initiator=Initiator.SYSTEM, actor=actor, batch=ref,
                           now=now)
            record_trade(uow, store, m, buy=Party(b.enterprise, b.permit, b.id, b.id),
                         sell=Party(BUREAU, RESERVE_PARTY, offer, a.id), price=b.pay_price,
                         qty=b.won, value=value, fee_buyer=0, fee_seller=0, aggressor="buy",
                         venue="auction", permits=permits, now=now)
            b.status = "settled"
        a.status, a.updated_at = "settled", now
        out = _view(a, bids, reveal=True)
        uow.commit()
        return out


def _bid_dict(b: AuctionBidRow) -> dict[str, Any]:
    return dict(id=b.id, auction=b.auction, enterprise=b.enterprise, permit=b.permit,
                qty=b.qty, price=b.price, deposit=b.deposit, won=b.won,
                pay_price=b.pay_price, status=b.status, created_at=b.created_at.isoformat())


def _view(a: AuctionRow, bids: list[AuctionBidRow], *, reveal: bool) -> dict[str, Any]:
    """The auction; results once cleared. Public results are anonymised: quantities and
    prices of the winning bids, no bidders; `reveal` adds every bid (the bureau)."""
    out: dict[str, Any] = dict(
        id=a.id, market=a.market, offered=a.offered, reserve_price=a.reserve_price,
        rule=a.rule, tie_seed=a.tie_seed, bidder_cap_pct=a.bidder_cap_pct,
        deposit_pct=a.deposit_pct, status=a.status, price=a.price, sold=a.sold,
        reason=a.reason, created_at=a.created_at.isoformat())
    if a.status in ("cleared", "settled"):
        out["results"] = [dict(qty=b.won, price=b.pay_price) for b in bids if b.won]
    if reveal:
        out["bids"] = [_bid_dict(b) for b in bids]
    return out


def auction_view(uow: UoW, auction_id: str, *, reveal: bool = False,
                 enterprise: str | None = None) -> dict[str, Any]:
    """An auction with its results; `reveal` shows every bid, `enterprise` its own bids."""
    with uow:
        store = TradingStore(uow.session)
        a = store.auction(auction_id)
        if a is None:
            raise AuctionNotFound(f"no auction {auction_id}", field="auction")
        bids = store.bids(a.id)
        out = _view(a, bids, reveal=reveal)
        if not reveal and enterprise is not None:
            out["bids"] = [_bid_dict(b) for b in bids if b.enterprise == enterprise]
        return out


def list_auctions(uow: UoW, market: str | None = None) -> list[dict[str, Any]]:
    with uow:
        return [_view(a, [], reveal=False) for a in TradingStore(uow.session).auctions(market)]
