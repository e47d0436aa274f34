"""Many seeds at once: the simulation's seeds locally and on the sweep runner's Dask cluster
give the same result; several jobs (scenarios) swept at once give each the result it gets
alone (issue 21)."""

from __future__ import annotations

from typing import Any

import pytest

from allocation.scenario import Changes, parse_changes, run
from allocation.sweep import synthetic_baseline
from simulation.engine import Options
from simulation.mac import load_table
from simulation.population import from_run
from simulation.sweep import Job, run_jobs, run_sweep


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


TIMING = ("seconds", "where", "workers")


def _without_timing(r: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in r.items() if k not in TIMING}


def test_several_jobs_at_once_equal_each_alone_here_and_on_dask() -> None:
    base = synthetic_baseline(30, seed=3)
    r0 = run(base, Changes())
    table = load_table()
    tight = run(base, parse_changes({"name": "tight", "indicators": [{"change_pct": -30}]},
                                    base.params))
    pops = [from_run(r0, r0, table), from_run(tight, r0, table)]
    jobs = [Job(pops[0], table.agents, [0, 1, 2], Options(days=12, strategy="mixed")),
            Job(pops[1], table.agents, [5, 6], Options(days=10, strategy="zip"))]
    alone = [run_sweep(j.pop, j.agents, j.seeds, j.options, batch=2) for j in jobs]
    here = run_jobs(jobs, batch=2)
    remote = run_jobs(jobs, workers=2, batch=1)
    assert [r["where"] for r in here] == ["local"] * 2
    assert [(r["where"], r["workers"]) for r in remote] == [("dask", 2)] * 2
    assert [r["seeds"] for r in remote] == [[0, 1, 2], [5, 6]]  # per job, in seed order
    for a, h, d in zip(alone, here, remote, strict=True):
        assert _without_timing(h) == _without_timing(a) == _without_timing(d)
    # the tighter scenario is not the baseline run again
    assert (here[1]["cost_fen"]["simulated"]["mean"]
            > here[0]["cost_fen"]["simulated"]["mean"])
    assert run_jobs([], workers=2) == []  # nothing to run starts no cluster
    with pytest.raises(ValueError, match="batch"):
        run_jobs(jobs, batch=0)
