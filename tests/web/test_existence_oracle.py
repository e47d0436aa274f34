"""No existence oracles (issue 19, "Roles as described"): to a trader, an object id of another
enterprise answers exactly like an id that exists nowhere, on every route taking one in the
path or the body: the same status, error code, field and message (the message with the id
itself put aside, since it echoes what was sent). SQLite and PostgreSQL.

Enterprise B owns one of everything (a permit, an order, a listing, a negotiated transfer
with C, an auction bid, a token, paid-use bills, a clue, ledger entries); trader_a
(enterprise A) asks for each through every route, API and page, that takes its id, once
with B's id and once with an id of the same shape that does not exist.

Client-chosen ids (issue 19): an order's id is the platform's and the id a client chooses is
unique within its enterprise only, so an order id B chose answers A like a free one; a trader
may not choose listing, transfer or bid ids at all (422 `client_id_not_allowed`, whatever
the id), so those answer alike too. B's objects here carry the platform's ids.
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from allocation import service as alloc
from kernel.ids import make_credit_code, make_permit_code
from tests.integration.paid_use_support import fund_and_pay
from tests.integration.spine import NOW, A, B
from tests.web.conftest import Browser

pytestmark = pytest.mark.db

C = make_credit_code("91500000CCCCCCCC3")
#: an enterprise and a permit that exist nowhere, of the same shape as B's
NOBODY = make_credit_code("91500000DDDDDDDD4")
NO_PERMIT = make_permit_code(NOBODY, 1)
NO_INT = 987_654_321
NEW_ORDER_ID = re.compile(r'"order_id":"[0-9a-f]{32}"')


def _ok(r: Any, *codes: int) -> dict[str, Any]:
    assert r.status_code in (codes or (200, 201)), r.text
    return r.json() if r.headers.get("content-type", "").startswith("application/json") else {}


@pytest.fixture
def world(platform: Any, client: TestClient, spine: dict[str, str], auth: Any,
          one_officer: None, tokens: dict[str, str]) -> dict[str, Any]:
    """B's objects, and for each an id that exists nowhere."""
    from identity import service as identity

    # the auction opens without a second officer (the default asks for one)
    identity.set_approval_policy(platform.uow(), tx_type="reserve_release", required=False,
                                 actor="test")
    alloc.register_enterprise(platform.uow(), credit_code=C, name="Enterprise C",
                              sector="thermal_power", district="D01")
    pc = alloc.issue_permit(
        platform.uow(), enterprise=C, site_seq=1, site_name="Plant C", district="D01",
        capacity=300, capacity_unit="MW", valid_from=date(2025, 1, 1),
        valid_to=date(2029, 12, 31), parameter_version="test",
        bases=[alloc.QuantityBasis("SO2", 2026, "ZA1", 5_000, 6_000, 3_000)], now=NOW)
    pa, pb, market = spine["A"], spine["B"], spine["market"]
    officer, tb = auth("officer"), auth("trader_b")
    for permit in (pa, pb, pc):
        _ok(client.post(f"/api/v1/permits/{permit}/confirmations", headers=officer,
                        json={"pollutant": "SO2", "year": 2026}))
    fund_and_pay(platform, pb)
    _ok(client.post(f"/api/v1/permits/{pb}/surplus-verifications", headers=officer,
                    json={"pollutant": "SO2", "year": 2026, "qty_kg": 2000}))
    order = _ok(client.post("/api/v1/orders", headers=tb, json={
        "permit": pb, "market": market, "side": "buy", "qty": 10, "price": 100_000,
        "order_id": "ob-buy-1"}))
    assert order["client_order_id"] == "ob-buy-1" and order["order_id"] != "ob-buy-1"
    listing = _ok(client.post("/api/v1/listings", headers=tb, json={
        "market": market, "permit": pb, "qty": 100, "price": 900_000}))
    transfer = _ok(client.post("/api/v1/transfers", headers=tb, json={
        "market": market, "seller_permit": pb, "buyer": C, "buyer_permit": pc, "qty": 100,
        "price": 300_000}))
    auction = _ok(client.post("/api/v1/auctions", headers=officer, json={
        "market": market, "offered": 100, "reserve_price": 100_000, "auction_id": "au-1"}))
    _ok(client.post(f"/api/v1/auctions/{auction['id']}/open", headers=officer))
    bid = _ok(client.post(f"/api/v1/auctions/{auction['id']}/bids", headers=tb, json={
        "permit": pb, "qty": 10, "price": 200_000}))
    clue = _ok(client.post("/api/v1/clues", headers=officer, json={
        "permit": pb, "description": "a complaint about B"}))
    token_b = next(t["id"] for t in _ok(client.get("/api/v1/tokens", headers=tb)))
    bill_b = _ok(client.get(f"/api/v1/paid-use/bills?permit={pb}", headers=tb))["items"][0]
    return {"A": A, "B": B, "C": C, "pa": pa, "pb": pb, "pc": pc, "market": market,
            "auction": auction["id"], "token_b": token_b, "bill_b": bill_b["id"],
            "clue_b": clue["id"], "order": order["order_id"], "listing": listing["id"],
            "transfer": transfer["id"], "bid": bid["id"]}



def _seen(r: Any, sent: str, as_: str) -> tuple[Any, ...]:
    """What a client sees, with the id it sent written as `as_` wherever it is echoed (so
    that the answer to a missing id reads as if it had been asked for B's), and the id the
    platform gave a new order put aside (a fresh one each time)."""
    text = NEW_ORDER_ID.sub('"order_id":"<new>"', r.text.replace(sent, as_))
    location = r.headers.get("location", "").replace(sent, as_)
    return r.status_code, r.headers.get("content-type", "").split(";")[0], location, text


def _fill(template: Any, x: str) -> Any:
    if isinstance(template, str):
        return template.replace("{x}", x)
    if isinstance(template, dict):
        return {k: _fill(v, x) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, x) for v in template]
    return int(x) if template is int else template


def api_cases(w: dict[str, Any]) -> list[tuple[str, str, Any, str, str]]:
    """(method, url, JSON body, B's id, a missing id): `{x}` is replaced by the id (`int`
    in a body: the id as a number)."""
    pa, pb, market, A_ = w["pa"], w["pb"], w["market"], w["A"]
    B_, order, listing, transfer = w["B"], "ob-buy-1", w["listing"], w["transfer"]
    # B's order by the platform's id, and by B's own client id
    platform_order, no_order = w["order"], "0123456789abcdef0123456789abcdef"
    return [
        # enterprises
        ("GET", "/api/v1/enterprises/{x}", None, B_, NOBODY),
        ("GET", "/api/v1/enterprises/{x}/orders", None, B_, NOBODY),
        ("GET", "/api/v1/enterprises/{x}/trades", None, B_, NOBODY),
        ("GET", "/api/v1/enterprises/{x}/statements/trades.csv", None, B_, NOBODY),
        ("GET", "/api/v1/compliance/enterprises/{x}/reports", None, B_, NOBODY),
        ("GET", "/api/v1/compliance/enterprises/{x}/status", None, B_, NOBODY),
        ("GET", "/api/v1/clues?enterprise={x}", None, B_, NOBODY),
        # orders
        ("POST", "/api/v1/orders/{x}/cancel", None, order, "ob-none-1"),
        ("POST", "/api/v1/orders/{x}/cancel", {"enterprise": A_}, order, "ob-none-1"),
        ("POST", "/api/v1/orders/{x}/replace", {"qty": 5}, order, "ob-none-1"),
        ("POST", "/api/v1/orders/{x}/cancel", None, platform_order, no_order),
        ("POST", "/api/v1/orders/{x}/replace", {"qty": 5}, platform_order, no_order),
        ("POST", "/api/v1/orders", {"permit": "{x}", "market": market, "side": "buy",
                                    "qty": 10, "price": 100_000}, pb, NO_PERMIT),
        ("POST", "/api/v1/orders", {"enterprise": "{x}", "permit": pa, "market": market,
                                    "side": "buy", "qty": 10, "price": 100_000}, B_, NOBODY),
        # listings
        ("POST", "/api/v1/listings/{x}/withdraw", None, listing, "lst-0123456789abcdef"),
        ("POST", "/api/v1/listings", {"market": market, "permit": "{x}", "qty": 1,
                                      "price": 900_000}, pb, NO_PERMIT),
        ("POST", "/api/v1/listings/" + listing + "/take", {"permit": "{x}", "qty": 1},
         pb, NO_PERMIT),
        # negotiated transfers (B sells to C)
        ("GET", "/api/v1/transfers/{x}", None, transfer, "nt-0123456789abcdef"),
        ("POST", "/api/v1/transfers/{x}/accept", None, transfer, "nt-0123456789abcdef"),
        ("POST", "/api/v1/transfers", {"market": market, "seller_permit": "{x}",
                                       "buyer": w["C"], "buyer_permit": w["pc"], "qty": 1,
                                       "price": 300_000}, pb, NO_PERMIT),
        # auction bids
        ("POST", f"/api/v1/auctions/{w['auction']}/bids",
         {"permit": "{x}", "qty": 1, "price": 200_000}, pb, NO_PERMIT),
        # tokens, bills, clues
        ("POST", "/api/v1/tokens/{x}/revoke", None, str(w["token_b"]), str(NO_INT)),
        ("POST", "/api/v1/paid-use/bills/{x}/pay", None, str(w["bill_b"]), str(NO_INT)),
        ("GET", "/api/v1/paid-use/bills?permit={x}", None, pb, NO_PERMIT),
        ("GET", "/api/v1/clues/detail?clue={x}", None, str(w["clue_b"]), str(NO_INT)),
        ("POST", "/api/v1/clues/actions", {"clue": int, "action": "rectify", "note": "n"},
         str(w["clue_b"]), str(NO_INT)),
        ("GET", "/api/v1/clues?permit={x}", None, pb, NO_PERMIT),
        # reports and monitoring of a permit
        ("POST", "/api/v1/compliance/reports", {
            "permit": "{x}", "year": 2026, "period": "Q1",
            "lines": [{"outlet": "DA001", "pollutant": "SO2", "quantity": "1"}]},
         pb, NO_PERMIT),
        ("POST", "/api/v1/compliance/reports/import", {
            "csv": "permit,year,period,outlet,pollutant,quantity,unit\n"
                   "{x},2026,Q1,DA001,SO2,1,kg\n"},
         pb, NO_PERMIT),
        ("POST", "/api/v1/monitoring/imports", {
            "csv": "permit,outlet,hour,flow_nm3_h,SO2_mg_m3\n{x},DA001,2026-03-01 01:00,"
                   "1000,10\n"}, pb, NO_PERMIT),
        ("GET", "/api/v1/monitoring/daily?permit={x}&first=2026-01-01&last=2026-01-31", None,
         pb, NO_PERMIT),
        ("GET", "/api/v1/monitoring/totals?permit={x}&first=2026-01-01&last=2026-01-31", None,
         pb, NO_PERMIT),
        ("GET", "/api/v1/monitoring/report-checks?permit={x}", None, pb, NO_PERMIT),
        ("GET", "/api/v1/monitoring/imports?permit={x}", None, pb, NO_PERMIT),
        ("GET", "/api/v1/alerts/measures?permit={x}", None, pb, NO_PERMIT),
        # the ledger (bureau and analysts only)
        ("GET", "/api/v1/ledger/holders/{x}/entries", None, B_, NOBODY),
    ]


def client_id_cases(w: dict[str, Any]) -> list[tuple[str, str, Any, str, str]]:
    """Creating an object under an id the client chooses, taken by B (B's client id or the
    platform's id of B's object) or free. (A's 1,000 fen of cash pays for the four orders of
    1 kg these place.)"""
    pa, market = w["pa"], w["market"]
    return [
        ("POST", "/api/v1/orders", {"permit": pa, "market": market, "side": "buy", "qty": 1,
                                    "price": 100_000, "order_id": "{x}"},
         "ob-buy-1", "ob-none-1"),
        ("POST", "/api/v1/orders", {"permit": pa, "market": market, "side": "buy", "qty": 1,
                                    "price": 100_000, "order_id": "{x}"},
         w["order"], "0123456789abcdef0123456789abcdef"),
        ("POST", "/api/v1/listings", {"market": market, "permit": pa, "qty": 1,
                                      "price": 900_000, "listing_id": "{x}"},
         w["listing"], "lst-0123456789abcdef"),
        ("POST", "/api/v1/transfers", {"market": market, "seller_permit": pa,
                                       "buyer": w["C"], "buyer_permit": w["pc"], "qty": 1,
                                       "price": 300_000, "transfer_id": "{x}"},
         w["transfer"], "nt-0123456789abcdef"),
        ("POST", f"/api/v1/auctions/{w['auction']}/bids",
         {"permit": pa, "qty": 1, "price": 200_000, "bid_id": "{x}"}, w["bid"],
         "bid-0123456789abcdef"),
    ]


def page_cases(w: dict[str, Any]) -> list[tuple[str, str, Any, str, str]]:
    """(method, url, form, B's id, a missing id) of the pages a trader uses."""
    pb, market, A_, B_ = w["pb"], w["market"], w["A"], w["B"]
    own = f"/enterprises/{A_}"
    return [
        ("GET", "/enterprises/{x}", None, B_, NOBODY),
        ("GET", "/enterprises/{x}/depth?market=" + market, None, B_, NOBODY),
        ("GET", "/enterprises/{x}/statements/trades.csv", None, B_, NOBODY),
        ("GET", "/enterprises/{x}/statements/holdings.csv", None, B_, NOBODY),
        ("GET", "/enterprises/{x}/auctions", None, B_, NOBODY),
        ("GET", "/enterprises/{x}/transfers", None, B_, NOBODY),
        ("GET", "/enterprises/{x}/clues", None, B_, NOBODY),
        ("GET", "/enterprises/{x}/reports", None, B_, NOBODY),
        ("GET", "/enterprises/{x}/bills", None, B_, NOBODY),
        ("POST", "/enterprises/{x}/orders", {"permit": pb, "market": market, "side": "buy",
                                             "qty": "1", "price_yuan": "100"}, B_, NOBODY),
        ("POST", own + "/orders", {"permit": "{x}", "market": market, "side": "buy",
                                   "qty": "1", "price_yuan": "100"}, pb, NO_PERMIT),
        ("POST", own + "/orders/{x}/cancel", {}, "ob-buy-1", "ob-none-1"),
        ("POST", own + "/orders/{x}/cancel", {}, w["order"],
         "0123456789abcdef0123456789abcdef"),
        ("POST", own + "/transfers/accept", {"transfer": "{x}"}, w["transfer"],
         "nt-0123456789abcdef"),
        ("POST", own + "/transfers", {"market": market, "seller_permit": "{x}",
                                      "buyer": w["C"], "buyer_permit": w["pc"], "qty": "1",
                                      "price_yuan": "300"}, pb, NO_PERMIT),
        ("POST", own + "/listings/take", {"listing": w["listing"], "permit": "{x}", "qty": "1"},
         pb, NO_PERMIT),
        ("POST", own + "/auctions/bids", {"auction": str(w["auction"]), "permit": "{x}",
                                          "qty": "1", "price_yuan": "200"}, pb, NO_PERMIT),
        ("POST", own + "/bills/pay", {"bill": "{x}"}, str(w["bill_b"]), str(NO_INT)),
        ("POST", own + "/clues/rectify", {"clue": "{x}", "note": "done"}, str(w["clue_b"]),
         str(NO_INT)),
        ("POST", "/account/tokens/{x}/revoke", {}, str(w["token_b"]), str(NO_INT)),
        ("POST", own + "/reports", {"permit": "{x}", "year": "2026", "period": "Q1",
                                    "outlet": "DA001", "pollutant": "SO2", "quantity": "1",
                                    "unit": "kg"}, pb, NO_PERMIT),
    ]


def _api_differences(cases: list[tuple[str, str, Any, str, str]], client: TestClient,
                     headers: dict[str, str]) -> list[tuple[Any, ...]]:
    differ = []
    for method, url, body, theirs, missing in cases:
        shapes = []
        for x in (theirs, missing):
            r = client.request(method, _fill(url, x), json=_fill(body, x), headers=headers)
            assert r.status_code < 500, (method, url, r.text)
            shapes.append(_seen(r, x, theirs))
        if shapes[0] != shapes[1]:
            differ.append((method, url, shapes[0], shapes[1]))
    return differ


def test_api_answers_another_enterprises_ids_like_missing_ones(
        world: dict[str, Any], client: TestClient, auth: Any) -> None:
    differ = _api_differences(api_cases(world), client, auth("trader_a"))
    assert not differ, "\n".join(repr(d) for d in differ)


def test_client_chosen_ids_of_another_enterprise_answer_like_free_ones(
        world: dict[str, Any], client: TestClient, auth: Any) -> None:
    differ = _api_differences(client_id_cases(world), client, auth("trader_a"))
    assert not differ, "\n".join(repr(d) for d in differ)


def test_pages_answer_another_enterprises_ids_like_missing_ones(
        world: dict[str, Any], browser: Any) -> None:
    b: Browser = browser("trader_a")
    differ = []
    for method, url, form, theirs, missing in page_cases(world):
        shapes = []
        for x in (theirs, missing):
            if method == "GET":
                r = b.get(_fill(url, x), follow_redirects=False)
            else:
                b.get(f"/enterprises/{world['A']}")
                r = b.post(_fill(url, x), data=_fill(form, x), follow_redirects=False)
            assert r.status_code < 500, (method, url, r.text[:500])
            shapes.append(_seen(r, x, theirs))
        if shapes[0] != shapes[1]:
            lines = difflib.unified_diff(shapes[0][3].splitlines(),
                                         shapes[1][3].splitlines(), lineterm="", n=0)
            differ.append((method, url, shapes[0][:3], shapes[1][:3], list(lines)[2:12]))
    assert not differ, "\n".join(repr(d) for d in differ)


# roles as described: analysts cannot write what they do not own --------------------------

def test_a_scenario_is_deleted_by_its_author_or_the_city_bureau_only(
        platform: Any, client: TestClient, spine: dict[str, str]) -> None:
    """Analysts read and run every scenario; deleting one is for its author, or a city bureau
    user who may manage permits (web.api.allocation.ensure_scenario_owner). A department or
    district officer without that right, and another analyst, get 403 and the scenario
    stays."""
    from identity import service as identity
    from tests.web.conftest import password_hash

    extra = {"analyst2": ("analyst", None, None), "monitor": ("bureau_officer", None,
                                                              "monitoring"),
             "district": ("bureau_officer", "D01", None)}
    for name, (role, district, department) in extra.items():
        identity.create_user(platform.uow(), username=name, display_name=name, role=role,
                             password="", password_hash=password_hash(name),
                             district=district, department=department)
    users = ["officer", "analyst", *extra]
    heads = {}
    for name in users:
        principal = identity.principal_of(platform.uow(), name)
        raw = identity.create_token(platform.uow(), owner=principal, name="t")[0]
        heads[name] = {"Authorization": f"Bearer {raw}"}

    def create(who: str, name: str) -> int:
        r = client.post("/api/v1/allocation/scenarios", json={"name": name}, headers=heads[who])
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def delete(who: str, sid: int) -> Any:
        return client.delete(f"/api/v1/allocation/scenarios/{sid}", headers=heads[who])

    def exists(sid: int) -> bool:
        return client.get(f"/api/v1/allocation/scenarios/{sid}",
                          headers=heads["officer"]).status_code == 200

    officers = create("officer", "the officer's")
    for who in ("analyst", "analyst2", "monitor", "district"):
        r = delete(who, officers)
        assert (r.status_code, r.json()["error"]) == (403, "forbidden"), (who, r.text)
    assert exists(officers)
    # another analyst's scenario can be run (the run is the runner's own record)
    r = client.post(f"/api/v1/allocation/scenarios/{officers}/runs", json={},
                    headers=heads["analyst"])
    assert r.status_code == 201, r.text
    analysts = create("analyst", "the analyst's")
    assert delete("analyst2", analysts).status_code == 403 and exists(analysts)
    assert delete("analyst", analysts).status_code == 204 and not exists(analysts)
    assert delete("analyst", analysts).status_code == 404  # missing: as for everyone
    assert delete("officer", officers).status_code == 204 and not exists(officers)
    other = create("analyst2", "the second analyst's")
    assert delete("officer", other).status_code == 204 and not exists(other)
