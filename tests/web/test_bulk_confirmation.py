"""Bulk confirmation on the pages and the API (issue 18): the queue with its filters, one
request confirming every waiting pollutant of the checked permits, the four-eyes rule applied
to the batch as a whole (one request, approved from the list, shown in words), and a bad
permit refusing the batch with a 4xx naming it, nothing confirmed."""

from __future__ import annotations

import re
from typing import Any

import pytest

from allocation import service as alloc
from identity import service as identity
from tests.integration.allocation.test_bulk_confirmation import add_c

pytestmark = pytest.mark.db
QUEUE = "/bureau/confirmations/queue"


@pytest.fixture
def more(platform, spine) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The spine's A and B (D01) and C (steel, D02, SO2 and NOx)."""
    return {**spine, "C": add_c(platform)}


@pytest.fixture
def d1(platform, spine) -> str:  # type: ignore[no-untyped-def]
    """A district officer of D01 (A and B are there, C is not)."""
    from tests.web.conftest import password_hash

    identity.create_user(platform.uow(), username="d1", display_name="D1",
                         role="bureau_officer", password="", district="D01",
                         password_hash=password_hash("d1"))
    return "d1"


def _confirmed(platform: Any, code: str) -> dict[str, bool]:
    view: Any = alloc.permit_view(platform.uow(), code, events=0)
    return {q["pollutant"]: q["confirmed"] for q in view["quantities"]}


def _flash(html: str) -> str:
    m = re.search(r'<p class="flash ok" role="status">(.*?)</p>', html, re.S)
    assert m, "no confirmation shown"
    return m.group(1)


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr id="queue-([0-9A-Z]+)">', html)


def test_queue_page_lists_and_filters(browser, more) -> None:  # type: ignore[no-untyped-def]
    b = browser("officer")
    page = b.get(QUEUE + "?year=2026")
    assert page.status_code == 200
    assert sorted(_rows(page.text)) == sorted([more["A"], more["B"], more["C"]])
    assert "Enterprise C" in page.text and "钢铁" in page.text and "火电" in page.text
    assert "氮氧化物 6.000 吨" in page.text and "District 2" in page.text
    assert 'id="nav-bulk-confirm"' in page.text
    assert _rows(b.get(QUEUE + "?year=2026&district=D02").text) == [more["C"]]
    assert _rows(b.get(QUEUE + "?year=2026&sector=thermal_power&zone=ZA1").text) == sorted(
        [more["A"], more["B"]])
    assert _rows(b.get(QUEUE + "?year=2027").text) == []
    assert "没有待确权的许可证" in b.get(QUEUE + "?year=2027").text


def test_checked_permits_confirmed_at_once(browser, platform, more, one_officer) -> None:  # type: ignore[no-untyped-def]
    b = browser("officer")
    b.get(QUEUE + "?year=2026")
    r = b.c.post("/bureau/confirmations/batch", data={
        "csrf_token": b.csrf, "year": "2026", "scope": "checked",
        "permits": [more["A"], more["C"]], "listed": [more["A"], more["B"], more["C"]]},
        follow_redirects=False)
    assert r.status_code == 303, r.text[:400]
    page = b.get(r.headers["location"])
    msg = _flash(page.text)
    assert "已办理" in msg and "2 张许可证" in msg and "18.000 吨" in msg
    assert f"Enterprise C（{more['C']}）：氮氧化物 6.000 吨" in msg
    assert _confirmed(platform, more["A"]) == {"SO2": True}
    assert _confirmed(platform, more["C"]) == {"NOx": True, "SO2": True}
    assert _confirmed(platform, more["B"]) == {"SO2": False}
    assert _rows(page.text) == [more["B"]]
    # "every permit listed on this page" takes the listed ones
    r = b.c.post("/bureau/confirmations/batch", data={
        "csrf_token": b.csrf, "year": "2026", "scope": "listed", "listed": [more["B"]]},
        follow_redirects=False)
    assert r.status_code == 303
    assert _confirmed(platform, more["B"]) == {"SO2": True}


def test_the_batch_needs_one_approval_as_a_whole(browser, platform, more) -> None:  # type: ignore[no-untyped-def]
    assert identity.approval_required(platform.uow(), "confirmation")  # the default
    b = browser("officer")
    b.get(QUEUE + "?year=2026")
    codes = [more["A"], more["B"], more["C"]]
    r = b.c.post("/bureau/confirmations/batch", data={
        "csrf_token": b.csrf, "year": "2026", "permits": codes}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/bureau/approvals")
    pending = identity.approvals(platform.uow(), status="pending")["items"]
    assert len(pending) == 1 and pending[0]["action"] == "confirm_permits"
    aid = pending[0]["id"]
    assert pending[0]["payload"]["expected"] == {more["A"]: {"SO2": 8_000},
                                                 more["B"]: {"SO2": 6_000},
                                                 more["C"]: {"NOx": 6_000, "SO2": 4_000}}
    assert "等待第二名经办人审批" in _flash(b.get("/bureau/approvals").text)
    assert all(not any(_confirmed(platform, c).values()) for c in codes)  # nothing yet
    # the requester sees it but cannot approve it
    mine = b.get("/bureau/approvals?status=pending").text
    assert f"/bureau/approvals/{aid}/approve" not in mine
    # the second officer reads the batch in words and approves it from the list
    b2 = browser("officer2")
    page = b2.get("/bureau/approvals?status=pending").text
    row = re.search(rf'<tr id="approval-{aid}">(.*?)</tr>', page, re.S)
    assert row is not None
    text = row.group(1)
    assert re.search(r"officer 于 \d{4}-\d\d-\d\d \d\d:\d\d（北京时间）申请：", text)
    assert "一次确认 3 张许可证全部待确权污染物（2026 年度）：共 4 项确权，合计 24.000 吨" in text
    assert f"Enterprise A（{more['A']}）：二氧化硫 8.000 吨，许可排放量 8.000 吨 → 8.000 吨" in text
    assert f"Enterprise C（{more['C']}）：氮氧化物 6.000 吨" in text
    assert f"/bureau/approvals/{aid}/approve" in text and "{" not in text
    r = b2.post(f"/bureau/approvals/{aid}/approve", follow_redirects=False)
    assert r.status_code == 303
    after = b2.get("/bureau/approvals").text
    msg = _flash(after)
    assert f"审批 #{aid}" in msg and "批准并已执行" in msg and "24.000 吨" in msg
    assert "{" not in msg and "qty_kg" not in msg
    assert all(all(_confirmed(platform, c).values()) for c in codes)
    assert '"qty_kg"' not in after and "transfer_id" not in after  # the result, in words


def test_a_permit_not_waiting_refuses_the_batch(browser, platform, more, one_officer) -> None:  # type: ignore[no-untyped-def]
    alloc.confirm_rights(platform.uow(), permit=more["B"], pollutant="SO2", year=2026,
                         actor="officer")
    b = browser("officer")
    b.get(QUEUE + "?year=2026")
    r = b.c.post("/bureau/confirmations/batch", data={
        "csrf_token": b.csrf, "year": "2026", "permits": [more["A"], more["B"]]})
    assert r.status_code == 409
    err = re.search(r'<p class="flash err" role="alert" id="batch-error">(.*?)</p>', r.text,
                    re.S)
    assert err and more["B"] in err.group(1) and "没有待确权" in err.group(1)
    assert _confirmed(platform, more["A"]) == {"SO2": False}
    assert re.search(rf'value="{more["A"]}"[^>]*checked', r.text)  # the choice is kept
    r = b.c.post("/bureau/confirmations/batch", data={"csrf_token": b.csrf, "year": "2026"})
    assert r.status_code == 422 and "请至少选择一张许可证" in r.text


def test_a_district_officer_confirms_its_district_only(  # type: ignore[no-untyped-def]
        browser, platform, more, d1, one_officer) -> None:
    b = browser(d1)
    page = b.get(QUEUE + "?year=2026&district=D02").text
    assert sorted(_rows(page)) == sorted([more["A"], more["B"]])  # its district, whatever asked
    r = b.c.post("/bureau/confirmations/batch", data={
        "csrf_token": b.csrf, "year": "2026", "permits": [more["A"], more["C"]]})
    assert r.status_code == 404 and more["C"] in r.text
    assert _confirmed(platform, more["A"]) == {"SO2": False}
    r = b.c.post("/bureau/confirmations/batch", data={
        "csrf_token": b.csrf, "year": "2026", "permits": [more["A"], more["B"]]},
        follow_redirects=False)
    assert r.status_code == 303
    assert _confirmed(platform, more["A"]) == {"SO2": True}


def test_api_queue_and_batch(client, auth, platform, more) -> None:  # type: ignore[no-untyped-def]
    officer = auth("officer")
    r = client.get("/api/v1/confirmations/queue?year=2026&sector=steel", headers=officer)
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 1 and body["items"][0]["code"] == more["C"]
    assert body["items"][0]["waiting"] == ["NOx", "SO2"]
    assert client.get("/api/v1/confirmations/queue", headers=auth("trader_a")).status_code == 403
    # a bad permit: 404 naming it, nothing stored
    r = client.post("/api/v1/confirmations/batch", headers=officer,
                    json={"permits": [more["A"], "91500000XXXXXXXXXX009Z"], "year": 2026})
    assert r.status_code == 404 and r.json()["field"] == "permits[1]"
    assert "91500000XXXXXXXXXX009Z" in r.json()["detail"]
    assert identity.approvals(platform.uow(), status="pending")["total"] == 0
    # the default policy: 202, one request; the second officer approves it whole
    r = client.post("/api/v1/confirmations/batch", headers=officer,
                    json={"permits": [more["A"], more["C"]], "year": 2026})
    assert r.status_code == 202, r.text
    aid = r.json()["id"]
    assert r.json()["preview"]["total_kg"] == 18_000
    r = client.post(f"/api/v1/approvals/{aid}/approve", headers=auth("officer2"))
    assert r.status_code == 200 and r.json()["status"] == "executed"
    assert _confirmed(platform, more["C"]) == {"NOx": True, "SO2": True}
    # without a second officer: 201 with each permit and pollutant
    identity.set_approval_policy(platform.uow(), tx_type="confirmation", required=False,
                                 actor="test")
    r = client.post("/api/v1/confirmations/batch", headers=officer,
                    json={"permits": [more["B"]], "year": 2026})
    assert r.status_code == 201, r.text
    assert [(i["permit"], i["pollutant"], i["qty_kg"]) for i in r.json()["items"]] == [
        (more["B"], "SO2", 6_000)]
    r = client.post("/api/v1/confirmations/batch", headers=officer,
                    json={"permits": [more["B"]], "year": 2026})
    assert r.status_code == 409 and r.json()["error"] == "permit_not_awaiting_confirmation"
