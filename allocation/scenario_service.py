"""Scenarios (what-if changes of parameters, standards and indicators) stored, run against
the database baseline of their year, and compared; the pure engine is
`allocation.scenario`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from allocation import errors as alloc_errors
from allocation.computation_service import load_municipality, parameters_for, usable_in
from allocation.scenario import Baseline, Quantity, build_baseline, parse_changes
from allocation.store import AllocationStore, RegistryStore
from allocation.tables import ScenarioRow, ScenarioRunRow
from kernel.clock import system_clock
from kernel.pollutants import Pollutant
from ledger.service import UoW


def load_baseline(uow: UoW, *, year: int | None = None,
                  parameter_version: str | None = None,
                  now: datetime | None = None) -> Baseline:
    """The baseline of a year from the database: permits usable in that year, their stored
    quantities, the derived outlet rows and the year's indicators (default: the latest year
    with indicators)."""
    now = now or system_clock()
    params = parameters_for(parameter_version, now)
    with uow:
        store = AllocationStore(uow.session)
        if year is None:
            years = sorted({i.year for i in store.indicator_rows()}) or store.years()
            if not years:
                raise alloc_errors.NothingToCompute("the registry holds no quantities yet",
                                                    field="year")
            year = years[-1]
        town = load_municipality(store, params, [year])
        keep = sorted({q.permit for q in town.rows if usable_in(*town.info[q.permit][:3],
                                                                year)})
        if not keep:
            raise alloc_errors.NothingToCompute(f"no permit is usable in {year}", field="year")
        pos = {code: i for i, code in enumerate(keep)}
        quantities: list[dict[Pollutant, Quantity]] = [{} for _ in keep]
        for q in town.rows:
            if q.permit in pos:
                quantities[pos[q.permit]][Pollutant(q.pollutant)] = Quantity(
                    q.zone, q.spec_kg, q.eia_kg, q.share_kg, q.permitted_kg)
        indicators = {(i.zone, Pollutant(i.pollutant)): (i.total_kg, i.reserve_share_pct)
                      for i in store.indicator_rows(year)}
        zones = [z.code for z in RegistryStore(uow.session).zones()]
        sites = [town.sites[town.index[code]] for code in keep]
    return build_baseline(year, params, sites, quantities, indicators, zones=zones)


def _scenario_dict(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "description": row.description,
            "changes": row.changes, "created_by": row.created_by,
            "created_at": row.created_at.isoformat()}


def create_scenario(uow: UoW, *, doc: Mapping[str, Any], actor: str,
                    now: datetime | None = None) -> dict[str, Any]:
    """Store a named scenario after checking its changes (`ScenarioError` names the field)."""
    now = now or system_clock()
    changes = parse_changes(doc)
    with uow:
        store = AllocationStore(uow.session)
        if store.scenario_named(changes.name) is not None:
            raise alloc_errors.NameTaken(f"a scenario named {changes.name!r} exists",
                                         field="name")
        desc = doc.get("description")
        row = ScenarioRow(name=changes.name, description=desc if isinstance(desc, str) else None,
                          changes=dict(doc), created_by=actor, created_at=now)
        store.add(row)
        uow.commit()
        return _scenario_dict(row)


def list_scenarios(uow: UoW, *, offset: int = 0, limit: int = 50) -> dict[str, Any]:
    with uow:
        rows, total = AllocationStore(uow.session).scenarios(offset, limit)
        return {"total": total, "offset": offset, "limit": limit,
                "items": [_scenario_dict(r) for r in rows]}


def scenario_view(uow: UoW, scenario_id: int) -> dict[str, Any]:
    with uow:
        store = AllocationStore(uow.session)
        row = store.scenario(scenario_id)
        if row is None:
            raise alloc_errors.ScenarioNotFound(f"no scenario {scenario_id}", field="id")
        runs = [{"id": r.id, "run_at": r.run_at.isoformat(), "actor": r.actor, "year": r.year,
                 "parameter_version": r.parameter_version}
                for r in store.scenario_runs(scenario_id)]
        return {**_scenario_dict(row), "runs": runs}


def delete_scenario(uow: UoW, scenario_id: int) -> None:
    with uow:
        store = AllocationStore(uow.session)
        if store.scenario(scenario_id) is None:
            raise alloc_errors.ScenarioNotFound(f"no scenario {scenario_id}", field="id")
        store.delete_scenario(scenario_id)
        uow.commit()


def run_scenario(uow_factory: Any, *, scenario_id: int, actor: str, permits: bool = False,
                 now: datetime | None = None) -> dict[str, Any]:
    """Run a stored scenario against the database baseline of its year and store the run:
    permitted quantities, the reserve plan and the deltas by zone, sector and pollutant."""
    from allocation.scenario import run_json

    now = now or system_clock()
    with uow_factory() as uow:
        row = AllocationStore(uow.session).scenario(scenario_id)
        if row is None:
            raise alloc_errors.ScenarioNotFound(f"no scenario {scenario_id}", field="id")
        doc = dict(row.changes)
    year = doc.get("year") if isinstance(doc.get("year"), int) else None
    base = load_baseline(uow_factory(), year=year, parameter_version=doc.get(
        "parameter_version"), now=now)
    result = run_json(base, doc, permits=permits)
    with uow_factory() as uow:
        store = AllocationStore(uow.session)
        run = ScenarioRunRow(scenario=scenario_id, actor=actor, run_at=now, year=base.year,
                             parameter_version=base.params.version, result=result)
        store.add(run)
        uow.commit()
        return {"id": run.id, "scenario": scenario_id, "run_at": now.isoformat(), **result}


def scenario_run_view(uow: UoW, run_id: int) -> dict[str, Any]:
    with uow:
        run = AllocationStore(uow.session).scenario_run(run_id)
        if run is None:
            raise alloc_errors.ScenarioRunNotFound(f"no scenario run {run_id}", field="id")
        return {"id": run.id, "scenario": run.scenario, "run_at": run.run_at.isoformat(),
                "actor": run.actor, **run.result}


def compare_scenarios(uow_factory: Any, *, a: int, b: int, actor: str,
                      now: datetime | None = None) -> dict[str, Any]:
    """Two scenarios side by side, from their latest runs (a scenario never run is run)."""
    from allocation.scenario import compare

    results = []
    for which, sid in (("a", a), ("b", b)):
        with uow_factory() as uow:
            store = AllocationStore(uow.session)
            if store.scenario(sid) is None:
                raise alloc_errors.ScenarioNotFound(f"no scenario {sid}", field=which)
            latest = store.latest_scenario_run(sid)
            result = dict(latest.result) if latest is not None else None
            run_id = latest.id if latest is not None else None
        if result is None:
            out = run_scenario(uow_factory, scenario_id=sid, actor=actor, now=now)
            run_id, result = out["id"], out
        results.append((run_id, result))
    if results[0][1].get("year") != results[1][1].get("year"):
        raise alloc_errors.ScenarioError("the two scenarios are for different years",
                                         field="b")
    out = compare(results[0][1], results[1][1])
    out["runs"] = {"a": results[0][0], "b": results[1][0]}
    return out
