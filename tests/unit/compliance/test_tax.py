"""Environmental protection tax: equivalents = kg / equivalent value, tax in whole fen,
checked by hand; the lines of a return always add up to its total."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compliance.errors import NotTaxable, RateOutOfBounds
from compliance.parameters import EQUIVALENT_VALUE_KG
from compliance.tax import check_rate, equivalents, rates, return_lines, tax_fen


def test_equivalents_are_kg_over_the_equivalent_value() -> None:
    assert equivalents(950, "SO2") == 1000
    assert equivalents(400, "PM") == 100
    assert equivalents(80, "NH3-N") == 100
    assert equivalents(123, "COD") == 123


def test_tax_by_hand() -> None:
    # Chongqing: air 2.40 yuan, water 3.00 yuan per equivalent
    assert rates("CQ") == {"air": 240, "water": 300}
    assert tax_fen(950, "SO2", 240) == 240_000            # 1000 eq × 2.40 yuan = 2 400 yuan
    assert tax_fen(1000, "NOx", 240) == 252_632            # 1052.6315… eq × 240 = 252 631.58
    assert tax_fen(1000, "COD", 300) == 300_000
    assert tax_fen(1, "NH3-N", 300) == 375                 # 1.25 eq × 300
    assert tax_fen(1, "PM", 240) == 60
    # an exact half rounds half-even: 1 kg PM at 122 fen = 30.5 fen → 30; at 126 → 31.5 → 32
    assert tax_fen(1, "PM", 122) == 30
    assert tax_fen(1, "PM", 126) == 32


def test_rate_bounds_and_untaxed() -> None:
    assert check_rate("air", 120) == 120 and check_rate("water", 1400) == 1400
    with pytest.raises(RateOutOfBounds):
        check_rate("air", 119)
    with pytest.raises(RateOutOfBounds):
        check_rate("water", 1401)
    with pytest.raises(RateOutOfBounds):
        rates("XX")
    with pytest.raises(NotTaxable):
        tax_fen(10, "VOCs", 240)
    lines = return_lines([("P", "DA001", "VOCs", 10), ("P", "DA001", "SO2", 95)],
                         {"air": 240, "water": 300})
    assert [ln.pollutant for ln in lines] == ["SO2"] and lines[0].tax_fen == 24_000


figure = st.tuples(st.sampled_from(["P1", "P2"]), st.sampled_from(["D1", "D2", "D3"]),
                   st.sampled_from(sorted(EQUIVALENT_VALUE_KG)), st.integers(0, 10**12))


@given(st.lists(figure, max_size=30), st.integers(120, 1200), st.integers(140, 1400))
def test_return_lines_sum_and_stay_within_half_a_fen(figures, air, water) -> None:  # type: ignore[no-untyped-def]
    lines = return_lines(figures, {"air": air, "water": water})
    assert sum(ln.kg for ln in lines) == sum(f[3] for f in figures)
    for ln in lines:
        exact = Decimal(ln.kg * ln.rate_fen) / EQUIVALENT_VALUE_KG[ln.pollutant]
        assert abs(exact - ln.tax_fen) <= Decimal("0.5")
    total = sum(ln.tax_fen for ln in lines)
    exact_total = sum((Decimal(ln.kg * ln.rate_fen) / EQUIVALENT_VALUE_KG[ln.pollutant]
                       for ln in lines), Decimal(0))
    assert abs(exact_total - total) <= Decimal("0.5") * len(lines) + Decimal("1e-9")
