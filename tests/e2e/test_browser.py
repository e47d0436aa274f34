"""In a real browser: an enterprise logs in, places an order and sees it trade; the public
pages load with no log-in. (The optimiser and scenario journeys join when those land.)"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import log_in, shot
from tests.integration.paid_use_support import fund_and_pay

pytestmark = pytest.mark.e2e


def test_public_pages_load_without_log_in(page, live) -> None:  # type: ignore[no-untyped-def]
    page.goto("/public/permits")
    assert page.locator("#public-enterprises").is_visible()
    assert page.locator("#login-link").is_visible()
    page.click("text=Enterprise A")
    assert page.locator(".quantities").first.is_visible()
    shot(page, "public-permit")
    page.goto("/public/prices")
    assert page.locator("#price-chart svg").is_visible()
    page.click("#lang-switch")
    assert page.locator("h1").inner_text() == "Trade prices over time"
    shot(page, "public-prices-en")
    page.click("#lang-switch")  # back to Chinese for the other tests


def test_enterprise_places_an_order_and_sees_it_trade(page, live) -> None:  # type: ignore[no-untyped-def]
    from allocation import service as alloc
    from identity import service as identity
    from tests.integration.spine import A, B
    from trading import service as trading

    p = live.platform
    pa, pb = live.codes["A"], live.codes["B"]
    market = "SO2/ZA1/2026"
    identity.set_approval_policy(p.uow(), tx_type="confirmation", required=False,
                                 actor="e2e")
    for permit in (pa, pb):
        alloc.confirm_rights(p.uow(), permit=permit, pollutant="SO2", year=2026,
                             actor="officer")
        fund_and_pay(p, permit)  # tradable once the paid-use fee is paid
    alloc.verify_surplus(p.uow(), permit=pa, pollutant="SO2", year=2026, qty_kg=1000,
                         actor="officer")
    trading.place_order(p.uow(), trading.PlaceOrder(A, pa, market, "sell", 400, 310_000),
                        permits=p.permits, actor="trader_a")

    log_in(page, "trader_b")
    assert page.locator("#todo").is_visible()  # the workbench (issue 18)
    page.click("#nav-enterprise")
    assert page.url.endswith(f"/enterprises/{B}")
    assert page.locator("#who").is_visible()
    page.wait_for_selector("#depth")
    assert "3,100.00" in page.locator("#depth").inner_text()  # the resting ask, live depth
    page.select_option("select[name=permit]", pb)
    page.select_option("select[name=side]", "buy")
    page.fill("input[name=qty]", "400")
    page.fill("input[name=price_yuan]", "3100.00")
    page.click("#order-submit")
    page.wait_for_load_state()
    status = page.locator("p.flash.ok").inner_text()
    assert "已成交" in status and "0.400 吨" in status, status  # web/messages.py, in tonnes
    trades = page.locator("#trades").inner_text()
    assert "3,100.00" in trades and "买入" in trades, trades
    assert "已成交" in page.locator("#orders").inner_text()
    shot(page, "enterprise-trade")
    # the tape shows the trade without naming anyone
    page.goto(f"/markets/{market}")
    assert "3,100.00" in page.locator("#tape").inner_text()
    assert B not in page.locator("#market-data").inner_text()
