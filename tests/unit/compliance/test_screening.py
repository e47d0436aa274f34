"""Anomaly screens (pure, numpy): exceedance episodes, flat lines, missing-data gaps,
emissions dropping while power use stays high, and the limits derived from the sector."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from allocation.parameters import get_parameters
from compliance.supervision import screening as S
from kernel.clock import CST

P = "91500000AAAAAAAA1X001Z"
DAY0 = (date(2026, 1, 1) - date(1970, 1, 1)).days * 24  # CST wall-clock hours


def series(values: dict[str, list[float]], *, outlets: int = 1, hours: int | None = None,
           flow: list[float] | None = None, start: int = DAY0) -> S.HourlySeries:
    """One or more outlets with the same hours (a row per outlet and hour)."""
    n = len(next(iter(values.values())))
    per = hours or n // outlets
    hour = np.tile(np.arange(start, start + per), outlets)
    out = np.repeat(np.arange(outlets), per)
    return S.HourlySeries(keys=[(P, f"DA00{i + 1}") for i in range(outlets)], outlet=out,
                          hour=hour,
                          flow=np.array(flow if flow is not None else
                                        [1000.0 + i for i in range(n)]),
                          values={k: np.array(v, dtype=float) for k, v in values.items()})


def test_hours_are_cst_wall_clock() -> None:
    assert S.hour_at(DAY0) == datetime(2026, 1, 1, 0, tzinfo=CST)
    assert S.hour_at(DAY0 + 25) == datetime(2026, 1, 2, 1, tzinfo=CST)


def test_exceedance_episodes_per_outlet() -> None:
    v = [10.0] * 24 + [10.0, 40, 41, 10, 50, 10] + [np.nan] * 18  # 2 outlets × 24 h
    s = series({"SO2": v[:48]}, outlets=2)
    found = S.exceedances(s, {(P, "DA001", "SO2"): Decimal(35), (P, "DA002", "SO2"): Decimal(35)})
    assert [(a.outlet, a.start, a.end, a.evidence["hours"], a.evidence["peak"])
            for a in found] == [
        ("DA002", S.hour_at(DAY0 + 1), S.hour_at(DAY0 + 2), 2, "41"),
        ("DA002", S.hour_at(DAY0 + 4), S.hour_at(DAY0 + 4), 1, "50"),
    ]
    assert found[0].kind == "exceedance" and found[0].evidence["limit"] == "35"
    assert found[0].evidence["mean"] == "40.5" and found[0].evidence["unit"] == "mg/Nm3"
    # no limit for the outlet: nothing to judge
    assert S.exceedances(s, {}) == []


def test_an_episode_does_not_run_across_outlets_or_a_gap_in_hours() -> None:
    s = S.HourlySeries(keys=[(P, "A"), (P, "B")], outlet=np.array([0, 0, 1, 1]),
                       hour=np.array([5, 7, 8, 9]), flow=np.ones(4),
                       values={"SO2": np.array([99.0, 99, 99, 99])})
    found = S.exceedances(s, {(P, "A", "SO2"): Decimal(1), (P, "B", "SO2"): Decimal(1)})
    assert [(a.outlet, a.evidence["hours"]) for a in found] == [("A", 1), ("A", 1), ("B", 2)]


def test_flat_lines_of_identical_non_zero_readings() -> None:
    v = [1.0, 2, 3] + [7.5] * 8 + [1.0] + [0.0] * 12  # 8 identical: flagged; zeros: not
    found = S.flat_lines(series({"NOx": v}), min_hours=8)
    assert [(a.pollutant, a.start, a.end, a.evidence) for a in found] == [
        ("NOx", S.hour_at(DAY0 + 3), S.hour_at(DAY0 + 10),
         {"hours": 8, "value": "7.5", "signal": "NOx"})]
    assert S.flat_lines(series({"NOx": v}), min_hours=9) == []


def test_a_flat_flow_is_flagged_too() -> None:
    found = S.flat_lines(series({"SO2": [1.0, 2] * 6}, flow=[500.0] * 12), min_hours=10)
    assert [(a.pollutant, a.evidence["signal"], a.evidence["hours"]) for a in found] == [
        (None, "flow", 12)]


def test_missing_data_gaps_inside_leading_and_trailing() -> None:
    v = [np.nan] * 5 + [1.0] * 5 + [np.nan] * 4 + [1.0] * 3 + [np.nan] * 2 + [1.0] * 2 \
        + [np.nan] * 3
    assert len(v) == 24
    found = S.missing_data(series({"SO2": v}), min_gap=3)
    assert [(a.start, a.end, a.evidence["hours"]) for a in found] == [
        (S.hour_at(DAY0), S.hour_at(DAY0 + 4), 5),
        (S.hour_at(DAY0 + 10), S.hour_at(DAY0 + 13), 4),
        (S.hour_at(DAY0 + 21), S.hour_at(DAY0 + 23), 3),
    ]


def test_missing_rows_count_as_missing_and_a_missing_flow_too() -> None:
    s = S.HourlySeries(keys=[(P, "A")], outlet=np.zeros(4, dtype=int),
                       hour=np.array([DAY0, DAY0 + 1, DAY0 + 10, DAY0 + 23]),
                       flow=np.array([1.0, np.nan, 1.0, 1.0]),
                       values={"SO2": np.array([1.0, 1.0, 1.0, 1.0])})
    found = S.missing_data(s, min_gap=4)
    assert [(a.start.hour, a.end.hour, a.evidence["hours"]) for a in found] == [
        (1, 9, 9), (11, 22, 12)]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.booleans(), min_size=24, max_size=72))
def test_missing_hours_found_equal_the_gaps_at_least_min_long(present: list[bool]) -> None:
    n = len(present) - len(present) % 24 or 24
    present = (present + [True] * 24)[:n]
    v = [1.0 if p else np.nan for p in present]
    if all(np.isnan(v)):
        return
    found = S.missing_data(series({"SO2": v}), min_gap=2)
    runs, run = [], 0
    for p in present + [True]:
        if not p:
            run += 1
        else:
            if run >= 2:
                runs.append(run)
            run = 0
    assert sorted(a.evidence["hours"] for a in found) == sorted(runs)


def _daily(emitted: list[int], power: list[int]) -> S.DailySeries:
    n = len(emitted)
    return S.DailySeries(keys=[(P, "DA001", "SO2")], group=np.zeros(n, dtype=int),
                         day=np.arange(20454, 20454 + n), emitted_g=np.array(emitted),
                         power_kwh=np.array(power))


def test_emissions_dropping_while_power_stays_high() -> None:
    e = [1000] * 10 + [100, 90] + [1000] * 3 + [400]
    p = [5000] * 10 + [4900, 5100] + [5000] * 3 + [1000]  # the last day: plant down too
    found = S.power_mismatches(_daily(e, p))
    assert len(found) == 1
    a = found[0]
    assert a.kind == "emission_power_mismatch" and a.pollutant == "SO2"
    assert a.evidence["days"] == 2 and a.evidence["emitted_g"] == [100, 90]
    assert a.start == S.hour_at((20454 + 10) * 24) and a.end.hour == 23
    assert S.power_mismatches(_daily(e[:5], p[:5])) == []  # too few days for a baseline


def test_sector_limits_follow_the_parameter_table() -> None:
    params = get_parameters("2025.1")
    thermal = S.sector_limits(params, "thermal_power")  # ultra-low sector
    assert {k: v for k, (v, _s) in thermal.items()} == {
        "SO2": Decimal(35), "NOx": Decimal(50), "PM": Decimal(10),
        "COD": Decimal(100), "NH3-N": Decimal(15)}
    assert "coal_power.ultra_low" in thermal["SO2"][1]
    chem = {k: v for k, (v, _s) in S.sector_limits(params, "chemicals").items()}
    assert chem["SO2"] == Decimal(100) and chem["NOx"] == Decimal(150)
    sewage = {k: v for k, (v, _s) in S.sector_limits(params, "sewage").items()}
    assert sewage == {"COD": Decimal(50), "NH3-N": Decimal(5)}
    # a sector without an air source: only the default waste-water limits
    other = {k: v for k, (v, _s) in S.sector_limits(params, "no_such_sector").items()}
    assert other == {"COD": Decimal(100), "NH3-N": Decimal(15)}


def test_screen_orders_findings() -> None:
    s = series({"SO2": [50.0] * 24})
    d = _daily([1], [1])
    found = S.screen(s, d, {(P, "DA001", "SO2"): Decimal(35)})
    assert [a.kind for a in found] == ["exceedance", "flat_line"]
