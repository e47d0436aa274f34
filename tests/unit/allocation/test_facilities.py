"""Derived facility rows: the vectorised path agrees with the calculation sheet, and the
profiles reproduce the demo's specification basis."""

from __future__ import annotations

import random
from decimal import Decimal

import numpy as np
import pytest

from allocation.facilities import (
    PROFILES,
    Site,
    derive,
    infer_fuels,
    profile_name,
    rates,
    sheet_for,
)
from allocation.parameters import get_parameters
from allocation.quantities import permit_caps
from allocation.sheet import compute_sheet
from kernel.pollutants import Pollutant

PARAMS = get_parameters("2025.1")
POLS = tuple(Pollutant)
UNITS = {"thermal_power": "MW", "steel": "万t/a", "cement": "t/d", "chemicals": "万t/a",
         "paper": "万t/a", "industrial_boiler": "t/h", "sewage": "万m3/d"}


def spec_of(sites: list[Site], hours: dict[str, Decimal] | None = None) -> np.ndarray:
    from allocation.facilities import activity_volume

    rows = derive(sites, PARAMS)
    activity, volume = activity_volume(rows, PARAMS, hours)
    return permit_caps(rows.method, activity, volume, rates(rows, PARAMS, POLS),
                       facility=rows.facility, n_facilities=len(sites)).specification_kg


def random_site(rng: random.Random, i: int) -> Site:
    sector = rng.choice(sorted(UNITS))
    places = rng.choice([0, 1, 3])
    cap = Decimal(rng.randint(1, 2_000_000)) / (10 ** places)
    fuel = rng.choice(["coal", "gas"]) if sector == "industrial_boiler" else None
    return Site(f"P{i}", sector, cap, UNITS[sector], fuel)


@pytest.mark.parametrize("seed", range(5))
def test_rows_agree_with_the_sheet(seed: int) -> None:
    rng = random.Random(seed)
    sites = [random_site(rng, i) for i in range(60)]
    hours = {"thermal_power": Decimal(rng.choice([4500, 5000, 5500])),
             "industrial_boiler": Decimal(rng.choice([3000, 5000, 7200]))}
    for h in (None, hours):
        spec = spec_of(sites, h)
        for f, site in enumerate(sites):
            sheet = compute_sheet(sheet_for(site, PARAMS, h), params=PARAMS)
            for j, p in enumerate(POLS):
                got = int(spec[f, j])
                want = sheet["pollutants"].get(p.value)
                assert got == (want["candidates"]["specification"]["kg"] if want else -1), (
                    site, p, h)


def test_profiles_reproduce_the_demo_specification() -> None:
    from app import demo_municipality as demo

    for sector in demo.SECTORS:
        fuels = ["coal", "gas"] if sector == "industrial_boiler" else [""]
        for fuel in fuels:
            rng = random.Random(sector)
            for _ in range(30):
                cap, _f = demo.draw_capacity(rng, sector)
                want = demo.specification_kg(sector, cap, fuel)
                site = Site("P", sector, Decimal(cap), demo.CAPACITY_UNIT[sector], fuel or None)
                got = spec_of([site])
                for pol, kg in want.items():
                    assert int(got[0, POLS.index(Pollutant(pol))]) == kg, (sector, cap, pol)


def test_boiler_fuel_is_the_one_that_matches_the_stored_basis() -> None:
    sites = [Site(f"B{i}", "industrial_boiler", Decimal(c), "t/h", f)
             for i, (c, f) in enumerate([(10, "gas"), (35, "coal"), (75, "gas")])]
    spec = spec_of(sites)
    stored = [{p: int(spec[f, j]) for j, p in enumerate(POLS) if spec[f, j] >= 0}
              for f in range(len(sites))]
    blind = [Site(s.permit, s.sector, s.capacity, s.capacity_unit) for s in sites]
    assert infer_fuels(blind, stored, PARAMS) == ["gas", "coal", "gas"]
    assert infer_fuels(blind, [{}, {}, {}], PARAMS) == ["coal", "coal", "coal"]


def test_unknown_units_and_sectors_are_skipped_with_the_reason() -> None:
    rows = derive([Site("A", "steel", Decimal(10), "bbl/d"),
                   Site("B", "mining", Decimal(1), "t"),
                   Site("C", "sewage", Decimal(2), "万m3/d")], PARAMS)
    assert [f for f, _ in rows.skipped] == [0, 1]
    assert "bbl/d" in rows.skipped[0][1] and "mining" in rows.skipped[1][1]
    assert set(rows.facility.tolist()) == {2}


def test_ultra_low_adoption_changes_concentration_rows_only() -> None:
    site = Site("K", "cement", Decimal(5000), "t/d")
    rows = derive([site], PARAMS)
    strict = rates(rows, PARAMS, POLS)
    loose = rates(rows, PARAMS, POLS, ultra_low=frozenset())
    so2 = POLS.index(Pollutant.SO2)
    assert strict[0, so2] == 35 and loose[0, so2] == 200  # kiln tail: ultra-low vs GB 4915
    assert profile_name("industrial_boiler") == "industrial_boiler:coal"
    assert all(t.pollutants for ts in PROFILES.values() for t in ts)
