"""The true-up against the permit (pure): the legal limit, banking written into the permit,
surrender and deduction; properties over random holdings and worked examples."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compliance.reporting.trueup import (
    BANKED,
    DEDUCTION,
    SURRENDER,
    VintagePolicy,
    eligible_banked,
    settle,
)

YEAR = 2027
kgs = st.integers(min_value=0, max_value=10**9)
holdings = st.dictionaries(st.integers(min_value=YEAR - 8, max_value=YEAR + 3), kgs,
                           max_size=10)
policies = st.builds(VintagePolicy, banking=st.booleans(),
                     max_age=st.integers(min_value=0, max_value=8))


@given(actual=kgs, permitted=kgs, extra=kgs, held=holdings,
       settled=st.sets(st.integers(YEAR - 8, YEAR + 3)), policy=policies, nxt=st.none() | kgs)
def test_the_limit_decides_and_rights_are_only_consumed(actual, permitted, extra, held,
                                                        settled, policy, nxt
                                                        ) -> None:  # type: ignore[no-untyped-def]
    cap = permitted + extra
    s = settle("SO2", YEAR, actual, permitted_kg=permitted, cap_kg=cap, holdings=held,
               settled=settled, policy=policy, next_year_held=nxt)
    # the legal limit: the permitted quantity plus what banking wrote into it, never the cap
    assert s.limit_kg == permitted + s.banked_kg <= max(cap, permitted)
    assert s.exceedance_kg == max(actual - s.limit_kg, 0)
    assert s.surrendered_kg <= actual
    if held.get(YEAR, 0) <= permitted:  # rights never exceed the permit (DOMAIN §3)
        assert s.surrendered_kg + s.exceedance_kg + s.unbacked_kg == actual
    assert min(s.unbacked_kg, s.outstanding_kg, s.deducted_kg) >= 0
    own = [d for d in s.draws if d.kind == SURRENDER]
    banked = [d for d in s.draws if d.kind == BANKED]
    deducted = [d for d in s.draws if d.kind == DEDUCTION]
    assert sum(d.kg for d in own + banked) == s.surrendered_kg
    assert sum(d.kg for d in banked) == s.banked_kg
    assert all(d.vintage == YEAR and 0 < d.kg <= held[YEAR] for d in own)
    for d in banked:  # only where allowed, trued up, within age, never more than held
        assert policy.banking and d.vintage in settled
        assert YEAR - policy.max_age <= d.vintage < YEAR and 0 < d.kg <= held[d.vintage]
    if not policy.banking:
        assert banked == []
    if nxt is None:
        assert deducted == [] and s.deducted_kg == 0
    else:
        assert all(d.vintage == YEAR + 1 for d in deducted) and len(deducted) <= 1
        assert s.deducted_kg == min(s.exceedance_kg, nxt)
    # nothing banked beyond what the exceedance needed
    assert s.banked_kg <= max(actual - permitted, 0)


def test_an_exceedance_whatever_else_is_held() -> None:
    """100 t permitted, 20 t left over from an earlier vintage, 115 t emitted: 15 t over."""
    s = settle("SO2", 2027, 115_000, permitted_kg=100_000, cap_kg=100_000,
               holdings={2026: 20_000, 2027: 100_000}, settled={2026})
    assert s.exceedance_kg == 15_000 and s.surrendered_kg == 100_000
    assert [(d.vintage, d.kind, d.kg) for d in s.draws] == [(2027, SURRENDER, 100_000)]
    # banking allowed: still over, since the year's cap leaves no room to write it in
    s = settle("SO2", 2027, 115_000, permitted_kg=100_000, cap_kg=100_000,
               holdings={2026: 20_000, 2027: 100_000}, settled={2026},
               policy=VintagePolicy(banking=True))
    assert s.exceedance_kg == 15_000 and s.banked_kg == 0
    # banking allowed with room under the cap: 15 t written in, nothing over
    s = settle("SO2", 2027, 115_000, permitted_kg=100_000, cap_kg=130_000,
               holdings={2026: 20_000, 2027: 100_000}, settled={2026},
               policy=VintagePolicy(banking=True))
    assert (s.exceedance_kg, s.banked_kg, s.limit_kg, s.surrendered_kg) == (
        0, 15_000, 115_000, 115_000)
    assert [(d.vintage, d.kind, d.kg) for d in s.draws] == [
        (2027, SURRENDER, 100_000), (2026, BANKED, 15_000)]
    # a vintage not yet trued up is never banked
    s = settle("SO2", 2027, 115_000, permitted_kg=100_000, cap_kg=130_000,
               holdings={2026: 20_000, 2027: 100_000}, policy=VintagePolicy(banking=True))
    assert s.exceedance_kg == 15_000


def test_unconfirmed_permit_is_judged_on_its_permit_quantity() -> None:
    s = settle("SO2", 2027, 90_000, permitted_kg=100_000, cap_kg=100_000, holdings={})
    assert (s.exceedance_kg, s.surrendered_kg, s.unbacked_kg) == (0, 0, 90_000)
    s = settle("SO2", 2027, 120_000, permitted_kg=100_000, cap_kg=100_000, holdings={})
    assert s.exceedance_kg == 20_000


def test_deduction_and_no_borrowing() -> None:
    s = settle("SO2", 2027, 6000, permitted_kg=4000, cap_kg=4000,
               holdings={2027: 4000, 2028: 9000}, next_year_held=1000)
    assert [(d.vintage, d.kind, d.kg) for d in s.draws] == [
        (2027, SURRENDER, 4000), (2028, DEDUCTION, 1000)]
    assert (s.exceedance_kg, s.deducted_kg, s.outstanding_kg) == (2000, 1000, 1000)
    # a later vintage never raises the year's limit or settles it without a deduction
    s = settle("SO2", 2027, 6000, permitted_kg=0, cap_kg=0, holdings={2028: 9000})
    assert s.draws == () and s.exceedance_kg == 6000 and s.outstanding_kg == 6000


def test_eligible_banked_and_bad_input() -> None:
    on = VintagePolicy(banking=True)
    assert eligible_banked(2027, [2020, 2022, 2023, 2026, 2027, 2028],
                           settled={2020, 2022, 2026}, policy=on) == [2022, 2026]
    assert eligible_banked(2027, [2022, 2026], settled={2022, 2026}) == []  # off by default
    assert eligible_banked(2027, [2026], settled={2026},
                           policy=VintagePolicy(banking=True, max_age=0)) == []
    with pytest.raises(ValueError):
        VintagePolicy(max_age=-1)
    with pytest.raises(ValueError):
        settle("SO2", 2027, -1, permitted_kg=0, cap_kg=0, holdings={})
    with pytest.raises(ValueError):
        settle("SO2", 2027, 1, permitted_kg=0, cap_kg=0, holdings={2027: -1})
