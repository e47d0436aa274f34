"""Continuous-market use cases: place, replace and cancel orders; market state and data.

One call is one transaction: the market row is locked (one writer per market), the book is
taken from the in-process cache (or rebuilt from persisted resting orders), the order is
matched with `OrderBook.submit_fast`, the order's holds are placed in the ledger, and each
fill settles as one linked ledger batch (`trading.settlement.settle_trade`) written with the
order state, the trade row and both permits' history. If anything is rejected the whole
transaction rolls back: no hold is left behind. This per-order path is the reference;
`trading.pipeline` places many orders (of any markets) in one transaction (group commit) with
the same rules and writes, and falls back to it whenever a group fails.

Holds (two-phase ledger transfers, ids prefixed by the order's ``hold_id``, which is the
order id until a replace moves them to ``<id>:r<n>``):
- ``<hold_id>:hold``  sell: the seller's tradable rights → market rights settlement;
- ``<hold_id>:room``  buy: market rights settlement → the buyer's confirmed account, which
  reserves headroom under the permit cap (pending credits count against the upper limit);
- ``<hold_id>:cash``  buy: the buyer's cash → market cash settlement, qty × limit price
  (rounded up) plus the most the buyer's fee can be.
What a finished order's holds still hold (a cancelled remainder, price improvement, the fee
rounding) is voided in the same transaction.

Decisions:
- Market orders never rest. A buy market order holds cash at a protective price: the
  order's own ``price`` if given, else the market's upper daily limit; with neither it is
  rejected (``protective_price_required``). Holding "all available cash" instead would make
  the hold depend on the balance and block the buyer's other orders. The protective price
  is also the worst price the order accepts, so the book runs it as an IOC (or FOK) limit at
  that price; a sell market order likewise uses its own price or the lower daily limit, and
  without either takes any bid.
- Fees: ``fee_bps`` (basis points of the trade value, each side; the web passes
  ``Settings.fee_bps``) is charged per trade, rounded half-even, to the bureau's fee account.
- Rights bought today cannot be resold today. Bought rights go to the buyer's confirmed
  account and only verified surplus is tradable, so bought kilograms reach a sell order only
  through a verification; the kilograms in a tradable account are fungible, so the rule is
  applied conservatively: a permit may offer at most its available tradable rights less what
  it bought in this market today (China Standard Time), counting every venue
  (``bought_today_not_resellable`` when only that rule stops the order).
- Book cache: one book per market and database in this process, tagged with the market
  row's ``version`` (bumped by every write to the market's orders). A call takes the book out
  of the cache, so a failed or rolled-back call can never leave a mutated book behind; the
  book goes back, tagged with the new version, only after the commit. A version that differs
  (another process wrote) or a missing book means a rebuild from the persisted orders, in
  time priority (arrival, or the priority a replace gave). Cached books are made with
  ``unique_ids=False``: the database keeps order ids unique, so the book only indexes its
  resting orders and stays as small as they are however long the process runs.
- Locks: market row → ledger journal head → accounts (`settlement.lock_ledger`), the same
  order in every trading use case, so trading transactions on different markets cannot
  deadlock on the cash accounts they share; a database conflict that still happens (with
  another context's writer) reruns the whole use case (`settlement.retry_conflicts`).
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar

from kernel.clock import CST, system_clock, trading_day
from kernel.errors import InvalidInput
from kernel.ids import validate_user_id
from ledger import errors as LE
from ledger import service as ledger
from ledger.service import UoW
from ledger.store import LedgerStore
from ledger.transactions import AccountKind, Initiator
from trading.book import REJECTED, OrderBook
from trading.market import (
    BoughtTodayNotResellable,
    DuplicateOrderId,
    InsufficientTradable,
    MarketNotFound,
    MarketRules,
    OrderNotFound,
    OrderNotLive,
    OrderRejected,
    ProtectivePriceRequired,
    check_value,
)
from trading.ports import Permits
from trading.settlement import (
    MARKET_HOLDER,
    Accounts,
    Party,
    hold_transfers,
    lock_ledger,
    release,
    retry_conflicts,
    settle_trade,
    translate,
)
from trading.store import AnyOrder, OrderRecord, TradingStore
from trading.tables import MarketRow, OrderRow, TradeRow

_O = TypeVar("_O", OrderRow, OrderRecord)

__all__ = ["MARKET_HOLDER", "PlaceOrder", "OrderResult", "TradeView", "place_order",
           "replace_order", "cancel_order", "ensure_market", "set_market_state",
           "set_reference_price",
           "list_markets", "market_view", "ohlc", "orders_of", "trades_of", "bought_today"]

#: ledger transfer ids are at most 64 characters and carry the order id plus suffixes
#: (``<id>:r<n>:fill:<i>:rights-out``), so client order ids are at most 32
ORDER_ID_MAX = 32
#: the same for auction, bid, listing and negotiated-transfer ids
VENUE_ID_MAX = 24
SIDES = ("buy", "sell")
TIFS = ("gtc", "ioc", "fok")
KINDS = ("limit", "market")
STPS = ("cancel_newest", "cancel_oldest", "cancel_both")


@dataclass(frozen=True)
class PlaceOrder:
    enterprise: str
    permit: str
    market: str
    side: str
    qty: int
    price: int | None  # limit price; for a market order, the optional protective price
    tif: str = "gtc"
    order_id: str | None = None
    kind: str = "limit"
    post_only: bool = False
    stp: str = "cancel_newest"


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
    fee_buyer: int = 0
    fee_seller: int = 0


@dataclass
class OrderResult:
    order_id: str
    status: str
    qty: int
    remaining: int
    filled: int
    cancelled: int
    trades: list[TradeView] = field(default_factory=list)
    reason: str | None = None
    price: int | None = None
    #: the id the client chose (`PlaceOrder.order_id`), unique within its enterprise only
    client_order_id: str | None = None


def _rules(m: MarketRow) -> MarketRules:
    return MarketRules(m.state, m.tick, m.min_lot, m.reference_price, m.band_pct)


def _int(value: object, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput(f"{field_name} must be a positive whole number", field=field_name)
    return value


def _choice(value: object, allowed: tuple[str, ...], field_name: str) -> str:
    if value not in allowed:
        raise InvalidInput(f"{field_name} must be one of {', '.join(allowed)}", field=field_name)
    return str(value)


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


# -- the book cache -------------------------------------------------------------------------

_CACHE: dict[tuple[str, str], tuple[int, OrderBook]] = {}
_CACHE_LOCK = threading.Lock()


def _db_key(uow: UoW) -> str:
    return str(uow.session.get_bind().url)


def _take_book(uow: UoW, store: TradingStore, m: MarketRow) -> OrderBook:
    """The market's book at the row's version: from the cache (taken out of it), or rebuilt
    from the resting orders in priority order."""
    key = (_db_key(uow), m.id)
    with _CACHE_LOCK:
        cached = _CACHE.pop(key, None)
    rules = _rules(m)
    band = rules.price_band()
    if (cached is not None and cached[0] == m.version and cached[1].price_band == band
            and cached[1].min_lot == rules.min_lot and cached[1].tick == rules.tick):
        return cached[1]
    # ids are unique in the database (generated, or checked): the book need not remember
    # departed ones, so a long-lived cached book stays as small as its resting orders
    book = OrderBook(tick=rules.tick, min_lot=rules.min_lot, price_band=band, unique_ids=False)
    for r in store.open_orders(m.id):
        book.restore_fast(r.id, r.enterprise, r.side, r.qty, r.price, r.remaining, r.tif,
                          r.post_only, r.stp)
    return book


def _put_book(uow: UoW, market_id: str, version: int, book: OrderBook) -> None:
    with _CACHE_LOCK:
        _CACHE[(_db_key(uow), market_id)] = (version, book)


def warm_books(uow: UoW) -> int:
    """Build every market's book from its persisted resting orders and cache it at the
    market's version (a matching process does this when it starts); returns how many."""
    store = TradingStore(uow.session)
    n = 0
    for m in store.markets():
        _put_book(uow, m.id, m.version, _take_book(uow, store, m))
        n += 1
    return n


def clear_book_cache() -> None:
    """Forget every cached book (tests; a process that restores a database)."""
    with _CACHE_LOCK:
        _CACHE.clear()


# -- placing --------------------------------------------------------------------------------

def _day_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The trading day (CST) of `now`, as a UTC interval [start, end)."""
    day = trading_day(utc(now))
    start = datetime.combine(day, time(0), tzinfo=CST).astimezone(UTC)
    return start, start + timedelta(days=1)


def bought_today(uow: UoW, *, permit: str, market: str, now: datetime) -> int:
    """Kilograms this permit bought in this market today (China Standard Time)."""
    start, end = _day_bounds(now)
    return TradingStore(uow.session).bought_between(permit, market, start, end)


def check_resale(uow: UoW, acc: Accounts, *, permit: str, qty: int, now: datetime) -> None:
    """Refuse to offer rights beyond available tradable less today's purchases."""
    tradable = acc.lookup(permit, AccountKind.TRADABLE, acc.m.id)
    state = acc.lstore.get_account(tradable) if tradable is not None else None
    available = state.available if state is not None else 0
    if qty > available:
        raise InsufficientTradable(
            f"{qty} kg asked, {available} kg of tradable rights available", field="qty")
    bought = bought_today(uow, permit=permit, market=acc.m.id, now=now)
    if bought and qty > available - bought:
        raise BoughtTodayNotResellable(
            f"{bought} kg were bought today and cannot be resold today: at most "
            f"{max(available - bought, 0)} kg may be offered", field="qty")


def _hold_price(cmd: PlaceOrder, rules: MarketRules) -> tuple[int | None, str]:
    """(book price, book tif) for an order; see the module docstring for market orders."""
    if cmd.kind == "limit":
        return cmd.price, cmd.tif
    band = rules.price_band()
    price = cmd.price
    if price is None and band is not None:
        price = band[1] if cmd.side == "buy" else band[0]
    if price is None and cmd.side == "buy":
        raise ProtectivePriceRequired(
            "a buy market order needs a protective price (the market has no daily limits)",
            field="price")
    check_value(cmd.qty, price)
    return price, "fok" if cmd.tif == "fok" else "ioc"


def _validate(cmd: PlaceOrder) -> None:
    _choice(cmd.side, SIDES, "side")
    _choice(cmd.tif, TIFS, "tif")
    _choice(cmd.kind, KINDS, "kind")
    _choice(cmd.stp, STPS, "stp")
    _int(cmd.qty, "qty")
    if cmd.kind == "limit" or cmd.price is not None:
        _int(cmd.price, "price")
        check_value(cmd.qty, cmd.price)
    if cmd.post_only and (cmd.kind != "limit" or cmd.tif != "gtc"):
        raise OrderRejected("invalid_order", "post-only needs a GTC limit order",
                            field="post_only")
    check_id(cmd.order_id, "order_id", ORDER_ID_MAX)


def check_id(value: object, field_name: str, most: int) -> None:
    """A client-chosen id: `kernel.ids.USER_ID_PATTERN`, 1 to `most` characters, or None
    (the service makes one)."""
    if value is not None:
        validate_user_id(value, field_name, most)


def new_order_id(enterprise: str, client_id: str | None) -> str:
    """The platform's id of a new order (32 hex digits). With a client id it is derived from
    (enterprise, client id), which is unique, so the same commands give the same ids (a
    reload of the demo reproduces its journal hash); without one it is random. Either way it
    says nothing about other enterprises' client ids (issue 19)."""
    if client_id is None:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{enterprise}\x1f{client_id}".encode()).hexdigest()[:32]


def _reject_field(code: str) -> str:
    return "price" if code in ("off_tick", "price_limit", "invalid_price") else (
        "order_id" if code == "duplicate_order_id" else "qty")


@retry_conflicts
def place_order(uow: UoW, cmd: PlaceOrder, *, permits: Permits, actor: str,
                now: datetime | None = None, fee_bps: int = 0) -> OrderResult:
    """Place an order: pre-trade checks as ledger holds, match, settle every fill."""
    now = utc(now)
    _validate(cmd)
    with uow:
        store = TradingStore(uow.session)
        m = store.market(cmd.market, lock=True)
        if m is None:
            raise MarketNotFound(f"no market {cmd.market!r}", field="market")
        lock_ledger(uow)
        version = m.version  # before our bump: the ORM would update m in place
        rules = _rules(m)
        rules.check_open(m.id)
        permits.check_trading_permit(uow, enterprise=cmd.enterprise, permit=cmd.permit,
                                     pollutant=m.pollutant, zone=m.zone, year=m.vintage,
                                     today=trading_day(now))
        # the order's id is the platform's; the client's is unique within its enterprise
        # only, so a taken one tells nothing about other enterprises (issue 19)
        oid = new_order_id(cmd.enterprise, cmd.order_id)
        if (cmd.order_id is not None
                and store.order_by_client_id(cmd.enterprise, cmd.order_id) is not None):
            raise DuplicateOrderId(f"order id {cmd.order_id} is taken", field="order_id")
        price, tif = _hold_price(cmd, rules)
        acc = Accounts(uow, m, now)
        if cmd.side == "sell":
            check_resale(uow, acc, permit=cmd.permit, qty=cmd.qty, now=now)
        book = _take_book(uow, store, m)
        # From here the book may be mutated: it goes back to the cache only after commit.
        rest = book.submit_fast(oid, cmd.enterprise, cmd.side, cmd.qty, price, tif,
                                cmd.post_only, cmd.stp)
        if rest == REJECTED:
            code, message = book.reject or ("invalid_order", "rejected")
            raise OrderRejected(code, message, field=_reject_field(code))
        fills, cancels = list(book.fills), list(book.cancels)
        try:
            ledger.execute(uow, hold_transfers(
                oid, cmd.side, qty=cmd.qty, price=price, permit=cmd.permit,
                enterprise=cmd.enterprise, acc=acc, fee_bps=fee_bps, reference=f"order:{oid}"),
                initiator=Initiator.ENTERPRISE, actor=actor, batch=f"{oid}:holds", now=now)
        except LE.LedgerRejection as exc:
            raise translate(exc, cmd.side) from exc
        row = OrderRow(id=oid, market=m.id, enterprise=cmd.enterprise, permit=cmd.permit,
                       side=cmd.side, price=cmd.price if cmd.kind == "limit" else price,
                       qty=cmd.qty, remaining=cmd.qty, filled=0, cancelled=0, tif=cmd.tif,
                       status="open", hold_id=oid, created_at=now, kind=cmd.kind,
                       post_only=cmd.post_only, stp=cmd.stp, priority=None, reason=None,
                       client_id=cmd.order_id)
        if cmd.kind == "market" and price is None:
            row.price = None
        store.add(row)
        store.flush()
        trades = _apply(uow, store, acc, m, row, fills, cancels, permits=permits, actor=actor,
                        now=now, fee_bps=fee_bps)
        store.bump(m.id, trades[-1].price if trades else None)
        uow.commit()
        acc.remember()
        _put_book(uow, m.id, version + 1, book)
        return _result(row, trades)


def _result(row: OrderRow, trades: list[TradeView]) -> OrderResult:
    return OrderResult(row.id, row.status, row.qty, row.remaining, row.filled, row.cancelled,
                       trades, row.reason, row.price, row.client_id)


def _party(r: AnyOrder) -> Party:
    return Party(r.enterprise, r.permit, r.hold_id or r.id, r.id)


def close_orders(rows: Mapping[str, _O], cancels: list[tuple[str, int, str]]
                 ) -> list[_O]:
    """Apply the book's cancels (what it took off, and why) to the order rows, and finish
    every open order with nothing left: filled, or cancelled when any part was. Returns the
    orders finished now, whose holds are to be released."""
    for oid, qty, reason in cancels:
        r = rows[oid]
        r.cancelled += qty
        r.remaining -= qty
        r.reason = reason
    done = [r for r in rows.values() if r.status == "open" and r.remaining == 0]
    for r in done:
        r.status = "filled" if r.cancelled == 0 else "cancelled"
        if r.status == "filled":
            r.reason = None
    return done



def _apply(uow: UoW, store: TradingStore, acc: Accounts, m: MarketRow, taker: OrderRow,
           fills: list[tuple[str, str, int, int]], cancels: list[tuple[str, int, str]], *,
           permits: Permits, actor: str, now: datetime, fee_bps: int) -> list[TradeView]:
    """Settle the fills of `taker`, apply the cancellations the book reported (the taker's
    remainder, self-trade-prevented makers), and release the holds of finished orders."""
    makers = {f[0] for f in fills} | {c[0] for c in cancels if c[0] != taker.id}
    rows = {r.id: r for r in store.orders_by_id(makers)} if makers else {}
    rows[taker.id] = taker
    trades: list[TradeView] = []
    for i, (maker_id, _owner, price, qty) in enumerate(fills):
        maker = rows[maker_id]
        buy, sell = (taker, maker) if taker.side == "buy" else (maker, taker)
        t = settle_trade(uow, store, acc, m, buy=_party(buy), sell=_party(sell), price=price,
                         qty=qty, ref=f"{taker.hold_id}:fill:{i}", aggressor=taker.side,
                         venue="book", fee_bps=fee_bps, permits=permits, actor=actor, now=now)
        for r in (buy, sell):
            r.filled += qty
            r.remaining -= qty
        trades.append(TradeView(t.id, m.id, price, qty, t.value_fen, buy.enterprise,
                                sell.enterprise, now, t.fee_buyer, t.fee_seller))
    done = close_orders(rows, cancels)
    if done:
        release(uow, [(r.hold_id or r.id, r.side) for r in done], actor=actor, now=now,
                batch=f"{taker.hold_id}:release")
    return trades


# -- replacing and cancelling ---------------------------------------------------------------

def _own_open_order(store: TradingStore, uow: UoW, enterprise: str, order_id: str
                    ) -> tuple[OrderRow, MarketRow]:
    """The caller's order (by the platform's id, or the caller's own client id), with its
    market locked. Another enterprise's order is ``order_not_found``, like a missing one, so
    order ids leak nothing."""
    r = store.own_order(enterprise, order_id)
    if r is None:
        raise OrderNotFound(f"no order {order_id}", field="order_id")
    m = store.market(r.market, lock=True)
    assert m is not None
    lock_ledger(uow)
    uow.session.refresh(r)
    if r.status != "open":
        raise OrderNotLive(f"order {order_id} is {r.status}")
    return r, m


@retry_conflicts
def replace_order(uow: UoW, *, enterprise: str, order_id: str, qty: int | None = None,
                  price: int | None = None, permits: Permits, actor: str,
                  now: datetime | None = None, fee_bps: int = 0) -> OrderResult:
    """Amend a resting order: `qty` is the new open quantity, `price` the new limit.

    Reducing the quantity at the same price keeps time priority; a price change or a larger
    quantity loses it (the order goes to the back of its new level and may trade at once).
    The holds move to a new prefix sized for the amended order; a rejection changes nothing.
    """
    now = utc(now)
    if qty is not None:
        _int(qty, "qty")
    if price is not None:
        _int(price, "price")
    with uow:
        store = TradingStore(uow.session)
        r, m = _own_open_order(store, uow, enterprise, order_id)
        version = m.version
        rules = _rules(m)
        rules.check_open(m.id)
        new_qty = r.remaining if qty is None else qty
        new_price = r.price if price is None else price
        if new_qty == r.remaining and new_price == r.price:
            return _result(r, [])
        check_value(new_qty, new_price)
        acc = Accounts(uow, m, now)
        if r.side == "sell" and new_qty > r.remaining:
            check_resale(uow, acc, permit=r.permit, qty=new_qty - r.remaining, now=now)
        book = _take_book(uow, store, m)
        out = book.replace(r.id, qty=qty, price=price)
        if out.rejected is not None:
            code = out.rejected.code
            raise OrderRejected(code, out.rejected.message, field=_reject_field(code))
        keeps_priority = new_price == r.price and new_qty < r.remaining
        old_hold = r.hold_id or r.id
        n = int(old_hold.rsplit(":r", 1)[1]) + 1 if ":r" in old_hold else 1
        r.hold_id = f"{r.id}:r{n}"
        release(uow, [(old_hold, r.side)], actor=actor, now=now, batch=f"{r.hold_id}:move")
        try:
            ledger.execute(uow, hold_transfers(
                r.hold_id, r.side, qty=new_qty, price=new_price, permit=r.permit,
                enterprise=r.enterprise, acc=acc, fee_bps=fee_bps,
                reference=f"order:{r.id}"), initiator=Initiator.ENTERPRISE, actor=actor,
                batch=f"{r.hold_id}:holds", now=now)
        except LE.LedgerRejection as exc:
            raise translate(exc, r.side) from exc
        if keeps_priority:
            r.cancelled += r.remaining - new_qty
            r.remaining = new_qty
        else:
            r.qty = r.filled + r.cancelled + new_qty
            r.remaining = new_qty
            r.price = new_price
            r.priority = store.next_priority(m.id)
        fills = [(f.maker, f.maker_owner, f.price, f.qty) for f in out.fills]
        cancels = [(c.order_id, c.qty, c.reason) for c in out.cancelled
                   if c.reason != "replaced"]
        trades = _apply(uow, store, acc, m, r, fills, cancels, permits=permits, actor=actor,
                        now=now, fee_bps=fee_bps)
        store.bump(m.id, trades[-1].price if trades else None)
        uow.commit()
        acc.remember()
        _put_book(uow, m.id, version + 1, book)
        return _result(r, trades)


@retry_conflicts
def cancel_order(uow: UoW, *, enterprise: str, order_id: str, actor: str,
                 now: datetime | None = None) -> OrderResult:
    """Cancel the rest of an open order and release its holds. Works in a halted market."""
    now = utc(now)
    with uow:
        store = TradingStore(uow.session)
        r, m = _own_open_order(store, uow, enterprise, order_id)
        version = m.version
        book = _take_book(uow, store, m)
        book.cancel_fast(r.id)
        r.cancelled += r.remaining
        r.remaining = 0
        r.status = "cancelled"
        r.reason = "user"
        release(uow, [(r.hold_id or r.id, r.side)], actor=actor, now=now,
                batch=f"{r.id}:cancel")
        store.bump(r.market, None)
        uow.commit()
        _put_book(uow, m.id, version + 1, book)
        return _result(r, [])


def set_reference_price(uow: UoW, *, market: str, price: int | None = None,
                        band_pct: int | None = None, now: datetime | None = None
                        ) -> dict[str, object]:
    """Set the reference price the daily price limits are computed around (and, optionally,
    the limit in percent). Without `price`, the previous trading day's close (China Standard
    Time) of the continuous market: run it at the start of each trading day. The book's
    version is bumped, so cached books pick up the new limits."""
    now = utc(now)
    if price is not None:
        _int(price, "price")
    if band_pct is not None and (isinstance(band_pct, bool) or not isinstance(band_pct, int)
                                 or not 0 < band_pct <= 100):
        raise InvalidInput("band_pct must be a whole percentage in (0, 100]", field="band_pct")
    with uow:
        store = TradingStore(uow.session)
        m = store.market(market, lock=True)
        if m is None:
            raise MarketNotFound(f"no market {market!r}", field="market")
        if price is None:
            start, _end = _day_bounds(now)
            last = store.last_trade_before(m.id, start, venue="book")
            price = last.price if last is not None else m.reference_price
        m.reference_price = price
        if band_pct is not None:
            m.band_pct = band_pct
        store.flush()
        store.bump(m.id, None)
        out: dict[str, object] = dict(market=m.id, reference_price=m.reference_price,
                                      band_pct=m.band_pct, price_band=_rules(m).price_band())
        uow.commit()
        return out


def set_market_state(uow: UoW, *, market: str, state: str) -> None:
    if state not in ("open", "halted", "closed"):
        raise InvalidInput("state must be open, halted or closed", field="state")
    with uow:
        store = TradingStore(uow.session)
        if store.market(market, lock=True) is None:
            raise MarketNotFound(f"no market {market!r}", field="market")
        store.set_state(market, state)
        uow.commit()


# -- market data ----------------------------------------------------------------------------

def _order_dict(r: OrderRow) -> dict[str, object]:
    return dict(id=r.id, market=r.market, enterprise=r.enterprise, permit=r.permit,
                side=r.side, price=r.price, qty=r.qty, remaining=r.remaining, filled=r.filled,
                cancelled=r.cancelled, tif=r.tif, status=r.status,
                created_at=utc(r.created_at).isoformat(), kind=r.kind, post_only=r.post_only,
                stp=r.stp, reason=r.reason, client_order_id=r.client_id)


def _trade_dict(t: TradeRow, *, public: bool) -> dict[str, object]:
    d: dict[str, object] = dict(id=t.id, market=t.market, price=t.price, qty=t.qty,
                                value_fen=t.value_fen, aggressor=t.aggressor,
                                at=utc(t.at).isoformat(), venue=t.venue)  # with offset
    if not public:
        d.update(buyer=t.buyer, seller=t.seller, buyer_permit=t.buyer_permit,
                 seller_permit=t.seller_permit, fee_buyer=t.fee_buyer,
                 fee_seller=t.fee_seller)
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
        bids, asks = store.depth(m.id, levels)
        return dict(id=m.id, pollutant=m.pollutant, zone=m.zone, vintage=m.vintage,
                    state=m.state, last_price=m.last_price, reference_price=m.reference_price,
                    band_pct=m.band_pct, price_band=_rules(m).price_band(),
                    bids=[dict(price=p, qty=q) for p, q in bids],
                    asks=[dict(price=p, qty=q) for p, q in asks],
                    trades=[_trade_dict(t, public=True) for t in store.trades(m.id, limit=tape)])


def ohlc(uow: UoW, market_id: str, *, days: int = 30, now: datetime | None = None
         ) -> list[dict[str, Any]]:
    """Daily open, high, low, close, volume and value of the continuous market, per trading
    day in China Standard Time, oldest first, for the last `days` days with trades."""
    now = utc(now)
    _start, end = _day_bounds(now)
    start = end - timedelta(days=days)
    with uow:
        store = TradingStore(uow.session)
        if store.market(market_id) is None:
            raise MarketNotFound(f"no market {market_id!r}", field="market")
        out: dict[str, dict[str, Any]] = {}
        for t in store.trades_between(market_id, start, end, venue="book"):
            day = _day_of(t.at)
            d = out.get(day)
            if d is None:
                out[day] = dict(day=day, open=t.price, high=t.price, low=t.price,
                                close=t.price, volume_kg=t.qty, value_fen=t.value_fen,
                                trades=1)
            else:
                d["high"] = max(d["high"], t.price)
                d["low"] = min(d["low"], t.price)
                d["close"] = t.price
                d["volume_kg"] += t.qty
                d["value_fen"] += t.value_fen
                d["trades"] += 1
        return list(out.values())


def _day_of(at: datetime) -> str:
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)  # SQLite gives naive UTC
    return trading_day(aware).isoformat()


def utc(now: datetime | None) -> datetime:
    """Every time trading writes is UTC (SQLite keeps them naive; compare like with like)."""
    now = now or system_clock()
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def orders_of(uow: UoW, enterprise: str, limit: int = 100) -> list[dict[str, object]]:
    with uow:
        return [_order_dict(r) for r in TradingStore(uow.session).orders_of(enterprise, limit)]


def trades_of(uow: UoW, enterprise: str, limit: int = 100) -> list[dict[str, object]]:
    with uow:
        return [_trade_dict(t, public=False)
                for t in TradingStore(uow.session).trades(enterprise=enterprise, limit=limit)]


def holds_of(uow: UoW, holders: list[str]) -> dict[str, int]:
    """Sum of what every account of these holders has on hold (tests, reconciliation)."""
    with uow:
        accts = LedgerStore(uow.session).accounts_of(holders)
        return {"debits_pending": sum(a.debits_pending for a in accts),
                "credits_pending": sum(a.credits_pending for a in accts)}


# -- market surveillance (trading.surveillance) ---------------------------------------------

def surveillance_flags(uow: UoW, *, pct: int = 20, window_days: int = 1,
                       qty_tolerance_pct: int = 20, recent: int = 5000,
                       district: str | None = None) -> list[Any]:
    """Unusual trades (`trading.surveillance.unusual`, newest first) among the `recent` latest
    trades of every venue and the `recent` latest negotiated transfers that are live or
    settled (a settled transfer is judged as the transfer, with its parties, not again as
    its trade). Prices are judged against each market's reference price, or the
    pollutant's base price when it has none. `district` (a district officer's list): only
    deals with a party of that district (both legs of a round trip share its parties)."""
    from trading import surveillance as sv
    from trading.prices import base_price

    try:
        rules = sv.Rules(pct=pct, window_days=window_days, qty_tolerance_pct=qty_tolerance_pct)
    except ValueError as exc:
        raise InvalidInput(str(exc), field=str(exc).split()[0]) from None
    with uow:
        store = TradingStore(uow.session)
        refs = {m.id: int(m.reference_price or base_price(m.pollutant))
                for m in store.markets()}
        deals = [sv.Deal(f"{t.venue} #{t.id}", t.market, t.venue, t.seller, t.buyer, t.qty,
                         t.price, t.at)
                 for t in store.trades(limit=recent, district=district)
                 if t.venue != "negotiated"]
        deals += [sv.Deal(f"transfer {r.id}", r.market, "negotiated", r.seller, r.buyer,
                          r.qty, r.price, r.created_at)
                  for r in store.transfers_of(None, limit=recent, district=district)
                  if r.status not in ("rejected", "expired", "withdrawn")]
    return sv.unusual(deals, refs, rules)
