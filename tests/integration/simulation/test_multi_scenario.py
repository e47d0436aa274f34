"""Several scenarios simulated at once (issue 21): one sweep over the same seeds, each
scenario's result the one it gets alone, one run per scenario stored in one transaction (all
or nothing), the ids checked before any work; `erts simulate --scenario A --scenario B`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from allocation import errors as alloc_errors
from allocation import service as alloc
from kernel.errors import DomainError
from simulation import service as sim
from simulation.errors import SimulationError

pytestmark = pytest.mark.db

OPTS: dict[str, Any] = {"seeds": 2, "days": 10, "strategy": "truthful", "first_seed": 3}
TIMING = ("seconds", "where", "workers")


def _scenarios(platform) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    a = alloc.create_scenario(platform.uow(), doc={"name": "base"}, actor="t")["id"]
    b = alloc.create_scenario(platform.uow(), doc={
        "name": "tight", "indicators": [{"change_pct": -20}]}, actor="t")["id"]
    return int(a), int(b)


def _total(platform) -> int:  # type: ignore[no-untyped-def]
    return int(sim.list_runs(platform.uow())["total"])


def _result(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view["result"].items() if k not in TIMING}


def test_two_scenarios_at_once_equal_each_alone_and_are_both_stored(platform, spine) -> None:  # type: ignore[no-untyped-def]
    a, b = _scenarios(platform)
    both = sim.run_simulations(platform.uow, scenario_ids=[b, a], actor="t", **OPTS)
    assert [v["scenario"] for v in both] == [b, a]  # in the order given
    alone = {sid: sim.run_simulation(platform.uow, scenario_id=sid, actor="t", **OPTS)
             for sid in (a, b)}
    for v in both:
        one = alone[v["scenario"]]
        assert _result(v) == _result(one)
        assert v["result"]["seeds"] == [3, 4]
        for key in ("year", "parameter_version", "mac_version", "seeds", "first_seed", "days",
                    "strategy"):
            assert v[key] == one[key], key
        assert v["mac_version"] == "2026.1" and v["parameter_version"]
        stored = sim.run_view(platform.uow(), v["id"])  # stored as returned
        assert {**stored, "run_at": None} == {**v, "run_at": None}
    assert _result(both[0]) != _result(both[1])  # two scenarios, not one twice
    assert both[0]["result"]["scenario_name"] == "tight"
    assert both[1]["result"]["scenario_name"] == "base"
    assert (both[0]["result"]["cost_fen"]["simulated"]["mean"]
            >= both[1]["result"]["cost_fen"]["simulated"]["mean"])
    for sid in (a, b):
        assert sim.list_runs(platform.uow(), scenario=sid)["total"] == 2


def test_a_missing_or_repeated_id_stores_nothing_and_names_the_field(platform, spine) -> None:  # type: ignore[no-untyped-def]
    a, b = _scenarios(platform)
    with pytest.raises(alloc_errors.ScenarioNotFound) as nf:
        sim.run_simulations(platform.uow, scenario_ids=[a, 999, b], actor="t", **OPTS)
    assert nf.value.code == "scenario_not_found" and nf.value.field == "scenario_ids[1]"
    with pytest.raises(SimulationError) as dup:
        sim.run_simulations(platform.uow, scenario_ids=[a, b, a], actor="t", **OPTS)
    assert dup.value.field == "scenario_ids[2]" and "twice" in dup.value.message
    for ids, field in (([], "scenario_ids"), ([a, 0], "scenario_ids[1]"),
                       ([a, True], "scenario_ids[1]"), (list(range(1, 52)), "scenario_ids")):
        with pytest.raises(SimulationError) as bad:
            sim.run_simulations(platform.uow, scenario_ids=ids, actor="t", **OPTS)
        assert bad.value.field == field, ids
    with pytest.raises(SimulationError) as opt:  # options first, before the ids
        sim.run_simulations(platform.uow, scenario_ids=[a, a], actor="t",
                            **{**OPTS, "days": 0})
    assert opt.value.field == "days"
    with pytest.raises(alloc_errors.ScenarioNotFound) as one:  # one id: the field as before
        sim.run_simulation(platform.uow, scenario_id=999, actor="t", **OPTS)
    assert one.value.field == "scenario"
    assert _total(platform) == 0


def test_a_scenario_deleted_while_they_run_stores_none(platform, spine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    a, b = _scenarios(platform)
    real = sim.run_jobs

    def run_then_delete(*args: Any, **kw: Any) -> Any:
        out = real(*args, **kw)
        alloc.delete_scenario(platform.uow(), b)
        return out

    monkeypatch.setattr(sim, "run_jobs", run_then_delete)
    with pytest.raises(DomainError) as exc:
        sim.run_simulations(platform.uow, scenario_ids=[a, b], actor="t", **OPTS)
    assert exc.value.code == "scenario_not_found" and exc.value.field == "scenario_ids[1]"
    assert _total(platform) == 0  # not the run of a either


def test_cli_two_scenarios(platform, spine, capsys, monkeypatch, db_url) -> None:  # type: ignore[no-untyped-def]
    from app.cli import main

    a, b = _scenarios(platform)
    monkeypatch.setenv("DATABASE_URL", db_url)
    args = ["simulate", "--scenario", str(a), "--scenario", str(b), "--seeds", "2", "--days",
            "8"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["runs"] and [r["scenario"] for r in out["runs"]] == [a, b]
    assert all(len(r["result"]["markets"][0]["path"]["p50"]) == 8 for r in out["runs"])
    assert main([*args, "--summary"]) == 0
    heads = json.loads(capsys.readouterr().out)["runs"]
    assert [h["scenario"] for h in heads] == [a, b]
    assert all("result" not in h and h["markets"] and h["cost_fen"] for h in heads)
    assert _total(platform) == 4
    assert main(["simulate", "--scenario", str(a), "--scenario", str(a), "--days", "5"]) == 2
    err = capsys.readouterr().err
    assert "invalid_input" in err and "scenario_ids[1]" in err
    assert main(["simulate", "--scenario", str(a), "--scenario", "999", "--days", "5"]) == 2
    assert "scenario_not_found" in capsys.readouterr().err
    assert _total(platform) == 4
