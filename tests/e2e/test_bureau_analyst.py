"""In a real browser: the bureau confirms rights (a second officer approves), runs the
reserve-release optimiser and releases the plan through the approval flow; an analyst builds
and runs two scenarios and compares them on server-rendered bar charts."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import log_in, shot

pytestmark = pytest.mark.e2e


def _approve_as(page, username: str, approval_id: str) -> None:  # type: ignore[no-untyped-def]
    page.context.clear_cookies()
    log_in(page, username)
    page.goto("/bureau/approvals?status=pending")
    row = page.locator(f"#approval-{approval_id}")
    row.locator("button", has_text="批准").click()
    page.wait_for_load_state()
    assert "批准并已执行" in page.locator("p.flash.ok").inner_text()  # in words


def _pending_id(page) -> str:  # type: ignore[no-untyped-def]
    flash = page.locator("p.flash.ok").inner_text()
    m = re.search(r"审批 #(\d+) 等待第二名经办人审批", flash)
    assert m, flash
    return m.group(1)


def test_bureau_confirms_rights_and_runs_the_reserve_optimiser(page, live) -> None:  # type: ignore[no-untyped-def]
    from identity import service as identity

    p = live.platform
    pb = live.codes["B"]
    for tx_type in ("confirmation", "reserve_release"):
        identity.set_approval_policy(p.uow(), tx_type=tx_type, required=True, actor="e2e")

    # the first officer asks for a confirmation; a second bureau user approves it
    log_in(page, "officer")
    page.goto("/bureau")
    page.fill("#confirm-form input[name=permit]", pb)
    page.select_option("#confirm-form select[name=pollutant]", "SO2")
    page.fill("#confirm-form input[name=year]", "2026")
    page.fill("#confirm-form input[name=qty_kg]", "100")
    page.click("#confirm-submit")
    page.wait_for_load_state()
    approval = _pending_id(page)
    shot(page, "bureau-confirm-pending")
    _approve_as(page, "admin", approval)
    shot(page, "bureau-confirm-approved")

    # the optimiser: reserve balances, the plan and its shadow prices
    page.context.clear_cookies()
    log_in(page, "officer")
    page.click("#navg-trading > summary")  # the grouped menu (issue 18)
    page.click("#nav-reserve")
    page.wait_for_load_state()
    assert "ZA1" in page.locator("#reserve-balances").inner_text()
    page.fill("#plan-form input[name=year]", "2026")
    page.select_option("#plan-form select[name=applicants]", "headroom")
    page.click("#plan-submit")
    page.wait_for_load_state()
    assert page.locator("#plan").is_visible()
    assert page.locator("#plan-status").inner_text() == "已规划"  # planned
    assert page.locator("#plan-reserve td.shadow-price").count() >= 1
    assert pb in page.locator("#plan-grants").inner_text()
    shot(page, "bureau-reserve-plan")

    # releasing the plan needs a second officer too
    page.click("#release-submit")
    page.wait_for_load_state()
    release = _pending_id(page)
    plan_url = page.url.split("&")[0]
    _approve_as(page, "admin", release)
    page.goto(plan_url)
    assert page.locator("#release-form").count() == 0
    assert "已出让" in page.locator("#plan-grants").inner_text()
    shot(page, "bureau-reserve-released")


def _build(page, name: str, *, change_pct: str = "", ultra_low: bool = False,  # type: ignore[no-untyped-def]
           alert: str = "") -> str:
    page.goto("/analyst/scenarios")
    page.fill("#scenario-form input[name=name]", name)
    page.fill("#scenario-form input[name=year]", "2026")
    page.fill("#scenario-form input[name=change_pct]", change_pct)
    if ultra_low:
        page.check("#scenario-form input[value=thermal_power]")
    if alert:
        page.select_option("#scenario-form select[name=alert_level]", alert)
        page.fill("#scenario-form input[name=alert_days]", "10")
    page.click("#scenario-submit")
    page.wait_for_load_state()
    assert page.locator("#scenario-name").inner_text() == name
    page.click("#run-submit")
    page.wait_for_load_state()
    assert page.locator("#results #by_zone").is_visible()
    assert "ZA1" in page.locator("#by_zone").inner_text()
    m = re.search(r"/analyst/scenarios/(\d+)", page.url)
    assert m, page.url
    return m.group(1)


def test_analyst_runs_two_scenarios_and_compares_them(page, live) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "analyst")
    page.click("#nav-scenarios")
    page.wait_for_load_state()
    assert page.locator("#scenario-form").is_visible()
    a = _build(page, "e2e tighter", change_pct="-10", ultra_low=True, alert="orange")
    shot(page, "analyst-scenario-run")
    b = _build(page, "e2e baseline")
    page.goto("/analyst/compare")
    page.select_option("#compare-form select[name=a]", a)
    page.select_option("#compare-form select[name=b]", b)
    page.click("#compare-submit")
    page.wait_for_load_state()
    for section in ("by_zone", "by_sector", "by_pollutant"):
        chart = page.locator(f"#chart-{section} svg")
        assert chart.is_visible(), section
        assert chart.locator("rect.bar").count() >= 2, section
    assert page.locator("#cmp-by_zone").is_visible()
    shot(page, "analyst-compare")
