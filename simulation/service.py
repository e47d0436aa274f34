"""Use cases: simulate a stored scenario's market and keep the run; list, read, compare.

A run reads the scenario and the database baseline of its year (as `allocation` runs a
scenario), the rules of the platform's markets of that year where they exist (tick, lot,
daily limit, reference price: `trading.tables.MarketRow`; otherwise tick 1 fen, lot 1 kg,
limit 30 %, the base price), simulates the seeds (here, or on Dask: `simulation.sweep`), and
stores the result with the scenario, the allocation parameter version, the MAC parameter
version, the seeds, days and strategy that made it, in one transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

from allocation import errors as alloc_errors
from allocation.scenario import Changes, parse_changes, run
from allocation.scenario_service import load_baseline
from allocation.store import AllocationStore
from kernel.clock import system_clock
from ledger.service import UoW
from simulation.engine import MAX_DAYS, STRATEGIES, Options
from simulation.errors import SimulationError, SimulationRunNotFound
from simulation.mac import load_table, versions
from simulation.population import Population, from_run
from simulation.store import SimulationStore
from simulation.sweep import run_sweep
from simulation.tables import SimulationRunRow
from trading.store import TradingStore

MAX_SEEDS = 1000
DEFAULT_BAND_PCT = 30


def check_options(*, seeds: int, days: int, strategy: str, first_seed: int = 0,
                  mac_version: str | None = None) -> None:
    """`SimulationError` naming the field for options out of range."""
    for name, value, lo, hi in (("seeds", seeds, 1, MAX_SEEDS), ("days", days, 1, MAX_DAYS),
                                ("first_seed", first_seed, 0, 2**31 - 1)):
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise SimulationError(f"{name} must be a whole number from {lo} to {hi}",
                                  field=name)
    if strategy not in STRATEGIES:
        raise SimulationError(f"strategy must be one of {', '.join(STRATEGIES)}",
                              field="strategy")
    if mac_version is not None and mac_version not in versions():
        raise SimulationError(f"no MAC parameter version {mac_version!r}",
                              field="mac_version")


def _with_market_rules(uow: UoW, pop: Population) -> Population:
    """The platform's own markets' rules, where a market of that pollutant, zone and year
    exists."""
    markets = []
    with uow:
        store = TradingStore(uow.session)
        for m in pop.markets:
            row = store.market(f"{m.pollutant}/{m.zone}/{pop.year}")
            if row is None:
                markets.append(m)
                continue
            ref = int(row.reference_price) if row.reference_price else m.reference_price
            markets.append(dataclasses.replace(m, tick=int(row.tick), min_lot=int(row.min_lot),
                                               band_pct=row.band_pct, reference_price=ref))
    return dataclasses.replace(pop, markets=tuple(markets))


def population_of(uow_factory: Callable[[], UoW], scenario_id: int, *,
                  mac_version: str | None = None, now: datetime | None = None
                  ) -> tuple[Population, Any]:
    """The agents and markets of a stored scenario, and the MAC table used."""
    with uow_factory() as uow:
        row = AllocationStore(uow.session).scenario(scenario_id)
        if row is None:
            raise alloc_errors.ScenarioNotFound(f"no scenario {scenario_id}", field="scenario")
        doc = dict(row.changes)
    year = doc.get("year") if isinstance(doc.get("year"), int) else None
    base = load_baseline(uow_factory(), year=year,
                         parameter_version=doc.get("parameter_version"), now=now)
    changes = parse_changes(doc, base.params)
    table = load_table(mac_version)
    pop = from_run(run(base, changes), run(base, Changes()), table,
                   band_pct=DEFAULT_BAND_PCT)
    return _with_market_rules(uow_factory(), pop), table


def _view(row: SimulationRunRow, *, result: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id, "scenario": row.scenario, "actor": row.actor,
        "run_at": row.run_at.isoformat(), "year": row.year,
        "parameter_version": row.parameter_version, "mac_version": row.mac_version,
        "seeds": row.seeds, "first_seed": row.first_seed, "days": row.days,
        "strategy": row.strategy}
    if result:
        out["result"] = row.result
    return out


def run_simulation(uow_factory: Callable[[], UoW], *, scenario_id: int, actor: str,
                   seeds: int = 20, days: int = 250, strategy: str = "mixed",
                   first_seed: int = 0, mac_version: str | None = None,
                   workers: int | None = None, scheduler: str | None = None,
                   now: datetime | None = None) -> dict[str, Any]:
    """Simulate a stored scenario over `seeds` seeds and store the run."""
    check_options(seeds=seeds, days=days, strategy=strategy, first_seed=first_seed,
                  mac_version=mac_version)
    now = now or system_clock()
    pop, table = population_of(uow_factory, scenario_id, mac_version=mac_version, now=now)
    if not pop.n:
        raise SimulationError("the scenario leaves no facility with emissions to trade",
                              field="scenario")
    options = Options(days=days, strategy=strategy)  # type: ignore[arg-type]
    result = run_sweep(pop, table.agents, list(range(first_seed, first_seed + seeds)),
                       options, workers=workers, scheduler=scheduler)
    with uow_factory() as uow:
        srow = AllocationStore(uow.session).scenario(scenario_id)
        if srow is None:  # deleted while it ran
            raise alloc_errors.ScenarioNotFound(f"no scenario {scenario_id}", field="scenario")
        result["scenario_name"] = srow.name
        row = SimulationRunRow(scenario=scenario_id, actor=actor, run_at=now, year=pop.year,
                               parameter_version=pop.parameter_version,
                               mac_version=table.version, seeds=seeds,
                               first_seed=first_seed, days=days, strategy=strategy,
                               result=result)
        SimulationStore(uow.session).add(row)
        uow.commit()
        return _view(row)


def list_runs(uow: UoW, *, scenario: int | None = None, offset: int = 0, limit: int = 50
              ) -> dict[str, Any]:
    with uow:
        rows, total = SimulationStore(uow.session).runs(scenario, offset, limit)
        items = []
        for r in rows:
            v = _view(r, result=False)
            v["scenario_name"] = r.result.get("scenario_name")
            items.append(v)
        return {"total": total, "offset": offset, "limit": limit, "items": items}


def run_view(uow: UoW, run_id: int) -> dict[str, Any]:
    with uow:
        row = SimulationStore(uow.session).run(run_id)
        if row is None:
            raise SimulationRunNotFound(f"no simulation run {run_id}", field="id")
        return _view(row)


def compare_runs(uow: UoW, a: int, b: int) -> dict[str, Any]:
    """Two runs side by side (each whole), with the differences of their headline figures."""
    views = []
    for which, rid in (("a", a), ("b", b)):
        try:
            views.append(run_view(uow, rid))
        except SimulationRunNotFound:
            raise SimulationRunNotFound(f"no simulation run {rid}", field=which) from None
    ra, rb = views

    def mean(r: dict[str, Any], key: str) -> int | None:
        v = r["result"].get(key)
        return None if v is None else int(v["mean"])

    heads = {}
    for key in ("saved_fen", "gap_fen"):
        va, vb = mean(ra, key), mean(rb, key)
        heads[key] = {"a": va, "b": vb, "delta": None if va is None or vb is None else vb - va}
    for key in ("simulated", "least_cost", "no_trade"):
        ca = ra["result"]["cost_fen"].get(key)
        cb = rb["result"]["cost_fen"].get(key)
        va = None if ca is None else int(ca["mean"])
        vb = None if cb is None else int(cb["mean"])
        heads[f"cost_{key}_fen"] = {"a": va, "b": vb,
                                    "delta": None if va is None or vb is None else vb - va}
    return {"a": ra, "b": rb, "headline": heads}
