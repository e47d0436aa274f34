"""The market simulation's core: MAC curves, the simulated days on the real book and auction
clearing, the least-cost benchmark (issue 21)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation import mac
from simulation.engine import Options, simulate
from simulation.least_cost import least_cost, least_cost_pulp, need_of
from simulation.mac import load_table
from simulation.outcomes import seed_summary
from simulation.population import Market, make_population

TABLE = load_table()
AGENTS = TABLE.agents


def two_agents(reserve_kg: int = 0, ref: int = 97_600):
    """A low-cost seller (thermal power SO2, long) and a high-cost buyer (industrial boiler
    SO2, short) in one market."""
    market = Market("SO2", "A-0", reserve_kg, 97_600, ref, 1, 1, 30)
    return make_population(TABLE, markets=[market], market=[0, 0],
                           sectors=["thermal_power", "industrial_boiler"],
                           permitted_kg=[100_000, 50_000], emissions_kg=[100_000, 100_000],
                           scale=False)


def test_curve_table_rows_have_sources_and_flags():
    raw = TABLE.raw
    assert raw["version"] == TABLE.version
    for row in raw["curves"]:
        assert row["version"] == TABLE.version and row["source"]
        assert isinstance(row["assumption"], bool)
        if not row["assumption"]:
            assert row.get("anchored")  # which point the source backs


def test_curve_table_refuses_falling_costs():
    bad = {"version": "x", "curves": [{"sector": "*", "pollutant": "SO2", "version": "x",
                                       "source": "s", "assumption": True,
                                       "points": [[0, 5], [0.5, 4], [1, 9]]}]}
    with pytest.raises(mac.MacTableError, match="rise strictly"):
        mac.parse_table(bad)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 10**7), min_size=1, max_size=6),
       st.floats(0, 1), st.floats(0.5, 2.0))
def test_abatement_at_inverts_marginal_cost(emissions, share, scale):
    n = len(emissions)
    fr, ys = mac.pad_points([TABLE.curve("thermal_power", "SO2")] * n)
    c = mac.build_curves(fr, ys, np.array(emissions, float), np.full(n, scale))
    a = np.array(emissions, float) * share
    p = mac.marginal_cost(c, a)
    assert np.allclose(mac.abatement_at(c, p), a, rtol=1e-9, atol=1e-6)
    # cost is the integral: increasing, and convex (marginal costs rise)
    lo, hi = mac.cost(c, a * 0.5), mac.cost(c, a)
    assert np.all(hi >= lo) and np.all(hi - lo >= lo - 1e-6)


def test_two_agent_market_clears_between_their_marginal_costs():
    pop = two_agents()
    c = pop.curves
    e0 = pop.emissions_kg.astype(float)
    v0 = mac.marginal_cost(c, np.clip(e0 - pop.permitted_kg, 0, e0))
    res = simulate(pop, AGENTS, 7, Options(days=60, strategy="truthful",
                                           agents={"participation": 1.0}))
    assert res.trades > 0 and res.volume.sum() > 0
    prices = res.close[0][res.traded[0]]
    # every trade price between the seller's and the buyer's marginal cost at the start
    assert prices.min() >= v0[0] and prices.max() <= v0[1]
    # and at the end: the seller's MAC after abating more is at most the last price, the
    # buyer's after abating less at least it
    v1 = mac.marginal_cost(c, res.abated.astype(float))
    assert v1[0] <= prices[-1] <= v1[1]
    # rights and money are conserved (no fees, no reserve)
    assert res.holding.sum() == pop.permitted_kg.sum()
    assert res.cash.sum() == 0 and res.cash[0] > 0 > res.cash[1]
    # trading lowered the total cost against keeping the permits
    nt = simulate(pop, AGENTS, 7, Options(trading=False))
    assert res.cost.sum() < nt.cost.sum()


def test_no_trading_costs_the_no_trade_benchmark():
    pop = two_agents(reserve_kg=10_000)
    res = simulate(pop, AGENTS, 3, Options(trading=False))
    out = seed_summary(pop, res)
    assert res.trades == 0 and not res.auctions
    assert out["cost_fen"]["simulated"] == out["cost_fen"]["no_trade"]
    direct = mac.cost(pop.curves, np.maximum(pop.emissions_kg - pop.permitted_kg
                                             - pop.granted_kg, 0).astype(float)).sum()
    assert out["cost_fen"]["no_trade"] == round(direct)


@pytest.mark.parametrize("strategy", ["truthful", "zip", "mixed"])
def test_same_seed_same_path(strategy):
    pop = _town(40, seed=5)
    opt = Options(days=30, strategy=strategy)
    a, b = simulate(pop, AGENTS, 11, opt), simulate(pop, AGENTS, 11, opt)
    assert np.array_equal(a.close, b.close) and np.array_equal(a.volume, b.volume)
    assert np.array_equal(a.holding, b.holding) and a.auctions == b.auctions
    c = simulate(pop, AGENTS, 12, opt)
    assert not (np.array_equal(a.close, c.close) and np.array_equal(a.holding, c.holding))


def _town(n: int, seed: int, reserve: int = 20_000):
    rng = np.random.default_rng(seed)
    markets = [Market("SO2", "A-0", reserve, 97_600, 97_600),
               Market("COD", "W-0", reserve, 136_000, 136_000)]
    sectors = rng.choice(["thermal_power", "industrial_boiler", "steel", "sewage"], n)
    mk = [1 if s == "sewage" else 0 for s in sectors]
    e0 = rng.integers(5_000, 200_000, n)
    permitted = (e0 * rng.uniform(0.6, 1.1, n)).astype(int)
    return make_population(TABLE, markets=markets, market=mk, sectors=list(sectors),
                           permitted_kg=permitted.tolist(), emissions_kg=e0.tolist())


@settings(max_examples=15, deadline=None)
@given(st.integers(2, 30), st.integers(0, 10**6), st.sampled_from(["truthful", "zip"]))
def test_conservation_and_the_least_cost_bound(n, seed, strategy):
    pop = _town(n, seed % 1000, reserve=50_000)
    res = simulate(pop, AGENTS, seed, Options(days=40, strategy=strategy, fee_bps=0))
    sold = sum(a["sold_kg"] for a in res.auctions)
    revenue = -res.cash.sum()
    assert res.holding.sum() == pop.permitted_kg.sum() + sold == \
        pop.permitted_kg.sum() + res.won.sum()
    assert (revenue > 0) == (sold > 0)
    for a in res.auctions:
        if a["status"] == "cleared":
            assert a["price"] >= pop.markets[a["market"]].reserve_price
    assert (res.holding >= 0).all()
    need = need_of(pop.emissions_kg, res.holding, pop.market, len(pop.markets))
    lc = least_cost(pop.curves, pop.market, need)
    assert lc.status == "optimal"
    assert lc.cost.sum() <= res.cost.sum() + 1e-3  # the market cannot beat the optimum
    got = np.bincount(pop.market, weights=lc.abated, minlength=2)
    assert np.all(got >= need - 1e-3)


def test_lp_agrees_with_pulp_and_prices_the_market():
    pop = _town(12, seed=2)
    need = need_of(pop.emissions_kg, pop.permitted_kg, pop.market, 2)
    lc = least_cost(pop.curves, pop.market, need, refine=False)
    status, abated = least_cost_pulp(pop.curves, pop.market, need)
    assert status == "optimal"
    assert mac.cost(pop.curves, abated).sum() == pytest.approx(lc.cost.sum(), rel=1e-6)
    exact = least_cost(pop.curves, pop.market, need)
    assert exact.cost.sum() <= lc.cost.sum() + 1e-6
    # at the optimum every abating agent's MAC is the market price
    v = mac.marginal_cost(pop.curves, exact.abated)
    for m in range(2):
        if need[m] > 0:
            inner = (pop.market == m) & (exact.abated > 1) & (
                exact.abated < pop.emissions_kg - 1)
            assert np.allclose(v[inner], exact.price[m], rtol=1e-6)


@settings(max_examples=10, deadline=None)
@given(st.integers(2, 20), st.sampled_from([1, 10, 100]), st.sampled_from([1, 50, 1000]),
       st.sampled_from([None, 10, 30]), st.integers(0, 1000))
def test_orders_follow_the_book_rules(n, tick, lot, band, seed):
    """Agents quote on the tick, in whole lots and inside the daily limits, so the real book
    never rejects them; every close lies in that day's limits."""
    rng = np.random.default_rng(seed)
    markets = [Market("NOx", "A-1", 0, 120_000, 120_000, tick, lot, band)]
    e0 = rng.integers(5_000, 100_000, n)
    pop = make_population(TABLE, markets=markets, market=[0] * n,
                          sectors=["thermal_power"] * n,
                          permitted_kg=(e0 * rng.uniform(0.5, 1.2, n)).astype(int).tolist(),
                          emissions_kg=e0.tolist())
    res = simulate(pop, AGENTS, seed, Options(days=20, strategy="zip",
                                              agents={"participation": 0.8}))
    assert res.rejected == 0
    assert res.volume.sum() % lot == 0 and (res.close % tick == 0).all()
    if band is not None:
        ref = 120_000
        for d in range(20):
            lo, hi = ref - ref * band // 100, ref + ref * band // 100
            if res.traded[0, d]:
                assert lo <= res.close[0, d] <= hi
            ref = int(res.close[0, d])


def test_population_from_a_scenario_run():
    from allocation.scenario import Changes, run
    from allocation.sweep import synthetic_baseline
    from simulation.population import from_run

    base = synthetic_baseline(60, seed=4)
    r0 = run(base, Changes())
    tight = run(base, Changes(retained_share=Decimal("0.5"),
                              ultra_low_sectors=frozenset({"chemicals"})))
    pop0, pop1 = from_run(r0, r0, TABLE), from_run(tight, r0, TABLE)
    assert pop0.n == pop1.n > 0 and (pop0.emissions_kg > 0).all()
    assert np.array_equal(pop0.emissions_kg, pop1.emissions_kg)  # forecasts: the baseline's
    # the retained half of the reserve is not offered
    assert sum(m.reserve_kg for m in pop1.markets) < sum(m.reserve_kg for m in pop0.markets)
    # chemicals at ultra-low limits: their air curves are dearer by the technology factor,
    # their water curves unchanged
    air = np.array([pop0.markets[m].pollutant in ("SO2", "NOx", "VOCs", "PM")
                    for m in pop0.market])
    chem = np.array([s == "chemicals" for s in pop0.sectors])
    assert (chem & air).any()
    ratio = pop1.curves.y0[:, 0] / pop0.curves.y0[:, 0]
    assert np.allclose(ratio[chem & air], TABLE.technology["ultra_low"])
    assert np.allclose(ratio[~(chem & air)], 1.0)
    assert all(m.reserve_price == m.reference_price > 0 for m in pop0.markets)
