"""Parameter version 2025.2: permitted quantities as the permit specifications define them
(issue 15). Each rule has a worked figure done by hand in the comments; 2025.1 keeps its
figures so that old sheets recompute identically."""

from __future__ import annotations

import copy
import json
import random
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from allocation.errors import SheetError
from allocation.facilities import (
    Site,
    activity_volume,
    derive,
    profile_version,
    rates,
    sheet_for,
)
from allocation.parameters import get_parameters, parse_parameter_set
from allocation.quantities import permit_caps
from allocation.sheet import compute_sheet
from kernel.pollutants import Pollutant

TODAY = date(2025, 6, 1)
NEW = get_parameters("2025.2")
OLD = get_parameters("2025.1")
POLS = tuple(Pollutant)
RAW_NEW = json.loads(
    (Path(__file__).parents[3] / "allocation" / "params" / "2025.2.json").read_text("utf-8"))


def run(doc: dict[str, Any], params: Any = None) -> dict[str, Any]:
    out = compute_sheet(doc, today=TODAY, params=params)
    json.dumps(out)
    return out


def spec_kg(out: dict[str, Any], p: str) -> int:
    return int(out["pollutants"][p]["candidates"]["specification"]["kg"])


def line(out: dict[str, Any], p: str, i: int = 0) -> dict[str, Any]:
    return dict(out["pollutants"][p]["outlets"][i])


def test_version_is_bundled_ahead_of_its_date_and_old_stays() -> None:
    assert (NEW.effective, OLD.effective) == (date(2027, 1, 1), date(2025, 1, 1))
    assert get_parameters(on=date(2026, 12, 31)).version == "2025.1"
    assert get_parameters(on=date(2027, 1, 1)).version == "2025.2"
    assert NEW.regions is not None and NEW.regions.province == "chongqing"
    assert NEW.regions.default_area == "general" and NEW.regions.areas["key"] is True
    assert "performance_values_g_per_kwh" in NEW.unverified and "regions" in NEW.unverified


# --------------------------------------------------------------------------- 1 GPS bands


def perf(cap: str, **extra: Any) -> dict[str, Any]:
    return {"id": "DA001", "method": "thermal_power_performance", "capacity": cap, **extra}


def test_performance_values_by_unit_capacity_band() -> None:
    # thermal power must use ultra-low: ultra_low column. 600 MW unit -> band 450-750
    # (3.1 Nm3/kWh): SO2 3.1 × 35 / 1000 = 0.1085 g/kWh; 600 MW × 5000 h × 0.1085 × 1e-3
    # = 325.5 t. NOx 0.155 → 465 t; PM 0.031 → 93 t.
    out = run({"sector": "thermal_power", "parameter_version": "2025.2",
               "outlets": [perf("600")]})
    assert (spec_kg(out, "SO2"), spec_kg(out, "NOx"), spec_kg(out, "PM")) == (
        325_500, 465_000, 93_000)
    row = line(out, "SO2")["performance_row"]
    assert row == {"band": "450-750", "column": "ultra_low", "unit_capacity_mw": "600",
                   "area": "general", "province": "chongqing"}
    assert line(out, "SO2")["gps_g_per_kwh"] == "0.1085"
    # 1000 MW unit: band ge750 (3.0): SO2 0.105 → 1000 × 5000 × 0.105e-3 = 525 t
    big = run({"sector": "thermal_power", "parameter_version": "2025.2",
               "outlets": [perf("1000")]})
    assert spec_kg(big, "SO2") == 525_000
    assert line(big, "SO2")["performance_row"]["band"] == "ge750"
    # a 2 × 300 MW outlet: the band is the unit's (250-450, 3.3): SO2 0.1155
    # → 600 × 5000 × 0.1155e-3 = 346.5 t
    two = run({"sector": "thermal_power", "parameter_version": "2025.2",
               "outlets": [perf("600", unit_capacity="300")]})
    assert spec_kg(two, "SO2") == 346_500
    # band edges: 250 MW is in 250-450, 249.9 in lt250, 750 in ge750
    for mw, band in (("250", "250-450"), ("249.9", "lt250"), ("750", "ge750")):
        o = run({"sector": "thermal_power", "parameter_version": "2025.2",
                 "outlets": [perf(mw)]})
        assert line(o, "SO2")["performance_row"]["band"] == band


def test_performance_values_by_region_outside_ultra_low() -> None:
    # chemicals does not use ultra-low. A 300 MW unit (band 250-450, 3.3 Nm3/kWh):
    # Chongqing is a high-sulphur province (GB 13223 note, SO2 200): 3.3 × 200 / 1000 = 0.66
    # g/kWh → 300 × 5000 × 0.66e-3 = 990 t
    doc = {"sector": "chemicals", "parameter_version": "2025.2",
           "outlets": [perf("300", pollutants=["SO2"])]}
    assert spec_kg(run(doc), "SO2") == 990_000
    assert line(run(doc), "SO2")["performance_row"]["column"] == "high_sulphur"
    # key control area: special limit SO2 50 → 0.165 g/kWh → 247.5 t
    key = run({**doc, "area": "key"})
    assert spec_kg(key, "SO2") == 247_500
    assert line(key, "SO2")["performance_row"]["column"] == "key"
    assert key["region"] == {"province": "chongqing", "area": "key", "special_limits": True}
    # outside the four provinces: ordinary SO2 100 → 0.33 → 495 t
    assert spec_kg(run({**doc, "province": "hubei"}), "SO2") == 495_000


def test_old_version_keeps_one_performance_set() -> None:
    # 2025.1: ultra-low SO2 0.12 g/kWh whatever the unit: 600 × 5000 × 0.12e-3 = 360 t
    out = run({"sector": "thermal_power", "parameter_version": "2025.1",
               "outlets": [perf("600")]})
    assert spec_kg(out, "SO2") == 360_000
    assert "performance_row" not in line(out, "SO2") and "region" not in out
    with pytest.raises(SheetError) as e:
        run({"sector": "thermal_power", "parameter_version": "2025.1",
             "outlets": [perf("600", unit_capacity="300")]})
    assert e.value.field == "outlets[0].unit_capacity"
    with pytest.raises(SheetError) as e:
        run({"sector": "thermal_power", "parameter_version": "2025.1", "area": "key",
             "outlets": [perf("600")]})
    assert e.value.field == "area"


# --------------------------------------------------------------------------- 2 local (DB50)


def gas(**extra: Any) -> dict[str, Any]:
    return {"sector": "industrial_boiler", "parameter_version": "2025.2",
            "outlets": [{"id": "DA001", "method": "gas_boiler", "fuel": "1000",
                         "flue_gas_volume": "10"}], **extra}


def test_db50_standard_is_named_and_flagged_until_its_limits_are_entered() -> None:
    out = run(gas())
    rows = line(out, "NOx")["standard_rows"]
    assert rows["local_not_entered"].startswith("DB50/658-2016")
    assert "concentration_limits.gas_boiler.local_standards[0]" in out["parameters_to_verify"]
    # GB 13271 table 2 gas NOx 200: 1000 × 1e4 Nm3 × 10 × 200 × 1e-5 = 20 t
    assert spec_kg(out, "NOx") == 20_000


def with_local(limits: dict[str, str], areas: list[str]) -> Any:
    raw = copy.deepcopy(RAW_NEW)
    raw["concentration_limits"]["gas_boiler"]["local_standards"][0].update(
        limits=limits, areas=areas)
    return parse_parameter_set(raw)


def test_local_standard_binds_where_it_is_stricter_in_its_area() -> None:
    params = with_local({"NOx": "100"}, ["general"])
    out = run(gas(), params)
    # local NOx 100 < national 200: 1000 × 10 × 100 × 1e-5 = 10 t, binding kind "local"
    assert spec_kg(out, "NOx") == 10_000
    assert line(out, "NOx")["concentration_source"] == "local"
    assert line(out, "NOx")["standard_rows"]["local"].startswith("DB50/658-2016")
    assert out["pollutants"]["NOx"]["concentration_source"] == "local"
    # the standard is scoped to the general area: in the key area the special limit
    # (GB 13271 table 3, gas NOx 150) applies instead: 1000 × 10 × 150 × 1e-5 = 15 t
    key = run(gas(area="key"), params)
    assert spec_kg(key, "NOx") == 15_000
    assert line(key, "NOx")["concentration_source"] == "national"
    assert "local" not in line(key, "NOx")["concentration_candidates"]


def test_local_standard_areas_must_be_known() -> None:
    raw = copy.deepcopy(RAW_NEW)
    raw["concentration_limits"]["gas_boiler"]["local_standards"][0]["areas"] = ["moon"]
    with pytest.raises(ValueError, match="unknown area"):
        parse_parameter_set(raw)
    raw = copy.deepcopy(RAW_NEW)
    raw["performance_values_g_per_kwh"]["bands"][-1]["min_mw"] = "10"  # lt250 no longer 0
    with pytest.raises(ValueError, match="start at 0"):
        parse_parameter_set(raw)


# --------------------------------------------------------------------------- 3 high sulphur


def coal(sector: str, source: str, **extra: Any) -> dict[str, Any]:
    return {"sector": sector, "parameter_version": "2025.2",
            "outlets": [{"id": "DA001", "method": "coal_boiler", "fuel": "10000",
                         "flue_gas_volume": "10", "source": source, "pollutants": ["SO2"]}],
            **extra}


def test_high_sulphur_exception_for_existing_coal_boilers_in_chongqing() -> None:
    # GB 13271-2014 table 1 note: existing coal boilers in Chongqing SO2 550 (not 400):
    # 10 000 t × 10 Nm3/kg × 550 × 1e-6 = 55 t
    out = run(coal("industrial_boiler", "coal_boiler_existing"))
    assert spec_kg(out, "SO2") == 55_000
    assert "GB 13271-2014" in line(out, "SO2")["standard_rows"]["national"]
    assert "(chongqing)" in line(out, "SO2")["standard_rows"]["national"]
    # elsewhere the ordinary 400: 40 t; in a key area the special 200: 20 t
    assert spec_kg(run(coal("industrial_boiler", "coal_boiler_existing",
                            province="hubei")), "SO2") == 40_000
    assert spec_kg(run(coal("industrial_boiler", "coal_boiler_existing", area="key")),
                   "SO2") == 20_000
    # new coal boilers (GB 13271 table 2) have no exception: 300 → 30 t
    assert spec_kg(run(coal("industrial_boiler", "coal_boiler")), "SO2") == 30_000
    # 2025.1 has no exception: existing source did not exist; new boilers 300 → 30 t
    old = coal("industrial_boiler", "coal_boiler")
    old["parameter_version"] = "2025.1"
    assert spec_kg(run(old), "SO2") == 30_000


def test_ultra_low_still_governs_thermal_power_in_chongqing() -> None:
    out = run(coal("thermal_power", "coal_power_existing"))
    # national candidate is the GB 13223 note's 400 for existing units in Chongqing, but
    # ultra-low 35 binds: 10 000 × 10 × 35 × 1e-6 = 3.5 t
    assert line(out, "SO2")["concentration_candidates"] == {"national": "400",
                                                            "ultra_low": "35"}
    assert spec_kg(out, "SO2") == 3_500
    assert line(out, "SO2")["concentration_source"] == "ultra_low"
    assert "concentration_limits.coal_power_existing.provincial[0]" in out[
        "parameters_to_verify"]


# --------------------------------------------------------------------------- 4 steel products


def test_steel_processes_on_their_own_product() -> None:
    doc: dict[str, Any] = {"sector": "steel", "parameter_version": "2025.2", "outlets": [
        {"id": "DA001", "method": "steel_process", "process": "sinter_head",
         "production": "1080000", "product": "sinter"},
        {"id": "DA005", "method": "steel_process", "process": "blast_furnace_casthouse",
         "production": "900000", "product": "hot_metal"}]}
    out = run(doc)
    # sinter head: 1 080 000 t sinter × 3500 Nm3/t × 35 × 1e-9 = 132.3 t SO2
    assert spec_kg(out, "SO2") == 132_300
    # PM: sinter head 1 080 000 × 3500 × 10e-9 = 37.8 t + casthouse 900 000 × 1500 × 10e-9
    # = 13.5 t → 51.3 t
    assert spec_kg(out, "PM") == 51_300
    assert line(out, "SO2")["inputs"]["product"] == "sinter"
    bad = copy.deepcopy(doc)
    bad["outlets"][0]["product"] = "crude_steel"
    with pytest.raises(SheetError) as e:
        run(bad)
    assert e.value.field == "outlets[0].product" and "sinter" in e.value.message


def test_steel_site_rows_use_each_process_product() -> None:
    site = Site("S", "steel", Decimal(100), "万t/a")  # 1 000 000 t crude steel
    new = compute_sheet(sheet_for(site, NEW), params=NEW, today=TODAY)
    old = compute_sheet(sheet_for(site, OLD), params=OLD, today=TODAY)
    # 2025.2: sinter = 1.08 t per t crude steel: 1 080 000 × 3500 × 35e-9 = 132.3 t SO2;
    # hot blast stove and reheat furnace are general outlets (no quantity)
    assert spec_kg(new, "SO2") == 132_300
    # 2025.1 (unchanged): every process on crude steel, three SO2 outlets:
    # 1e6 × 3500 × 35e-9 + 2 × 1e6 × 1500 × 50e-9 = 122.5 + 150 = 272.5 t
    assert spec_kg(old, "SO2") == 272_500
    assert {g["outlet"] for g in new["general_outlets"]} == set()  # profile has no rows
    assert profile_version(NEW) == "2025.2" and profile_version(OLD) == "2025.1"


# --------------------------------------------------------------------------- 5 general outlets


def cement(version: str, *extra: dict[str, Any]) -> dict[str, Any]:
    return {"sector": "cement", "parameter_version": version, "outlets": [
        {"id": "DA001", "method": "cement_process", "process": "kiln_tail",
         "production": "1000000"},
        {"id": "DA002", "method": "cement_process", "process": "kiln_head",
         "production": "1000000"},
        {"id": "DA003", "method": "cement_process", "process": "coal_mill",
         "production": "1000000"},
        {"id": "DA004", "method": "cement_process", "process": "cement_mill",
         "production": "1300000"}, *extra]}


def test_general_outlets_get_a_limit_and_no_quantity() -> None:
    out = run(cement("2025.2"))
    # PM on main outlets only: kiln tail 1e6 × 2500 × 10e-9 = 25 t + kiln head
    # 1e6 × 1500 × 10e-9 = 15 t = 40 t
    assert spec_kg(out, "PM") == 40_000
    assert [o["outlet"] for o in out["pollutants"]["PM"]["outlets"]] == ["DA001", "DA002"]
    general = {g["outlet"]: g for g in out["general_outlets"]}
    assert set(general) == {"DA003", "DA004"}
    assert "kg" not in general["DA004"] and general["DA004"]["concentration"] == "10"
    assert general["DA004"]["inputs"]["outlet_class"] == "general"
    # 2025.1 (unchanged) counts the mills: + 1e6 × 400 × 10e-9 = 4 t
    # + 1.3e6 × 800 × 10e-9 = 10.4 t → 54.4 t
    assert spec_kg(run(cement("2025.1")), "PM") == 54_400


def test_cement_site_rows_have_main_outlets_only() -> None:
    site = Site("C", "cement", Decimal(5000), "t/d")  # 5000 × 310 = 1 550 000 t clinker
    rows = derive([site], NEW)
    assert len(rows.facility) == 2
    spec = permit_caps(rows.method, rows.activity, rows.volume, rates(rows, NEW, POLS),
                       facility=rows.facility, n_facilities=1).specification_kg
    # PM: 1 550 000 × (2500 + 1500) × 10e-9 = 62 t
    assert int(spec[0, POLS.index(Pollutant.PM)]) == 62_000


# --------------------------------------------------------------------------- 6 cement mill PM


def test_cement_mill_and_kiln_head_limits_follow_gb_4915_tables() -> None:
    no_ultra = replace(NEW, ultra_low_sectors=frozenset())
    out = run(cement("2025.2"), no_ultra)
    general = {g["outlet"]: g for g in out["general_outlets"]}
    # GB 4915-2013 table 1: mills 20 (table 2 special: 10); coal mill and cooler 30 (20)
    assert general["DA004"]["concentration"] == "20"
    assert general["DA003"]["concentration"] == "30"
    # kiln head 1e6 × 1500 × 30e-9 = 45 t + kiln tail 1e6 × 2500 × 30e-9 = 75 t = 120 t
    assert spec_kg(out, "PM") == 120_000
    key = run({**cement("2025.2"), "area": "key"}, no_ultra)
    general = {g["outlet"]: g for g in key["general_outlets"]}
    assert (general["DA004"]["concentration"], general["DA003"]["concentration"]) == ("10",
                                                                                      "20")
    # key area: kiln head 1e6 × 1500 × 20e-9 = 30 t + kiln tail (special 20) 50 t = 80 t
    assert spec_kg(key, "PM") == 80_000
    # 2025.1 had kiln head at 20 (GB 4915 'other' row): 1e6 × 1500 × 20e-9 = 30 t
    old = replace(OLD, ultra_low_sectors=frozenset())
    assert run(cement("2025.1"), old)["pollutants"]["PM"]["outlets"][1]["concentration"] == "20"


# --------------------------------------------------------------------------- facility rows


UNITS = {"thermal_power": "MW", "steel": "万t/a", "cement": "t/d", "chemicals": "万t/a",
         "paper": "万t/a", "industrial_boiler": "t/h", "sewage": "万m3/d"}


@pytest.mark.parametrize("seed", range(4))
def test_rows_agree_with_the_sheet_under_2025_2(seed: int) -> None:
    rng = random.Random(seed)
    sites = []
    for i in range(60):
        sector = rng.choice(sorted(UNITS))
        cap = Decimal(rng.randint(1, 2_000_000)) / (10 ** rng.choice([0, 1, 3]))
        fuel = rng.choice(["coal", "gas"]) if sector == "industrial_boiler" else None
        unit = Decimal(rng.choice([150, 300, 600, 1000])) if rng.random() < 0.5 else None
        sites.append(Site(f"P{i}", sector, cap, UNITS[sector], fuel, unit))
    hours = {"thermal_power": Decimal(5500), "industrial_boiler": Decimal(7200)}
    for h in (None, hours):
        rows = derive(sites, NEW)
        activity, volume = activity_volume(rows, NEW, h)
        spec = permit_caps(rows.method, activity, volume, rates(rows, NEW, POLS),
                           facility=rows.facility, n_facilities=len(sites)).specification_kg
        for f, site in enumerate(sites):
            sheet = compute_sheet(sheet_for(site, NEW, h), params=NEW, today=TODAY)
            for j, p in enumerate(POLS):
                want = sheet["pollutants"].get(p.value)
                got = int(spec[f, j])
                assert got == (want["candidates"]["specification"]["kg"] if want else -1), (
                    site, p, h)


def test_thermal_site_band_from_unit_capacity() -> None:
    # 2 × 300 MW plant (unit unknown: capacity ÷ 2 = 300 → 250-450, 3.3 Nm3/kWh):
    # SO2 0.1155 g/kWh × 600 MW × 5000 h × 1e-3 = 346.5 t; a 1 × 600 MW plant (450-750):
    # 0.1085 → 325.5 t
    sites = [Site("A", "thermal_power", Decimal(600), "MW"),
             Site("B", "thermal_power", Decimal(600), "MW", unit_mw=Decimal(600))]
    rows = derive(sites, NEW)
    spec = permit_caps(rows.method, rows.activity, rows.volume, rates(rows, NEW, POLS),
                       facility=rows.facility, n_facilities=2).specification_kg
    so2 = POLS.index(Pollutant.SO2)
    assert spec[:, so2].tolist() == [346_500, 325_500]
    old = derive(sites, OLD)
    spec_old = permit_caps(old.method, old.activity, old.volume, rates(old, OLD, POLS),
                           facility=old.facility, n_facilities=2).specification_kg
    assert np.all(spec_old[:, so2] == 360_000)  # 2025.1: 0.12 for every unit


# --------------------------------------------------------------------------- CLI


def test_cli_permitted_quantity_with_the_new_version(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main

    path = tmp_path / "sheet.json"
    path.write_text(json.dumps({"sector": "thermal_power", "parameter_version": "2025.2",
                                "outlets": [perf("600")]}), encoding="utf-8")
    assert main(["permitted-quantity", "--input", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["parameter_version"] == "2025.2"
    assert out["pollutants"]["SO2"]["permitted_kg"] == 325_500
    path.write_text(json.dumps({"sector": "thermal_power", "parameter_version": "2025.2",
                                "area": "suburb", "outlets": [perf("600")]}),
                    encoding="utf-8")
    assert main(["permitted-quantity", "--input", str(path)]) == 2
    assert "field area" in capsys.readouterr().err
