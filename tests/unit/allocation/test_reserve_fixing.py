"""The `fixing` engine (sample, fix, verify) reaches the whole-model optimum, with its
certificate, on problems large enough to need several rounds."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from allocation.reserve import ReserveProblem, build_columns, check_plan
from allocation.reserve_lp import optimise, solve_fixing, solve_highs
from kernel.pollutants import Pollutant


def make(n: int, seed: int, receptors: int, min_share: float) -> ReserveProblem:
    rng = np.random.default_rng(seed)
    n_p, n_z = 3, 7
    zone = rng.integers(0, n_z, n)
    d = rng.integers(0, 20_000, (n, n_p))
    d[rng.random((n, n_p)) < 0.4] = 0
    limit = np.minimum(d, (d * rng.uniform(0.2, 1.4, n)[:, None]).astype(np.int64))
    min_fraction = np.where((rng.random(n) < min_share) & (d.sum(axis=1) > 0), 0.05, 0.0)
    min_kg = np.floor(d * min_fraction[:, None]).astype(np.int64)
    zd = np.zeros((n_p, n_z), dtype=np.int64)
    for j in range(n_p):
        np.add.at(zd[j], zone, d[:, j])
    avail = (zd * rng.uniform(0.2, 0.6)).astype(np.int64)
    coef = np.zeros((receptors, n_z, n_p))
    exact = {}
    for r in range(receptors):
        for z in range(n_z):
            for j in range(n_p):
                c = Decimal(int(rng.integers(1, 100))) * Decimal("1e-6")
                exact[(r, z, j)] = c
                coef[r, z, j] = float(c)
    load = [sum(float(c) * zd[j, z] for (rr, z, j), c in exact.items() if rr == r)
            for r in range(receptors)]
    return ReserveProblem(
        ids=tuple(f"A{i}" for i in range(n)), pollutants=tuple(list(Pollutant)[:n_p]),
        zones=tuple(f"Z{z}" for z in range(n_z)), zone=zone.astype(np.int64),
        demand_kg=d.astype(np.int64), limit_kg=limit.astype(np.int64),
        min_fraction=min_fraction, min_kg=min_kg,
        priority=rng.integers(1, 6, n).astype(np.float64),
        all_or_nothing=np.zeros(n, dtype=bool), available_kg=avail,
        retained_kg=np.zeros_like(avail), pollutant_weight=np.ones(n_p),
        receptor_ids=tuple(f"R{r}" for r in range(receptors)),
        receptor_headroom=tuple(Decimal(str(round(x * 0.25, 6))) for x in load),
        zone_coef=coef, zone_coef_exact=exact)


@pytest.mark.parametrize(("n", "seed", "receptors", "min_share"),
                         [(6000, 1, 0, 0.0), (12_000, 2, 3, 0.0), (9000, 3, 2, 0.3)])
def test_fixing_reaches_the_whole_model_optimum(n: int, seed: int, receptors: int,
                                                min_share: float) -> None:
    p = make(n, seed, receptors, min_share)
    cols = build_columns(p, matrix=False)
    lower, upper = p.bounds()
    whole = solve_highs(p, cols, lower, upper)
    fixed = solve_fixing(p, cols, lower, upper, sample=800, band=0.01)
    assert whole.status == fixed.status == "optimal" and fixed.proven_optimal
    assert fixed.objective is not None and whole.objective is not None
    assert abs(fixed.objective - whole.objective) <= 1e-7 * abs(whole.objective)
    assert fixed.detail["duality_gap"] < 1e-7
    assert fixed.detail["rounds"] >= 1


def test_optimise_with_fixing_passes_the_integer_recheck() -> None:
    p = make(8000, 4, 2, 0.2)
    rep = optimise(p, engine="fixing")
    assert rep["status"] == "optimal" and rep["proven_optimal"] and rep["check"]["ok"]
    assert rep["solver"]["engine"] == "fixing"
    g = np.array([[row["granted_kg"].get(q.value, 0) for q in p.pollutants]
                  for row in rep["grants"]], dtype=np.int64)
    assert check_plan(p, g) == []


def test_auto_uses_whole_model_for_all_or_nothing() -> None:
    p = make(500, 5, 0, 0.0)
    aon = np.zeros(p.n, dtype=bool)
    aon[:10] = True
    from dataclasses import replace

    rep = optimise(replace(p, all_or_nothing=aon), engine="fixing")
    assert rep["solver"]["engine"] == "highs" and rep["solver"]["mip"]
