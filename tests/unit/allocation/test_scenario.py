"""The scenario engine on a synthetic municipality: exact shares, reserve plans that pass the
integer re-check, each kind of change doing what it says, and bad changes naming the field."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from allocation.apportionment import reserve_kg
from allocation.errors import ScenarioError
from allocation.parameters import get_parameters
from allocation.scenario import (
    Changes,
    _blend,
    baseline_summary,
    compare,
    deltas,
    parse_changes,
    run,
    run_json,
    summary,
)
from allocation.sweep import synthetic_baseline
from kernel.pollutants import Pollutant

BASE = synthetic_baseline(400, seed=3)


def test_baseline_shares_sum_exactly_and_plans_check() -> None:
    r = run(BASE)
    for k in range(len(BASE.zones)):
        for j in range(len(BASE.pollutants)):
            total = int(BASE.indicator_kg[k, j])
            if total < 0:
                continue
            members = BASE.zone[:, j] == k
            reserve = reserve_kg(total, Decimal(int(BASE.reserve_pct[k, j])) / 100)
            assert int(r.share_kg[members, j].sum()) == total - reserve
            granted = int(r.granted_kg[members, j].sum())
            assert 0 <= granted <= reserve
    carried = BASE.carried
    assert np.all(r.permitted_kg[carried] <= r.cap_kg[carried])
    assert np.all(r.permitted_kg[carried] + r.granted_kg[carried] <= r.cap_kg[carried])
    assert r.reserve_status == "optimal" and r.reserve_proven_optimal and r.reserve_check_ok


def test_no_change_reproduces_the_baseline_run() -> None:
    a, b = summary(run(BASE)), summary(run(BASE, parse_changes({"name": "same"})))
    assert deltas(a, b) == {"by_pollutant": [], "by_zone": [], "by_sector": []}


def test_tightening_an_indicator_cuts_shares_by_that_much() -> None:
    r = run(BASE, parse_changes({"indicators": [{"pollutant": "SO2", "change_pct": -10}]}))
    j = BASE.pollutants.index(Pollutant.SO2)
    for k in range(len(BASE.zones)):
        before = int(BASE.indicator_kg[k, j])
        if before >= 0:
            want = int((Decimal(before) * Decimal("0.9")).quantize(Decimal(1)))
            assert int(r.indicator_kg[k, j]) == want
    other = BASE.pollutants.index(Pollutant.COD)
    assert np.array_equal(r.indicator_kg[:, other], BASE.indicator_kg[:, other])
    d = run_json(BASE, {"indicators": [{"pollutant": "SO2", "change_pct": -10}]})["deltas"]
    so2 = next(row for row in d["by_pollutant"] if row["pollutant"] == "SO2")
    assert so2["indicator_kg"] < 0 and so2["share_kg"] < 0
    # an applicant gets one fraction of its whole demand, so other pollutants' grants move
    for row in d["by_pollutant"]:
        if row["pollutant"] != "SO2":
            assert set(row) <= {"pollutant", "granted_kg"}


def test_utilisation_hours_scale_thermal_power_exactly() -> None:
    r0 = run(BASE)
    r1 = run(BASE, parse_changes({"utilisation_hours": {"thermal_power": 5500}}))
    power = np.array([s == "thermal_power" for s in BASE.sectors])
    j = BASE.pollutants.index(Pollutant.SO2)
    assert power.any()
    # CAP × h × GPS: exact in kg, so the ratio is exactly 5500 / 5000
    assert np.array_equal(r1.spec_kg[power, j] * 5000, r0.spec_kg[power, j] * 5500)
    assert np.array_equal(r1.spec_kg[~power], r0.spec_kg[~power])


def test_adopting_ultra_low_limits_lowers_that_sector_only() -> None:
    params = replace(get_parameters("2025.1"), ultra_low_sectors=frozenset({"thermal_power"}))
    base = replace(BASE, params=params, _cache={})
    r0 = run(base)
    r1 = run(base, parse_changes({"ultra_low_sectors": ["cement"]}))
    cement = np.array([s == "cement" for s in base.sectors])
    j = base.pollutants.index(Pollutant.SO2)
    assert np.all(r1.spec_kg[cement, j] < r0.spec_kg[cement, j])
    assert np.array_equal(r1.spec_kg[~cement], r0.spec_kg[~cement])


def _standard(effective: str) -> dict[str, Any]:
    return {"standards": [{"name": "GB 13271-X", "effective": effective,
                           "limits": {"gas_boiler": {"national": {"NOx": "100"}}}}]}


def test_a_standard_applies_from_its_effective_date() -> None:
    j = BASE.pollutants.index(Pollutant.NOX)
    r0 = run(BASE)
    full = run(BASE, parse_changes(_standard("2026-01-01")))
    half = run(BASE, parse_changes(_standard("2026-07-02")))
    later = run(BASE, parse_changes(_standard("2027-03-01")))
    changed = full.spec_kg[:, j] != r0.spec_kg[:, j]
    assert changed.any()
    assert np.all(full.spec_kg[changed, j] < r0.spec_kg[changed, j])
    # 182 of 365 days before: the day-weighted mean, half-even
    want = _blend(r0.spec_kg[changed, j], full.spec_kg[changed, j], 182, 365)
    assert np.array_equal(half.spec_kg[changed, j], want)
    assert np.array_equal(later.spec_kg, r0.spec_kg)


def test_blend_rounds_half_even() -> None:
    got = _blend(np.array([1, 3, 10]), np.array([2, 4, 10]), 1, 2)
    assert got.tolist() == [2, 4, 10]  # 1.5 -> 2, 3.5 -> 4


def test_an_alert_cuts_air_pollutants_for_its_days() -> None:
    r = run(BASE, parse_changes({"alert": {"level": "red", "days": 10}}))
    for j, p in enumerate(BASE.pollutants):
        cut = r.alert_cut_kg[:, j]
        if p.medium == "water":
            assert not cut.any()
        else:
            base = np.maximum(r.permitted_kg[:, j], 0) * 3 * 10
            assert np.array_equal(cut, -((-base) // (10 * 365)))


def test_keep_apportionment_uses_stored_shares() -> None:
    r = run(BASE, parse_changes({"apportionment": "keep"}))
    assert np.array_equal(r.share_kg, BASE.share_kg)


def test_compare_puts_two_runs_side_by_side() -> None:
    a = baseline_summary(BASE)
    b = summary(run(BASE, parse_changes({"name": "t", "indicators": [{"change_pct": 5}]})))
    c = compare(a, b)
    row = c["by_pollutant"][0]
    assert row["share_kg"]["delta"] == row["share_kg"]["b"] - row["share_kg"]["a"]
    assert c["a"] == "baseline" and c["b"] == "t"


@pytest.mark.parametrize(("doc", "field"), [
    ({"bogus": 1}, "bogus"),
    ({"indicators": [{"change_pct": "x"}]}, "indicators[0].change_pct"),
    ({"indicators": [{"pollutant": "CO2", "change_pct": 1}]}, "indicators[0].pollutant"),
    ({"indicators": [{"change_pct": -150}]}, "indicators[0].change_pct"),
    ({"ultra_low_sectors": ["mining"]}, "ultra_low_sectors[0]"),
    ({"standards": [{"name": "S", "effective": "soon", "limits": {}}]},
     "standards[0].effective"),
    ({"standards": [{"name": "S", "effective": "2027-01-01",
                     "limits": {"nowhere": {"national": {"SO2": "1"}}}}]},
     "standards[0].limits.nowhere"),
    ({"standards": [{"name": "S", "effective": "2027-01-01",
                     "limits": {"gas_boiler": {"national": {"SO2": "-1"}}}}]},
     "standards[0].limits.gas_boiler.national.SO2"),
    ({"utilisation_hours": {"steel": 10}}, "utilisation_hours.steel"),
    ({"utilisation_hours": -1}, "utilisation_hours"),
    ({"alert": {"level": "purple", "days": 3}}, "alert.level"),
    ({"alert": {"level": "red", "days": 400}}, "alert.days"),
    ({"apportionment": "lottery"}, "apportionment"),
    ({"reserve": {"retained_share": 2}}, "reserve.retained_share"),
    ({"parameter_version": "1999.9"}, "parameter_version"),
])
def test_bad_changes_name_the_field(doc: dict[str, Any], field: str) -> None:
    with pytest.raises(Exception) as exc:
        parse_changes(doc)
    assert getattr(exc.value, "field", None) == field
    assert isinstance(exc.value, ScenarioError) or field == "parameter_version"


def test_unknown_zone_is_rejected_at_run() -> None:
    with pytest.raises(ScenarioError) as exc:
        run(BASE, parse_changes({"indicators": [{"zone": "Z-9", "change_pct": 1}]}))
    assert exc.value.field == "indicators.zone"


def test_retained_share_is_kept_back() -> None:
    r = run(BASE, Changes(retained_share=Decimal("0.5")))
    for k in range(len(BASE.zones)):
        for j in range(len(BASE.pollutants)):
            members = BASE.zone[:, j] == k
            assert int(r.granted_kg[members, j].sum()) <= int(r.reserve_kg[k, j]) // 2
