"""Pages work without JavaScript: forms post and redirect, a rejected form re-renders with
its field errors, and one URL serves a page or, for HX-Request, its fragment."""

from __future__ import annotations

import pytest

from tests.integration.paid_use_support import fund_and_pay
from tests.integration.spine import A, B

pytestmark = pytest.mark.db


def test_browser_flow_without_js(platform, client, spine, browser, one_officer) -> None:  # type: ignore[no-untyped-def]
    pa, pb, market = spine["A"], spine["B"], spine["market"]
    officer, ta, tb = browser("officer"), browser("trader_a"), browser("trader_b")
    officer.get("/bureau")
    r = officer.post("/bureau/confirmations", data={"permit": pa, "pollutant": "SO2",
                                                    "year": "2026", "qty_kg": ""},
                     follow_redirects=False)
    assert r.status_code == 303 and "msg=" not in r.headers["location"]  # flash: server-side
    officer.post("/bureau/confirmations", data={"permit": pb, "pollutant": "SO2",
                                                "year": "2026"})
    fund_and_pay(platform, pa)  # tradable once the paid-use fee is paid
    officer.post("/bureau/surplus-verifications", data={"permit": pa, "pollutant": "SO2",
                                                        "year": "2026", "qty_kg": "1000"})
    ta.get(f"/enterprises/{A}")
    r = ta.post(f"/enterprises/{A}/orders", data={
        "permit": pa, "market": market, "side": "sell", "qty": "600",
        "price_yuan": "3050.00", "tif": "gtc"}, follow_redirects=False)
    assert r.status_code == 303 and "err=" not in r.headers["location"]
    tb.get(f"/enterprises/{B}")
    r = tb.post(f"/enterprises/{B}/orders", data={
        "permit": pb, "market": market, "side": "buy", "qty": "600",
        "price_yuan": "3100", "tif": "gtc"})
    assert r.status_code == 200
    page_b = tb.get(f"/enterprises/{B}").text
    assert "买入" in page_b and "3,050.00" in page_b and "6,600" in page_b
    page_a = ta.get(f"/enterprises/{A}").text
    assert "卖出" in page_a and pb in page_a
    r = client.get(f"/markets/{market}")  # public
    assert r.status_code == 200 and "HX-Request" in r.headers["vary"]
    assert "<html" in r.text and "3,050.00" in r.text and "<svg" in r.text
    frag = client.get(f"/markets/{market}", headers={"HX-Request": "true"})
    assert "<html" not in frag.text and 'id="market-data"' in frag.text
    assert "HX-Request" in frag.headers["vary"]
    depth = ta.get(f"/enterprises/{A}/depth?market={market}", headers={"HX-Request": "true"})
    assert depth.status_code == 200 and "<html" not in depth.text and "3,050.00" in depth.text
    csv = ta.get(f"/enterprises/{A}/statements/trades.csv")
    assert csv.status_code == 200 and "卖出" in csv.text  # Chinese statements (issue 18)
    holdings = ta.get(f"/enterprises/{A}/statements/holdings.csv")
    assert holdings.status_code == 200 and "可交易" in holdings.text


def test_malformed_order_form_re_renders_with_field_errors(spine, browser) -> None:  # type: ignore[no-untyped-def]
    ta = browser("trader_a")
    ta.get(f"/enterprises/{A}")
    r = ta.post(f"/enterprises/{A}/orders", data={
        "permit": spine["A"], "market": spine["market"], "side": "sell", "qty": "six",
        "price_yuan": "30.001", "tif": "gtc"}, follow_redirects=False)
    assert r.status_code == 422
    assert 'id="qty-error"' in r.text and 'id="price-error"' in r.text
    assert 'value="six"' in r.text  # the entered values come back
    r = ta.post(f"/enterprises/{A}/orders", data={
        "permit": spine["A"], "market": spine["market"], "side": "sell", "qty": "600",
        "price_yuan": "3000", "tif": "gtc"})
    assert r.status_code == 409 and "insufficient_tradable_rights" in r.text


def test_malformed_bureau_forms(spine, browser) -> None:  # type: ignore[no-untyped-def]
    officer = browser("officer")
    officer.get("/bureau")
    r = officer.post("/bureau/confirmations", data={"permit": "", "pollutant": "XX",
                                                    "year": "20x6", "qty_kg": "-1"})
    assert r.status_code == 422
    assert r.text.count('class="field-error"') >= 3
    r = officer.post("/bureau/surplus-verifications", data={
        "permit": spine["A"], "pollutant": "SO2", "year": "2026", "qty_kg": "5"})
    assert r.status_code == 409 and "insufficient" in r.text


def test_lists_and_home(client, spine, browser) -> None:  # type: ignore[no-untyped-def]
    officer = browser("officer")
    page = officer.get("/enterprises?q=Enterprise")
    assert "Enterprise A" in page.text and "HX-Request" in page.headers["vary"]
    frag = officer.get("/enterprises?q=Enterprise&sector=thermal_power",
                       headers={"HX-Request": "true"})
    assert "<html" not in frag.text and 'id="enterprise-results"' in frag.text
    assert "Enterprise B" in frag.text
    home = client.get("/")
    assert home.status_code == 200 and spine["market"] in home.text
    assert officer.get("/bureau").status_code == 200
