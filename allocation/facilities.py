"""Facility inputs for whole-municipality computation, derived from the site record (pure).

Why derive rather than store. The registry keeps, per permit, the site's capacity and its unit
(the number the permit was issued from) and the enterprise's sector; it keeps no outlet-level
activity data. Rather than add a second copy of the inputs that could drift from the site, this
module turns (sector, capacity, unit) into outlet rows by one versioned profile per sector, and
the concentration or performance value of every row comes from the parameter table (and any
scenario change to it) at computation time. So a new parameter version, an ultra-low adoption
or a new standard changes quantities without touching facility data, and one module is the
place to swap in real outlet data (calculation sheets stored per permit) when the bureau has it.

Guarantees:
- `derive` is deterministic and exact: every input is a decimal that survives the float trip,
  so `allocation.quantities.permit_caps` on the rows agrees with `allocation.sheet.compute_sheet`
  on `sheet_for` (same outlets, same bases), kilogram for kilogram;
- a site whose capacity unit or sector has no profile is not guessed: it is reported as
  skipped with the reason;
- concentrations follow the sheet's rule: the strictest of the national standard (given on the
  profile, else the source's), the local standard, and the ultra-low limit where the sector must
  use it (performance rows: the ultra-low performance value in those sectors, else national).

Profiles (``PROFILE_VERSION``; numbers marked verify in the parameter table stay so here):

- thermal_power (MW): performance method, CAP × utilisation hours × GPS;
- steel (万t/a crude steel): sinter head, hot blast stove, reheat furnace (SO2, NOx, PM), sinter
  tail, casthouse, converter (PM), each production × base exhaust volume of HJ 846;
- cement (t/d clinker, ``CLINKER_DAYS`` a year): kiln tail (SO2, NOx, PM), kiln head, coal mill,
  cement mill (PM), per t clinker, HJ 847 base volumes;
- industrial_boiler (t/h steam, ``BOILER_HOURS`` a year): the site gives steam output, not fuel,
  so the mass-basis boiler formula is applied to steam with flue gas per kg of steam (coal 1.65,
  gas 0.79 Nm3/kg); the site record does not say the fuel: see `BOILER_FUELS`;
- chemicals (万t/a product): process heaters 0.8 Nm3/kg product (GB 31571), VOCs 5 Nm3/kg at
  the national limit given here (60 mg/Nm3, verify), wastewater 4 m3/t (GB 8978 class 1);
- paper (万t/a paper): gas-fired steam 1.58 Nm3/kg paper (GB 13271 gas), wastewater 15 m3/t
  (GB 3544);
- sewage (万m3/d, 365 days): treated water × GB 18918 class 1 A.

From parameter table 2025.2 on (tables with regions and capacity bands; `profile_version`):

- thermal_power: the performance row is the one of the unit's capacity band; the registry
  keeps the plant's capacity, not its units, so a unit is ``Site.unit_mw`` when known, else
  the capacity ÷ ``THERMAL_UNITS_PER_SITE`` (2: the usual two-unit plant; an assumption to
  replace with the registry's unit data);
- steel: each main outlet on its own product (HJ 846): sinter head and tail on sinter, the
  casthouse on hot metal, the converter on crude steel; the site gives crude steel, converted
  by ``STEEL_PRODUCT_PER_T_CRUDE`` (typical blast-furnace/converter route; verify per site).
  Hot blast stoves and reheat furnaces are general outlets: no quantity, no row;
- cement: kiln tail and kiln head (main outlets, per t clinker); coal and cement mills are
  general outlets: no quantity, no row;
- concentrations and performance values follow the table's default area and province
  (`allocation.parameters.national_limit`, `local_limit`, `performance_row`), as a sheet does
  when it names neither.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from allocation.parameters import (
    ParameterSet,
    band_for,
    local_limit,
    national_limit,
    performance_column,
)
from allocation.quantities import METHOD_CODES
from kernel.pollutants import Pollutant

PROFILE_VERSION = "2025.1"  # the profiles of tables without regions (see profile_version)
THERMAL_UNITS_PER_SITE = 2
#: tonnes of each steel product per tonne of crude steel (profile assumption, verify)
STEEL_PRODUCT_PER_T_CRUDE = {"crude_steel": Decimal(1), "hot_metal": Decimal("0.9"),
                             "sinter": Decimal("1.08")}
CLINKER_DAYS = 310
BOILER_HOURS = 5000
SEWAGE_DAYS = 365
#: industrial boilers: fuel -> (limit source, flue gas Nm3 per kg of steam)
BOILER_FUELS = {"coal": ("coal_boiler", Decimal("1.65")), "gas": ("gas_boiler", Decimal("0.79"))}

P = Pollutant
_AIR3 = (P.SO2, P.NOX, P.PM)
_WATER = (P.COD, P.NH3N)

# activity kinds: how a row's activity follows from capacity (in the sector's base unit)
#   mw: capacity MW (volume = utilisation hours); annual_t: capacity × 1e4 t;
#   clinker_t: capacity × CLINKER_DAYS; steam_t: capacity × boiler hours;
#   annual_m3: annual_t × volume as m3 (wastewater: volume is m3 per t); sewage_m3
_BASE_UNITS: dict[str, dict[str, Decimal]] = {
    # capacity units accepted per sector, as a factor to the profile's base unit
    "thermal_power": {"MW": Decimal(1), "kW": Decimal("0.001"), "GW": Decimal(1000)},
    "steel": {"万t/a": Decimal(1), "t/a": Decimal("0.0001"), "kt/a": Decimal("0.1")},
    "cement": {"t/d": Decimal(1)},
    "industrial_boiler": {"t/h": Decimal(1)},
    "chemicals": {"万t/a": Decimal(1), "t/a": Decimal("0.0001"), "kt/a": Decimal("0.1")},
    "paper": {"万t/a": Decimal(1), "t/a": Decimal("0.0001"), "kt/a": Decimal("0.1")},
    "sewage": {"万m3/d": Decimal(1), "m3/d": Decimal("0.0001")},
}


@dataclass(frozen=True)
class Template:
    """One outlet of a sector profile."""

    id: str
    method: str  # calculation-sheet method; fixes the formula's unit factor
    activity: str  # mw | annual_t | clinker_t | steam_t | sewage_m3
    pollutants: tuple[Pollutant, ...]
    source: str | None = None  # limit source; None: performance values, or a process's source
    process: str | None = None  # steel / cement process (base exhaust volume from the table)
    volume: Decimal | None = None  # Nm3/kg, m3/t; None: hours (mw) or the process volume
    national: Mapping[Pollutant, Decimal] = field(default_factory=dict)  # given on the sheet
    name: str = ""
    factor: Decimal = Decimal(1)  # annual_t: product tonnes per tonne of capacity
    band: str | None = None  # performance rows of banded tables: the unit-capacity band


def _steel(proc: str, oid: str, pollutants: tuple[Pollutant, ...]) -> Template:
    return Template(oid, "steel_process", "annual_t", pollutants, process=proc, name=proc)


def _cement(proc: str, oid: str, pollutants: tuple[Pollutant, ...]) -> Template:
    return Template(oid, "cement_process", "clinker_t", pollutants, process=proc, name=proc)


def _boiler(fuel: str) -> tuple[Template, ...]:
    source, volume = BOILER_FUELS[fuel]
    return (Template("DA001", "coal_boiler", "steam_t", _AIR3, source=source, volume=volume,
                     name=f"{fuel}-fired boiler (steam basis)"),)


PROFILES: dict[str, tuple[Template, ...]] = {
    "thermal_power": (Template("DA001", "thermal_power_performance", "mw", _AIR3,
                               name="generating units (performance method)"),),
    "steel": (
        _steel("sinter_head", "DA001", _AIR3),
        _steel("hot_blast_stove", "DA002", _AIR3),
        _steel("rolling_reheat_furnace", "DA003", _AIR3),
        _steel("sinter_tail", "DA004", (P.PM,)),
        _steel("blast_furnace_casthouse", "DA005", (P.PM,)),
        _steel("converter_secondary", "DA006", (P.PM,)),
    ),
    "cement": (
        _cement("kiln_tail", "DA001", _AIR3),
        _cement("kiln_head", "DA002", (P.PM,)),
        _cement("coal_mill", "DA003", (P.PM,)),
        _cement("cement_mill", "DA004", (P.PM,)),
    ),
    "industrial_boiler:coal": _boiler("coal"),
    "industrial_boiler:gas": _boiler("gas"),
    "chemicals": (
        Template("DA001", "coal_boiler", "annual_t", _AIR3, source="chemicals_process_heater",
                 volume=Decimal("0.8"), name="process heaters (per kg product)"),
        Template("DA002", "coal_boiler", "annual_t", (P.VOCS,),
                 source="chemicals_process_heater", volume=Decimal(5),
                 national={P.VOCS: Decimal(60)}, name="process exhaust, VOCs (verify)"),
        Template("DW001", "wastewater", "annual_t", _WATER, source="integrated_wastewater",
                 volume=Decimal(4), name="wastewater (4 m3/t)"),
    ),
    "paper": (
        Template("DA001", "coal_boiler", "annual_t", _AIR3, source="gas_boiler",
                 volume=Decimal("1.58"), name="gas-fired steam (2 t steam per t paper)"),
        Template("DW001", "wastewater", "annual_t", _WATER, source="paper",
                 volume=Decimal(15), name="wastewater (15 m3/t)"),
    ),
    "sewage": (Template("DW001", "wastewater", "sewage_m3", _WATER, source="sewage_1a",
                        volume=Decimal(1), name="treated effluent"),),
}


def _steel_main(proc: str, oid: str, pollutants: tuple[Pollutant, ...], product: str
                ) -> Template:
    return Template(oid, "steel_process", "annual_t", pollutants, process=proc, name=proc,
                    factor=STEEL_PRODUCT_PER_T_CRUDE[product])


_BANDS_2025_2 = ("lt250", "250-450", "450-750", "ge750")

PROFILES_2025_2: dict[str, tuple[Template, ...]] = {
    **{f"thermal_power:{band}": (Template("DA001", "thermal_power_performance", "mw", _AIR3,
                                          name=f"generating units, {band} MW band",
                                          band=band),)
       for band in _BANDS_2025_2},
    "steel": (
        _steel_main("sinter_head", "DA001", _AIR3, "sinter"),
        _steel_main("sinter_tail", "DA004", (P.PM,), "sinter"),
        _steel_main("blast_furnace_casthouse", "DA005", (P.PM,), "hot_metal"),
        _steel_main("converter_secondary", "DA006", (P.PM,), "crude_steel"),
    ),
    "cement": (
        _cement("kiln_tail", "DA001", _AIR3),
        _cement("kiln_head", "DA002", (P.PM,)),
    ),
    **{k: v for k, v in PROFILES.items() if k not in ("thermal_power", "steel", "cement")},
}
PROFILE_SETS = {"2025.1": PROFILES, "2025.2": PROFILES_2025_2}


def profile_version(params: ParameterSet) -> str:
    """The facility profiles that go with a parameter table."""
    return "2025.2" if params.regions is not None or params.performance_bands else "2025.1"


def profiles_for(params: ParameterSet | None) -> dict[str, tuple[Template, ...]]:
    return PROFILES if params is None else PROFILE_SETS[profile_version(params)]


def profile_name(sector: str, fuel: str | None = None, params: ParameterSet | None = None,
                 unit_mw: Decimal | None = None) -> str:
    """The profile of a sector (industrial boilers: per fuel, coal unless given; thermal
    power with a banded table: per unit-capacity band)."""
    if sector == "industrial_boiler":
        return f"industrial_boiler:{fuel or 'coal'}"
    if sector == "thermal_power" and params is not None and params.performance_bands:
        band = band_for(params, unit_mw if unit_mw is not None else Decimal(0))
        assert band is not None
        return f"thermal_power:{band.id}"
    return sector


def profile_pollutants(profile: str, params: ParameterSet | None = None
                       ) -> tuple[Pollutant, ...]:
    seen: list[Pollutant] = []
    profiles = profiles_for(params)
    names = [profile] if profile in profiles else [n for n in profiles
                                                    if n.startswith(f"{profile}:")]
    for name in names:
        for t in profiles[name]:
            seen.extend(p for p in t.pollutants if p not in seen)
    return tuple(seen)


@dataclass(frozen=True)
class Site:
    """What the registry knows of one facility."""

    permit: str
    sector: str
    capacity: Decimal
    capacity_unit: str
    fuel: str | None = None
    unit_mw: Decimal | None = None  # thermal power: one generating unit's capacity, if known


def unit_mw_of(site: Site, cap: Decimal) -> Decimal:
    """A thermal-power site's unit capacity: given, else capacity ÷ THERMAL_UNITS_PER_SITE."""
    return site.unit_mw if site.unit_mw is not None else cap / THERMAL_UNITS_PER_SITE


def capacity_in_base(site: Site) -> Decimal | str:
    """Capacity in the profile's base unit, or the reason it cannot be used."""
    units = _BASE_UNITS.get(site.sector)
    if units is None:
        return f"no facility profile for sector {site.sector!r}"
    if site.capacity_unit not in units:
        return (f"capacity unit {site.capacity_unit!r} is not one of "
                f"{', '.join(units)} for {site.sector}")
    if site.capacity < 0:
        return "capacity is negative"
    if site.sector == "industrial_boiler" and (site.fuel or "coal") not in BOILER_FUELS:
        return f"unknown boiler fuel {site.fuel!r}"
    return site.capacity * units[site.capacity_unit]


def _activity(kind: str, cap: Decimal, hours: Mapping[str, Decimal], sector: str,
              factor: Decimal = Decimal(1)) -> Decimal:
    if kind == "mw":
        return cap
    if kind == "annual_t":
        return cap * 10_000 * factor
    if kind == "clinker_t":
        return cap * CLINKER_DAYS
    if kind == "steam_t":
        return cap * hours.get(sector, Decimal(BOILER_HOURS))
    if kind == "sewage_m3":
        return cap * 10_000 * SEWAGE_DAYS
    raise ValueError(kind)  # pragma: no cover - profiles are fixed


# --------------------------------------------------------------------------- columnar rows


@dataclass(frozen=True, eq=False)
class OutletRows:
    """Every outlet row of many facilities, columnar (the input of `permit_caps`).

    ``template`` indexes ``templates`` (profile name, Template); ``hours_row`` marks rows whose
    volume is the utilisation hours (performance method) and ``steam_row`` rows whose activity is
    capacity × boiler hours, so an hours change touches only those columns.
    """

    facility: npt.NDArray[np.int64]  # (n,) row -> facility index
    template: npt.NDArray[np.int64]  # (n,)
    method: npt.NDArray[np.int64]
    capacity: npt.NDArray[np.float64]  # base-unit capacity of the row's facility
    activity: npt.NDArray[np.float64]
    volume: npt.NDArray[np.float64]
    sector: npt.NDArray[np.int64]  # index into `sectors`
    templates: tuple[tuple[str, Template], ...]
    sectors: tuple[str, ...]
    n_facilities: int
    skipped: tuple[tuple[int, str], ...] = ()  # (facility index, reason)


def _volume(t: Template, params: ParameterSet) -> Decimal:
    if t.volume is not None:
        return t.volume
    if t.process is not None:
        sector = "steel" if t.method == "steel_process" else "cement"
        return params.processes[sector][t.process].base_exhaust_nm3_per_t
    return params.utilisation_hours["default"]  # performance rows: hours


def derive(sites: Sequence[Site], params: ParameterSet,
           hours: Mapping[str, Decimal] | None = None) -> OutletRows:
    """Outlet rows of every site (see the module docstring); unusable sites are skipped."""
    hours = dict(hours or {})
    profiles = profiles_for(params)
    names = sorted(profiles)
    templates = tuple((name, t) for name in names for t in profiles[name])
    t_index = {(name, t.id): i for i, (name, t) in enumerate(templates)}
    sectors = tuple(sorted({s.sector for s in sites}))
    s_index = {s: i for i, s in enumerate(sectors)}
    fac: list[int] = []
    tpl: list[int] = []
    cap_col: list[float] = []
    skipped: list[tuple[int, str]] = []
    for f, site in enumerate(sites):
        cap = capacity_in_base(site)
        if isinstance(cap, str):
            skipped.append((f, cap))
            continue
        profile = profile_name(site.sector, site.fuel, params, unit_mw_of(site, cap))
        for t in profiles[profile]:
            fac.append(f)
            tpl.append(t_index[(profile, t.id)])
            cap_col.append(float(cap))
    template = np.array(tpl, dtype=np.int64)
    facility = np.array(fac, dtype=np.int64)
    capacity = np.array(cap_col, dtype=np.float64)
    sector = np.array([s_index[sites[f].sector] for f in fac], dtype=np.int64)
    method = np.array([METHOD_CODES[templates[k][1].method] for k in tpl], dtype=np.int64)
    rows = OutletRows(facility, template, method, capacity, np.zeros(len(fac)),
                      np.zeros(len(fac)), sector, templates, sectors, len(sites),
                      tuple(skipped))
    activity, volume = activity_volume(rows, params, hours)
    return OutletRows(facility, template, method, capacity, activity, volume, sector,
                      templates, sectors, len(sites), tuple(skipped))


def activity_volume(rows: OutletRows, params: ParameterSet,
                    hours: Mapping[str, Decimal] | None = None
                    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(activity, volume) columns for `params` and per-sector utilisation hours.

    ``hours`` maps a sector to its hours (thermal_power: the performance method's h, default
    the table's ``utilisation_hours.default``; industrial_boiler: steam hours, default
    ``BOILER_HOURS``). Computed per (template, sector) and broadcast, in exact decimals first.
    """
    hours = dict(hours or {})
    n_t = len(rows.templates)
    n_s = max(len(rows.sectors), 1)
    factor: dict[tuple[int, int], Decimal] = {}
    vol = np.zeros((n_t, n_s))
    for k, (_name, t) in enumerate(rows.templates):
        for s, sector in enumerate(rows.sectors):
            factor[(k, s)] = _activity(t.activity, Decimal(1), hours, sector, t.factor)
            if t.activity == "mw":
                vol[k, s] = float(hours.get(sector, params.utilisation_hours["default"]))
            else:
                vol[k, s] = float(_volume(t, params))
    # activity = capacity × factor formed in Decimal, once per distinct (capacity, template,
    # sector), so that each float stands for the exact decimal a calculation sheet uses
    activity = np.zeros(len(rows.template))
    if len(rows.template):
        caps, cap_idx = np.unique(rows.capacity, return_inverse=True)
        pair = rows.template * n_s + rows.sector
        keys, inverse = np.unique(np.asarray(cap_idx).ravel() * (n_t * n_s) + pair,
                                  return_inverse=True)
        values = np.array([float(Decimal(repr(float(caps[key // (n_t * n_s)])))
                                 * factor[divmod(int(key % (n_t * n_s)), n_s)])
                           for key in keys.tolist()])
        activity = values[np.asarray(inverse).ravel()]
    volume = vol[rows.template, rows.sector]
    return activity, volume


def _limit(params: ParameterSet, t: Template, sector: str, p: Pollutant,
           ultra_low: frozenset[str] | None) -> Decimal | None:
    """The row's rate: concentration (strictest applicable) or performance value."""
    uses_ultra = sector in (params.ultra_low_sectors if ultra_low is None else ultra_low)
    if t.method == "thermal_power_performance":
        if t.band is not None:
            band = next(b for b in params.performance_bands if b.id == t.band)
            return band.values[performance_column(params, uses_ultra)].get(p)
        table = params.performance_values["ultra_low" if uses_ultra else "national"]
        return table.get(p)
    source_name = t.source
    if source_name is None and t.process is not None:
        sector_table = "steel" if t.method == "steel_process" else "cement"
        source_name = params.processes[sector_table][t.process].source
    assert source_name is not None
    source = params.sources[source_name]
    found: list[Decimal] = []
    if p in t.national:
        found.append(t.national[p])
    else:
        chosen = national_limit(params, source, p)
        if chosen is not None:
            found.append(chosen.value)
    local = local_limit(params, source, p)
    if local is not None:
        found.append(local.value)
    if uses_ultra:
        ultra = source.limit("ultra_low", p)
        if ultra is not None:
            found.append(ultra)
    return min(found) if found else None


def rates(rows: OutletRows, params: ParameterSet, pollutants: Sequence[Pollutant],
          ultra_low: frozenset[str] | None = None) -> npt.NDArray[np.float64]:
    """(n, P) rate column for `permit_caps`: NaN where a row does not discharge a pollutant.

    ``ultra_low`` replaces the table's set of sectors that must use ultra-low limits.
    """
    n_t = len(rows.templates)
    table = np.full((n_t, max(len(rows.sectors), 1), len(pollutants)), np.nan)
    for k, (_name, t) in enumerate(rows.templates):
        for s, sector in enumerate(rows.sectors):
            for j, p in enumerate(pollutants):
                if p in t.pollutants:
                    v = _limit(params, t, sector, p, ultra_low)
                    if v is not None:
                        table[k, s, j] = float(v)
    return table[rows.template, rows.sector] if len(rows.template) else np.zeros(
        (0, len(pollutants)))


# --------------------------------------------------------------------------- audit: the sheet


def sheet_for(site: Site, params: ParameterSet,
              hours: Mapping[str, Decimal] | None = None) -> dict[str, Any]:
    """The calculation sheet equivalent to a site's derived rows (for audit and the tests):
    `compute_sheet` of it gives the specification basis `permit_caps` gives on the rows."""
    hours = dict(hours or {})
    cap = capacity_in_base(site)
    if isinstance(cap, str):
        raise ValueError(cap)
    outlets: list[dict[str, Any]] = []
    unit_mw = unit_mw_of(site, cap)
    for t in profiles_for(params)[profile_name(site.sector, site.fuel, params, unit_mw)]:
        act = _activity(t.activity, cap, hours, site.sector, t.factor)
        o: dict[str, Any] = {"id": t.id, "method": t.method, "name": t.name,
                             "pollutants": [p.value for p in t.pollutants]}
        if t.method == "thermal_power_performance":
            o |= {"capacity": str(act), "capacity_unit": "MW"}
            if t.band is not None:
                o["unit_capacity"] = str(unit_mw)
            if site.sector in hours:
                o["hours"] = str(hours[site.sector])
        elif t.method in ("steel_process", "cement_process"):
            o |= {"process": t.process, "production": str(act)}
            proc_table = params.processes["steel" if t.method == "steel_process" else "cement"]
            product = proc_table[t.process or ""].product
            if product is not None:
                o["product"] = product
        elif t.method == "wastewater":
            assert t.volume is not None
            o |= {"water": str(act * t.volume), "source": t.source}
        else:
            o |= {"fuel": str(act), "flue_gas_volume": str(t.volume), "source": t.source}
        if t.national:
            o["applicable_standards"] = {"national": {p.value: str(v)
                                                      for p, v in t.national.items()}}
        outlets.append(o)
    return {"sector": site.sector, "parameter_version": params.version,
            "permit_code": site.permit, "outlets": outlets}


def infer_fuels(sites: Sequence[Site], stored: Sequence[Mapping[Pollutant, int]],
                params: ParameterSet) -> list[str | None]:
    """Boiler fuel per site (None for other sectors): the fuel whose derived specification
    basis equals the stored one on every pollutant, else the nearest in relative terms, coal
    on ties. The site record has no fuel; this keeps a recomputation consistent with the
    specification the permit was issued with (see the module docstring)."""
    from allocation.quantities import permit_caps

    out: list[str | None] = [None] * len(sites)
    idx = [i for i, s in enumerate(sites) if s.sector == "industrial_boiler"]
    if not idx:
        return out
    pollutants = tuple(Pollutant)
    best: dict[int, tuple[float, str]] = {}
    for fuel in BOILER_FUELS:  # coal first: ties keep coal
        cand = [Site(sites[i].permit, sites[i].sector, sites[i].capacity,
                     sites[i].capacity_unit, fuel, sites[i].unit_mw) for i in idx]
        rows = derive(cand, params)
        spec = permit_caps(rows.method, rows.activity, rows.volume,
                           rates(rows, params, pollutants), facility=rows.facility,
                           n_facilities=len(cand)).specification_kg
        for k, i in enumerate(idx):
            err = 0.0
            for p, kg in stored[i].items():
                got = int(spec[k, pollutants.index(p)])
                err += abs(got - kg) / max(1, abs(kg))
            if i not in best or err < best[i][0]:
                best[i] = (err, fuel)
    for i in idx:
        out[i] = best[i][1]
    return out
