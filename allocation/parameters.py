"""Versioned parameter tables for permitted-quantity calculations.

Every number a calculation sheet uses (concentration limits, base exhaust volumes, performance
values, utilisation hours, empirical coefficients, alert cut ratios, the EIA cut-off date) lives
in a JSON table under ``allocation/params/<version>.json``, never in code. A table has a version
string (``"2025.1"``) and the date from which it is in force; `get_parameters` picks one by
version or by date. Values are `Decimal` (read from JSON strings, so never via float).

Entries whose source could not be read in full carry ``"verify": true`` in the table; they are
listed by `ParameterSet.unverified` so that a screen or report can show them.
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


@dataclass(frozen=True)
class LimitSource:
    """Concentration limits of one kind of source (mg/Nm3 for air, mg/L for water)."""

    name: str
    medium: str
    reference: str
    limits: Mapping[str, Mapping[Pollutant, Decimal]]  # kind -> pollutant -> limit
    verify: bool = False

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
    sources: dict[str, LimitSource] = {}
    for name, s in raw["concentration_limits"].items():
        limits = {
            kind: _pollutant_map(s.get(kind, {}), f"concentration_limits.{name}.{kind}")
            for kind in STANDARD_KINDS
        }
        if s.get("verify"):
            unverified.append(f"concentration_limits.{name}")
        sources[name] = LimitSource(
            name=name, medium=s["medium"], reference=s.get("reference", ""),
            limits=limits, verify=bool(s.get("verify")),
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
            processes[sector][name] = Process(
                name=name,
                base_exhaust_nm3_per_t=_dec(p["base_exhaust_nm3_per_t"], where),
                source=p["source"],
                pollutants=tuple(Pollutant(x) for x in p["pollutants"]),
                reference=p.get("reference", ""),
                verify=bool(p.get("verify")),
            )
    for sector, table in raw["default_sources"].items():
        for method, source in table.items():
            if source not in sources:
                raise ValueError(f"default_sources.{sector}.{method}: unknown {source!r}")
    perf = raw["performance_values_g_per_kwh"]
    if perf.get("verify"):
        unverified.append("performance_values_g_per_kwh")
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
    )


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
