"""Environmental protection tax arithmetic: equivalents = kg / equivalent value, tax in whole
fen quantised once half-even, checked by hand; the lines of a return add up to its total.
(The law's rules, top-N, reductions and exemptions: test_tax_law.py.)"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compliance.errors import RateOutOfBounds
from compliance.reporting.tax import ReturnInput, check_rate, compute, parse_return, tax_fen
from compliance.reporting.tax_parameters import VERSIONS

P = VERSIONS["2018.1"]
V = {code: p.value_kg for code, p in P.pollutants.items()}


def test_tax_by_hand() -> None:
    # Chongqing: air 2.40 yuan, water 3.00 yuan per equivalent
    assert {m: r.fen for m, r in P.rates["CQ"].items()} == {"air": 240, "water": 300}
    assert tax_fen(950, V["SO2"], 240) == 240_000            # 1000 eq × 2.40 yuan
    assert tax_fen(1000, V["NOx"], 240) == 252_632           # 1052.6315… eq × 240 = 252 631.58
    assert tax_fen(1000, V["COD"], 300) == 300_000
    assert tax_fen(1, V["NH3-N"], 300) == 375                # 1.25 eq × 300
    assert tax_fen(1, V["general_dust"], 240) == 60
    assert tax_fen(218, V["smoke_dust"], 240) == 24_000      # 100 eq of smoke dust
    # an exact half rounds half-even: 1 kg general dust at 122 fen = 30.5 → 30; 126 → 31.5 → 32
    assert tax_fen(1, V["general_dust"], 122) == 30
    assert tax_fen(1, V["general_dust"], 126) == 32
    # the reduction is applied before the one rounding: 1 kg dust at 126 fen × 75 % = 23.625
    assert tax_fen(1, V["general_dust"], 126, 75) == 24


def test_rate_bounds() -> None:
    assert check_rate("air", 120, P) == 120 and check_rate("water", 1400, P) == 1400
    for medium, rate in (("air", 119), ("air", 1201), ("water", 139), ("water", 1401)):
        with pytest.raises(RateOutOfBounds) as e:
            check_rate(medium, rate, P)
        assert e.value.field == f"rates_fen.{medium}"


codes = st.sampled_from(["SO2", "NOx", "PM", "CO", "HCl", "NH3", "VOCs"])
month_fig = st.dictionaries(codes, st.integers(0, 10**12), min_size=1, max_size=7)


@given(st.lists(st.tuples(st.sampled_from(["combustion", "process"]), month_fig),
                min_size=1, max_size=4),
       st.integers(120, 1200))
def test_lines_sum_to_total_and_stay_within_half_a_fen(outlets, air) -> None:  # type: ignore[no-untyped-def]
    data = {"year": 2026, "quarter": 3, "rates_fen": {"air": air},
            "outlets": [{"outlet": f"DA{i:03}", "medium": "air", "source_kind": kind,
                         "months": [{"month": 8, "pollutants": [
                             {"pollutant": c, "kg": kg} for c, kg in figs.items()]}]}
                        for i, (kind, figs) in enumerate(outlets)]}
    ri: ReturnInput = parse_return(data)
    ret = compute(ri)
    d = ret.to_dict()
    assert d["total_fen"] == sum(ln.tax_fen for ln in ret.lines)
    assert d["total_kg"] == sum(kg for _k, figs in outlets for kg in figs.values())
    for ln in ret.lines:
        if ln.status == "taxed":
            assert ln.value_kg is not None
            exact = Decimal(ln.kg * air) / ln.value_kg
            assert abs(exact - ln.tax_fen) <= Decimal("0.5")
    for o in {ln.outlet for ln in ret.lines}:
        taxed = [ln for ln in ret.lines if ln.outlet == o and ln.status == "taxed"]
        assert len(taxed) <= 3
        untaxed_ranked = [ln for ln in ret.lines if ln.outlet == o and ln.rank is not None
                          and ln.status == "not_taxed"]
        # whatever is left out never has more equivalents than what is taxed
        if taxed and untaxed_ranked:
            assert min(ln.equivalents for ln in taxed) >= max(
                ln.equivalents for ln in untaxed_ranked)
