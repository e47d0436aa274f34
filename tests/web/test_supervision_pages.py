"""The bureau monitoring page, driven as an officer would: upload a CSV file (multipart) or
paste its text, see the import, the rejected rows with their line numbers (422, nothing
stored), check an execution report against the monitoring data and see the deviation, and
look at a permit's daily emissions. Traders may not open it."""

from __future__ import annotations

import re

import pytest

from compliance.reporting import service as compliance
from tests.report_fields import QUARTERLY
from tests.web.flash_support import notice_has

pytestmark = pytest.mark.db
# the spine's permits are thermal power (reference O2 6 %): each air hour carries its O2
# (at 6 % the corrected concentration equals the measured one)
HEADER = "permit,outlet,hour,flow_nm3_h,SO2_mg_m3,o2_pct,power_kwh\n"


def _csv(permit: str, day: str, so2: float = 20) -> str:
    return HEADER + "\n".join(f"{permit},DA001,{day} {h:02d}:00,{100_000 + h},{so2},6,{900 + h}"
                              for h in range(24)) + "\n"


@pytest.fixture
def outlets(platform, spine) -> None:  # type: ignore[no-untyped-def]
    for tag in ("A", "B"):
        compliance.register_outlet(platform.uow(), permit=spine[tag], outlet="DA001",
                                   medium="air")


def test_upload_file_and_text_then_see_imports_and_daily(browser, spine, outlets) -> None:  # type: ignore[no-untyped-def]
    b = browser("officer")
    page = b.get("/bureau/monitoring")
    assert page.status_code == 200 and "在线监测数据" in page.text
    assert 'id="nav-monitoring"' in page.text
    pa = spine["A"]
    r = b.c.post("/bureau/monitoring/imports", data={"csrf_token": b.csrf},
                 files={"file": ("m.csv", _csv(pa, "2026-06-01").encode(), "text/csv")},
                 follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    assert notice_has(b, r, "import", "导入")
    r = b.post("/bureau/monitoring/imports", {"csv_text": _csv(pa, "2026-06-02"),
                                              "partial": "on"}, follow_redirects=False)
    assert r.status_code == 303
    page = b.get(f"/bureau/monitoring?permit={pa}&first=2026-06-01&last=2026-06-30")
    imports = re.search(r'<table class="grid" id="imports">(.*?)</table>', page.text, re.S)
    assert imports and imports.group(1).count("<tr>") == 3  # header + two imports
    daily = re.search(r'<table class="grid" id="daily">(.*?)</table>', page.text, re.S)
    assert daily and "2026-06-01" in daily.group(1) and "2026-06-02" in daily.group(1)
    # 20 mg/Nm3 × Σ(100 000 + h) Nm3 × 1e-3 = 48 005.52 g → 48,006 g a day
    assert "48,006" in daily.group(1)
    totals = re.search(r'<table class="grid" id="totals">(.*?)</table>', page.text, re.S)
    assert totals and ">96<" in totals.group(1)  # 96 012 g → 96 kg


def test_a_rejected_import_shows_line_numbers_and_stores_nothing(browser, spine, outlets) -> None:  # type: ignore[no-untyped-def]
    b = browser("officer")
    b.get("/bureau/monitoring")
    text = _csv(spine["A"], "2026-06-01").replace(",20,", ",-20,", 1)
    r = b.post("/bureau/monitoring/imports", {"csv_text": text})
    assert r.status_code == 422
    errors = re.search(r'<table class="grid" id="import-errors">(.*?)</table>', r.text, re.S)
    assert errors and "<td class=\"num\">2</td>" in errors.group(1)
    assert "SO2_mg_m3" in errors.group(1)
    assert "无效行" in r.text
    assert "暂无导入" in b.get("/bureau/monitoring").text
    r = b.post("/bureau/monitoring/imports", {"csv_text": "permit,outlet,hour,SO2_g_m3\n"})
    assert r.status_code == 422 and "wrong unit" in r.text
    r = b.post("/bureau/monitoring/imports", {})
    assert r.status_code == 422 and "choose a CSV file" in r.text


def test_report_check_shows_the_deviation(browser, platform, spine, outlets) -> None:  # type: ignore[no-untyped-def]
    b = browser("officer")
    b.get("/bureau/monitoring")
    pa = spine["A"]
    assert b.post("/bureau/monitoring/imports", {"csv_text": _csv(pa, "2026-04-01")},
                  follow_redirects=False).status_code == 303
    compliance.submit_report(platform.uow(), permit=pa, year=2026, period="Q2",
                             lines=[{"outlet": "DA001", "pollutant": "SO2",
                                     "quantity": "90", "unit": "kg"}],
                             details=QUARTERLY, actor="officer")
    r = b.post("/bureau/monitoring/report-checks", {"permit": pa, "year": "2026",
                                                   "period": "Q2", "tolerance_pct": "5"},
               follow_redirects=False)
    assert r.status_code == 303 and "1 deviations" in b.get(r.headers["location"]).text
    page = b.get("/bureau/monitoring")
    dev = re.search(r'<table class="grid" id="deviations">(.*?)</table>', page.text, re.S)
    assert dev and pa in dev.group(1) and "87.50" in dev.group(1)  # (90 - 48) / 48
    r = b.post("/bureau/monitoring/report-checks", {"permit": pa, "year": "20x6",
                                                   "period": "Q5"})
    assert r.status_code == 422 and "field-error" in r.text
    r = b.post("/bureau/monitoring/report-checks", {"permit": pa, "year": "2026",
                                                   "period": "Q3"})
    assert r.status_code == 404 and "report_not_found" in r.text


def test_traders_may_not_open_the_page(browser, spine) -> None:  # type: ignore[no-untyped-def]
    b = browser("trader_a")
    assert b.get("/bureau/monitoring").status_code == 403


def test_source_is_chosen_and_an_import_is_voided_with_a_reason(browser, platform, spine,
                                                                 outlets) -> None:  # type: ignore[no-untyped-def]
    b = browser("officer")
    page = b.get("/bureau/monitoring")
    assert "数据来源" in page.text and "自动监测系统" in page.text
    pa = spine["A"]
    r = b.post("/bureau/monitoring/imports", {"csv_text": _csv(pa, "2026-06-01"),
                                              "source": "enterprise"})
    assert r.status_code == 422 and "field-error" in r.text  # not the officer's to claim
    r = b.post("/bureau/monitoring/imports", {"csv_text": _csv(pa, "2026-06-01"),
                                              "source": "automatic"}, follow_redirects=False)
    assert r.status_code == 303
    page = b.get(f"/bureau/monitoring?permit={pa}&first=2026-06-01&last=2026-06-30")
    imports = re.search(r'<table class="grid" id="imports">(.*?)</table>', page.text, re.S)
    assert imports and "自动监测系统" in imports.group(1)
    m = re.search(r'action="/bureau/monitoring/imports/(\d+)/void"', imports.group(1))
    assert m and "48,006" in page.text
    iid = m.group(1)
    r = b.post(f"/bureau/monitoring/imports/{iid}/void", {"reason": "  "})
    assert r.status_code == 422 and "field-error" in r.text
    r = b.post(f"/bureau/monitoring/imports/{iid}/void", {"reason": "analyser drift"},
               follow_redirects=False)
    assert r.status_code == 303 and notice_has(b, r, "voided", "作废")
    page = b.get(f"/bureau/monitoring?permit={pa}&first=2026-06-01&last=2026-06-30")
    imports = re.search(r'<table class="grid" id="imports">(.*?)</table>', page.text, re.S)
    assert imports and "已作废" in imports.group(1) and "analyser drift" in imports.group(1)
    assert f"/bureau/monitoring/imports/{iid}/void" not in imports.group(1)
    assert "48,006" not in page.text  # its rows no longer count
    r = b.post(f"/bureau/monitoring/imports/{iid}/void", {"reason": "again"})
    assert r.status_code == 409 and "monitoring_import_voided" in r.text
    r = b.post("/bureau/monitoring/imports/99999/void", {"reason": "x"})
    assert r.status_code == 404
    # the void is audited
    from identity import service as identity
    audit = identity.audit_page(platform.uow(), actor=None, action="void_monitoring_import",
                                offset=0, limit=10)
    assert any(a["target"] == iid for a in audit["items"])
    # a trader cannot void
    t = browser("trader_a")
    t.get("/")
    r = t.c.post(f"/bureau/monitoring/imports/{iid}/void",
                 data={"reason": "x", "csrf_token": t.csrf}, follow_redirects=False)
    assert r.status_code == 403
