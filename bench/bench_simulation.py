"""Benchmark: the agent-based market simulation (issue 21) over a synthetic municipality.

Usage: .venv/bin/python bench/bench_simulation.py [--facilities 1000] [--days 250]
                                                   [--seeds 100] [--workers 1 2]
                                                   [--strategy mixed] [--sweep-days 250]
                                                   [--sweep-scenarios 2]
Figures, one JSON line each ({"bench": ..., ...}):

- ``simulation_year``: one simulated year (``--days`` trading days) of ``--facilities``
  facilities (each with 2-5 pollutant quantities: agents) on one core, in this process: the
  simulation alone (auctions, the real order book, settlement, learning), then the least-cost
  LP at its supply; the goal is < 10 s for 1,000 facilities and 250 days;
- ``simulation_sweep``: ``--seeds`` seeds (``--sweep-days`` days each, with the LP benchmark
  per seed) on a Dask LocalCluster of each ``--workers`` count, end to end (starting the
  cluster, scattering the population), with the speed-up against 1 worker;
- ``simulation_sweep_scenarios``: ``--sweep-scenarios`` K scenarios × ``--seeds`` seeds in
  one sweep (every batch of every scenario submitted at once: `simulation.sweep.run_jobs`) on
  each ``--workers`` count: ``seconds`` per worker count and the speed-up of the most workers
  against 1. Scenario 0 is the baseline; scenario k has every indicator cut by
  100 × (1 - 0.8^k) % (each 20 % tighter than the one before: -20 %, -36 %, ...);
- ``simulation_gap``: the simulated total abatement cost against the LP's least cost at the
  same supply (fen and percent, over the sweep's seeds), and against no trading.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

from allocation.scenario import Changes, parse_changes, run
from allocation.sweep import synthetic_baseline
from simulation.engine import Options, simulate
from simulation.least_cost import least_cost, need_of
from simulation.mac import load_table
from simulation.population import from_run
from simulation.sweep import Job, run_jobs, run_sweep
from trading import BOOK_ENGINE


def change_pct(k: int) -> int:
    """Scenario k's cut of every indicator: each 20 % tighter than the one before."""
    return -round(100 * (1 - 0.8 ** k))


def tighter(base: Any, k: int) -> Changes:
    return parse_changes({"name": f"tighter-{k}", "indicators": [{"change_pct": change_pct(k)}]},
                         base.params)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--facilities", type=int, default=1000)
    ap.add_argument("--days", type=int, default=250)
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--sweep-days", type=int, default=250)
    ap.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--batch", type=int, default=5)
    ap.add_argument("--sweep-scenarios", type=int, default=2,
                    help="scenarios swept at once (0: skip that figure)")
    ap.add_argument("--strategy", default="mixed", choices=("truthful", "zip", "mixed"))
    args = ap.parse_args()
    t0 = time.perf_counter()
    base = synthetic_baseline(args.facilities, seed=1)
    r0 = run(base, Changes())
    table = load_table()
    pop = from_run(r0, r0, table)
    build = time.perf_counter() - t0
    common = {"facilities": args.facilities, "agents": pop.n, "markets": len(pop.markets),
              "strategy": args.strategy, "book": BOOK_ENGINE, "cores": os.cpu_count(),
              "mac_version": table.version, "population_build_s": round(build, 3)}
    opt = Options(days=args.days, strategy=args.strategy)  # type: ignore[arg-type]
    t1 = time.perf_counter()
    res = simulate(pop, table.agents, 1, opt)
    sim_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    lc = least_cost(pop.curves, pop.market,
                    need_of(pop.emissions_kg, res.holding, pop.market, len(pop.markets)))
    lp_s = time.perf_counter() - t2
    print(json.dumps({"bench": "simulation_year", "days": args.days,
                      "seconds": round(sim_s, 3), "lp_seconds": round(lp_s, 3),
                      "goal_s": 10, "orders": res.orders, "trades": res.trades,
                      "orders_per_s": round(res.orders / sim_s), **common}), flush=True)
    sweep_opt = Options(days=args.sweep_days, strategy=args.strategy)  # type: ignore[arg-type]
    seeds = list(range(args.seeds))
    times: dict[int, float] = {}
    last = None
    for w in args.workers:
        out = run_sweep(pop, table.agents, seeds, sweep_opt, workers=w, batch=args.batch)
        times[w] = out["seconds"]
        line = {"bench": "simulation_sweep", "where": out["where"], "workers": out["workers"],
                "seeds": args.seeds, "days": args.sweep_days, "seconds": out["seconds"],
                "per_seed_s": round(out["seconds"] / args.seeds, 3), **common}
        if 1 in times and w != 1:
            line["speedup_vs_1_worker"] = round(times[1] / out["seconds"], 2)
        print(json.dumps(line), flush=True)
        last = out
    if args.sweep_scenarios > 0 and args.workers:
        pops = [pop] + [from_run(run(base, tighter(base, k)), r0, table)
                        for k in range(1, args.sweep_scenarios)]
        jobs = [Job(p, table.agents, seeds, sweep_opt) for p in pops]
        by_w: dict[str, float] = {}
        outs: list[dict[str, Any]] = []
        for w in args.workers:
            outs = run_jobs(jobs, workers=w, batch=args.batch)
            by_w[str(w)] = outs[0]["seconds"]
        most = str(max(args.workers))
        print(json.dumps({
            "bench": "simulation_sweep_scenarios", "scenarios": len(pops),
            "seeds": args.seeds, "days": args.sweep_days, "seconds": by_w,
            "speedup": round(by_w["1"] / by_w[most], 2) if "1" in by_w and most != "1"
            else None, "scenario_agents": [p.n for p in pops],
            "indicator_change_pct": [change_pct(k) for k in range(len(pops))],
            "simulated_cost_mean_fen": [o["cost_fen"]["simulated"]["mean"] for o in outs],
            **common}),
            flush=True)
    if last is None:  # no Dask run asked for: the gap of the one seed above
        gap: dict[str, Any] = {"simulated_fen": round(float(res.cost.sum())),
               "least_cost_fen": round(float(lc.cost.sum()))}
        gap["gap_fen"] = gap["simulated_fen"] - gap["least_cost_fen"]
        gap["gap_pct"] = round(100 * gap["gap_fen"] / max(gap["least_cost_fen"], 1), 3)
        print(json.dumps({"bench": "simulation_gap", "seeds": 1, **gap, **common}))
        return
    print(json.dumps({"bench": "simulation_gap", "seeds": args.seeds,
                      "simulated_fen": last["cost_fen"]["simulated"],
                      "least_cost_fen": last["cost_fen"]["least_cost"],
                      "no_trade_fen": last["cost_fen"]["no_trade"],
                      "before_trading_fen": last["cost_fen"]["before_trading"],
                      "gap_fen": last["gap_fen"], "gap_pct": last["gap_pct"], **common}))


if __name__ == "__main__":
    main()
