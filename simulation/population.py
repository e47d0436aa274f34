"""Agents and markets of a simulation (pure): from an allocation scenario's run, or by hand.

An agent is one facility's quantity of one pollutant; it trades in the market of that
pollutant and its zone (the ledger asset ``POLLUTANT/ZONE/VINTAGE``). It holds, at the start,
the permitted quantity the scenario gives it (kg); its emissions forecast is the calculated
cap of the baseline run x the sector's emission-to-cap ratio x (1 + growth), whole kg; its
MAC curve is its sector's row of the table, scaled by size (forecast against the median of
its sector and pollutant, to the table's elasticity, clipped) and by current technology (a
sector at ultra-low limits, a gas-fired boiler: air pollutants only). Each market's reserve to
auction is the zone's usable reserve net of the strategic share the scenario retains; its
reserve price and first reference price are the base price of `trading.prices`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from allocation.scenario import Run
from simulation.mac import Curves, MacTable, build_curves, pad_points
from trading.prices import BASE_PRICE_VERSION, base_price

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Market:
    pollutant: str
    zone: str
    reserve_kg: int  # offered at the auctions over the year
    reserve_price: int  # fen per tonne (the base price)
    reference_price: int  # fen per tonne, the first day's
    tick: int = 1
    min_lot: int = 1
    band_pct: int | None = 30

    @property
    def id(self) -> str:
        return f"{self.pollutant}/{self.zone}"


@dataclass(frozen=True, eq=False)
class Population:
    market: IntArray  # (N,) market index of each agent
    permitted_kg: IntArray  # (N,) held at the start
    granted_kg: IntArray  # (N,) the scenario's administrative reserve grant (no-trade world)
    emissions_kg: IntArray  # (N,) forecast, before abatement
    curves: Curves
    markets: tuple[Market, ...]
    permits: tuple[str, ...]  # (N,) permit code of each agent
    sectors: tuple[str, ...]  # (N,)
    scenario: str = ""
    year: int = 0
    parameter_version: str = ""  # the allocation table
    mac_version: str = ""

    @property
    def n(self) -> int:
        return len(self.market)


def scale_factors(table: MacTable, sectors: Sequence[str], pollutants: Sequence[str],
                  emissions_kg: IntArray, technology: Sequence[str | None]) -> npt.NDArray[
                      np.float64]:
    """Size x technology factor of each agent (see the module docstring)."""
    e = np.maximum(np.asarray(emissions_kg, dtype=np.float64), 1.0)
    keys = [f"{s}|{p}" for s, p in zip(sectors, pollutants, strict=True)]
    median: dict[str, float] = {}
    for k in set(keys):
        median[k] = float(np.median(e[[i for i, x in enumerate(keys) if x == k]]))
    lo, hi = table.size_clip
    out = np.empty(len(e))
    for i, k in enumerate(keys):
        size = (e[i] / median[k]) ** table.elasticity(pollutants[i])
        tech = table.technology.get(technology[i] or "", 1.0)
        out[i] = min(max(size, lo), hi) * tech
    return out


def make_population(table: MacTable, *, markets: Sequence[Market], market: Sequence[int],
                    sectors: Sequence[str], permitted_kg: Sequence[int],
                    emissions_kg: Sequence[int], granted_kg: Sequence[int] | None = None,
                    permits: Sequence[str] | None = None,
                    technology: Sequence[str | None] | None = None, scale: bool = True,
                    scenario: str = "", year: int = 0, parameter_version: str = ""
                    ) -> Population:
    """A population from plain lists (tests, and `from_run`)."""
    n = len(market)
    e = np.asarray(emissions_kg, dtype=np.int64)
    pols = [markets[m].pollutant for m in market]
    tech = list(technology) if technology is not None else [None] * n
    rows = [table.curve(s, p) for s, p in zip(sectors, pols, strict=True)]
    fr, ys = pad_points(rows) if rows else (np.zeros((0, 2)), np.zeros((0, 2)))
    factor = (scale_factors(table, sectors, pols, e, tech) if scale and n
              else np.ones(n))
    return Population(
        market=np.asarray(market, dtype=np.int64),
        permitted_kg=np.asarray(permitted_kg, dtype=np.int64),
        granted_kg=np.asarray(granted_kg if granted_kg is not None else [0] * n,
                              dtype=np.int64),
        emissions_kg=e, curves=build_curves(fr, ys, e.astype(np.float64), factor),
        markets=tuple(markets),
        permits=tuple(permits) if permits is not None else tuple(f"A{i}" for i in range(n)),
        sectors=tuple(sectors), scenario=scenario, year=year,
        parameter_version=parameter_version, mac_version=table.version)


def _fuel_of(run: Run) -> list[str | None]:
    """Per facility, "gas" when its boiler profile burns gas."""
    rows = run.baseline.rows
    out: list[str | None] = [None] * run.baseline.n
    names = [name for name, _t in rows.templates]
    for r in range(len(rows.facility)):
        if names[int(rows.template[r])].endswith(":gas"):
            out[int(rows.facility[r])] = "gas"
    return out


def from_run(run: Run, baseline_run: Run, table: MacTable, *, band_pct: int | None = 30,
             tick: int = 1, min_lot: int = 1, price_version: str = BASE_PRICE_VERSION
             ) -> Population:
    """Agents and markets of a scenario run; forecasts from the baseline run's caps."""
    b = run.baseline
    pols = [p.value for p in b.pollutants]
    ultra = b.params.ultra_low_sectors | run.changes.ultra_low_sectors
    fuel = _fuel_of(run)
    cap0 = baseline_run.cap_kg
    keys: dict[tuple[int, int], int] = {}
    mk: list[int] = []
    sectors: list[str] = []
    permitted: list[int] = []
    granted: list[int] = []
    emissions: list[int] = []
    permits: list[str] = []
    tech: list[str | None] = []
    for f, j in zip(*np.nonzero(b.carried & (run.permitted_kg >= 0)), strict=True):
        f, j = int(f), int(j)
        sector = b.sectors[f]
        ratio, growth = table.emission(sector)
        e0 = int(round(max(int(cap0[f, j]), 0) * ratio * (1 + growth)))
        if e0 <= 0:
            continue
        k = int(b.zone[f, j])
        mk.append(keys.setdefault((k, j), len(keys)))
        sectors.append(sector)
        permitted.append(int(run.permitted_kg[f, j]))
        granted.append(max(int(run.granted_kg[f, j]), 0))
        emissions.append(e0)
        permits.append(b.permits[f])
        air = b.pollutants[j].medium == "air"  # ultra-low limits and fuels are of the air
        tech.append(None if not air else "ultra_low" if sector in ultra else fuel[f])
    num, den = run.changes.retained_share.as_integer_ratio()
    markets = []
    for (k, j), _i in sorted(keys.items(), key=lambda kv: kv[1]):
        usable = max(int(run.reserve_kg[k, j]), 0)
        offered = usable - (-(-usable * num // den))
        price = base_price(pols[j], price_version)
        markets.append(Market(pols[j], b.zones[k], offered, price, price, tick, min_lot,
                              band_pct))
    return make_population(table, markets=markets, market=mk, sectors=sectors,
                           permitted_kg=permitted, emissions_kg=emissions,
                           granted_kg=granted, permits=permits, technology=tech,
                           scenario=run.name, year=b.year,
                           parameter_version=b.params.version)
