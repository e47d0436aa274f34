"""Run a population over seeds: simulate, solve the least-cost benchmark at each seed's
supply, summarise (one seed: `run_seed`; a batch, e.g. one Dask task: `run_seeds`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from simulation.engine import Options, simulate
from simulation.least_cost import least_cost, need_of
from simulation.outcomes import combine, seed_summary
from simulation.population import Population


def run_seed(pop: Population, agents: dict[str, Any], seed: int, options: Options,
             *, benchmark: bool = True) -> dict[str, Any]:
    res = simulate(pop, agents, seed, options)
    least = None
    if benchmark:
        need = need_of(pop.emissions_kg, res.holding, pop.market, len(pop.markets))
        least = least_cost(pop.curves, pop.market, need)
    return seed_summary(pop, res, least)


def run_seeds(pop: Population, agents: dict[str, Any], seeds: Sequence[int],
              options: Options, *, benchmark: bool = True) -> list[dict[str, Any]]:
    return [run_seed(pop, agents, s, options, benchmark=benchmark) for s in seeds]


def describe(pop: Population, options: Options) -> dict[str, Any]:
    return {"scenario": pop.scenario, "year": pop.year,
            "parameter_version": pop.parameter_version, "mac_version": pop.mac_version,
            "options": asdict(options), "agents": pop.n, "markets": len(pop.markets)}


def run_population(pop: Population, agents: dict[str, Any], seeds: Sequence[int],
                   options: Options, *, benchmark: bool = True) -> dict[str, Any]:
    """Every seed here, in this process, then their distribution."""
    t0 = time.perf_counter()
    per_seed = run_seeds(pop, agents, seeds, options, benchmark=benchmark)
    return {**describe(pop, options), **combine(pop, per_seed),
            "seconds": round(time.perf_counter() - t0, 3)}
