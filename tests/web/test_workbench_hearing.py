"""The enterprise's workbench lists an upcoming hearing (issue 18, penalty follow-up): once the
bureau has notified the day and place of a hearing the enterprise asked for, the to-do list
shows "Hearings notified to you" with the day and place and a link to the case on the
enterprise's penalty page; no other enterprise sees it, and its count falls back to 0 once
the hearing is recorded (the case is heard) or its day has passed."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from compliance import workbench_service as wb
from compliance.enforcement import disclosure_service as disclosure
from compliance.enforcement import penalty_case_service as cases
from compliance.enforcement import penalty_procedure as PP
from tests.day import TODAY, pinned_clock  # noqa: F401 (autouse: one Beijing day)
from tests.integration.spine import NOW, A, B

pytestmark = pytest.mark.db
PLACE = "局三楼听证室"


def _at(day):  # type: ignore[no-untyped-def]
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)  # 10:00 Beijing time


@pytest.fixture
def hearing(platform, spine):  # type: ignore[no-untyped-def]
    """A's case (250 000 yuan proposed: a hearing right), its hearing requested and
    notified for the first lawful day; B's case noticed, nothing requested."""
    ids = {}
    for ent, p in ((A, spine["A"]), (B, spine["B"])):
        v = disclosure.open_violation(platform.uow(), permit=p, kind="quantity_exceedance",
                                      occurred_on="2026-06-01", facts="SO2 above the permit",
                                      pollutant="SO2", exceedance_kg=4_000, actor="officer",
                                      now=NOW)
        ids[ent] = cases.issue_notice(platform.uow(), violation_id=v["id"],
                                      number=f"N-{ent[-4:]}", proposed_fen=25_000_000,
                                      actor="officer")["id"]
    cases.request_hearing(platform.uow(), case_id=ids[A], enterprise=A, actor="trader_a")
    day = PP.earliest_hearing(TODAY)
    cases.notify_hearing(platform.uow(), case_id=ids[A], hearing_on=day, place=PLACE,
                         actor="officer")
    return dict(case=ids[A], day=day)


def test_the_hearing_is_a_to_do_item_with_day_place_and_link(browser, hearing) -> None:  # type: ignore[no-untyped-def]
    page = browser("trader_a").get("/").text
    m = re.search(r'<li id="todo-hearings_upcoming"[^>]*>(.*?)</li>', page, re.S)
    assert m, page[:3000]
    item = m.group(1)
    assert f'href="/enterprises/{A}/penalties#case-{hearing["case"]}"' in item
    assert "已通知的听证" in item and hearing["day"].isoformat() in item and PLACE in item
    assert re.search(r'<b class="count">1</b>', item)
    # the case page holds the anchor the link points at
    assert f'id="case-{hearing["case"]}"' in browser("trader_a").get(
        f"/enterprises/{A}/penalties").text
    # in English too
    en = browser("trader_a")
    en.get("/lang/en")
    page = en.get("/").text
    assert "Hearings notified to you" in page and "Hearing on" in page
    # the other enterprise has no hearing to attend
    other = browser("trader_b").get("/").text
    m = re.search(r'<li id="todo-hearings_upcoming" class="none">(.*?)</li>', other, re.S)
    assert m and '<b class="count">0</b>' in m.group(1) and PLACE not in other


def test_the_item_leaves_once_heard_or_past(platform, hearing) -> None:  # type: ignore[no-untyped-def]
    def keys(now):  # type: ignore[no-untyped-def]
        return {t["key"]: t for t in wb.enterprise_workbench(platform.uow(), enterprise=A,
                                                             now=now)}

    day = hearing["day"]
    got = keys(_at(day))["hearings_upcoming"]  # still listed on its own day
    assert got["count"] == 1
    assert got["items"] == [dict(case=hearing["case"], notice=f"N-{A[-4:]}",
                                 on=day.isoformat(), place=PLACE)]
    past = keys(_at(day.fromordinal(day.toordinal() + 1)))["hearings_upcoming"]
    assert (past["count"], past["items"], past["urgent"]) == (0, [], False)
    cases.record_hearing(platform.uow(), case_id=hearing["case"], held_on=day,
                         record="听证笔录", actor="officer", now=_at(day))
    assert keys(_at(day))["hearings_upcoming"]["count"] == 0
    other = {t["key"]: t for t in wb.enterprise_workbench(platform.uow(), enterprise=B)}
    assert other["hearings_upcoming"]["count"] == 0
