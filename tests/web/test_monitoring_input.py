"""Monitoring input checks (issue 18): an hour that has not ended yet (Beijing time) is a
row error in words, per row, and nothing is stored; an import's confirmation lists the
problem clues that heavy-pollution alert breaches opened after it (enterprise, pollutant,
day, kg against the cap), and the API returns them."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from allocation import service as alloc
from compliance.alerting import alert_service
from compliance.reporting import service as compliance
from kernel.beijing import BEIJING

pytestmark = pytest.mark.db
HEADER = "permit,outlet,hour,flow_nm3_h,SO2_mg_m3,o2_pct,power_kwh\n"
DECLARED = datetime(2026, 5, 30, 2, 0)  # UTC, before the alert's first day


def _csv(permit: str, day: str, so2: float = 20) -> str:
    return HEADER + "\n".join(f"{permit},DA001,{day} {h:02d}:00,{100_000 + h},{so2},6,{900 + h}"
                              for h in range(24)) + "\n"


@pytest.fixture
def outlets(platform, spine) -> None:  # type: ignore[no-untyped-def]
    for tag in ("A", "B"):
        compliance.register_outlet(platform.uow(), permit=spine[tag], outlet="DA001",
                                   medium="air")


def _flash(html: str) -> str:
    m = re.search(r'<p class="flash ok" role="status">(.*?)</p>', html, re.S)
    assert m, "no confirmation shown"
    return m.group(1)


def test_hours_not_ended_are_refused_row_by_row(browser, spine, outlets) -> None:  # type: ignore[no-untyped-def]
    b = browser("officer")
    b.get("/bureau/monitoring")
    now = datetime.now(BEIJING).replace(minute=0, second=0, microsecond=0)
    ahead = [now + timedelta(hours=2), now + timedelta(hours=3)]
    text = HEADER + "".join(f"{spine['A']},DA001,{h:%Y-%m-%d %H:%M},100000,20,6,900\n"
                            for h in [now - timedelta(hours=5), *ahead])
    r = b.post("/bureau/monitoring/imports", {"csv_text": text})
    assert r.status_code == 422
    table = re.search(r'<table class="grid" id="import-errors">(.*?)</table>', r.text, re.S)
    assert table is not None
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>([^<]*)</td><td>([^<]*)</td>",
                      table.group(1))
    assert [int(line) for line, _f, _d in rows] == [3, 4]  # each future row, by its line
    for (_line, field, detail), hour in zip(rows, ahead, strict=True):
        assert field == "hour"
        assert f"{hour:%Y-%m-%d %H:%M}（北京时间）时段尚未结束" in detail
        assert "不接受尚未发生时段的监测数据" in detail
    assert "暂无导入" in b.get("/bureau/monitoring").text  # nothing stored
    # in English, the same refusal in words
    b.c.cookies.set("erts_lang", "en")
    r = b.post("/bureau/monitoring/imports", {"csv_text": text})
    assert r.status_code == 422
    assert f"Hour {ahead[0]:%Y-%m-%d %H:%M} (Beijing time) has not ended yet" in r.text


def test_the_import_message_lists_the_clues_alert_breaches_opened(  # type: ignore[no-untyped-def]
        browser, platform, spine, outlets, auth) -> None:
    pa = spine["A"]
    alloc.confirm_rights(platform.uow(), permit=pa, pollutant="SO2", year=2026,
                         actor="officer", now=DECLARED)
    alert = alert_service.declare_alert(platform.uow(), level="red", zones=["ZA1"],
                                        first_day=date(2026, 6, 1),
                                        last_day=date(2026, 6, 5), actor="officer",
                                        now=DECLARED)
    b = browser("officer")
    b.get("/bureau/monitoring")
    r = b.post("/bureau/monitoring/imports", {"csv_text": _csv(pa, "2026-06-01")},
               follow_redirects=False)
    assert r.status_code == 303
    msg = _flash(b.get("/bureau/monitoring").text)
    breaches = alert_service.alert_breaches(platform.uow(), alert_id=alert["id"])["items"]
    day = next(x for x in breaches if x["period"] == "day" and x["day"] == "2026-06-01")
    assert day["clue"] is not None
    assert "监测数据导入 #" in msg and "接收 24 行" in msg
    assert "重污染天气预警超限生成问题线索" in msg
    name = str(alloc.enterprise_view(platform.uow(), day["enterprise"])["name"])
    assert (f"#{day['clue']} {name} 二氧化硫 2026-06-01：排放 48.006 千克，"
            f"日排放上限 {day['cap_kg']:,} 千克") in msg
    # the API returns the same clues
    r = b.c.post("/api/v1/monitoring/imports", headers=auth("officer"),
                 json={"csv": _csv(pa, "2026-06-02")})
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["alert_breaches"] >= 1
    assert out["alert_clues"] and all(c["permit"] == pa and c["pollutant"] == "SO2"
                                      for c in out["alert_clues"])
    assert {c["clue"] for c in out["alert_clues"]} <= {
        x["clue"] for x in alert_service.alert_breaches(
            platform.uow(), alert_id=alert["id"])["items"]}


def test_an_import_without_breaches_says_so(browser, spine, outlets) -> None:  # type: ignore[no-untyped-def]
    b = browser("officer")
    b.get("/bureau/monitoring")
    assert b.post("/bureau/monitoring/imports", {"csv_text": _csv(spine["A"], "2026-06-01")},
                  follow_redirects=False).status_code == 303
    msg = _flash(b.get("/bureau/monitoring").text)
    assert "接收 24 行" in msg and "预警超限" not in msg
