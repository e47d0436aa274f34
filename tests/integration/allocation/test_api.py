"""The allocation API: calculators, computations, apportionment, reserve plans and release
(with second-officer approval), scenarios and standards; roles and error shapes."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.db

SHEET = {"sector": "industrial_boiler", "parameter_version": "2025.1",
         "outlets": [{"id": "DA001", "method": "gas_boiler", "fuel": "500", "qnet": "35.5"}]}
PROBLEM = {"reserve": [{"pollutant": "SO2", "zone": "Z1", "available_kg": 1000}],
           "applicants": [{"id": "a", "zone": "Z1", "demand_kg": {"SO2": 800}},
                          {"id": "b", "zone": "Z1", "demand_kg": {"SO2": 800},
                           "priority": 2}]}


def test_calculators(client, auth) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/allocation/permitted-quantity", json=SHEET, headers=auth("analyst"))
    assert r.status_code == 200, r.text
    assert r.json()["pollutants"]["NOx"]["binding"] == "specification"
    bad = {**SHEET, "outlets": [{"id": "DA001", "method": "gas_boiler", "fuel": "-5",
                                 "qnet": "35"}]}
    r = client.post("/api/v1/allocation/permitted-quantity", json=bad, headers=auth("analyst"))
    assert r.status_code == 422
    assert r.json() == {"error": "bad_sheet", "detail": "outlets[0].fuel must not be negative",
                        "field": "outlets[0].fuel"}
    r = client.post("/api/v1/allocation/permitted-quantity", json=SHEET)
    assert r.status_code == 401
    r = client.post("/api/v1/allocation/permitted-quantity", json=SHEET,
                    headers=auth("trader_a"))
    assert r.status_code == 403

    r = client.post("/api/v1/reserve/optimise", json=PROBLEM, headers=auth("officer"))
    assert r.status_code == 200 and r.json()["proven_optimal"] is True
    assert r.json()["granted_total_kg"] == {"SO2": 1000}
    infeasible = {**PROBLEM, "applicants": [{"id": "a", "zone": "Z1",
                                             "demand_kg": {"SO2": 2000}, "min_fraction": 1}]}
    r = client.post("/api/v1/reserve/optimise", json=infeasible, headers=auth("officer"))
    assert r.status_code == 200 and r.json()["status"] == "infeasible"
    assert r.json()["diagnosis"]["conflicts"][0]["applicants"] == ["a"]
    r = client.post("/api/v1/reserve/optimise", json={**PROBLEM, "objective": "fair"},
                    headers=auth("officer"))
    assert r.status_code == 422 and r.json()["field"] == "objective"


def test_computation_and_apportionment(client, auth, spine) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/allocation/computations", json={}, headers=auth("analyst"))
    assert r.status_code == 403
    r = client.post("/api/v1/allocation/computations", json={"years": [2026]},
                    headers=auth("officer"))
    assert r.status_code == 201, r.text
    run = r.json()
    assert (run["changed"], run["actor"], run["parameter_version"]) == (2, "officer", "2025.1")
    r = client.get(f"/api/v1/allocation/computations/{run['id']}?limit=1",
                   headers=auth("analyst"))
    assert r.status_code == 200 and r.json()["changes"]["total"] == 2
    assert len(r.json()["changes"]["items"]) == 1
    assert client.get("/api/v1/allocation/computations/999",
                      headers=auth("analyst")).json()["error"] == "computation_not_found"
    r = client.post("/api/v1/allocation/computations", json={"parameter_version": "1999"},
                    headers=auth("officer"))
    assert r.status_code == 422 and r.json()["field"] == "parameter_version"

    r = client.post("/api/v1/allocation/apportionments", headers=auth("officer"),
                    json={"zone": "ZA1", "pollutant": "SO2", "year": 2026})
    assert r.status_code == 201, r.text
    assert sum(s["share_kg"] for s in r.json()["shares"]) == 18_000
    r = client.post("/api/v1/allocation/apportionments", headers=auth("officer"),
                    json={"zone": "ZX", "pollutant": "SO2", "year": 2026})
    assert r.status_code == 404 and r.json()["error"] == "indicator_not_found"


def test_reserve_plan_and_release_with_approval(client, auth, spine) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/reserve/requests", headers=auth("officer"), json={
        "permit": spine["B"], "pollutant": "SO2", "year": 2026, "qty_kg": 1500})
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/reserve/plans", json={"year": 2026}, headers=auth("officer"))
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["status"] == "planned" and plan["grants"][0]["granted_kg"] == 1500
    assert client.get(f"/api/v1/reserve/plans/{plan['id']}",
                      headers=auth("analyst")).status_code == 200
    r = client.post(f"/api/v1/reserve/plans/{plan['id']}/release", headers=auth("analyst"))
    assert r.status_code == 403
    r = client.post(f"/api/v1/reserve/plans/{plan['id']}/release", headers=auth("officer"))
    assert r.status_code == 202, r.text  # reserve_release needs a second officer
    approval = r.json()
    r = client.post(f"/api/v1/approvals/{approval['id']}/approve", headers=auth("officer2"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "executed"
    permit = client.get(f"/api/v1/permits/{spine['B']}").json()
    so2 = next(q for q in permit["quantities"] if q["pollutant"] == "SO2")
    assert so2["permitted_kg"] == 6000 + 1500  # released rights join the permit
    assert permit["history"][0]["kind"] == "reserve_release"
    r = client.post("/api/v1/reserve/plans", json={"year": 2026}, headers=auth("officer"))
    assert r.status_code == 409 and r.json()["error"] == "nothing_to_compute"


def test_scenarios_and_standards(client, auth, spine) -> None:  # type: ignore[no-untyped-def]
    def post(url: str, body: Any, who: str = "analyst"):  # type: ignore[no-untyped-def]
        return client.post(url, json=body, headers=auth(who))

    r = post("/api/v1/allocation/scenarios", {"name": "base"})
    assert r.status_code == 201, r.text
    base = r.json()["id"]
    r = post("/api/v1/allocation/scenarios", {"name": "hot", "utilisation_hours": 5500,
                                              "indicators": [{"change_pct": -5}]})
    hot = r.json()["id"]
    r = post("/api/v1/allocation/scenarios", {"name": "bad", "alert": {"level": "x"}})
    assert r.status_code == 422 and r.json()["field"] == "alert.level"
    assert post("/api/v1/allocation/scenarios", {"name": "base"}).status_code == 409
    r = post(f"/api/v1/allocation/scenarios/{hot}/runs", {})
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["reserve_plan"]["check_ok"] and run["deltas"]["by_pollutant"]
    assert client.get(f"/api/v1/allocation/scenario-runs/{run['id']}",
                      headers=auth("analyst")).json()["id"] == run["id"]
    r = client.get(f"/api/v1/allocation/scenarios/compare?a={base}&b={hot}",
                   headers=auth("analyst"))
    assert r.status_code == 200, r.text
    row = r.json()["by_pollutant"][0]
    assert row["share_kg"]["delta"] == row["share_kg"]["b"] - row["share_kg"]["a"] < 0
    assert client.get("/api/v1/allocation/scenarios",
                      headers=auth("officer")).json()["total"] == 2
    assert client.delete(f"/api/v1/allocation/scenarios/{hot}",
                         headers=auth("analyst")).status_code == 204
    assert client.get(f"/api/v1/allocation/scenarios/{hot}",
                      headers=auth("analyst")).status_code == 404

    std = {"name": "GB X", "effective": "2030-07-01",
           "limits": {"gas_boiler": {"national": {"NOx": "150"}}}}
    assert post("/api/v1/allocation/standards", std).status_code == 403
    r = post("/api/v1/allocation/standards", std, "officer")
    assert r.status_code == 201, r.text
    assert r.json()["flagged"] == 0  # the spine's permits are thermal power
    r = post("/api/v1/allocation/standards", {**std, "name": "GB Y", "effective": "2020-01-01"},
             "officer")
    assert r.status_code == 422 and r.json()["field"] == "effective"
    r = post("/api/v1/allocation/standards",
             {**std, "name": "GB Z", "limits": {"gas_boiler": {"weird": {"NOx": "1"}}}},
             "officer")
    assert r.status_code == 422 and r.json()["field"] == "limits.gas_boiler.weird"
    r = client.get("/api/v1/allocation/standard-flags", headers=auth("analyst"))
    assert r.status_code == 200 and r.json()["total"] == 0


@pytest.mark.parametrize(("outlet", "extra", "field"), [
    ({"id": "DA001", "method": "gas_boiler", "qnet": "35"}, {}, "outlets[0].fuel"),
    ({"id": "DA001", "method": "gas_boiler", "fuel": "5", "fuel_unit": "barrel", "qnet": "35"},
     {}, "outlets[0].fuel_unit"),
    ({"id": "DA001", "method": "magic"}, {}, "outlets[0].method"),
    ({"id": "DA001", "method": "gas_boiler", "fuel": "5", "qnet": "35"},
     {"eia": {"date": "2999-01-01", "quantities_t": {"NOx": "1"}}}, "eia.date"),
])
def test_bad_sheets_name_the_field(client, auth, outlet, extra, field) -> None:  # type: ignore[no-untyped-def]
    sheet = {"sector": "industrial_boiler", "outlets": [outlet], **extra}
    r = client.post("/api/v1/allocation/permitted-quantity", json=sheet,
                    headers=auth("analyst"))
    assert r.status_code == 422 and r.json()["error"] == "bad_sheet"
    assert r.json()["field"] == field
