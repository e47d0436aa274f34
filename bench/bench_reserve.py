"""Benchmark: reserve release end to end (build, solve, round to kg, integer re-check).

Usage: .venv/bin/python bench/bench_reserve.py [--n 100000 1000000] [--engines highs sifting]
Engines: auto (the default path: highs below 150 000 applicants, fixing from there), highs
(numpy-built sparse model, HiGHS dual simplex), fixing (sample, fix, verify: HiGHS on a band
of columns, optimality certified by pricing every column), sifting, pulp_highs, pulp_cbc (the
idiomatic PuLP model), highs_ipm, highs_pdlp.
Prints one JSON line per figure: {"bench": ..., "n": ..., "seconds": ..., ...}.
"""

from __future__ import annotations

import argparse
import json
import time
from decimal import Decimal

import numpy as np

from allocation.reserve import ReserveProblem
from allocation.reserve_lp import optimise
from kernel.pollutants import Pollutant


def problem(n: int, n_p: int = 4, n_z: int = 40, n_r: int = 8, seed: int = 0) -> ReserveProblem:
    """n applicants, each asking for up to n_p pollutants in one of n_z zones; the reserve
    covers ~30 % of demand; n_r receptors with zone-level coefficients and ~20 % headroom."""
    rng = np.random.default_rng(seed)
    zone = rng.integers(0, n_z, n)
    d = rng.integers(0, 50_000, (n, n_p))
    d[rng.random((n, n_p)) < 0.3] = 0
    limit = np.minimum(d, (d * rng.uniform(0.3, 1.5, n)[:, None]).astype(np.int64))
    zd = np.zeros((n_p, n_z), dtype=np.int64)
    for j in range(n_p):
        np.add.at(zd[j], zone, d[:, j])
    avail = (zd * 0.3).astype(np.int64)
    exact: dict[tuple[int, int, int], Decimal] = {}
    coef = np.zeros((n_r, n_z, n_p))
    for r in range(n_r):
        for z in range(n_z):
            for j in range(n_p):
                if rng.random() < 0.5:
                    c = Decimal(int(rng.integers(1, 1000))) * Decimal("1e-9")
                    exact[(r, z, j)] = c
                    coef[r, z, j] = float(c)
    load = [sum(float(c) * zd[j, z] for (rr, z, j), c in exact.items() if rr == r)
            for r in range(n_r)]
    return ReserveProblem(
        ids=tuple(f"A{i}" for i in range(n)), pollutants=tuple(list(Pollutant)[:n_p]),
        zones=tuple(f"Z{z}" for z in range(n_z)), zone=zone.astype(np.int64),
        demand_kg=d.astype(np.int64), limit_kg=limit.astype(np.int64),
        min_fraction=np.zeros(n), min_kg=np.zeros((n, n_p), dtype=np.int64),
        priority=rng.integers(1, 5, n).astype(np.float64),
        all_or_nothing=np.zeros(n, dtype=bool), available_kg=avail,
        retained_kg=np.ceil(avail * 0.05).astype(np.int64), pollutant_weight=np.ones(n_p),
        receptor_ids=tuple(f"R{r}" for r in range(n_r)),
        receptor_headroom=tuple(Decimal(str(round(x * 0.2, 6))) for x in load),
        zone_coef=coef, zone_coef_exact=exact,
    )


ENGINES = {
    "highs": ("highs", "simplex"), "highs_ipm": ("highs", "ipm"),
    "highs_pdlp": ("highs", "pdlp"), "sifting": ("sifting", "simplex"),
    "fixing": ("fixing", "simplex"), "auto": ("auto", "simplex"),
    "pulp_highs": ("pulp_highs", "simplex"), "pulp_cbc": ("pulp_cbc", "simplex"),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[100_000])
    ap.add_argument("--engines", nargs="+", default=["highs"], choices=sorted(ENGINES))
    ap.add_argument("--time-limit", type=float, default=None)
    args = ap.parse_args()
    for n in args.n:
        t0 = time.perf_counter()
        prob = problem(n)
        gen = time.perf_counter() - t0
        for name in args.engines:
            engine, method = ENGINES[name]
            t1 = time.perf_counter()
            rep = optimise(prob, engine=engine, method=method, time_limit_s=args.time_limit,
                           include_grants=False)
            total = time.perf_counter() - t1
            solver = rep.get("solver", {})
            print(json.dumps({
                "bench": "reserve_release", "engine": name, "n": n, "pollutants": 4,
                "zones": 40, "receptors": 8, "seconds": round(total, 3),
                "status": rep["status"], "check_ok": rep.get("check", {}).get("ok"),
                "objective": rep.get("objective_value"),
                "timing": {k: round(v, 3) for k, v in rep.get("timing", {}).items()},
                "rounds": solver.get("rounds"), "band": solver.get("band"),
                "duality_gap": solver.get("duality_gap"),
                "simplex_iterations": solver.get("simplex_iterations"),
                "generate_seconds": round(gen, 3),
            }), flush=True)


if __name__ == "__main__":
    main()
