"""Use cases: simulate a stored scenario's market and keep the run; list, read, compare.

A run reads the scenario and the database baseline of its year (as `allocation` runs a
scenario), the rules of the platform's markets of that year where they exist (tick, lot,
daily limit, reference price: `trading.tables.MarketRow`; otherwise tick 1 fen, lot 1 kg,
limit 30 %, the base price), simulates the seeds (here, or on Dask: `simulation.sweep`), and
stores the result with the scenario, the allocation parameter version, the MAC parameter
version, the seeds, days and strategy that made it, in one transaction. Several scenarios run
in one sweep (`run_simulations`: all their batches on the cluster at once) and are stored
together, all or nothing; `run_simulation` is the one-scenario case.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from allocation import errors as alloc_errors
from allocation.scenario import Baseline, Changes, Run, parse_changes, run
from allocation.scenario_service import load_baseline
from allocation.store import AllocationStore
from kernel.clock import system_clock
from ledger.service import UoW
from simulation.engine import MAX_DAYS, STRATEGIES, Options
from simulation.errors import SimulationError, SimulationRunNotFound
from simulation.mac import MacTable, load_table, versions
from simulation.population import Population, from_run
from simulation.store import SimulationStore
from simulation.sweep import Job, run_jobs
from simulation.tables import SimulationRunRow
from trading.store import TradingStore

MAX_SEEDS = 1000
MAX_SCENARIOS = 50
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


def _field(ids: Sequence[int], i: int) -> str:
    """The field naming the `i`-th scenario: ``scenario`` when it is the only one."""
    return "scenario" if len(ids) == 1 else f"scenario_ids[{i}]"


def check_scenario_ids(scenario_ids: Sequence[int]) -> list[int]:
    """The ids as a list: 1 to `MAX_SCENARIOS` distinct positive whole numbers, or a
    `SimulationError` naming the field."""
    ids = list(scenario_ids)
    if not 1 <= len(ids) <= MAX_SCENARIOS:
        raise SimulationError(f"from 1 to {MAX_SCENARIOS} scenarios at once",
                              field="scenario_ids")
    for i, sid in enumerate(ids):
        if isinstance(sid, bool) or not isinstance(sid, int) or sid < 1:
            raise SimulationError("a scenario id is a positive whole number",
                                  field=_field(ids, i))
        if sid in ids[:i]:
            raise SimulationError(f"scenario {sid} is given twice", field=_field(ids, i))
    return ids


def _stored(uow: UoW, ids: Sequence[int]) -> list[Any]:
    """The scenario rows of `ids` (`ScenarioNotFound` naming the first missing one)."""
    store = AllocationStore(uow.session)
    rows = []
    for i, sid in enumerate(ids):
        row = store.scenario(sid)
        if row is None:
            raise alloc_errors.ScenarioNotFound(f"no scenario {sid}", field=_field(ids, i))
        rows.append(row)
    return rows


def populations_of(uow_factory: Callable[[], UoW], scenario_ids: Sequence[int], *,
                   mac_version: str | None = None, now: datetime | None = None
                   ) -> tuple[list[Population], MacTable]:
    """The agents and markets of stored scenarios (all found before any is built; scenarios
    of the same year and parameter version share one baseline), and the MAC table used."""
    ids = list(scenario_ids)
    with uow_factory() as uow:
        docs = [dict(row.changes) for row in _stored(uow, ids)]
    table = load_table(mac_version)
    bases: dict[tuple[Any, Any], tuple[Baseline, Run]] = {}
    pops = []
    for doc in docs:
        year = doc.get("year") if isinstance(doc.get("year"), int) else None
        key = (year, doc.get("parameter_version"))
        if key not in bases:
            base = load_baseline(uow_factory(), year=year, parameter_version=key[1], now=now)
            bases[key] = (base, run(base, Changes()))
        base, before = bases[key]
        changes = parse_changes(doc, base.params)
        pop = from_run(run(base, changes), before, table, band_pct=DEFAULT_BAND_PCT)
        pops.append(_with_market_rules(uow_factory(), pop))
    return pops, table


def population_of(uow_factory: Callable[[], UoW], scenario_id: int, *,
                  mac_version: str | None = None, now: datetime | None = None
                  ) -> tuple[Population, MacTable]:
    """The agents and markets of a stored scenario, and the MAC table used."""
    [pop], table = populations_of(uow_factory, [scenario_id], mac_version=mac_version, now=now)
    return pop, table


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


def run_simulations(uow_factory: Callable[[], UoW], *, scenario_ids: Sequence[int],
                    actor: str, seeds: int = 20, days: int = 250, strategy: str = "mixed",
                    first_seed: int = 0, mac_version: str | None = None,
                    workers: int | None = None, scheduler: str | None = None,
                    now: datetime | None = None) -> list[dict[str, Any]]:
    """Simulate stored scenarios over the same `seeds` seeds in one sweep (every batch of
    every scenario on the cluster at once) and store one run per scenario, all in one
    transaction; their views, in the order of `scenario_ids`."""
    check_options(seeds=seeds, days=days, strategy=strategy, first_seed=first_seed,
                  mac_version=mac_version)
    ids = check_scenario_ids(scenario_ids)
    now = now or system_clock()
    pops, table = populations_of(uow_factory, ids, mac_version=mac_version, now=now)
    for i, pop in enumerate(pops):
        if not pop.n:
            raise SimulationError("the scenario leaves no facility with emissions to trade",
                                  field=_field(ids, i))
    options = Options(days=days, strategy=strategy)  # type: ignore[arg-type]
    seed_list = list(range(first_seed, first_seed + seeds))
    results = run_jobs([Job(pop, table.agents, seed_list, options) for pop in pops],
                       workers=workers, scheduler=scheduler)
    with uow_factory() as uow:
        rows = []
        for srow, pop, result in zip(_stored(uow, ids), pops, results, strict=True):
            result["scenario_name"] = srow.name  # _stored: none deleted while it ran
            rows.append(SimulationRunRow(
                scenario=srow.id, actor=actor, run_at=now, year=pop.year,
                parameter_version=pop.parameter_version, mac_version=table.version,
                seeds=seeds, first_seed=first_seed, days=days, strategy=strategy,
                result=result))
        store = SimulationStore(uow.session)
        for row in rows:
            store.add(row)
        uow.commit()
        return [_view(row) for row in rows]


def run_simulation(uow_factory: Callable[[], UoW], *, scenario_id: int, actor: str,
                   seeds: int = 20, days: int = 250, strategy: str = "mixed",
                   first_seed: int = 0, mac_version: str | None = None,
                   workers: int | None = None, scheduler: str | None = None,
                   now: datetime | None = None) -> dict[str, Any]:
    """Simulate a stored scenario over `seeds` seeds and store the run (`run_simulations`
    of one scenario)."""
    [out] = run_simulations(uow_factory, scenario_ids=[scenario_id], actor=actor, seeds=seeds,
                            days=days, strategy=strategy, first_seed=first_seed,
                            mac_version=mac_version, workers=workers, scheduler=scheduler,
                            now=now)
    return out


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
