"""Whole-municipality computation of permitted quantities and the apportionment of an
indicator, each in one unit of work recorded as a computation run; the helpers the
standards and scenarios use cases share (load the municipality, write quantity changes
holding back caps below confirmed rights, record a run). The arithmetic is in the pure
modules (facilities, quantities, scenario, apportionment).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from allocation import errors as alloc_errors
from allocation.facilities import Site, derive, infer_fuels, profile_version
from allocation.parameters import ParameterSet, get_parameters
from allocation.permits import IndicatorNotFound, cap_and_allocation
from allocation.scenario import Changes, parse_changes, specification
from allocation.store import AllocationStore, RegistryStore
from kernel.clock import system_clock, trading_day
from kernel.pollutants import Pollutant, parse_pollutant
from ledger.service import UoW
from ledger.store import LedgerStore
from ledger.transactions import AccountKind


def parameters_for(version: str | None, now: datetime) -> ParameterSet:
    return get_parameters(version, on=None if version else trading_day(now))


def usable_in(status: str, valid_from: date, valid_to: date, year: int) -> bool:
    return status == "valid" and valid_from.year <= year <= valid_to.year


@dataclass
class Municipality:
    """Facilities (one per permit) and the stored quantity rows, as loaded."""

    sites: list[Site]
    index: dict[str, int]
    info: dict[str, tuple[str, date, date, str]]  # permit -> status, from, to, version
    rows: list[Any]  # PermitQuantityRow


def load_municipality(store: AllocationStore, params: ParameterSet, years: Sequence[int] | None,
          *, lock: bool = False) -> Municipality:
    facilities = store.facilities()
    rows = store.quantity_rows(years, lock=lock)
    stored: dict[str, dict[Pollutant, int]] = {}
    for q in rows:
        stored.setdefault(q.permit, {}).setdefault(Pollutant(q.pollutant), q.spec_kg)
    sites = [Site(code, sector, Decimal(capacity), unit)
             for code, _st, sector, _f, _t, _v, capacity, unit in facilities]
    fuels = infer_fuels(sites, [stored.get(s.permit, {}) for s in sites], params)
    sites = [Site(s.permit, s.sector, s.capacity, s.capacity_unit, f)
             for s, f in zip(sites, fuels, strict=True)]
    info = {code: (st, vf, vt, ver) for code, st, _s, vf, vt, ver, _c, _u in facilities}
    return Municipality(sites, {s.permit: i for i, s in enumerate(sites)}, info, rows)


def confirmed_holdings(uow: UoW, keys: set[tuple[str, str, str, int]]
                       ) -> dict[tuple[str, str, str, int], tuple[int, int]]:
    """(permit, pollutant, zone, year) -> (confirmed account id, balance + pending credits)."""
    from ledger.service import asset_code

    store = LedgerStore(uow.session)
    holders = sorted({k[0] for k in keys})
    wanted = {(k[0], asset_code(k[1], k[2], k[3])): k for k in keys}
    out: dict[tuple[str, str, str, int], tuple[int, int]] = {}
    for i in range(0, len(holders), 500):
        for a in store.accounts_of(holders[i:i + 500]):
            if a.kind != AccountKind.CONFIRMED:
                continue
            key = wanted.get((a.holder, a.asset))
            if key is not None:
                out[key] = (a.id, a.balance + a.credits_pending)
    return out


def write_changes(uow: UoW, store: AllocationStore, changes: list[dict[str, Any]]
                  ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Apply quantity changes, holding back any whose cap would fall below the confirmed
    rights (the bureau recovers rights first). Caps reach the ledger as the confirmed
    account's upper limit. Returns (applied, held back)."""
    keys = {(c["permit"], c["pollutant"], c["zone"], c["year"]) for c in changes
            if c["new_cap_kg"] != c["old_cap_kg"]}
    holdings = confirmed_holdings(uow, keys) if keys else {}
    applied, held = [], []
    ledger_store = LedgerStore(uow.session)
    for c in changes:
        key = (c["permit"], c["pollutant"], c["zone"], c["year"])
        acct = holdings.get(key)
        if acct is not None and c["new_cap_kg"] < acct[1]:
            c["status"], c["note"] = "held_back", (
                f"the new cap {c['new_cap_kg']} kg is below the {acct[1]} kg of confirmed "
                "rights: recover rights first")
            held.append(c)
            continue
        c["status"] = "applied"
        applied.append(c)
        if acct is not None and c["new_cap_kg"] != c["old_cap_kg"]:
            ledger_store.set_upper_limit(acct[0], c["new_cap_kg"])
    store.update_quantities([dict(permit=c["permit"], pollutant=c["pollutant"], year=c["year"],
                                  spec_kg=c["new_spec_kg"], share_kg=c["new_share_kg"],
                                  cap_kg=c["new_cap_kg"], allocated_kg=c["new_allocated_kg"],
                                  binding=c["new_binding"],
                                  permitted_kg=_recomputed_permitted(c)) for c in applied])
    return applied, held


def _recomputed_permitted(c: Mapping[str, Any]) -> int:
    """The permitted quantity after a recomputation: a quantity not yet confirmed follows
    its new allocation (with what trades and releases added or took); a confirmed one keeps
    its limit (the bureau changes it by recovery or release). Never above the new cap."""
    permitted = int(c["old_permitted_kg"])
    if not c["confirmed"]:
        permitted += int(c["new_allocated_kg"]) - int(c["old_allocated_kg"])
    return max(min(permitted, int(c["new_cap_kg"])), 0)


def quantity_change(q: Any, spec: int, share: int | None) -> dict[str, Any] | None:
    cap, allocated, binding = cap_and_allocation(spec, q.eia_kg, share)
    if (spec, share, cap, allocated, binding) == (q.spec_kg, q.share_kg, q.cap_kg,
                                                   q.allocated_kg, q.binding):
        return None
    return dict(permit=q.permit, pollutant=q.pollutant, year=q.year, zone=q.zone,
                old_spec_kg=q.spec_kg, new_spec_kg=spec, old_share_kg=q.share_kg,
                new_share_kg=share, old_cap_kg=q.cap_kg, new_cap_kg=cap,
                old_allocated_kg=q.allocated_kg, new_allocated_kg=allocated,
                old_binding=q.binding, new_binding=binding, note=None,
                old_permitted_kg=q.permitted_kg, confirmed=q.confirmed)


def record_run(store: AllocationStore, *, kind: str, actor: str, started: datetime,
               version: str, scenario: int | None, facilities: int, quantities: int,
               applied: list[dict[str, Any]], held: list[dict[str, Any]], skipped: int,
               summary: dict[str, Any]) -> int:
    run = store.add_run(kind=kind, actor=actor, started_at=started, finished_at=system_clock(),
                        parameter_version=version, scenario=scenario, facilities=facilities,
                        quantities=quantities, changed=len(applied), held_back=len(held),
                        skipped=skipped, summary=summary)
    cols = ("permit", "pollutant", "year", "status", "old_spec_kg", "new_spec_kg",
            "old_share_kg", "new_share_kg", "old_cap_kg", "new_cap_kg", "old_allocated_kg",
            "new_allocated_kg", "old_binding", "new_binding", "note")
    store.add_changes([{"run": run.id, **{k: c[k] for k in cols}} for c in applied + held])
    return int(run.id)


def compute_permitted_quantities(uow: UoW, *, actor: str, parameter_version: str | None = None,
                                 scenario: int | None = None,
                                 changes: Mapping[str, Any] | None = None,
                                 years: Sequence[int] | None = None,
                                 now: datetime | None = None) -> dict[str, Any]:
    """Recompute every permit's specification basis (vectorised), then cap, permitted
    quantity and binding basis, and write them in one unit of work with a `computation_run`
    recording who ran it, the parameter version, the scenario and every changed row.

    The parameter changes of a scenario (ultra-low sectors, standards, utilisation hours)
    apply; its indicator and alert changes do not (they are not permit bases). Shares and EIA
    bases are kept. Rows whose facility has no profile keep their stored basis (counted as
    skipped); a cap that would fall below the confirmed rights is held back, not written.
    """
    now = now or system_clock()
    params = parameters_for(parameter_version, now)
    with uow:
        store = AllocationStore(uow.session)
        doc: Mapping[str, Any] | None = changes
        if scenario is not None:
            row = store.scenario(scenario)
            if row is None:
                raise alloc_errors.ScenarioNotFound(f"no scenario {scenario}",
                                                    field="scenario")
            doc = row.changes
        ch = parse_changes(doc, params) if doc else Changes()
        if ch.parameter_version and ch.parameter_version != params.version:
            params = get_parameters(ch.parameter_version)
        town = load_municipality(store, params, years, lock=True)
        if not town.rows:
            raise alloc_errors.NothingToCompute("no permitted-quantity rows to compute",
                                                field="years")
        rows = derive(town.sites, params)
        pollutants = tuple(Pollutant)
        specs = {y: specification(rows, params, pollutants, year=y, changes=ch)
                 for y in sorted({q.year for q in town.rows})}
        found: list[dict[str, Any]] = []
        kept = 0
        for q in town.rows:
            f = town.index[q.permit]
            spec = int(specs[q.year][f, pollutants.index(Pollutant(q.pollutant))])
            if spec < 0:
                kept += 1
                continue
            c = quantity_change(q, spec, q.share_kg)
            if c is not None:
                found.append(c)
        applied, held = write_changes(uow, store, found)
        binding: dict[str, int] = {}
        for q in town.rows:
            binding[q.binding] = binding.get(q.binding, 0) + 1
        summary = {"years": sorted(specs), "binding_before": binding,
                   "skipped_facilities": [{"permit": town.sites[f].permit, "reason": r}
                                          for f, r in rows.skipped][:100],
                   "scenario_changes_ignored": [k for k in ("indicators", "alert")
                                                if doc and doc.get(k)],
                   "facility_profiles": profile_version(params)}
        run_id = record_run(store, kind="compute", actor=actor, started=now,
                            version=params.version, scenario=scenario,
                            facilities=len(town.sites), quantities=len(town.rows),
                            applied=applied, held=held, skipped=kept, summary=summary)
        uow.commit()
        return computation_summary(run_id, params.version, len(town.sites), len(town.rows),
                                   applied, held, kept, summary, actor, now)


def computation_summary(run_id: int, version: str, facilities: int, quantities: int,
                        applied: list[dict[str, Any]], held: list[dict[str, Any]], kept: int,
                        summary: dict[str, Any], actor: str, now: datetime) -> dict[str, Any]:
    def total(rows: list[dict[str, Any]], a: str, b: str) -> int:
        return sum(int(r[b] or 0) - int(r[a] or 0) for r in rows)

    return {"id": run_id, "actor": actor, "started_at": now.isoformat(),
            "parameter_version": version, "facilities": facilities, "quantities": quantities,
            "changed": len(applied), "held_back": len(held), "skipped": kept,
            "delta_allocated_kg": total(applied, "old_allocated_kg", "new_allocated_kg"),
            "delta_cap_kg": total(applied, "old_cap_kg", "new_cap_kg"),
            "held_back_rows": [{k: c[k] for k in ("permit", "pollutant", "year", "new_cap_kg",
                                                  "note")} for c in held[:50]],
            "summary": summary}


def computation_view(uow: UoW, run_id: int, *, offset: int = 0, limit: int = 100
                     ) -> dict[str, Any]:
    with uow:
        store = AllocationStore(uow.session)
        run = store.run(run_id)
        if run is None:
            raise alloc_errors.ComputationNotFound(f"no computation run {run_id}", field="id")
        rows, total = store.changes(run_id, offset, limit)
        return {"id": run.id, "kind": run.kind, "actor": run.actor,
                "started_at": run.started_at.isoformat(),
                "finished_at": run.finished_at.isoformat(),
                "parameter_version": run.parameter_version, "scenario": run.scenario,
                "facilities": run.facilities, "quantities": run.quantities,
                "changed": run.changed, "held_back": run.held_back, "skipped": run.skipped,
                "summary": run.summary,
                "changes": {"total": total, "offset": offset, "limit": limit, "items": [
                    {k: getattr(c, k) for k in (
                        "permit", "pollutant", "year", "status", "old_spec_kg", "new_spec_kg",
                        "old_share_kg", "new_share_kg", "old_cap_kg", "new_cap_kg",
                        "old_allocated_kg", "new_allocated_kg", "old_binding", "new_binding",
                        "note")} for c in rows]}}


# --------------------------------------------------------------------------- apportionment


def apportion_indicator(uow: UoW, *, zone: str, pollutant: str, year: int,
                        method: str = "pro_rata",
                        entries: Sequence[Mapping[str, Any]] | None = None, actor: str,
                        now: datetime | None = None) -> dict[str, Any]:
    """Apportion a zone's stored indicator, net of its reserve share, to the permits usable
    in that year: ``pro_rata`` to their calculated cap (stored), or ``grandfathering`` /
    ``benchmark`` on weights given per permit in `entries` ({permit, historical_kg} or
    {permit, performance_value, activity}). The parts are whole kg summing exactly to the
    indicator net of the reserve; share, permitted quantity and binding basis are rewritten
    in one unit of work and recorded as a computation run."""
    from allocation.apportionment import METHODS, apportion, reserve_kg

    now = now or system_clock()
    pol = parse_pollutant(pollutant).value
    if method not in METHODS:
        raise alloc_errors.ApportionmentError(
            f"unknown method {method!r} (use one of: {', '.join(METHODS)})", field="method")
    with uow:
        store = AllocationStore(uow.session)
        reg = RegistryStore(uow.session)
        ind = reg.indicator(zone, pol, year, lock=True)
        if ind is None:
            raise IndicatorNotFound(f"no indicator for {zone} {pol} {year}", field="zone")
        info = {code: (st, vf, vt) for code, st, _s, vf, vt, _v, _c, _u in store.facilities()}
        rows = store.quantity_rows([year], zone=zone, pollutant=pol, lock=True)
        members = [q for q in rows if usable_in(*info[q.permit], year)]
        if not members:
            raise alloc_errors.NothingToCompute(
                f"no permit usable in {year} carries {pol} in zone {zone}", field="zone")
        given: dict[str, Mapping[str, Any]] = {}
        if method != "pro_rata":
            if not entries:
                raise alloc_errors.ApportionmentError(
                    f"{method} needs entries with a weight for every permit", field="entries")
            for i, e in enumerate(entries):
                if not isinstance(e, Mapping) or not isinstance(e.get("permit"), str):
                    raise alloc_errors.ApportionmentError("each entry needs a permit",
                                                          field=f"entries[{i}].permit")
                given[e["permit"]] = e
            codes = {q.permit for q in members}
            extra = sorted(set(given) - codes)
            if extra:
                raise alloc_errors.ApportionmentError(
                    f"permit {extra[0]} is not in zone {zone} for {pol} {year}",
                    field="entries")
            missing = sorted(codes - set(given))
            if missing:
                raise alloc_errors.ApportionmentError(
                    f"no weight for permit {missing[0]}", field="entries")
        weights = []
        for q in members:
            if method == "pro_rata":
                weights.append({"id": q.permit, "calculated_cap_kg": q.cap_kg})
            else:
                weights.append({**{k: v for k, v in given[q.permit].items()
                                   if k not in ("permit", "id")}, "id": q.permit})
        share_pct = Decimal(ind.reserve_share_pct) / 100
        parts = apportion(ind.total_kg, share_pct, weights, method)
        found = [c for q in members if (c := quantity_change(q, q.spec_kg, parts[q.permit]))]
        applied, held = write_changes(uow, store, found)
        reserve = reserve_kg(ind.total_kg, share_pct)
        summary = {"zone": zone, "pollutant": pol, "year": year, "method": method,
                   "indicator_kg": ind.total_kg, "reserve_kg": reserve,
                   "apportioned_kg": sum(parts.values()), "permits": len(members),
                   "excluded_permits": len(rows) - len(members)}
        run_id = record_run(store, kind="apportionment", actor=actor, started=now,
                            version="-", scenario=None, facilities=len(members),
                            quantities=len(members), applied=applied, held=held, skipped=0,
                            summary=summary)
        uow.commit()
        return {"id": run_id, **summary, "changed": len(applied), "held_back": len(held),
                "shares": [{"permit": p, "share_kg": kg} for p, kg in parts.items()]}
