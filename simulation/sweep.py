"""Many seeds at once: the seeds of a simulation in batches, on the Dask cluster of the
scenario sweep runner (`allocation.sweep`: ``DASK_SCHEDULER`` or a `LocalCluster` of
``workers`` processes, with its worker environment), or here when neither is asked for.

The population is scattered to every worker once; each task runs a batch of seeds
(`simulation.runner.run_seeds`: simulation, least-cost LP, summary) and the summaries come
back in seed order, so the result is the same wherever it ran.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from allocation.sweep import dask_client
from simulation.engine import Options
from simulation.outcomes import combine
from simulation.population import Population
from simulation.runner import describe, run_seeds


def run_sweep(pop: Population, agents: dict[str, Any], seeds: Sequence[int],
              options: Options, *, scheduler: str | None = None, workers: int | None = None,
              batch: int = 5, client: Any = None, benchmark: bool = True) -> dict[str, Any]:
    """Every seed, in batches of `batch`, where `allocation.sweep.run_sweep` would run."""
    if batch < 1:
        raise ValueError("batch must be a positive whole number")
    scheduler = scheduler or os.environ.get("DASK_SCHEDULER") or None
    t0 = time.perf_counter()
    batches = [list(seeds[i:i + batch]) for i in range(0, len(seeds), batch)]
    where, n_workers = "local", 1
    if client is None and scheduler is None and not workers:
        per_seed = [r for b in batches for r in run_seeds(pop, agents, b, options,
                                                          benchmark=benchmark)]
    else:
        own = cluster = None
        if client is None:
            own, cluster = dask_client(scheduler, workers)
            client = own
        try:
            where = "dask"
            n_workers = len(client.scheduler_info().get("workers", {})) or 1
            [remote] = client.scatter([pop], broadcast=True)
            futures = [client.submit(run_seeds, remote, agents, b, options, pure=False,
                                     benchmark=benchmark) for b in batches]
            per_seed = [r for part in client.gather(futures) for r in part]
        finally:
            if own is not None:
                own.close()
            if cluster is not None:
                cluster.close()
    return {**describe(pop, options), **combine(pop, per_seed), "where": where,
            "workers": n_workers, "seconds": round(time.perf_counter() - t0, 3)}
