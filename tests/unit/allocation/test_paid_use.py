"""Paid use of rights, the pure rules: fee arithmetic, due dates, unit kinds, plan prices."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allocation import paid_use as rules
from allocation.errors import BadPlanPrice, PlanPriceBelowBase


def test_the_chongqing_base_prices_and_the_unpublished_ones() -> None:
    assert rules.confirmation_price("SO2") == 97_600
    assert rules.confirmation_price("NOx") == 120_000
    assert rules.confirmation_price("COD") == 136_000
    assert rules.confirmation_price("NH3-N") == 240_000
    for pol in ("VOCs", "PM"):
        entry = rules.base_price(pol)
        assert entry.fen_per_t is None and entry.status == rules.NOT_PUBLISHED


def test_fee_is_qty_times_price_rounded_half_even_once() -> None:
    assert rules.fee_fen(1000, 97_600) == 97_600  # 1 t SO2 = 976.00 yuan
    assert rules.fee_fen(8000, 97_600) == 780_800
    assert rules.fee_fen(1, 500) == 0  # 0.5 fen → 0 (even)
    assert rules.fee_fen(3, 500) == 2  # 1.5 fen → 2 (even)
    assert rules.fee_fen(1, 97_600) == 98  # 97.6 fen
    with pytest.raises(ValueError):
        rules.fee_fen(-1, 100)


@given(st.integers(0, 10**9), st.integers(0, 10**7))
def test_fee_is_within_half_a_fen_of_the_exact_value(qty: int, price: int) -> None:
    fee = rules.fee_fen(qty, price)
    assert abs(fee * 1000 - qty * price) <= 500


def test_due_date_counts_from_the_beijing_date() -> None:
    # 2026-06-01 18:00 UTC is 2026-06-02 in Beijing
    assert rules.due_date(datetime(2026, 6, 1, 18, 0, tzinfo=UTC)) == date(2026, 7, 2)
    assert rules.due_date(datetime(2026, 6, 1, 2, 0, tzinfo=UTC)) == date(2026, 7, 1)
    assert not rules.is_overdue("unpaid", date(2026, 7, 1), date(2026, 7, 1))
    assert rules.is_overdue("unpaid", date(2026, 7, 1), date(2026, 7, 2))
    assert not rules.is_overdue("paid", date(2026, 7, 1), date(2026, 8, 1))


def test_new_and_expanded_units_buy_their_rights() -> None:
    assert not rules.requires_purchase("existing")
    assert rules.requires_purchase("new") and rules.requires_purchase("expanded")


def test_plan_prices_default_to_the_base_and_never_below_it() -> None:
    assert rules.plan_prices({"SO2", "VOCs"}, None) == {"SO2": 97_600}
    assert rules.plan_prices({"SO2"}, {"SO2": 150_000, "VOCs": 50_000}) == {
        "SO2": 150_000, "VOCs": 50_000}
    with pytest.raises(PlanPriceBelowBase) as exc:
        rules.plan_prices({"SO2"}, {"SO2": 97_599})
    assert exc.value.field == "prices.SO2"
    for bad in (0, -1, 1.5, True, "100", 10**13):
        with pytest.raises(BadPlanPrice) as e2:
            rules.plan_prices({"NOx"}, {"NOx": bad})
        assert e2.value.field == "prices.NOx"
    with pytest.raises(BadPlanPrice):
        rules.plan_prices(set(), {"CO2": 100_000})
