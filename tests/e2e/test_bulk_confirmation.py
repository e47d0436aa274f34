"""In a real browser (issue 18): the officer confirms a district in bulk from the queue of
permits waiting for confirmation, and a second officer reads the batch in words on the
approvals list and approves it from there; screenshots of each step."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import log_in, shot

pytestmark = pytest.mark.e2e


def test_officer_confirms_a_district_in_bulk_and_a_second_officer_approves(page, live) -> None:  # type: ignore[no-untyped-def]
    from identity import service as identity

    p = live.platform
    # a permit of its own waiting in D01 (other browser tests on this server confirm A's)
    from datetime import date

    from allocation import service as alloc
    from kernel.ids import make_credit_code
    from tests.integration.spine import NOW

    code = make_credit_code("91500000CCCCCCCC3")
    alloc.register_enterprise(p.uow(), credit_code=code, name="Enterprise C",
                              sector="thermal_power", district="D01")
    pa = alloc.issue_permit(
        p.uow(), enterprise=code, site_seq=1, site_name="Plant C", district="D01",
        capacity=300, capacity_unit="MW", valid_from=date(2025, 1, 1),
        valid_to=date(2029, 12, 31), parameter_version="test",
        bases=[alloc.QuantityBasis("SO2", 2026, "ZA1", 2_000, 3_000, 1_000)], now=NOW)
    identity.set_approval_policy(p.uow(), tx_type="confirmation", required=True, actor="e2e")

    log_in(page, "officer")
    page.click("#navg-permits summary")
    page.click("#nav-bulk-confirm")
    page.wait_for_load_state()
    page.select_option("#queue-filter select[name=district]", "D01")
    page.click("#queue-filter button")
    page.wait_for_load_state()
    assert pa in page.locator("#queue").inner_text()
    page.check(f"#queue-{pa} input[type=checkbox]")
    shot(page, "bulk-confirm-queue")
    page.click("#batch-checked")
    page.wait_for_load_state()
    flash = page.locator("p.flash.ok").inner_text()
    m = re.search(r"审批 #(\d+) 等待第二名经办人审批", flash)
    assert m, flash
    approval = m.group(1)
    shot(page, "bulk-confirm-pending")

    page.context.clear_cookies()
    log_in(page, "admin")
    page.goto("/bureau/approvals?status=pending")
    row = page.locator(f"#approval-{approval}")
    words = row.inner_text()
    assert "一次确认 1 张许可证全部待确权污染物（2026 年度）" in words
    assert f"Enterprise C（{pa}）：二氧化硫" in words and "吨" in words
    shot(page, "bulk-confirm-approval-in-words")
    row.locator("button", has_text="批准").click()
    page.wait_for_load_state()
    assert "批准并已执行" in page.locator("p.flash.ok").inner_text()
    shot(page, "bulk-confirm-approved")
    from allocation import service as alloc

    q = alloc.permit_view(p.uow(), pa, events=0)["quantities"]
    assert all(x["confirmed"] for x in q if x["year"] == 2026)  # type: ignore[attr-defined]
