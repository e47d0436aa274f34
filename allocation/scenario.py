"""Scenarios: named sets of changes against the baseline, run on columnar arrays (numpy).

A `Baseline` is one year of the municipality in columns: F facilities (permits), P pollutants,
Z zones, the outlet rows derived from each site (`allocation.facilities`), the EIA bases, the
stored shares and confirmed rights, and the indicators. `run(baseline, changes)` applies:

- ``indicators``: tighten or loosen indicators by a percentage (all, or by pollutant / zone);
- ``ultra_low_sectors``: sectors that adopt ultra-low limits (added to the table's set);
- ``standards``: new concentration limits with an effective date: a year the standard enters
  part-way takes the day-weighted mean of the quantities before and after (half-even kg);
- ``utilisation_hours``: hours per sector (thermal power: the performance method's h;
  industrial boilers: steam hours), or one number for thermal power;
- ``alert``: a heavy-pollution alert level and its duration in days (air pollutants);
- ``apportionment``: ``pro_rata`` (indicator net of the reserve share, pro rata to the
  calculated cap, largest remainder) or ``keep`` (the stored shares);
- ``reserve``: the reserve-release LP's ``retained_share`` and ``objective``.

and computes, per facility and pollutant, the specification basis (`permit_caps`), the cap
(min of specification and EIA), the indicator share and the permitted quantity (min of the
three, with the binding basis), then the reserve plan: every facility whose cap exceeds its
permitted quantity applies, per trading zone, for that headroom; the reserve is the indicator's
reserve share; `allocation.reserve_lp` solves it and the plan passes the exact integer re-check.
`summary` aggregates by zone, sector and pollutant; `deltas` and `compare` put runs side by side.

Guarantees: every quantity is whole kg; shares of a zone and pollutant sum exactly to the
indicator net of its reserve share; a run with no changes reproduces the baseline run exactly;
bad changes raise `ScenarioError` naming the field.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from allocation.apportionment import largest_remainder_array, reserve_kg
from allocation.errors import ScenarioError
from allocation.facilities import OutletRows, activity_volume, rates
from allocation.parameters import ALERT_LEVELS, ParameterSet, get_parameters, with_changes
from allocation.quantities import ABSENT, BASES, permit_caps
from allocation.reserve import ReserveProblem
from kernel.pollutants import Pollutant, find_pollutant
from kernel.quantities import decimal_field

IntArray = npt.NDArray[np.int64]
APPORTIONMENT = ("pro_rata", "keep")
_KEYS = frozenset({"name", "description", "parameter_version", "year", "indicators",
                   "ultra_low_sectors", "standards", "utilisation_hours", "alert",
                   "apportionment", "reserve", "notes"})


# --------------------------------------------------------------------------- the baseline


@dataclass(frozen=True, eq=False)
class Baseline:
    """One year of the municipality, columnar. Arrays (F, P) use -1 for "none"."""

    year: int
    params: ParameterSet
    permits: tuple[str, ...]  # F
    sectors: tuple[str, ...]  # F, sector of each facility
    pollutants: tuple[Pollutant, ...]  # P
    zones: tuple[str, ...]  # Z
    zone: IntArray  # (F, P) zone index of the permit's quantity, -1 where it carries none
    eia_kg: IntArray  # (F, P)
    share_kg: IntArray  # (F, P) stored shares
    stored_spec_kg: IntArray  # (F, P) stored specification basis (used where none derives)
    permitted_kg: IntArray  # (F, P) confirmed rights (informative)
    indicator_kg: IntArray  # (Z, P), -1 where no indicator
    reserve_pct: IntArray  # (Z, P) reserve share in percent
    rows: OutletRows
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return len(self.permits)

    def __getstate__(self) -> dict[str, Any]:
        # the cache holds a solver instance and runs: each process builds its own
        return {**self.__dict__, "_cache": {}}

    @property
    def carried(self) -> npt.NDArray[np.bool_]:
        return self.zone >= 0


# --------------------------------------------------------------------------- changes


@dataclass(frozen=True)
class Standard:
    name: str
    effective: date
    limits: Mapping[str, Mapping[str, Mapping[str, Any]]]


@dataclass(frozen=True)
class Changes:
    name: str = "baseline"
    indicators: tuple[tuple[Pollutant | None, str | None, Decimal], ...] = ()
    ultra_low_sectors: frozenset[str] = frozenset()
    standards: tuple[Standard, ...] = ()
    utilisation_hours: Mapping[str, Decimal] = field(default_factory=dict)
    alert: tuple[str, int] | None = None
    apportionment: str = "pro_rata"
    retained_share: Decimal = Decimal(0)
    objective: str = "priority"
    parameter_version: str | None = None
    year: int | None = None

    @property
    def changes_parameters(self) -> bool:
        return bool(self.ultra_low_sectors or self.standards or self.utilisation_hours)


def _err(message: str, fld: str) -> ScenarioError:
    return ScenarioError(message, field=fld)


def _decimal(value: Any, fld: str, lo: Decimal | None = None, hi: Decimal | None = None
             ) -> Decimal:
    return decimal_field(value, fld, _err, lo=lo, hi=hi)


def _pollutant(text: Any, fld: str) -> Pollutant:
    found = find_pollutant(text)
    if found is None:
        raise _err(f"unknown pollutant {text!r}", fld)
    return found


def parse_standard(raw: Any, fld: str, params: ParameterSet) -> Standard:
    """A `Standard` from {name, effective, limits}; `fld` prefixes the fields named in errors
    ("" for a standard that is the whole document)."""
    if not isinstance(raw, Mapping):
        raise _err(f"{fld or '$'} must be an object", fld or "$")
    at = f"{fld}." if fld else ""
    for key in raw:
        if key not in ("name", "effective", "limits", "description", "reference"):
            raise _err(f"unknown key {key!r}", f"{at}{key}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 80:
        raise _err("name must be a non-empty string of at most 80 characters", f"{at}name")
    try:
        effective = date.fromisoformat(raw.get("effective", ""))
    except (TypeError, ValueError):
        raise _err("effective must be an ISO date", f"{at}effective") from None
    limits = raw.get("limits")
    if not isinstance(limits, Mapping) or not limits:
        raise _err("limits must be a non-empty object: source -> kind -> pollutant -> limit",
                   f"{at}limits")
    try:
        with_changes(params, limits=limits)
    except ValueError as exc:
        path = str(exc).split(":", 1)[0]
        raise _err(str(exc), f"{at}{path}") from None
    return Standard(name.strip(), effective, limits)


def parse_changes(doc: Any, params: ParameterSet | None = None) -> Changes:
    """`Changes` from a scenario's JSON form; `ScenarioError` names the bad field."""
    if not isinstance(doc, Mapping):
        raise _err("a scenario must be a JSON object", "$")
    for key in doc:
        if key not in _KEYS:
            raise _err(f"unknown key {key!r}", str(key))
    version = doc.get("parameter_version")
    if version is not None and not isinstance(version, str):
        raise _err("parameter_version must be a string", "parameter_version")
    if params is None or (version is not None and version != params.version):
        params = get_parameters(version) if version else (params or get_parameters())
    name = doc.get("name", "scenario")
    if not isinstance(name, str) or not name.strip() or len(name) > 80:
        raise _err("name must be a non-empty string of at most 80 characters", "name")
    year = doc.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)
                             or not 1990 <= year <= 2200):
        raise _err("year must be a whole year", "year")
    indicators: list[tuple[Pollutant | None, str | None, Decimal]] = []
    raw_ind = doc.get("indicators", [])
    if not isinstance(raw_ind, list):
        raise _err("indicators must be a list", "indicators")
    for i, e in enumerate(raw_ind):
        at = f"indicators[{i}]"
        if not isinstance(e, Mapping):
            raise _err(f"{at} must be an object", at)
        for key in e:
            if key not in ("pollutant", "zone", "change_pct"):
                raise _err(f"unknown key {key!r}", f"{at}.{key}")
        pol = _pollutant(e["pollutant"], f"{at}.pollutant") if e.get("pollutant") else None
        zone = e.get("zone")
        if zone is not None and (not isinstance(zone, str) or not zone):
            raise _err("zone must be a zone code", f"{at}.zone")
        if "change_pct" not in e:
            raise _err("change_pct is missing", f"{at}.change_pct")
        pct = _decimal(e["change_pct"], f"{at}.change_pct", lo=Decimal(-100), hi=Decimal(1000))
        indicators.append((pol, zone, pct))
    ultra = doc.get("ultra_low_sectors", [])
    if not isinstance(ultra, list) or not all(isinstance(s, str) for s in ultra):
        raise _err("ultra_low_sectors must be a list of sectors", "ultra_low_sectors")
    for i, s in enumerate(ultra):
        if s not in params.sectors:
            raise _err(f"unknown sector {s!r} (known: {', '.join(params.sectors)})",
                       f"ultra_low_sectors[{i}]")
    raw_std = doc.get("standards", [])
    if not isinstance(raw_std, list):
        raise _err("standards must be a list", "standards")
    standards = tuple(parse_standard(s, f"standards[{i}]", params)
                      for i, s in enumerate(raw_std))
    hours: dict[str, Decimal] = {}
    raw_h = doc.get("utilisation_hours")
    if raw_h is not None:
        if isinstance(raw_h, Mapping):
            for s, v in raw_h.items():
                if s not in ("thermal_power", "industrial_boiler"):
                    raise _err("utilisation hours apply to thermal_power and industrial_boiler",
                               f"utilisation_hours.{s}")
                hours[s] = _decimal(v, f"utilisation_hours.{s}", Decimal(0), Decimal(8784))
        else:
            hours["thermal_power"] = _decimal(raw_h, "utilisation_hours", Decimal(0),
                                              Decimal(8784))
    alert = None
    if doc.get("alert") is not None:
        a = doc["alert"]
        if not isinstance(a, Mapping):
            raise _err("alert must be an object {level, days}", "alert")
        level = a.get("level")
        if level not in ALERT_LEVELS:
            raise _err(f"alert level must be one of {', '.join(ALERT_LEVELS)}", "alert.level")
        days = a.get("days")
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 366:
            raise _err("alert days must be a whole number from 0 to 366", "alert.days")
        alert = (str(level), int(days))
    method = doc.get("apportionment", "pro_rata")
    if method not in APPORTIONMENT:
        raise _err(f"apportionment must be one of {', '.join(APPORTIONMENT)}", "apportionment")
    reserve = doc.get("reserve") or {}
    if not isinstance(reserve, Mapping):
        raise _err("reserve must be an object", "reserve")
    for key in reserve:
        if key not in ("retained_share", "objective"):
            raise _err(f"unknown key {key!r}", f"reserve.{key}")
    retained = _decimal(reserve.get("retained_share", "0"), "reserve.retained_share",
                        Decimal(0), Decimal(1))
    objective = reserve.get("objective", "priority")
    if objective not in ("priority", "max_min"):
        raise _err("objective must be priority or max_min", "reserve.objective")
    return Changes(name=name.strip(), indicators=tuple(indicators),
                   ultra_low_sectors=frozenset(ultra), standards=standards,
                   utilisation_hours=hours, alert=alert, apportionment=str(method),
                   retained_share=retained, objective=str(objective),
                   parameter_version=version, year=year)


# --------------------------------------------------------------------------- specification


def _blend(old: IntArray, new: IntArray, before: int, days: int) -> IntArray:
    """Day-weighted mean, half-even: (old × before + new × (days - before)) / days."""
    num = old * before + new * (days - before)
    q, r = np.divmod(num, days)
    up = (2 * r > days) | ((2 * r == days) & (q % 2 == 1))
    return np.asarray(q + up, dtype=np.int64)


def specification(rows: OutletRows, params: ParameterSet, pollutants: Sequence[Pollutant],
                  *, year: int, changes: Changes | None = None,
                  hours_cache: dict[Any, Any] | None = None) -> IntArray:
    """(F, P) specification basis in kg for `year` under `params` and the scenario's
    parameter changes (ultra-low sectors, hours, standards in force), -1 where none."""
    changes = changes or Changes()
    ultra = params.ultra_low_sectors | changes.ultra_low_sectors
    hours = dict(changes.utilisation_hours)
    key = tuple(sorted(hours.items()))
    if hours_cache is not None and key in hours_cache:
        activity, volume = hours_cache[key]
    else:
        activity, volume = (activity_volume(rows, params, hours) if hours
                            else (rows.activity, rows.volume))
        if hours_cache is not None:
            if len(hours_cache) >= 16:  # Monte Carlo draws rarely repeat: keep it small
                hours_cache.clear()
            hours_cache[key] = (activity, volume)

    def spec_under(p: ParameterSet) -> IntArray:
        rate = rates(rows, p, pollutants, ultra)
        caps = permit_caps(rows.method, activity, volume, rate, facility=rows.facility,
                           n_facilities=rows.n_facilities)
        return caps.specification_kg

    start = date(year, 1, 1)
    days = (date(year + 1, 1, 1) - start).days
    current = params
    spec = spec_under(current)
    for std in sorted(changes.standards, key=lambda s: s.effective):
        if std.effective.year > year:
            continue
        nxt = with_changes(current, limits=std.limits, label=std.name)
        new = spec_under(nxt)
        before = max(0, (std.effective - start).days)
        if before == 0:
            spec = new
        else:
            both = (spec >= 0) & (new >= 0)
            spec = np.where(both, _blend(np.maximum(spec, 0), np.maximum(new, 0), before, days),
                            np.where(new >= 0, new, spec))
        current = nxt
    return spec


def bases(spec: IntArray, eia: IntArray, share: IntArray, carried: npt.NDArray[np.bool_]
          ) -> tuple[IntArray, IntArray, npt.NDArray[np.int8]]:
    """(cap, permitted, binding): cap = min(spec, EIA); permitted = min of the three bases,
    binding indexes `BASES` (ties name the earlier basis); -1 where not carried."""
    big = np.iinfo(np.int64).max
    s = np.where(spec >= 0, spec, big)
    e = np.where(eia >= 0, eia, big)
    cap = np.minimum(s, e)
    stacked = np.stack([s, e, np.where(share >= 0, share, big)], axis=-1)
    binding = np.argmin(stacked, axis=-1).astype(np.int8)
    permitted = np.take_along_axis(stacked, binding[..., None].astype(np.int64), axis=-1)[..., 0]
    none = ~carried | (permitted == big)
    cap = np.where(none | (cap == big), ABSENT, cap).astype(np.int64)
    permitted = np.where(none, ABSENT, permitted).astype(np.int64)
    binding[none] = ABSENT
    return cap, permitted, binding


# --------------------------------------------------------------------------- a run


@dataclass(frozen=True, eq=False)
class Run:
    """A scenario's results, (F, P) arrays and (Z, P) zone figures."""

    name: str
    baseline: Baseline
    changes: Changes
    spec_kg: IntArray
    cap_kg: IntArray
    share_kg: IntArray
    permitted_kg: IntArray
    binding: npt.NDArray[np.int8]
    granted_kg: IntArray  # (F, P) reserve grants
    indicator_kg: IntArray  # (Z, P)
    reserve_kg: IntArray  # (Z, P) usable reserve before grants
    alert_cut_kg: IntArray  # (F, P)
    reserve_status: str
    reserve_proven_optimal: bool
    reserve_check_ok: bool
    seconds: float
    reserve_detail: dict[str, Any] = field(default_factory=dict)


def _indicators(base: Baseline, changes: Changes) -> IntArray:
    ind = base.indicator_kg.copy()
    for pol, zone, pct in changes.indicators:
        if zone is not None and zone not in base.zones:
            raise _err(f"unknown zone {zone!r}", "indicators.zone")
        cols = [j for j, p in enumerate(base.pollutants) if pol is None or p == pol]
        rows = [k for k, z in enumerate(base.zones) if zone is None or z == zone]
        factor = (Decimal(100) + pct) / 100
        for k in rows:
            for j in cols:
                if ind[k, j] >= 0:
                    ind[k, j] = int((Decimal(int(ind[k, j])) * factor).quantize(
                        Decimal(1), rounding=ROUND_HALF_EVEN))
    return ind


def _reserves(base: Baseline, indicators: IntArray) -> IntArray:
    out = np.zeros_like(indicators)
    for k in range(len(base.zones)):
        for j in range(len(base.pollutants)):
            if indicators[k, j] >= 0:
                out[k, j] = reserve_kg(int(indicators[k, j]),
                                       Decimal(int(base.reserve_pct[k, j])) / 100)
    return out


def _shares(base: Baseline, cap: IntArray, indicators: IntArray, reserves: IntArray
            ) -> IntArray:
    """Each zone's indicator net of its reserve, pro rata to the calculated cap."""
    share = np.full_like(cap, ABSENT)
    for k in range(len(base.zones)):
        for j in range(len(base.pollutants)):
            if indicators[k, j] < 0:
                continue
            members = np.nonzero(base.zone[:, j] == k)[0]
            if not len(members):
                continue
            w = np.maximum(cap[members, j], 0)
            pool = int(indicators[k, j] - reserves[k, j])
            if not w.any():
                w = np.ones(len(members), dtype=np.int64)
            share[members, j] = largest_remainder_array(pool, w)
    return share


def reserve_problem(base: Baseline, cap: IntArray, permitted: IntArray, usable: IntArray,
                    changes: Changes) -> tuple[ReserveProblem, IntArray, IntArray]:
    """Applicants: per facility and zone, the headroom cap - permitted of its pollutants there.

    Returns the problem and, per applicant, its facility and zone index.
    """
    carried = base.carried & (cap >= 0)
    headroom = np.where(carried, np.maximum(cap - np.maximum(permitted, 0), 0), 0)
    n_p = len(base.pollutants)
    # one applicant per (facility, zone) with any headroom in that zone
    n_z = len(base.zones)
    ff, jj = np.nonzero(headroom > 0)
    keys = np.unique(ff * n_z + base.zone[ff, jj])
    fac, zon = keys // n_z, keys % n_z
    demand = np.zeros((len(keys), n_p), dtype=np.int64)
    if len(keys):
        same_zone = base.zone[fac] == zon[:, None]
        demand = np.where(same_zone, headroom[fac], 0).astype(np.int64)
    names = base._cache.get("applicant_ids")
    if names is None:  # every (facility, zone) name once per baseline
        names = base._cache["applicant_ids"] = np.array(
            [f"{p}@{z}" for p in base.permits for z in base.zones], dtype=object)
    ids = names[keys].tolist()
    avail = np.maximum(usable.T, 0).astype(np.int64)  # (P, Z)
    num, den = changes.retained_share.as_integer_ratio()
    retained = -((-avail * num) // den)  # ceil: the strategic share is kept whole
    n = len(keys)
    problem = ReserveProblem(
        ids=tuple(ids),
        pollutants=base.pollutants, zones=base.zones, zone=zon, demand_kg=demand,
        limit_kg=demand.copy(), min_fraction=np.zeros(n), min_kg=np.zeros_like(demand),
        priority=np.ones(n), all_or_nothing=np.zeros(n, dtype=bool), available_kg=avail,
        retained_kg=retained, pollutant_weight=np.ones(n_p), objective=changes.objective)
    return problem, fac, zon


def run(base: Baseline, changes: Changes | None = None, *, solver: Any = None) -> Run:
    """Run a scenario (no changes: the baseline run). See the module docstring."""
    from allocation.reserve_lp import plan_arrays

    t0 = time.perf_counter()
    changes = changes or Changes()
    params = base.params
    cache = base._cache.setdefault("hours", {})
    spec = specification(base.rows, params, base.pollutants, year=base.year, changes=changes,
                         hours_cache=cache)
    carried = base.carried
    spec = np.where(carried & (spec < 0), base.stored_spec_kg, spec)
    spec = np.where(carried, spec, ABSENT)
    big = np.iinfo(np.int64).max
    cap0 = np.where(base.eia_kg >= 0, np.minimum(np.where(spec >= 0, spec, big), base.eia_kg),
                    spec)
    cap0 = np.where(carried & (cap0 != big), cap0, ABSENT)
    indicators = _indicators(base, changes)
    reserves = _reserves(base, indicators)
    if changes.apportionment == "keep":
        share = base.share_kg.copy()
    else:
        share = _shares(base, cap0, indicators, reserves)
    cap, permitted, binding = bases(spec, base.eia_kg, share, carried)
    # reserve plan
    problem, fac, _zon = reserve_problem(base, cap, permitted, reserves, changes)
    granted = np.zeros_like(spec)
    status, proven, ok, detail = "no_applicants", True, True, {}
    if problem.n:
        plan = plan_arrays(problem, solver=solver)
        status, proven, ok, detail = plan.status, plan.proven_optimal, plan.check_ok, plan.detail
        if plan.grants is not None:
            np.add.at(granted, fac, plan.grants)
    # alert: cut at least ratio × days / 365 of the permitted quantity of air pollutants
    alert_cut = np.zeros_like(spec)
    if changes.alert is not None:
        level, days = changes.alert
        ratio = params.alert_cut_ratios[level]
        num, den = ratio.as_integer_ratio()
        air = np.array([p.medium == "air" for p in base.pollutants])
        basis = np.where(carried & air[None, :], np.maximum(permitted, 0), 0)
        alert_cut = -((-basis * num * days) // (den * 365))
    return Run(changes.name, base, changes, spec, cap, share, permitted, binding, granted,
               indicators, reserves, alert_cut.astype(np.int64), status, proven, ok,
               time.perf_counter() - t0, detail)


# --------------------------------------------------------------------------- summaries

FIGURES = ("spec_kg", "cap_kg", "share_kg", "permitted_kg", "granted_kg", "alert_cut_kg")


def _group_sums(r: Run, key: IntArray, n_keys: int) -> dict[str, IntArray]:
    """Σ of every figure per (key, pollutant); key is (F, P) or (F,) with -1 to skip.

    Sums of whole kg below 2^53 in float64 are exact, returned as int64.
    """
    n_p = len(r.baseline.pollutants)
    k2 = key if key.ndim == 2 else np.broadcast_to(key[:, None], r.spec_kg.shape)
    valid = (k2 >= 0) & r.baseline.carried
    flat = (k2 * n_p + np.arange(n_p)[None, :])[valid]
    out: dict[str, IntArray] = {}
    for name in FIGURES:
        arr = np.maximum(getattr(r, name), 0)[valid]
        sums = np.bincount(flat, weights=arr, minlength=n_keys * n_p)[:n_keys * n_p]
        out[name] = sums.astype(np.int64).reshape(n_keys, n_p)
    return out


def summary(r: Run, *, permits: bool = False) -> dict[str, Any]:
    """A JSON-able summary: by zone, sector and pollutant (and per permit if asked)."""
    b = r.baseline
    pols = [p.value for p in b.pollutants]
    by_zone = _group_sums(r, b.zone, len(b.zones))
    sectors = sorted(set(b.sectors))
    s_idx = np.array([sectors.index(s) for s in b.sectors], dtype=np.int64)
    by_sector = _group_sums(r, s_idx, len(sectors))
    zone_rows = []
    for k, z in enumerate(b.zones):
        for j, p in enumerate(pols):
            if not by_zone["spec_kg"][k, j] and r.indicator_kg[k, j] < 0:
                continue
            row: dict[str, Any] = {"zone": z, "pollutant": p,
                                   "indicator_kg": int(max(r.indicator_kg[k, j], 0)),
                                   "reserve_kg": int(r.reserve_kg[k, j])}
            row |= {name: int(by_zone[name][k, j]) for name in FIGURES}
            row["reserve_left_kg"] = row["reserve_kg"] - row["granted_kg"]
            zone_rows.append(row)
    sector_rows = []
    for s, name in enumerate(sectors):
        for j, p in enumerate(pols):
            if not (b.carried[s_idx == s, j]).any():
                continue
            sector_rows.append({"sector": name, "pollutant": p,
                                **{f: int(by_sector[f][s, j]) for f in FIGURES}})
    pol_rows = []
    for j, p in enumerate(pols):
        pol_rows.append({"pollutant": p,
                         "indicator_kg": int(np.maximum(r.indicator_kg[:, j], 0).sum()),
                         "reserve_kg": int(r.reserve_kg[:, j].sum()),
                         **{f: int(by_zone[f][:, j].sum()) for f in FIGURES}})
    binding_counts = {name: int(((r.binding == i) & b.carried).sum())
                      for i, name in enumerate(BASES)}
    out: dict[str, Any] = {
        "name": r.name, "year": b.year, "parameter_version": b.params.version,
        "facilities": b.n, "quantities": int(b.carried.sum()),
        "skipped_facilities": len(b.rows.skipped),
        "binding": binding_counts,
        "reserve_plan": {"status": r.reserve_status, "proven_optimal": r.reserve_proven_optimal,
                         "check_ok": r.reserve_check_ok, **r.reserve_detail},
        "alert": (None if r.changes.alert is None else
                  {"level": r.changes.alert[0], "days": r.changes.alert[1],
                   "cut_ratio": str(b.params.alert_cut_ratios[r.changes.alert[0]])}),
        "by_pollutant": pol_rows, "by_zone": zone_rows, "by_sector": sector_rows,
        "seconds": round(r.seconds, 4),
    }
    if permits:
        out["permits"] = [
            {"permit": b.permits[f], "pollutant": pols[j], "zone": b.zones[int(b.zone[f, j])],
             "spec_kg": int(r.spec_kg[f, j]), "eia_kg": None if b.eia_kg[f, j] < 0
             else int(b.eia_kg[f, j]), "share_kg": int(r.share_kg[f, j]),
             "cap_kg": int(r.cap_kg[f, j]), "permitted_kg": int(r.permitted_kg[f, j]),
             "binding": BASES[int(r.binding[f, j])] if r.binding[f, j] >= 0 else None,
             "granted_kg": int(r.granted_kg[f, j])}
            for f, j in zip(*np.nonzero(b.carried), strict=True)]
    return out


_KEYS_OF = {"by_pollutant": ("pollutant",), "by_zone": ("zone", "pollutant"),
            "by_sector": ("sector", "pollutant")}


def compare(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """Two summaries side by side: for every group row, a's and b's figures and b - a."""
    out: dict[str, Any] = {"a": a.get("name"), "b": b.get("name")}
    for section, keys in _KEYS_OF.items():
        rows_a = {tuple(r[k] for k in keys): r for r in a.get(section, [])}
        rows_b = {tuple(r[k] for k in keys): r for r in b.get(section, [])}
        merged = []
        for key in sorted(set(rows_a) | set(rows_b)):
            ra, rb = rows_a.get(key, {}), rows_b.get(key, {})
            row: dict[str, Any] = dict(zip(keys, key, strict=True))
            for fig in sorted({f for f in (*ra, *rb) if f.endswith("_kg")}):
                va, vb = int(ra.get(fig, 0)), int(rb.get(fig, 0))
                row[fig] = {"a": va, "b": vb, "delta": vb - va}
            merged.append(row)
        out[section] = merged
    out["reserve_plan"] = {"a": a.get("reserve_plan"), "b": b.get("reserve_plan")}
    return out


def deltas(base_summary: Mapping[str, Any], scenario_summary: Mapping[str, Any]
           ) -> dict[str, Any]:
    """Scenario minus baseline, by zone, sector and pollutant (only figures that changed)."""
    cmp = compare(base_summary, scenario_summary)
    out: dict[str, Any] = {}
    for section, keys in _KEYS_OF.items():
        rows = []
        for row in cmp[section]:
            changed = {f: v["delta"] for f, v in row.items()
                       if isinstance(v, dict) and v["delta"]}
            if changed:
                rows.append({**{k: row[k] for k in keys}, **changed})
        out[section] = rows
    return out


def run_json(base: Baseline, doc: Mapping[str, Any], *, permits: bool = False,
             solver: Any = None) -> dict[str, Any]:
    """Parse, run, summarise, and the deltas against the baseline run (cached per baseline)."""
    changes = parse_changes(doc, base.params)
    if changes.parameter_version and changes.parameter_version != base.params.version:
        raise _err(f"the baseline uses parameter version {base.params.version}",
                   "parameter_version")
    if changes.year is not None and changes.year != base.year:
        raise _err(f"the baseline is for {base.year}", "year")
    ref = baseline_summary(base, solver=solver)
    out = summary(run(base, changes, solver=solver), permits=permits)
    out["deltas"] = deltas(ref, out)
    return out


def baseline_summary(base: Baseline, *, solver: Any = None) -> dict[str, Any]:
    if "summary" not in base._cache:
        base._cache["summary"] = summary(run(base, Changes(), solver=solver))
    return base._cache["summary"]  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- construction


@dataclass(frozen=True)
class Quantity:
    """A stored permitted-quantity row of one facility, pollutant and year."""

    zone: str
    spec_kg: int
    eia_kg: int | None
    share_kg: int | None
    permitted_kg: int = 0


def build_baseline(year: int, params: ParameterSet, sites: Sequence[Any],
                   quantities: Sequence[Mapping[Pollutant, Quantity]],
                   indicators: Mapping[tuple[str, Pollutant], tuple[int, int]],
                   zones: Sequence[str] | None = None,
                   hours: Mapping[str, Decimal] | None = None) -> Baseline:
    """A `Baseline` from facilities (`allocation.facilities.Site`), each facility's quantities
    per pollutant, and indicators (zone, pollutant) -> (total kg, reserve percent)."""
    from allocation.facilities import derive

    if len(sites) != len(quantities):
        raise ValueError("one quantities mapping per site")
    used = {p for q in quantities for p in q} | {p for _, p in indicators}
    pollutants = tuple(p for p in Pollutant if p in used)
    zone_names = sorted(set(zones or ()) | {q.zone for qs in quantities for q in qs.values()}
                        | {z for z, _ in indicators})
    zi = {z: k for k, z in enumerate(zone_names)}
    pj = {p: j for j, p in enumerate(pollutants)}
    n, n_p = len(sites), len(pollutants)
    zone = np.full((n, n_p), -1, dtype=np.int64)
    eia = np.full((n, n_p), ABSENT, dtype=np.int64)
    share = np.full((n, n_p), ABSENT, dtype=np.int64)
    spec = np.full((n, n_p), ABSENT, dtype=np.int64)
    held = np.zeros((n, n_p), dtype=np.int64)
    for f, qs in enumerate(quantities):
        for p, q in qs.items():
            j = pj[p]
            zone[f, j] = zi[q.zone]
            spec[f, j] = q.spec_kg
            eia[f, j] = ABSENT if q.eia_kg is None else q.eia_kg
            share[f, j] = ABSENT if q.share_kg is None else q.share_kg
            held[f, j] = q.permitted_kg
    ind = np.full((len(zone_names), n_p), ABSENT, dtype=np.int64)
    pct = np.zeros((len(zone_names), n_p), dtype=np.int64)
    for (z, p), (total, r) in indicators.items():
        ind[zi[z], pj[p]] = total
        pct[zi[z], pj[p]] = r
    rows = derive(sites, params, hours)
    return Baseline(year=year, params=params, permits=tuple(s.permit for s in sites),
                    sectors=tuple(s.sector for s in sites), pollutants=pollutants,
                    zones=tuple(zone_names), zone=zone, eia_kg=eia, share_kg=share,
                    stored_spec_kg=spec, permitted_kg=held, indicator_kg=ind, reserve_pct=pct,
                    rows=rows)
