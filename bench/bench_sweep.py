"""Benchmark: a sweep of scenarios over a synthetic municipality, locally and on Dask.

Usage: .venv/bin/python bench/bench_sweep.py [--scenarios 1000] [--facilities 10000]
                                             [--workers 1 2] [--batch 25] [--local]
Each scenario is a Monte Carlo draw (indicator change, utilisation hours, alert days): per
scenario the specification basis of every facility, shares, permitted quantities, the
reserve LP (HiGHS, warm-started within a task), the integer re-check and the summary.
Prints one JSON line per figure: {"bench": ..., "workers": ..., "seconds": ..., ...}; the
Dask figures include starting the LocalCluster and scattering the baseline (end to end).
"""

from __future__ import annotations

import argparse
import json
import os
import time

from allocation.sweep import monte_carlo, run_sweep, synthetic_baseline

VARY = {"indicator_pct": {"uniform": [-20, 5]},
        "utilisation_hours.thermal_power": {"uniform": [4000, 6000]},
        "alert_days": {"uniform": [0, 30]}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenarios", type=int, default=1000)
    ap.add_argument("--facilities", type=int, default=10_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--batch", type=int, default=25)
    ap.add_argument("--local", action="store_true", help="also run in this process")
    args = ap.parse_args()
    t0 = time.perf_counter()
    base = synthetic_baseline(args.facilities, seed=1)
    build = time.perf_counter() - t0
    docs = monte_carlo(args.scenarios, VARY, seed=1,
                       base={"alert": {"level": "orange", "days": 0}})
    common = {"scenarios": args.scenarios, "facilities": args.facilities,
              "outlet_rows": int(len(base.rows.facility)), "cores": os.cpu_count(),
              "baseline_build_s": round(build, 3)}
    figures = {}
    if args.local:
        out = run_sweep(base, docs, batch=args.batch)
        figures[0] = out["seconds"]
        print(json.dumps({"bench": "sweep", "where": "local", "workers": 1,
                          "seconds": out["seconds"],
                          "per_scenario_ms": round(1000 * out["seconds"] / args.scenarios, 2),
                          **common}))
    for w in args.workers:
        out = run_sweep(base, docs, workers=w, batch=args.batch)
        figures[w] = out["seconds"]
        warm = sum(bool(r["reserve_plan"].get("warm_start")) for r in out["results"])
        ok = all(r["reserve_plan"]["check_ok"] for r in out["results"])
        line = {"bench": "sweep", "where": "dask LocalCluster", "workers": w,
                "seconds": out["seconds"],
                "per_scenario_ms": round(1000 * out["seconds"] / args.scenarios, 2),
                "warm_started": warm, "all_plans_check": ok, **common}
        if 1 in figures and w != 1:
            line["speedup_vs_1_worker"] = round(figures[1] / out["seconds"], 2)
        print(json.dumps(line))


if __name__ == "__main__":
    main()
