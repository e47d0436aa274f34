"""Differential test: our OrderBook against liquibook (C++, via its SWIG binding).

Streams of GTC limit buys/sells and cancels, every order with its own owner (so self-trade
prevention never applies, and liquibook has none). liquibook reports fills through an
`OrderListener.on_fill(order, matched_order, qty, price)` callback: `order` is the incoming
(taker) order, `matched_order` the resting (maker) one, `price` the execution price. The two
books must produce the same fills (maker, taker, price, qty) in the same order and the same
depth at the end.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading.book import Order, OrderBook

liquibook: Any = pytest.importorskip("liquibook")


class _Listener(liquibook.OrderListener):  # type: ignore[misc]
    """Collects fills; every callback is pure virtual in C++, so all are defined."""

    def __init__(self, names: dict[int, str]) -> None:
        super().__init__()
        self.names = names
        self.fills: list[tuple[str, str, int, int]] = []
        self.cancelled: list[str] = []

    def on_accept(self, order: Any) -> None:
        pass

    def on_reject(self, order: Any, reason: str) -> None:
        pass

    def on_fill(self, order: Any, matched: Any, qty: int, price: int) -> None:
        self.fills.append((self.names[matched.order_id_], self.names[order.order_id_], price, qty))

    def on_cancel(self, order: Any) -> None:
        self.cancelled.append(self.names[order.order_id_])

    def on_cancel_reject(self, order: Any, reason: str) -> None:
        pass

    def on_replace(self, order: Any, size_delta: int, new_price: int) -> None:
        pass

    def on_replace_reject(self, order: Any, reason: str) -> None:
        pass


def _depth(book: Any) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    d = book.depth()
    levels = liquibook.DEPTH
    bids = [(x.price(), x.aggregate_qty()) for x in d.get_bid_levels()[:levels]]
    asks = [(x.price(), x.aggregate_qty()) for x in d.get_ask_levels()[:levels]]
    return [x for x in bids if x[1]], [x for x in asks if x[1]]


op = st.one_of(
    st.tuples(
        st.just("limit"),
        st.booleans(),
        st.integers(95, 105),
        st.integers(1, 50),
    ),
    st.tuples(st.just("cancel"), st.integers(0, 10_000)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(op, min_size=1, max_size=120))
def test_same_fills_as_liquibook(ops: list[tuple[Any, ...]]) -> None:
    ours = OrderBook()
    theirs = liquibook.DepthOrderBook()
    names: dict[int, str] = {}
    listener = _Listener(names)
    theirs.set_order_listener(listener)
    lb_orders: dict[str, Any] = {}
    our_fills: list[tuple[str, str, int, int]] = []
    our_cancels: list[str] = []
    ids: list[str] = []
    for n, cmd in enumerate(ops):
        if cmd[0] == "limit":
            _, is_buy, price, qty = cmd
            oid = f"o{n}"
            ids.append(oid)
            out = ours.submit(Order(oid, f"owner{n}", "buy" if is_buy else "sell", qty, price))
            our_fills += [(f.maker, f.taker, f.price, f.qty) for f in out.fills]
            lo = liquibook.SimpleOrder(is_buy, price, qty)
            names[lo.order_id_] = oid
            lb_orders[oid] = lo
            theirs.add(lo, 0)
        elif ids:
            oid = ids[cmd[1] % len(ids)]
            if ours.cancel(oid) is not None:
                our_cancels.append(oid)
            theirs.cancel(lb_orders[oid])  # liquibook rejects a cancel of a non-live order
        assert our_fills == listener.fills
        assert our_cancels == listener.cancelled
        assert ours.depth(liquibook.DEPTH) == _depth(theirs)
