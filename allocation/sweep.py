"""Sweeps: many scenarios over one baseline, locally or on a Dask cluster.

A sweep is a list of scenario documents (the JSON form `allocation.scenario.parse_changes`
reads), built from a parameter grid (`grid`) and/or Monte Carlo draws (`monte_carlo`), each
applied on top of a common ``base`` document. `run_sweep` runs them:

- locally, in this process, by default;
- on a Dask cluster when ``scheduler`` is given or the ``DASK_SCHEDULER`` environment variable
  names one (``tcp://host:8786``), or on a `LocalCluster` of ``workers`` processes when asked.

Scenarios are batched: one task runs a batch of scenarios against the baseline (scattered to
every worker once) with one reused HiGHS instance (`allocation.reserve_lp.HighsSession`, a warm
start from the previous scenario's basis) and the baseline run cached per worker. Results come
back in the order of the input, each a compact summary: totals per pollutant, the reserve plan's
status and the deltas against the baseline per pollutant.

Axes (grid keys and Monte Carlo keys):

================================  ================================================
``indicator_pct``                 every indicator changed by this percentage
``indicator_pct.<POLLUTANT>``     one pollutant's indicators
``utilisation_hours.<sector>``    thermal_power or industrial_boiler hours
``alert_level`` / ``alert_days``  heavy-pollution alert (level from base if absent)
``retained_share``                the reserve's strategic share kept back
``ultra_low_sectors``             (grid only) a list of sector lists
================================  ================================================

Monte Carlo distributions: ``{"uniform": [lo, hi]}``, ``{"normal": [mean, sd]}``,
``{"choice": [v, ...]}``; draws come from `numpy.random.default_rng(seed)`, so a sweep is
reproducible; percentages are rounded to 0.01, hours to whole hours.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import numpy as np

from allocation.errors import ScenarioError
from allocation.facilities import Site
from allocation.parameters import ParameterSet, get_parameters
from allocation.scenario import (
    Baseline,
    Quantity,
    baseline_summary,
    build_baseline,
    parse_changes,
    run,
    summary,
)
from kernel.pollutants import Pollutant

AXES = ("indicator_pct", "utilisation_hours", "alert_level", "alert_days", "retained_share",
        "ultra_low_sectors")
MAX_SCENARIOS = 100_000


def _err(message: str, fld: str) -> ScenarioError:
    return ScenarioError(message, field=fld)


def _apply(doc: dict[str, Any], axis: str, value: Any, fld: str) -> None:
    head, _, tail = axis.partition(".")
    if head == "indicator_pct":
        entry: dict[str, Any] = {"change_pct": str(value)}
        if tail:
            entry["pollutant"] = tail
        doc.setdefault("indicators", []).append(entry)
    elif head == "utilisation_hours":
        if not tail:
            tail = "thermal_power"
        hours = doc.setdefault("utilisation_hours", {})
        if not isinstance(hours, dict):
            raise _err("base utilisation_hours must be an object in a sweep", fld)
        hours[tail] = str(value)
    elif head == "alert_level":
        doc.setdefault("alert", {"days": 0})["level"] = value
    elif head == "alert_days":
        doc.setdefault("alert", {"level": "yellow"})["days"] = int(value)
    elif head == "retained_share":
        doc.setdefault("reserve", {})["retained_share"] = str(value)
    elif head == "ultra_low_sectors":
        doc["ultra_low_sectors"] = sorted(set(doc.get("ultra_low_sectors", [])) | set(value))
    else:
        raise _err(f"unknown axis {axis!r} (known: {', '.join(AXES)})", fld)


def _copy(base: Mapping[str, Any]) -> dict[str, Any]:
    import copy

    return copy.deepcopy(dict(base))


def grid(axes: Mapping[str, Sequence[Any]], base: Mapping[str, Any] | None = None
         ) -> list[dict[str, Any]]:
    """Every combination of the axes' values, each applied on top of `base`."""
    if not isinstance(axes, Mapping) or not axes:
        raise _err("grid must be a non-empty object: axis -> list of values", "grid")
    names = list(axes)
    for name in names:
        if not isinstance(axes[name], list) or not axes[name]:
            raise _err("each grid axis takes a non-empty list of values", f"grid.{name}")
    size = 1
    for name in names:
        size *= len(axes[name])
    if size > MAX_SCENARIOS:
        raise _err(f"the grid has {size} scenarios, more than {MAX_SCENARIOS}", "grid")
    out = []
    for combo in itertools.product(*(axes[n] for n in names)):
        doc = _copy(base or {})
        label = []
        for name, value in zip(names, combo, strict=True):
            _apply(doc, name, value, f"grid.{name}")
            label.append(f"{name}={value}")
        doc["name"] = ", ".join(label)[:80] or "grid"
        out.append(doc)
    return out


def _draw(rng: np.random.Generator, dist: Any, fld: str) -> Any:
    if not isinstance(dist, Mapping) or len(dist) != 1:
        raise _err("a distribution is {uniform: [lo, hi]}, {normal: [mean, sd]} or "
                   "{choice: [...]}", fld)
    kind, args = next(iter(dist.items()))
    if not isinstance(args, list) or not args:
        raise _err(f"{kind} takes a list", fld)
    if kind == "choice":
        return args[int(rng.integers(0, len(args)))]
    if len(args) != 2 or not all(isinstance(a, int | float) and not isinstance(a, bool)
                                 for a in args):
        raise _err(f"{kind} takes two numbers", fld)
    if kind == "uniform":
        return float(rng.uniform(args[0], args[1]))
    if kind == "normal":
        return float(rng.normal(args[0], args[1]))
    raise _err(f"unknown distribution {kind!r}", fld)


def _rounded(axis: str, value: Any) -> Any:
    if isinstance(value, float):
        if axis.startswith("utilisation_hours") or axis == "alert_days":
            return max(0, int(round(value)))
        if axis.startswith("indicator_pct"):
            return str(Decimal(repr(value)).quantize(Decimal("0.01")))
        if axis == "retained_share":
            return str(min(max(Decimal(repr(value)).quantize(Decimal("0.0001")), Decimal(0)),
                           Decimal(1)))
    return value


def monte_carlo(n: int, vary: Mapping[str, Any], *, seed: int = 0,
                base: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """`n` scenarios with each axis drawn from its distribution (reproducible by `seed`)."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_SCENARIOS:
        raise _err(f"n must be a whole number from 1 to {MAX_SCENARIOS}", "monte_carlo.n")
    if not isinstance(vary, Mapping) or not vary:
        raise _err("vary must be a non-empty object: axis -> distribution",
                   "monte_carlo.vary")
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        doc = _copy(base or {})
        for axis, dist in vary.items():
            fld = f"monte_carlo.vary.{axis}"
            _apply(doc, axis, _rounded(axis, _draw(rng, dist, fld)), fld)
        doc["name"] = f"mc-{seed}-{i}"
        out.append(doc)
    return out


def scenarios_from(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The scenario documents of a sweep file: ``{base?, grid?, monte_carlo?, scenarios?}``."""
    if not isinstance(spec, Mapping):
        raise _err("a sweep must be a JSON object", "$")
    for key in spec:
        if key not in ("base", "grid", "monte_carlo", "scenarios", "name", "workers",
                       "batch", "notes"):
            raise _err(f"unknown key {key!r}", str(key))
    base = spec.get("base") or {}
    if not isinstance(base, Mapping):
        raise _err("base must be a scenario object", "base")
    docs: list[dict[str, Any]] = []
    if spec.get("grid") is not None:
        docs += grid(spec["grid"], base)
    if spec.get("monte_carlo") is not None:
        mc = spec["monte_carlo"]
        if not isinstance(mc, Mapping):
            raise _err("monte_carlo must be an object {n, seed?, vary}", "monte_carlo")
        seed = mc.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise _err("seed must be a whole number", "monte_carlo.seed")
        docs += monte_carlo(mc.get("n"), mc.get("vary"), seed=seed,  # type: ignore[arg-type]
                            base=base)
    for i, s in enumerate(spec.get("scenarios") or []):
        if not isinstance(s, Mapping):
            raise _err("scenarios must be objects", f"scenarios[{i}]")
        docs.append({**_copy(base), **s})
    if not docs:
        raise _err("a sweep needs grid, monte_carlo or scenarios", "grid")
    if len(docs) > MAX_SCENARIOS:
        raise _err(f"more than {MAX_SCENARIOS} scenarios", "grid")
    return docs


# --------------------------------------------------------------------------- running

_FIGS = ("spec_kg", "cap_kg", "share_kg", "permitted_kg", "granted_kg", "alert_cut_kg")


def _compact(s: Mapping[str, Any], ref: Mapping[str, Any]) -> dict[str, Any]:
    ref_rows = {r["pollutant"]: r for r in ref["by_pollutant"]}
    totals = {}
    delta = {}
    for r in s["by_pollutant"]:
        p = r["pollutant"]
        totals[p] = {f: r[f] for f in ("indicator_kg", *_FIGS)}
        delta[p] = {f: r[f] - ref_rows[p][f] for f in ("indicator_kg", *_FIGS)
                    if r[f] != ref_rows[p][f]}
    return {"name": s["name"], "reserve_plan": {k: s["reserve_plan"].get(k) for k in
                                                ("status", "proven_optimal", "check_ok",
                                                 "warm_start")},
            "totals": totals, "deltas": delta, "seconds": s["seconds"]}


def run_batch(base: Baseline, docs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Run a batch of scenarios in this process with one reused HiGHS instance."""
    from allocation.reserve_lp import HighsSession

    session = base._cache.get("session")
    if session is None:
        session = base._cache["session"] = HighsSession()
    ref = baseline_summary(base, solver=session)
    out = []
    for doc in docs:
        changes = parse_changes(doc, base.params)
        out.append(_compact(summary(run(base, changes, solver=session)), ref))
    return out


#: Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, so glibc hands every freed
#: block above 64 KiB back to the OS and the next array of that size faults its pages in
#: again: measured here, scenarios ran 2.3x slower in a worker than in this process. Workers
#: of our LocalCluster keep glibc's default behaviour; workers of an external cluster should
#: be started with the same setting (see the README).
WORKER_ENV = {"MALLOC_TRIM_THRESHOLD_": 2**30}


def dask_client(scheduler: str | None, workers: int | None) -> tuple[Any, Any]:
    """A Dask client on `scheduler`, or on a local cluster of `workers` processes (returned
    too, for the caller to close)."""
    import dask
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    with dask.config.set({f"distributed.nanny.pre-spawn-environ.{k}": v
                          for k, v in WORKER_ENV.items()}):
        cluster = LocalCluster(n_workers=workers or 1, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    return Client(cluster), cluster


@contextmanager
def dask_session(client: Any, scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """`client` as given, else one from `dask_client`, closed afterwards with its cluster."""
    if client is not None:
        yield client
        return
    own, cluster = dask_client(scheduler, workers)
    try:
        yield own
    finally:
        own.close()
        if cluster is not None:
            cluster.close()


def run_sweep(base: Baseline, docs: Sequence[Mapping[str, Any]], *,
              scheduler: str | None = None, workers: int | None = None, batch: int = 50,
              client: Any = None) -> dict[str, Any]:
    """Run `docs` against `base`; see the module docstring for where they run.

    Every document is parsed before anything runs, so a bad one is rejected (naming its
    index) without starting the cluster.
    """
    for i, doc in enumerate(docs):
        try:
            parse_changes(doc, base.params)
        except ScenarioError as exc:
            raise ScenarioError(exc.message, field=f"scenarios[{i}].{exc.field}") from None
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise _err("batch must be a positive whole number", "batch")
    scheduler = scheduler or os.environ.get("DASK_SCHEDULER") or None
    t0 = time.perf_counter()
    batches = [list(docs[i:i + batch]) for i in range(0, len(docs), batch)]
    where = "local"
    if client is None and scheduler is None and not workers:
        results = [r for b in batches for r in run_batch(base, b)]
        n_workers = 1
    else:
        with dask_session(client, scheduler, workers) as dask:
            where = "dask"
            n_workers = len(dask.scheduler_info().get("workers", {})) or 1
            [remote] = dask.scatter([base], broadcast=True)
            futures = [dask.submit(run_batch, remote, b, pure=False) for b in batches]
            results = [r for part in dask.gather(futures) for r in part]
    seconds = time.perf_counter() - t0
    ref = baseline_summary(base)
    return {"where": where, "workers": n_workers, "scenarios": len(results),
            "batch": batch, "seconds": round(seconds, 3),
            "baseline": {r["pollutant"]: {f: r[f] for f in ("indicator_kg", *_FIGS)}
                         for r in ref["by_pollutant"]},
            "results": results}


# --------------------------------------------------------------------------- synthetic


def synthetic_baseline(n: int, *, seed: int = 0, year: int = 2026,
                       params: ParameterSet | None = None) -> Baseline:
    """A municipality of `n` facilities like the demo's (sectors, capacities, 6 air and 4
    water zones, EIA bases for 80 %, indicators at 85-95 % of Σ specification with a 10 %
    reserve): for benchmarks and tests of sweeps without a database."""
    from allocation.facilities import derive, profile_pollutants
    from allocation.facilities import rates as row_rates
    from allocation.quantities import permit_caps

    params = params or get_parameters("2025.1")
    rng = np.random.default_rng(seed)
    sectors = ["thermal_power", "steel", "cement", "chemicals", "paper", "industrial_boiler",
               "sewage"]
    weights = np.array([25, 20, 55, 200, 60, 460, 180], dtype=float)
    caps = {"thermal_power": [600, 660, 700, 1200, 1260, 1320],
            "steel": [100, 150, 200, 300, 500, 800], "cement": [2500, 4000, 5000, 8000, 12000],
            "chemicals": list(range(5, 101, 5)), "paper": list(range(5, 61, 5)),
            "industrial_boiler": [10, 15, 20, 35, 50, 75], "sewage": [1, 2, 3, 5, 10, 20, 50]}
    units = {"thermal_power": "MW", "steel": "万t/a", "cement": "t/d", "chemicals": "万t/a",
             "paper": "万t/a", "industrial_boiler": "t/h", "sewage": "万m3/d"}
    air = [f"A-{i}" for i in range(6)]
    water = [f"W-{i}" for i in range(4)]
    chosen = rng.choice(len(sectors), size=n, p=weights / weights.sum())
    sites = []
    for i, s in enumerate(chosen.tolist()):
        sector = sectors[s]
        cap = caps[sector][int(rng.integers(0, len(caps[sector])))]
        fuel = ("gas" if rng.random() < 0.7 else "coal") if sector == "industrial_boiler" \
            else None
        sites.append(Site(f"P{i:07d}", sector, Decimal(cap), units[sector], fuel))
    rows = derive(sites, params)
    pollutants = tuple(Pollutant)
    spec = permit_caps(rows.method, rows.activity, rows.volume,
                       row_rates(rows, params, pollutants), facility=rows.facility,
                       n_facilities=n).specification_kg
    quantities: list[dict[Pollutant, Quantity]] = []
    a_zone = rng.integers(0, len(air), n)
    w_zone = rng.integers(0, len(water), n)
    totals: dict[tuple[str, Pollutant], int] = {}
    for f, site in enumerate(sites):
        qs = {}
        for p in profile_pollutants(
                f"industrial_boiler:{site.fuel}" if site.sector == "industrial_boiler"
                else site.sector):
            j = pollutants.index(p)
            sp = max(int(spec[f, j]), 1)
            z = water[w_zone[f]] if p.medium == "water" else air[a_zone[f]]
            eia = None if rng.random() < 0.2 else sp * int(rng.integers(900, 1300)) // 1000
            qs[p] = Quantity(z, sp, eia, None, 0)
            totals[(z, p)] = totals.get((z, p), 0) + sp
        quantities.append(qs)
    indicators = {k: (max(v * int(rng.integers(850, 950)) // 1000, 1), 10)
                  for k, v in totals.items()}
    return build_baseline(year, params, sites, quantities, indicators,
                          zones=[*air, *water])
