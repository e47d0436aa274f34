"""Trading use cases: place and cancel orders, settle every fill atomically.

One call is one transaction: the market row is locked (one writer per market), the order's
holds are placed in the ledger, the book is rebuilt from persisted resting orders, the order
is matched, and each fill settles as one linked ledger batch — rights seller → buyer, money
buyer → seller — written with the order state, the trade and both permits' history.
If anything is rejected, the whole transaction rolls back: no hold is left behind.

Holds (two-phase ledger transfers, ids derived from the order id):
- ``<order>:hold``  sell: the seller's tradable rights → market rights settlement;
- ``<order>:room``  buy: market rights settlement → the buyer's confirmed account, which
  reserves headroom under the permit cap (pending credits count against the upper limit);
- ``<order>:cash``  buy: the buyer's cash → market cash settlement, qty × limit price.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from kernel.clock import system_clock, trading_day
from kernel.errors import InvalidInput
from kernel.quantities import trade_value
from ledger import errors as LE
from ledger import service as ledger
from ledger.entries import Transfer
from ledger.service import UoW
from ledger.store import LedgerStore
from ledger.transactions import AccountKind, Initiator
from trading.book import Order, OrderBook
from trading.market import (
    CapHeadroomExceeded,
    DuplicateOrderId,
    InsufficientCash,
    InsufficientTradable,
    MarketNotFound,
    MarketRules,
    OrderNotFound,
    OrderNotLive,
    OrderRejected,
)
from trading.ports import Permits
from trading.store import TradingStore
from trading.tables import MarketRow, OrderRow, TradeRow

MARKET_HOLDER = "MARKET"


@dataclass(frozen=True)
class PlaceOrder:
    enterprise: str
    permit: str
    market: str
    side: str
    qty: int
    price: int
    tif: str = "gtc"
    order_id: str | None = None


@dataclass(frozen=True)
class TradeView:
    id: int
    market: str
    price: int
    qty: int
    value_fen: int
    buyer: str
    seller: str
    at: datetime


@dataclass
class OrderResult:
    order_id: str
    status: str
    qty: int
    remaining: int
    filled: int
    cancelled: int
    trades: list[TradeView] = field(default_factory=list)


def _rules(m: MarketRow) -> MarketRules:
    return MarketRules(m.state, m.tick, m.min_lot, m.reference_price, m.band_pct)


def _int(value: object, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput(f"{field_name} must be a positive whole number", field=field_name)
    return value


def ensure_market(uow: UoW, *, pollutant: str, zone: str, vintage: int, tick: int = 1,
                  min_lot: int = 1, reference_price: int | None = None,
                  band_pct: int | None = None) -> str:
    """Open a market for a pollutant, zone and vintage (idempotent). Caller commits."""
    store = TradingStore(uow.session)
    mid = ledger.asset_code(pollutant, zone, vintage)
    if store.market(mid) is None:
        store.add(MarketRow(id=mid, pollutant=pollutant, zone=zone, vintage=vintage,
                            state="open", tick=tick, min_lot=min_lot,
                            reference_price=reference_price, band_pct=band_pct,
                            last_price=None, version=0))
        store.flush()
    return mid


class _Accounts:
    """Ledger accounts a market touches, created on first use."""

    def __init__(self, uow: UoW, market: MarketRow, now: datetime) -> None:
        self.uow, self.m, self.now = uow, market, now
        lstore = LedgerStore(uow.session)
        lstore.ensure_asset(market.id, "right", market.pollutant, market.zone, market.vintage)
        self.rights_settlement = lstore.ensure_account(
            MARKET_HOLDER, AccountKind.SETTLEMENT, market.id, now=now, no_overdraft=False)
        lstore.ensure_asset(ledger.MONEY, "money")
        self.cash_settlement = lstore.ensure_account(
            MARKET_HOLDER, AccountKind.SETTLEMENT, ledger.MONEY, now=now)
        self.lstore = lstore

    def rights(self, permit: str, kind: AccountKind) -> int:
        found = self.lstore.account_id(permit, kind, self.m.id)
        if found is None:
            raise (InsufficientTradable if kind == AccountKind.TRADABLE else
                   CapHeadroomExceeded)(f"permit {permit} holds no {kind} {self.m.id} rights")
        return found

    def cash(self, enterprise: str) -> int:
        return ledger.ensure_cash_account(self.uow, enterprise, self.now)


def _hold_transfers(cmd: PlaceOrder, oid: str, acc: _Accounts) -> list[Transfer]:
    if cmd.side == "sell":
        return [Transfer(f"{oid}:hold", "transfer", acc.rights(cmd.permit, AccountKind.TRADABLE),
                         acc.rights_settlement, cmd.qty, phase="pending",
                         reference=f"order:{oid}")]
    cash = -(-cmd.qty * cmd.price // 1000)  # ceiling: the hold covers the whole order
    return [
        Transfer(f"{oid}:room", "transfer", acc.rights_settlement,
                 acc.rights(cmd.permit, AccountKind.CONFIRMED), cmd.qty, phase="pending",
                 reference=f"order:{oid}"),
        Transfer(f"{oid}:cash", "transfer", acc.cash(cmd.enterprise), acc.cash_settlement,
                 cash, phase="pending", reference=f"order:{oid}"),
    ]


def _translate(exc: LE.LedgerRejection, side: str) -> Exception:
    if isinstance(exc, LE.OverLimit):
        return CapHeadroomExceeded("buying this quantity would take the permit above its cap")
    if isinstance(exc, LE.InsufficientBalance):
        if side == "sell":
            return InsufficientTradable("not enough tradable rights to hold for this order")
        return InsufficientCash("not enough cash to hold for this order")
    return exc


def place_order(uow: UoW, cmd: PlaceOrder, *, permits: Permits, actor: str,
                now: datetime | None = None) -> OrderResult:
    now = now or system_clock()
    if cmd.side not in ("buy", "sell"):
        raise InvalidInput("side must be buy or sell", field="side")
    if cmd.tif not in ("gtc", "ioc", "fok"):
        raise InvalidInput("tif must be gtc, ioc or fok", field="tif")
    _int(cmd.qty, "qty")
    _int(cmd.price, "price")
    with uow:
        store = TradingStore(uow.session)
        m = store.market(cmd.market, lock=True)
        if m is None:
            raise MarketNotFound(f"no market {cmd.market!r}", field="market")
        rules = _rules(m)
        rules.check_open(m.id)
        permits.check_trading_permit(uow, enterprise=cmd.enterprise, permit=cmd.permit,
                                     pollutant=m.pollutant, zone=m.zone, year=m.vintage,
                                     today=trading_day(now))
        oid = cmd.order_id or uuid.uuid4().hex
        if store.order(oid) is not None:
            raise DuplicateOrderId(f"order id {oid} is taken", field="order_id")
        book = OrderBook(tick=rules.tick, min_lot=rules.min_lot, price_band=rules.price_band())
        resting = {r.id: r for r in store.open_orders(m.id)}
        for r in resting.values():
            book.restore(Order(r.id, r.enterprise, r.side, r.qty, r.price,  # type: ignore[arg-type]
                               r.tif), r.remaining)  # type: ignore[arg-type]
        outcome = book.submit(Order(oid, cmd.enterprise, cmd.side, cmd.qty,  # type: ignore[arg-type]
                                    cmd.price, cmd.tif))  # type: ignore[arg-type]
        if outcome.rejected is not None:
            rej = outcome.rejected
            raise OrderRejected(rej.code, rej.message,
                                field="price" if rej.code in ("off_tick", "price_limit")
                                else "qty")
        acc = _Accounts(uow, m, now)
        try:
            ledger.execute(uow, _hold_transfers(cmd, oid, acc), initiator=Initiator.ENTERPRISE,
                           actor=actor, batch=f"{oid}:holds", now=now)
        except LE.LedgerRejection as exc:
            raise _translate(exc, cmd.side) from exc
        row = OrderRow(id=oid, market=m.id, enterprise=cmd.enterprise, permit=cmd.permit,
                       side=cmd.side, price=cmd.price, qty=cmd.qty, remaining=cmd.qty,
                       filled=0, cancelled=0, tif=cmd.tif, status="open", hold_id=oid,
                       created_at=now)
        store.add(row)
        store.flush()
        resting[oid] = row
        trades: list[TradeView] = []
        for i, f in enumerate(outcome.fills):
            buy = resting[f.taker if cmd.side == "buy" else f.maker]
            sell = resting[f.maker if cmd.side == "buy" else f.taker]
            trades.append(_settle(uow, store, acc, m, buy, sell, f.price, f.qty,
                                  f"{oid}:fill:{i}", cmd.side, permits, actor, now))
        for c in outcome.cancelled:
            r = resting[c.order_id]
            r.cancelled += c.qty
            r.remaining -= c.qty
        for r in resting.values():
            if r.status == "open" and r.remaining == 0:
                r.status = "filled" if r.cancelled == 0 else "cancelled"
                _release(uow, r, actor, now)
        store.bump(m.id, trades[-1].price if trades else None)
        uow.commit()
        return OrderResult(oid, row.status, row.qty, row.remaining, row.filled, row.cancelled,
                           trades)


def _settle(uow: UoW, store: TradingStore, acc: _Accounts, m: MarketRow, buy: OrderRow,
            sell: OrderRow, price: int, qty: int, ref: str, aggressor: str, permits: Permits,
            actor: str, now: datetime) -> TradeView:
    value = trade_value(qty, price)
    held = acc.lstore.load_pendings([f"{buy.id}:cash"]).get(f"{buy.id}:cash")
    from_hold = min(value, held.remaining if held else 0)
    transfers = [
        Transfer(f"{ref}:rights-out", "transfer", 0, 0, qty, phase="post",
                 pending_id=f"{sell.id}:hold", reference=ref),
        Transfer(f"{ref}:rights-in", "transfer", 0, 0, qty, phase="post",
                 pending_id=f"{buy.id}:room", reference=ref),
    ]
    if from_hold:
        transfers.append(Transfer(f"{ref}:cash-in", "transfer", 0, 0, from_hold, phase="post",
                                  pending_id=f"{buy.id}:cash", reference=ref))
    if value > from_hold:  # rounding of several partial fills can pass the hold by a fen
        transfers.append(Transfer(f"{ref}:cash-extra", "transfer", acc.cash(buy.enterprise),
                                  acc.cash_settlement, value - from_hold, reference=ref))
    transfers.append(Transfer(f"{ref}:cash-out", "transfer", acc.cash_settlement,
                              acc.cash(sell.enterprise), value, reference=ref))
    try:
        ledger.execute(uow, transfers, initiator=Initiator.SYSTEM, actor=actor, batch=ref,
                       now=now)
    except LE.InsufficientBalance as exc:
        raise InsufficientCash("not enough cash to settle the trade") from exc
    for r in (buy, sell):
        r.filled += qty
        r.remaining -= qty
    t = TradeRow(market=m.id, buy_order=buy.id, sell_order=sell.id, buyer=buy.enterprise,
                 seller=sell.enterprise, buyer_permit=buy.permit, seller_permit=sell.permit,
                 price=price, qty=qty, value_fen=value, aggressor=aggressor, at=now)
    store.add(t)
    store.flush()
    for r, other, side in ((buy, sell, "buy"), (sell, buy, "sell")):
        permits.record_trade(uow, permit=r.permit, pollutant=m.pollutant, year=m.vintage,
                             side=side, qty_kg=qty, counterparty=other.permit, price=price,
                             reference=f"trade:{t.id}", at=now)
    return TradeView(t.id, m.id, price, qty, value, buy.enterprise, sell.enterprise, now)


def _release(uow: UoW, r: OrderRow, actor: str, now: datetime) -> None:
    """Void whatever the order's holds still hold (cancelled remainder, price improvement)."""
    ids = [f"{r.id}:hold"] if r.side == "sell" else [f"{r.id}:room", f"{r.id}:cash"]
    pend = LedgerStore(uow.session).load_pendings(ids)
    voids = [Transfer(f"{pid}:void", "transfer", 0, 0, 0, phase="void", pending_id=pid,
                      reference=f"order:{r.id}")
             for pid, p in pend.items() if p.state == "pending" and p.remaining > 0]
    if voids:
        ledger.execute(uow, voids, initiator=Initiator.SYSTEM, actor=actor,
                       batch=f"{r.id}:release", now=now)


def cancel_order(uow: UoW, *, enterprise: str, order_id: str, actor: str,
                 now: datetime | None = None) -> OrderResult:
    now = now or system_clock()
    with uow:
        store = TradingStore(uow.session)
        r = store.order(order_id)
        if r is None or r.enterprise != enterprise:
            raise OrderNotFound(f"no order {order_id}", field="order_id")
        store.market(r.market, lock=True)
        uow.session.refresh(r)
        if r.status != "open":
            raise OrderNotLive(f"order {order_id} is {r.status}")
        r.cancelled += r.remaining
        r.remaining = 0
        r.status = "cancelled"
        _release(uow, r, actor, now)
        store.bump(r.market, None)
        uow.commit()
        return OrderResult(r.id, r.status, r.qty, r.remaining, r.filled, r.cancelled)


def set_market_state(uow: UoW, *, market: str, state: str) -> None:
    if state not in ("open", "halted", "closed"):
        raise InvalidInput("state must be open, halted or closed", field="state")
    with uow:
        store = TradingStore(uow.session)
        if store.market(market, lock=True) is None:
            raise MarketNotFound(f"no market {market!r}", field="market")
        store.set_state(market, state)
        uow.commit()


def _order_dict(r: OrderRow) -> dict[str, object]:
    return dict(id=r.id, market=r.market, enterprise=r.enterprise, permit=r.permit,
                side=r.side, price=r.price, qty=r.qty, remaining=r.remaining, filled=r.filled,
                cancelled=r.cancelled, tif=r.tif, status=r.status,
                created_at=r.created_at.isoformat())


def _trade_dict(t: TradeRow, *, public: bool) -> dict[str, object]:
    d: dict[str, object] = dict(id=t.id, market=t.market, price=t.price, qty=t.qty,
                                value_fen=t.value_fen, aggressor=t.aggressor,
                                at=t.at.isoformat())
    if not public:
        d.update(buyer=t.buyer, seller=t.seller, buyer_permit=t.buyer_permit,
                 seller_permit=t.seller_permit)
    return d


def list_markets(uow: UoW) -> list[dict[str, object]]:
    with uow:
        return [dict(id=m.id, pollutant=m.pollutant, zone=m.zone, vintage=m.vintage,
                     state=m.state, last_price=m.last_price, tick=m.tick, min_lot=m.min_lot,
                     reference_price=m.reference_price, band_pct=m.band_pct)
                for m in TradingStore(uow.session).markets()]


def market_view(uow: UoW, market_id: str, *, levels: int = 10, tape: int = 30
                ) -> dict[str, object]:
    """Public, anonymised market data: depth, last price and the trade tape."""
    with uow:
        store = TradingStore(uow.session)
        m = store.market(market_id)
        if m is None:
            raise MarketNotFound(f"no market {market_id!r}", field="market")
        book = OrderBook()
        for r in store.open_orders(m.id):
            book.restore(Order(r.id, r.enterprise, r.side, r.qty, r.price,  # type: ignore[arg-type]
                               r.tif), r.remaining)  # type: ignore[arg-type]
        bids, asks = book.depth(levels)
        return dict(id=m.id, pollutant=m.pollutant, zone=m.zone, vintage=m.vintage,
                    state=m.state, last_price=m.last_price, reference_price=m.reference_price,
                    band_pct=m.band_pct, price_band=_rules(m).price_band(),
                    bids=[dict(price=p, qty=q) for p, q in bids],
                    asks=[dict(price=p, qty=q) for p, q in asks],
                    trades=[_trade_dict(t, public=True) for t in store.trades(m.id, limit=tape)])


def orders_of(uow: UoW, enterprise: str, limit: int = 100) -> list[dict[str, object]]:
    with uow:
        return [_order_dict(r) for r in TradingStore(uow.session).orders_of(enterprise, limit)]


def trades_of(uow: UoW, enterprise: str, limit: int = 100) -> list[dict[str, object]]:
    with uow:
        return [_trade_dict(t, public=False)
                for t in TradingStore(uow.session).trades(enterprise=enterprise, limit=limit)]
