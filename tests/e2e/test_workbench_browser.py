"""A trader's day starts on its workbench (issue 18), in a real browser without JavaScript:
the unread count in the header, the notification on the workbench, the list, "mark all
read" (a form post) and the count gone. Screenshots are saved."""

from __future__ import annotations

from typing import Any

import pytest

from notices import service as notices
from tests.e2e.conftest import log_in, shot
from tests.integration.spine import B

pytestmark = pytest.mark.e2e


def test_trader_sees_what_is_due_and_reads_it(browser: Any, live: Any) -> None:
    with live.platform.uow() as uow:  # a bill reminder, as the schedule tick writes it
        notices.to_enterprise(uow, B, "bill_due", "e2e-1",
                              dict(count=1, amount_fen=97_600, due="2026-07-01"))
        uow.commit()
    # other browser tests on this server may have told trader_b of other things
    unread = notices.unread_count(live.platform.read_uow(), "trader_b")
    assert unread >= 1
    ctx = browser.new_context(base_url=live.url, viewport={"width": 1366, "height": 768},
                              java_script_enabled=False)
    page = ctx.new_page()
    try:
        log_in(page, "trader_b")
        assert page.locator("#todo-bills_to_pay").is_visible()
        assert page.locator("#unread-count").inner_text() == str(unread)
        assert "1 张有偿使用缴费单将于 2026-07-01 到期：共 976.00 元。" in \
            page.locator("#recent-notices").inner_text()
        shot(page, "workbench-trader")
        page.click("#nav-notifications")
        page.wait_for_load_state()
        shot(page, "notifications-trader")
        page.click("#read-all button")
        page.wait_for_load_state()
        assert page.url.endswith("/notifications")
        assert page.locator("#unread-count").count() == 0
        assert page.locator("#notices li.unread").count() == 0
    finally:
        ctx.close()
