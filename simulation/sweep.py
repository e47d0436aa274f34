"""Many seeds, and many scenarios, at once: the seeds of one or more simulations in batches,
on the Dask cluster of the scenario sweep runner (`allocation.sweep`: ``DASK_SCHEDULER`` or a
`LocalCluster` of ``workers`` processes, with its worker environment), or here when neither is
asked for.

A `Job` is one population with its agents, seeds and options. `run_jobs` scatters each job's
population to every worker once, submits every batch of every job at once (each task runs a
batch of seeds: `simulation.runner.run_seeds`: simulation, least-cost LP, summary) and gathers
each job's summaries back in seed order, so each job's result is the same wherever it ran and
whatever ran beside it. `run_sweep` is the one-job case.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from allocation.sweep import dask_session
from simulation.engine import Options
from simulation.outcomes import combine
from simulation.population import Population
from simulation.runner import describe, run_seeds


@dataclass(frozen=True)
class Job:
    """One simulation of a sweep: a population, its agents' parameters, seeds, options."""
    pop: Population
    agents: dict[str, Any]
    seeds: Sequence[int]
    options: Options


def _batches(seeds: Sequence[int], batch: int) -> list[list[int]]:
    return [list(seeds[i:i + batch]) for i in range(0, len(seeds), batch)]


def run_jobs(jobs: Sequence[Job], *, scheduler: str | None = None, workers: int | None = None,
             batch: int = 5, client: Any = None, benchmark: bool = True
             ) -> list[dict[str, Any]]:
    """Every seed of every job, in batches of `batch`, where `allocation.sweep.run_sweep`
    would run; one result per job, in the order of `jobs`. ``seconds`` is the whole sweep's
    (the jobs ran together), ``where`` and ``workers`` where it ran."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError("batch must be a positive whole number")
    if not jobs:
        return []
    scheduler = scheduler or os.environ.get("DASK_SCHEDULER") or None
    t0 = time.perf_counter()
    plans = [_batches(job.seeds, batch) for job in jobs]
    where, n_workers = "local", 1
    if client is None and scheduler is None and not workers:
        per_job = [[r for b in plan for r in run_seeds(job.pop, job.agents, b, job.options,
                                                       benchmark=benchmark)]
                   for job, plan in zip(jobs, plans, strict=True)]
    else:
        with dask_session(client, scheduler, workers) as dask:
            where = "dask"
            n_workers = len(dask.scheduler_info().get("workers", {})) or 1
            remote = dask.scatter([job.pop for job in jobs], broadcast=True)
            futures = [[dask.submit(run_seeds, pop, job.agents, b, job.options, pure=False,
                                    benchmark=benchmark) for b in plan]
                       for job, pop, plan in zip(jobs, remote, plans, strict=True)]
            done = dask.gather([f for fs in futures for f in fs])  # all jobs at once
            per_job, k = [], 0
            for fs in futures:
                per_job.append([r for part in done[k:k + len(fs)] for r in part])
                k += len(fs)
    seconds = round(time.perf_counter() - t0, 3)
    return [{**describe(job.pop, job.options), **combine(job.pop, per_seed), "where": where,
             "workers": n_workers, "seconds": seconds}
            for job, per_seed in zip(jobs, per_job, strict=True)]


def run_sweep(pop: Population, agents: dict[str, Any], seeds: Sequence[int],
              options: Options, *, scheduler: str | None = None, workers: int | None = None,
              batch: int = 5, client: Any = None, benchmark: bool = True) -> dict[str, Any]:
    """Every seed of one population, in batches of `batch` (`run_jobs` of one job)."""
    [out] = run_jobs([Job(pop, agents, seeds, options)], scheduler=scheduler, workers=workers,
                     batch=batch, client=client, benchmark=benchmark)
    return out
