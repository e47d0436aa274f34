"""The workbench's to-do items and notifications lead to the page of the work (issue 18).

Found by the trader's and officer's browser walks (tests/e2e/test_role_days.py): FastAPI
keeps each router included in the app as one entry of `app.routes`, so the page paths read
from the top level alone missed the enterprise's pages; an enterprise's to-do items then had
no link (bills, clues, transfers, reports) or led to the enterprise page instead of its
penalty procedures, and a penalty notice led to the public list. Each link is followed here
and must answer 200."""

from __future__ import annotations

import re

import pytest

from allocation import service as alloc
from compliance.enforcement import disclosure_service as disclosure
from compliance.enforcement import penalty_case_service as cases
from tests.integration.spine import NOW, A
from web.notice_words import ITEMS

pytestmark = pytest.mark.db


def _todo_links(html: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for key, body in re.findall(r'<li id="todo-(\w+)"[^>]*>\s*(<a[^>]*>)', html):
        m = re.search(r'href="([^"]+)"', body)
        out[key] = m.group(1) if m else None
    return out


def test_every_todo_item_and_notice_of_a_trader_leads_to_its_page(platform, spine,  # type: ignore[no-untyped-def]
                                                                  browser) -> None:
    alloc.confirm_rights(platform.uow(), permit=spine["A"], pollutant="SO2", year=2026,
                         qty_kg=1000, actor="officer", now=NOW)  # a bill to pay
    v = disclosure.open_violation(platform.uow(), permit=spine["A"], kind="records_failure",
                                  occurred_on="2026-06-01", facts="no records",
                                  actor="officer", now=NOW)
    cases.issue_notice(platform.uow(), violation_id=v["id"], number="N-links",
                       proposed_fen=1_000_000, actor="officer")
    ta = browser("trader_a")
    html = ta.get("/").text
    links = _todo_links(html)
    expected = {key: target.replace("{e}", A) for key, (_, target) in ITEMS.items()
                if target.startswith("/enterprises/")}
    assert set(expected) <= set(links), links
    for key, href in expected.items():
        assert links[key] == href, (key, links[key])
        assert ta.get(href).status_code == 200, href
    notices = re.findall(r'<li class="unread"><a href="([^"]+)">([^<]*)</a>', html)
    penalty = [href for href, words in notices if "N-links" in words]
    assert penalty == [f"/enterprises/{A}/penalties"], notices
    assert "N-links" in ta.get(penalty[0]).text


def test_the_officer_todo_items_lead_to_bureau_pages(browser, spine) -> None:  # type: ignore[no-untyped-def]
    officer = browser("officer")
    links = _todo_links(officer.get("/").text)
    assert links, "no to-do items"
    for key, href in links.items():
        assert href == ITEMS[key][1], (key, href)
        assert officer.get(href).status_code == 200, href
