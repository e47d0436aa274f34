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
  with ``duplicate_order_id``. With ``unique_ids=False`` only a resting order's id is
  refused, and an id may be used again once its order left the book: for a caller that keeps
  ids unique itself (the service's database does), so that a long-lived book's memory and
  lookups stay proportional to its resting orders rather than to its history.
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

Two interfaces over one engine:

- the fast path, `submit_fast(oid, owner, side, qty, price, tif, post_only, stp)` and
  `cancel_fast(oid)`, takes plain values and returns the resting quantity (or `REJECTED`);
  what the command did is left in two lists owned by the book and cleared by the next
  command: ``book.fills`` holds ``(maker_id, maker_owner, price, qty)`` tuples in execution
  order (the taker is the submitted order; the maker's side is the other side) and
  ``book.cancels`` holds ``(order_id, qty, reason)`` tuples; after `REJECTED`,
  ``book.reject`` is ``(code, message)``. Copy the lists if you keep them. The service and
  the benchmark use this path;
- the value interface, `submit(Order) -> Outcome`, `cancel(id) -> Cancelled | None` and
  `replace`, is a thin wrapper that turns those lists into `Fill`, `Cancelled` and `Rejected`
  values. The state-machine tests drive both against the reference book.

Implementation: each side keeps a dict ``key -> level`` and a sorted list of keys with the best
at the end (bid key = price, ask key = -price), so the best level is ``keys[-1]`` and removing
it is ``list.pop()``. A level (`_Level`) is a list of entries (`_Entry`) in arrival order
from an index ``head`` on; its front entry is always live, so a level is empty exactly when
``head`` reaches the end. One dict maps each resting order's id to its entry (an order
leaving the book leaves it), and, with ``unique_ids``, a set holds every id ever accepted;
checking an id and finding an order to cancel are one hash lookup each. Departed entries are
not kept: a book that retained every order would make each pass of the garbage collector
longer as history grows (that alone halved throughput). Cancels are lazy: the entry's
remaining goes to 0 and it is dropped when it reaches the front of its level, or when the
levels are compacted after many cancels behind their fronts.

Build: this module is plain, fully typed Python, and the install also compiles it with mypyc
(`setup.py`); `trading/__init__.py` picks the compiled module only when it was built from
this very source. The classes are written for both: `_Entry` and `_Level` are small classes
with slots (native structs when compiled), values that the book validates itself (`qty`,
`price`) are typed `object` at the boundary so that a bad value is a rejection in both
builds, and the value types (`Order`, `Fill`, ...) stay ordinary Python classes.
Rejections, fills and cancellations are outcomes, never exceptions.
Not thread-safe: one writer per book (the service holds the market's lock).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from dataclasses import MISSING, dataclass, field, fields
from itertools import islice
from typing import Any, Literal, cast, final

from mypy_extensions import mypyc_attr

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
# Compact the levels after at least this many cancels behind a level's front.
_COMPACT_AT = 32


# The value types stay ordinary Python classes in the compiled module too (mypyc would make
# them native classes, which check field types on construction): an Order with a float qty
# must reach `submit` and be rejected there, the same in both builds.
@mypyc_attr(native_class=False)
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


@mypyc_attr(native_class=False)
@dataclass(frozen=True, slots=True)
class Fill:
    maker: str
    taker: str
    maker_owner: str
    taker_owner: str
    price: int
    qty: int
    maker_side: Side


@mypyc_attr(native_class=False)
@dataclass(frozen=True, slots=True)
class Cancelled:
    order_id: str
    qty: int
    reason: str


@mypyc_attr(native_class=False)
@dataclass(frozen=True, slots=True)
class Rejected:
    order_id: str
    code: str
    message: str


@mypyc_attr(native_class=False)
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


@final
class _Entry:
    """A resting order version. ``rem == 0`` marks an entry that left the book (filled or
    cancelled) but may still sit in its level. The key is the price on the bid side and minus
    the price on the ask side (prices are positive), so its sign tells the side."""

    __slots__ = ("rem", "oid", "owner", "key", "qty", "stp", "post_only")

    def __init__(self, rem: int, oid: str, owner: str, key: int, qty: int, stp: str,
                 post_only: bool) -> None:
        self.rem = rem
        self.oid = oid
        self.owner = owner
        self.key = key
        self.qty = qty  # of this version
        self.stp = stp
        self.post_only = post_only


@final
class _Level:
    """The entries resting at one price, in arrival order, from ``entries[head]`` on.

    ``entries[head]`` is always live, so a level is empty exactly when ``head`` reaches the
    end. Taking the front moves ``head``; the dead prefix is dropped once it is at least
    `_COMPACT_AT` entries and half the list, so memory stays proportional to the resting
    orders and every operation is O(1) amortised (a list and an index, not a deque: cheaper
    to make and to index, in the interpreter and compiled alike)."""

    __slots__ = ("entries", "head")

    def __init__(self, first: _Entry) -> None:
        self.entries: list[_Entry] = [first]
        self.head = 0

    def live(self) -> list[_Entry]:
        """The live entries, in arrival order."""
        return [e for e in self.entries[self.head:] if e.rem]

    def advance(self) -> bool:
        """Drop the front entry and any dead entries behind it; False if the level is now
        empty."""
        entries = self.entries
        n = len(entries)
        h = self.head + 1
        while h < n and not entries[h].rem:
            h += 1
        if h == n:
            return False
        if h >= _COMPACT_AT and h + h >= n:
            del entries[:h]
            h = 0
        self.head = h
        return True


#: `submit_fast` returns this when the order is rejected (see ``book.reject``).
REJECTED = -1


def _insert_key(keys: list[int], key: int) -> None:
    """Add a level key to an ascending list (best at the end)."""
    if not keys or key > keys[-1]:
        keys.append(key)
    else:
        insort(keys, key)


def _remove_key(keys: list[int], key: int) -> None:
    if keys[-1] == key:
        keys.pop()
    else:
        del keys[bisect_left(keys, key)]


def _reject(order_id: str, code: str, message: str) -> Outcome:
    return Outcome(order_id, [], [], Rejected(order_id, code, message), 0)


class OrderBook:
    """One instrument's continuous book. See the module docstring for the rules."""

    __slots__ = (
        "tick", "min_lot", "price_band", "unique_ids", "_plain", "_bk", "_bl", "_ak", "_al",
        "_on_buy", "_on_sell", "_ids", "_seen", "_budget", "fills", "cancels", "reject",
    )

    def __init__(
        self,
        *,
        tick: int = 1,
        min_lot: int = 1,
        price_band: tuple[int, int] | None = None,
        unique_ids: bool = True,
    ) -> None:
        if tick < 1 or min_lot < 1:
            raise ValueError("tick and min_lot must be >= 1")
        #: remember every id ever seen (the lifetime rule); False: only resting ids, for a
        #: caller that keeps ids unique itself (the service: the database does) and a book
        #: that lives long (memory and lookups stay proportional to the resting orders)
        self.unique_ids = unique_ids
        if price_band is not None and price_band[0] > price_band[1]:
            raise ValueError("price_band must be (lowest, highest)")
        self.tick = tick
        self.min_lot = min_lot
        self.price_band = price_band
        # No tick, lot or band rule beyond "positive int": lets submit_fast skip _check.
        self._plain = tick == 1 and min_lot == 1 and price_band is None
        # Each side: an ascending list of level keys (best at the end) and a dict key -> level
        # (a `_Level`: entries in arrival order whose front entry is always live).
        self._bk: list[int] = []
        self._bl: dict[int, _Level] = {}
        self._ak: list[int] = []
        self._al: dict[int, _Level] = {}
        # (opposite keys, opposite levels, opposite sign, own keys, own levels) per taker side
        self._on_buy = (self._ak, self._al, -1, self._bk, self._bl)
        self._on_sell = (self._bk, self._bl, 1, self._ak, self._al)
        self._ids: dict[str, _Entry] = {}  # resting orders only
        self._seen: set[str] = set()  # every id accepted (unique_ids only)
        # How many more cancels may leave a dead entry behind the front of its level before
        # every level is compacted: as many as there were resting orders at the last
        # compaction (at least _COMPACT_AT). Memory stays proportional to the resting orders
        # and compaction costs O(1) amortised per command.
        self._budget = _COMPACT_AT
        #: what the last fast command did (see the module docstring)
        self.fills: list[tuple[str, str, int, int]] = []
        self.cancels: list[tuple[str, int, str]] = []
        self.reject: tuple[str, str] | None = None

    # ------------------------------------------------------------------ validation

    def _check(self, qty: object, price: object) -> tuple[str, str] | None:
        """(code, message) for a bad qty or price, else None."""
        if type(qty) is not int or qty <= 0:
            return "invalid_qty", f"quantity must be a positive integer: {qty!r}"
        lot = self.min_lot
        if qty < lot or qty % lot:
            return "below_min_lot", f"quantity {qty} is not a whole number of lots of {lot}"
        if price is not None:
            if type(price) is not int or price <= 0:
                return "invalid_price", f"price must be a positive integer: {price!r}"
            if price % self.tick:
                return "off_tick", f"price {price} is not a multiple of {self.tick}"
            band = self.price_band
            if band is not None and not band[0] <= price <= band[1]:
                return "price_limit", f"price {price} is outside [{band[0]}, {band[1]}]"
        return None

    # ------------------------------------------------------------------ the fast path

    def submit_fast(
        self,
        oid: str,
        owner: str,
        side: str,
        qty: object,
        price: object,
        tif: str = "gtc",
        post_only: bool = False,
        stp: str = "cancel_newest",
    ) -> int:
        """Validate, match, then rest or cancel the remainder of one order.

        Returns the quantity left resting (0 if none), or `REJECTED`. Fills and cancellations
        are in ``self.fills`` and ``self.cancels`` until the next command. `qty` and `price`
        are typed `object` because they are validated here: a float or a string is a
        rejection, not a TypeError (the compiled module checks declared types on entry).
        """
        fills = self.fills
        if fills:
            fills.clear()
        cancels = self.cancels
        if cancels:
            cancels.clear()
        ids = self._ids
        if self.unique_ids:
            if oid in self._seen:
                self.reject = ("duplicate_order_id", f"order id {oid!r} already used")
                return REJECTED
        elif oid in ids:
            self.reject = ("duplicate_order_id", f"order id {oid!r} already used")
            return REJECTED
        # Plain book (tick 1, lot 1, no band) and a positive int qty and price: nothing more
        # to check. Otherwise the full rules, in the order of the module docstring.
        if not (
            self._plain
            and type(qty) is int
            and type(price) is int
            and qty > 0
            and price > 0
            and not post_only
        ):
            bad = self._check(qty, price)
            if bad is not None:
                self.reject = bad
                return REJECTED
            if post_only and (price is None or tif != "gtc"):
                self.reject = ("invalid_order", "post-only needs a GTC limit order")
                return REJECTED
        if self.unique_ids:
            self._seen.add(oid)
        amount = cast(int, qty)
        limit = cast("int | None", price)

        if side == "buy":
            keys, levels, sign, own_keys, own_levels = self._on_buy
            thr = _ANY if limit is None else -limit
        else:
            keys, levels, sign, own_keys, own_levels = self._on_sell
            thr = _ANY if limit is None else limit
        rem = amount

        if keys and keys[-1] >= thr:
            # The order crosses.
            if post_only:
                cancels.append((oid, rem, "post_only_would_cross"))
                return 0
            if tif == "fok" and not self._fok_fillable(owner, amount, stp, keys, levels, thr):
                cancels.append((oid, rem, "fok_unfillable"))
                return 0
            while keys:
                key = keys[-1]
                if key < thr:
                    break
                lv = levels[key]
                px = key * sign
                while True:
                    e = lv.entries[lv.head]  # live: the front of a level always is
                    er = e.rem
                    if e.owner == owner:
                        if stp == "cancel_newest":
                            cancels.append((oid, rem, "self_trade"))
                            return 0
                        # cancel_oldest / cancel_both: the resting order goes.
                        cancels.append((e.oid, er, "self_trade"))
                        e.rem = 0
                        del ids[e.oid]
                        if stp == "cancel_both":
                            cancels.append((oid, rem, "self_trade"))
                            rem = 0
                    elif er <= rem:
                        fills.append((e.oid, e.owner, px, er))
                        rem -= er
                        e.rem = 0
                        del ids[e.oid]
                    else:
                        fills.append((e.oid, e.owner, px, rem))
                        e.rem = er - rem
                        return 0
                    if not lv.advance():
                        del levels[key]
                        keys.pop()
                        break
                    if not rem:
                        break
                if not rem:
                    return 0
        if tif != "gtc" or limit is None:
            if tif == "fok":
                reason = "fok_unfillable"
            elif limit is None:
                reason = "market_remainder"
            else:
                reason = "ioc_remainder"
            cancels.append((oid, rem, reason))
            return 0
        # Rest at the back of its level: its key is -thr (bid key = price, ask key = -price).
        key = -thr
        entry = _Entry(rem, oid, owner, key, amount, stp, post_only)
        back = own_levels.get(key)
        if back is None:
            own_levels[key] = _Level(entry)
            _insert_key(own_keys, key)
        else:
            back.entries.append(entry)
        ids[oid] = entry
        return rem

    def check_fast(
        self,
        oid: str,
        qty: object,
        price: object,
        tif: str = "gtc",
        post_only: bool = False,
    ) -> tuple[str, str] | None:
        """What `submit_fast` would reject this order for, as ``(code, message)``, or None
        if it would accept it; the book is not changed. A caller that must do something
        between accepting an order and matching it (the service places its ledger holds)
        checks first, then submits."""
        if oid in (self._seen if self.unique_ids else self._ids):
            return ("duplicate_order_id", f"order id {oid!r} already used")
        bad = self._check(qty, price)
        if bad is not None:
            return bad
        if post_only and (price is None or tif != "gtc"):
            return ("invalid_order", "post-only needs a GTC limit order")
        return None

    @staticmethod
    def _fok_fillable(owner: str, need: int, stp: str, keys: list[int],
                      levels: dict[int, _Level], thr: int) -> bool:
        skip_own = stp == "cancel_oldest"
        for i in range(len(keys) - 1, -1, -1):
            key = keys[i]
            if key < thr:
                return False
            lv = levels[key]
            entries = lv.entries
            for j in range(lv.head, len(entries)):
                e = entries[j]
                r = e.rem
                if not r:
                    continue
                if e.owner == owner:
                    if skip_own:
                        continue
                    return False
                need -= r
                if need <= 0:
                    return True
        return False

    def cancel_fast(self, order_id: str) -> int:
        """Cancel a resting order; returns the quantity cancelled (0: it was not resting)."""
        ids = self._ids
        entry = ids.get(order_id)
        if entry is None:
            return 0
        del ids[order_id]
        rem = entry.rem
        entry.rem = 0
        key = entry.key
        levels = self._bl if key > 0 else self._al
        lv = levels[key]
        if lv.entries[lv.head] is entry:
            if not lv.advance():
                del levels[key]
                _remove_key(self._bk if key > 0 else self._ak, key)
            return rem
        budget = self._budget - 1
        if budget <= 0:
            self._compact()
            budget = max(_COMPACT_AT, len(self._ids))
        self._budget = budget
        return rem

    def _compact(self) -> None:
        """Drop every cancelled entry still queued behind a live front."""
        for levels in (self._bl, self._al):
            for lv in levels.values():
                if len(lv.entries) - lv.head > 1:
                    lv.entries = lv.live()
                    lv.head = 0

    def restore_fast(
        self,
        oid: str,
        owner: str,
        side: str,
        qty: int,
        price: int | None,
        remaining: int,
        tif: str = "gtc",
        post_only: bool = False,
        stp: str = "cancel_newest",
    ) -> None:
        """Put a persisted resting order back at the back of its level, without matching.

        Call in priority order (as `orders()` yields them). Raises `IntegrityFault` if the
        order could not have been resting: id already used, market or non-GTC order, remaining
        outside (0, qty], or a price that would cross the book. Tick, lot and band rules are
        not re-checked: the order was valid when it was accepted.
        """
        if oid in self._ids or oid in self._seen:
            raise IntegrityFault(f"restore: order id {oid!r} already used in this book")
        if price is None or tif != "gtc":
            raise IntegrityFault(f"restore: order {oid!r} cannot rest (market or not GTC)")
        if not 0 < remaining <= qty:
            raise IntegrityFault(f"restore: remaining {remaining} outside (0, {qty}]")
        if side == "buy":
            keys, levels, key = self._bk, self._bl, price
            best = self.best_ask()
            crosses = best is not None and price >= best
        else:
            keys, levels, key = self._ak, self._al, -price
            best = self.best_bid()
            crosses = best is not None and price <= best
        if crosses:
            raise IntegrityFault(f"restore: order {oid!r} at {price} would cross the book")
        entry = _Entry(remaining, oid, owner, key, qty, stp, post_only)
        lv = levels.get(key)
        if lv is None:
            levels[key] = _Level(entry)
            _insert_key(keys, key)
        else:
            lv.entries.append(entry)
        self._ids[oid] = entry
        if self.unique_ids:
            self._seen.add(oid)

    # ------------------------------------------------------------------ value interface

    def _outcome(self, oid: str, owner: str, side: str, result: int) -> Outcome:
        if result == REJECTED:
            code, message = self.reject or ("invalid_order", "rejected")
            return _reject(oid, code, message)
        maker_side: Side = "sell" if side == "buy" else "buy"
        fills = [Fill(m, oid, mo, owner, px, q, maker_side) for m, mo, px, q in self.fills]
        cancelled = [Cancelled(i, q, r) for i, q, r in self.cancels]
        return Outcome(oid, fills, cancelled, None, result)

    def submit(self, order: Order) -> Outcome:
        """`submit_fast` with an `Order` in and an `Outcome` out."""
        oid, owner, side = order.id, order.owner, order.side
        # qty and price are read untyped: submit_fast validates them (a float qty is a
        # rejection), where the compiled module would check a declared int on the way.
        values: Any = order
        r = self.submit_fast(oid, owner, side, values.qty, values.price, order.tif,
                             order.post_only, order.stp)
        return self._outcome(oid, owner, side, r)

    def cancel(self, order_id: str) -> Cancelled | None:
        rem = self.cancel_fast(order_id)
        return Cancelled(order_id, rem, "user") if rem else None

    def replace(
        self, order_id: str, *, qty: object = None, price: object = None
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
        order that is not resting is rejected with code ``not_live``. `qty` and `price` are
        validated here (typed `object`, as in `submit_fast`).
        """
        entry = self._ids.get(order_id)
        if entry is None:
            return _reject(order_id, "not_live", f"order {order_id!r} is not resting")
        rem: int = entry.rem
        key: int = entry.key
        side_name = "buy" if key > 0 else "sell"
        old_price = key if key > 0 else -key
        bad = self._check(rem if qty is None else qty, old_price if price is None else price)
        if bad is not None:
            return _reject(order_id, *bad)
        new_qty = rem if qty is None else cast(int, qty)
        new_price = old_price if price is None else cast(int, price)
        if new_price == old_price and new_qty <= rem:
            if new_qty == rem:
                return Outcome(order_id, [], [], None, rem)
            d = rem - new_qty
            entry.rem = new_qty
            return Outcome(order_id, [], [Cancelled(order_id, d, "replaced")], None, new_qty)
        self.cancel_fast(order_id)
        # The new version goes through submit like a new order; only its id is not new.
        self._seen.discard(order_id)
        owner: str = entry.owner
        r = self.submit_fast(order_id, owner, side_name, new_qty, new_price, "gtc", entry.post_only,
                             entry.stp)
        out = self._outcome(order_id, owner, side_name, r)
        out.cancelled.insert(0, Cancelled(order_id, rem, "replaced"))
        return out

    def restore(self, order: Order, remaining: int) -> None:
        """`restore_fast` with an `Order`."""
        self.restore_fast(order.id, order.owner, order.side, order.qty, order.price, remaining,
                          order.tif, order.post_only, order.stp)

    # ------------------------------------------------------------------ queries

    def live(self, order_id: str) -> int:
        entry = self._ids.get(order_id)
        return 0 if entry is None else int(entry.rem)

    def owner_of(self, order_id: str) -> str | None:
        """The owner of a resting order, or None if it is not resting."""
        entry = self._ids.get(order_id)
        return None if entry is None else str(entry.owner)

    @staticmethod
    def _order(e: _Entry) -> Order:
        key: int = e.key
        stp = cast(STP, e.stp)
        if key > 0:
            return Order(e.oid, e.owner, "buy", e.qty, key, "gtc", e.post_only, stp)
        return Order(e.oid, e.owner, "sell", e.qty, -key, "gtc", e.post_only, stp)

    def orders(self) -> Iterator[tuple[Order, int]]:
        """Resting orders with remaining qty: bids best-first, then asks best-first, FIFO.

        Iterates over a snapshot, so the book may be changed while iterating.
        """
        snapshot: list[tuple[Order, int]] = []
        for keys, levels in ((self._bk, self._bl), (self._ak, self._al)):
            for key in reversed(keys):
                snapshot.extend((self._order(e), e.rem) for e in levels[key].live())
        return iter(snapshot)

    def depth(self, levels: int = 10) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(bids, asks) as (price, total remaining qty), best first, at most `levels` each."""
        out: list[list[tuple[int, int]]] = []
        for keys, lv, sign in ((self._bk, self._bl, 1), (self._ak, self._al, -1)):
            n = min(levels, len(keys))
            out.append([(keys[-1 - i] * sign, sum(e.rem for e in lv[keys[-1 - i]].live()))
                        for i in range(n)])
        return out[0], out[1]

    def reachable(self, side: str, price: int | None, qty: int) -> list[str]:
        """Ids of the resting orders an order of `side` with limit `price` (None: any price)
        would meet first, in priority order, until their remaining quantity covers `qty`.
        A prediction for prefetching, not a promise: self-trade prevention may skip some and
        reach further."""
        if side == "buy":
            keys, levels, sign = self._ak, self._al, -1
        else:
            keys, levels, sign = self._bk, self._bl, 1
        out: list[str] = []
        need = qty
        for key in reversed(keys):
            level_price = key * sign
            if price is not None and (level_price > price if side == "buy"
                                      else level_price < price):
                break
            for e in islice(levels[key].entries, levels[key].head, None):
                if e.rem:
                    out.append(e.oid)
                    need -= e.rem
                    if need <= 0:
                        return out
        return out

    def best_bid(self) -> int | None:
        keys = self._bk
        return keys[-1] if keys else None

    def best_ask(self) -> int | None:
        keys = self._ak
        return -keys[-1] if keys else None

    def __len__(self) -> int:
        """Number of resting orders."""
        return len(self._ids)

    def check_invariants(self) -> None:
        """Verify internal consistency; raise `IntegrityFault` on any breach (tests, debugging)."""
        seen_live: dict[str, int] = {}
        for keys, levels, sign in ((self._bk, self._bl, 1), (self._ak, self._al, -1)):
            if keys != sorted(set(keys)):
                raise IntegrityFault("level keys not strictly ascending")
            if set(keys) != set(levels):
                raise IntegrityFault("level keys and levels differ")
            for key, lv in levels.items():
                if not 0 <= lv.head < len(lv.entries) or not lv.entries[lv.head].rem:
                    raise IntegrityFault(f"level {key} is empty or starts with a dead entry")
                for e in lv.live():
                    oid = e.oid
                    if e.key != key or key * sign <= 0:
                        raise IntegrityFault(f"entry {oid} misplaced")
                    if not 0 < e.rem <= e.qty:
                        raise IntegrityFault(f"entry {oid} remaining out of range")
                    if oid in seen_live:
                        raise IntegrityFault(f"entry {oid} rests twice")
                    if self._ids.get(oid) is not e:
                        raise IntegrityFault(f"entry {oid} not in the id index")
                    seen_live[oid] = e.rem
        indexed = {k: e.rem for k, e in self._ids.items()}
        if indexed != seen_live:
            raise IntegrityFault("id index differs from the levels")
        if self.unique_ids and not set(indexed) <= self._seen:
            raise IntegrityFault("a resting id is missing from the seen ids")
        bid, ask = self.best_bid(), self.best_ask()
        if bid is not None and ask is not None and bid >= ask:
            raise IntegrityFault(f"book crossed: {bid} >= {ask}")
