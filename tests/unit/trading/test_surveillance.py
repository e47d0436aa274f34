"""Market surveillance rules (`trading.surveillance`): examples for each flag and Hypothesis
properties: exact integer thresholds, order independence, round trips flagged in pairs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading.surveillance import Deal, Rules, deviates, round_trips, similar, unusual

M = "SO2/Z/2026"
T0 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 China Standard Time


def deal(ref: str, seller: str, buyer: str, qty: int = 100, price: int = 100_000,
         at: datetime = T0, venue: str = "book", market: str = M) -> Deal:
    return Deal(ref, market, venue, seller, buyer, qty, price, at)


def kinds(flags: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return sorted((f.kind, f.deal.ref) for f in flags)


def test_each_rule_on_examples() -> None:
    deals = [deal("book #1", "X", "Y"),                                 # plain
             deal("book #2", "X", "Y", price=130_000),                  # 30 % above
             deal("transfer T1", "P", "Q", venue="negotiated"),
             deal("transfer T2", "Q", "P", qty=90, venue="negotiated"),  # round trip, 10 %
             deal("book #3", "Z", "Z"),                                 # self-dealing
             deal("book #4", "U", "V"), deal("book #5", "V", "U", qty=50),  # not similar
             deal("book #6", "R", "S"),
             deal("book #7", "S", "R", at=T0 + timedelta(days=1)),      # the next day
             deal("listing #8", "BUREAU", "X"), deal("book #9", "X", "BUREAU")]
    flags = unusual(deals, {M: 100_000}, Rules(pct=20))
    assert kinds(flags) == [("price_deviation", "book #2"), ("round_trip", "transfer T1"),
                            ("round_trip", "transfer T2"), ("self_dealing", "book #3")]
    (dev,) = [f for f in flags if f.kind == "price_deviation"]
    assert dev.deviation_pct == Decimal("30.0") and dev.ref_price == 100_000
    legs = {f.deal.ref: f.other for f in flags if f.kind == "round_trip"}
    assert legs == {"transfer T1": "transfer T2", "transfer T2": "transfer T1"}
    # a wider window and tolerance catch the other two pairs
    wide = unusual(deals, {M: 100_000}, Rules(pct=50, window_days=2, qty_tolerance_pct=50))
    assert {f.deal.ref for f in wide if f.kind == "round_trip"} == {
        "transfer T1", "transfer T2", "book #4", "book #5", "book #6", "book #7"}
    assert flags[0].deal.at >= flags[-1].deal.at  # newest first
    row = dev.row()
    assert row["deviation_pct"] == "30.0" and row["deal"] == "book #2" and row["seller"] == "X"


def test_trading_day_is_china_standard_time() -> None:
    # 15:00 UTC on 1 June is 23:00 CST; 17:00 UTC is 01:00 CST on 2 June: different days
    a = deal("book #1", "A", "B", at=datetime(2026, 6, 1, 15, 0, tzinfo=UTC))
    b = deal("book #2", "B", "A", at=datetime(2026, 6, 1, 17, 0, tzinfo=UTC))
    c = deal("book #3", "B", "A", at=datetime(2026, 5, 31, 16, 30, tzinfo=UTC))  # 00:30 CST
    assert round_trips([a, b], Rules()) == {}
    assert round_trips([a, c], Rules()) == {"book #1": ["book #3"], "book #3": ["book #1"]}
    # naive times are UTC (SQLite gives them back naive)
    naive = deal("book #4", "B", "A", at=datetime(2026, 5, 31, 16, 30))
    assert round_trips([a, naive], Rules()) == {"book #1": ["book #4"], "book #4": ["book #1"]}


def test_markets_are_separate_and_missing_reference_is_not_priced() -> None:
    deals = [deal("book #1", "A", "B"), deal("book #2", "B", "A", market="NOx/Z/2026",
                                             price=10**9)]
    assert unusual(deals, {M: 100_000}) == []


def test_rules_are_checked() -> None:
    for bad in (dict(pct=0), dict(window_days=0), dict(qty_tolerance_pct=101),
                dict(pct=True)):
        with pytest.raises(ValueError):
            Rules(**bad)  # type: ignore[arg-type]


parties = st.sampled_from(["A", "B", "C", "BUREAU"])
deals_st = st.lists(st.builds(
    deal, ref=st.just(""), seller=parties, buyer=parties, qty=st.integers(1, 10_000),
    price=st.integers(1, 10**7), at=st.integers(0, 72).map(lambda h: T0 + timedelta(hours=h)),
    market=st.sampled_from([M, "COD/W/2026"])), max_size=25).map(
    lambda ds: [Deal(f"book #{i}", d.market, d.venue, d.seller, d.buyer, d.qty, d.price, d.at)
                for i, d in enumerate(ds)])
rules_st = st.builds(Rules, pct=st.integers(1, 200), window_days=st.integers(1, 4),
                     qty_tolerance_pct=st.integers(0, 100))


@settings(max_examples=200, deadline=None)
@given(deals_st, rules_st, st.randoms(use_true_random=False))
def test_flags_do_not_depend_on_order(deals: list[Deal], rules: Rules, rnd) -> None:  # type: ignore[no-untyped-def]
    refs = {M: 100_000, "COD/W/2026": 136_000}
    shuffled = list(deals)
    rnd.shuffle(shuffled)
    assert unusual(deals, refs, rules) == unusual(shuffled, refs, rules)


@settings(max_examples=200, deadline=None)
@given(deals_st, rules_st)
def test_each_flag_holds_its_rule_exactly(deals: list[Deal], rules: Rules) -> None:
    refs = {M: 100_000, "COD/W/2026": 136_000}
    flags = unusual(deals, refs, rules)
    by = {d.ref: d for d in deals}
    priced = {f.deal.ref for f in flags if f.kind == "price_deviation"}
    assert priced == {d.ref for d in deals
                      if abs(d.price - refs[d.market]) * 100 > rules.pct * refs[d.market]}
    assert {f.deal.ref for f in flags if f.kind == "self_dealing"} == {
        d.ref for d in deals if d.seller == d.buyer}
    trips = {(f.deal.ref, f.other) for f in flags if f.kind == "round_trip"}
    for ref, other in trips:
        x, y = by[ref], by[str(other)]
        assert (other, ref) in trips  # both legs, each naming the other
        assert x.market == y.market and x.seller == y.buyer and x.buyer == y.seller
        assert x.seller != x.buyer and "BUREAU" not in (x.seller, x.buyer)
        assert similar(x.qty, y.qty, rules.qty_tolerance_pct)
    # a higher threshold never adds a price flag
    higher = Rules(pct=rules.pct + 1, window_days=rules.window_days,
                   qty_tolerance_pct=rules.qty_tolerance_pct)
    assert {f.deal.ref for f in unusual(deals, refs, higher)
            if f.kind == "price_deviation"} <= priced


@given(st.integers(1, 10**9), st.integers(1, 10**9), st.integers(1, 1000))
def test_deviation_threshold_is_exact(price: int, ref: int, pct: int) -> None:
    assert deviates(price, ref, pct) == (Decimal(abs(price - ref)) / ref * 100 > pct)
