"""Analyst pages (scenario builder, a scenario's run, two scenarios compared with SVG bar
charts) and the bureau's reserve dashboard and standard changes, driven as forms without
JavaScript."""

from __future__ import annotations

import re

import pytest

from tests.web.flash_support import notice, notice_has

pytestmark = pytest.mark.db

TIGHT = {"name": "tight", "year": "2026", "change_pct": "-10", "ultra_low": "thermal_power",
         "hours": "4000", "alert_level": "orange", "alert_days": "10",
         "description": "ten percent tighter"}


def _create(b, form):  # type: ignore[no-untyped-def]
    b.get("/analyst/scenarios")
    return b.post("/analyst/scenarios", data=form, follow_redirects=False)


def _scenario_id(r) -> int:  # type: ignore[no-untyped-def]
    assert r.status_code == 303, r.text[:500]
    m = re.match(r"/analyst/scenarios/(\d+)", r.headers["location"])
    assert m, r.headers["location"]
    return int(m.group(1))


def test_analyst_builds_and_runs_a_scenario(browser, spine) -> None:  # type: ignore[no-untyped-def]
    b = browser("analyst")
    page = b.get("/analyst/scenarios")
    assert page.status_code == 200
    assert 'id="scenario-form"' in page.text and 'name="ultra_low"' in page.text
    assert 'href="/analyst/scenarios"' in page.text  # the nav entry
    sid = _scenario_id(_create(b, TIGHT))
    page = b.get(f"/analyst/scenarios/{sid}")
    assert "tight" in page.text and 'id="no-run"' in page.text
    assert "火电" in page.text and "橙色" in page.text  # changes shown, in Chinese
    r = b.post(f"/analyst/scenarios/{sid}/runs", follow_redirects=False)
    assert r.status_code == 303 and "?run=" in r.headers["location"], r.text[:300]
    page = b.get(r.headers["location"])
    for section in ("by_zone", "by_sector", "by_pollutant"):
        assert f'id="{section}"' in page.text
    zone = page.text.split('id="by_zone"')[1].split("</table>")[0]
    # indicator 20 000 kg cut 10 %: 18 000; reserve 10 % of it; the shares 16 200 kg
    assert "ZA1" in zone and "18,000" in zone and "16,200" in zone and "-1,800" in zone
    assert page.text.count("<table") >= 4
    # listed
    assert f'href="/analyst/scenarios/{sid}"' in b.get("/analyst/scenarios").text


def test_scenario_form_errors_rerender(browser, spine) -> None:  # type: ignore[no-untyped-def]
    b = browser("analyst")
    r = _create(b, {**TIGHT, "change_pct": "lots"})
    assert r.status_code == 422 and "field-error" in r.text and 'value="lots"' in r.text
    r = _create(b, {**TIGHT, "alert_days": "400"})
    assert r.status_code == 422 and "field-error" in r.text
    r = _create(b, {**TIGHT, "ultra_low": "nuclear"})
    assert r.status_code == 422 and "nuclear" in r.text
    r = _create(b, {**TIGHT, "name": ""})
    assert r.status_code == 422
    _scenario_id(_create(b, TIGHT))
    r = _create(b, TIGHT)
    assert r.status_code == 409 and "名称已被使用" in r.text and 'data-code="name_taken"' in r.text
    # a year without a baseline: the run is refused and the page says why
    sid = _scenario_id(_create(b, {"name": "far future", "year": "2031"}))
    r = b.post(f"/analyst/scenarios/{sid}/runs", follow_redirects=False)
    assert r.status_code == 303 and "err=" not in r.headers["location"]
    page = b.get(r.headers["location"])  # the error is held server-side, shown once
    assert "flash err" in page.text and "2031" in page.text and 'id="no-run"' in page.text
    # no CSRF token: refused
    r = b.c.post("/analyst/scenarios", data=TIGHT, follow_redirects=False)
    assert r.status_code == 403


def test_compare_two_scenarios_with_bar_charts(browser, spine) -> None:  # type: ignore[no-untyped-def]
    b = browser("officer")  # the bureau may use the analyst pages too
    a = _scenario_id(_create(b, TIGHT))
    base = _scenario_id(_create(b, {"name": "baseline 2026", "year": "2026"}))
    page = b.get("/analyst/compare")
    assert page.status_code == 200 and 'id="compare-form"' in page.text
    page = b.get(f"/analyst/compare?a={a}&b={base}")  # neither run yet: both are run
    assert page.status_code == 200, page.text[:500]
    for section in ("by_zone", "by_sector", "by_pollutant"):
        chart = page.text.split(f'id="chart-{section}"')[1].split("</svg>")[0]
        assert "<svg" in chart and chart.count('class="bar"') == 2, section
    table = page.text.split('id="cmp-by_zone"')[1].split("</table>")[0]
    assert "16,200" in table and "18,000" in table and "1,800" in table
    # a different year cannot be compared
    other = _scenario_id(_create(b, {"name": "2025", "year": "2025"}))
    page = b.get(f"/analyst/compare?a={a}&b={other}")
    assert page.status_code in (404, 409, 422) and "flash err" in page.text
    assert b.get(f"/analyst/compare?a={a}&b=999").status_code == 404


def test_scenario_pages_refuse_traders(browser, spine) -> None:  # type: ignore[no-untyped-def]
    b = browser("trader_a")
    assert b.get("/analyst/scenarios").status_code == 403
    assert 'href="/analyst/scenarios"' not in b.get("/").text


def test_reserve_optimiser_plan_and_release_with_approval(browser, platform, spine) -> None:  # type: ignore[no-untyped-def]
    from identity import service as identity

    b = browser("officer")
    page = b.get("/bureau/reserve")
    assert page.status_code == 200
    balances = page.text.split('id="reserve-balances"')[1].split("</table>")[0]
    assert "ZA1" in balances and "20,000" in balances  # the issued indicator
    r = b.post("/bureau/reserve/plans", data={"year": "2026", "applicants": "headroom",
                                              "retained_share": "0", "objective": "priority"},
               follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    page = b.get(r.headers["location"])
    assert 'id="plan-reserve"' in page.text and "shadow-price" in page.text
    grants = page.text.split('id="plan-grants"')[1].split("</table>")[0]
    # headroom under each cap above the permitted quantity: A 10 000 - 8000, B 8000 - 6000
    assert spine["A"] in grants and spine["B"] in grants and grants.count("2,000") >= 2
    plan = int(re.search(r"plan=(\d+)", r.headers["location"]).group(1))  # type: ignore[union-attr]
    assert identity.approval_required(platform.uow(), "reserve_release")
    r = b.post(f"/bureau/reserve/plans/{plan}/release", follow_redirects=False)
    assert r.status_code == 303 and notice_has(b, r, "pending", "等待")
    pending = identity.approvals(platform.uow(), status="pending")["items"]
    assert pending and pending[0]["tx_type"] == "reserve_release"
    # the same officer cannot approve; a second one does
    b2 = browser("officer2")
    b2.get("/bureau/approvals")
    r = b2.post(f"/bureau/approvals/{pending[0]['id']}/approve", follow_redirects=False)
    assert r.status_code == 303 and "批准并已执行" in notice(b2, r), r.headers
    page = b.get(f"/bureau/reserve?plan={plan}")
    assert "release-form" not in page.text and "Officer+Officer2" not in page.text
    grants = page.text.split('id="plan-grants"')[1].split("</table>")[0]
    assert "已出让" in grants or "released" in grants
    balances = page.text.split('id="reserve-balances"')[1].split("</table>")[0]
    # B's 2 000 kg released at the base price; A (1 000 fen of cash) cannot pay for its
    # grant and is skipped (paid use)
    assert "18,000" in balances


def test_infeasible_plan_shows_its_diagnosis(browser, spine) -> None:  # type: ignore[no-untyped-def]
    b = browser("admin")
    b.get("/bureau/reserve")
    # a guaranteed 25 000 kg exceeds both A's cap headroom and the 20 000 kg reserve
    r = b.post("/bureau/reserve/requests", data={
        "permit": spine["A"], "pollutant": "SO2", "year": "2026", "qty_kg": "25000",
        "priority": "1", "min_pct": "100"}, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    r = b.post("/bureau/reserve/requests", data={
        "permit": "nope", "pollutant": "SO2", "year": "2026", "qty_kg": "5"},
        follow_redirects=False)
    assert r.status_code in (404, 422) and ("flash err" in r.text or "field-error" in r.text)
    r = b.post("/bureau/reserve/plans", data={"year": "2026", "applicants": "requests"},
               follow_redirects=False)
    assert r.status_code == 303
    page = b.get(r.headers["location"])
    assert 'id="diagnosis"' in page.text and spine["A"] in page.text
    assert "release-form" not in page.text
    # nothing to plan in another year
    r = b.post("/bureau/reserve/plans", data={"year": "2031", "applicants": "requests"},
               follow_redirects=False)
    assert r.status_code == 409 and 'id="plan-error"' in r.text


def test_standards_page_registers_and_lists_flags(browser, spine) -> None:  # type: ignore[no-untyped-def]
    b = browser("officer")
    page = b.get("/bureau/standards")
    assert page.status_code == 200 and 'id="standard-form"' in page.text
    assert 'href="/bureau/standards"' in page.text and 'href="/bureau/reserve"' in page.text
    form = {"name": "GB 13223-2099", "effective": "2099-01-01", "source": "coal_power",
            "kind": "national", "pollutant": "SO2", "limit": "20"}
    r = b.post("/bureau/standards", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    page = b.get(r.headers["location"])
    assert 'id="flags"' in page.text and "apply-form" in page.text
    r = b.post("/bureau/standards", data=form, follow_redirects=False)
    assert r.status_code == 409
    r = b.post("/bureau/standards", data={**form, "name": "old", "effective": "2001-01-01"},
               follow_redirects=False)
    assert r.status_code == 422 and "field-error" in r.text
    r = b.post("/bureau/standards", data={**form, "name": "bad", "source": "volcano"},
               follow_redirects=False)
    assert r.status_code == 422
    assert browser("analyst").get("/bureau/standards").status_code == 403
