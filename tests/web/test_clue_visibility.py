"""An enterprise sees a problem clue only once the bureau has sent it (issue 18): a clue
still `found` is absent from the enterprise's clue page and the API's list, its detail
answers 404 like a missing clue, and it cannot be rectified; the bureau sees it all along.
After sending, the enterprise sees it everywhere."""

from __future__ import annotations

from datetime import timedelta

import pytest

from compliance.alerting import clue_service
from kernel.beijing import beijing_today
from tests.integration.spine import A

pytestmark = pytest.mark.db


@pytest.fixture
def clue(platform, spine) -> int:  # type: ignore[no-untyped-def]
    out = clue_service.open_manual(platform.uow(), permit=spine["A"], outlet="DA001",
                                   pollutant="SO2", description="complaint: smoke at night",
                                   actor="officer")
    assert out["state"] == "found"
    return int(out["id"])


def _ids(body: dict) -> set[int]:  # type: ignore[type-arg]
    return {int(c["id"]) for c in body["items"]}


def test_found_clue_hidden_from_the_enterprise(client, auth, browser, clue) -> None:  # type: ignore[no-untyped-def]
    ta, officer = auth("trader_a"), auth("officer")
    assert clue in _ids(client.get("/api/v1/clues", headers=officer).json())
    assert clue in _ids(client.get("/api/v1/clues", params={"enterprise": A},
                                   headers=officer).json())
    assert client.get("/api/v1/clues/detail", params={"clue": clue},
                      headers=officer).status_code == 200
    # the enterprise: not listed (not even when asking for found clues), detail 404
    assert clue not in _ids(client.get("/api/v1/clues", headers=ta).json())
    found = client.get("/api/v1/clues", params={"state": "found"}, headers=ta).json()
    assert found["total"] == 0 and found["items"] == []
    r = client.get("/api/v1/clues/detail", params={"clue": clue}, headers=ta)
    assert r.status_code == 404 and r.json()["error"] == "clue_not_found"
    # its pages
    trader = browser("trader_a")
    page = trader.get(f"/enterprises/{A}/clues").text
    assert f'id="clue-{clue}"' not in page and "smoke at night" not in page
    page = trader.get(f"/enterprises/{A}/clues", params={"clue": clue}).text
    assert 'id="clue-state"' not in page and "smoke at night" not in page
    r = trader.post(f"/enterprises/{A}/clues/rectify", {"clue": str(clue), "note": "done"})
    assert r.status_code == 404
    # the bureau's page lists it
    assert f'id="clue-{clue}"' in browser("officer").get("/bureau/clues").text


def test_sent_clue_shown_to_the_enterprise(platform, client, auth, browser, clue) -> None:  # type: ignore[no-untyped-def]
    clue_service.send(platform.uow(), clue_id=clue, due=beijing_today() + timedelta(days=10),
                      message="please explain", actor="officer")
    ta = auth("trader_a")
    assert clue in _ids(client.get("/api/v1/clues", headers=ta).json())
    assert client.get("/api/v1/clues/detail", params={"clue": clue},
                      headers=ta).json()["state"] == "sent"
    trader = browser("trader_a")
    assert f'id="clue-{clue}"' in trader.get(f"/enterprises/{A}/clues").text
    page = trader.get(f"/enterprises/{A}/clues", params={"clue": clue}).text
    assert 'id="clue-state"' in page and "please explain" in page
    r = trader.post(f"/enterprises/{A}/clues/rectify",
                    {"clue": str(clue), "note": "fixed the filter"}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/v1/clues/detail", params={"clue": clue},
                      headers=ta).json()["state"] == "rectified"


def test_trader_import_does_not_name_clues(platform, client, auth, spine) -> None:  # type: ignore[no-untyped-def]
    """A trader's import whose data opens clues (a frozen analyser: a flat line) answers
    without them; the bureau finds them in its list."""
    from compliance.reporting import service as compliance

    pa = spine["A"]
    compliance.register_outlet(platform.uow(), permit=pa, outlet="DA001", medium="air")
    header = "permit,outlet,hour,flow_nm3_h,SO2_mg_m3,o2_pct,power_kwh\n"
    csv = header + "\n".join(f"{pa},DA001,2026-06-01 {h:02d}:00,{100_000 + h},20,6,{900 + h}"
                              for h in range(24)) + "\n"
    officer = auth("officer")
    before = client.get("/api/v1/clues", headers=officer).json()["total"]
    r = client.post("/api/v1/monitoring/imports", headers=auth("trader_a"), json={"csv": csv})
    assert r.status_code == 201, r.text
    opened = client.get("/api/v1/clues", headers=officer).json()["total"] - before
    assert opened >= 1  # the data did open clues
    body = r.json()
    assert body["clues"] == [] and body["alert_clues"] == [] and body["anomaly_kinds"] == {}
