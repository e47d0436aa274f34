"""The permit register on the web: the bureau page (upload with a preview of row errors by
line, import, history, life steps), the JSON API (import, change, renewal, revocation, 4xx
naming the field), and the permit page and public disclosure showing the register's
sections and an expired permit as expired."""

from __future__ import annotations

import base64

import pytest

from allocation import register_service as reg
from identity import service as identity
from kernel.ids import make_credit_code, make_permit_code
from tests.integration.register.test_register import EXPIRED, PA, SAMPLE, build_area
from tests.web.flash_support import notice_has

pytestmark = pytest.mark.db


def _sample() -> bytes:
    return SAMPLE.read_bytes()


def test_bureau_page_preview_import_history_and_steps(platform, spine, browser, client,  # type: ignore[no-untyped-def]
                                                      auth) -> None:  # type: ignore[no-untyped-def]
    build_area(platform)
    b = browser("officer")
    page = b.get("/bureau/permits")
    assert page.status_code == 200 and 'id="permit-import-form"' in page.text
    # preview: errors by line, nothing stored
    bad = _sample().replace(b",D4411,", b",D9999,", 1)
    r = b.post("/bureau/permits/imports", data={"preview": "on"},
               files={"file": ("bad.csv", bad, "text/csv")})
    assert r.status_code == 200 and 'id="permit-row-errors"' in r.text
    assert "<td>2</td><td>industry_code</td>" in r.text
    assert reg.list_imports(platform.uow()) == []
    # the real import of a bad file: 422, nothing stored, the attempt in the history
    r = b.post("/bureau/permits/imports", files={"file": ("bad.csv", bad, "text/csv")})
    assert r.status_code == 422 and "industry_code" in r.text
    # the sample: stored, then the import's page
    r = b.post("/bureau/permits/imports", files={"file": ("permits-sample.csv", _sample(),
                                                          "text/csv")},
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/bureau/permits/imports/")
    page = b.get(r.headers["location"])
    assert page.status_code == 200 and "permits-sample.csv" in page.text
    hist = b.get("/bureau/permits")
    assert hist.text.count("permits-sample.csv") == 1 and "bad.csv" in hist.text
    # a late renewal, then a revocation with its reason
    r = b.post("/bureau/permits/steps", data={"permit": PA, "step": "renewal",
                                               "on": "2030-12-01", "reason": "application"},
               follow_redirects=False)
    assert r.status_code == 303
    r = b.post("/bureau/permits/steps", data={"permit": PA, "step": "renewal",
                                               "on": "2040-12-01", "reason": "again"})
    assert r.status_code == 409 and "许可证已过期，不能延续" in r.text  # the catalogue's words
    r = b.post("/bureau/permits/steps", data={"permit": PA, "step": "change",
                                               "pollutant": "SO2", "year": "2027",
                                               "qty_t": "1.0001", "reason": "r"})
    assert r.status_code == 422 and "whole number of kg" in r.text
    # a revocation recovers rights: a second officer approves it (the default policy)
    r = b.post("/bureau/permits/steps", data={"permit": PA, "step": "revocation",
                                               "reason": "decision 7"}, follow_redirects=False)
    assert r.status_code == 303 and notice_has(b, r, "approval", "审批")
    assert reg.register_view(platform.uow(), PA)["status"] == "valid"
    pending = identity.approvals(platform.uow(), status="pending")["items"]
    assert [a["action"] for a in pending] == ["end_permit"]
    r = client.post(f"/api/v1/approvals/{pending[0]['id']}/approve", headers=auth("officer2"))
    assert r.status_code == 200, r.text
    assert reg.register_view(platform.uow(), PA)["status"] == "revoked"


def test_pages_refuse_others(client, browser, spine) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/bureau/permits", follow_redirects=False).status_code in (303, 401)
    assert browser("trader_a").get("/bureau/permits").status_code == 403


def test_api_import_change_renew_revoke(platform, spine, client, auth) -> None:  # type: ignore[no-untyped-def]
    build_area(platform)
    officer = auth("officer")
    bad = _sample().decode().replace("91500101MA5UAAAA1C,", "91500101MA5UAAAA1D,", 1)
    r = client.post("/api/v1/permit-imports", headers=officer,
                    json={"filename": "bad.csv", "content": bad})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "bad_permit_file" and body["field"] == "credit_code"
    assert body["errors"][0]["line"] == 2
    r = client.post("/api/v1/permit-imports", headers=officer, json={
        "filename": "permits-sample.csv",
        "content_base64": base64.b64encode(_sample()).decode()})
    assert r.status_code == 200 and r.json()["permits_new"] == 4
    assert client.post("/api/v1/permit-imports", headers=auth("trader_a"),
                       json={"content": "x"}).status_code == 403
    assert client.get("/api/v1/permit-imports", headers=officer).json()[0]["id"] >= 1
    change = {"quantities": [{"pollutant": "SO2", "year": 2027, "qty_kg": 500_000}],
              "reason": "new unit approved"}
    r = client.post(f"/api/v1/permits/{PA}/changes", headers=officer, json=change)
    assert r.status_code == 202 and r.json()["status"] == "pending"  # a second officer
    r = client.post(f"/api/v1/approvals/{r.json()['id']}/approve", headers=auth("officer2"))
    assert r.status_code == 200 and r.json()["status"] == "executed", r.text
    identity.set_approval_policy(platform.uow(), tx_type="recovery", required=False,
                                 actor="test")
    r = client.post(f"/api/v1/permits/{PA}/changes", headers=officer, json=change)
    assert r.status_code == 200 and r.json()["moves"] == []  # already 500 t
    r = client.post(f"/api/v1/permits/{PA}/changes", headers=officer, json={
        "quantities": [{"pollutant": "XX", "year": 2027, "qty_kg": 1}], "reason": "r"})
    assert r.status_code == 422 and r.json()["field"] == "quantities[0].pollutant"
    r = client.post(f"/api/v1/permits/{PA}/renewals", headers=officer,
                    json={"applied_on": "2031-01-05", "reason": "late"})
    assert r.status_code == 409 and r.json()["field"] == "applied_on"
    r = client.post(f"/api/v1/permits/{PA}/renewals", headers=officer,
                    json={"applied_on": "2030-09-01", "valid_to": "2036-01-01", "reason": "x"})
    assert r.status_code == 422 and r.json()["error"] == "permit_term_too_long"
    r = client.post(f"/api/v1/permits/{PA}/revocations", headers=officer,
                    json={"reason": "decision"})
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    view = client.get(f"/api/v1/permits/{PA}/register").json()
    assert view["status"] == "revoked" and view["content"]["management_class"] == "key"
    assert [e["kind"] for e in view["life"]] == ["revocation", "change", "change", "issue"]
    assert view["life"][2]["actor"] == "officer+officer2"
    assert client.get("/api/v1/permits/NOPE/register").status_code == 404


def test_public_page_shows_register_and_expired(platform, spine, client) -> None:  # type: ignore[no-untyped-def]
    build_area(platform)
    reg.import_permits(platform.uow(), text=SAMPLE.read_text(encoding="utf-8"),
                       filename="s.csv", actor="officer")
    credit = make_credit_code("91500000EEEEEEEE3")
    code = make_permit_code(credit, 1)
    reg.import_permits(platform.uow(), text=EXPIRED.format(code=code, credit=credit),
                       filename="e.csv", actor="officer")
    page = client.get(f"/public/enterprises/{PA[:18]}")
    assert page.status_code == 200
    for text in ("渝环准〔2024〕12号", "粉煤灰", "DA001", "MF0001", "65 dB(A)"):
        assert text in page.text
    expired = client.get(f"/public/enterprises/{credit}")
    assert expired.status_code == 200
    section = expired.text.split(f'id="permit-{code}"')[1]
    assert ("已过期" in section or "Permit expired" in section) and "有效</p>" not in section


def test_apis_show_an_expired_permit_as_expired(platform, spine, client) -> None:  # type: ignore[no-untyped-def]
    credit = make_credit_code("91500000EEEEEEEE3")
    code = make_permit_code(credit, 1)
    reg.import_permits(platform.uow(), text=EXPIRED.format(code=code, credit=credit),
                       filename="e.csv", actor="officer")
    assert client.get(f"/api/v1/permits/{code}").json()["status"] == "expired"
    feed = client.get(f"/api/v1/public/permits?enterprise={credit}").json()
    assert [p["status"] for p in feed["items"]] == ["expired"]
    assert client.get(f"/api/v1/permits/{spine['A']}").json()["status"] == "valid"


def test_nav_links_the_register(browser) -> None:  # type: ignore[no-untyped-def]
    page = browser("officer").get("/bureau/permits")
    assert 'id="nav-permits"' in page.text and 'href="/bureau/permits"' in page.text
