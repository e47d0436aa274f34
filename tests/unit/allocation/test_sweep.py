"""Sweeps: grids and Monte Carlo draws, run locally and on a Dask LocalCluster with the same
results."""

from __future__ import annotations

import pytest

from allocation.errors import ScenarioError
from allocation.sweep import grid, monte_carlo, run_sweep, scenarios_from, synthetic_baseline

BASE = synthetic_baseline(150, seed=5)


def test_grid_is_every_combination_on_top_of_the_base() -> None:
    docs = grid({"indicator_pct": [-10, 0, 10], "alert_days": [0, 5]},
                base={"alert": {"level": "red", "days": 0}})
    assert len(docs) == 6
    assert docs[1]["indicators"] == [{"change_pct": "-10"}]
    assert docs[1]["alert"] == {"level": "red", "days": 5}
    assert len({d["name"] for d in docs}) == 6


def test_monte_carlo_is_reproducible() -> None:
    vary = {"indicator_pct.SO2": {"uniform": [-20, 5]},
            "utilisation_hours.thermal_power": {"normal": [5000, 300]},
            "alert_level": {"choice": ["yellow", "red"]}}
    a = monte_carlo(20, vary, seed=7)
    assert a == monte_carlo(20, vary, seed=7)
    assert a != monte_carlo(20, vary, seed=8)
    pct = a[0]["indicators"][0]
    assert pct["pollutant"] == "SO2" and len(pct["change_pct"].split(".")[1]) == 2


@pytest.mark.parametrize(("spec", "field"), [
    ({"grid": {"nonsense": [1]}}, "grid.nonsense"),
    ({"grid": {"indicator_pct": []}}, "grid.indicator_pct"),
    ({"monte_carlo": {"n": 0, "vary": {"indicator_pct": {"uniform": [0, 1]}}}},
     "monte_carlo.n"),
    ({"monte_carlo": {"n": 3, "vary": {"indicator_pct": {"beta": [0, 1]}}}},
     "monte_carlo.vary.indicator_pct"),
    ({}, "grid"),
])
def test_bad_sweeps_name_the_field(spec: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ScenarioError) as exc:
        scenarios_from(spec)
    assert exc.value.field == field


def test_a_bad_scenario_is_rejected_before_running() -> None:
    with pytest.raises(ScenarioError) as exc:
        run_sweep(BASE, [{"name": "ok"}, {"alert": {"level": "purple", "days": 1}}])
    assert exc.value.field == "scenarios[1].alert.level"


def test_local_and_dask_sweeps_agree() -> None:
    docs = scenarios_from({"grid": {"indicator_pct": [-10, 0], "alert_days": [0, 3]},
                           "monte_carlo": {"n": 3, "seed": 1, "vary": {
                               "utilisation_hours.thermal_power": {"uniform": [4000, 6000]}}}})
    local = run_sweep(BASE, docs, batch=2)
    assert local["where"] == "local" and local["scenarios"] == 7
    for r in local["results"]:
        assert r["reserve_plan"]["check_ok"] and r["reserve_plan"]["proven_optimal"]
    remote = run_sweep(BASE, docs, workers=2, batch=2)
    assert remote["where"] == "dask" and remote["workers"] == 2

    def strip(rs: list[dict]) -> list[dict]:  # type: ignore[type-arg]
        return [{k: v for k, v in r.items() if k not in ("seconds", "reserve_plan")}
                for r in rs]

    assert strip(remote["results"]) == strip(local["results"])
    zero = next(r for r in local["results"] if r["name"] == "indicator_pct=0, alert_days=0")
    assert zero["deltas"] == {p: {} for p in zero["deltas"]}
