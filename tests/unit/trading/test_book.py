"""Order book: hand-written cases for every rule, then a state machine that runs the fast book
and the naive reference book side by side and checks the invariants after every command."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import given as hypothesis_given
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from kernel.errors import IntegrityFault
from tests.unit.trading.builds import COMPILED, ENGINES
from trading.book import REJECTED, Cancelled, Fill, Order, OrderBook, Outcome, Rejected
from trading.reference_book import ReferenceBook


def buy(oid: str, qty: int, price: int | None, owner: str = "", **kw: Any) -> Order:
    return Order(oid, owner or f"o-{oid}", "buy", qty, price, **kw)


def sell(oid: str, qty: int, price: int | None, owner: str = "", **kw: Any) -> Order:
    return Order(oid, owner or f"o-{oid}", "sell", qty, price, **kw)


def trades(out: Outcome) -> list[tuple[str, str, int, int]]:
    return [(f.maker, f.taker, f.price, f.qty) for f in out.fills]


def cancels(out: Outcome) -> list[tuple[str, int, str]]:
    return [(c.order_id, c.qty, c.reason) for c in out.cancelled]


# Each build of the fast book (the installed one, and the source when that one is compiled)
# and the reference book.
@pytest.fixture(params=[cls for _, cls in ENGINES] + [ReferenceBook],
                ids=[f"fast-{name}" for name, _ in ENGINES] + ["reference"])
def book_cls(request: pytest.FixtureRequest) -> Any:
    return request.param


#: parametrize a test over the builds of the fast book
each_engine = pytest.mark.parametrize("engine", [cls for _, cls in ENGINES],
                                      ids=[name for name, _ in ENGINES])


# ---------------------------------------------------------------------------- limit orders


def test_resting_and_depth(book_cls: Any) -> None:
    b = book_cls()
    assert b.submit(buy("b1", 10, 100)).resting_qty == 10
    assert b.submit(buy("b2", 5, 100)).resting_qty == 5
    assert b.submit(buy("b3", 7, 99)).resting_qty == 7
    assert b.submit(sell("s1", 4, 102)).resting_qty == 4
    assert b.depth() == ([(100, 15), (99, 7)], [(102, 4)])
    assert b.depth(1) == ([(100, 15)], [(102, 4)])
    assert (b.best_bid(), b.best_ask()) == (100, 102)
    assert [(o.id, r) for o, r in b.orders()] == [("b1", 10), ("b2", 5), ("b3", 7), ("s1", 4)]
    assert len(b) == 4


@each_engine
def test_reachable_predicts_the_makers_an_order_meets_first(engine: Any) -> None:
    b = engine()
    for o in (sell("s1", 10, 101), sell("s2", 5, 101), sell("s3", 7, 103), buy("b1", 4, 99),
              buy("b2", 6, 98)):
        b.submit(o)
    b.cancel("s2")
    assert b.reachable("buy", 101, 5) == ["s1"]
    assert b.reachable("buy", 101, 50) == ["s1"]  # s3 is above the limit, s2 is gone
    assert b.reachable("buy", None, 11) == ["s1", "s3"]
    assert b.reachable("buy", 100, 5) == []
    assert b.reachable("sell", 98, 5) == ["b1", "b2"]
    assert b.reachable("sell", 99, 5) == ["b1"]
    # what an order actually meets is within the prediction
    out = b.submit(buy("t", 12, None, owner="x", tif="ioc"))
    assert {f.maker for f in out.fills} <= {"s1", "s3"}


def test_empty_book(book_cls: Any) -> None:
    b = book_cls()
    assert b.best_bid() is None and b.best_ask() is None
    assert b.depth() == ([], [])
    assert list(b.orders()) == []
    assert b.live("x") == 0


def test_price_time_priority_and_maker_price(book_cls: Any) -> None:
    b = book_cls()
    b.submit(sell("s1", 5, 101))
    b.submit(sell("s2", 5, 100))
    b.submit(sell("s3", 5, 100))
    out = b.submit(buy("b", 12, 105))
    assert trades(out) == [("s2", "b", 100, 5), ("s3", "b", 100, 5), ("s1", "b", 101, 2)]
    assert out.resting_qty == 0 and out.cancelled == [] and out.rejected is None
    assert b.live("s1") == 3
    f = out.fills[0]
    assert f == Fill("s2", "b", "o-s2", "o-b", 100, 5, "sell")


def test_sell_taker_walks_bids(book_cls: Any) -> None:
    b = book_cls()
    b.submit(buy("b1", 5, 99))
    b.submit(buy("b2", 5, 101))
    out = b.submit(sell("s", 20, 99))
    assert trades(out) == [("b2", "s", 101, 5), ("b1", "s", 99, 5)]
    assert out.resting_qty == 10
    assert b.depth() == ([], [(99, 10)])


def test_limit_stops_at_its_price(book_cls: Any) -> None:
    b = book_cls()
    b.submit(sell("s1", 5, 100))
    b.submit(sell("s2", 5, 102))
    out = b.submit(buy("b", 8, 101))
    assert trades(out) == [("s1", "b", 100, 5)]
    assert out.resting_qty == 3
    assert (b.best_bid(), b.best_ask()) == (101, 102)


# ---------------------------------------------------------------------------- order types


def test_market_order_remainder_cancelled(book_cls: Any) -> None:
    b = book_cls()
    b.submit(sell("s1", 5, 100))
    b.submit(sell("s2", 5, 150))
    out = b.submit(buy("m", 15, None))
    assert trades(out) == [("s1", "m", 100, 5), ("s2", "m", 150, 5)]
    assert cancels(out) == [("m", 5, "market_remainder")]
    assert out.resting_qty == 0 and len(b) == 0


def test_market_order_on_empty_book(book_cls: Any) -> None:
    b = book_cls()
    out = b.submit(sell("m", 5, None))
    assert cancels(out) == [("m", 5, "market_remainder")] and out.fills == []


def test_ioc(book_cls: Any) -> None:
    b = book_cls()
    b.submit(sell("s1", 5, 100))
    out = b.submit(buy("i", 8, 100, tif="ioc"))
    assert trades(out) == [("s1", "i", 100, 5)]
    assert cancels(out) == [("i", 3, "ioc_remainder")]
    out = b.submit(buy("i2", 8, 100, tif="ioc"))
    assert cancels(out) == [("i2", 8, "ioc_remainder")]
    assert len(b) == 0


def test_fok_fills_fully_or_not_at_all(book_cls: Any) -> None:
    b = book_cls()
    b.submit(sell("s1", 5, 100))
    b.submit(sell("s2", 5, 101))
    out = b.submit(buy("f1", 11, 101, tif="fok"))
    assert out.fills == [] and cancels(out) == [("f1", 11, "fok_unfillable")]
    out = b.submit(buy("f2", 10, 100, tif="fok"))  # only 5 at or below 100
    assert out.fills == [] and cancels(out) == [("f2", 10, "fok_unfillable")]
    assert b.depth() == ([], [(100, 5), (101, 5)])
    out = b.submit(buy("f3", 8, 101, tif="fok"))
    assert trades(out) == [("s1", "f3", 100, 5), ("s2", "f3", 101, 3)]
    assert out.cancelled == [] and out.resting_qty == 0
    out = b.submit(sell("f4", 1, 100, tif="fok"))  # no bids at all
    assert cancels(out) == [("f4", 1, "fok_unfillable")]


def test_market_fok(book_cls: Any) -> None:
    b = book_cls()
    b.submit(sell("s1", 5, 100))
    assert cancels(b.submit(buy("f", 6, None, tif="fok"))) == [("f", 6, "fok_unfillable")]
    assert trades(b.submit(buy("g", 5, None, tif="fok"))) == [("s1", "g", 100, 5)]


def test_post_only(book_cls: Any) -> None:
    b = book_cls()
    b.submit(sell("s1", 5, 100))
    out = b.submit(buy("p1", 5, 100, post_only=True))
    assert cancels(out) == [("p1", 5, "post_only_would_cross")] and out.fills == []
    out = b.submit(buy("p2", 5, 99, post_only=True))
    assert out.resting_qty == 5 and out.cancelled == []
    assert b.live("s1") == 5


def test_post_only_needs_gtc_limit(book_cls: Any) -> None:
    b = book_cls()
    for o in (buy("a", 5, None, post_only=True), buy("b", 5, 99, post_only=True, tif="ioc")):
        out = b.submit(o)
        assert out.rejected is not None and out.rejected.code == "invalid_order"


def test_post_only_crossing_own_order_still_cancelled(book_cls: Any) -> None:
    b = book_cls()
    b.submit(sell("s1", 5, 100, owner="x"))
    out = b.submit(buy("p", 5, 100, owner="x", post_only=True))
    assert cancels(out) == [("p", 5, "post_only_would_cross")]


# ---------------------------------------------------------------------------- self-trade


def _stp_book(book_cls: Any) -> Any:
    b = book_cls()
    b.submit(sell("s1", 5, 100, owner="other"))
    b.submit(sell("s2", 5, 101, owner="me"))
    b.submit(sell("s3", 5, 102, owner="other"))
    return b


def test_stp_cancel_newest(book_cls: Any) -> None:
    b = _stp_book(book_cls)
    out = b.submit(buy("t", 12, 105, owner="me", stp="cancel_newest"))
    assert trades(out) == [("s1", "t", 100, 5)]
    assert cancels(out) == [("t", 7, "self_trade")]
    assert out.resting_qty == 0 and b.live("s2") == 5 and b.live("s3") == 5


def test_stp_cancel_oldest(book_cls: Any) -> None:
    b = _stp_book(book_cls)
    out = b.submit(buy("t", 12, 105, owner="me", stp="cancel_oldest"))
    assert trades(out) == [("s1", "t", 100, 5), ("s3", "t", 102, 5)]
    assert cancels(out) == [("s2", 5, "self_trade")]
    assert out.resting_qty == 2 and b.live("t") == 2 and b.live("s2") == 0


def test_stp_cancel_both(book_cls: Any) -> None:
    b = _stp_book(book_cls)
    out = b.submit(buy("t", 12, 105, owner="me", stp="cancel_both"))
    assert trades(out) == [("s1", "t", 100, 5)]
    assert cancels(out) == [("s2", 5, "self_trade"), ("t", 7, "self_trade")]
    assert b.live("s2") == 0 and b.live("s3") == 5 and b.live("t") == 0


def test_stp_not_triggered_when_filled_before_own_order(book_cls: Any) -> None:
    b = _stp_book(book_cls)
    out = b.submit(buy("t", 5, 105, owner="me", stp="cancel_both"))
    assert trades(out) == [("s1", "t", 100, 5)] and out.cancelled == []
    assert b.live("s2") == 5


def test_stp_market_cancel_oldest_remainder(book_cls: Any) -> None:
    b = _stp_book(book_cls)
    out = b.submit(buy("m", 20, None, owner="me", stp="cancel_oldest"))
    assert trades(out) == [("s1", "m", 100, 5), ("s3", "m", 102, 5)]
    assert cancels(out) == [("s2", 5, "self_trade"), ("m", 10, "market_remainder")]


def test_fok_with_stp_cancel_newest_blocked_by_own_order(book_cls: Any) -> None:
    b = _stp_book(book_cls)
    # 10 from others at <= 102, but my own s2 sits in between: the taker would stop there.
    out = b.submit(buy("f", 10, 102, owner="me", tif="fok", stp="cancel_newest"))
    assert out.fills == [] and cancels(out) == [("f", 10, "fok_unfillable")]
    assert b.live("s2") == 5  # nothing happened
    out = b.submit(buy("g", 5, 102, owner="me", tif="fok", stp="cancel_both"))
    assert trades(out) == [("s1", "g", 100, 5)] and out.cancelled == []


def test_fok_with_stp_cancel_both_blocked(book_cls: Any) -> None:
    b = _stp_book(book_cls)
    out = b.submit(buy("f", 6, 102, owner="me", tif="fok", stp="cancel_both"))
    assert out.fills == [] and cancels(out) == [("f", 6, "fok_unfillable")]
    assert b.live("s2") == 5 and b.live("s1") == 5


def test_fok_with_stp_cancel_oldest_skips_own(book_cls: Any) -> None:
    b = _stp_book(book_cls)
    out = b.submit(buy("f", 11, 102, owner="me", tif="fok", stp="cancel_oldest"))
    assert out.fills == [] and cancels(out) == [("f", 11, "fok_unfillable")]
    assert b.live("s2") == 5  # not cancelled: the FOK did nothing
    out = b.submit(buy("g", 10, 102, owner="me", tif="fok", stp="cancel_oldest"))
    assert trades(out) == [("s1", "g", 100, 5), ("s3", "g", 102, 5)]
    assert cancels(out) == [("s2", 5, "self_trade")]


# ---------------------------------------------------------------------------- rejects


@pytest.mark.parametrize(
    ("order", "code"),
    [
        (buy("a", 0, 100), "invalid_qty"),
        (buy("a", -5, 100), "invalid_qty"),
        (buy("a", 5, 100), "below_min_lot"),
        (buy("a", 15, 100), "below_min_lot"),
        (buy("a", 10, 101), "off_tick"),
        (buy("a", 10, 0), "invalid_price"),
        (buy("a", 10, -10), "invalid_price"),
        (buy("a", 10, 80), "price_limit"),
        (buy("a", 10, 130), "price_limit"),
    ],
)
def test_rejects(book_cls: Any, order: Order, code: str) -> None:
    b = book_cls(tick=5, min_lot=10, price_band=(90, 120))
    out = b.submit(order)
    assert out.rejected is not None and out.rejected.code == code
    assert out.rejected.order_id == "a"
    assert out.fills == [] and out.cancelled == [] and out.resting_qty == 0
    assert len(b) == 0
    # A rejected id is not burnt.
    assert b.submit(buy("a", 10, 100)).rejected is None


def test_band_edges_inclusive_and_market_exempt(book_cls: Any) -> None:
    b = book_cls(price_band=(90, 120))
    assert b.submit(buy("a", 1, 90)).rejected is None
    assert b.submit(sell("b", 1, 120)).rejected is None
    assert b.submit(sell("m", 1, None)).rejected is None


def test_duplicate_ids(book_cls: Any) -> None:
    b = book_cls()
    b.submit(sell("s1", 5, 100))
    out = b.submit(sell("s1", 5, 100))
    assert out.rejected is not None and out.rejected.code == "duplicate_order_id"
    b.submit(buy("b1", 5, 100))  # fills s1 completely
    out = b.submit(sell("s1", 5, 100))  # still used, though no longer live
    assert out.rejected is not None and out.rejected.code == "duplicate_order_id"


# ---------------------------------------------------------------------------- cancel


def test_cancel(book_cls: Any) -> None:
    b = book_cls()
    b.submit(buy("b1", 5, 100))
    b.submit(buy("b2", 6, 100))
    b.submit(buy("b3", 7, 100))
    assert b.cancel("b2") == Cancelled("b2", 6, "user")
    assert b.cancel("b2") is None
    assert b.cancel("nope") is None
    assert b.depth() == ([(100, 12)], [])
    assert b.cancel("b1") == Cancelled("b1", 5, "user")
    out = b.submit(sell("s", 10, 100))
    assert trades(out) == [("b3", "s", 100, 7)]
    assert out.resting_qty == 3
    assert b.cancel("b3") is None


@each_engine
def test_cancel_many_in_one_level_keeps_fifo(engine: Any) -> None:
    b = engine()
    for i in range(200):
        b.submit(buy(f"b{i}", 1, 100))
    for i in range(1, 199):
        if i % 3:
            b.cancel(f"b{i}")
    b.check_invariants()
    expected = [f"b{i}" for i in range(200) if i in (0, 199) or i % 3 == 0]
    assert [o.id for o, _ in b.orders()] == expected
    out = b.submit(sell("s", 1000, 100))
    assert [f.maker for f in out.fills] == expected
    assert b.best_bid() is None and out.resting_qty == 1000 - len(expected)
    b.check_invariants()


@each_engine
def test_match_skips_cancelled_entries_in_a_level(engine: Any) -> None:
    b = engine()
    for oid in ("a", "b", "c", "d"):
        b.submit(buy(oid, 5, 100))
    b.cancel("b")
    b.cancel("c")
    b.check_invariants()
    out = b.submit(sell("s", 7, 100))
    assert trades(out) == [("a", "s", 100, 5), ("d", "s", 100, 2)]
    b.check_invariants()
    b.cancel("d")
    b.check_invariants()
    assert len(b) == 0 and b.depth() == ([], [])


# ---------------------------------------------------------------------------- replace


def test_replace_reduce_keeps_priority(book_cls: Any) -> None:
    b = book_cls()
    b.submit(buy("b1", 10, 100))
    b.submit(buy("b2", 10, 100))
    out = b.replace("b1", qty=4)
    assert cancels(out) == [("b1", 6, "replaced")] and out.resting_qty == 4
    assert [o.id for o, _ in b.orders()] == ["b1", "b2"]
    assert b.depth() == ([(100, 14)], [])
    assert trades(b.submit(sell("s", 5, 100))) == [("b1", "s", 100, 4), ("b2", "s", 100, 1)]


def test_replace_increase_loses_priority(book_cls: Any) -> None:
    b = book_cls()
    b.submit(buy("b1", 10, 100))
    b.submit(buy("b2", 10, 100))
    out = b.replace("b1", qty=12)
    assert cancels(out) == [("b1", 10, "replaced")] and out.resting_qty == 12
    assert [(o.id, o.qty, r) for o, r in b.orders()] == [("b2", 10, 10), ("b1", 12, 12)]


def test_replace_price_change_may_match(book_cls: Any) -> None:
    b = book_cls()
    b.submit(buy("b1", 10, 100))
    b.submit(sell("s1", 4, 103))
    out = b.replace("b1", price=103)
    assert trades(out) == [("s1", "b1", 103, 4)]
    assert cancels(out) == [("b1", 10, "replaced")]
    assert out.resting_qty == 6 and b.depth() == ([(103, 6)], [])


def test_replace_noop_and_rejects(book_cls: Any) -> None:
    b = book_cls(tick=5)
    b.submit(buy("b1", 10, 100))
    out = b.replace("b1")
    assert out.cancelled == [] and out.fills == [] and out.resting_qty == 10
    out = b.replace("b1", price=101)
    assert out.rejected is not None and out.rejected.code == "off_tick"
    out = b.replace("b1", qty=0)
    assert out.rejected is not None and out.rejected.code == "invalid_qty"
    out = b.replace("zz", qty=5)
    assert out.rejected is not None and out.rejected.code == "not_live"
    assert b.live("b1") == 10


def test_replace_after_partial_fill_uses_remaining(book_cls: Any) -> None:
    b = book_cls()
    b.submit(sell("s1", 10, 100))
    b.submit(buy("b1", 4, 100))
    assert b.live("s1") == 6
    out = b.replace("s1", qty=5)
    assert cancels(out) == [("s1", 1, "replaced")]
    out = b.replace("s1", price=105)
    assert cancels(out) == [("s1", 5, "replaced")] and out.resting_qty == 5


def test_replace_post_only_crossing_is_cancelled(book_cls: Any) -> None:
    b = book_cls()
    b.submit(buy("p", 5, 99, post_only=True))
    b.submit(sell("s", 5, 101))
    out = b.replace("p", price=101)
    assert cancels(out) == [("p", 5, "replaced"), ("p", 5, "post_only_would_cross")]
    assert b.live("p") == 0 and b.live("s") == 5


# ---------------------------------------------------------------------------- restore


def test_restore_rebuilds_priority(book_cls: Any) -> None:
    a = book_cls()
    for i, (side, price) in enumerate([("buy", 99), ("buy", 100), ("buy", 99), ("sell", 103)]):
        a.submit(Order(f"o{i}", f"t{i}", side, 10, price))
    a.submit(sell("x", 3, 100))
    snapshot = list(a.orders())
    b = book_cls()
    for order, rem in snapshot:
        b.restore(order, rem)
    assert list(b.orders()) == snapshot
    assert b.depth() == a.depth()
    assert trades(b.submit(sell("y", 30, 99))) == trades(a.submit(sell("y", 30, 99)))


def test_restore_refuses_impossible_state(book_cls: Any) -> None:
    b = book_cls()
    b.restore(sell("s", 10, 100), 4)
    with pytest.raises(IntegrityFault):
        b.restore(buy("b", 5, 100), 5)  # would cross
    with pytest.raises(IntegrityFault):
        b.restore(sell("s", 10, 101), 4)  # duplicate id
    with pytest.raises(IntegrityFault):
        b.restore(sell("m", 10, None), 4)  # market
    with pytest.raises(IntegrityFault):
        b.restore(sell("i", 10, 101, tif="ioc"), 4)
    with pytest.raises(IntegrityFault):
        b.restore(sell("r", 10, 101), 11)
    with pytest.raises(IntegrityFault):
        b.restore(sell("r0", 10, 101), 0)
    assert b.live("s") == 4 and len(b) == 1


@each_engine
def test_orders_snapshot_allows_mutation_while_iterating(engine: Any) -> None:
    b = engine()
    for i in range(5):
        b.submit(buy(f"b{i}", 1, 100 + i))
    for order, _ in b.orders():
        b.cancel(order.id)
    assert len(b) == 0


def test_order_dataclass_contract() -> None:
    import dataclasses

    o = Order("a", "x", "buy", 5, 100)
    assert (o.tif, o.post_only, o.stp) == ("gtc", False, "cancel_newest")
    assert o == Order(id="a", owner="x", side="buy", qty=5, price=100)
    assert hash(o) == hash(Order("a", "x", "buy", 5, 100))
    with pytest.raises(dataclasses.FrozenInstanceError):
        o.qty = 3  # type: ignore[misc]
    assert dataclasses.replace(o, qty=7).qty == 7
    assert dataclasses.asdict(Cancelled("a", 1, "user")) == {
        "order_id": "a",
        "qty": 1,
        "reason": "user",
    }


@each_engine
def test_constructor_validates_configuration(engine: Any) -> None:
    with pytest.raises(ValueError):
        engine(tick=0)
    with pytest.raises(ValueError):
        engine(price_band=(10, 5))


# ---------------------------------------------------------------------------- state machine

OWNERS = ["ann", "bob", "cat"]
STPS = ["cancel_newest", "cancel_oldest", "cancel_both"]


def _norm(out: Outcome) -> tuple[object, ...]:
    code = out.rejected.code if out.rejected is not None else None
    return (out.order_id, out.fills, out.cancelled, code, out.resting_qty)


def _fast_outcome(book: OrderBook, oid: str, owner: str, side: str, result: int) -> Outcome:
    """An Outcome built by hand from what `submit_fast` left in the book's flat lists."""
    if result == REJECTED:
        assert book.reject is not None
        return Outcome(oid, [], [], Rejected(oid, book.reject[0], book.reject[1]), 0)
    maker_side = "sell" if side == "buy" else "buy"
    fills = [Fill(m, oid, mo, owner, px, q, maker_side) for m, mo, px, q in book.fills]  # type: ignore[arg-type]
    return Outcome(oid, fills, [Cancelled(*c) for c in book.cancels], None, result)


class BookMachine(RuleBasedStateMachine):
    """Fast book vs reference book; invariants after every command."""

    engine: Any = OrderBook  # the build under test

    def __init__(self) -> None:
        super().__init__()
        self.fast = self.engine()
        self.ref = ReferenceBook()
        self.next_id = 0
        self.ids: list[str] = []
        # Accounting per order id over all its versions.
        self.accepted: dict[str, int] = defaultdict(int)
        self.filled: dict[str, int] = defaultdict(int)
        self.cancelled: dict[str, int] = defaultdict(int)
        self.arrival: dict[str, int] = {}  # time priority stamp of the resting version
        self.clock = 0

    @initialize(
        tick=st.sampled_from([1, 2]),
        min_lot=st.sampled_from([1, 5]),
        band=st.sampled_from([None, (90, 110)]),
        unique_ids=st.booleans(),
    )
    def configure(
        self, tick: int, min_lot: int, band: tuple[int, int] | None, unique_ids: bool
    ) -> None:
        self.fast = self.engine(tick=tick, min_lot=min_lot, price_band=band,
                                unique_ids=unique_ids)
        self.ref = ReferenceBook(
            tick=tick, min_lot=min_lot, price_band=band, unique_ids=unique_ids
        )

    # -- helpers

    def _new_id(self, reuse: bool, pick: int) -> str:
        if reuse and self.ids:
            return self.ids[pick % len(self.ids)]
        self.next_id += 1
        oid = f"o{self.next_id}"
        self.ids.append(oid)
        return oid

    def _record(self, out: Outcome, version_qty: int | None, prices: dict[str, int]) -> None:
        """Check one outcome's fills against the pre-command book; update accounting."""
        for f in out.fills:
            assert f.maker in prices, "maker must have been resting"
            assert f.price == prices[f.maker], "trade at the maker's price"
            assert f.qty > 0
            assert f.maker_owner != f.taker_owner
            self.filled[f.maker] += f.qty
            self.filled[f.taker] += f.qty
        for c in out.cancelled:
            assert c.qty > 0
            self.cancelled[c.order_id] += c.qty
        if version_qty is not None:
            self.accepted[out.order_id] += version_qty
        if out.resting_qty:
            self.clock += 1
            self.arrival[out.order_id] = self.clock

    def _target(self, pick: int) -> str | None:
        """Mostly a live order, sometimes any id ever used (possibly not live)."""
        live = [o.id for o, _ in self.fast.orders()]
        pool = live if live and pick % 5 else self.ids
        return pool[pick % len(pool)] if pool else None

    def _prices(self) -> dict[str, int]:
        return {o.id: o.price for o, _ in self.fast.orders() if o.price is not None}

    # -- rules

    @rule(
        side=st.sampled_from(["buy", "sell"]),
        qty=st.integers(-1, 30),
        price=st.one_of(st.none(), st.integers(97, 103), st.integers(85, 115)),
        owner=st.sampled_from(OWNERS),
        tif=st.sampled_from(["gtc", "gtc", "gtc", "ioc", "fok"]),
        post_only=st.integers(0, 9).map(lambda n: n == 0),
        stp=st.sampled_from(STPS),
        reuse=st.integers(0, 19).map(lambda n: n == 0),
        pick=st.integers(0, 10_000),
    )
    def submit(
        self,
        side: str,
        qty: int,
        price: int | None,
        owner: str,
        tif: str,
        post_only: bool,
        stp: str,
        reuse: bool,
        pick: int,
    ) -> None:
        oid = self._new_id(reuse, pick)
        order = Order(oid, owner, side, qty, price, tif, post_only, stp)  # type: ignore[arg-type]
        prices = self._prices()
        if pick % 2:
            out = self.fast.submit(order)
        else:  # the fast path, as the service calls it: plain values in, flat lists out
            out = _fast_outcome(
                self.fast,
                oid,
                owner,
                side,
                self.fast.submit_fast(oid, owner, side, qty, price, tif, post_only, stp),
            )
        assert _norm(out) == _norm(self.ref.submit(order))
        if out.rejected is None:
            self._record(out, qty, prices)
            if price is not None:
                for f in out.fills:
                    assert f.price <= price if side == "buy" else f.price >= price

    @rule(pick=st.integers(0, 10_000))
    def cancel(self, pick: int) -> None:
        oid = self._target(pick)
        if oid is None:
            return
        if pick % 2:
            c = self.fast.cancel(oid)
        else:
            n = self.fast.cancel_fast(oid)
            c = Cancelled(oid, n, "user") if n else None
        assert c == self.ref.cancel(oid)
        if c is not None:
            assert c.reason == "user" and c.order_id == oid
            self.cancelled[oid] += c.qty

    @rule(
        pick=st.integers(0, 10_000),
        qty=st.one_of(st.none(), st.integers(0, 30)),
        price=st.one_of(st.none(), st.integers(97, 103), st.integers(85, 115)),
    )
    def replace(self, pick: int, qty: int | None, price: int | None) -> None:
        oid = self._target(pick)
        if oid is None:
            return
        before = self.fast.live(oid)
        prices = self._prices()
        out = self.fast.replace(oid, qty=qty, price=price)
        assert _norm(out) == _norm(self.ref.replace(oid, qty=qty, price=price))
        if out.rejected is None:
            new_version = any(c.reason == "replaced" and c.qty == before for c in out.cancelled)
            if new_version:
                prices.pop(oid, None)
                self._record(out, qty if qty is not None else before, prices)
            else:
                stamp = self.arrival.get(oid)
                self._record(out, None, prices)
                if stamp is not None:
                    self.arrival[oid] = stamp  # kept its priority

    @precondition(lambda self: len(self.fast) > 0)
    @rule()
    def rebuild(self) -> None:
        """Restart: rebuild both books from the fast book's orders()."""
        snapshot = list(self.fast.orders())
        assert snapshot == list(self.ref.orders())
        fast = self.engine(
            tick=self.fast.tick,
            min_lot=self.fast.min_lot,
            price_band=self.fast.price_band,
            unique_ids=self.fast.unique_ids,
        )
        ref = ReferenceBook(
            tick=self.fast.tick,
            min_lot=self.fast.min_lot,
            price_band=self.fast.price_band,
            unique_ids=self.fast.unique_ids,
        )
        for order, rem in snapshot:
            fast.restore(order, rem)
            ref.restore(order, rem)
        assert list(fast.orders()) == snapshot
        # A rebuilt book only knows the live ids: a retired id may be used again afterwards
        # (the service's database keeps ids unique); accounting per id still adds up.
        self.fast, self.ref = fast, ref

    # -- invariants

    @invariant()
    def same_state(self) -> None:
        assert list(self.fast.orders()) == list(self.ref.orders())
        assert self.fast.depth(50) == self.ref.depth(50)
        assert self.fast.best_bid() == self.ref.best_bid()
        assert self.fast.best_ask() == self.ref.best_ask()
        self.fast.check_invariants()

    @invariant()
    def never_crossed(self) -> None:
        bid, ask = self.fast.best_bid(), self.fast.best_ask()
        assert bid is None or ask is None or bid < ask

    @invariant()
    def fifo_within_level(self) -> None:
        last: dict[tuple[str, int | None], int] = {}
        for o, _ in self.fast.orders():
            key = (o.side, o.price)
            stamp = self.arrival[o.id]
            assert stamp > last.get(key, 0), f"FIFO broken at {key}"
            last[key] = stamp

    @invariant()
    def conservation(self) -> None:
        for oid, qty in self.accepted.items():
            assert qty == self.fast.live(oid) + self.filled[oid] + self.cancelled[oid], oid


BookMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestBookMachine = BookMachine.TestCase

if COMPILED:
    class SourceBookMachine(BookMachine):
        """The same machine on the source build, run by the interpreter."""

        engine = dict(ENGINES)["source"]

    SourceBookMachine.TestCase.settings = BookMachine.TestCase.settings
    TestSourceBookMachine = SourceBookMachine.TestCase


# ---------------------------------------------------------------------------- fast path


@each_engine
def test_fast_path_flat_lists_are_per_command(engine: Any) -> None:
    book = engine(min_lot=5)
    assert book.submit_fast("s1", "ann", "sell", 10, 100) == 10
    assert book.submit_fast("s2", "bob", "sell", 10, 101) == 10
    assert book.submit_fast("b1", "cat", "buy", 15, 101) == 0
    assert book.fills == [("s1", "ann", 100, 10), ("s2", "bob", 101, 5)]
    assert book.cancels == []
    # the next command clears what the last one left
    assert book.submit_fast("b2", "cat", "buy", 5, 90, "ioc") == 0
    assert (book.fills, book.cancels) == ([], [("b2", 5, "ioc_remainder")])
    assert book.submit_fast("b3", "cat", "buy", 7, 90) == REJECTED
    assert book.reject is not None and book.reject[0] == "below_min_lot"
    assert (book.fills, book.cancels) == ([], [])
    assert book.submit_fast("s1", "ann", "sell", 5, 100) == REJECTED  # ids are never reused
    assert book.reject is not None and book.reject[0] == "duplicate_order_id"
    assert book.owner_of("s2") == "bob" and book.owner_of("s1") is None
    assert book.cancel_fast("s2") == 5 and book.cancel_fast("s2") == 0
    assert len(book) == 0
    book.check_invariants()


@each_engine
def test_fast_path_stp_reports_maker_and_taker(engine: Any) -> None:
    book = engine()
    book.submit_fast("s1", "ann", "sell", 10, 100)
    book.submit_fast("s2", "bob", "sell", 10, 100)
    assert book.submit_fast("b1", "ann", "buy", 15, 100, "gtc", False, "cancel_oldest") == 5
    assert book.cancels == [("s1", 10, "self_trade")]
    assert book.fills == [("s2", "bob", 100, 10)]
    assert book.depth() == ([(100, 5)], [])
    book.check_invariants()


@each_engine
def test_unique_ids_false_forgets_departed_ids(engine: Any) -> None:
    for book in (engine(unique_ids=False), ReferenceBook(unique_ids=False)):
        book.submit(sell("s1", 10, 100))
        assert book.submit(sell("s1", 10, 100)).rejected is not None  # resting: refused
        book.submit(buy("b1", 10, 100))  # s1 and b1 leave the book
        assert book.submit(sell("s1", 5, 101)).resting_qty == 5  # may be used again
        assert book.submit(buy("b1", 5, 99)).resting_qty == 5
        assert book.cancel("s1") is not None and book.submit(sell("s1", 1, 102)).resting_qty == 1


@each_engine
@settings(max_examples=300, deadline=None)
@hypothesis_given(
    oid=st.sampled_from(["a", "b", "c"]),
    qty=st.one_of(st.integers(-5, 40), st.just(True), st.none()),
    price=st.one_of(st.none(), st.integers(-5, 130), st.just(2.5)),
    tif=st.sampled_from(["gtc", "ioc", "fok"]),
    post_only=st.booleans(),
    unique_ids=st.booleans(),
)
def test_check_fast_predicts_submit_fast(engine: Any, oid: str, qty: Any, price: Any, tif: str,
                                         post_only: bool, unique_ids: bool) -> None:
    """The service checks an order (then places its holds) before matching it: the check
    must reject exactly what submit_fast rejects, with the same reason, changing nothing."""
    b = engine(tick=5, min_lot=10, price_band=(50, 120), unique_ids=unique_ids)
    b.submit_fast("a", "x", "buy", 10, 60)  # resting
    b.submit_fast("b", "x", "sell", 10, 70)
    b.submit_fast("b2", "y", "buy", 10, 70)  # b fills: gone, but seen
    before = (list(b.orders()), b.depth())
    bad = b.check_fast(oid, qty, price, tif, post_only)
    assert (list(b.orders()), b.depth()) == before
    r = b.submit_fast(oid, "z", "sell", qty, price, tif, post_only)
    if bad is None:
        assert r != REJECTED
    else:
        assert r == REJECTED and b.reject == bad


@each_engine
def test_cancels_behind_the_front_are_compacted(engine: Any) -> None:
    """Cancelled entries queued behind a live front do not pile up: memory stays
    proportional to the resting orders however many cancels there are."""
    b = engine(unique_ids=False)
    b.submit_fast("front", "x", "buy", 10, 100)
    for i in range(10_000):
        b.submit_fast(f"o{i}", "x", "buy", 10, 100)
        assert b.cancel_fast(f"o{i}") == 10
    queued = sum(len(lv.entries) for lv in b._bl.values())
    assert queued <= 2 * 32 + 2
    assert [o.id for o, _ in b.orders()] == ["front"]
    b.check_invariants()


@each_engine
def test_a_level_taken_from_the_front_does_not_keep_its_past(engine: Any) -> None:
    """A level that keeps resting new orders at its back while takers fill its front holds
    only about its resting orders, not every order that ever rested there."""
    b = engine(unique_ids=False)
    for i in range(10):
        b.submit_fast(f"s{i}", "x", "sell", 10, 100)
    for i in range(10, 10_000):
        b.submit_fast(f"s{i}", "x", "sell", 10, 100)
        b.submit_fast(f"b{i}", "y", "buy", 10, 100)  # fills the front
        assert len(b) == 10
    lv = b._al[-100]
    assert len(lv.entries) <= 2 * (32 + 10)
    assert [o.id for o, _ in b.orders()] == [f"s{i}" for i in range(9_990, 10_000)]
    b.check_invariants()
