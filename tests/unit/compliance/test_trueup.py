"""The true-up's vintage rules and deduction (pure): properties over random holdings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compliance.trueup import (
    DEDUCTION,
    SURRENDER,
    VintagePolicy,
    eligible_vintages,
    settle,
    settle_vintages,
)

YEAR = 2027
kgs = st.integers(min_value=0, max_value=10**9)
holdings = st.dictionaries(st.integers(min_value=YEAR - 8, max_value=YEAR + 3), kgs,
                           max_size=10)
policies = st.builds(VintagePolicy, banking=st.booleans(),
                     max_age=st.integers(min_value=0, max_value=8))


@given(actual=kgs, held=holdings, settled=st.sets(st.integers(YEAR - 8, YEAR + 3)),
       policy=policies, nxt=st.none() | kgs)
def test_quantities_add_up_and_no_future_vintage_is_used(actual, held, settled, policy,
                                                         nxt) -> None:  # type: ignore[no-untyped-def]
    s = settle_vintages("SO2", YEAR, actual, held, settled=settled, policy=policy,
                        next_year_held=nxt)
    assert s.surrendered_kg + s.deducted_kg + s.outstanding_kg == actual
    assert s.surrendered_kg + s.shortfall_kg == actual
    assert min(s.outstanding_kg, s.deducted_kg, s.surrendered_kg) >= 0
    surrendered = [d for d in s.draws if d.kind == SURRENDER]
    deducted = [d for d in s.draws if d.kind == DEDUCTION]
    assert sum(d.kg for d in surrendered) == s.surrendered_kg
    assert sum(d.kg for d in deducted) == s.deducted_kg
    for d in surrendered:  # never a future vintage, never more than held, never ineligible
        assert d.vintage <= YEAR and 0 < d.kg <= held[d.vintage]
        if d.vintage < YEAR:
            assert policy.banking and d.vintage in settled
            assert d.vintage >= YEAR - policy.max_age
    assert len({d.vintage for d in surrendered}) == len(surrendered)
    if nxt is None:
        assert deducted == [] and s.deducted_kg == 0
    else:
        assert all(d.vintage == YEAR + 1 for d in deducted) and len(deducted) <= 1
        assert s.deducted_kg == min(s.shortfall_kg, nxt)
    # the year's own vintage goes first: nothing banked is used while it still holds rights
    own = held.get(YEAR, 0)
    if any(d.vintage < YEAR for d in surrendered):
        assert s.draws[0].vintage == YEAR or own == 0
        assert own == 0 or s.draws[0].kg == own
    # eligible rights are used before anything is short
    if s.shortfall_kg > 0:
        assert s.surrendered_kg == s.held_kg


def test_eligibility_order_and_limits() -> None:
    assert eligible_vintages(2027, [2020, 2022, 2023, 2026, 2027, 2028],
                             settled={2020, 2022, 2026}) == [2027, 2022, 2026]
    assert eligible_vintages(2027, [2022, 2026, 2027], settled={2022, 2026},
                             policy=VintagePolicy(banking=False)) == [2027]
    assert eligible_vintages(2027, [2026, 2027], settled={2026},
                             policy=VintagePolicy(max_age=0)) == [2027]
    assert eligible_vintages(2027, [2028]) == []
    with pytest.raises(ValueError):
        VintagePolicy(max_age=-1)


def test_worked_example() -> None:
    s = settle_vintages("SO2", 2027, 6000, {2025: 500, 2026: 0, 2027: 4000, 2028: 9000},
                        settled={2025, 2026}, next_year_held=1000)
    assert [(d.vintage, d.kind, d.kg) for d in s.draws] == [
        (2027, SURRENDER, 4000), (2025, SURRENDER, 500), (2028, DEDUCTION, 1000)]
    assert (s.held_kg, s.surrendered_kg, s.shortfall_kg, s.deducted_kg,
            s.outstanding_kg) == (4500, 4500, 1500, 1000, 500)
    assert s.penalty_fen == (200_000_00, 1_000_000_00)
    # the future vintage is never used without a deduction
    s = settle_vintages("SO2", 2027, 6000, {2028: 9000})
    assert s.draws == () and s.shortfall_kg == 6000 and s.outstanding_kg == 6000
    assert settle("SO2", 5, 3).shortfall_kg == 2
    with pytest.raises(ValueError):
        settle_vintages("SO2", 2027, -1, {})
    with pytest.raises(ValueError):
        settle_vintages("SO2", 2027, 1, {2027: -1})
