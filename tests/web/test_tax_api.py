"""POST /api/v1/compliance/tax-return gives exactly the CLI's figures for the same input;
traders compute for their own enterprise only; bad input is 422 naming the field (CLI exit
2); the bureau records an outlet's source kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from tests.integration.spine import A, B

pytestmark = pytest.mark.db

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "tax-return.json"


def _cli(capsys, path: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    rc = main(["tax", "compute", "--input", path])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_api_and_cli_give_the_same_figures(client, auth, capsys) -> None:  # type: ignore[no-untyped-def]
    body = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    rc, out, _err = _cli(capsys, str(EXAMPLE))
    assert rc == 0
    r = client.post("/api/v1/compliance/tax-return", headers=auth("officer"), json=body)
    assert r.status_code == 200, r.text
    assert r.json() == json.loads(out)
    assert r.json()["total_fen"] == 1_495_080


def test_traders_compute_for_their_own_enterprise(client, auth, spine) -> None:  # type: ignore[no-untyped-def]
    body = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    del body["enterprise"]
    r = client.post("/api/v1/compliance/tax-return", headers=auth("trader_a"), json=body)
    assert r.status_code == 200 and r.json()["enterprise"] == A
    r = client.post("/api/v1/compliance/tax-return", headers=auth("trader_a"),
                    json={**body, "enterprise": B})
    assert r.status_code == 404
    assert client.post("/api/v1/compliance/tax-return", headers=auth("analyst"),
                       json=body).status_code == 403
    assert client.post("/api/v1/compliance/tax-return", json=body).status_code == 401


def test_bad_input_is_422_naming_the_field_and_cli_exit_2(client, auth, capsys,  # type: ignore[no-untyped-def]
                                                         tmp_path) -> None:
    body = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    body["outlets"][0]["months"][0]["month"] = 5
    r = client.post("/api/v1/compliance/tax-return", headers=auth("officer"), json=body)
    assert r.status_code == 422
    assert (r.json()["error"], r.json()["field"]) == ("month_outside_quarter",
                                                      "outlets[0].months[0].month")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(body), encoding="utf-8")
    rc, out, err = _cli(capsys, str(bad))
    assert rc == 2 and out == "" and "outlets[0].months[0].month" in err
    body = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    body["outlets"][1]["source_kind"] = "kiln"
    r = client.post("/api/v1/compliance/tax-return", headers=auth("officer"), json=body)
    assert (r.status_code, r.json()["error"], r.json()["field"]) == (
        422, "unknown_source_kind", "outlets[1].source_kind")
    r = client.post("/api/v1/compliance/tax-return", headers=auth("officer"), json=[1])
    assert r.status_code == 422


def test_bureau_records_source_kind(client, auth, spine) -> None:  # type: ignore[no-untyped-def]
    officer, pa = auth("officer"), spine["A"]
    r = client.post("/api/v1/compliance/outlets", headers=officer,
                    json={"permit": pa, "outlet": "DA001", "medium": "air"})
    assert r.status_code == 201, r.text
    url = f"/api/v1/compliance/outlets/{pa}/DA001/source-kind"
    r = client.put(url, headers=officer, json={"source_kind": "combustion"})
    assert r.status_code == 200 and r.json()["source_kind"] == "combustion"
    assert client.put(url, headers=officer, json={"source_kind": "x"}).status_code == 422
    assert client.put(url, headers=auth("trader_a"),
                      json={"source_kind": "process"}).status_code == 403
    r = client.put(f"/api/v1/compliance/outlets/{pa}/DA404/source-kind", headers=officer,
                   json={"source_kind": "process"})
    assert (r.status_code, r.json()["error"]) == (404, "outlet_not_found")
