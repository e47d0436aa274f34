"""Calculation sheets: each method against a worked example done by hand in the comments."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import pytest

from allocation.errors import SheetError
from allocation.sheet import compute_sheet
from kernel.errors import InvalidInput

TODAY = date(2025, 6, 1)


def sheet(sector: str, *outlets: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"sector": sector, "outlets": list(outlets), **extra}


def run(doc: dict[str, Any]) -> dict[str, Any]:
    out = compute_sheet(doc, today=TODAY)
    json.dumps(out)  # JSON-able
    return out


def spec_kg(out: dict[str, Any], p: str) -> int:
    return int(out["pollutants"][p]["candidates"]["specification"]["kg"])


# --------------------------------------------------------------------------- methods


def test_coal_boiler_uses_national_limit_outside_ultra_low_sectors() -> None:
    out = run(sheet("industrial_boiler",
                    {"id": "DA001", "method": "coal_boiler", "fuel": "120000",
                     "flue_gas_volume": "10.4"}))
    # GB 13271 limits 50 / 300 / 300 mg/Nm3.
    # SO2: 120 000 t × 10.4 Nm3/kg × 300 mg/Nm3 × 1e-6 = 374.4 t = 374 400 kg
    # PM:  120 000 × 10.4 × 50 × 1e-6 = 62.4 t
    assert spec_kg(out, "SO2") == 374_400
    assert spec_kg(out, "NOx") == 374_400
    assert spec_kg(out, "PM") == 62_400
    so2 = out["pollutants"]["SO2"]
    assert so2["permitted_t"] == "374.400" and so2["binding"] == "specification"
    assert so2["concentration_mg_nm3"] == "300" and so2["concentration_source"] == "national"
    assert so2["outlets"][0]["outlet"] == "DA001"
    assert out["parameter_version"] == "2025.1"


def test_coal_boiler_local_standard_and_commitment_are_stricter() -> None:
    doc = sheet("industrial_boiler",
                {"id": "DA001", "method": "coal_boiler", "fuel": "120", "fuel_unit": "kt",
                 "flue_gas_volume": "10.4"},
                applicable_standards={"local": {"SO2": "200"}}, commitments={"NOx": "150"})
    out = run(doc)
    # 120 kt = 120 000 t. SO2 local 200: 120 000 × 10.4 × 200 × 1e-6 = 249.6 t
    assert spec_kg(out, "SO2") == 249_600
    assert out["pollutants"]["SO2"]["concentration_source"] == "local"
    # NOx commitment 150: 120 000 × 10.4 × 150 × 1e-6 = 187.2 t
    assert spec_kg(out, "NOx") == 187_200
    assert out["pollutants"]["NOx"]["concentration_source"] == "commitment"
    # outlet-level national override beats the table
    doc["outlets"][0]["applicable_standards"] = {"national": {"PM": "30"}}
    # PM: 120 000 × 10.4 × 30 × 1e-6 = 37.44 t
    assert spec_kg(run(doc), "PM") == 37_440


def test_thermal_power_coal_boiler_uses_ultra_low() -> None:
    out = run(sheet("thermal_power",
                    {"id": "DA001", "method": "coal_boiler", "fuel": "500000",
                     "flue_gas_volume": "10.5"}))
    # ultra-low 10 / 35 / 50. SO2: 500 000 × 10.5 × 35 × 1e-6 = 183.75 t
    assert spec_kg(out, "SO2") == 183_750
    assert out["pollutants"]["SO2"]["concentration_source"] == "ultra_low"
    # NOx: 500 000 × 10.5 × 50 × 1e-6 = 262.5 t; PM: × 10 → 52.5 t
    assert spec_kg(out, "NOx") == 262_500
    assert spec_kg(out, "PM") == 52_500


def test_oil_boiler_rounds_half_even_to_kg() -> None:
    out = run(sheet("chemicals",
                    {"id": "DA002", "method": "oil_boiler", "fuel": "2.5", "fuel_unit": "kt",
                     "flue_gas_volume": "12.1", "pollutants": ["NOx"]}))
    # GB 13271 oil NOx 250: 2 500 t × 12.1 × 250 × 1e-6 = 7.5625 t = 7 562.5 kg -> 7 562 (even)
    assert spec_kg(out, "NOx") == 7_562
    assert out["pollutants"]["NOx"]["outlets"][0]["t_exact"] == "7.5625"
    assert list(out["pollutants"]) == ["NOx"]


def test_gas_boiler_empirical_flue_gas_volume() -> None:
    out = run(sheet("industrial_boiler",
                    {"id": "DA003", "method": "gas_boiler", "fuel": "1000000", "fuel_unit": "Nm3",
                     "qnet": "35.588"}))
    # 1 000 000 Nm3 = 100 × 1e4 Nm3; V = 0.285 × 35.588 + 0.343 = 10.14258 + 0.343 = 10.48558
    # NOx 200: 100 × 10.48558 × 200 × 1e-5 = 2.097116 t = 2 097.116 kg -> 2 097
    # SO2 50:  100 × 10.48558 × 50 × 1e-5 = 0.524279 t -> 524 kg
    # PM 20:   100 × 10.48558 × 20 × 1e-5 = 0.2097116 t -> 210 kg
    assert spec_kg(out, "NOx") == 2_097
    assert spec_kg(out, "SO2") == 524
    assert spec_kg(out, "PM") == 210
    line = out["pollutants"]["NOx"]["outlets"][0]
    assert line["inputs"]["flue_gas_nm3_per_nm3"] == "10.48558"
    assert line["inputs"]["flue_gas_basis"] == "empirical"


def test_gas_boiler_given_volume() -> None:
    out = run(sheet("industrial_boiler",
                    {"id": "DA003", "method": "gas_boiler", "fuel": "250",
                     "flue_gas_volume": "12", "pollutants": ["NOx"]}))
    # 250 × 1e4 Nm3 × 12 Nm3/Nm3 × 200 mg/Nm3 × 1e-5 = 6 t
    assert spec_kg(out, "NOx") == 6_000


def test_thermal_power_performance_with_heat_supply() -> None:
    out = run(sheet("thermal_power",
                    {"id": "DA001", "method": "thermal_power_performance", "capacity": "600",
                     "heat_supply": "1000000"}))
    # D = 1 000 000 MJ × 0.278 × 0.3 = 83 400 kWh; CAP × h = 600 × 5 000 = 3 000 000 MWh
    # SO2 (ultra-low GPS 0.12 g/kWh): (3 000 000 + 83 400 / 1000) × 0.12 × 1e-3
    #   = 3 000 083.4 × 0.00012 = 360.010008 t -> 360 010 kg
    # NOx (0.175): 3 000 083.4 × 0.000175 = 525.014595 t -> 525 015 kg
    # PM (0.035):  3 000 083.4 × 0.000035 = 105.002919 t -> 105 003 kg
    assert spec_kg(out, "SO2") == 360_010
    assert spec_kg(out, "NOx") == 525_015
    assert spec_kg(out, "PM") == 105_003
    assert out["pollutants"]["SO2"]["outlets"][0]["inputs"]["heat_supply_kwh"] == "83400"


def test_thermal_power_performance_units_and_hours() -> None:
    base = {"id": "DA001", "method": "thermal_power_performance", "pollutants": ["SO2"]}
    # 1 000 GJ = 1 000 000 MJ, 0.6 GW = 600 MW: same as above
    a = run(sheet("thermal_power", {**base, "capacity": "0.6", "capacity_unit": "GW",
                                   "heat_supply": "1000", "heat_supply_unit": "GJ"}))
    assert spec_kg(a, "SO2") == 360_010
    # D given directly in kWh: 83 400 kWh
    b = run(sheet("thermal_power", {**base, "capacity": "600", "heat_supply": "83400",
                                   "heat_supply_unit": "kWh"}))
    assert spec_kg(b, "SO2") == 360_010
    # alternative hours 5 500, no heat: 600 × 5 500 × 0.12 × 1e-3 = 396 t
    c = run(sheet("thermal_power", {**base, "capacity": "600", "hours_basis": "alternative"}))
    assert spec_kg(c, "SO2") == 396_000
    # explicit hours and GPS: 300 MW × 4 000 h × 0.2 g/kWh × 1e-3 = 240 t
    d = run(sheet("industrial_boiler", {**base, "capacity": "300", "hours": "4000",
                                       "gps_g_per_kwh": {"SO2": "0.2"}}))
    assert spec_kg(d, "SO2") == 240_000
    # outside ultra-low sectors the national GPS applies: 600 × 5 000 × 0.35 × 1e-3 = 1 050 t
    e = run(sheet("industrial_boiler", {**base, "capacity": "600"}))
    assert spec_kg(e, "SO2") == 1_050_000


def test_steel_process_from_base_exhaust_table_and_given() -> None:
    out = run(sheet("steel",
                    {"id": "DA010", "method": "steel_process", "process": "sinter_head",
                     "production": "200", "production_unit": "1e4t"}))
    # 200 × 1e4 t = 2 000 000 t sinter × 3 500 Nm3/t (table) × 35 mg/Nm3 (ultra-low) × 1e-9
    #   = 245 t SO2; NOx 50 -> 350 t; PM 10 -> 70 t
    assert spec_kg(out, "SO2") == 245_000
    assert spec_kg(out, "NOx") == 350_000
    assert spec_kg(out, "PM") == 70_000
    assert "processes.steel.sinter_head" in out["parameters_to_verify"]
    given = run(sheet("steel",
                      {"id": "DA010", "method": "steel_process", "process": "sinter_head",
                       "production": "2000000", "exhaust_volume": "3000",
                       "pollutants": ["SO2"]}))
    # 2 000 000 × 3 000 × 35 × 1e-9 = 210 t
    assert spec_kg(given, "SO2") == 210_000
    # casthouse discharges PM only (process table), steel ultra-low "other" PM 10:
    # 1 000 000 t × 1 500 × 10 × 1e-9 = 15 t
    cast = run(sheet("steel", {"id": "DA011", "method": "steel_process",
                               "process": "blast_furnace_casthouse", "production": "1000000"}))
    assert list(cast["pollutants"]) == ["PM"] and spec_kg(cast, "PM") == 15_000


def test_cement_process_kiln_tail() -> None:
    out = run(sheet("cement",
                    {"id": "DA001", "method": "cement_process", "process": "kiln_tail",
                     "production": "1500000"}))
    # 1 500 000 t clinker × 2 500 Nm3/t × 50 mg/Nm3 (ultra-low NOx) × 1e-9 = 187.5 t
    assert spec_kg(out, "NOx") == 187_500
    line = out["pollutants"]["NOx"]["outlets"][0]
    assert line["concentration_candidates"] == {"national": "400", "ultra_low": "50"}


def test_wastewater_sewage_plant() -> None:
    out = run(sheet("sewage",
                    {"id": "DW001", "method": "wastewater", "water": "1000",
                     "water_unit": "1e4m3"}))
    # 1 000 × 1e4 m3 = 10 000 000 m3 × 50 mg/L COD × 1e-6 = 500 t; NH3-N 5 -> 50 t
    assert spec_kg(out, "COD") == 500_000
    assert spec_kg(out, "NH3-N") == 50_000
    assert out["pollutants"]["COD"]["concentration_mg_l"] == "50"
    assert out["pollutants"]["COD"]["concentration_mg_nm3"] is None


def test_direct_quantity() -> None:
    out = run(sheet("chemicals",
                    {"id": "DA009", "method": "direct", "quantities_t": {"VOCs": "12.3456"}}))
    # 12.3456 t = 12 345.6 kg -> 12 346 kg
    assert spec_kg(out, "VOCs") == 12_346
    assert out["pollutants"]["VOCs"]["permitted_t"] == "12.346"


def test_outlets_sum_in_whole_kg() -> None:
    out = run(sheet("chemicals",
                    {"id": "DA001", "method": "direct", "quantities_t": {"SO2": "0.0004"}},
                    {"id": "DA002", "method": "direct", "quantities_t": {"SO2": "0.0004"}}))
    # each outlet: 0.4 kg -> 0 kg; the permit total is the sum of the published lines: 0
    assert spec_kg(out, "SO2") == 0
    # numeric JSON values are read by their decimal text: 0.1 t = 100 kg exactly
    f = run(sheet("chemicals", {"id": "DA001", "method": "direct",
                                "quantities_t": {"SO2": 0.1, "NOx": 3}}))
    assert spec_kg(f, "SO2") == 100 and spec_kg(f, "NOx") == 3_000


# --------------------------------------------------------------------------- binding basis

COAL = {"id": "DA001", "method": "coal_boiler", "fuel": "120000", "flue_gas_volume": "10.4",
        "pollutants": ["SO2"]}  # spec SO2 = 374 400 kg (see above)


def test_eia_binds_when_smaller() -> None:
    out = run(sheet("industrial_boiler", COAL,
                    eia={"date": "2019-03-01", "quantities_t": {"SO2": "300.5"}},
                    indicator_share={"quantities_t": {"SO2": "350"}}))
    so2 = out["pollutants"]["SO2"]
    assert so2["candidates"] == {
        "specification": {"t": "374.400", "kg": 374_400},
        "eia": {"t": "300.500", "kg": 300_500},
        "indicator_share": {"t": "350.000", "kg": 350_000},
    }
    assert so2["binding"] == "eia" and so2["permitted_kg"] == 300_500


def test_indicator_share_binds_in_kg() -> None:
    out = run(sheet("industrial_boiler", COAL,
                    eia={"date": "2019-03-01", "quantities_t": {"SO2": "400"}},
                    indicator_share={"quantities_kg": {"SO2": 100_001}}))
    so2 = out["pollutants"]["SO2"]
    assert so2["binding"] == "indicator_share"
    assert so2["permitted_kg"] == 100_001 and so2["permitted_t"] == "100.001"


def test_eia_before_2015_is_not_counted() -> None:
    out = run(sheet("industrial_boiler", COAL,
                    eia={"date": "2014-12-31", "quantities_t": {"SO2": "1"}}))
    so2 = out["pollutants"]["SO2"]
    assert set(so2["candidates"]) == {"specification"}
    assert so2["binding"] == "specification"
    assert so2["excluded"]["eia"]["kg"] == 1000
    # on the cut-off day it counts
    on_day = run(sheet("industrial_boiler", COAL,
                       eia={"date": "2015-01-01", "quantities_t": {"SO2": "1"}}))
    assert on_day["pollutants"]["SO2"]["binding"] == "eia"


def test_ties_go_to_specification_then_eia() -> None:
    out = run(sheet("industrial_boiler", COAL,
                    eia={"date": "2019-03-01", "quantities_t": {"SO2": "374.4"}},
                    indicator_share={"quantities_kg": {"SO2": 374_400}}))
    assert out["pollutants"]["SO2"]["binding"] == "specification"
    out2 = run(sheet("industrial_boiler", COAL,
                     eia={"date": "2019-03-01", "quantities_t": {"SO2": "1"}},
                     indicator_share={"quantities_kg": {"SO2": 1000}}))
    assert out2["pollutants"]["SO2"]["binding"] == "eia"


def test_pollutant_only_in_eia_gets_eia_basis() -> None:
    out = run(sheet("industrial_boiler", COAL,
                    eia={"date": "2019-03-01", "quantities_t": {"SO2": "500", "VOCs": "2"}}))
    assert out["pollutants"]["VOCs"]["binding"] == "eia"
    assert out["pollutants"]["VOCs"]["permitted_kg"] == 2000


# --------------------------------------------------------------------------- bad input


def bad(doc: Any, field: str) -> SheetError:
    with pytest.raises(SheetError) as e:
        compute_sheet(doc, today=TODAY)
    assert e.value.field == field, e.value.message
    assert e.value.code == "bad_sheet" and isinstance(e.value, InvalidInput)
    return e.value


GOOD = sheet("industrial_boiler", dict(COAL),
             eia={"date": "2019-03-01", "quantities_t": {"SO2": "300"}})


def mutate(path: list[Any], value: Any = None, delete: bool = False) -> dict[str, Any]:
    doc = copy.deepcopy(GOOD)
    target = doc
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        (mutate(["outlets", 0, "fuel"], delete=True), "outlets[0].fuel"),
        (mutate(["outlets", 0, "fuel"], "lots"), "outlets[0].fuel"),
        (mutate(["outlets", 0, "fuel"], [1]), "outlets[0].fuel"),
        (mutate(["outlets", 0, "fuel"], True), "outlets[0].fuel"),
        (mutate(["outlets", 0, "fuel"], "NaN"), "outlets[0].fuel"),
        (mutate(["outlets", 0, "fuel"], float("inf")), "outlets[0].fuel"),
        (mutate(["outlets", 0, "flue_gas_volume"], "-1"), "outlets[0].flue_gas_volume"),
        (mutate(["outlets", 0, "fuel_unit"], "barrel"), "outlets[0].fuel_unit"),
        (mutate(["outlets", 0, "flue_gas_volume_unit"], "m3"), "outlets[0].flue_gas_volume_unit"),
        (mutate(["outlets", 0, "method"], "magic"), "outlets[0].method"),
        (mutate(["outlets", 0, "method"], delete=True), "outlets[0].method"),
        (mutate(["outlets", 0, "id"], delete=True), "outlets[0].id"),
        (mutate(["outlets", 0, "comitments"], {"SO2": "1"}), "outlets[0].comitments"),
        (mutate(["outlets", 0, "pollutants"], ["SO2", "H2S"]), "outlets[0].pollutants[1]"),
        (mutate(["outlets", 0, "pollutants"], ["COD"]), "outlets[0].pollutants[0]"),
        (mutate(["outlets", 0, "source"], "volcano"), "outlets[0].source"),
        (mutate(["outlets", 0, "source"], "sewage_1a"), "outlets[0].source"),
        (mutate(["outlets"], []), "outlets"),
        (mutate(["outlets"], delete=True), "outlets"),
        (mutate(["outlets", 0], "DA001"), "outlets[0]"),
        (mutate(["sector"], "mining"), "sector"),
        (mutate(["sector"], delete=True), "sector"),
        (mutate(["pollutants"], ["SO2", "XYZ"]), "pollutants[1]"),
        (mutate(["pollutants"], ["SO2", "COD"]), "pollutants[1]"),  # no basis for COD
        (mutate(["eia", "date"], "2025-06-02"), "eia.date"),  # in the future
        (mutate(["eia", "date"], "last year"), "eia.date"),
        (mutate(["eia", "date"], delete=True), "eia.date"),
        (mutate(["eia", "quantities_t", "XYZ"], "1"), "eia.quantities_t.XYZ"),
        (mutate(["eia", "quantities_t", "SO2"], "-3"), "eia.quantities_t.SO2"),
        (mutate(["eia", "quantities_kg"], {"SO2": 1}), "eia"),
        (mutate(["indicator_share"], {"quantities_kg": {"SO2": "1.5"}}),
         "indicator_share.quantities_kg.SO2"),
        (mutate(["applicable_standards"], {"regional": {"SO2": "1"}}),
         "applicable_standards.regional"),
        (mutate(["applicable_standards"], {"local": {"SO2": "x"}}),
         "applicable_standards.local.SO2"),
        (mutate(["commitments"], {"NOx": "-5"}), "commitments.NOx"),
        (mutate(["surprise"], 1), "surprise"),
        (mutate(["parameter_version"], 2025), "parameter_version"),
    ],
)
def test_bad_input_names_its_field(doc: dict[str, Any], field: str) -> None:
    bad(doc, field)


def test_bad_input_per_method() -> None:
    bad(sheet("industrial_boiler", {"id": "DA1", "method": "gas_boiler", "fuel": "1"}),
        "outlets[0].flue_gas_volume")
    bad(sheet("industrial_boiler", {"id": "DA1", "method": "gas_boiler", "fuel": "1",
                                    "qnet": "35", "qnet_unit": "kcal"}), "outlets[0].qnet_unit")
    bad(sheet("steel", {"id": "DA1", "method": "steel_process", "process": "smelting",
                        "production": "1"}), "outlets[0].process")
    bad(sheet("steel", {"id": "DA1", "method": "steel_process", "production": "1"}),
        "outlets[0].process")
    bad(sheet("steel", {"id": "DA1", "method": "steel_process", "process": "sinter_head"}),
        "outlets[0].production")
    bad(sheet("cement", {"id": "DA1", "method": "cement_process", "process": "kiln_tail",
                         "production": "1", "production_unit": "bags"}),
        "outlets[0].production_unit")
    # steel "other" sources have no national limit in the table and a chemicals plant gets no
    # ultra-low limit: the sheet must give the national standard
    bad(sheet("chemicals", {"id": "DA1", "method": "steel_process", "process": "sinter_tail",
                            "production": "1"}),
        "outlets[0].applicable_standards.national.PM")
    bad(sheet("thermal_power", {"id": "DA1", "method": "thermal_power_performance"}),
        "outlets[0].capacity")
    bad(sheet("thermal_power", {"id": "DA1", "method": "thermal_power_performance",
                                "capacity": "1", "capacity_unit": "hp"}),
        "outlets[0].capacity_unit")
    bad(sheet("thermal_power", {"id": "DA1", "method": "thermal_power_performance",
                                "capacity": "1", "heat_supply": "1", "heat_supply_unit": "cal"}),
        "outlets[0].heat_supply_unit")
    bad(sheet("thermal_power", {"id": "DA1", "method": "thermal_power_performance",
                                "capacity": "1", "hours_basis": "max"}),
        "outlets[0].hours_basis")
    bad(sheet("thermal_power", {"id": "DA1", "method": "thermal_power_performance",
                                "capacity": "1", "pollutants": ["VOCs"]}),
        "outlets[0].gps_g_per_kwh.VOCs")
    bad(sheet("sewage", {"id": "DW1", "method": "wastewater", "water": "1",
                         "water_unit": "l"}), "outlets[0].water_unit")
    bad(sheet("chemicals", {"id": "DA1", "method": "direct"}), "outlets[0].quantities_t")
    bad(sheet("chemicals", {"id": "DA1", "method": "direct", "quantities_t": {}}),
        "outlets[0].quantities_t")
    bad(sheet("chemicals", {"id": "DA1", "method": "direct", "quantities_t": {"SO2": "1"}},
              {"id": "DA1", "method": "direct", "quantities_t": {"SO2": "1"}}),
        "outlets[1].id")
    bad("not a sheet", "$")
