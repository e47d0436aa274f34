"""Pages work without JavaScript: forms post and redirect; the market block is a fragment."""

from __future__ import annotations

import pytest

from tests.integration.spine import A, B

pytestmark = pytest.mark.db


def test_browser_flow_without_js(client, spine) -> None:  # type: ignore[no-untyped-def]
    pa, pb, market = spine["A"], spine["B"], spine["market"]
    r = client.post("/bureau/confirmations", data={"permit": pa, "pollutant": "SO2",
                                                   "year": "2026", "qty_kg": ""},
                    follow_redirects=False)
    assert r.status_code == 303 and "msg=" in r.headers["location"]
    client.post("/bureau/confirmations", data={"permit": pb, "pollutant": "SO2",
                                               "year": "2026"})
    client.post("/bureau/surplus-verifications", data={"permit": pa, "pollutant": "SO2",
                                                       "year": "2026", "qty_kg": "1000"})
    r = client.post(f"/enterprises/{A}/orders", data={
        "permit": pa, "market": market, "side": "sell", "qty": "600",
        "price_yuan": "3050.00", "tif": "gtc"}, follow_redirects=False)
    assert r.status_code == 303 and "err=" not in r.headers["location"]
    r = client.post(f"/enterprises/{B}/orders", data={
        "permit": pb, "market": market, "side": "buy", "qty": "600",
        "price_yuan": "3100", "tif": "gtc"})
    assert r.status_code == 200
    page_b = client.get(f"/enterprises/{B}").text
    assert "买入" in page_b and "3,050.00" in page_b and "6,600" in page_b
    page_a = client.get(f"/enterprises/{A}").text
    assert "卖出" in page_a and pb in page_a
    r = client.get(f"/markets/{market}")
    assert r.status_code == 200 and r.headers["vary"] == "HX-Request"
    assert "<html" in r.text and "3,050.00" in r.text
    frag = client.get(f"/markets/{market}", headers={"HX-Request": "true"})
    assert "<html" not in frag.text and 'id="market-data"' in frag.text


def test_form_errors_redirect_with_code(client, spine) -> None:  # type: ignore[no-untyped-def]
    r = client.post(f"/enterprises/{A}/orders", data={
        "permit": spine["A"], "market": spine["market"], "side": "sell", "qty": "600",
        "price_yuan": "30.001", "tif": "gtc"}, follow_redirects=False)
    assert r.status_code == 303 and "err=invalid_input" in r.headers["location"]
    r = client.post(f"/enterprises/{A}/orders", data={
        "permit": spine["A"], "market": spine["market"], "side": "sell", "qty": "600",
        "price_yuan": "3000", "tif": "gtc"})
    assert "insufficient_tradable_rights" in r.text
    r = client.get("/enterprises/NOPE")
    assert r.status_code == 404 and "enterprise_not_found" in r.text


def test_lists_and_home(client, spine) -> None:  # type: ignore[no-untyped-def]
    assert "Enterprise A" in client.get("/enterprises?q=Enterprise").text
    home = client.get("/")
    assert home.status_code == 200 and spine["market"] in home.text
    assert client.get("/bureau").status_code == 200
