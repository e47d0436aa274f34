"""The vectorised path agrees exactly with the Decimal calculation sheet."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from allocation.errors import SheetError
from allocation.quantities import ABSENT, BASES, METHOD_CODES, permit_caps
from allocation.sheet import compute_sheet
from kernel.pollutants import Pollutant

TODAY = date(2025, 6, 1)
POLLUTANTS = list(Pollutant)


def dec(rng: random.Random, lo: int, hi: int, places: int) -> str:
    """A random decimal text with `places` decimals in [lo, hi]."""
    scale = 10**places
    q = Decimal(rng.randint(lo * scale, hi * scale)) / scale
    return str(q)


SECTOR_METHODS = {
    "thermal_power": ["coal_boiler", "oil_boiler", "gas_boiler", "thermal_power_performance",
                      "direct"],
    "steel": ["steel_process", "coal_boiler", "gas_boiler", "direct"],
    "cement": ["cement_process", "coal_boiler", "direct"],
    "sewage": ["wastewater", "direct"],
    "industrial_boiler": ["coal_boiler", "oil_boiler", "gas_boiler",
                          "thermal_power_performance"],
}


def random_outlet(rng: random.Random, i: int, sector: str) -> dict[str, Any]:
    method = rng.choice(SECTOR_METHODS[sector])
    o: dict[str, Any] = {"id": f"DA{i:03d}", "method": method}
    if method in ("coal_boiler", "oil_boiler"):
        o |= {"fuel": dec(rng, 0, 900_000, 3), "flue_gas_volume": dec(rng, 5, 15, 3)}
    elif method == "gas_boiler":
        o["fuel"] = dec(rng, 0, 50_000, 2)
        if rng.random() < 0.5:
            o["qnet"] = dec(rng, 30, 40, 3)
        else:
            o["flue_gas_volume"] = dec(rng, 8, 14, 2)
    elif method == "thermal_power_performance":
        o["capacity"] = dec(rng, 10, 1000, 1)
        if rng.random() < 0.5:
            o["heat_supply"] = dec(rng, 0, 10_000_000, 2)
        if rng.random() < 0.3:
            o["hours"] = str(rng.randint(3000, 8000))
    elif method == "steel_process":
        o |= {"process": rng.choice(["sinter_head", "pellet_roasting", "hot_blast_stove"]),
              "production": dec(rng, 0, 5_000_000, 3)}
    elif method == "cement_process":
        o |= {"process": rng.choice(["kiln_tail", "kiln_head"]),
              "production": dec(rng, 0, 3_000_000, 3)}
    elif method == "wastewater":
        o["water"] = dec(rng, 0, 50_000_000, 2)
    else:
        # 4 decimals of a tonne: .5 kg ties are common here, exercising the exact fallback
        o["quantities_t"] = {p: dec(rng, 0, 500, 4)
                             for p in rng.sample(["SO2", "NOx", "VOCs", "COD"], 2)}
    if method not in ("direct", "thermal_power_performance") and rng.random() < 0.3:
        o["commitments"] = {"PM": dec(rng, 1, 30, 1), "COD": dec(rng, 1, 40, 1)}
        if method != "wastewater":
            o["commitments"].pop("COD")
        else:
            o["commitments"].pop("PM")
    return o


def random_sheet(rng: random.Random) -> dict[str, Any]:
    sector = rng.choice(list(SECTOR_METHODS))
    doc: dict[str, Any] = {
        "sector": sector,
        "outlets": [random_outlet(rng, i + 1, sector) for i in range(rng.randint(1, 3))],
    }
    if rng.random() < 0.6:
        doc["eia"] = {"date": rng.choice(["2012-05-01", "2016-03-01", "2024-12-31"]),
                      "quantities_t": {p: dec(rng, 0, 600, 3)
                                       for p in rng.sample(["SO2", "NOx", "PM", "COD"], 2)}}
    if rng.random() < 0.5:
        doc["indicator_share"] = {"quantities_kg": {p: rng.randint(0, 600_000)
                                                   for p in rng.sample(["SO2", "NOx"], 1)}}
    return doc


def row_inputs(meth: str, inp: dict[str, str]) -> tuple[str, str, str]:
    """(activity, volume, extra_kwh) of an outlet line, as the sheet used them."""
    if meth in ("coal_boiler", "oil_boiler"):
        return inp["fuel_t"], inp["flue_gas_nm3_per_kg"], "0"
    if meth == "gas_boiler":
        return inp["fuel_1e4nm3"], inp["flue_gas_nm3_per_nm3"], "0"
    if meth == "thermal_power_performance":
        return inp["capacity_mw"], inp["hours"], inp["heat_supply_kwh"]
    if meth in ("steel_process", "cement_process"):
        return inp["production_t"], inp["exhaust_nm3_per_t"], "0"
    if meth == "wastewater":
        return inp["water_m3"], "1", "0"
    return "1", "1", "0"


def columns(results: list[dict[str, Any]], docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Columnar input built from the sheets' resolved inputs (C, V, GPS as the sheet used)."""
    method, activity, volume, extra, fac, rate = [], [], [], [], [], []
    f_count, p_count = len(results), len(POLLUTANTS)
    eia = np.full((f_count, p_count), ABSENT, dtype=np.int64)
    share = np.full((f_count, p_count), ABSENT, dtype=np.int64)
    for f, res in enumerate(results):
        rows: dict[str, dict[str, Any]] = {}
        for p, entry in res["pollutants"].items():
            j = POLLUTANTS.index(Pollutant(p))
            if "eia" in entry["candidates"]:
                eia[f, j] = entry["candidates"]["eia"]["kg"]
            if "indicator_share" in entry["candidates"]:
                share[f, j] = entry["candidates"]["indicator_share"]["kg"]
            for line in entry["outlets"]:
                row = rows.setdefault(line["outlet"], {"line": line, "rate": {}})
                if line["method"] == "direct":
                    row["rate"][j] = line["t_exact"]
                elif line["method"] == "thermal_power_performance":
                    row["rate"][j] = line["gps_g_per_kwh"]
                else:
                    row["rate"][j] = line["concentration"]
        for o in docs[f]["outlets"]:
            if o["id"] not in rows:  # an outlet with no pollutant left
                continue
            line, rates = rows[o["id"]]["line"], rows[o["id"]]["rate"]
            inp, meth = line["inputs"], line["method"]
            a, v, x = row_inputs(meth, inp)
            method.append(METHOD_CODES[meth])
            activity.append(float(a))
            volume.append(float(v))
            extra.append(float(x))
            fac.append(f)
            rate.append([float(rates[j]) if j in rates else np.nan for j in range(p_count)])
    return {
        "method": np.array(method), "activity": np.array(activity),
        "volume": np.array(volume), "rate": np.array(rate),
        "extra_kwh": np.array(extra), "facility": np.array(fac), "n_facilities": f_count,
        "eia_kg": eia, "share_kg": share,
    }


def test_agrees_with_sheet_on_random_facilities() -> None:
    rng = random.Random(20250601)
    docs = [random_sheet(rng) for _ in range(600)]
    results = [compute_sheet(d, today=TODAY) for d in docs]
    caps = permit_caps(**columns(results, docs))
    assert caps.exact_fallbacks > 0  # ties were met and settled exactly
    for f, res in enumerate(results):
        for j, p in enumerate(POLLUTANTS):
            entry = res["pollutants"].get(p.value)
            if entry is None:
                assert caps.permitted_kg[f, j] == ABSENT and caps.binding[f, j] == ABSENT
                continue
            assert caps.permitted_kg[f, j] == entry["permitted_kg"], (f, p)
            assert BASES[caps.binding[f, j]] == entry["binding"], (f, p)
            spec = entry["candidates"].get("specification")
            assert caps.specification_kg[f, j] == (spec["kg"] if spec else ABSENT)


def test_single_rows_hand_examples() -> None:
    c = METHOD_CODES
    caps = permit_caps(
        method=[c["oil_boiler"], c["gas_boiler"], c["thermal_power_performance"], c["direct"]],
        activity=[2500, 100, 600, 1],
        volume=[12.1, 10.48558, 5000, 1],
        rate=[[250.0], [200.0], [0.12], [12.3456]],
        extra_kwh=[0, 0, 83400, 0],
    )
    # 7 562.5 -> 7 562 (tie, even); 2 097.116 -> 2 097; 360 010.008 -> 360 010; 12 345.6 -> 12 346
    assert caps.specification_kg[:, 0].tolist() == [7562, 2097, 360010, 12346]
    assert caps.permitted_kg[:, 0].tolist() == [7562, 2097, 360010, 12346]
    assert caps.exact_fallbacks == 1


def test_binding_and_absent_bases() -> None:
    caps = permit_caps(
        method=[METHOD_CODES["direct"]] * 3, activity=[1, 1, 1], volume=[1, 1, 1],
        rate=[[1.0, np.nan], [1.0, np.nan], [1.0, np.nan]],
        eia_kg=[[999, -1], [1000, 5], [2000, -1]], share_kg=[[-1, -1], [1000, -1], [500, -1]],
    )
    assert caps.permitted_kg.tolist() == [[999, -1], [1000, 5], [500, -1]]
    assert [[BASES[b] if b >= 0 else None for b in row] for row in caps.binding.tolist()] == [
        ["eia", None], ["specification", "eia"], ["indicator_share", None]]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"method": [9]}, "method"),
        ({"activity": [-1.0]}, "activity"),
        ({"volume": [np.inf]}, "volume"),
        ({"rate": [[-2.0]]}, "rate"),
        ({"facility": [3], "n_facilities": 2}, "facility"),
        ({"eia_kg": [[1.5]]}, "eia_kg"),
        ({"share_kg": [[-7]]}, "share_kg"),
    ],
)
def test_rejects_bad_columns(kwargs: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {"method": [0], "activity": [1.0], "volume": [1.0],
                            "rate": [[1.0]], **kwargs}
    with pytest.raises(SheetError) as e:
        permit_caps(**args)
    assert e.value.field == field
