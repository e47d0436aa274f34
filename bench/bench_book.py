"""Order-book throughput: trading.book.OrderBook vs a minimal pure-Python book vs liquibook.

One deterministic stream (seeded) of limit GTC orders (70 %) and cancels of live orders (30 %),
prices around a mid, is generated before timing; every implementation then processes the same
stream in the same run, building its own order objects inside the timed loop. Prints one JSON
line per implementation:

    {"bench":"book","impl":...,"events":...,"seconds":...,"events_per_s":...}

Usage: python bench/bench_book.py [--events N] [--seed S]
"""

from __future__ import annotations

import argparse
import bisect
import json
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from trading.book import Order, OrderBook

MID = 100_000  # fen per tonne
# An event is ("L", id, is_buy, price, qty, owner) or ("C", id).
Event = tuple[Any, ...]


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
            q = own_levels.get(key)
            if q is None:
                q = own_levels[key] = deque()
                bisect.insort(own_keys, key)
            e = [oid, qty, key, is_buy]
            q.append(e)
            index[oid] = e
        return fills

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
        events.append(("L", oid, is_buy, price, qty, owner))
        for maker, _taker, _px, _q in sim.limit(oid, is_buy, price, qty):
            if sim.index.get(maker) is None and maker in pos:
                drop(maker)
        if oid in sim.index:
            pos[oid] = len(live)
            live.append(oid)
    return events


def run_orderbook(events: Sequence[Event]) -> int:
    book = OrderBook()
    submit = book.submit
    cancel = book.cancel
    fills = 0
    for ev in events:
        if ev[0] == "L":
            _, oid, is_buy, price, qty, owner = ev
            out = submit(Order(oid, owner, "buy" if is_buy else "sell", qty, price))
            fills += len(out.fills)
        else:
            cancel(ev[1])
    return fills


def prebuild_orders(events: Sequence[Event]) -> list[Any]:
    """Orders built ahead (untimed), to show the engine's own share of the time."""
    return [
        Order(ev[1], ev[5], "buy" if ev[2] else "sell", ev[4], ev[3]) if ev[0] == "L" else ev[1]
        for ev in events
    ]


def run_orderbook_prebuilt(items: Sequence[Any]) -> int:
    book = OrderBook()
    submit = book.submit
    cancel = book.cancel
    fills = 0
    for item in items:
        if item.__class__ is str:
            cancel(item)
        else:
            fills += len(submit(item).fills)
    return fills


def run_minimal(events: Sequence[Event]) -> int:
    book = MinimalBook()
    limit = book.limit
    cancel = book.cancel
    fills = 0
    for ev in events:
        if ev[0] == "L":
            fills += len(limit(ev[1], ev[2], ev[3], ev[4]))
        else:
            cancel(ev[1])
    return fills


def make_liquibook_runner() -> Callable[[Sequence[Event]], int] | None:
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

    def run(events: Sequence[Event]) -> int:
        book = liquibook.DepthOrderBook()
        listener = Listener()
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
        return int(listener.fills)

    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args(argv)
    events = generate(args.events, args.seed)
    impls: list[tuple[str, Callable[[Sequence[Any]], int] | None, Callable[..., Any] | None]] = [
        ("trading.book.OrderBook", run_orderbook, None),
        ("trading.book.OrderBook[orders_prebuilt]", run_orderbook_prebuilt, prebuild_orders),
        ("minimal_pure_python", run_minimal, None),
        ("liquibook_swig", make_liquibook_runner(), None),
    ]
    for name, run, prepare in impls:
        if run is None:
            print(
                json.dumps({"bench": "book", "impl": name, "skipped": "liquibook not importable"})
            )
            continue
        payload = events if prepare is None else prepare(events)
        t0 = time.perf_counter()
        fills = run(payload)
        dt = time.perf_counter() - t0
        del payload
        print(
            json.dumps(
                {
                    "bench": "book",
                    "impl": name,
                    "events": len(events),
                    "seconds": round(dt, 4),
                    "events_per_s": round(len(events) / dt),
                    "fills": fills,
                },
                separators=(",", ":"),
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
