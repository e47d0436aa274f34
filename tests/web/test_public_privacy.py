"""No counterparty on public pages or in public API responses (issue 18,
docs/public-disclosure.md): after A sells to B on the book and by a negotiated transfer,
nothing public about A names B (permit code, credit code or name) and nothing public about B
names A; the trade tape, the price pages and the feeds name neither party of a trade.
Checked anonymously and as the other enterprise's trader and an analyst."""

from __future__ import annotations

import json

import pytest

from tests.integration.paid_use_support import fund_and_pay
from tests.integration.spine import A, B

pytestmark = pytest.mark.db


@pytest.fixture
def traded(platform, client, spine, auth, one_officer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    pa, pb, market = spine["A"], spine["B"], spine["market"]
    officer, ta, tb = auth("officer"), auth("trader_a"), auth("trader_b")
    for permit in (pa, pb):
        assert client.post(f"/api/v1/permits/{permit}/confirmations", headers=officer,
                           json={"pollutant": "SO2", "year": 2026}).status_code == 201
    fund_and_pay(platform, pa)
    assert client.post(f"/api/v1/permits/{pa}/surplus-verifications", headers=officer,
                       json={"pollutant": "SO2", "year": 2026, "qty_kg": 2500}
                       ).status_code == 201
    assert client.post("/api/v1/orders", headers=ta, json={
        "permit": pa, "market": market, "side": "sell", "qty": 1000, "price": 305_000}
    ).status_code == 201
    r = client.post("/api/v1/orders", headers=tb, json={
        "enterprise": B, "permit": pb, "market": market, "side": "buy", "qty": 1000,
        "price": 305_000})
    assert r.status_code == 201 and r.json()["status"] == "filled", r.text
    # the trade is in A's history, with B as its counterparty (as the bureau sees it)
    hist = client.get(f"/api/v1/permits/{pa}", headers=officer).json()["history"]
    assert any(h["counterparty"] == pb for h in hist)
    return dict(spine)


def _identifiers(client, auth, tag: str, permit: str, code: str) -> list[str]:  # type: ignore[no-untyped-def]
    name = client.get(f"/api/v1/enterprises/{code}", headers=auth("officer")).json()["name"]
    assert name == f"Enterprise {tag}"
    return [permit, code, name]


def _public(client, spine: dict[str, str], headers: dict[str, str]  # type: ignore[no-untyped-def]
            ) -> dict[str, dict[str, str]]:
    """Public texts by whose they are: A's, B's, and those about trades (no one's)."""
    pa, pb, market = spine["A"], spine["B"], spine["market"]

    def get(url: str) -> str:
        r = client.get(url, headers=headers)
        assert r.status_code == 200, (url, r.status_code)
        if "json" in r.headers.get("content-type", ""):
            return json.dumps(r.json(), ensure_ascii=False)
        # a page's content (the header names the signed-in viewer's own enterprise)
        return r.text.split("<main>", 1)[1].split("</main>", 1)[0]

    def about(code: str, permit: str) -> dict[str, str]:
        return {u: get(u) for u in (
            f"/public/enterprises/{code}", f"/api/v1/permits/{permit}",
            f"/api/v1/public/permits?enterprise={code}")}

    trades = {u: get(u) for u in (
        "/public/trades", f"/public/trades?market={market}", f"/public/prices?market={market}",
        "/api/v1/public/trades", f"/api/v1/markets/{market}",
        f"/api/v1/markets/{market}/prices")}
    return {"A": about(A, pa), "B": about(B, pb), "trades": trades}


@pytest.mark.parametrize("who", [None, "analyst", "trader_b"])
def test_no_counterparty_in_public(client, auth, traded, who) -> None:  # type: ignore[no-untyped-def]
    ids_a = _identifiers(client, auth, "A", traded["A"], A)
    ids_b = _identifiers(client, auth, "B", traded["B"], B)
    texts = _public(client, traded, auth(who) if who else {})
    for page, text in texts["A"].items():
        if who == "trader_b" and page.startswith("/api/v1/permits/"):
            continue  # (B's trader reading A's permit: checked below as a stranger)
        leaked = [x for x in ids_b if x in text]
        assert not leaked, f"{page} names its counterparty: {leaked}"
    for page, text in texts["B"].items():
        if who == "trader_b":
            continue  # B's own permit: its holder may see whom it traded with
        leaked = [x for x in ids_a if x in text]
        assert not leaked, f"{page} names its counterparty: {leaked}"
    for page, text in texts["trades"].items():
        leaked = [x for x in ids_a + ids_b if x in text]
        assert not leaked, f"{page} names a party of a trade: {leaked}"
    # the trade itself is published: price and quantity
    assert "3,050.00" in texts["A"][f"/public/enterprises/{A}"]


def test_holder_and_bureau_still_see_counterparty(client, auth, traded) -> None:  # type: ignore[no-untyped-def]
    pa, pb = traded["A"], traded["B"]
    for who in ("trader_a", "officer"):
        hist = client.get(f"/api/v1/permits/{pa}", headers=auth(who)).json()["history"]
        assert any(h["counterparty"] == pb for h in hist), who
    stranger = client.get(f"/api/v1/permits/{pa}", headers=auth("trader_b")).json()
    assert all(h["counterparty"] is None and h["reference"] is None
               for h in stranger["history"])


def test_listings_do_not_name_the_seller(client, auth, traded) -> None:  # type: ignore[no-untyped-def]
    pa, market = traded["A"], traded["market"]
    r = client.post("/api/v1/listings", headers=auth("trader_a"), json={
        "market": market, "permit": pa, "qty": 500, "price": 305_000})
    assert r.status_code == 201, r.text
    for who in (None, "analyst", "trader_b"):
        body = client.get("/api/v1/listings", headers=auth(who) if who else {})
        text = json.dumps(body.json(), ensure_ascii=False)
        assert body.json() and pa not in text and A not in text, who
        assert body.json()[0]["reserve"] is False
    own = client.get("/api/v1/listings", headers=auth("trader_a")).json()
    assert own[0]["seller_permit"] == pa
    assert client.get("/api/v1/listings", headers=auth("officer")).json()[0]["seller"] == A
