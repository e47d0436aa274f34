"""Versioned parameter tables for permitted-quantity calculations.

Every number a calculation sheet uses (concentration limits, base exhaust volumes, performance
values, utilisation hours, empirical coefficients, alert cut ratios, the EIA cut-off date) lives
in a JSON table under ``allocation/params/<version>.json``, never in code. A table has a version
string (``"2025.1"``) and the date from which it is in force; `get_parameters` picks one by
version or by date. Values are `Decimal` (read from JSON strings, so never via float).

Entries whose source could not be read in full carry ``"verify": true`` in the table; they are
listed by `ParameterSet.unverified` so that a screen or report can show them.

Tables from 2025.2 on may also carry (all optional, so 2025.1 parses and computes unchanged):

- ``regions``: the province the bureau's facilities lie in and its areas (``key``: the key
  control area where special emission limits apply; ``general``), with the default area;
- per limit source: ``special`` limits (特别排放限值, key areas), ``provincial`` exceptions
  that replace the national limit in listed provinces (GB 13223 / GB 13271 high-sulphur-coal
  notes), and ``local_standards`` (DB50 series) scoped to areas;
- per process: its ``product`` (the tonnes a base exhaust volume is per) and its ``outlet``
  class (``main`` carries a quantity, ``general`` a concentration limit only);
- ``performance_bands``: thermal-power performance values by unit-capacity band and column
  (``general``, ``key``, ``high_sulphur``, ``ultra_low``).

`national_limit`, `local_limit` and `performance_row` are the one place these are chosen, so
the calculation sheet and the vectorised facility rows pick the same row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Any

from allocation.errors import UnknownParameterVersion
from kernel.pollutants import Pollutant

STANDARD_KINDS = ("national", "local", "ultra_low")
ALERT_LEVELS = ("yellow", "orange", "red")
OUTLET_CLASSES = ("main", "general")
PERFORMANCE_COLUMNS = ("general", "key", "high_sulphur", "ultra_low")


@dataclass(frozen=True)
class ProvincialLimit:
    """National limits that replace the ordinary ones in the listed provinces."""

    provinces: frozenset[str]
    limits: Mapping[Pollutant, Decimal]
    reference: str
    verify: bool = False


@dataclass(frozen=True)
class LocalStandard:
    """A local (provincial) standard's limits for one source, in the listed areas."""

    reference: str
    areas: frozenset[str]
    limits: Mapping[Pollutant, Decimal]
    verify: bool = False
    note: str = ""


@dataclass(frozen=True)
class PerformanceBand:
    """One unit-capacity band of the performance table: min_mw <= unit < max_mw."""

    id: str
    min_mw: Decimal
    max_mw: Decimal | None
    values: Mapping[str, Mapping[Pollutant, Decimal]]  # column -> pollutant -> g/kWh

    def contains(self, unit_mw: Decimal) -> bool:
        return unit_mw >= self.min_mw and (self.max_mw is None or unit_mw < self.max_mw)


@dataclass(frozen=True)
class Regions:
    """Where the bureau's facilities lie: the province and its areas (key / general)."""

    province: str
    default_area: str
    areas: Mapping[str, bool]  # area -> special emission limits apply there
    reference: str = ""
    verify: bool = False


@dataclass(frozen=True)
class LimitSource:
    """Concentration limits of one kind of source (mg/Nm3 for air, mg/L for water)."""

    name: str
    medium: str
    reference: str
    limits: Mapping[str, Mapping[Pollutant, Decimal]]  # kind -> pollutant -> limit
    verify: bool = False
    special: Mapping[Pollutant, Decimal] = field(default_factory=dict)
    special_reference: str = ""
    provincial: tuple[ProvincialLimit, ...] = ()
    local_standards: tuple[LocalStandard, ...] = ()

    def limit(self, kind: str, pollutant: Pollutant) -> Decimal | None:
        return self.limits.get(kind, {}).get(pollutant)


@dataclass(frozen=True)
class Process:
    """A steel or cement process line: base exhaust volume and the limits that apply to it."""

    name: str
    base_exhaust_nm3_per_t: Decimal
    source: str
    pollutants: tuple[Pollutant, ...]
    reference: str = ""
    verify: bool = False
    product: str | None = None  # what the base volume is per tonne of (None: not stated)
    outlet: str = "main"  # main: carries a quantity; general: concentration limit only


@dataclass(frozen=True)
class ParameterSet:
    version: str
    effective: date
    title: str
    sectors: tuple[str, ...]
    ultra_low_sectors: frozenset[str]
    eia_basis_from: date
    default_pollutants: Mapping[str, tuple[Pollutant, ...]]
    sources: Mapping[str, LimitSource]
    default_sources: Mapping[str, Mapping[str, str]]
    processes: Mapping[str, Mapping[str, Process]]
    performance_values: Mapping[str, Mapping[Pollutant, Decimal]]
    utilisation_hours: Mapping[str, Decimal]
    gas_slope: Decimal
    gas_intercept: Decimal
    heat_kwh_per_mj: Decimal
    heat_equivalence: Decimal
    alert_cut_ratios: Mapping[str, Decimal]
    unverified: tuple[str, ...] = field(default=())
    regions: Regions | None = None
    performance_bands: tuple[PerformanceBand, ...] = ()
    performance_reference: str = ""
    #: provinces whose coal-fired power units use the performance table's high_sulphur column
    high_sulphur_provinces: frozenset[str] = frozenset()

    def source_for(self, sector: str, method: str) -> str | None:
        """The default limit source of an outlet of `method` in `sector` (None if none)."""
        specific = self.default_sources.get(sector, {})
        if method in specific:
            return specific[method]
        return self.default_sources.get("*", {}).get(method)

    def uses_ultra_low(self, sector: str) -> bool:
        return sector in self.ultra_low_sectors

    def alert_cap_kg(self, quantity_kg: int, level: str) -> int:
        """A heavy-pollution cap: `quantity_kg` cut by at least the level's ratio (floor)."""
        ratio = self.alert_cut_ratios[level]
        # floor((1 - r) * q) in exact arithmetic: the cut is "at least" the ratio.
        keep = (Decimal(1) - ratio) * quantity_kg
        return int(keep.to_integral_value(rounding=ROUND_FLOOR))


@dataclass(frozen=True)
class ChosenLimit:
    """A limit and the row of the standard it comes from (shown on the sheet)."""

    value: Decimal
    row: str
    verify: bool = False


def area_of(params: ParameterSet, area: str | None) -> str | None:
    """The area a facility is in (the table's default when not given); None: no regions."""
    if params.regions is None:
        return None
    return area if area is not None else params.regions.default_area


def province_of(params: ParameterSet, province: str | None) -> str | None:
    if params.regions is None:
        return province
    return province if province is not None else params.regions.province


def national_limit(params: ParameterSet, source: LimitSource, p: Pollutant,
                   area: str | None = None, province: str | None = None) -> ChosenLimit | None:
    """The national standard's limit for a facility in `area` of `province`.

    Key areas (special emission limits) use the source's ``special`` row where it has one;
    otherwise a provincial exception (high-sulphur coal) replaces the ordinary limit in the
    provinces it lists; otherwise the ordinary limit. Tables without regions: the ordinary
    limit (2025.1 behaviour).
    """
    ordinary = source.limit("national", p)
    if params.regions is None:
        return None if ordinary is None else ChosenLimit(ordinary, "national")
    area = area_of(params, area)
    province = province_of(params, province)
    if params.regions.areas.get(area or "", False) and p in source.special:
        return ChosenLimit(source.special[p], f"special limits, {area} area "
                           f"({source.special_reference or source.reference})", source.verify)
    for exc in source.provincial:
        if province in exc.provinces and p in exc.limits:
            return ChosenLimit(exc.limits[p], f"{exc.reference} ({province})", exc.verify)
    if ordinary is None:
        return None
    return ChosenLimit(ordinary, f"national ({source.reference})", source.verify)


def local_limit(params: ParameterSet, source: LimitSource, p: Pollutant,
                area: str | None = None) -> ChosenLimit | None:
    """The strictest local-standard limit for the facility's area (None: no local limit).

    A ``local`` limit put into the source's limits (a scenario or standard change) counts
    everywhere; a table's ``local_standards`` count in the areas they list.
    """
    found: list[ChosenLimit] = []
    direct = source.limit("local", p)
    if direct is not None:
        found.append(ChosenLimit(direct, "local"))
    area = area_of(params, area)
    for std in source.local_standards:
        if p in std.limits and (area in std.areas or "*" in std.areas):
            found.append(ChosenLimit(std.limits[p], f"{std.reference} ({area} area)", std.verify))
    return min(found, key=lambda c: c.value) if found else None


def band_for(params: ParameterSet, unit_mw: Decimal) -> PerformanceBand | None:
    for band in params.performance_bands:
        if band.contains(unit_mw):
            return band
    return None


def performance_column(params: ParameterSet, ultra_low: bool, area: str | None = None,
                       province: str | None = None) -> str:
    """Which column of the performance table applies: ultra-low sectors use ``ultra_low``;
    a key area ``key`` (special limits); a high-sulphur province ``high_sulphur``."""
    if ultra_low:
        return "ultra_low"
    area = area_of(params, area)
    if params.regions is not None and params.regions.areas.get(area or "", False):
        return "key"
    if province_of(params, province) in params.high_sulphur_provinces:
        return "high_sulphur"
    return "general"


def performance_row(params: ParameterSet, unit_mw: Decimal, ultra_low: bool,
                    area: str | None = None, province: str | None = None
                    ) -> tuple[str, str, Mapping[Pollutant, Decimal]] | None:
    """(band id, column, GPS per pollutant) for a unit of `unit_mw`; None without bands."""
    if not params.performance_bands:
        return None
    band = band_for(params, unit_mw)
    if band is None:  # pragma: no cover - parse_parameter_set checks coverage from 0
        raise ValueError(f"no performance band for {unit_mw} MW")
    column = performance_column(params, ultra_low, area, province)
    return band.id, column, band.values[column]


def changed_limits(old: ParameterSet, new: ParameterSet) -> list[dict[str, object]]:
    """Concentration limits that differ between two tables.

    A permit whose sheet used one of these must be flagged and recomputed before `new` takes
    effect. Each row: source, kind, pollutant, old and new limit (None where absent).
    """
    rows: list[dict[str, object]] = []
    for name in sorted(set(old.sources) | set(new.sources)):
        a, b = old.sources.get(name), new.sources.get(name)
        for kind in STANDARD_KINDS:
            for p in Pollutant:
                va = a.limit(kind, p) if a else None
                vb = b.limit(kind, p) if b else None
                if va != vb:
                    rows.append(
                        {"source": name, "kind": kind, "pollutant": p.value,
                         "old": None if va is None else str(va),
                         "new": None if vb is None else str(vb)}
                    )
    return rows


# --------------------------------------------------------------------------- loading


def _dec(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{where}: expected a decimal string, got {value!r}")
    try:
        d = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"{where}: not a decimal: {value!r}") from exc
    if not d.is_finite() or d < 0:
        raise ValueError(f"{where}: must be a finite non-negative decimal")
    return d


def _pollutant_map(raw: Mapping[str, Any], where: str) -> dict[Pollutant, Decimal]:
    return {Pollutant(k): _dec(v, f"{where}.{k}") for k, v in raw.items()}


def parse_parameter_set(raw: Mapping[str, Any]) -> ParameterSet:
    """Build a `ParameterSet` from its JSON form; raises ValueError on a malformed table."""
    unverified: list[str] = []
    regions = _regions(raw.get("regions"), unverified)
    sources: dict[str, LimitSource] = {}
    for name, s in raw["concentration_limits"].items():
        where = f"concentration_limits.{name}"
        limits = {
            kind: _pollutant_map(s.get(kind, {}), f"{where}.{kind}") for kind in STANDARD_KINDS
        }
        if s.get("verify"):
            unverified.append(where)
        provincial = []
        for i, e in enumerate(s.get("provincial", [])):
            if e.get("verify"):
                unverified.append(f"{where}.provincial[{i}]")
            provincial.append(ProvincialLimit(
                frozenset(e["provinces"]), _pollutant_map(e["national"], f"{where}.provincial"),
                e.get("reference", ""), bool(e.get("verify"))))
        local_standards = []
        for i, e in enumerate(s.get("local_standards", [])):
            areas = frozenset(e["areas"])
            if regions is None or not areas <= (set(regions.areas) | {"*"}):
                raise ValueError(f"{where}.local_standards[{i}].areas: unknown area")
            if e.get("verify"):
                unverified.append(f"{where}.local_standards[{i}]")
            local_standards.append(LocalStandard(
                e["reference"], areas, _pollutant_map(e.get("limits", {}), f"{where}.local"),
                bool(e.get("verify")), e.get("note", "")))
        sources[name] = LimitSource(
            name=name, medium=s["medium"], reference=s.get("reference", ""),
            limits=limits, verify=bool(s.get("verify")),
            special=_pollutant_map(s.get("special", {}), f"{where}.special"),
            special_reference=s.get("special_reference", ""),
            provincial=tuple(provincial), local_standards=tuple(local_standards),
        )
    processes: dict[str, dict[str, Process]] = {}
    for sector, table in raw["processes"].items():
        processes[sector] = {}
        for name, p in table.items():
            where = f"processes.{sector}.{name}"
            if p["source"] not in sources:
                raise ValueError(f"{where}: unknown source {p['source']!r}")
            if p.get("verify"):
                unverified.append(where)
            outlet = p.get("outlet", "main")
            if outlet not in OUTLET_CLASSES:
                raise ValueError(f"{where}.outlet: must be one of {', '.join(OUTLET_CLASSES)}")
            processes[sector][name] = Process(
                name=name,
                base_exhaust_nm3_per_t=_dec(p["base_exhaust_nm3_per_t"], where),
                source=p["source"],
                pollutants=tuple(Pollutant(x) for x in p["pollutants"]),
                reference=p.get("reference", ""),
                verify=bool(p.get("verify")),
                product=p.get("product"),
                outlet=outlet,
            )
    for sector, table in raw["default_sources"].items():
        for method, source in table.items():
            if source not in sources:
                raise ValueError(f"default_sources.{sector}.{method}: unknown {source!r}")
    perf = raw["performance_values_g_per_kwh"]
    if perf.get("verify"):
        unverified.append("performance_values_g_per_kwh")
    bands = _bands(perf.get("bands", []))
    if bands:
        # callers that do not know the unit's capacity get the smallest band's row
        lowest = bands[0].values
        perf = {**perf, "national": {p.value: str(v) for p, v in lowest["general"].items()},
                "ultra_low": {p.value: str(v) for p, v in lowest["ultra_low"].items()}}
    gas = raw["gas_flue_gas_empirical"]
    heat = raw["heat_to_power"]
    alerts = {k: _dec(v, f"alert_cut_ratios.{k}") for k, v in raw["alert_cut_ratios"].items()}
    if set(alerts) != set(ALERT_LEVELS) or any(r > 1 for r in alerts.values()):
        raise ValueError("alert_cut_ratios: need yellow, orange and red ratios in [0, 1]")
    return ParameterSet(
        version=str(raw["version"]),
        effective=date.fromisoformat(raw["effective"]),
        title=raw.get("title", ""),
        sectors=tuple(raw["sectors"]),
        ultra_low_sectors=frozenset(raw["ultra_low_sectors"]),
        eia_basis_from=date.fromisoformat(raw["eia_basis_from"]),
        default_pollutants={
            medium: tuple(Pollutant(x) for x in xs)
            for medium, xs in raw["default_pollutants"].items()
        },
        sources=sources,
        default_sources={k: dict(v) for k, v in raw["default_sources"].items()},
        processes=processes,
        performance_values={
            kind: _pollutant_map(perf[kind], f"performance_values_g_per_kwh.{kind}")
            for kind in ("national", "ultra_low")
        },
        utilisation_hours={
            k: _dec(v, f"utilisation_hours.{k}") for k, v in raw["utilisation_hours"].items()
        },
        gas_slope=_dec(gas["slope"], "gas_flue_gas_empirical.slope"),
        gas_intercept=_dec(gas["intercept"], "gas_flue_gas_empirical.intercept"),
        heat_kwh_per_mj=_dec(heat["kwh_per_mj"], "heat_to_power.kwh_per_mj"),
        heat_equivalence=_dec(heat["equivalence"], "heat_to_power.equivalence"),
        alert_cut_ratios=alerts,
        unverified=tuple(unverified),
        regions=regions,
        performance_bands=bands,
        performance_reference=str(perf.get("reference", "")),
        high_sulphur_provinces=frozenset(perf.get("high_sulphur_provinces", [])),
    )


def _regions(raw: Mapping[str, Any] | None, unverified: list[str]) -> Regions | None:
    if raw is None:
        return None
    areas = {name: bool(a.get("special_limits")) for name, a in raw["areas"].items()}
    if raw["default_area"] not in areas:
        raise ValueError("regions.default_area: not one of regions.areas")
    if raw.get("verify"):
        unverified.append("regions")
    return Regions(province=raw["province"], default_area=raw["default_area"], areas=areas,
                   reference=raw.get("reference", ""), verify=bool(raw.get("verify")))


def _bands(raw: Iterable[Mapping[str, Any]]) -> tuple[PerformanceBand, ...]:
    """Bands sorted by lower bound; they must start at 0 MW and not overlap (each band runs
    up to the next band's lower bound)."""
    rows = sorted(raw, key=lambda b: _dec(b["min_mw"], f"bands.{b.get('id')}.min_mw"))
    out: list[PerformanceBand] = []
    for i, b in enumerate(rows):
        where = f"performance_values_g_per_kwh.bands.{b['id']}"
        low = _dec(b["min_mw"], f"{where}.min_mw")
        high = _dec(rows[i + 1]["min_mw"], where) if i + 1 < len(rows) else None
        if i == 0 and low != 0:
            raise ValueError(f"{where}.min_mw: the lowest band must start at 0 MW")
        if high is not None and high <= low:
            raise ValueError(f"{where}.min_mw: bands overlap")
        values = {}
        for column in PERFORMANCE_COLUMNS:
            if column not in b:
                raise ValueError(f"{where}.{column}: missing column")
            values[column] = _pollutant_map(b[column], f"{where}.{column}")
        out.append(PerformanceBand(str(b["id"]), low, high, values))
    return tuple(out)


@lru_cache(maxsize=1)
def bundled_parameter_sets() -> tuple[ParameterSet, ...]:
    """All tables shipped under ``allocation/params``, oldest first."""
    folder = resources.files("allocation").joinpath("params")
    sets = []
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            sets.append(parse_parameter_set(json.loads(entry.read_text(encoding="utf-8"))))
    return tuple(sorted(sets, key=lambda s: (s.effective, s.version)))


def select_parameters(
    sets: Iterable[ParameterSet], version: str | None = None, on: date | None = None
) -> ParameterSet:
    """The table with `version`, else the newest in force on `on` (effective <= on).

    With both, the named version must also be in force on `on`.
    """
    ordered = sorted(sets, key=lambda s: (s.effective, s.version))
    if version is not None:
        for s in ordered:
            if s.version == version:
                if on is not None and s.effective > on:
                    raise UnknownParameterVersion(
                        f"parameter version {version} is in force only from {s.effective}",
                        field="parameter_version",
                    )
                return s
        known = ", ".join(s.version for s in ordered)
        raise UnknownParameterVersion(
            f"no parameter version {version!r} (known: {known})", field="parameter_version"
        )
    if on is None:
        on = date.today()
    in_force = [s for s in ordered if s.effective <= on]
    if not in_force:
        raise UnknownParameterVersion(f"no parameter table in force on {on}", field="on")
    return in_force[-1]


def get_parameters(version: str | None = None, on: date | None = None) -> ParameterSet:
    """A bundled table by version, or the one in force on `on` (default: today)."""
    return select_parameters(bundled_parameter_sets(), version, on)


# --------------------------------------------------------------------------- changes


def with_changes(
    params: ParameterSet,
    *,
    limits: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
    ultra_low_sectors: Iterable[str] | None = None,
    utilisation_hours: Mapping[str, Decimal] | None = None,
    label: str = "changed",
) -> ParameterSet:
    """A copy of `params` with concentration limits replaced, sectors added to the ultra-low
    set and/or utilisation hours replaced; the copy's version is ``<version>+<label>``.

    ``limits``: source -> kind (national | local | ultra_low) -> pollutant -> decimal text
    (None removes the limit). Unknown sources, kinds or pollutants raise ValueError naming the
    path, so callers can turn them into a rejection naming the field.
    """
    from dataclasses import replace

    sources = dict(params.sources)
    for name, kinds in (limits or {}).items():
        if name not in sources:
            raise ValueError(f"limits.{name}: unknown source")
        src = sources[name]
        new_limits = {k: dict(v) for k, v in src.limits.items()}
        for kind, values in kinds.items():
            if kind not in STANDARD_KINDS:
                raise ValueError(f"limits.{name}.{kind}: kind must be one of "
                                 f"{', '.join(STANDARD_KINDS)}")
            if not isinstance(values, Mapping):
                raise ValueError(f"limits.{name}.{kind}: must be an object")
            for key, value in values.items():
                where = f"limits.{name}.{kind}.{key}"
                try:
                    p = Pollutant(key)
                except ValueError:
                    raise ValueError(f"{where}: unknown pollutant") from None
                if value is None:
                    new_limits.setdefault(kind, {}).pop(p, None)
                else:
                    new_limits.setdefault(kind, {})[p] = _dec(value, where)
        sources[name] = replace(src, limits=new_limits)
    ultra = params.ultra_low_sectors
    if ultra_low_sectors is not None:
        extra = frozenset(ultra_low_sectors)
        unknown = sorted(extra - set(params.sectors))
        if unknown:
            raise ValueError(f"ultra_low_sectors: unknown sector {unknown[0]!r}")
        ultra = ultra | extra
    hours = dict(params.utilisation_hours)
    if utilisation_hours:
        hours.update(utilisation_hours)
    return replace(params, version=f"{params.version}+{label}", sources=sources,
                   ultra_low_sectors=ultra, utilisation_hours=hours)
