"""Many seeds at once: the simulation's seeds locally and on the sweep runner's Dask cluster
give the same result (issue 21)."""

from __future__ import annotations

from allocation.scenario import Changes, run
from allocation.sweep import synthetic_baseline
from simulation.engine import Options
from simulation.mac import load_table
from simulation.population import from_run
from simulation.sweep import run_sweep


def test_local_and_dask_seeds_agree() -> None:
    base = synthetic_baseline(30, seed=3)
    r0 = run(base, Changes())
    table = load_table()
    pop = from_run(r0, r0, table)
    assert pop.n > 0 and pop.markets
    seeds = list(range(4))
    opt = Options(days=15, strategy="mixed")
    here = run_sweep(pop, table.agents, seeds, opt, batch=3)
    remote = run_sweep(pop, table.agents, seeds, opt, workers=2, batch=1)
    assert here["where"] == "local" and remote["where"] == "dask"
    assert remote["workers"] == 2
    for key in ("markets", "cost_fen", "by_sector", "seeds", "saved_fen", "gap_fen"):
        assert here[key] == remote[key], key
    assert here["seeds"] == seeds
    # the distribution over seeds: the band holds the median on every day
    for m in here["markets"]:
        assert all(lo <= mid <= hi for lo, mid, hi in zip(m["path"]["p5"], m["path"]["p50"],
                                                           m["path"]["p95"], strict=True))
