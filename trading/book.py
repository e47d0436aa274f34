"""Continuous limit order book with price-time priority.

Guarantees (checked by the state-machine tests against `trading.reference_book`):

- Prices are integers (fen per tonne), quantities are integers (kg). No floats.
- Price-time priority: better price first, then earlier arrival at that price.
- Every trade executes at the resting (maker) order's price.
- The book is never crossed after a command: best bid < best ask.
- Conservation: for every order version accepted by the book,
  ``qty == resting + filled + cancelled`` (a `replace` that re-submits starts a new version
  with the same id, after cancelling the old remainder with reason ``"replaced"``).
- Determinism: the same commands give the same outcomes; nothing depends on time or hashing.
- Outcomes are values: rejections are `Rejected`, never exceptions.

Order rules:

- ``qty`` must be a positive int (``invalid_qty``), at least ``min_lot`` and a whole number of
  lots, ``qty % min_lot == 0`` (``below_min_lot``).
- A limit price must be positive (``invalid_price``), a multiple of ``tick`` (``off_tick``) and
  inside ``price_band`` inclusive (``price_limit``). Market orders (``price is None``) are not
  subject to the band.
- Order ids are unique for the lifetime of a book: an id seen before (live or not) is rejected
  with ``duplicate_order_id``.
- ``post_only`` needs a GTC limit order (``invalid_order`` otherwise); a post-only order that
  would cross the opposite best (any owner) is cancelled whole: ``post_only_would_cross``.
- Market orders never rest: their unfilled remainder is cancelled (``market_remainder``).
  IOC remainders are cancelled (``ioc_remainder``).
- FOK is all or nothing: it is checked against the book before anything happens; if it cannot
  fill completely it is cancelled whole (``fok_unfillable``) and the book is left untouched.

Self-trade prevention (STP), applied when the taker meets a resting order of the same owner,
by the taker's policy:

- ``cancel_newest``: the taker's remainder is cancelled (``self_trade``); the maker stays.
- ``cancel_oldest``: the resting maker is cancelled (``self_trade``) and matching continues.
- ``cancel_both``: both are cancelled (``self_trade``).

FOK and STP: the feasibility check walks the book in priority order counting only other
owners' quantity. With ``cancel_oldest`` own resting orders are skipped by the count (they would
be cancelled during execution, and are, if the FOK fills). With ``cancel_newest`` or
``cancel_both`` meeting an own order before the quantity is complete would stop the taker, so
the FOK is unfillable and nothing happens (no own order is cancelled either).

Implementation: each side keeps a dict ``key -> level`` and a sorted list of keys with the best
at the end (bid key = price, ask key = -price), so the best level is ``keys[-1]`` and removing
it is ``list.pop()``. A level is a deque of entries (small mutable lists) in arrival order plus
its live quantity. Cancels are lazy: the entry's remaining goes to 0 and it is dropped when it
reaches the front, or when dead entries outnumber live ones and the level is compacted.
Rejections, fills and cancellations are returned in an `Outcome`; nothing is raised for them.
Not thread-safe: one writer per book (the service holds the market's lock).
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterator
from dataclasses import MISSING, dataclass, field, fields
from dataclasses import replace as _dc_replace
from typing import Any, Literal

from kernel.errors import IntegrityFault

Side = Literal["buy", "sell"]
TIF = Literal["gtc", "ioc", "fok"]
STP = Literal["cancel_newest", "cancel_oldest", "cancel_both"]

#: Cancelled.reason values.
CANCEL_REASONS = (
    "ioc_remainder",
    "fok_unfillable",
    "market_remainder",
    "self_trade",
    "user",
    "post_only_would_cross",
    "replaced",
)
#: Rejected.code values.
REJECT_CODES = (
    "off_tick",
    "below_min_lot",
    "price_limit",
    "duplicate_order_id",
    "invalid_qty",
    "invalid_price",
    "invalid_order",
    "not_live",
)

# Threshold below every key: a market order crosses any level.
_ANY = -(1 << 126)
# Compact a level's deque when it holds more dead entries than this and than live ones.
_COMPACT_AT = 32


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    owner: str
    side: Side
    qty: int
    price: int | None  # None = market order
    tif: TIF = "gtc"
    post_only: bool = False
    stp: STP = "cancel_newest"


@dataclass(frozen=True, slots=True)
class Fill:
    maker: str
    taker: str
    maker_owner: str
    taker_owner: str
    price: int
    qty: int
    maker_side: Side


@dataclass(frozen=True, slots=True)
class Cancelled:
    order_id: str
    qty: int
    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    order_id: str
    code: str
    message: str


@dataclass(slots=True)
class Outcome:
    """What one command did. `cancelled` may name other orders (STP-cancelled makers)."""

    order_id: str
    fills: list[Fill] = field(default_factory=list)
    cancelled: list[Cancelled] = field(default_factory=list)
    rejected: Rejected | None = None
    resting_qty: int = 0


def _fast_frozen_init(cls: type) -> None:
    """Give a frozen slots dataclass an equivalent ``__init__`` that is twice as fast.

    The generated frozen ``__init__`` goes through ``object.__setattr__`` once per field
    (about 1.2 us for a `Fill`); setting each slot through its member descriptor gives the same
    object (same fields, defaults, keyword names; still immutable afterwards) in about 0.5 us.
    Orders and fills are made once per event, so this is most of the hot path's allocation.
    """
    params: list[str] = []
    body: list[str] = []
    namespace: dict[str, object] = {}
    for f in fields(cls):
        if f.default is not MISSING:
            namespace[f"_d_{f.name}"] = f.default
            params.append(f"{f.name}=_d_{f.name}")
        elif f.default_factory is not MISSING:
            raise TypeError("default_factory not supported")
        else:
            params.append(f.name)
        namespace[f"_s_{f.name}"] = cls.__dict__[f.name].__set__
        body.append(f"    _s_{f.name}(self, {f.name})")
    src = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body) + "\n"
    exec(src, namespace)  # noqa: S102 - fixed source built from the dataclass's own fields
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
    cls.__init__ = init  # type: ignore[misc]


_fast_frozen_init(Order)
_fast_frozen_init(Fill)
_fast_frozen_init(Cancelled)


# A resting entry is a list, the cheapest mutable record in CPython:
#   [order: Order, rem: int, key: int, side: _BookSide]
# rem == 0 marks an entry that left the book (filled or cancelled) but may still sit in a deque.
_Entry = list[Any]


class _Level:
    __slots__ = ("q", "qty", "dead")

    def __init__(self) -> None:
        self.q: deque[_Entry] = deque()
        self.qty = 0  # live quantity; 0 means no live entry (every live entry has rem > 0)
        self.dead = 0  # departed entries still in q


class _BookSide:
    __slots__ = ("keys", "levels", "sign", "name")

    def __init__(self, sign: int, name: Side) -> None:
        self.keys: list[int] = []  # ascending; best at the end
        self.levels: dict[int, _Level] = {}
        self.sign = sign  # price = sign * key
        self.name: Side = name

    def add_level(self, key: int) -> _Level:
        level = self.levels[key] = _Level()
        keys = self.keys
        if not keys or key > keys[-1]:
            keys.append(key)
        else:
            bisect.insort(keys, key)
        return level

    def remove_level(self, key: int) -> None:
        del self.levels[key]
        keys = self.keys
        if keys[-1] == key:
            keys.pop()
        else:
            del keys[bisect.bisect_left(keys, key)]


def _reject(order_id: str, code: str, message: str) -> Outcome:
    return Outcome(order_id, [], [], Rejected(order_id, code, message), 0)


class OrderBook:
    """One instrument's continuous book. See the module docstring for the rules."""

    __slots__ = ("tick", "min_lot", "price_band", "_plain", "_bids", "_asks", "_live", "_seen")

    def __init__(
        self, *, tick: int = 1, min_lot: int = 1, price_band: tuple[int, int] | None = None
    ) -> None:
        if tick < 1 or min_lot < 1:
            raise ValueError("tick and min_lot must be >= 1")
        if price_band is not None and price_band[0] > price_band[1]:
            raise ValueError("price_band must be (lowest, highest)")
        self.tick = tick
        self.min_lot = min_lot
        self.price_band = price_band
        # No tick, lot or band rule beyond "positive int": lets submit skip _check.
        self._plain = tick == 1 and min_lot == 1 and price_band is None
        self._bids = _BookSide(1, "buy")
        self._asks = _BookSide(-1, "sell")
        self._live: dict[str, _Entry] = {}
        self._seen: set[str] = set()

    # ------------------------------------------------------------------ validation

    def _check(self, order_id: str, qty: int, price: int | None) -> Outcome | None:
        """Return a rejection for bad qty/price, else None."""
        if type(qty) is not int or qty <= 0:
            return _reject(order_id, "invalid_qty", f"quantity must be a positive integer: {qty!r}")
        lot = self.min_lot
        if qty < lot or qty % lot:
            return _reject(
                order_id, "below_min_lot", f"quantity {qty} is not a whole number of lots of {lot}"
            )
        if price is not None:
            if type(price) is not int or price <= 0:
                return _reject(
                    order_id, "invalid_price", f"price must be a positive integer: {price!r}"
                )
            if price % self.tick:
                return _reject(
                    order_id, "off_tick", f"price {price} is not a multiple of {self.tick}"
                )
            band = self.price_band
            if band is not None and not band[0] <= price <= band[1]:
                return _reject(
                    order_id, "price_limit", f"price {price} is outside [{band[0]}, {band[1]}]"
                )
        return None

    # ------------------------------------------------------------------ commands

    def submit(self, order: Order) -> Outcome:
        """Validate, match, then rest or cancel the remainder of one order."""
        oid = order.id
        seen = self._seen
        if oid in seen:
            return _reject(oid, "duplicate_order_id", f"order id {oid!r} already used")
        qty = order.qty
        price = order.price
        # Fast path: plain book, positive int qty and price, no post-only.
        if not (
            self._plain
            and type(qty) is int
            and qty > 0
            and type(price) is int
            and price > 0
            and not order.post_only
        ):
            bad = self._check(oid, qty, price)
            if bad is not None:
                return bad
            if order.post_only and (price is None or order.tif != "gtc"):
                return _reject(oid, "invalid_order", "post-only needs a GTC limit order")
        seen.add(oid)

        if order.side == "buy":
            own, opp = self._bids, self._asks
            thr = _ANY if price is None else -price
        else:
            own, opp = self._asks, self._bids
            thr = _ANY if price is None else price
        keys = opp.keys
        rem = qty
        fills: list[Fill] = []
        cancelled: list[Cancelled] = []

        if keys and keys[-1] >= thr:
            # The order crosses.
            if order.post_only:
                cancelled.append(Cancelled(oid, rem, "post_only_would_cross"))
                return Outcome(oid, fills, cancelled, None, 0)
            if order.tif == "fok" and not self._fok_fillable(order, opp, thr):
                cancelled.append(Cancelled(oid, rem, "fok_unfillable"))
                return Outcome(oid, fills, cancelled, None, 0)
            rem = self._match(order, opp, thr, fills, cancelled)
            if rem < 0:  # stopped by self-trade prevention
                cancelled.append(Cancelled(oid, -rem, "self_trade"))
                return Outcome(oid, fills, cancelled, None, 0)
            if not rem:
                return Outcome(oid, fills, cancelled, None, 0)
        tif = order.tif
        if price is None or tif != "gtc":
            if tif == "fok":
                reason = "fok_unfillable"
            elif price is None:
                reason = "market_remainder"
            else:
                reason = "ioc_remainder"
            cancelled.append(Cancelled(oid, rem, reason))
            return Outcome(oid, fills, cancelled, None, 0)
        # Rest at the back of its level.
        key = price * own.sign
        level = own.levels.get(key)
        if level is None:
            level = own.add_level(key)
        entry = [order, rem, key, own]
        level.q.append(entry)
        level.qty += rem
        self._live[oid] = entry
        return Outcome(oid, fills, cancelled, None, rem)

    def _fok_fillable(self, order: Order, opp: _BookSide, thr: int) -> bool:
        need = order.qty
        owner = order.owner
        skip_own = order.stp == "cancel_oldest"
        keys = opp.keys
        levels = opp.levels
        for i in range(len(keys) - 1, -1, -1):
            key = keys[i]
            if key < thr:
                return False
            for e in levels[key].q:
                r = e[1]
                if not r:
                    continue
                if e[0].owner == owner:
                    if skip_own:
                        continue
                    return False
                need -= r
                if need <= 0:
                    return True
        return False

    def _match(
        self,
        order: Order,
        opp: _BookSide,
        thr: int,
        fills: list[Fill],
        cancelled: list[Cancelled],
    ) -> int:
        """Take liquidity from `opp` at keys >= `thr`.

        Returns the taker's remaining quantity, negated if self-trade prevention stopped the
        taker with quantity left (the caller cancels it).
        """
        taker = order.id
        owner = order.owner
        stp = order.stp
        rem = order.qty
        keys = opp.keys
        levels = opp.levels
        sign = opp.sign
        maker_side = opp.name
        live = self._live
        stopped = False
        while keys:
            key = keys[-1]
            if key < thr:
                break
            level = levels[key]
            q = level.q
            px = key * sign
            while q:
                e = q[0]
                er = e[1]
                if not er:
                    q.popleft()
                    level.dead -= 1
                    continue
                mo = e[0]
                if mo.owner == owner:
                    if stp == "cancel_newest":
                        stopped = True
                        break
                    # cancel_oldest / cancel_both: the resting order goes.
                    cancelled.append(Cancelled(mo.id, er, "self_trade"))
                    q.popleft()
                    e[1] = 0
                    level.qty -= er
                    del live[mo.id]
                    if stp == "cancel_both":
                        stopped = True
                        break
                    continue
                if er <= rem:
                    fills.append(Fill(mo.id, taker, mo.owner, owner, px, er, maker_side))
                    rem -= er
                    e[1] = 0
                    q.popleft()
                    level.qty -= er
                    del live[mo.id]
                    if not rem:
                        break
                else:
                    fills.append(Fill(mo.id, taker, mo.owner, owner, px, rem, maker_side))
                    e[1] = er - rem
                    level.qty -= rem
                    rem = 0
                    break
            if not level.qty:
                del levels[key]
                keys.pop()
            if stopped:
                return -rem
            if not rem:
                break
        return rem

    def cancel(self, order_id: str) -> Cancelled | None:
        entry = self._live.pop(order_id, None)
        if entry is None:
            return None
        rem = entry[1]
        self._unlink(entry)
        return Cancelled(order_id, rem, "user")

    def _unlink(self, entry: _Entry) -> None:
        """Take a resting entry, already out of the live index, out of its level.

        Lazy: the entry is marked dead (rem 0) and left in the deque unless it is at the front;
        a level holding many dead entries is compacted.
        """
        rem = entry[1]
        entry[1] = 0
        level = entry[3].levels[entry[2]]
        level.qty -= rem
        if not level.qty:
            entry[3].remove_level(entry[2])
            return
        q = level.q
        if q[0] is entry:
            q.popleft()
            while not q[0][1]:  # a live entry remains (qty > 0), so this stops
                q.popleft()
                level.dead -= 1
            return
        level.dead += 1
        if level.dead > _COMPACT_AT and 2 * level.dead > len(q):
            level.q = deque(e for e in q if e[1])
            level.dead = 0

    def replace(
        self, order_id: str, *, qty: int | None = None, price: int | None = None
    ) -> Outcome:
        """Amend a resting order.

        `qty` is the new *remaining* (open) quantity; `price` the new limit price; None keeps
        the current value. Reducing the quantity at the same price keeps time priority and
        reports the reduction as ``Cancelled(order_id, reduction, "replaced")``. A price change
        or a quantity increase cancels the whole remainder (``"replaced"``) and submits a new
        version of the order (same id and attributes, ``qty`` = new quantity) at the back of the
        queue; it may match (or, if post-only and crossing, be cancelled), and all its events are
        in the same Outcome after the ``"replaced"`` cancellation. Nothing changed (same price,
        same quantity): an empty Outcome. A rejected amendment leaves the order untouched; an
        order that is not resting is rejected with code ``not_live``.
        """
        entry = self._live.get(order_id)
        if entry is None:
            return _reject(order_id, "not_live", f"order {order_id!r} is not resting")
        order: Order = entry[0]
        rem: int = entry[1]
        old_price = order.price
        new_qty = rem if qty is None else qty
        new_price = old_price if price is None else price
        bad = self._check(order_id, new_qty, new_price)
        if bad is not None:
            return bad
        if new_price == old_price and new_qty <= rem:
            if new_qty == rem:
                return Outcome(order_id, [], [], None, rem)
            d = rem - new_qty
            entry[1] = new_qty
            entry[3].levels[entry[2]].qty -= d
            return Outcome(order_id, [], [Cancelled(order_id, d, "replaced")], None, new_qty)
        del self._live[order_id]
        self._unlink(entry)
        # The new version goes through submit like a new order; only its id is not new.
        self._seen.discard(order_id)
        out = self.submit(_dc_replace(order, qty=new_qty, price=new_price))
        out.cancelled.insert(0, Cancelled(order_id, rem, "replaced"))
        return out

    def restore(self, order: Order, remaining: int) -> None:
        """Put a persisted resting order back at the back of its level, without matching.

        Call in priority order (as `orders()` yields them). Raises `IntegrityFault` if the
        order could not have been resting: id already used, market or non-GTC order, remaining
        outside (0, qty], or a price that would cross the book. Tick, lot and band rules are
        not re-checked: the order was valid when it was accepted.
        """
        oid = order.id
        if oid in self._seen:
            raise IntegrityFault(f"restore: order id {oid!r} already used in this book")
        price = order.price
        if price is None or order.tif != "gtc":
            raise IntegrityFault(f"restore: order {oid!r} cannot rest (market or not GTC)")
        if not 0 < remaining <= order.qty:
            raise IntegrityFault(f"restore: remaining {remaining} outside (0, {order.qty}]")
        if order.side == "buy":
            own = self._bids
            best = self.best_ask()
            crosses = best is not None and price >= best
        else:
            own = self._asks
            best = self.best_bid()
            crosses = best is not None and price <= best
        if crosses:
            raise IntegrityFault(f"restore: order {oid!r} at {price} would cross the book")
        self._seen.add(oid)
        key = price * own.sign
        level = own.levels.get(key)
        if level is None:
            level = own.add_level(key)
        entry = [order, remaining, key, own]
        level.q.append(entry)
        level.qty += remaining
        self._live[oid] = entry

    # ------------------------------------------------------------------ queries

    def live(self, order_id: str) -> int:
        entry = self._live.get(order_id)
        return 0 if entry is None else int(entry[1])

    def orders(self) -> Iterator[tuple[Order, int]]:
        """Resting orders with remaining qty: bids best-first, then asks best-first, FIFO.

        Iterates over a snapshot, so the book may be changed while iterating.
        """
        snapshot: list[tuple[Order, int]] = []
        for side in (self._bids, self._asks):
            levels = side.levels
            for key in reversed(side.keys):
                snapshot.extend((e[0], e[1]) for e in levels[key].q if e[1])
        return iter(snapshot)

    def depth(self, levels: int = 10) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(bids, asks) as (price, total remaining qty), best first, at most `levels` each."""
        out: list[list[tuple[int, int]]] = []
        for side in (self._bids, self._asks):
            keys = side.keys
            lv = side.levels
            sign = side.sign
            n = min(levels, len(keys))
            out.append([(keys[-1 - i] * sign, lv[keys[-1 - i]].qty) for i in range(n)])
        return out[0], out[1]

    def best_bid(self) -> int | None:
        keys = self._bids.keys
        return keys[-1] if keys else None

    def best_ask(self) -> int | None:
        keys = self._asks.keys
        return -keys[-1] if keys else None

    def __len__(self) -> int:
        """Number of resting orders."""
        return len(self._live)

    def check_invariants(self) -> None:
        """Verify internal consistency; raise `IntegrityFault` on any breach (tests, debugging)."""
        seen_live: dict[str, int] = {}
        for side in (self._bids, self._asks):
            if side.keys != sorted(set(side.keys)):
                raise IntegrityFault("level keys not strictly ascending")
            if set(side.keys) != set(side.levels):
                raise IntegrityFault("level keys and levels differ")
            for key, level in side.levels.items():
                live = [e for e in level.q if e[1]]
                if not live:
                    raise IntegrityFault(f"empty level {key} kept")
                if level.qty != sum(e[1] for e in live):
                    raise IntegrityFault(f"level {key} totals wrong")
                if level.dead != len(level.q) - len(live):
                    raise IntegrityFault(f"level {key} dead count wrong")
                for e in live:
                    o: Order = e[0]
                    if e[2] != key or e[3] is not side or o.side != side.name:
                        raise IntegrityFault(f"entry {o.id} misplaced")
                    if o.price is None or o.price * side.sign != key:
                        raise IntegrityFault(f"entry {o.id} at the wrong price")
                    if not 0 < e[1] <= o.qty:
                        raise IntegrityFault(f"entry {o.id} remaining out of range")
                    if o.id in seen_live:
                        raise IntegrityFault(f"entry {o.id} rests twice")
                    seen_live[o.id] = e[1]
        if {k: e[1] for k, e in self._live.items()} != seen_live:
            raise IntegrityFault("live index differs from the levels")
        if any(e[1] == 0 for e in self._live.values()):
            raise IntegrityFault("dead entry in the live index")
        bid, ask = self.best_bid(), self.best_ask()
        if bid is not None and ask is not None and bid >= ask:
            raise IntegrityFault(f"book crossed: {bid} >= {ask}")
