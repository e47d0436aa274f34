from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allocation.apportionment import apportion, largest_remainder, reserve_kg
from allocation.errors import ApportionmentError

weights_st = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=10**9),
        st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False),
        st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False),
        st.just(0),
    ),
    min_size=1,
    max_size=30,
)


@given(st.integers(min_value=0, max_value=10**12), weights_st)
def test_largest_remainder_properties(total: int, weights: list) -> None:
    exact = [Fraction(w) for w in weights]
    whole = sum(exact)
    if whole == 0:
        if total:
            with pytest.raises(ApportionmentError):
                largest_remainder(total, weights)
        return
    parts = largest_remainder(total, weights)
    assert sum(parts) == total
    for part, w in zip(parts, exact, strict=True):
        share = total * w / whole
        assert abs(part - share) < 1
        if w == 0:
            assert part == 0
        assert part >= 0


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=20))
def test_equal_weights_tie_break_by_index(total: int, n: int) -> None:
    parts = largest_remainder(total, [1] * n)
    q, r = divmod(total, n)
    assert parts == [q + 1] * r + [q] * (n - r)


def test_worked_example() -> None:
    # 10 kg over 1:1:1 -> 3.333 each; one leftover kg to index 0
    assert largest_remainder(10, [1, 1, 1]) == [4, 3, 3]
    # 100 over 2 : 3 : 5 exact
    assert largest_remainder(100, [Decimal("2.0"), 3, 5.0]) == [20, 30, 50]
    # 7 over 0.5, 0.25, 0.25 -> 3.5, 1.75, 1.75 -> 3, 1, 1 + 2 left: remainders .5 .75 .75
    assert largest_remainder(7, [0.5, 0.25, 0.25]) == [3, 2, 2]
    assert largest_remainder(0, [0, 0]) == [0, 0]
    assert largest_remainder(0, []) == []


@pytest.mark.parametrize(
    ("total", "weights", "field"),
    [(-1, [1], "total"), (1, [-1], "weights[0]"), (1, [0, 0], "weights"), (1, [], "weights"),
     (1, [float("nan")], "weights[0]"), (1, ["x"], "weights[0]"), (1, [True], "weights[0]")],
)
def test_largest_remainder_rejects(total: int, weights: list, field: str) -> None:
    with pytest.raises(ApportionmentError) as e:
        largest_remainder(total, weights)
    assert e.value.field == field and e.value.code == "bad_apportionment"


def test_reserve_share_half_even() -> None:
    assert reserve_kg(1_000_005, "0.1") == 100_000  # 100 000.5 -> 100 000 (even)
    assert reserve_kg(1_000_015, Decimal("0.1")) == 100_002  # 100 001.5 -> 100 002
    with pytest.raises(ApportionmentError):
        reserve_kg(1, "1.5")
    with pytest.raises(ApportionmentError):
        reserve_kg(1, 0.1)  # type: ignore[arg-type]


def test_apportion_methods() -> None:
    # indicator 1 000 000 kg, reserve 10 % = 100 000, pool 900 000
    pro = apportion(1_000_000, "0.10", [
        {"id": "A", "calculated_cap_kg": 200_000},
        {"id": "B", "calculated_cap_kg": 100_000},
    ], "pro_rata")
    assert pro == {"A": 600_000, "B": 300_000}
    gf = apportion(1_000_000, "0.10", [
        {"id": "A", "historical_kg": 1}, {"id": "B", "historical_kg": 2},
    ], "grandfathering")
    assert gf == {"A": 300_000, "B": 600_000}
    # benchmark: weights 0.5 × 400 = 200 and 0.25 × 400 = 100
    bm = apportion(900, "0", [
        {"id": "A", "performance_value": "0.5", "activity": 400},
        {"id": "B", "performance_value": "0.25", "activity": "400"},
    ], "benchmark")
    assert bm == {"A": 600, "B": 300}


@given(
    st.integers(min_value=0, max_value=10**10),
    st.decimals(min_value=0, max_value=1, places=3),
    st.lists(st.integers(min_value=0, max_value=10**8), min_size=1, max_size=20),
)
def test_apportion_sums_to_indicator_net_of_reserve(
    indicator: int, share: Decimal, caps: list[int]
) -> None:
    entries: list[dict[str, Any]] = [
        {"id": f"E{i}", "calculated_cap_kg": c} for i, c in enumerate(caps)
    ]
    pool = indicator - reserve_kg(indicator, share)
    if pool and not any(caps):
        with pytest.raises(ApportionmentError):
            apportion(indicator, share, entries)
        return
    out = apportion(indicator, share, entries)
    assert sum(out.values()) == pool
    for e in entries:
        if e["calculated_cap_kg"] == 0:
            assert out[e["id"]] == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"method": "lottery"}, "method"),
        ({"entries": [{"id": "A"}]}, "entries[0].calculated_cap_kg"),
        ({"entries": [{"calculated_cap_kg": 1}]}, "entries[0].id"),
        ({"entries": [{"id": "A", "calculated_cap_kg": 1}, {"id": "A", "calculated_cap_kg": 1}]},
         "entries[1].id"),
        ({"entries": [{"id": "A", "calculated_cap_kg": -1}]}, "entries[0].calculated_cap_kg"),
        ({"indicator_kg": -5}, "indicator_kg"),
        ({"reserve_share": "x"}, "reserve_share"),
    ],
)
def test_apportion_rejects(kwargs: dict, field: str) -> None:
    args = {"indicator_kg": 100, "reserve_share": "0",
            "entries": [{"id": "A", "calculated_cap_kg": 1}], "method": "pro_rata", **kwargs}
    with pytest.raises(ApportionmentError) as e:
        apportion(**args)
    assert e.value.field == field


@given(st.integers(0, 10**13), st.lists(st.integers(0, 10**12), min_size=1, max_size=40))
def test_vectorised_largest_remainder_is_the_same(total: int, weights: list[int]) -> None:
    import numpy as np

    from allocation.apportionment import largest_remainder_array

    if not any(weights):
        return
    got = largest_remainder_array(total, np.array(weights, dtype=np.int64))
    assert got.tolist() == largest_remainder(total, weights)
    assert int(got.sum()) == total
