"""Reserve release: plans pass the exact re-check, infeasibility is explained, duals make sense."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocation.errors import ReserveInputError
from allocation.reserve import check_plan, parse_problem
from allocation.reserve_lp import optimise, optimise_json


def grants(report: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {g["id"]: g["granted_kg"] for g in report["grants"]}


def two_applicants(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "retained_share": "0.1",
        "reserve": [{"pollutant": "SO2", "zone": "Z1", "available_kg": 1000}],
        "applicants": [
            {"id": "A", "zone": "Z1", "demand_kg": {"SO2": 600}, "priority": 2},
            {"id": "B", "zone": "Z1", "demand_kg": {"SO2": 600}, "priority": 1},
        ],
    }
    doc.update(over)
    return doc


ENGINES = ["highs", "sifting", "pulp_highs", "pulp_cbc"]


@pytest.mark.parametrize("engine", ENGINES)
def test_priority_fills_higher_priority_first(engine: str) -> None:
    doc = two_applicants(solver={"engine": engine})
    rep = optimise_json(doc)
    # usable = 1000 - ceil(1000 × 0.1) = 900; A (priority 2) takes 600, B the other 300
    assert rep["status"] == "optimal" and rep["proven_optimal"]
    assert grants(rep) == {"A": {"SO2": 600}, "B": {"SO2": 300}}
    row = rep["reserve"][0]
    assert (row["retained_kg"], row["usable_kg"], row["granted_kg"], row["left_kg"]) == (
        100, 900, 900, 0)
    # one more usable kg would go to B: worth priority 1 × 1 kg
    assert row["shadow_price"] == pytest.approx(1.0)
    assert rep["check"] == {"ok": True, "violations": [], "kg_taken_back_in_rounding": 0,
                            "max_rounding_kg": 0}


def test_eia_and_headroom_fold_into_the_bound() -> None:
    doc = two_applicants()
    doc["applicants"][0]["eia_kg"] = {"SO2": 400}
    doc["applicants"][1]["cap_headroom_kg"] = {"SO2": 450}
    rep = optimise_json(doc)
    # A limited to 400 by its EIA approval, B to 450 by its cap headroom; 50 kg stay unused
    assert grants(rep) == {"A": {"SO2": 400}, "B": {"SO2": 450}}
    assert rep["reserve"][0]["left_kg"] == 50
    assert rep["reserve"][0]["shadow_price"] == pytest.approx(0.0)


def test_demand_vector_is_granted_in_one_proportion() -> None:
    doc = {
        "reserve": [{"pollutant": "SO2", "zone": "Z1", "available_kg": 1000},
                    {"pollutant": "NOx", "zone": "Z1", "available_kg": 150}],
        "applicants": [{"id": "A", "zone": "Z1", "demand_kg": {"SO2": 600, "NOx": 300}}],
    }
    rep = optimise_json(doc)
    # NOx allows half of the demand vector: x = 150 / 300 = 0.5 -> SO2 300
    assert grants(rep) == {"A": {"SO2": 300, "NOx": 150}}
    assert rep["grants"][0]["fraction"] == pytest.approx(0.5)


def test_max_min_fair_share() -> None:
    rep = optimise_json(two_applicants(objective="max_min"))
    # both can have at most 600; 900 usable -> each gets the same share t = 0.75
    assert rep["fair_share"] == pytest.approx(0.75)
    assert grants(rep) == {"A": {"SO2": 450}, "B": {"SO2": 450}}


def test_receptor_headroom_limits_grants() -> None:
    doc = two_applicants(receptors=[{
        "id": "R1", "headroom": "0.3",
        "coefficients": {"A": {"SO2": "0.001"}},  # 0.001 µg/m3 per kg from A
    }])
    rep = optimise_json(doc)
    # A may add at most 0.3 / 0.001 = 300 kg; B takes 600, 900 usable
    assert grants(rep) == {"A": {"SO2": 300}, "B": {"SO2": 600}}
    assert rep["receptors"][0]["shadow_price"] > 0


def test_all_or_nothing_grants_whole_demands() -> None:
    rep = optimise_json(two_applicants(all_or_nothing=True))
    assert grants(rep) == {"A": {"SO2": 600}, "B": {"SO2": 0}}
    assert rep["solver"]["mip"] is True
    assert all(r["shadow_price"] is None for r in rep["reserve"])  # no duals for a MILP


def test_infeasible_minimum_guarantees_are_named() -> None:
    doc = two_applicants()
    doc["applicants"][0]["min_fraction"] = "1"
    doc["applicants"][1]["min_fraction"] = "0.8"
    rep = optimise_json(doc)
    # minimums: 600 + 480 = 1080 kg > 900 usable
    assert rep["status"] == "infeasible" and rep["plan"] is None
    (conflict,) = rep["diagnosis"]["conflicts"]
    assert conflict["constraint"] == "reserve SO2/Z1"
    assert conflict["required"] == "1080" and conflict["limit"] == "900"
    assert set(conflict["applicants"]) == {"A", "B"}
    assert "reserve SO2/Z1" in rep["diagnosis"]["summary"]


def test_smallest_conflicting_set() -> None:
    doc = two_applicants()
    doc["applicants"].append({"id": "C", "zone": "Z1", "demand_kg": {"SO2": 1000},
                              "min_fraction": "0.95"})
    doc["applicants"][0]["min_fraction"] = "0.1"
    rep = optimise_json(doc)
    # C's guarantee alone (950 kg) exceeds the 900 usable: the set is just C
    assert rep["diagnosis"]["conflicts"][0]["applicants"] == ["C"] or \
        rep["diagnosis"]["conflicts"][0]["applicants"] == ("C",)


def test_guarantee_beyond_own_eia_is_a_conflict() -> None:
    doc = two_applicants()
    doc["applicants"][0] |= {"min_fraction": "0.9", "eia_kg": {"SO2": 300}}
    rep = optimise_json(doc)
    assert rep["status"] == "infeasible"
    assert rep["diagnosis"]["conflicts"][0]["constraint"] == "applicant A"


def test_negative_receptor_headroom_is_explained() -> None:
    rep = optimise_json(two_applicants(receptors=[
        {"id": "R1", "headroom": "-1", "zone_coefficients": {"Z1": {"SO2": "0.001"}}}]))
    assert rep["status"] == "infeasible"
    assert rep["diagnosis"]["conflicts"][0]["constraint"] == "receptor R1"


def test_time_limit_is_reported_as_not_proven() -> None:
    rep = optimise_json(two_applicants(solver={"engine": "highs", "time_limit_s": 1e-9}))
    assert rep["status"] in ("optimal", "time_limit")
    if rep["status"] != "optimal":
        assert rep["proven_optimal"] is False and "without proof" in rep.get("note", "") or \
            rep["plan"] is None


# --------------------------------------------------------------------------- properties


@st.composite
def problems(draw: st.DrawFn) -> dict[str, Any]:
    pollutants = draw(st.lists(st.sampled_from(["SO2", "NOx", "COD", "PM"]), min_size=1,
                               max_size=3, unique=True))
    zones = ["Z1", "Z2"][: draw(st.integers(1, 2))]
    reserve = [{"pollutant": p, "zone": z, "available_kg": draw(st.integers(0, 5000)),
                "retained_share": str(draw(st.sampled_from(["0", "0.05", "0.333"])))}
               for p in pollutants for z in zones]
    apps = []
    for i in range(draw(st.integers(1, 7))):
        demand = {p: draw(st.integers(0, 3000))
                  for p in draw(st.lists(st.sampled_from(pollutants), min_size=1, unique=True))}
        app: dict[str, Any] = {"id": f"A{i}", "zone": draw(st.sampled_from(zones)),
                               "demand_kg": demand, "priority": draw(st.integers(1, 5))}
        if draw(st.booleans()):
            app["eia_kg"] = {p: draw(st.integers(0, 3000)) for p in demand}
        if draw(st.booleans()):
            app["min_fraction"] = str(draw(st.sampled_from(["0.1", "0.25", "0.5"])))
        app["all_or_nothing"] = draw(st.integers(0, 5)) == 0
        apps.append(app)
    doc: dict[str, Any] = {"reserve": reserve, "applicants": apps,
                           "objective": draw(st.sampled_from(["priority", "max_min"]))}
    if draw(st.booleans()):
        doc["receptors"] = [{"id": "R1", "headroom": str(draw(st.integers(0, 50))),
                             "zone_coefficients": {z: {p: "0.01" for p in pollutants}
                                                   for z in zones}}]
    return doc


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_plans_pass_the_integer_recheck(doc: dict[str, Any]) -> None:
    rep = optimise_json(doc)
    if rep["status"] == "infeasible":
        assert "diagnosis" in rep, (doc, rep)
        assert rep["diagnosis"]["conflicts"]
        return
    assert rep["status"] == "optimal", rep
    assert rep["check"]["ok"], rep["check"]
    problem = parse_problem(doc)
    g = np.array([[row["granted_kg"].get(p.value, 0) for p in problem.pollutants]
                  for row in rep["grants"]], dtype=np.int64).reshape(problem.demand_kg.shape)
    assert check_plan(problem, g) == []


@settings(max_examples=25, deadline=None)
@given(problems())
def test_engines_agree_on_continuous_problems(doc: dict[str, Any]) -> None:
    for a in doc["applicants"]:
        a["all_or_nothing"] = False
    reps = {e: optimise_json({**doc, "solver": {"engine": e}})
            for e in ["highs", "sifting", "fixing", "pulp_highs"]}
    statuses = {r["status"] for r in reps.values()}
    assert len(statuses) == 1
    if statuses == {"optimal"}:
        values = [r["objective_value"] for r in reps.values()]
        assert max(values) - min(values) <= 1e-6 * max(1.0, abs(values[0]))


def test_shadow_price_predicts_the_gain_of_one_more_kg() -> None:
    rng = np.random.default_rng(3)
    doc: dict[str, Any] = {
        "reserve": [{"pollutant": p, "zone": z, "available_kg": int(rng.integers(2000, 6000))}
                    for p in ("SO2", "NOx") for z in ("Z1", "Z2")],
        "applicants": [{"id": f"A{i}", "zone": ["Z1", "Z2"][i % 2],
                        "demand_kg": {"SO2": int(rng.integers(100, 900)),
                                      "NOx": int(rng.integers(100, 900))},
                        "priority": int(rng.integers(1, 6))} for i in range(30)],
    }
    base = optimise_json(doc)
    assert base["status"] == "optimal"
    for k, row in enumerate(base["reserve"]):
        price = row["shadow_price"]
        assert price >= 0
        if row["left_kg"] > 0:
            assert price == pytest.approx(0.0, abs=1e-9)
        bumped = copy.deepcopy(doc)
        bumped["reserve"][k]["available_kg"] += 1
        gain = optimise_json(bumped)["objective_value"] - base["objective_value"]
        # one kg more is within the current basis' range for this instance: gain = dual
        assert gain == pytest.approx(price, rel=1e-6, abs=1e-6)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (["objective"], "fastest", "objective"),
        (["retained_share"], "1.5", "retained_share"),
        (["reserve", 0, "available_kg"], -1, "reserve[0].available_kg"),
        (["reserve", 0, "available_kg"], 1.5, "reserve[0].available_kg"),
        (["reserve", 0, "pollutant"], "CO2", "reserve[0].pollutant"),
        (["applicants", 0, "zone"], "Z9", "applicants[0].zone"),
        (["applicants", 0, "demand_kg"], {"NOx": 5}, "applicants[0].demand_kg.NOx"),
        (["applicants", 0, "demand_kg"], {"SO2": "lots"}, "applicants[0].demand_kg.SO2"),
        (["applicants", 1, "id"], "A", "applicants[1].id"),
        (["applicants", 0, "min_fraction"], "2", "applicants[0].min_fraction"),
        (["applicants", 0, "priority"], "-1", "applicants[0].priority"),
        (["applicants", 0, "all_or_nothing"], "yes", "applicants[0].all_or_nothing"),
        (["receptors"], [{"id": "R", "headroom": "x"}], "receptors[0].headroom"),
        (["receptors"], [{"id": "R", "headroom": "1", "coefficients": {"Q": {"SO2": "1"}}}],
         "receptors[0].coefficients.Q"),
        (["solver"], {"engine": "gurobi"}, "solver.engine"),
        (["solver"], {"time_limit_s": 0}, "solver.time_limit_s"),
        (["solver"], {"threads": 4}, "solver.threads"),
        (["extra"], 1, "extra"),
    ],
)
def test_bad_input_names_its_field(path: list[Any], value: Any, field: str) -> None:
    doc = two_applicants()
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ReserveInputError) as e:
        optimise_json(doc)
    assert e.value.field == field
    assert e.value.code == "bad_reserve_problem"


def test_optimise_rejects_unknown_method() -> None:
    with pytest.raises(ReserveInputError):
        optimise(parse_problem(two_applicants()), method="magic")
