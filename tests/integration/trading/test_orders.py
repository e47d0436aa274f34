"""Every order type through the service, fees, resale-today, replace, the book cache, and
every bad input with its code and no hold left behind. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from allocation import service as alloc
from kernel.errors import DomainError
from tests.integration.spine import NOW, A, B
from tests.integration.trading.conftest import Floor, assert_conserved, assert_no_holds
from trading import service as trading
from trading.store import TradingStore

pytestmark = pytest.mark.db


def test_limit_market_ioc_fok_post_only(floor: Floor) -> None:
    sell = floor.place("A", "sell", 1000, 300_000)
    assert sell.status == "open"
    # a buy market order without limits needs a protective price
    with pytest.raises(DomainError) as e:
        floor.place("B", "buy", 100, None, kind="market")
    assert e.value.code == "protective_price_required"
    mkt = floor.place("B", "buy", 400, 310_000, kind="market")
    assert (mkt.status, mkt.filled) == ("filled", 400)
    assert [(t.price, t.qty) for t in mkt.trades] == [(300_000, 400)]
    # IOC takes what is there, the rest is cancelled
    ioc = floor.place("B", "buy", 1000, 300_000, tif="ioc")
    assert (ioc.status, ioc.filled, ioc.cancelled, ioc.reason) == (
        "cancelled", 600, 400, "ioc_remainder")
    # FOK on an empty side: nothing happens
    fok = floor.place("B", "buy", 100, 300_000, tif="fok")
    assert (fok.status, fok.filled, fok.reason) == ("cancelled", 0, "fok_unfillable")
    floor.place("A", "sell", 500, 305_000)
    fok2 = floor.place("B", "buy", 600, 305_000, tif="fok")
    assert fok2.filled == 0
    fok3 = floor.place("B", "buy", 500, 306_000, tif="fok")
    assert (fok3.status, fok3.filled) == ("filled", 500)
    # post-only: rests when it does not cross, is cancelled when it would
    floor.place("A", "sell", 500, 320_000)
    po = floor.place("B", "buy", 100, 310_000, post_only=True)
    assert po.status == "open"
    po2 = floor.place("B", "buy", 100, 320_000, post_only=True)
    assert (po2.status, po2.reason) == ("cancelled", "post_only_would_cross")
    # a sell market order takes the best bid
    ms = floor.place("A", "sell", 100, None, kind="market")
    assert [(t.price, t.qty) for t in ms.trades] == [(310_000, 100)]
    view = trading.market_view(floor.platform.uow(), floor.market)
    assert view["asks"] == [dict(price=320_000, qty=500)] and view["bids"] == []
    assert view["last_price"] == 310_000
    for ent, oid in ((A, o["id"]) for o in trading.orders_of(floor.platform.uow(), A)
                     if o["status"] == "open"):
        trading.cancel_order(floor.platform.uow(), enterprise=ent, order_id=str(oid),
                             actor="a", now=NOW)
    assert_no_holds(floor.platform)
    # both permits recorded every trade
    hist_b = alloc.permit_view(floor.platform.uow(), floor.pb)["history"]
    assert sum(1 for h in hist_b if h["kind"] == "trade_in") == 4  # type: ignore[index,union-attr]


def test_self_trade_prevention_per_order(floor: Floor) -> None:
    rest = floor.place("A", "sell", 500, 300_000)
    # A buys against its own resting sell: cancel_newest (default) stops the buy
    newest = floor.place("A", "buy", 200, 300_000)
    assert (newest.status, newest.reason, newest.filled) == ("cancelled", "self_trade", 0)
    # cancel_oldest: the resting sell goes, the buy rests
    oldest = floor.place("A", "buy", 200, 300_000, stp="cancel_oldest")
    assert oldest.status == "open"
    orders = {o["id"]: o for o in trading.orders_of(floor.platform.uow(), A)}
    assert (orders[rest.order_id]["status"], orders[rest.order_id]["reason"]) == (
        "cancelled", "self_trade")
    # cancel_both
    floor.place("A", "sell", 100, 300_000, stp="cancel_both")
    orders = {o["id"]: o for o in trading.orders_of(floor.platform.uow(), A)}
    assert orders[oldest.order_id]["status"] == "cancelled"
    assert all(o["status"] != "open" for o in orders.values())
    assert_no_holds(floor.platform)


def test_fees(floor: Floor) -> None:
    floor.place("A", "sell", 1000, 300_000, fee_bps=50)
    buy = floor.place("B", "buy", 1000, 300_000, fee_bps=50)
    t = buy.trades[0]
    assert (t.value_fen, t.fee_buyer, t.fee_seller) == (300_000, 1_500, 1_500)
    assert floor.balance(B, "cash", "CNY") == 10_000_000 - 301_500
    assert floor.balance(A, "cash", "CNY") == 5_001_000 + 298_500
    assert floor.balance("BUREAU", "fees", "CNY") == 3_000
    assert_no_holds(floor.platform)


def test_resale_today(floor: Floor) -> None:
    floor.place("A", "sell", 1000, 300_000)
    floor.place("B", "buy", 1000, 300_000)
    # the bureau verifies B's surplus the same day: what B bought today cannot be resold today
    alloc.verify_surplus(floor.platform.uow(), permit=floor.pb, pollutant="SO2", year=2026,
                         qty_kg=1500, actor="bureau", now=NOW)
    with pytest.raises(DomainError) as e:
        floor.place("B", "sell", 600, 300_000)
    assert e.value.code == "bought_today_not_resellable"
    ok = floor.place("B", "sell", 500, 300_000)  # 1 500 tradable - 1 000 bought today
    assert ok.status == "open"
    trading.cancel_order(floor.platform.uow(), enterprise=B, order_id=ok.order_id, actor="b",
                         now=NOW)
    # the next trading day (China Standard Time) the rule no longer binds
    tomorrow = NOW + timedelta(days=1)
    assert floor.place("B", "sell", 1500, 300_000, now=tomorrow).status == "open"
    trading.cancel_order(floor.platform.uow(), enterprise=B,
                         order_id=trading.orders_of(floor.platform.uow(), B)[0]["id"],  # type: ignore[arg-type]
                         actor="b", now=tomorrow)
    assert_no_holds(floor.platform)


def test_replace_priority_and_holds(floor: Floor) -> None:
    first = floor.place("A", "sell", 500, 300_000)
    second = floor.place("A", "sell", 500, 300_000)
    # reducing keeps priority
    r = trading.replace_order(floor.platform.uow(), enterprise=A, order_id=first.order_id,
                              qty=300, permits=floor.platform.permits, actor="a", now=NOW)
    assert (r.remaining, r.cancelled) == (300, 200)
    buy = floor.place("B", "buy", 300, 300_000)
    assert buy.trades[0].qty == 300
    with floor.platform.uow() as uow:
        rows = {o.id: o for o in TradingStore(uow.session).orders_by_id(
            [first.order_id, second.order_id])}
        assert rows[first.order_id].status == "filled" or rows[first.order_id].remaining == 0
        assert rows[second.order_id].remaining == 500
    # a price change loses priority: a new order at the old price now comes first
    third = floor.place("A", "sell", 200, 301_000)
    trading.replace_order(floor.platform.uow(), enterprise=A, order_id=second.order_id,
                          price=301_000, permits=floor.platform.permits, actor="a", now=NOW)
    buy2 = floor.place("B", "buy", 200, 301_000)
    with floor.platform.uow() as uow:
        sell_ids = [t.sell_order for t in TradingStore(uow.session).trades(floor.market)]
    assert sell_ids[0] == third.order_id
    assert buy2.filled == 200
    # a replace that crosses trades at once
    bid = floor.place("B", "buy", 100, 290_000)
    moved = trading.replace_order(floor.platform.uow(), enterprise=B, order_id=bid.order_id,
                                  price=301_000, permits=floor.platform.permits, actor="b",
                                  now=NOW)
    assert (moved.status, moved.filled) == ("filled", 100)
    # rejected replace leaves the order as it was
    with pytest.raises(DomainError) as e:
        trading.replace_order(floor.platform.uow(), enterprise=B, order_id=second.order_id,
                              qty=10, permits=floor.platform.permits, actor="b", now=NOW)
    assert e.value.code == "order_not_found"
    trading.cancel_order(floor.platform.uow(), enterprise=A, order_id=second.order_id,
                         actor="a", now=NOW)
    assert_no_holds(floor.platform)


def test_book_cache_never_trusts_a_rolled_back_book(floor: Floor) -> None:
    floor.place("A", "sell", 1000, 300_000)
    # B's permit has 2 000 kg of headroom: this buy matches in the book, then its holds fail
    with pytest.raises(DomainError) as e:
        floor.place("B", "buy", 2500, 300_000)
    assert e.value.code == "cap_headroom_exceeded"
    # had the mutated book been kept, the sell would be gone
    buy = floor.place("B", "buy", 1000, 300_000)
    assert buy.filled == 1000
    # another writer (another process) changes the market: the version differs, so the
    # book is rebuilt from the database
    sell = floor.place("A", "sell", 700, 300_000)
    with floor.platform.uow() as uow:
        row = TradingStore(uow.session).order(sell.order_id)
        assert row is not None
        row.price = 299_000
        uow.commit()
    floor.set_market()  # bump the version as every writer does
    view = trading.market_view(floor.platform.uow(), floor.market)
    assert view["asks"] == [dict(price=299_000, qty=700)]
    buy2 = floor.place("B", "buy", 700, 299_000)
    assert [(t.price, t.qty) for t in buy2.trades] == [(299_000, 700)]
    assert_conserved(floor.platform)


def test_restart_rebuilds_the_same_book(floor: Floor) -> None:
    for i, (side, who, qty, price) in enumerate([
            ("sell", "A", 300, 301_000), ("sell", "A", 200, 300_000),
            ("sell", "A", 100, 300_000), ("buy", "B", 100, 290_000),
            ("buy", "B", 50, 295_000)]):
        floor.place(who, side, qty, price, order_id=f"o{i}")
    before = trading.market_view(floor.platform.uow(), floor.market)
    trading.clear_book_cache()  # a restart
    buy = floor.place("B", "buy", 250, 300_000)
    assert [(t.price, t.qty) for t in buy.trades] == [(300_000, 200), (300_000, 50)]
    with floor.platform.uow() as uow:
        client = {o.id: o.client_id for o in TradingStore(uow.session).orders_of(A)}
        assert [client[t.sell_order]
                for t in TradingStore(uow.session).trades(floor.market)][::-1] == ["o1", "o2"]
    assert before["bids"] == [dict(price=295_000, qty=50), dict(price=290_000, qty=100)]


def test_ohlc_per_trading_day(floor: Floor) -> None:
    day1 = NOW  # 2026-06-01 10:00 CST
    for price in (300_000, 305_000, 299_000, 302_000):
        floor.place("A", "sell", 100, price, now=day1)
        floor.place("B", "buy", 100, price, now=day1)
    # 2026-06-01 17:00 UTC is already 2026-06-02 in China Standard Time
    late = NOW.replace(hour=17)
    floor.place("A", "sell", 100, 310_000, now=late)
    floor.place("B", "buy", 100, 310_000, now=late)
    bars = trading.ohlc(floor.platform.uow(), floor.market, now=late + timedelta(hours=1))
    assert [(b["day"], b["open"], b["high"], b["low"], b["close"], b["volume_kg"])
            for b in bars] == [("2026-06-01", 300_000, 305_000, 299_000, 302_000, 400),
                               ("2026-06-02", 310_000, 310_000, 310_000, 310_000, 100)]


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("off tick", dict(who="B", side="buy", qty=100, price=300_005), "off_tick"),
    ("below lot", dict(who="B", side="buy", qty=15, price=300_000), "below_min_lot"),
    ("above limit", dict(who="B", side="buy", qty=100, price=400_000), "price_limit"),
    ("below limit", dict(who="A", side="sell", qty=100, price=200_000), "price_limit"),
    ("more than tradable", dict(who="A", side="sell", qty=3_010, price=300_000),
     "insufficient_tradable_rights"),
    ("beyond headroom", dict(who="B", side="buy", qty=2_010, price=300_000),
     "cap_headroom_exceeded"),
]


@pytest.mark.parametrize(("name", "order", "code"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_codes_leave_no_hold(floor: Floor, name: str, order: dict[str, Any],
                                       code: str) -> None:
    floor.set_market(tick=10, min_lot=10, reference_price=300_000, band_pct=10)
    assert _place_code(floor, order) == code
    assert_no_holds(floor.platform)


def _place_code(floor: Floor, order: dict[str, Any]) -> str:
    o = dict(order)
    with pytest.raises(DomainError) as e:
        floor.place(o.pop("who"), o.pop("side"), o.pop("qty"), o.pop("price"), **o)
    return e.value.code


def test_cash_and_market_state_and_ownership_codes(floor: Floor) -> None:
    # beyond cash: drain B's cash with a resting bid, then bid again
    floor.place("B", "buy", 1_000, 9_000_000)  # holds 9 000 000 fen
    with pytest.raises(DomainError) as e:
        floor.place("B", "buy", 1_000, 1_100_000)
    assert e.value.code == "insufficient_cash"
    # unknown market
    with pytest.raises(DomainError) as e:
        trading.place_order(floor.platform.uow(), trading.PlaceOrder(
            B, floor.pb, "SO2/NOWHERE/2026", "buy", 10, 1_000),
            permits=floor.platform.permits, actor="b", now=NOW)
    assert e.value.code == "market_not_found"
    # halted and closed markets
    trading.set_market_state(floor.platform.uow(), market=floor.market, state="halted")
    with pytest.raises(DomainError) as e:
        floor.place("A", "sell", 100, 300_000)
    assert e.value.code == "market_halted"
    trading.set_market_state(floor.platform.uow(), market=floor.market, state="closed")
    with pytest.raises(DomainError) as e:
        floor.place("A", "sell", 100, 300_000)
    assert e.value.code == "market_closed"
    trading.set_market_state(floor.platform.uow(), market=floor.market, state="open")
    # cancelling someone else's order: not found (ids leak nothing)
    mine = trading.orders_of(floor.platform.uow(), B)[0]["id"]
    with pytest.raises(DomainError) as e:
        trading.cancel_order(floor.platform.uow(), enterprise=A, order_id=str(mine),
                             actor="a", now=NOW)
    assert e.value.code == "order_not_found"
    trading.cancel_order(floor.platform.uow(), enterprise=B, order_id=str(mine), actor="b",
                         now=NOW)
    with pytest.raises(DomainError) as e:
        trading.cancel_order(floor.platform.uow(), enterprise=B, order_id=str(mine),
                             actor="b", now=NOW)
    assert e.value.code == "order_not_live"
    # duplicate order id
    floor.place("A", "sell", 100, 300_000, order_id="dup-1")
    with pytest.raises(DomainError) as e:
        floor.place("A", "sell", 100, 300_000, order_id="dup-1")
    assert e.value.code == "duplicate_order_id"
    trading.cancel_order(floor.platform.uow(), enterprise=A, order_id="dup-1", actor="a",
                         now=NOW)
    assert_no_holds(floor.platform)


def test_daily_limits_roll_to_the_previous_close(floor: Floor) -> None:
    floor.place("A", "sell", 100, 300_000)
    floor.place("B", "buy", 100, 300_000)
    floor.place("A", "sell", 100, 310_000)
    floor.place("B", "buy", 100, 310_000)
    day2 = NOW + timedelta(days=1)
    out = trading.set_reference_price(floor.platform.uow(), market=floor.market, band_pct=10,
                                      now=day2)
    assert (out["reference_price"], out["price_band"]) == (310_000, (279_000, 341_000))
    with pytest.raises(DomainError) as e:
        floor.place("A", "sell", 100, 342_000, now=day2)
    assert e.value.code == "price_limit"
    assert floor.place("A", "sell", 100, 341_000, now=day2).status == "open"
    # a buy market order now holds cash at the upper limit
    r = floor.place("B", "buy", 100, None, kind="market", now=day2)
    assert [(t.price, t.qty) for t in r.trades] == [(341_000, 100)]
    assert_no_holds(floor.platform)


def test_longest_ids_fit_the_ledger(floor: Floor) -> None:
    """Client ids at their maximum length, replaced and filled: every ledger id derived from
    them still fits (PostgreSQL enforces the 64-character columns)."""
    s_id, c_id = "S" * 32, "C" * 32
    floor.place("A", "sell", 500, 300_000, order_id=s_id)
    for price in (301_000, 302_000):
        trading.replace_order(floor.platform.uow(), enterprise=A, order_id=s_id, price=price,
                              permits=floor.platform.permits, actor="a", now=NOW)
    floor.place("B", "buy", 100, 290_000, order_id=c_id)
    r = trading.replace_order(floor.platform.uow(), enterprise=B, order_id=c_id,
                              price=302_000, permits=floor.platform.permits, actor="b", now=NOW)
    assert r.filled == 100
    with pytest.raises(DomainError) as e:
        floor.place("B", "buy", 100, 290_000, order_id="X" * 33)
    assert (e.value.code, e.value.field) == ("invalid_input", "order_id")
    trading.cancel_order(floor.platform.uow(), enterprise=A, order_id=s_id, actor="a", now=NOW)
    assert_no_holds(floor.platform)
