"""Order-book throughput: trading.book.OrderBook vs a minimal pure-Python book vs liquibook.

One deterministic stream (seeded) of limit GTC orders (70 %) and cancels of live orders (30 %),
prices around a mid, is generated before timing; every implementation then processes the same
stream in the same run, each through its own API, with whatever objects that API needs built
inside the timed loop (liquibook: a SimpleOrder per order; our value API: an Order per order).
Implementations:

- ``trading.book.OrderBook.submit_fast[service]``: the engine as the service runs it
  (`trading.service` places every order with `submit_fast` on a book made with
  ``unique_ids=False``, since the database keeps ids unique, and reads ``book.fills``),
  in the build the install made: compiled with mypyc by `scripts/setup` (``"engine"`` in
  its line says which build ran);
- ``submit_fast[service,interpreted]``: the same source run by the interpreter
  (``ERTS_PURE_PYTHON=1``), what a machine without a C compiler gets;
- the same on a book configured like a market with a minimum lot and daily price limits
  (every order then goes through the full rule check);
- ``submit_fast[unique_ids]``: the default book, which remembers every id it ever saw (the
  lifetime duplicate-id rule; the book `erts replay` runs): at a million events that is a
  dict of ~700 000 ids, and the cost of its lookups shows;
- ``trading.book.OrderBook.submit``: the value API (Order in, Outcome of Fill values out);
- ``minimal_pure_python``: the least a price-time book needs, no rules at all (a floor);
- ``liquibook_swig``: the `liquibook` package from PyPI (C++ under a SWIG binding), whose
  Python-level throughput is bounded by the binding (an object per order and a Python
  `OrderListener` callback per accept, fill and cancel);
- ``liquibook_swig[no_callbacks]``: the same `DepthOrderBook` with no listener set, so no call
  crosses back into Python: the binding's cost per order without the callbacks (its fills are
  not observed; its end depth is checked instead).

Each variant gets the book its name says (`book_for`): a bench once wrote ``book or
OrderBook(...)``, and an empty `OrderBook` is falsy (``len()`` is its resting orders), so the
"lot+band" and "unique_ids" lines silently ran the plain book. Every run also reports the top
five levels of its book at the end (``depth``): the summary's ``depth_agrees`` says, per
implementation, whether they equal the service engine's (they must: the stream has unique ids,
whole lots and prices inside the band).

Each run is a fresh process that unpickles the same stream before timing, so no
implementation runs on a heap another one left behind; each implementation runs
``--repeat`` times interleaved with the others, and the best run counts (the machine is
shared, so the best run is the least disturbed). Prints one JSON line per
implementation, then one line of ratios:

    {"bench":"book","impl":...,"events":...,"seconds":...,"events_per_s":...,"fills":...,
     "book":{...}}
    {"bench":"book","summary":{"submit_fast_vs_liquibook":...,"interpreted_vs_liquibook":...,
     "depth_agrees":{...},...}}

Usage: python bench/bench_book.py [--events N] [--seed S] [--repeat R] [--clock wall|cpu]
"""

from __future__ import annotations

import argparse
import bisect
import gc
import json
import os
import pickle
import random
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import trading
from trading.book import Order, OrderBook

MID = 100_000  # fen per tonne
# An event is ("L", id, is_buy, price, qty, owner, side) or ("C", id); side is "buy"/"sell".
Event = tuple[Any, ...]
#: the top levels of a book at the end of a run: (bids, asks), each [(price, qty), ...] best first
Depth = tuple[list[tuple[int, int]], list[tuple[int, int]]]
#: what a run returns: the number of fills (None: not observable) and the end depth
Result = tuple["int | None", Depth]
LEVELS = 5


class MinimalBook:
    """The least a price-time book needs: per-price deques, sorted price lists, lazy cancels.

    No validation, no STP, no order types; fills are (maker, taker, price, qty) tuples.
    """

    def __init__(self) -> None:
        self.bid_px: list[int] = []  # ascending, best (highest) at the end
        self.ask_px: list[int] = []  # descending via negation: stores -price, best at the end
        self.bids: dict[int, deque[list[Any]]] = {}
        self.asks: dict[int, deque[list[Any]]] = {}
        self.index: dict[str, list[Any]] = {}

    def limit(
        self, oid: str, is_buy: bool, price: int, qty: int
    ) -> list[tuple[str, str, int, int]]:
        fills: list[tuple[str, str, int, int]] = []
        if is_buy:
            keys, levels, thr, own_keys, own_levels, key = (
                self.ask_px,
                self.asks,
                -price,
                self.bid_px,
                self.bids,
                price,
            )
        else:
            keys, levels, thr, own_keys, own_levels, key = (
                self.bid_px,
                self.bids,
                price,
                self.ask_px,
                self.asks,
                -price,
            )
        index = self.index
        while qty and keys and keys[-1] >= thr:
            k = keys[-1]
            q = levels[k]
            px = abs(k)
            while qty and q:
                e = q[0]
                if e[1] == 0:
                    q.popleft()
                    continue
                take = e[1] if e[1] <= qty else qty
                fills.append((e[0], oid, px, take))
                e[1] -= take
                qty -= take
                if e[1] == 0:
                    q.popleft()
                    del index[e[0]]
            if not q:
                del levels[k]
                keys.pop()
        if qty:
            own = own_levels.get(key)
            if own is None:
                own = own_levels[key] = deque()
                bisect.insort(own_keys, key)
            q = own
            e = [oid, qty, key, is_buy]
            q.append(e)
            index[oid] = e
        return fills

    def depth(self, levels: int) -> Depth:
        def side(keys: list[int], book: dict[int, deque[list[Any]]]) -> list[tuple[int, int]]:
            out = []
            for k in reversed(keys):
                qty = sum(e[1] for e in book[k])
                if qty:
                    out.append((abs(k), qty))
                if len(out) == levels:
                    break
            return out

        return side(self.bid_px, self.bids), side(self.ask_px, self.asks)

    def cancel(self, oid: str) -> int:
        e = self.index.pop(oid, None)
        if e is None:
            return 0
        rem = e[1]
        e[1] = 0
        key = e[2]
        keys, levels = (self.bid_px, self.bids) if e[3] else (self.ask_px, self.asks)
        q = levels[key]
        while q and q[0][1] == 0:
            q.popleft()
        if not q:
            del levels[key]
            del keys[bisect.bisect_left(keys, key)]
        return rem


def generate(n: int, seed: int) -> list[Event]:
    """A stream of n events; cancels target orders that are live at that point."""
    rng = random.Random(seed)
    sim = MinimalBook()
    live: list[str] = []
    pos: dict[str, int] = {}

    def drop(oid: str) -> None:
        i = pos.pop(oid)
        last = live.pop()
        if last != oid:
            live[i] = last
            pos[last] = i

    events: list[Event] = []
    next_id = 0
    for _ in range(n):
        if live and rng.random() < 0.3:
            oid = live[rng.randrange(len(live))]
            events.append(("C", oid))
            sim.cancel(oid)
            drop(oid)
            continue
        next_id += 1
        oid = f"o{next_id}"
        is_buy = rng.random() < 0.5
        offset = int(rng.gauss(0, 60))
        price = MID + offset - 20 if is_buy else MID + offset + 20
        qty = rng.randint(1, 100) * 10
        owner = f"t{next_id}"  # distinct owners: no self-trade prevention in play
        events.append(("L", oid, is_buy, price, qty, owner, "buy" if is_buy else "sell"))
        for maker, _taker, _px, _q in sim.limit(oid, is_buy, price, qty):
            if sim.index.get(maker) is None and maker in pos:
                drop(maker)
        if oid in sim.index:
            pos[oid] = len(live)
            live.append(oid)
    return events


FAST = "trading.book.OrderBook.submit_fast[service]"
INTERPRETED = "trading.book.OrderBook.submit_fast[service,interpreted]"
LOT_BAND = "trading.book.OrderBook.submit_fast[service,lot+band]"
UNIQUE = "trading.book.OrderBook.submit_fast[unique_ids]"
VALUE_API = "trading.book.OrderBook.submit[Order->Outcome]"
MINIMAL = "minimal_pure_python"
LIQUIBOOK = "liquibook_swig"
LIQUIBOOK_BARE = "liquibook_swig[no_callbacks]"
#: environment of an implementation's child process, beyond the parent's
_ENV = {INTERPRETED: {"ERTS_PURE_PYTHON": "1"}}


def book_for(name: str) -> OrderBook:
    """The `OrderBook` a variant of the engine runs on, as its name says."""
    if name in (FAST, INTERPRETED):
        # as `trading.service` makes it: the database keeps ids unique
        return OrderBook(unique_ids=False)
    if name == LOT_BAND:
        # as a market is configured: a lot of 10 kg and a daily band of +-10 % around the mid
        return OrderBook(min_lot=10, price_band=(MID * 9 // 10, MID * 11 // 10),
                         unique_ids=False)
    if name in (UNIQUE, VALUE_API):
        return OrderBook()  # the default: every id ever seen is remembered
    raise KeyError(name)


def describe(book: OrderBook) -> dict[str, object]:
    """The rules a book was made with (printed beside each engine variant's figure)."""
    return {"min_lot": book.min_lot, "price_band": book.price_band,
            "unique_ids": book.unique_ids}


def run_submit_fast(events: Sequence[Event], book: OrderBook) -> Result:
    """The service's engine: plain values in, fills read from the book's flat list."""
    submit = book.submit_fast
    cancel = book.cancel_fast
    fl = book.fills
    fills = 0
    for ev in events:
        if ev[0] == "L":
            submit(ev[1], ev[5], ev[6], ev[4], ev[3])
            fills += len(fl)
        else:
            cancel(ev[1])
    return fills, book.depth(LEVELS)


def run_orderbook(events: Sequence[Event], book: OrderBook) -> Result:
    """The value API: an Order in, an Outcome of Fill values out."""
    submit = book.submit
    cancel = book.cancel
    fills = 0
    for ev in events:
        if ev[0] == "L":
            out = submit(Order(ev[1], ev[5], ev[6], ev[4], ev[3]))
            fills += len(out.fills)
        else:
            cancel(ev[1])
    return fills, book.depth(LEVELS)


def run_minimal(events: Sequence[Event]) -> Result:
    book = MinimalBook()
    limit = book.limit
    cancel = book.cancel
    fills = 0
    for ev in events:
        if ev[0] == "L":
            fills += len(limit(ev[1], ev[2], ev[3], ev[4]))
        else:
            cancel(ev[1])
    return fills, book.depth(LEVELS)


def make_liquibook_runner(callbacks: bool = True) -> Callable[[Sequence[Event]], Result] | None:
    """liquibook's `DepthOrderBook`, with a Python listener counting fills (``callbacks``) or
    with none (nothing crosses back into Python; fills are not counted)."""
    try:
        import liquibook  # type: ignore[import-not-found]
    except ImportError:
        return None

    class Listener(liquibook.OrderListener):  # type: ignore[misc]
        """Counts fills; every callback is pure virtual in C++, so all are defined."""

        def __init__(self) -> None:
            super().__init__()
            self.fills = 0

        def on_accept(self, order: Any) -> None:
            pass

        def on_reject(self, order: Any, reason: str) -> None:
            pass

        def on_fill(self, order: Any, matched: Any, qty: int, price: int) -> None:
            self.fills += 1

        def on_cancel(self, order: Any) -> None:
            pass

        def on_cancel_reject(self, order: Any, reason: str) -> None:
            pass

        def on_replace(self, order: Any, size_delta: int, new_price: int) -> None:
            pass

        def on_replace_reject(self, order: Any, reason: str) -> None:
            pass

    def depth(book: Any) -> Depth:
        d = book.depth()
        bids = [(x.price(), x.aggregate_qty()) for x in d.get_bid_levels()[:LEVELS]]
        asks = [(x.price(), x.aggregate_qty()) for x in d.get_ask_levels()[:LEVELS]]
        return [x for x in bids if x[1]], [x for x in asks if x[1]]

    def run(events: Sequence[Event]) -> Result:
        book = liquibook.DepthOrderBook()
        listener = Listener() if callbacks else None
        if listener is not None:
            book.set_order_listener(listener)
        simple_order = liquibook.SimpleOrder
        add = book.add
        cancel = book.cancel
        orders: dict[str, Any] = {}
        for ev in events:
            if ev[0] == "L":
                o = simple_order(ev[2], ev[3], ev[4])
                orders[ev[1]] = o
                add(o, 0)
            else:
                cancel(orders.pop(ev[1]))
        return (None if listener is None else int(listener.fills)), depth(book)

    return run


def _engine(name: str, run: Callable[[Sequence[Event], OrderBook], Result]
            ) -> Callable[[Sequence[Event]], Result]:
    def go(events: Sequence[Event]) -> Result:
        return run(events, book_for(name))  # the book made in the timed run, as before

    return go


def _impls() -> list[tuple[str, Callable[[Sequence[Event]], Result] | None]]:
    return [
        (FAST, _engine(FAST, run_submit_fast)),
        (INTERPRETED, _engine(INTERPRETED, run_submit_fast)),
        (LOT_BAND, _engine(LOT_BAND, run_submit_fast)),
        (UNIQUE, _engine(UNIQUE, run_submit_fast)),
        (VALUE_API, _engine(VALUE_API, run_orderbook)),
        (MINIMAL, run_minimal),
        (LIQUIBOOK, make_liquibook_runner(callbacks=True)),
        (LIQUIBOOK_BARE, make_liquibook_runner(callbacks=False)),
    ]


def _time_one(name: str, stream: str, clock: str = "wall") -> None:
    """Child process: load the stream, run one implementation once, print seconds and fills
    (``clock`` "cpu": this process's CPU time, which other load on a shared machine barely
    changes; "wall": elapsed time)."""
    with open(stream, "rb") as f:
        events = pickle.load(f)
    run = dict(_impls())[name]
    assert run is not None
    gc.collect()
    now = time.process_time if clock == "cpu" else time.perf_counter
    t0 = now()
    fills, depth = run(events)
    dt = now() - t0
    print(json.dumps({"seconds": dt, "fills": fills, "depth": depth,
                      "engine": trading.BOOK_ENGINE}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="time each run by elapsed time (default) or by the CPU time of "
                             "its process (steadier on a loaded machine)")
    parser.add_argument("--child", nargs=3, metavar=("IMPL", "STREAM", "CLOCK"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _time_one(*args.child)
        return
    events = generate(args.events, args.seed)
    impls = _impls()
    best: dict[str, float] = {}
    fills: dict[str, int | None] = {}
    depth: dict[str, object] = {}
    engine: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        stream = str(Path(tmp) / "events.pickle")
        with open(stream, "wb") as f:
            pickle.dump(events, f, protocol=pickle.HIGHEST_PROTOCOL)
        # Each run in a fresh process (the same stream, unpickled before timing), so no
        # implementation runs on a heap another one left behind; runs are interleaved.
        for _ in range(max(1, args.repeat)):
            for name, run in impls:
                if run is None:
                    continue
                out = subprocess.run([sys.executable, __file__, "--child", name, stream,
                                      args.clock],
                                     check=True, capture_output=True, text=True,
                                     env={**os.environ, **_ENV.get(name, {})})
                r = json.loads(out.stdout.strip().splitlines()[-1])
                fills[name] = r["fills"]
                depth[name] = r["depth"]
                engine[name] = r["engine"]
                best[name] = min(r["seconds"], best.get(name, r["seconds"]))
    rates: dict[str, float] = {}
    for name, run in impls:
        if run is None:
            print(json.dumps({"bench": "book", "impl": name,
                              "skipped": "liquibook not importable"}))
            continue
        rates[name] = len(events) / best[name]
        line: dict[str, object] = {"bench": "book", "impl": name, "events": len(events),
                                   "clock": args.clock, "seconds": round(best[name], 4),
                                   "events_per_s": round(rates[name]), "fills": fills[name]}
        if name.startswith("trading."):
            line["engine"] = engine[name]
            line["book"] = describe(book_for(name))
        print(json.dumps(line, separators=(",", ":")), flush=True)
    fast, interpreted = rates[FAST], rates[INTERPRETED]
    summary: dict[str, object] = {
        "engine": engine[FAST],
        "submit_fast_vs_minimal": round(fast / rates[MINIMAL], 3),
        "interpreted_vs_minimal": round(interpreted / rates[MINIMAL], 3),
        "unique_ids_vs_service": round(rates[UNIQUE] / fast, 3),
        "lot_band_vs_service": round(rates[LOT_BAND] / fast, 3),
    }
    if LIQUIBOOK in rates:
        summary["submit_fast_vs_liquibook"] = round(fast / rates[LIQUIBOOK], 3)
        summary["interpreted_vs_liquibook"] = round(interpreted / rates[LIQUIBOOK], 3)
        summary["goal_vs_liquibook"] = 2.0
    if LIQUIBOOK_BARE in rates:
        summary["submit_fast_vs_liquibook_no_callbacks"] = round(fast / rates[LIQUIBOOK_BARE], 3)
        summary["interpreted_vs_liquibook_no_callbacks"] = round(
            interpreted / rates[LIQUIBOOK_BARE], 3)
    summary["depth_agrees"] = {name: depth[name] == depth[FAST] for name in rates}
    print(json.dumps({"bench": "book", "summary": summary}, separators=(",", ":")))


if __name__ == "__main__":
    main()
