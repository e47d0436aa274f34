"""Pipelined order entry for the continuous market: group commit.

`OrderPipeline.place` does what `trading.service.place_order` does (the reference: the same
rules, checks in the same order, the same rows, holds, settlement batches and journal
entries), for many client threads at once. One writer thread serves every market. It takes
every order that arrived while its previous transaction was committing, waiting a little for
the clients it just answered (`kernel.batching.gather`; up to `max_group`; see `_wait`), and
places them in ONE transaction, in arrival order:

- the markets' rows (ascending ids) and the ledger's journal head are locked once (same
  lock order as the per-order path: market, head, accounts);
- each order is checked (market state, permit, client id, resale rule, book rules) and its
  holds are applied to one in-memory ledger over the accounts and pending transfers the
  group locked as it first touched them (`ledger.group.LedgerGroup`, shared by the markets:
  a trader's cash serves them all); a rejected order is answered with its error and changes
  nothing (a ledger batch is all or nothing in memory, and the book is only asked to match
  an order once everything that can reject it has passed);
- the accepted order is matched against its market's in-memory book, and each fill is
  settled as one linked batch, the finished orders' leftover holds voided, all in memory;
- then everything is written at once: the order rows, the trade rows, both permits'
  records, every journal entry (one hash-chained append through the ledger's batch path),
  the balances, each market's version, and the audit rows of the accepted orders that
  carry one (`AuditSink`, so the API's audit costs no transaction of its own); one commit;
  only then is every order of the group answered. Acknowledged means committed; a crash
  before the commit loses only orders that were never acknowledged, and the books are
  rebuilt from the database after a restart.

With several server processes, one process runs the pipeline for all of them
(`trading.matcher`), so its cached books are never made stale by another writer;
`STATS.rebuilds` counts the books rebuilt from the database.

If anything fails after an order reached a book (a settlement the ledger refuses, a
database error, a deadlock), nothing of the group is committed and its books are dropped
from the cache; a group of several markets is then redone market by market, and a market
that fails again order by order through `place_order`, so one bad order never fails the
others and the per-order path decides.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from kernel.batching import gather
from kernel.clock import trading_day
from kernel.errors import DomainError
from kernel.records import PermitAsk
from ledger import errors as LE
from ledger.group import LedgerGroup
from ledger.service import UoW, UoWFactory
from ledger.transactions import AccountKind, Initiator
from trading.book import REJECTED, OrderBook
from trading.market import (
    BoughtTodayNotResellable,
    DuplicateOrderId,
    InsufficientTradable,
    MarketNotFound,
    OrderNotFound,
    OrderNotLive,
    OrderRejected,
)
from trading.ports import Permits
from trading.service import (
    _CACHE,
    _CACHE_LOCK,
    OrderResult,
    PlaceOrder,
    TradeView,
    _day_bounds,
    _db_key,
    _hold_price,
    _party,
    _put_book,
    _reject_field,
    _rules,
    _take_book,
    _validate,
    cancel_order,
    close_orders,
    new_order_id,
    place_order,
    replace_order,
    utc,
)
from trading.settlement import (
    Accounts,
    Party,
    hold_ids,
    hold_transfers,
    lock_ledger,
    permit_records,
    settlement_transfers,
    translate,
    void_transfers,
)
from trading.store import OrderRecord, TradeRecord, TradingStore
from trading.tables import MarketRow

__all__ = ["CancelOrder", "OrderPipeline", "ReplaceOrder", "Request", "place_orders"]

log = logging.getLogger(__name__)

#: most orders one transaction takes (each adds a few journal entries; the ledger's batch
#: path writes thousands of entries per transaction)
MAX_GROUP = 500
#: the writer waits for the clients it just answered at most this share of its last group's
#: time, within [`linger`, `LINGER_MAX`] seconds (`OrderPipeline._wait`)
LINGER_SHARE = 0.35
LINGER_MAX = 0.010
#: and for this share of them: a few stragglers do not hold the group back
FILL = 0.9


@dataclass(frozen=True)
class CancelOrder:
    """Cancel the rest of an open order of `market` (as `trading.service.cancel_order`).
    `order_id` is the platform's id (`OrderPipeline.cancel_order` also takes the caller's own
    client id and resolves it first)."""

    enterprise: str
    order_id: str
    market: str


@dataclass(frozen=True)
class ReplaceOrder:
    """Amend an open order (as `trading.service.replace_order`). It is answered alone, in the
    writer thread between groups: the thread that owns the cached books, so a replace never
    makes another process's book stale (`trading.matcher`)."""

    enterprise: str
    order_id: str
    qty: int | None
    price: int | None


@dataclass
class Request:
    """One order (or cancel) waiting for its group: its answer is `result` or `error` once
    `done`."""

    cmd: PlaceOrder | CancelOrder | ReplaceOrder
    actor: str
    now: datetime
    fee_bps: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    result: OrderResult | None = None
    error: BaseException | None = None
    #: the audit row of the request (`AuditSink`), written in the group's transaction when
    #: the order is placed there; `audited` tells the caller it was
    audit: dict[str, Any] | None = None
    audited: bool = False
    #: called by the writer thread once `done` is set (an event loop's waiter wakes on it)
    notify: Callable[[], None] | None = None

    def outcome(self) -> OrderResult:
        """The answer of a request that is `done`: its result, or its rejection raised."""
        if self.audited and self.audit is not None:
            self.audit["recorded"] = True
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


#: writes the audit rows of a group's accepted requests inside its transaction (the caller
#: commits): `(uow, rows, now)`; each row is the request's `audit` dict with `target` set to
#: the order id
AuditSink = Callable[[UoW, list[dict[str, Any]], datetime], None]


class MatcherStats:
    """What the process's order pipelines did (read by the matcher's `stats` request):
    `rebuilds` counts books rebuilt from the persisted orders (the cache had none at the
    market's version: another writer moved the market, or the first order since start);
    `busy` is the seconds writer threads spent placing groups, gathered to answered (the
    rest of their time they waited for orders): requests per busy second is the most one
    writer places at the groups' size, whatever the front end."""

    def __init__(self) -> None:
        self.rebuilds = 0
        self.groups = 0
        self.requests = 0
        self.busy = 0.0


STATS = MatcherStats()


def _take_counted(uow: UoW, store: TradingStore, m: MarketRow) -> OrderBook:
    """`_take_book`, counting the rebuilds in `STATS`."""
    key = (_db_key(uow), m.id)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is None or cached[0] != m.version:
        STATS.rebuilds += 1
    return _take_book(uow, store, m)


class _Abort(Exception):
    """A failure after an order reached the book: the group is redone order by order."""


class _Purchases:
    """What each seller bought in a market today, kept per process and brought up to date
    with only the trades since the last look.

    Summing a permit's purchases of the day over the trade table (what `place_order` does)
    costs more the more the market traded that day; a group reads it for every seller. Here
    each (market, permit, day) is summed once, up to a trade id (the watermark); after that
    a group reads only the market's trades above the watermark (a primary-key range). This
    is exact because a group holds the journal head lock, which every transaction that
    writes a trade holds until it commits: every trade with an id below the newest is then
    committed and visible, none can appear below the watermark later."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: (database, market) -> (watermark, {(permit, day): kg bought up to it})
        self._markets: dict[tuple[str, str], tuple[int, dict[tuple[str, date], int]]] = {}

    def read(self, store: TradingStore, db: str,
             wanted: dict[str, dict[date, tuple[set[str], datetime]]]
             ) -> dict[str, dict[tuple[str, date], int]]:
        """kg bought today by each permit in `wanted` (market -> day -> (permits, a time
        that day)), per market, as of now (inside the caller's transaction, which holds
        the head lock); the newer trades of every market in one statement."""
        with self._lock:
            state = {m: self._markets.get((db, m), (0, {})) for m in wanted}
        marks = {m: mark for m, (mark, _) in state.items() if mark}
        newer = store.purchases_after(marks)
        last = store.last_trade_id() if len(marks) < len(state) else 0
        out: dict[str, dict[tuple[str, date], int]] = {}
        for market, days in wanted.items():
            mark, was = state[market]
            known = dict(was)
            if mark:
                for i, permit, qty, at in newer[market]:
                    key = (permit, trading_day(at))
                    if key in known:
                        known[key] += qty
                    mark = i
            else:
                mark = last
            for day, (permits, when) in days.items():
                missing = {p for p in permits if (p, day) not in known}
                if missing:
                    start, end = _day_bounds(when)
                    got = store.bought_by(missing, market, start, end, up_to=mark)
                    known.update({(p, day): got.get(p, 0) for p in missing})
            # keep today's and later days only (a market trades on one day at a time)
            first = min(days)
            known = {k: v for k, v in known.items() if k[1] >= first}
            with self._lock:
                self._markets[(db, market)] = (mark, known)
            out[market] = {(p, day): known[(p, day)] for day, (ps, _) in days.items()
                           for p in ps}
        return out


_PURCHASES = _Purchases()


@dataclass
class _Placed:
    """An accepted order of the group and what it did, answered after the commit."""

    request: Request
    row: OrderRecord
    trades: list[tuple[TradeRecord, str, str]]  # (row, buyer, seller)
    #: the order's (status, remaining, filled, cancelled, reason) right after it was placed,
    #: as `place_order` answers: later orders of the group may fill it further
    state: tuple[str, int, int, int, str | None]


@dataclass
class _Shared:
    """What the markets of one transaction share: the ledger (a trader's cash serves them
    all), the client order ids taken, as (enterprise, client id) (in the database, or by an
    order of the transaction in any market) and the existing orders loaded, with their
    state as read (`_write_groups` stores those that changed, in one statement)."""

    ledger: LedgerGroup
    taken: set[tuple[str, str]]
    rows: dict[str, OrderRecord] = field(default_factory=dict)
    as_read: dict[str, tuple[str, int, int, int, str | None]] = field(default_factory=dict)

    def load_orders(self, store: TradingStore, ids: Iterable[str]) -> list[OrderRecord]:
        """Existing orders, kept out of the session with their state as read."""
        found = store.orders_apart(ids)
        for row in found:
            self.rows[row.id] = row
            self.as_read[row.id] = _state(row)
        return found

    def changed(self) -> list[OrderRecord]:
        """Existing orders the transaction changed."""
        rows = self.rows
        return [rows[i] for i, was in self.as_read.items() if _state(rows[i]) != was]


class _Group:
    """One transaction's worth of orders for one market (see the module docstring)."""

    def __init__(self, uow: UoW, store: TradingStore, m: MarketRow, book: OrderBook,
                 permits: Permits, shared: _Shared, now: datetime) -> None:
        self.uow, self.store, self.m, self.book, self.permits = uow, store, m, book, permits
        self.rules = _rules(m)
        #: the market's version as locked (on SQLite `m` is the session's row, which the
        #: write's bump updates)
        self.version = m.version
        self.shared = shared
        self.ledger = shared.ledger
        self.taken = shared.taken
        self.rows = shared.rows  # orders touched, of every market: new ones and makers
        self.acc = Accounts(uow, m, now)
        self.new_rows: list[OrderRecord] = []
        self.new_set: set[OrderRecord] = set()
        self.trade_rows: list[TradeRecord] = []
        #: permit checks per (enterprise, permit, day): None (passed) or the rejection
        self.checked: dict[tuple[str, str, object], DomainError | None] = {}
        self.bought: dict[tuple[str, date], int] = {}  # in the database, per permit, day
        self.bought_here: dict[tuple[str, date], int] = {}  # by this group's trades
        self.last_price: int | None = None

    # -- what the group will read (`_prepare` reads it for every market at once) ----------
    def likely(self, requests: Sequence[Request]) -> set[str]:
        """The resting orders the group will likely touch: those it cancels, and those its
        orders would meet first on the book as it stands (matching loads any it misses)."""
        likely = {r.cmd.order_id for r in requests if isinstance(r.cmd, CancelOrder)}
        for side in ("buy", "sell"):
            mine = [r.cmd for r in requests
                    if isinstance(r.cmd, PlaceOrder) and r.cmd.side == side]
            if mine:
                prices = [c.price if c.kind == "limit" else None for c in mine]
                worst = None if None in prices else (
                    max if side == "buy" else min)(p for p in prices if p is not None)
                likely.update(self.book.reachable(side, worst, sum(c.qty for c in mine)))
        return likely

    def permit_asks(self, requests: Sequence[Request]) -> list[PermitAsk]:
        """Which traders' permits to check, once each, per trading day (`_prepare` asks for
        every market at once)."""
        m = self.m
        wanted: dict[date, dict[tuple[str, str], None]] = {}  # day -> holders, in order
        for r in requests:
            cmd = _placing(r.cmd)
            if not isinstance(cmd, CancelOrder):
                wanted.setdefault(trading_day(r.now), {})[(cmd.enterprise, cmd.permit)] = None
        return [PermitAsk(m.pollutant, m.zone, m.vintage, day, tuple(holders))
                for day, holders in wanted.items()]

    def permits_checked(self, asks: Sequence[PermitAsk],
                        answers: Sequence[dict[tuple[str, str], DomainError | None]],
                        requests: Sequence[Request]) -> set[int]:
        """Keep each trader's answer (a rejection is raised at its order's turn, after the
        checks `place_order` makes before it); returns the accounts the group's holds and
        settlements of its own traders touch."""
        m, acc = self.m, self.acc
        ids = {acc.rights_settlement, acc.cash_settlement}
        for ask, answer in zip(asks, answers, strict=True):
            for (enterprise, permit), refused in answer.items():
                self.checked[(enterprise, permit, ask.today)] = refused
                if refused is not None:
                    continue
                for kind in (AccountKind.TRADABLE, AccountKind.CONFIRMED):
                    found = acc.lookup(permit, kind, m.id)
                    if found is not None:
                        ids.add(found)
                ids.add(acc.cash(enterprise))
        if any(r.fee_bps for r in requests):
            ids.add(acc.fees())
        return ids

    def sellers(self, requests: Sequence[Request]) -> dict[date, tuple[set[str], datetime]]:
        """The group's selling permits, per trading day (with a time that day): whose
        purchases of the day `_prepare` reads."""
        out: dict[date, tuple[set[str], datetime]] = {}
        for r in requests:
            if isinstance(r.cmd, PlaceOrder) and r.cmd.side == "sell":
                out.setdefault(trading_day(r.now), (set(), r.now))[0].add(r.cmd.permit)
        return out

    def _load_orders(self, ids: Iterable[str]) -> list[OrderRecord]:
        return self.shared.load_orders(self.store, ids)

    # -- the checks, in the order of `place_order` -------------------------------------
    def _bought_today(self, permit: str, now: datetime) -> int:
        key = (permit, trading_day(now))
        got = self.bought.get(key)
        if got is None:
            start, end = _day_bounds(now)
            got = self.bought[key] = self.store.bought_between(permit, self.m.id, start, end)
        return got + self.bought_here.get(key, 0)

    def _check_resale(self, permit: str, qty: int, now: datetime) -> None:
        tradable = self.acc.lookup(permit, AccountKind.TRADABLE, self.m.id)
        state = self.ledger.account(tradable) if tradable is not None else None
        available = state.available if state is not None else 0
        if qty > available:
            raise InsufficientTradable(
                f"{qty} kg asked, {available} kg of tradable rights available", field="qty")
        bought = self._bought_today(permit, now)
        if bought and qty > available - bought:
            raise BoughtTodayNotResellable(
                f"{bought} kg were bought today and cannot be resold today: at most "
                f"{max(available - bought, 0)} kg may be offered", field="qty")

    def cancel(self, r: Request, cmd: CancelOrder) -> _Placed:
        """`trading.service.cancel_order` in the group (works in a halted market)."""
        row = self.rows.get(cmd.order_id)
        if row is None or row.enterprise != cmd.enterprise:
            raise OrderNotFound(f"no order {cmd.order_id}", field="order_id")
        if row.market != self.m.id:
            raise _Abort(f"order {cmd.order_id} is not in market {self.m.id}")
        if row.status != "open":
            raise OrderNotLive(f"order {cmd.order_id} is {row.status}")
        try:
            self.book.cancel_fast(row.id)
            row.cancelled += row.remaining
            row.remaining = 0
            row.status = "cancelled"
            row.reason = "user"
            self._release([row], batch=f"{row.id}:cancel", r=r)
        except Exception as exc:
            raise _Abort(f"cancel {cmd.order_id}: {exc}") from exc
        return _Placed(r, row, [], _state(row))

    def place(self, r: Request, cmd: PlaceOrder) -> _Placed:
        """Place one order. A DomainError raised before the book is touched is the order's
        rejection (nothing changed); anything later raises `_Abort`."""
        now, m = r.now, self.m
        self.rules.check_open(m.id)
        day = trading_day(now)
        key = (cmd.enterprise, cmd.permit, day)
        if key not in self.checked:
            self.permits.check_trading_permit(self.uow, enterprise=cmd.enterprise,
                                              permit=cmd.permit, pollutant=m.pollutant,
                                              zone=m.zone, year=m.vintage, today=day)
            self.checked[key] = None
        refused = self.checked[key]
        if refused is not None:
            raise refused
        # the platform's id; the client's is unique within its enterprise only (issue 19),
        # against the database and the orders placed before it in this transaction
        oid = new_order_id(cmd.enterprise, cmd.order_id)
        client = (cmd.enterprise, cmd.order_id) if cmd.order_id is not None else None
        if client is not None and client in self.taken:
            raise DuplicateOrderId(f"order id {cmd.order_id} is taken", field="order_id")
        price, tif = _hold_price(cmd, self.rules)
        if cmd.side == "sell":
            self._check_resale(cmd.permit, cmd.qty, now)
        bad = self.book.check_fast(oid, cmd.qty, price, tif, cmd.post_only)
        if bad is not None:
            raise OrderRejected(bad[0], bad[1], field=_reject_field(bad[0]))
        holds = hold_transfers(oid, cmd.side, qty=cmd.qty, price=price, permit=cmd.permit,
                               enterprise=cmd.enterprise, acc=self.acc, fee_bps=r.fee_bps,
                               reference=f"order:{oid}")
        try:
            self.ledger.apply(holds, initiator=Initiator.ENTERPRISE, actor=r.actor,
                              batch=f"{oid}:holds", now=now)
        except LE.LedgerRejection as exc:
            raise translate(exc, cmd.side) from exc
        # From here the order is in: any failure redoes the whole group order by order.
        try:
            rest = self.book.submit_fast(oid, cmd.enterprise, cmd.side, cmd.qty, price, tif,
                                         cmd.post_only, cmd.stp)
            if rest == REJECTED:
                raise _Abort(f"the book refused order {oid} after checking it: {self.book.reject}")
            fills, cancels = list(self.book.fills), list(self.book.cancels)
            row = OrderRecord(
                id=oid, market=m.id, enterprise=cmd.enterprise, permit=cmd.permit,
                side=cmd.side, price=cmd.price if cmd.kind == "limit" else price, qty=cmd.qty,
                remaining=cmd.qty, filled=0, cancelled=0, tif=cmd.tif, status="open",
                hold_id=oid, created_at=now, kind=cmd.kind, post_only=cmd.post_only,
                stp=cmd.stp, priority=None, reason=None, client_id=cmd.order_id)
            if cmd.kind == "market" and price is None:
                row.price = None
            self.rows[oid] = row
            if client is not None:
                self.taken.add(client)
            self.new_rows.append(row)
            self.new_set.add(row)
            trades = self._apply(r, row, fills, cancels)
        except _Abort:
            raise
        except Exception as exc:
            raise _Abort(f"order {oid}: {exc}") from exc
        return _Placed(r, row, trades, _state(row))

    # -- matching results, settled in memory ---------------------------------------------
    def _apply(self, r: Request, taker: OrderRecord, fills: list[tuple[str, str, int, int]],
               cancels: list[tuple[str, int, str]]) -> list[tuple[TradeRecord, str, str]]:
        """`trading.service._apply` against the group's ledger and rows."""
        rows = self.rows
        makers = {f[0] for f in fills} | {c[0] for c in cancels if c[0] != taker.id}
        missing = makers - set(rows)
        if missing:
            self._load_orders(missing)
        trades: list[tuple[TradeRecord, str, str]] = []
        # the holds of makers placed before this group, and their accounts, in one round
        old = [rows[f[0]] for f in fills if rows[f[0]] not in self.new_set]
        if old:
            self.ledger.load_pendings(pid for row in old for pid in _hold_ids(row))
        for i, (maker_id, _owner, price, qty) in enumerate(fills):
            maker = rows[maker_id]
            buy, sell = (taker, maker) if taker.side == "buy" else (maker, taker)
            t = self._settle(r, buy=_party(buy), sell=_party(sell), price=price, qty=qty,
                             ref=f"{taker.hold_id}:fill:{i}", aggressor=taker.side)
            for row in (buy, sell):
                row.filled += qty
                row.remaining -= qty
            key = (buy.permit, trading_day(r.now))
            self.bought_here[key] = self.bought_here.get(key, 0) + qty
            self.last_price = price
            trades.append((t, buy.enterprise, sell.enterprise))
        # only the orders this one touched can have finished now
        touched = {taker.id: taker}
        touched.update((f[0], rows[f[0]]) for f in fills)
        touched.update((c[0], rows[c[0]]) for c in cancels)
        done = close_orders(touched, cancels)
        self._release(done, batch=f"{taker.hold_id}:release", r=r)
        return trades

    def _release(self, done: list[OrderRecord], *, batch: str, r: Request) -> None:
        """Void whatever the holds of these finished orders still hold (`release`)."""
        held = [self.ledger.pending(pid) for row in done for pid in _hold_ids(row)]
        self.ledger.apply(void_transfers([p for p in held if p is not None], batch),
                          initiator=Initiator.SYSTEM, actor=r.actor, batch=batch, now=r.now)

    def _settle(self, r: Request, *, buy: Party, sell: Party, price: int, qty: int, ref: str,
                aggressor: str) -> TradeRecord:
        """`trading.settlement.settle_trade` against the group's ledger; the trade row is
        written (and the permits record it) with the group."""
        transfers, value, fee_b, fee_s = settlement_transfers(
            self.acc, buy=buy, sell=sell, price=price, qty=qty, ref=ref, fee_bps=r.fee_bps,
            cash_hold=self.ledger.pending(f"{buy.hold}:cash"))
        self.ledger.apply(transfers, initiator=Initiator.SYSTEM, actor=r.actor, batch=ref,
                          now=r.now)
        t = TradeRecord(market=self.m.id, buy_order=buy.order, sell_order=sell.order,
                        buyer=buy.enterprise, seller=sell.enterprise, buyer_permit=buy.permit,
                        seller_permit=sell.permit, price=price, qty=qty, value_fen=value,
                        aggressor=aggressor, at=r.now, fee_buyer=fee_b, fee_seller=fee_s,
                        venue="book")
        self.trade_rows.append(t)
        return t


def _prepare(store: TradingStore, shared: _Shared,
             groups: Sequence[tuple[_Group, Sequence[Request]]]) -> None:
    """What the groups will read, in a few statements for all their markets: the resting
    orders they will likely touch and those orders' holds; then every market's permit checks,
    in one go, and every account the groups' holds and settlements touch, locked in one
    statement (ascending ids); then the sellers' purchases of the day, of every market in
    one."""
    likely: set[str] = set()
    for g, requests in groups:
        likely |= g.likely(requests)
    if likely:
        resting = shared.load_orders(store, likely)
        shared.ledger.load_pendings(pid for row in resting if row.status == "open"
                                     for pid in _hold_ids(row))
    asks = [g.permit_asks(requests) for g, requests in groups]
    first = groups[0][0]
    answers = iter(first.permits.check_trading_permits_of(
        first.uow, asks=[a for mine in asks for a in mine]))
    ids: set[int] = set()
    for (g, requests), mine in zip(groups, asks, strict=True):
        ids |= g.permits_checked(mine, [next(answers) for _ in mine], requests)
    shared.ledger.load_accounts(ids)
    sellers = {g.m.id: s for g, requests in groups if (s := g.sellers(requests))}
    if sellers:
        bought = _PURCHASES.read(store, first.acc.db, sellers)
        for g, _ in groups:
            g.bought.update(bought.get(g.m.id, {}))


def _write_groups(uow: UoW, groups: Sequence[_Group], shared: _Shared) -> None:
    """Everything the groups did, in this transaction (the caller commits): the orders, the
    trades, both permits' records, the ledger (one hash-chained append) and each market's
    version, in one statement per kind across markets where the kind allows."""
    store = groups[0].store
    store.insert_orders([r for g in groups for r in g.new_rows])
    store.update_orders(shared.changed())
    store.insert_trades([t for g in groups for t in g.trade_rows])  # ids, for the permits
    recorded = [(g.m.pollutant, g.m.vintage, r) for g in groups for t in g.trade_rows
                for r in permit_records(t)]
    if recorded:
        groups[0].permits.record_trades_of(uow, trades=recorded)
    shared.ledger.write()
    store.bump_many({g.m.id: g.last_price for g in groups})


def _state(row: OrderRecord) -> tuple[str, int, int, int, str | None]:
    return row.status, row.remaining, row.filled, row.cancelled, row.reason


def _hold_ids(row: OrderRecord) -> list[str]:
    return hold_ids(row.hold_id or row.id, row.side)


def _result(p: _Placed) -> OrderResult:
    row = p.row
    status, remaining, filled, cancelled, reason = p.state
    trades = [TradeView(t.id, t.market, t.price, t.qty, t.value_fen, buyer, seller, t.at,
                        t.fee_buyer, t.fee_seller) for t, buyer, seller in p.trades]
    return OrderResult(row.id, status, row.qty, remaining, filled, cancelled, trades, reason,
                       row.price, row.client_id)


def _place_group(uow: UoW, requests: Sequence[Request], *, permits: Permits,
                 audit: AuditSink | None = None) -> None:
    """Place the requests (of one or more markets) in one transaction; set each one's answer
    only after the commit. Raises (having answered none) if the group must be redone.

    The markets are locked in ascending id order, then the journal head (market → head →
    accounts, as every trading writer). Each market has its own book, rules and `_Group`;
    the ledger of the transaction is one (an enterprise's cash serves all its markets), so
    the orders are placed in arrival order across markets, exactly as one after another
    through `place_order` would be."""
    by_market: dict[str, list[Request]] = {}
    for r in requests:
        by_market.setdefault(_placing(r.cmd).market, []).append(r)
    with uow:
        store = TradingStore(uow.session)
        markets = store.markets_apart(by_market)
        for market_id in set(by_market) - set(markets):
            for r in by_market.pop(market_id):
                r.error = MarketNotFound(f"no market {market_id!r}", field="market")
        if not markets:
            return
        head = lock_ledger(uow)
        asked = [(r.cmd.enterprise, r.cmd.order_id) for r in requests
                 if isinstance(r.cmd, PlaceOrder) and r.cmd.order_id is not None
                 and r.cmd.market in markets]
        taken = store.existing_client_ids(asked) if asked else set()
        shared = _Shared(LedgerGroup(uow), taken)
        shared.ledger.head = head  # locked above: nothing else moves it before the write
        groups = {market_id: _Group(uow, store, m, _take_counted(uow, store, m), permits,
                                    shared, requests[0].now)
                  for market_id, m in markets.items()}
        _prepare(store, shared, [(g, by_market[i]) for i, g in groups.items()])
        placed: list[_Placed] = []
        rejected: list[tuple[Request, DomainError]] = []
        for r in requests:
            cmd = _placing(r.cmd)
            mine = groups.get(cmd.market)
            if mine is None:
                continue  # unknown market: answered above
            try:
                placed.append(mine.cancel(r, cmd) if isinstance(cmd, CancelOrder)
                              else mine.place(r, cmd))
            except DomainError as exc:
                rejected.append((r, exc))
        _write_groups(uow, list(groups.values()), shared)
        audited = [p for p in placed if p.request.audit is not None] if audit else []
        if audit is not None and audited:
            audit(uow, [dict(p.request.audit or {}, target=p.row.id) for p in audited],
                  requests[0].now)
        answers = [(p.request, _result(p)) for p in placed]
        uow.commit()
        for p in audited:
            p.request.audited = True
        for g in groups.values():
            g.acc.remember()
            _put_book(uow, g.m.id, g.version + 1, g.book)
    for r, res in answers:
        r.result = res
    for r, err in rejected:
        r.error = err


def _place_alone(uow_factory: UoWFactory, r: Request, permits: Permits) -> None:
    try:
        if isinstance(r.cmd, CancelOrder):
            r.result = cancel_order(uow_factory(), enterprise=r.cmd.enterprise,
                                    order_id=r.cmd.order_id, actor=r.actor, now=r.now)
        elif isinstance(r.cmd, ReplaceOrder):
            r.result = replace_order(uow_factory(), enterprise=r.cmd.enterprise,
                                     order_id=r.cmd.order_id, qty=r.cmd.qty,
                                     price=r.cmd.price, permits=permits, actor=r.actor,
                                     now=r.now, fee_bps=r.fee_bps)
        else:
            r.result = place_order(uow_factory(), r.cmd, permits=permits, actor=r.actor,
                                   now=r.now, fee_bps=r.fee_bps)
    except BaseException as exc:  # the caller's answer
        r.error = exc


def run_group(uow_factory: UoWFactory, requests: Sequence[Request], *,
              permits: Permits, strict: bool = False, audit: AuditSink | None = None) -> int:
    """Answer every request: in one transaction, or, if that fails, each market's requests
    in a transaction of their own (when there were several markets), and the requests of a
    market that fails again each alone through `place_order` (`strict`: raise instead, for
    tests that must see the group path work). Returns the number of transactions committed
    or tried."""
    if len(requests) == 1 and isinstance(requests[0].cmd, ReplaceOrder):  # always alone
        try:
            _place_alone(uow_factory, requests[0], permits)
        finally:
            _answered(requests[0])
        return 1
    STATS.groups += 1
    STATS.requests += len(requests)
    try:
        _place_group(uow_factory(), requests, permits=permits, audit=audit)
        return 1
    except Exception:
        if strict:
            raise
        markets = sorted({_placing(r.cmd).market for r in requests})
        log.warning("a group of %d orders in %d markets failed; placing them %s",
                    len(requests), len(markets),
                    "market by market" if len(markets) > 1 else "one by one", exc_info=True)
        for r in requests:
            r.result, r.error, r.audited = None, None, False
        if len(markets) > 1:
            return 1 + sum(run_group(uow_factory,
                                     [r for r in requests if _placing(r.cmd).market == m],
                                     permits=permits, audit=audit) for m in markets)
        for r in requests:
            _place_alone(uow_factory, r, permits)
        return 1 + len(requests)
    finally:
        for r in requests:
            _answered(r)


def _placing(cmd: PlaceOrder | CancelOrder | ReplaceOrder) -> PlaceOrder | CancelOrder:
    """A command of a group: a replace never is (`OrderPipeline` keeps it alone)."""
    assert not isinstance(cmd, ReplaceOrder)
    return cmd


def _answered(r: Request) -> None:
    r.done.set()
    if r.notify is not None:
        r.notify()


def place_orders(uow_factory: UoWFactory, cmds: Sequence[PlaceOrder | CancelOrder], *,
                 permits: Permits,
                 actor: str, now: datetime | None = None, fee_bps: int = 0,
                 strict: bool = False) -> list[OrderResult | DomainError]:
    """Place (and cancel) orders as one group (one transaction, whatever their markets), in
    this thread (tests, batch entry): each answer is the order's result or its rejection, as
    `place_order` (or `cancel_order`) would give. `strict`: a group that fails raises
    instead of being redone."""
    at = utc(now)
    out: list[OrderResult | DomainError] = []
    requests: list[Request] = []
    for cmd in cmds:
        try:
            if isinstance(cmd, PlaceOrder):
                _validate(cmd)
        except DomainError as exc:
            out.append(exc)
            continue
        requests.append(Request(cmd, actor, at, fee_bps))
        out.append(None)  # type: ignore[arg-type]
    if requests:
        run_group(uow_factory, requests, permits=permits, strict=strict)
    it = iter(requests)
    for i, o in enumerate(out):
        if o is None:
            r = next(it)
            if r.error is not None and not isinstance(r.error, DomainError):
                raise r.error
            out[i] = r.error if r.error is not None else r.result  # type: ignore[assignment]
    return out


class OrderPipeline:
    """`place_order` for many threads: one writer thread places every order waiting for it,
    whatever its market, in one transaction (group commit), then answers them all.

    One writer for all markets, not one per market: every trading transaction holds the
    journal head lock until it commits, so writers of different markets could only take
    turns, each paying a commit for a smaller group."""

    def __init__(self, uow_factory: UoWFactory, permits: Permits, *,
                 max_group: int = MAX_GROUP, linger: float = 0.002,
                 timings: list[tuple[float, float, int]] | None = None,
                 audit: AuditSink | None = None) -> None:
        """`timings`: a list to append (seconds, writer CPU seconds, orders) to for every
        group (benchmarks; the server passes none). `audit`: writes the audit rows of the
        requests that carry one in their group's transaction."""
        self._audit = audit
        self._timings = timings
        self._uow = uow_factory
        self._permits = permits
        self._max = max_group
        self._linger = linger  # see kernel.batching.gather
        self._queue: queue.Queue[Request | None] | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.groups = 0  # transactions run (for benchmarks)

    def place(self, cmd: PlaceOrder, *, actor: str, now: datetime | None = None,
              fee_bps: int = 0, audit: dict[str, Any] | None = None) -> OrderResult:
        """Place an order; returns once its group committed. Raises its rejection.
        `audit`: the request's audit row, written in the group's transaction if the order
        is placed there (then `audit["recorded"]` is set True)."""
        _validate(cmd)
        return self._send(Request(cmd, actor, utc(now), fee_bps, audit=audit))

    def cancel(self, *, enterprise: str, order_id: str, market: str, actor: str,
               now: datetime | None = None, audit: dict[str, Any] | None = None
               ) -> OrderResult:
        """Cancel an open order of `market` in the next group (an order of another market
        makes the group fall back, and is cancelled alone, as `trading.service.cancel_order`
        would)."""
        return self._send(Request(CancelOrder(enterprise, order_id, market), actor, utc(now),
                                  audit=audit))

    def cancel_order(self, *, enterprise: str, order_id: str, actor: str,
                     audit: dict[str, Any] | None = None) -> OrderResult:
        """Cancel an open order of the caller, whatever its market (looked up first): as
        `trading.service.cancel_order`, through the pipeline."""
        with self._uow() as uow:
            # the platform's id, or the caller's own client id
            row = TradingStore(uow.session).own_order(enterprise, order_id)
            market, oid = (None, order_id) if row is None else (row.market, row.id)
        if market is None:
            raise OrderNotFound(f"no order {order_id}", field="order_id")
        return self.cancel(enterprise=enterprise, order_id=oid, market=market,
                           actor=actor, audit=audit)

    def replace_order(self, *, enterprise: str, order_id: str, qty: int | None,
                      price: int | None, actor: str, fee_bps: int = 0,
                      now: datetime | None = None) -> OrderResult:
        """Amend an open order of the caller, in the writer thread (as
        `trading.service.replace_order`)."""
        return self._send(Request(ReplaceOrder(enterprise, order_id, qty, price), actor,
                                  utc(now), fee_bps))

    def enqueue(self, cmd: PlaceOrder, *, actor: str, fee_bps: int = 0,
                audit: dict[str, Any] | None = None,
                notify: Callable[[], None] | None = None) -> Request:
        """Queue an order without waiting: `notify` is called (in the writer thread) once
        its group committed or it was refused; then `Request.outcome()` answers as `place`."""
        _validate(cmd)
        r = Request(cmd, actor, utc(None), fee_bps, audit=audit, notify=notify)
        self._writer().put(r)
        return r

    def _send(self, r: Request) -> OrderResult:
        self._writer().put(r)
        r.done.wait()
        return r.outcome()

    def _fits(self, group: list[Request], r: Request) -> bool:
        """A group takes up to `max_group` orders and cancels; a replace goes alone."""
        return (len(group) < self._max and not isinstance(r.cmd, ReplaceOrder)
                and not isinstance(group[0].cmd, ReplaceOrder))

    def _writer(self) -> queue.Queue[Request | None]:
        with self._lock:
            if self._queue is None:
                self._queue = queue.Queue()
                self._thread = threading.Thread(target=self._run, args=(self._queue,),
                                                daemon=True, name="order-pipeline")
                self._thread.start()
            return self._queue

    def _wait(self, answered: int, queued: int, took: float) -> tuple[int, float]:
        """How many requests the next group waits for, and for how long at most.

        Who sends next: the clients just answered and those that queued meanwhile. The
        answered ones come back after their round trip (through HTTP and, with several
        workers, the matcher's socket: several ms). Taking only what is queued splits the
        clients into two cohorts that alternate, each paying a whole transaction for half
        the orders (measured over HTTP with 32 connections and 2 workers: groups of 18).
        A transaction's cost is mostly fixed, so waiting a part of the last one's time to
        fill the next is cheap; under light load groups are short and so is the wait (at
        least `linger`); a client alone never waits."""
        expect = max(1, math.ceil(FILL * (answered + queued)))
        return expect, min(LINGER_MAX, max(self._linger, LINGER_SHARE * took))

    def _run(self, q: queue.Queue[Request | None]) -> None:
        carry: Request | None = None
        expect, linger = 1, self._linger
        while True:
            first = carry if carry is not None else q.get()
            if first is None:
                return
            group, carry, closing = gather(q, first, expect=expect, linger=linger,
                                           fits=self._fits)
            began, cpu = time.perf_counter(), time.thread_time()
            self.groups += run_group(self._uow, group, permits=self._permits,
                                     audit=self._audit)
            took = time.perf_counter() - began
            STATS.busy += took
            if self._timings is not None:
                self._timings.append((took, time.thread_time() - cpu, len(group)))
            expect, linger = self._wait(len(group), q.qsize(), took)
            if closing:
                return

    def close(self) -> None:
        """Answer what is queued, then stop the writer thread."""
        with self._lock:
            q, t = self._queue, self._thread
            self._queue = self._thread = None
        if q is not None and t is not None:
            q.put(None)
            t.join()
