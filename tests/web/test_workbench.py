"""Workbenches by role, the grouped navigation and in-app notifications through the pages
and the API (issue 18), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date

import pytest

from allocation import service as alloc
from compliance.alerting import clue_service
from compliance.alerting.clue_store import ClueStore
from compliance.supervision.screening import Anomaly
from identity import service as identity
from tests.integration.spine import NOW, A

pytestmark = pytest.mark.db


def _count(html: str, key: str) -> int:
    m = re.search(rf'id="todo-{key}"[^>]*>.*?<b class="count">(\d+)</b>', html, re.S)
    assert m, f"no workbench item {key}"
    return int(m.group(1))


def _send_clue(platform, permit: str, due: date = date(2026, 6, 10)) -> int:  # type: ignore[no-untyped-def]
    with platform.uow() as uow:
        (cid,) = ClueStore(uow.session).open_from_anomalies(
            [Anomaly(permit=permit, outlet="DA001", kind="manual", pollutant="SO2", start=NOW,
                     end=NOW, evidence={})], now=NOW, source="screening")
        uow.commit()
    clue_service.send(platform.uow(), clue_id=cid, due=due, message="check", actor="officer",
                      now=NOW)
    return cid


def test_anonymous_home_is_the_public_summary(client, spine) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/")
    assert r.status_code == 200 and 'id="todo"' not in r.text
    assert 'id="nav-workbench"' not in r.text and 'id="nav-public-penalties"' in r.text
    assert 'id="nav-notifications"' not in r.text


def test_officer_workbench_counts_and_links(browser, platform, spine) -> None:  # type: ignore[no-untyped-def]
    officer = browser("officer")
    html = officer.get("/").text
    assert 'id="todo"' in html
    # both spine permits wait for confirmation; nothing else waits
    assert _count(html, "permits_awaiting_confirmation") == 2
    assert _count(html, "approvals_waiting") == 0 and _count(html, "clues_overdue") == 0
    assert 'href="/bureau/approvals"' in html and "待我审批" in html
    # officer2 asks for an approval: it waits for officer, not for officer2
    identity.request_approval(platform.uow(), tx_type="confirmation", action="confirm",
                              target=spine["A"], payload={}, summary="confirm",
                              requested_by="officer2")
    _send_clue(platform, spine["A"])  # due 2026-06-10: overdue today
    html = officer.get("/").text
    assert _count(html, "approvals_waiting") == 1 and _count(html, "clues_overdue") == 1
    assert _count(browser("officer2").get("/").text, "approvals_waiting") == 0
    alloc.confirm_rights(platform.uow(), permit=spine["A"], pollutant="SO2", year=2026,
                         actor="officer", now=NOW)
    assert _count(officer.get("/").text, "permits_awaiting_confirmation") == 1
    # the header counts the officer's unread notification (the approval)
    assert re.search(r'id="unread-count">1<', html)


def test_trader_workbench_and_notifications(browser, platform, spine) -> None:  # type: ignore[no-untyped-def]
    alloc.confirm_rights(platform.uow(), permit=spine["A"], pollutant="SO2", year=2026,
                         qty_kg=1000, actor="officer", now=NOW)
    cid = _send_clue(platform, spine["A"], due=date(2099, 1, 1))
    ta = browser("trader_a")
    html = ta.get("/").text
    assert _count(html, "bills_to_pay") == 1 and "976.00" in html
    assert _count(html, "clues_assigned") == 1 and _count(html, "transfers_proposed") == 0
    assert f'href="/enterprises/{A}/bills"' in html
    # the two notifications, in Chinese, newest first, with yuan and Beijing dates
    assert re.search(r'id="unread-count">2<', html)
    assert f"问题线索第 {cid} 号已下发给您，请于 2099-01-01 前整改。" in html
    assert "已开具 1 张有偿使用缴费单：共 976.00 元，缴费期限 2026-07-01。" in html
    # B's trader sees none of it
    tb = browser("trader_b")
    hb = tb.get("/").text
    assert _count(hb, "bills_to_pay") == 0 and 'id="unread-count"' not in hb
    # reading the list marks nothing read (GET never writes)
    page = ta.get("/notifications").text
    assert page.count('class="unread"') == 2
    assert ta.get("/notifications").text.count('class="unread"') == 2
    ids = [int(x) for x in re.findall(r'id="notice-(\d+)"', page)]
    # B cannot mark A's notifications read
    tb.get("/notifications")
    tb.post("/notifications/read", data={"id": str(ids[0])}, follow_redirects=False)
    assert ta.get("/notifications").text.count('class="unread"') == 2
    r = ta.post("/notifications/read", data={"id": str(ids[0]), "next": "/notifications"},
                follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/notifications"
    page = ta.get("/notifications").text
    assert page.count('class="unread"') == 1 and "已将 1 条通知标为已读" in page
    r = ta.post("/notifications/read", data={"next": "https://evil.example/"},
                follow_redirects=False)
    assert r.headers["location"] == "/notifications"  # never off-site
    assert ta.get("/notifications").text.count('class="unread"') == 0
    assert 'id="unread-count"' not in ta.get("/").text
    # English
    ta.get("/lang/en?next=/")
    en = ta.get("/notifications").text
    assert "1 paid-use bill issued: 976.00 yuan, due 2026-07-01." in en


def test_posts_need_the_csrf_token(browser, spine) -> None:  # type: ignore[no-untyped-def]
    ta = browser("trader_a")
    r = ta.c.post("/notifications/read", data={}, follow_redirects=False)
    assert r.status_code == 403


def test_analyst_workbench_lists_own_scenarios(browser, platform, spine) -> None:  # type: ignore[no-untyped-def]
    alloc.create_scenario(platform.uow(), doc={"name": "mine", "year": 2026}, actor="analyst")
    alloc.create_scenario(platform.uow(), doc={"name": "theirs", "year": 2026}, actor="officer")
    html = browser("analyst").get("/").text
    assert 'id="my-scenarios"' in html and ">mine</a>" in html and "theirs" not in html


def test_notifications_api(client, auth, platform, spine) -> None:  # type: ignore[no-untyped-def]
    alloc.confirm_rights(platform.uow(), permit=spine["A"], pollutant="SO2", year=2026,
                         qty_kg=1000, actor="officer", now=NOW)
    r = client.get("/api/v1/notifications", headers=auth("trader_a"))
    assert r.status_code == 200
    body = r.json()
    assert body["unread"] == 1 and body["total"] == 1
    (n,) = body["items"]
    assert n["kind"] == "bill_issued" and n["params"]["amount_fen"] == 97_600
    assert n["read"] is False and n["created_at"].endswith("+00:00") and n["text"]
    assert client.get("/api/v1/notifications", headers=auth("trader_b")).json()["total"] == 0
    # another user's id: nothing marked
    r = client.post("/api/v1/notifications/read", json={"ids": [n["id"]]},
                    headers=auth("trader_b"))
    assert r.status_code == 200 and r.json() == {"marked": 0, "unread": 0}
    r = client.post("/api/v1/notifications/read", json={"ids": [n["id"]]},
                    headers=auth("trader_a"))
    assert r.json() == {"marked": 1, "unread": 0}
    assert client.get("/api/v1/notifications?unread=true",
                      headers=auth("trader_a")).json()["total"] == 0
    assert client.post("/api/v1/notifications/read", json={"ids": ["x"]},
                       headers=auth("trader_a")).status_code == 422
    assert client.get("/api/v1/notifications").status_code == 401
    wb = client.get("/api/v1/workbench", headers=auth("trader_a")).json()
    assert {i["key"]: i["count"] for i in wb["items"]}["bills_to_pay"] == 1
    wb = client.get("/api/v1/workbench", headers=auth("officer")).json()
    assert {i["key"]: i["count"] for i in wb["items"]}["permits_awaiting_confirmation"] == 1


def test_officer_navigation_is_grouped_and_keeps_its_ids(browser, spine) -> None:  # type: ignore[no-untyped-def]
    html = browser("officer").get("/bureau").text
    nav = html[html.index('<nav class="main"'):html.index("</nav>")]
    ids = re.findall(r'<a [^>]*id="(nav-[a-z-]+)"', nav)
    assert len(ids) == len(set(ids))  # no id twice on a page
    for must in ("nav-workbench", "nav-permits", "nav-reserve", "nav-auctions", "nav-transfers",
                 "nav-flags", "nav-standards", "nav-monitoring", "nav-alerts", "nav-clues",
                 "nav-compliance", "nav-penalties", "nav-public-penalties", "nav-scenarios"):
        assert must in ids, must
    # six groups: the workbench, then five menus that open without JavaScript
    assert nav.count('<details class="menu"') == 5
    top = re.sub(r"<details.*?</details>", "", nav, flags=re.S)
    assert re.findall(r'id="(nav-[a-z-]+)"', top) == ["nav-workbench"]
