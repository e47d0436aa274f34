"""Calculation sheets: the permitted quantity of one facility, pollutant by pollutant.

`compute_sheet` takes a JSON-shaped document and returns a JSON-able dict. For each pollutant
it computes every candidate basis (DOMAIN.md §2) and names the binding one:

- ``specification``: technical-specification calculation, outlet by outlet, summed;
- ``eia``: the EIA approval quantity, counted only for approvals dated on or after the
  parameter table's ``eia_basis_from`` (2015-01-01);
- ``indicator_share``: the enterprise's share of the total-control indicator.

Guarantees:
- arithmetic is exact (`Decimal`, never float); each outlet's quantity is quantised once,
  half-even, to whole kilograms, and the specification basis is the integer sum of the outlet
  quantities, so the outlet lines printed on a permit add up to its total;
- the permitted quantity is the smallest candidate (ties: specification, eia, indicator_share);
- for concentration methods, C is the strictest of the national standard, the local standard,
  the ultra-low limit (sectors that must use it) and any voluntary commitment, and the sheet
  says which (ties: ultra_low, local, national, commitment);
- any bad input raises `SheetError` whose ``field`` is the JSON path of the offending value.

Methods and formulas (E in tonnes per year):

==========================  ==================================================================
``coal_boiler``/``oil_boiler``  E = R[t fuel] × V[Nm3/kg] × C[mg/Nm3] × 1e-6 (V given)
``gas_boiler``              E = R[1e4 Nm3] × V[Nm3/Nm3] × C × 1e-5; V given, or empirical
                            V = slope × Qnet[MJ/Nm3] + intercept (0.285, 0.343)
``thermal_power_performance``  E = (CAP[MW] × h + D[kWh]/1000) × GPS[g/kWh] × 1e-3;
                            heat supply H[MJ] → D = H × 0.278 × 0.3
``steel_process``/``cement_process``  E = P[t product] × Vb[Nm3/t] × C × 1e-9
                            (Vb from the process table unless given)
``wastewater``              E = Q[m3] × C[mg/L] × 1e-6
``direct``                  E given per pollutant (``quantities_t``)
==========================  ==================================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, Inexact, InvalidOperation, localcontext
from typing import Any

from allocation.errors import SheetError
from allocation.parameters import (
    ParameterSet,
    area_of,
    get_parameters,
    local_limit,
    national_limit,
    performance_row,
    province_of,
)
from kernel.pollutants import Pollutant, find_pollutant
from kernel.quantities import kg_to_tonnes

METHODS = (
    "coal_boiler",
    "oil_boiler",
    "gas_boiler",
    "thermal_power_performance",
    "steel_process",
    "cement_process",
    "wastewater",
    "direct",
)
BASES = ("specification", "eia", "indicator_share")
# Inputs are limited so that every product below is exact in a 100-digit decimal context.
MAX_DIGITS = 24
MAX_MAGNITUDE = 15  # below 1e16 in the input's unit
_PRECISION = 100
CONCENTRATION_PRECEDENCE = ("ultra_low", "local", "national", "commitment")

_WATER_METHODS = frozenset({"wastewater"})
_PROCESS_SECTOR = {"steel_process": "steel", "cement_process": "cement"}

# Unit conversions to the unit each formula expects (definitions of units, not parameters).
_D = Decimal
UNITS: dict[str, dict[str, Decimal]] = {
    "fuel_mass": {"t": _D(1), "kt": _D(1000)},  # -> t
    "gas_volume": {"1e4Nm3": _D(1), "Nm3": _D("0.0001"), "1e8Nm3": _D(10000)},  # -> 1e4 Nm3
    "production": {"t": _D(1), "kt": _D(1000), "1e4t": _D(10000)},  # -> t
    "capacity": {"MW": _D(1), "kW": _D("0.001"), "GW": _D(1000)},  # -> MW
    "heat": {"MJ": _D(1), "GJ": _D(1000)},  # -> MJ
    "power": {"kWh": _D(1), "MWh": _D(1000), "1e4kWh": _D(10000)},  # -> kWh
    "water": {"m3": _D(1), "1e4m3": _D(10000)},  # -> m3
    "hours": {"h": _D(1)},
    "qnet": {"MJ/Nm3": _D(1), "kJ/Nm3": _D("0.001")},  # -> MJ/Nm3
    "specific_flue_gas_mass": {"Nm3/kg": _D(1), "Nm3/t": _D("0.001")},  # -> Nm3/kg
    "specific_flue_gas_volume": {"Nm3/Nm3": _D(1)},
    "specific_exhaust": {"Nm3/t": _D(1)},
}

_SHEET_KEYS = frozenset({
    "sector", "parameter_version", "pollutants", "applicable_standards", "commitments",
    "eia", "indicator_share", "outlets", "area", "province",
    # metadata, carried but not used
    "id", "name", "enterprise", "credit_code", "permit_code", "year", "zone", "notes", "meta",
})
_OUTLET_COMMON = frozenset({
    "id", "method", "pollutants", "source", "applicable_standards", "commitments",
    "name", "notes",
})
_OUTLET_KEYS: dict[str, frozenset[str]] = {
    "coal_boiler": frozenset({"fuel", "fuel_unit", "flue_gas_volume", "flue_gas_volume_unit"}),
    "oil_boiler": frozenset({"fuel", "fuel_unit", "flue_gas_volume", "flue_gas_volume_unit"}),
    "gas_boiler": frozenset(
        {"fuel", "fuel_unit", "flue_gas_volume", "flue_gas_volume_unit", "qnet", "qnet_unit"}
    ),
    "thermal_power_performance": frozenset({
        "capacity", "capacity_unit", "hours", "hours_unit", "hours_basis", "heat_supply",
        "heat_supply_unit", "gps_g_per_kwh", "unit_capacity", "unit_capacity_unit",
    }),
    "steel_process": frozenset({"process", "production", "production_unit", "product",
                                "exhaust_volume", "exhaust_volume_unit"}),
    "cement_process": frozenset({"process", "production", "production_unit", "product",
                                 "exhaust_volume", "exhaust_volume_unit"}),
    "wastewater": frozenset({"water", "water_unit"}),
    "direct": frozenset({"quantities_t"}),
}
_OUTLET_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")
_PROVINCE = re.compile(r"^[a-z_]{2,32}$")


# --------------------------------------------------------------------------- parsing helpers


def _number(value: Any, field: str) -> Decimal:
    """A finite, non-negative decimal from a JSON string, int or float."""
    if value is None:
        raise SheetError(f"{field} is missing", field=field)
    if isinstance(value, bool):
        raise SheetError(f"{field} must be a number, got {value!r}", field=field)
    if isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, float):
        # A JSON number: take its shortest round-tripping decimal text, never the binary value.
        d = Decimal(repr(value)) if value == value and abs(value) != float("inf") else _D("NaN")
    elif isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            raise SheetError(f"{field} must be a number, got {value!r}", field=field) from None
    else:
        raise SheetError(f"{field} must be a number, got {value!r}", field=field)
    if not d.is_finite():
        raise SheetError(f"{field} must be a finite number", field=field)
    if d < 0:
        raise SheetError(f"{field} must not be negative", field=field)
    if len(d.as_tuple().digits) > MAX_DIGITS or d.adjusted() > MAX_MAGNITUDE:
        raise SheetError(
            f"{field} has more than {MAX_DIGITS} significant digits or is too large", field=field
        )
    return d


def _whole_kg(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SheetError(f"{field} must be a whole number of kg", field=field)
    d = _number(value, field)
    if d != d.to_integral_value():
        raise SheetError(f"{field} must be a whole number of kg", field=field)
    return int(d)


def _mapping(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SheetError(f"{field} must be a JSON object", field=field)
    return value


def _pollutant(text: Any, field: str) -> Pollutant:
    found = find_pollutant(text)
    if found is None:
        raise SheetError(f"unknown pollutant {text!r}", field=field)
    return found


def _pollutant_values(raw: Any, field: str) -> dict[Pollutant, Decimal]:
    out: dict[Pollutant, Decimal] = {}
    for key, v in _mapping(raw, field).items():
        p = _pollutant(key, f"{field}.{key}")
        out[p] = _number(v, f"{field}.{key}")
    return out


def _pollutant_list(raw: Any, field: str) -> list[Pollutant]:
    if not isinstance(raw, list) or not raw:
        raise SheetError(f"{field} must be a non-empty list of pollutants", field=field)
    out: list[Pollutant] = []
    for i, x in enumerate(raw):
        p = _pollutant(x, f"{field}[{i}]")
        if p in out:
            raise SheetError(f"{p.value} listed twice", field=f"{field}[{i}]")
        out.append(p)
    return out


def _quantity(o: Mapping[str, Any], key: str, kind: str, default_unit: str, at: str) -> Decimal:
    """o[key] in o[key + '_unit'] (default `default_unit`), converted to the formula's unit."""
    unit = o.get(f"{key}_unit", default_unit)
    table = UNITS[kind]
    if unit not in table:
        known = ", ".join(table)
        raise SheetError(
            f"unknown unit {unit!r} for {key} (use one of: {known})", field=f"{at}.{key}_unit"
        )
    return _number(o.get(key), f"{at}.{key}") * table[unit]


def _to_kg(t: Decimal) -> int:
    """Exact tonnes to whole kilograms, half-even: the one quantisation of a formula."""
    with localcontext() as dc:
        dc.traps[Inexact] = False  # the one deliberate rounding
        return int((t * 1000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _t(kg: int) -> str:
    return str(kg_to_tonnes(kg))


def _plain(d: Decimal) -> str:
    """A decimal as plain text without exponent or trailing zeros."""
    if d == d.to_integral_value():
        return str(d.quantize(Decimal(1)))
    return format(d.normalize(), "f")


def _candidate(kg: int) -> dict[str, Any]:
    return {"t": _t(kg), "kg": kg}


# --------------------------------------------------------------------------- standards


class _Standards:
    """National/local overrides and commitments, per pollutant, at one level of the sheet."""

    def __init__(self, owner: Mapping[str, Any], at: str) -> None:
        prefix = f"{at}." if at else ""
        self.national: dict[Pollutant, Decimal] = {}
        self.local: dict[Pollutant, Decimal] = {}
        raw = owner.get("applicable_standards")
        if raw is not None:
            for kind, values in _mapping(raw, f"{prefix}applicable_standards").items():
                where = f"{prefix}applicable_standards.{kind}"
                if kind == "national":
                    self.national = _pollutant_values(values, where)
                elif kind == "local":
                    self.local = _pollutant_values(values, where)
                else:
                    raise SheetError(
                        f"unknown standard kind {kind!r} (use national or local; ultra-low "
                        "limits come from the parameter table)",
                        field=where,
                    )
        raw_c = owner.get("commitments")
        self.commitments = (
            _pollutant_values(raw_c, f"{prefix}commitments") if raw_c is not None else {}
        )


class _Context:
    def __init__(self, params: ParameterSet, sector: str, facility: _Standards,
                 area: str | None = None, province: str | None = None) -> None:
        self.params = params
        self.sector = sector
        self.facility = facility
        self.verify: set[str] = set()
        # tables with regions (2025.2 on) choose rows by area and province and say which
        self.detailed = params.regions is not None
        self.area = area_of(params, area)
        self.province = province_of(params, province)

    def concentration(
        self, source_name: str, p: Pollutant, outlet: _Standards, at: str
    ) -> tuple[Decimal, str, dict[str, str], dict[str, str]]:
        """(C, which kind binds, every candidate, the standard row of each) for one outlet
        and pollutant."""
        source = self.params.sources[source_name]
        if source.verify:
            self.verify.add(f"concentration_limits.{source_name}")
        found: dict[str, Decimal] = {}
        rows: dict[str, str] = {}
        national = outlet.national.get(p, self.facility.national.get(p))
        if national is not None:
            rows["national"] = "given on the sheet"
        else:
            chosen = national_limit(self.params, source, p, self.area, self.province)
            if chosen is not None:
                national, rows["national"] = chosen.value, chosen.row
        if national is not None:
            found["national"] = national
        local = outlet.local.get(p, self.facility.local.get(p))
        if local is not None:
            rows["local"] = "given on the sheet"
        else:
            chosen = local_limit(self.params, source, p, self.area)
            if chosen is not None:
                local, rows["local"] = chosen.value, chosen.row
        for i, std in enumerate(source.local_standards):
            if self.area in std.areas or "*" in std.areas:
                if std.verify:
                    self.verify.add(f"concentration_limits.{source_name}.local_standards[{i}]")
                if p not in std.limits:
                    rows.setdefault("local_not_entered", std.reference)
        for i, exc in enumerate(source.provincial):
            if exc.verify and self.province in exc.provinces:
                self.verify.add(f"concentration_limits.{source_name}.provincial[{i}]")
        if local is not None:
            found["local"] = local
        if self.params.uses_ultra_low(self.sector):
            ultra = source.limit("ultra_low", p)
            if ultra is not None:
                found["ultra_low"] = ultra
        commitment = outlet.commitments.get(p, self.facility.commitments.get(p))
        if commitment is not None:
            found["commitment"] = commitment
        if not found:
            raise SheetError(
                f"no concentration limit for {p.value} at source {source_name!r}: give "
                f"applicable_standards.national.{p.value}",
                field=f"{at}.applicable_standards.national.{p.value}",
            )
        if "ultra_low" in found:
            rows["ultra_low"] = f"ultra-low limit ({self.sector} must use it)"
        if "commitment" in found:
            rows["commitment"] = "voluntary commitment on the permit"
        best = min(found.values())
        kind = next(k for k in CONCENTRATION_PRECEDENCE if found.get(k) == best)
        return best, kind, {k: _plain(v) for k, v in found.items()}, rows


# --------------------------------------------------------------------------- outlets

_Lines = dict[Pollutant, dict[str, Any]]


def _outlet_pollutants(
    o: Mapping[str, Any], at: str, medium: str, ctx: _Context,
    sheet_pollutants: list[Pollutant] | None, default: tuple[Pollutant, ...] | None = None,
) -> list[Pollutant]:
    if "pollutants" in o:
        ps = _pollutant_list(o["pollutants"], f"{at}.pollutants")
        for i, p in enumerate(ps):
            if p.medium != medium:
                raise SheetError(
                    f"{p.value} is a {p.medium} pollutant; this outlet discharges to {medium}",
                    field=f"{at}.pollutants[{i}]",
                )
        return ps
    base = list(default) if default is not None else list(ctx.params.default_pollutants[medium])
    if sheet_pollutants is not None:
        base = [p for p in base if p in sheet_pollutants]
    return base


def _source(o: Mapping[str, Any], at: str, ctx: _Context, method: str, default: str | None) -> str:
    name = o.get("source", default)
    if name is None:
        name = ctx.params.source_for(ctx.sector, method)
    if name is None:
        raise SheetError(f"no limit source for {method} in {ctx.sector}", field=f"{at}.source")
    if not isinstance(name, str) or name not in ctx.params.sources:
        raise SheetError(f"unknown source {name!r}", field=f"{at}.source")
    want = "water" if method in _WATER_METHODS else "air"
    if ctx.params.sources[name].medium != want:
        raise SheetError(f"source {name!r} is not a {want} source", field=f"{at}.source")
    return name


def _concentration_lines(
    o: Mapping[str, Any], at: str, ctx: _Context, method: str, pollutants: list[Pollutant],
    source: str, factor: Decimal, inputs: dict[str, str], formula: str,
) -> dict[Pollutant, dict[str, Any]]:
    """Lines of a concentration-basis outlet: E = factor × C, factor = activity × volume × unit."""
    standards = _Standards(o, at)
    unit = "mg/L" if method in _WATER_METHODS else "mg/Nm3"
    lines: dict[Pollutant, dict[str, Any]] = {}
    for p in pollutants:
        c, kind, found, rows = ctx.concentration(source, p, standards, at)
        exact = factor * c
        kg = _to_kg(exact)
        lines[p] = {
            "t": _t(kg), "kg": kg, "t_exact": _plain(exact), "formula": formula,
            "inputs": dict(inputs), "source": source,
            "concentration": _plain(c), "concentration_unit": unit,
            "concentration_source": kind, "concentration_candidates": found,
        }
        if ctx.detailed:
            lines[p]["standard_rows"] = rows
    return lines


def _boiler(
    o: Mapping[str, Any], at: str, ctx: _Context, method: str,
    sheet_pollutants: list[Pollutant] | None,
) -> _Lines:
    pollutants = _outlet_pollutants(o, at, "air", ctx, sheet_pollutants)
    source = _source(o, at, ctx, method, None)
    if method == "gas_boiler":
        r = _quantity(o, "fuel", "gas_volume", "1e4Nm3", at)
        if "flue_gas_volume" in o:
            v = _quantity(o, "flue_gas_volume", "specific_flue_gas_volume", "Nm3/Nm3", at)
            basis = "given"
        elif "qnet" in o:
            q = _quantity(o, "qnet", "qnet", "MJ/Nm3", at)
            v = ctx.params.gas_slope * q + ctx.params.gas_intercept
            basis = "empirical"
        else:
            raise SheetError(
                "gas boiler needs flue_gas_volume (Nm3/Nm3) or qnet (MJ/Nm3)",
                field=f"{at}.flue_gas_volume",
            )
        inputs = {"fuel_1e4nm3": _plain(r), "flue_gas_nm3_per_nm3": _plain(v),
                  "flue_gas_basis": basis}
        formula = "R[1e4 Nm3] × V[Nm3/Nm3] × C[mg/Nm3] × 1e-5"
        factor = r * v * Decimal("1e-5")
    else:
        r = _quantity(o, "fuel", "fuel_mass", "t", at)
        v = _quantity(o, "flue_gas_volume", "specific_flue_gas_mass", "Nm3/kg", at)
        inputs = {"fuel_t": _plain(r), "flue_gas_nm3_per_kg": _plain(v),
                  "flue_gas_basis": "theoretical"}
        formula = "R[t] × V[Nm3/kg] × C[mg/Nm3] × 1e-6"
        factor = r * v * Decimal("1e-6")
    return _concentration_lines(o, at, ctx, method, pollutants, source, factor, inputs, formula)


def _process(
    o: Mapping[str, Any], at: str, ctx: _Context, method: str,
    sheet_pollutants: list[Pollutant] | None,
) -> _Lines:
    sector_table = ctx.params.processes[_PROCESS_SECTOR[method]]
    name = o.get("process")
    if name is None:
        raise SheetError("process is missing", field=f"{at}.process")
    if not isinstance(name, str) or name not in sector_table:
        known = ", ".join(sector_table)
        raise SheetError(f"unknown process {name!r} (known: {known})", field=f"{at}.process")
    proc = sector_table[name]
    if "product" in o and o["product"] != proc.product:
        raise SheetError(
            f"process {name} is computed on its own product ({proc.product or 'not stated'}), "
            f"not {o['product']!r}: give the {proc.product or 'process'} tonnes as production",
            field=f"{at}.product")
    production = _quantity(o, "production", "production", "t", at)
    if "exhaust_volume" in o:
        vb = _quantity(o, "exhaust_volume", "specific_exhaust", "Nm3/t", at)
        basis = "given"
    else:
        vb = proc.base_exhaust_nm3_per_t
        basis = "parameter_table"
        if proc.verify:
            ctx.verify.add(f"processes.{_PROCESS_SECTOR[method]}.{name}")
    pollutants = _outlet_pollutants(o, at, "air", ctx, sheet_pollutants, proc.pollutants)
    source = _source(o, at, ctx, method, proc.source)
    inputs = {"process": name, "production_t": _plain(production),
              "exhaust_nm3_per_t": _plain(vb), "exhaust_basis": basis}
    if ctx.detailed:
        inputs |= {"product": proc.product or "", "outlet_class": proc.outlet}
    formula = "P[t] × Vb[Nm3/t] × C[mg/Nm3] × 1e-9"
    factor = production * vb * Decimal("1e-9")
    lines = _concentration_lines(o, at, ctx, method, pollutants, source, factor, inputs,
                                 formula)
    if proc.outlet == "general":
        # the specification gives general outlets a concentration limit and no quantity
        for line in lines.values():
            for key in ("t", "kg", "t_exact", "formula"):
                line.pop(key)
            line["general_outlet"] = True
    return lines


def _wastewater(
    o: Mapping[str, Any], at: str, ctx: _Context, method: str,
    sheet_pollutants: list[Pollutant] | None,
) -> _Lines:
    pollutants = _outlet_pollutants(o, at, "water", ctx, sheet_pollutants)
    source = _source(o, at, ctx, method, None)
    q = _quantity(o, "water", "water", "m3", at)
    inputs = {"water_m3": _plain(q)}
    formula = "Q[m3] × C[mg/L] × 1e-6"
    factor = q * Decimal("1e-6")
    return _concentration_lines(o, at, ctx, method, pollutants, source, factor, inputs, formula)


def _performance(
    o: Mapping[str, Any], at: str, ctx: _Context, method: str,
    sheet_pollutants: list[Pollutant] | None,
) -> _Lines:
    params = ctx.params
    cap = _quantity(o, "capacity", "capacity", "MW", at)
    if "hours" in o:
        h = _quantity(o, "hours", "hours", "h", at)
        hours_basis = "given"
    else:
        hours_basis = o.get("hours_basis", "default")
        if not isinstance(hours_basis, str) or hours_basis not in params.utilisation_hours:
            known = ", ".join(params.utilisation_hours)
            raise SheetError(
                f"unknown hours_basis {hours_basis!r} (known: {known})", field=f"{at}.hours_basis"
            )
        h = params.utilisation_hours[hours_basis]
    if "heat_supply" in o:
        unit = o.get("heat_supply_unit", "MJ")
        if unit in UNITS["heat"]:
            heat_mj = _quantity(o, "heat_supply", "heat", "MJ", at)
            d = heat_mj * params.heat_kwh_per_mj * params.heat_equivalence
        elif unit in UNITS["power"]:
            # already converted to an electricity equivalent
            d = _quantity(o, "heat_supply", "power", "kWh", at)
        else:
            known = ", ".join([*UNITS["heat"], *UNITS["power"]])
            raise SheetError(
                f"unknown unit {unit!r} for heat_supply (use one of: {known})",
                field=f"{at}.heat_supply_unit",
            )
    else:
        d = Decimal(0)
    gps_kind = "ultra_low" if params.uses_ultra_low(ctx.sector) else "national"
    given = (
        _pollutant_values(o["gps_g_per_kwh"], f"{at}.gps_g_per_kwh")
        if "gps_g_per_kwh" in o else {}
    )
    table = params.performance_values[gps_kind]
    chosen_row: dict[str, str] | None = None
    if "unit_capacity" in o and not params.performance_bands:
        raise SheetError(f"parameter version {params.version} has no capacity bands: leave "
                         "unit_capacity out", field=f"{at}.unit_capacity")
    if params.performance_bands:
        # the specification tables GPS by the unit's capacity band and the region
        unit_mw = (_quantity(o, "unit_capacity", "capacity", "MW", at)
                   if "unit_capacity" in o else cap)
        found = performance_row(params, unit_mw, params.uses_ultra_low(ctx.sector),
                                ctx.area, ctx.province)
        assert found is not None
        band, gps_kind, table = found
        chosen_row = {"band": band, "column": gps_kind, "unit_capacity_mw": _plain(unit_mw),
                      "area": ctx.area or "", "province": ctx.province or ""}
    default = tuple(p for p in params.default_pollutants["air"] if p in table or p in given)
    pollutants = _outlet_pollutants(o, at, "air", ctx, sheet_pollutants, default)
    mwh = cap * h + d / 1000
    lines: dict[Pollutant, dict[str, Any]] = {}
    for p in pollutants:
        if p in given:
            gps, basis = given[p], "given"
        elif p in table:
            gps, basis = table[p], gps_kind
            ctx.verify.add("performance_values_g_per_kwh")
        else:
            raise SheetError(
                f"no performance value for {p.value}: give gps_g_per_kwh.{p.value}",
                field=f"{at}.gps_g_per_kwh.{p.value}",
            )
        exact = mwh * gps * Decimal("1e-3")
        kg = _to_kg(exact)
        lines[p] = {
            "t": _t(kg), "kg": kg, "t_exact": _plain(exact),
            "formula": "(CAP[MW] × h + D[kWh]/1000) × GPS[g/kWh] × 1e-3",
            "inputs": {"capacity_mw": _plain(cap), "hours": _plain(h),
                       "hours_basis": hours_basis, "heat_supply_kwh": _plain(d)},
            "gps_g_per_kwh": _plain(gps), "concentration": None, "concentration_source": basis,
        }
        if chosen_row is not None:
            lines[p]["performance_row"] = dict(chosen_row)
    return lines


def _direct(
    o: Mapping[str, Any], at: str, ctx: _Context, method: str,
    sheet_pollutants: list[Pollutant] | None,
) -> _Lines:
    if "quantities_t" not in o:
        raise SheetError("direct outlet needs quantities_t", field=f"{at}.quantities_t")
    values = _pollutant_values(o["quantities_t"], f"{at}.quantities_t")
    if not values:
        raise SheetError("quantities_t is empty", field=f"{at}.quantities_t")
    lines: dict[Pollutant, dict[str, Any]] = {}
    for p, t in values.items():
        kg = _to_kg(t)
        lines[p] = {"t": _t(kg), "kg": kg, "t_exact": _plain(t), "formula": "given",
                    "inputs": {}, "concentration": None, "concentration_source": "given"}
    return lines


_METHOD_FUNCS = {
    "coal_boiler": _boiler,
    "oil_boiler": _boiler,
    "gas_boiler": _boiler,
    "thermal_power_performance": _performance,
    "steel_process": _process,
    "cement_process": _process,
    "wastewater": _wastewater,
    "direct": _direct,
}


# --------------------------------------------------------------------------- other bases


def _basis_quantities(raw: Any, at: str) -> dict[Pollutant, int]:
    """``quantities_t`` (decimal tonnes) or ``quantities_kg`` (whole kg), as kg."""
    m = _mapping(raw, at)
    has_t, has_kg = "quantities_t" in m, "quantities_kg" in m
    if has_t == has_kg:
        raise SheetError("give exactly one of quantities_t or quantities_kg", field=at)
    if has_t:
        values = _pollutant_values(m["quantities_t"], f"{at}.quantities_t")
        return {p: _to_kg(t) for p, t in values.items()}
    out: dict[Pollutant, int] = {}
    for key, v in _mapping(m["quantities_kg"], f"{at}.quantities_kg").items():
        p = _pollutant(key, f"{at}.quantities_kg.{key}")
        out[p] = _whole_kg(v, f"{at}.quantities_kg.{key}")
    return out


def _eia(raw: Any, today: date, params: ParameterSet) -> tuple[dict[Pollutant, int], str | None]:
    """EIA quantities in kg, and the reason they are not counted (None if counted)."""
    m = _mapping(raw, "eia")
    text = m.get("date")
    if text is None:
        raise SheetError("eia.date is missing", field="eia.date")
    try:
        approved = date.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        approved = None
    if approved is None:
        raise SheetError(f"eia.date must be an ISO date, got {text!r}", field="eia.date")
    if approved > today:
        raise SheetError(f"eia.date {approved} is in the future", field="eia.date")
    quantities = _basis_quantities({k: v for k, v in m.items() if k != "date"}, "eia")
    if approved < params.eia_basis_from:
        return quantities, f"approved {approved}, before {params.eia_basis_from}"
    return quantities, None


# --------------------------------------------------------------------------- the sheet


def compute_sheet(
    doc: Mapping[str, Any], *, today: date | None = None, params: ParameterSet | None = None
) -> dict[str, Any]:
    """Compute a calculation sheet. See the module docstring for the guarantees."""
    with localcontext() as dc:
        dc.prec = _PRECISION
        dc.traps[Inexact] = True  # exactness is a contract: fail loudly, never round silently
        return _compute(doc, today, params)


def _compute(
    doc: Mapping[str, Any], today: date | None, params: ParameterSet | None
) -> dict[str, Any]:
    doc = _mapping(doc, "$")
    for key in doc:
        if key not in _SHEET_KEYS:
            raise SheetError(f"unknown key {key!r}", field=str(key))
    today = today or date.today()
    if params is None:
        version = doc.get("parameter_version")
        if version is not None and not isinstance(version, str):
            raise SheetError("parameter_version must be a string", field="parameter_version")
        params = get_parameters(version, on=None if version else today)
    sector = doc.get("sector")
    if sector is None:
        raise SheetError("sector is missing", field="sector")
    if not isinstance(sector, str) or sector not in params.sectors:
        known = ", ".join(params.sectors)
        raise SheetError(f"unknown sector {sector!r} (known: {known})", field="sector")
    sheet_pollutants = (
        _pollutant_list(doc["pollutants"], "pollutants") if "pollutants" in doc else None
    )
    area, province = doc.get("area"), doc.get("province")
    if (area is not None or province is not None) and params.regions is None:
        raise SheetError(f"parameter version {params.version} has no regions: leave area and "
                         "province out", field="area" if area is not None else "province")
    known_areas = params.regions.areas if params.regions is not None else {}
    if area is not None and (not isinstance(area, str) or area not in known_areas):
        raise SheetError(f"unknown area {area!r} (known: {', '.join(known_areas)})",
                         field="area")
    if province is not None and (not isinstance(province, str)
                                 or not _PROVINCE.match(province)):
        raise SheetError(f"province must be a lower-case name like chongqing, got {province!r}",
                         field="province")
    ctx = _Context(params, sector, _Standards(doc, ""), area, province)

    outlets = doc.get("outlets")
    if not isinstance(outlets, list) or not outlets:
        raise SheetError("outlets must be a non-empty list", field="outlets")
    per_pollutant_lines: dict[Pollutant, list[dict[str, Any]]] = {}
    general_outlets: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, raw in enumerate(outlets):
        at = f"outlets[{i}]"
        o = _mapping(raw, at)
        oid = o.get("id")
        if not isinstance(oid, str) or not _OUTLET_ID.match(oid):
            raise SheetError(f"outlet id must be a short code like DA001, got {oid!r}",
                             field=f"{at}.id")
        if oid in seen:
            raise SheetError(f"outlet {oid} listed twice", field=f"{at}.id")
        seen.add(oid)
        method = o.get("method")
        if not isinstance(method, str) or method not in _METHOD_FUNCS:
            raise SheetError(
                f"unknown method {method!r} (known: {', '.join(METHODS)})", field=f"{at}.method"
            )
        allowed = _OUTLET_COMMON | _OUTLET_KEYS[method]
        for key in o:
            if key not in allowed:
                raise SheetError(f"unknown key {key!r} for method {method}", field=f"{at}.{key}")
        lines = _METHOD_FUNCS[method](o, at, ctx, method, sheet_pollutants)
        for p, line in lines.items():
            row = {"outlet": oid, "method": method, "pollutant": p.value, **line}
            if row.pop("general_outlet", False):
                general_outlets.append(row)
            else:
                row.pop("pollutant")
                per_pollutant_lines.setdefault(p, []).append(row)

    eia_kg: dict[Pollutant, int] = {}
    eia_excluded: str | None = None
    if doc.get("eia") is not None:
        eia_kg, eia_excluded = _eia(doc["eia"], today, params)
    share_kg = (
        _basis_quantities(doc["indicator_share"], "indicator_share")
        if doc.get("indicator_share") is not None else {}
    )

    if sheet_pollutants is not None:
        order = list(sheet_pollutants)
    else:
        counted_eia = set(eia_kg) if eia_excluded is None else set()
        present = set(per_pollutant_lines) | counted_eia | set(share_kg)
        order = [p for p in Pollutant if p in present]

    result: dict[str, dict[str, Any]] = {}
    for idx, p in enumerate(order):
        candidates: dict[str, dict[str, Any]] = {}
        excluded: dict[str, dict[str, Any]] = {}
        p_lines = per_pollutant_lines.get(p, [])
        if p_lines:
            candidates["specification"] = _candidate(sum(line["kg"] for line in p_lines))
        if p in eia_kg:
            if eia_excluded is None:
                candidates["eia"] = _candidate(eia_kg[p])
            else:
                excluded["eia"] = {**_candidate(eia_kg[p]), "reason": eia_excluded}
        if p in share_kg:
            candidates["indicator_share"] = _candidate(share_kg[p])
        if not candidates:
            raise SheetError(
                f"no basis for {p.value}: no outlet computes it and no EIA or share is given",
                field=f"pollutants[{idx}]",
            )
        binding = min(candidates, key=lambda b: (candidates[b]["kg"], BASES.index(b)))
        kinds = {(line.get("concentration"), line["concentration_source"]) for line in p_lines}
        conc, conc_source = (None, None)
        if len(kinds) == 1:
            conc, conc_source = next(iter(kinds))
        elif kinds:
            conc_source = "mixed"
        entry: dict[str, Any] = {
            "candidates": candidates,
            "binding": binding,
            "permitted_t": candidates[binding]["t"],
            "permitted_kg": candidates[binding]["kg"],
            "concentration_mg_nm3": conc if p.medium == "air" else None,
            "concentration_source": conc_source,
            "outlets": p_lines,
        }
        if p.medium == "water":
            entry["concentration_mg_l"] = conc
        if excluded:
            entry["excluded"] = excluded
        result[p.value] = entry

    out: dict[str, Any] = {
        "parameter_version": params.version,
        "parameter_effective": params.effective.isoformat(),
        "sector": sector,
        "computed_on": today.isoformat(),
        "pollutants": result,
        "parameters_to_verify": sorted(ctx.verify),
    }
    if ctx.detailed:
        assert params.regions is not None
        out["region"] = {"province": ctx.province, "area": ctx.area,
                         "special_limits": params.regions.areas.get(ctx.area or "", False)}
        # general outlets: concentration limits only, no quantity (HJ 846 / HJ 847)
        out["general_outlets"] = general_outlets
    return out
