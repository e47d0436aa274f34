"""The market simulation stored with its scenario (issue 21): the API, the analyst page and
`erts simulate`, on the database baseline; roles and error shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.db


def _scenario(client, auth, name: str, change_pct: int = 0) -> int:  # type: ignore[no-untyped-def]
    body: dict[str, Any] = {"name": name}
    if change_pct:
        body["indicators"] = [{"change_pct": change_pct}]
    r = client.post("/api/v1/allocation/scenarios", json=body, headers=auth("analyst"))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_api_runs_stores_lists_and_compares(client, auth, spine) -> None:  # type: ignore[no-untyped-def]
    base = _scenario(client, auth, "base")
    tight = _scenario(client, auth, "tight", -20)
    body = {"scenario": base, "seeds": 2, "days": 20, "strategy": "truthful"}
    r = client.post("/api/v1/simulations", json=body, headers=auth("analyst"))
    assert r.status_code == 201, r.text
    run = r.json()
    assert (run["scenario"], run["seeds"], run["days"], run["strategy"]) == (base, 2, 20,
                                                                             "truthful")
    assert run["mac_version"] == "2026.1" and run["parameter_version"]
    res = run["result"]
    assert res["seeds"] == [0, 1] and res["agents"] > 0
    m = res["markets"][0]
    assert len(m["path"]["p50"]) == 20 and m["base_price"] > 0
    assert res["cost_fen"]["least_cost"]["mean"] <= res["cost_fen"]["simulated"]["mean"]
    # the market of the spine's SO2 zone keeps the platform's rules (tick, lot, band)
    r2 = client.post("/api/v1/simulations", json={**body, "scenario": tight},
                     headers=auth("officer"))
    assert r2.status_code == 201, r2.text
    # tighter indicators: less to hold, at least as much abatement and cost
    assert (r2.json()["result"]["cost_fen"]["simulated"]["mean"]
            >= res["cost_fen"]["simulated"]["mean"])
    # the same seeds give the same stored result
    again = client.post("/api/v1/simulations", json=body, headers=auth("analyst")).json()
    assert again["result"]["markets"] == res["markets"]
    assert again["result"]["cost_fen"] == res["cost_fen"]

    lst = client.get(f"/api/v1/simulations?scenario={base}", headers=auth("analyst")).json()
    assert lst["total"] == 2 and "result" not in lst["items"][0]
    got = client.get(f"/api/v1/simulations/{run['id']}", headers=auth("analyst"))
    assert got.status_code == 200 and got.json()["result"] == res
    cmp = client.get(f"/api/v1/simulations/compare?a={run['id']}&b={r2.json()['id']}",
                     headers=auth("analyst")).json()
    assert cmp["headline"]["cost_simulated_fen"]["delta"] >= 0
    params = client.get("/api/v1/simulations/parameters", headers=auth("analyst")).json()
    assert params["version"] == "2026.1" and all("source" in c for c in params["curves"])

    # refusals: a stable code and the field, never a 500
    for bad, field in (({**body, "seeds": 0}, "seeds"), ({**body, "strategy": "x"},
                                                         "strategy"),
                       ({**body, "days": 251}, "days"), ({**body, "extra": 1}, "extra")):
        r = client.post("/api/v1/simulations", json=bad, headers=auth("analyst"))
        assert r.status_code == 422 and field in r.text, (bad, r.text)
    r = client.post("/api/v1/simulations", json={**body, "scenario": 999},
                    headers=auth("analyst"))
    assert r.status_code == 404 and r.json()["error"] == "scenario_not_found"
    r = client.post("/api/v1/simulations", json={**body, "mac_version": "1999.1"},
                    headers=auth("analyst"))
    assert r.status_code == 422 and r.json()["field"] == "mac_version"
    r = client.get("/api/v1/simulations/999", headers=auth("analyst"))
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert client.get("/api/v1/simulations", headers=auth("trader_a")).status_code == 403
    assert client.post("/api/v1/simulations", json=body).status_code == 401
    # deleting the scenario deletes its simulation runs
    assert client.delete(f"/api/v1/allocation/scenarios/{base}",
                         headers=auth("analyst")).status_code == 204
    assert client.get(f"/api/v1/simulations/{run['id']}",
                      headers=auth("analyst")).status_code == 404


def test_page_runs_and_shows_two_runs_side_by_side(client, auth, browser, spine) -> None:  # type: ignore[no-untyped-def]
    a = _scenario(client, auth, "base")
    b = _scenario(client, auth, "tight", -20)
    br = browser("analyst")
    page = br.get("/analyst/simulations")
    assert page.status_code == 200 and 'id="simulation-form"' in page.text
    assert 'id="nav-simulations"' in page.text
    ids = []
    for sid in (a, b):
        r = br.post("/analyst/simulations", {"scenario": str(sid), "seeds": "2", "days": "15",
                                             "strategy": "zip"}, follow_redirects=False)
        assert r.status_code == 303, r.text
        ids.append(int(r.headers["location"].split("a=")[1]))
    page = br.get(f"/analyst/simulations?a={ids[0]}&b={ids[1]}")
    assert page.status_code == 200
    html = page.text
    assert 'id="simulation-headline"' in html and 'id="simulation-markets-b"' in html
    assert html.count('class="chart-box chart-path"') >= 1 and "<polyline" in html
    assert "市场模拟" in html and "元/吨" in html  # Chinese by default
    br.c.cookies.set("erts_lang", "en")
    assert "Market simulation" in br.get(f"/analyst/simulations?a={ids[0]}").text
    bad = br.post("/analyst/simulations", {"scenario": str(a), "seeds": "0", "days": "15",
                                           "strategy": "zip"})
    assert bad.status_code == 422 and "field-error" in bad.text
    assert br.get("/analyst/simulations?a=999").status_code == 404
    assert browser("trader_a").get("/analyst/simulations").status_code == 403


def test_cli_simulate(platform, spine, capsys, monkeypatch, db_url) -> None:  # type: ignore[no-untyped-def]
    from allocation import service as alloc
    from app.cli import main

    sid = alloc.create_scenario(platform.uow(), doc={"name": "cli"}, actor="t")["id"]
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["simulate", "--scenario", str(sid), "--seeds", "2", "--days", "10",
                 "--summary"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["scenario"] == sid and out["seeds"] == 2 and out["markets"]
    assert out["cost_fen"]["simulated"]["mean"] >= out["cost_fen"]["least_cost"]["mean"]
    assert main(["simulate", "--scenario", "999", "--days", "5"]) == 2
    assert "scenario_not_found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--scenario", str(sid), "--days", "0"])
    assert exc.value.code == 2
