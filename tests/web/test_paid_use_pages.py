"""Paid use of rights over HTTP: the bills API (the bureau sees all, a trader its own),
paying (once; another enterprise's bill is 404, short cash 409), the bureau's coded
refusals, and the pages in Chinese, yuan, tonnes and Beijing time."""

from __future__ import annotations

import pytest

from allocation import paid_use_service as paid_use
from allocation import service as alloc
from tests.integration.spine import NOW, A

pytestmark = pytest.mark.db


@pytest.fixture
def billed(platform, spine, one_officer):  # type: ignore[no-untyped-def]
    """A and B confirmed 1 000 kg of SO2 each: one unpaid bill each (976.00 yuan)."""
    for p in (spine["A"], spine["B"]):
        alloc.confirm_rights(platform.uow(), permit=p, pollutant="SO2", year=2026,
                             qty_kg=1000, actor="officer", now=NOW)
    return spine


def test_bills_api_scope_pay_once_and_refusals(client, auth, billed, platform) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/paid-use/bills", headers=auth("officer"))
    assert r.status_code == 200 and r.json()["total"] == 2
    r = client.get("/api/v1/paid-use/bills", headers=auth("trader_a"))
    mine = r.json()["items"]
    assert [b["enterprise"] for b in mine] == [A] and mine[0]["amount_fen"] == 97_600
    bill_a = mine[0]["id"]
    bill_b = client.get("/api/v1/paid-use/bills",
                        headers=auth("trader_b")).json()["items"][0]["id"]
    assert client.get("/api/v1/paid-use/bills?overdue=true",
                      headers=auth("officer")).status_code == 200
    r = client.get("/api/v1/paid-use/bills?status=late", headers=auth("officer"))
    assert r.status_code == 422 and r.json()["field"] == "status"

    # A holds 10 yuan: 409 insufficient_cash, nothing moved
    r = client.post(f"/api/v1/paid-use/bills/{bill_a}/pay", headers=auth("trader_a"))
    assert (r.status_code, r.json()["error"], r.json()["field"]) == (
        409, "insufficient_cash", "bill")
    # another enterprise's bill: 404, as a missing one
    r = client.post(f"/api/v1/paid-use/bills/{bill_a}/pay", headers=auth("trader_b"))
    assert (r.status_code, r.json()["error"]) == (404, "bill_not_found")
    # B pays its own; again: the same answer, paid once
    r = client.post(f"/api/v1/paid-use/bills/{bill_b}/pay", headers=auth("trader_b"))
    assert r.status_code == 200 and r.json()["status"] == "paid" and not r.json()["replayed"]
    r = client.post(f"/api/v1/paid-use/bills/{bill_b}/pay", headers=auth("trader_b"))
    assert r.status_code == 200 and r.json()["replayed"]
    # verification of A's rights waits for A's bill; B's goes through
    r = client.post(f"/api/v1/permits/{billed['A']}/surplus-verifications",
                    headers=auth("officer"), json={"pollutant": "SO2", "year": 2026,
                                                   "qty_kg": 100})
    assert (r.status_code, r.json()["error"]) == (409, "paid_use_unpaid")
    r = client.post(f"/api/v1/permits/{billed['B']}/surplus-verifications",
                    headers=auth("officer"), json={"pollutant": "SO2", "year": 2026,
                                                   "qty_kg": 100})
    assert r.status_code == 201, r.text

    # a new unit: confirmation refused with the rule's code
    r = client.post("/api/v1/paid-use/unit-kinds", headers=auth("officer"),
                    json={"permit": billed["A"], "unit_kind": "expanded"})
    assert r.status_code == 200
    r = client.post(f"/api/v1/permits/{billed['A']}/confirmations", headers=auth("officer"),
                    json={"pollutant": "SO2", "year": 2026, "qty_kg": 10})
    assert (r.status_code, r.json()["error"]) == (409, "rights_by_purchase_only")
    r = client.post("/api/v1/paid-use/unit-kinds", headers=auth("officer"),
                    json={"permit": "NOPE", "unit_kind": "new"})
    assert r.status_code == 404

    prices = {p["pollutant"]: p for p in client.get("/api/v1/paid-use/base-prices").json()}
    assert prices["SO2"]["price"] == 97_600 and prices["VOCs"]["price"] is None
    assert prices["VOCs"]["status"] == "not_published"


def test_plan_prices_api_refuses_below_base(client, auth, billed) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/reserve/requests", headers=auth("officer"), json={
        "permit": billed["B"], "pollutant": "SO2", "year": 2026, "qty_kg": 500})
    assert r.status_code == 201, r.text
    plan = client.post("/api/v1/reserve/plans", json={"year": 2026},
                       headers=auth("officer")).json()
    url = f"/api/v1/paid-use/plans/{plan['id']}/prices"
    for bad, code in (({"SO2": 1}, "plan_price_below_base"), ({"SO2": 0}, "bad_plan_price"),
                      ({"XX": 100_000}, "bad_plan_price")):
        r = client.post(url, headers=auth("officer"), json={"prices": bad})
        assert (r.status_code, r.json()["error"]) == (422, code), r.text
        assert r.json()["field"].startswith("prices.")
    r = client.post(url, headers=auth("officer"), json={"prices": {"SO2": 120_000}})
    assert r.status_code == 200 and r.json()["prices"]["SO2"] == 120_000
    assert client.get(f"/api/v1/reserve/plans/{plan['id']}",
                      headers=auth("officer")).json()["prices"] == {"SO2": 120_000}


def test_pages_show_bills_in_yuan_tonnes_beijing_and_pay(browser, billed, platform) -> None:  # type: ignore[no-untyped-def]
    alloc.deposit_cash(platform.uow(), enterprise=A, amount_fen=100_000, actor="bureau",
                       reference="A-fee", now=NOW)
    ta = browser("trader_a")
    page = ta.get(f"/enterprises/{A}")
    assert f"/enterprises/{A}/bills" in page.text
    page = ta.get(f"/enterprises/{A}/bills")
    assert page.status_code == 200
    # 1.000 t, 976.00 yuan, issued 2026-06-01 10:00 Beijing time (02:00 UTC), due 2026-07-01
    for text in ("有偿使用费账单", "1.000", "976.00", "2026-06-01 10:00", "2026-07-01", "未缴",
                 "缴费"):
        assert text in page.text, text
    bill = paid_use.list_bills(platform.uow(), enterprise=A)["items"][0]["id"]
    r = ta.post(f"/enterprises/{A}/bills/pay", data={"bill": str(bill)},
                follow_redirects=False)
    assert r.status_code == 303
    page = ta.get(f"/enterprises/{A}/bills")
    assert "已缴" in page.text
    r = ta.post(f"/enterprises/{A}/bills/pay", data={"bill": "x"})
    assert r.status_code == 422 and "bill" in r.text
    tb = browser("trader_b")
    assert tb.get(f"/enterprises/{A}/bills").status_code == 404
    officer = browser("officer")
    page = officer.get("/bureau/paid-use")
    assert page.status_code == 200 and "排污权有偿使用" in page.text and "未公布" in page.text
    assert page.text.count('id="bill-') == 2
    page = officer.get("/bureau/paid-use?status=unpaid")
    assert page.text.count('id="bill-') == 1
