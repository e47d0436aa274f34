"""District scope of the bureau's lists, their exports and API twins, and of the reserve's
auctions and the officers' notices (the access review's follow-up).

A district officer sees the enterprises, permits and money of its district only: every
bureau list page, its Excel export and its JSON twin are filtered in the service's query, as
the bill's PDF answers 404. The walk below logs in as the officer of district D02 while
every enterprise, permit, bill, trade, transfer, bid, violation and approval lies in D01, and
fails on any D01 name or code it sees. Running the reserve's auctions is the city bureau's
(403 `forbidden` for a district officer). Notices of a waiting approval follow the officer's
current district, and a batch is announced to whoever may decide it."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from allocation import service as alloc
from identity import service as identity
from kernel.clock import system_clock, trading_day
from kernel.ids import make_credit_code
from notices import service as notices
from tests.integration.spine import NOW, A, B
from tests.web.conftest import password_hash
from tests.web.test_documents import world  # noqa: F401 - the documents' fixture
from tests.web.test_no_get_writes import get_routes
from trading import auction_service as auctions
from trading import listing_service as listings
from trading import transfer_service as transfers

pytestmark = pytest.mark.db
PARAM = re.compile(r"\{\w+(?::\w+)?\}")
C = make_credit_code("91500000CCCCCCCC3")


def _officer(platform: Any, name: str, district: str | None) -> str:
    if district is not None and district != "D01":
        alloc.register_area(platform.uow(), zones=[],
                            districts=[(district, f"District {district}", "ZA1", "ZW1")])
    identity.create_user(platform.uow(), username=name, display_name=name,
                         role="bureau_officer", password="", district=district,
                         password_hash=password_hash(name))
    return name


def _bearer(platform: Any, name: str) -> dict[str, str]:
    owner = identity.principal_of(platform.uow(), name)
    return {"Authorization": "Bearer "
            + identity.create_token(platform.uow(), owner=owner, name="t")[0]}


@pytest.fixture
def d01_only(world, platform, spine) -> dict[str, Any]:  # type: ignore[no-untyped-def]  # noqa: F811
    """The documents' world (a trade A → B, bills, a penalty decision on A) and more of D01:
    a negotiated transfer A → B, a reserve auction with B's bid, an approval request about
    A's permit. D02 exists and has no enterprise."""
    pa, pb, market = spine["A"], spine["B"], spine["market"]
    transfers.propose_transfer(platform.uow(), market=market, seller=A, seller_permit=pa,
                               buyer=B, buyer_permit=pb, qty=100, price=150_000,
                               permits=platform.permits, actor="trader_a",
                               transfer_id="tr-d01")
    auctions.create_auction(platform.uow(), market=market, offered=1_000,
                            reserve_price=100_000, actor="officer", auction_id="auc-d01")
    auctions.open_auction(platform.uow(), "auc-d01", actor="officer")
    auctions.place_bid(platform.uow(), auction_id="auc-d01", enterprise=B, permit=pb, qty=100,
                       price=150_000, permits=platform.permits, actor="trader_b")
    identity.request_approval(platform.uow(), tx_type="confirmation", action="confirm_rights",
                              target=pa, payload=dict(permit=pa, pollutant="SO2", year=2027),
                              summary=f"confirm SO2 2027 of {pa}", requested_by="officer")
    # a permit of D01 due for renewal (within the 60 days' notice from today)
    today = trading_day(system_clock())
    alloc.register_enterprise(platform.uow(), credit_code=C, name="Enterprise C",
                              sector="thermal_power", district="D01")
    pc = alloc.issue_permit(
        platform.uow(), enterprise=C, site_seq=1, site_name="Plant C", district="D01",
        capacity=300, capacity_unit="MW", valid_from=today - timedelta(days=1500),
        valid_to=today + timedelta(days=20), parameter_version="test",
        bases=[alloc.QuantityBasis("SO2", 2026, "ZA1", 5_000, 6_000, 3_000)], now=NOW)
    _officer(platform, "d02", "D02")
    return dict(world, auction="auc-d01", secrets=(A, B, C, pa, pb, pc, "Enterprise A",
                                                    "Enterprise B", "Enterprise C"))


def _text(r: Any) -> str:
    if r.content.startswith(b"PK"):
        return "\n".join(str(v) for ws in load_workbook(io.BytesIO(r.content))
                         for row in ws.iter_rows(values_only=True) for v in row
                         if v is not None)
    return r.text


def _seen(text: str, secrets: tuple[str, ...]) -> list[str]:
    return [s for s in secrets if s in text]


def test_every_bureau_list_export_and_api_twin_keeps_to_the_officers_district(  # type: ignore[no-untyped-def]
        app, d01_only, platform, client, browser) -> None:
    """Every bureau list page (GET /bureau… without an id), its export, the API's reads
    (GET /api/v1/… without an id, and the auction by id) as D02's officer: no D01 name,
    credit code or permit code. API answers that an anonymous visitor gets as they are
    (public disclosure: the registry, published trades and decisions) are not the bureau's
    lists and are left out; the city officer's pages show D01 (the walk can see it)."""
    secrets = d01_only["secrets"]
    d02, city = browser("d02"), browser("officer")
    api = _bearer(platform, "d02")
    routes = [p for p, _q in get_routes(app) if not PARAM.search(p)]
    pages = [p for p in routes if p.startswith("/bureau") and not p.endswith(".xlsx")]
    exports = [p for p in routes if p.startswith("/bureau") and p.endswith(".xlsx")]
    assert "/bureau/paid-use" in pages and "/bureau/markets/flags.xlsx" in exports
    leaks: dict[str, list[str]] = {}
    walked = 0
    for path in pages + exports:
        r = d02.get(path)
        if path.startswith("/bureau/audit"):  # the city bureau's
            assert r.status_code == 403, path
            continue
        assert r.status_code == 200, (path, r.status_code)
        walked += 1
        if found := _seen(_text(r), secrets):
            leaks[path] = found
    # the walk sees D01 where it is visible: the city officer's lists show it
    for path in ("/bureau/paid-use", "/bureau/reports/missing", "/bureau/markets/flags",
                 "/bureau/permits", "/bureau/penalties",
                 "/bureau/transfers", "/bureau/auctions", "/bureau/paid-use.xlsx",
                 "/bureau/reports/missing.xlsx", "/bureau/markets/flags.xlsx"):
        assert _seen(_text(city.get(path)), secrets), path
    api_paths = [p for p in routes if p.startswith("/api/v1/")]
    api_paths.append(f"/api/v1/auctions/{d01_only['auction']}")
    for path in api_paths:
        r = client.get(path, headers=api)
        if r.status_code != 200 or not (found := _seen(r.text, secrets)):
            continue
        public = client.get(path)
        if public.status_code == 200 and public.text == r.text:
            continue  # what anyone may read
        walked += 1
        leaks[path] = found
    assert walked > 30
    assert not leaks, leaks


def test_the_api_twins_show_the_city_everything_and_a_district_its_own(  # type: ignore[no-untyped-def]
        d01_only, platform, client, auth) -> None:
    """The paid-use bills, missing reports, unusual trades, transfers and auction bids: the
    city officer gets D01's, D01's officer the same, D02's none (and owes nothing)."""
    _officer(platform, "d01", "D01")
    city, d01, d02 = auth("officer"), _bearer(platform, "d01"), _bearer(platform, "d02")

    def get(path: str, who: dict[str, str]) -> Any:
        r = client.get(path, headers=who)
        assert r.status_code == 200, (path, r.text)
        return r.json()

    lists = {"/api/v1/paid-use/bills": lambda j: j["items"],
             "/api/v1/compliance/reports/missing": lambda j: j["items"],
             "/api/v1/surveillance/flags": lambda j: j["items"],
             "/api/v1/transfers": lambda j: j,
             f"/api/v1/auctions/{d01_only['auction']}": lambda j: j["bids"]}
    for path, rows in lists.items():
        mine = rows(get(path, city))
        assert mine and rows(get(path, d01)) == mine, path
        assert rows(get(path, d02)) == [], path
    assert get("/api/v1/paid-use/bills", d02)["owed_fen"] == 0
    assert get("/api/v1/paid-use/bills", d01)["owed_fen"] \
        == get("/api/v1/paid-use/bills", city)["owed_fen"] > 0
    # the unusual trade A → B (3 050 yuan/t against the 976 base price) is D01's
    flags = get("/api/v1/surveillance/flags", d01)["items"]
    assert any(f["kind"] == "price_deviation" for f in flags)
    assert get("/api/v1/surveillance/flags", d02)["total"] == 0


def test_the_market_flags_page_and_export_of_a_district_officer(  # type: ignore[no-untyped-def]
        d01_only, platform, browser) -> None:
    _officer(platform, "d01", "D01")
    for who, sees in (("officer", True), ("d01", True), ("d02", False)):
        b = browser(who)
        page = b.get("/bureau/markets/flags")
        assert page.status_code == 200
        assert (A in page.text) is sees, who
        book = b.get("/bureau/markets/flags.xlsx")
        assert book.status_code == 200
        assert (A in _text(book)) is sees, who


# reserve auctions: the city bureau's --------------------------------------------------------

def test_a_district_officer_may_not_run_reserve_auctions(  # type: ignore[no-untyped-def]
        platform, spine, client, auth, browser) -> None:
    """Create, schedule, open, close, clear and settle, by page and API, and a reserve
    listing: 403 `forbidden` for a district officer, nothing changed; the city officer
    proceeds."""
    _officer(platform, "d01", "D01")
    market = spine["market"]
    d01, city = _bearer(platform, "d01"), auth("officer")
    body = dict(market=market, offered=500, reserve_price=100_000, auction_id="auc-x")
    r = client.post("/api/v1/auctions", json=body, headers=d01)
    assert r.status_code == 403 and r.json()["error"] == "forbidden", r.text
    assert client.get("/api/v1/auctions/auc-x").status_code == 404  # not created
    r = client.post("/api/v1/auctions", json=body, headers=city)
    assert r.status_code == 201, r.text
    sched = dict(announce_at=None, open_at="2030-01-01T09:00:00+08:00",
                 close_at="2030-01-01T11:00:00+08:00")
    r = client.post("/api/v1/auctions/auc-x/schedule", json=sched, headers=d01)
    assert r.status_code == 403 and r.json()["error"] == "forbidden", r.text
    assert auctions.auction_view(platform.uow(), "auc-x")["open_at"] is None
    for step in ("open", "close", "clear", "settle"):
        r = client.post(f"/api/v1/auctions/auc-x/{step}", headers=d01)
        assert r.status_code == 403 and r.json()["error"] == "forbidden", (step, r.text)
    assert auctions.auction_view(platform.uow(), "auc-x")["status"] == "draft"
    r = client.post("/api/v1/auctions/auc-x/schedule", json=sched, headers=city)
    assert r.status_code in (200, 202), r.text  # done, or waiting for a second officer
    # the pages: no forms to run them, the same refusal, the same state
    page = browser("d01")
    html = page.get("/bureau/auctions").text
    assert "auc-x" in html and 'action="/bureau/auctions' not in html
    assert 'action="/bureau/auctions/step"' in browser("officer").get("/bureau/auctions").text
    for url, form in (("/bureau/auctions", dict(market=market, offered="500",
                                                reserve_yuan="1000", rule="uniform")),
                      ("/bureau/auctions/step", dict(auction="auc-x", action="open")),
                      ("/bureau/auctions/step", dict(auction="auc-x", action="clear")),
                      ("/bureau/auctions/schedule",
                       dict(auction="auc-x", open_at="2030-01-02 09:00",
                            close_at="2030-01-02 11:00"))):
        r = page.post(url, data=form)
        assert r.status_code == 403, (url, r.status_code)
    assert [a["id"] for a in auctions.list_auctions(platform.uow())] == ["auc-x"]
    assert auctions.auction_view(platform.uow(), "auc-x")["status"] == "draft"
    r = browser("officer").post("/bureau/auctions/step", data=dict(auction="auc-x",
                                                                   action="open"))
    assert r.status_code == 200 and "auc-x" in r.text  # opened, or a request filed
    # a reserve listing is a release of the reserve too
    listing = dict(market=market, qty=100, price=100_000, listing_id="rl-1")
    r = client.post("/api/v1/listings", json=listing, headers=d01)
    assert r.status_code == 403 and r.json()["error"] == "forbidden", r.text
    assert not [x for x in client.get("/api/v1/listings").json() if x["id"] == "rl-1"]
    r = client.post("/api/v1/listings", json=listing, headers=city)
    assert r.status_code in (201, 202), r.text


def test_a_district_officer_may_not_withdraw_a_reserve_listing(  # type: ignore[no-untyped-def]
        platform, spine, client, auth) -> None:
    """Putting a reserve listing's rights back is the city's, as listing them: 403
    `forbidden` for a district officer and the listing stays open; the city withdraws it."""
    _officer(platform, "d01", "D01")
    listings.create_listing(platform.uow(), market=spine["market"], seller=None, permit=None,
                            qty=100, price=100_000, permits=platform.permits,
                            actor="officer", listing_id="rl-w")

    def status() -> str:
        return next(x["status"] for x in listings.listings(platform.uow(), status=None)
                    if x["id"] == "rl-w")

    r = client.post("/api/v1/listings/rl-w/withdraw", headers=_bearer(platform, "d01"))
    assert r.status_code == 403 and r.json()["error"] == "forbidden", r.text
    assert status() == "open"
    r = client.post("/api/v1/listings/rl-w/withdraw", headers=auth("officer"))
    assert r.status_code == 200, r.text
    assert status() == "withdrawn"


# notices of a waiting approval -------------------------------------------------------------

def _waiting(platform: Any, username: str) -> set[str]:
    """The refs of the user's approval_waiting notices, as its notifications list shows."""
    return {n["ref"] for n in notices.notifications(platform.uow(), username,
                                                    limit=200)["items"]
            if n["kind"] == "approval_waiting"}


def test_approval_notices_follow_the_officers_current_district(  # type: ignore[no-untyped-def]
        platform, spine, client) -> None:
    """A request about A's permit (D01) is announced to the city's and D01's officers. Moved
    to D02, D01's officer no longer sees it (nor counts it unread); moved to the city, it
    sees every one again."""
    _officer(platform, "d01", "D01")
    _officer(platform, "d02", "D02")
    pa = spine["A"]
    req = identity.request_approval(platform.uow(), tx_type="confirmation",
                                    action="confirm_rights", target=pa,
                                    payload=dict(permit=pa, pollutant="SO2", year=2027),
                                    summary="confirm", requested_by="officer")
    ref = str(req["id"])
    told = {n["recipient"] for n in notices.of_event(platform.uow(), "approval_waiting", ref)}
    assert "d01" in told and "d02" not in told and "officer" not in told  # not the requester
    assert _waiting(platform, "d01") == {ref}
    unread = notices.unread_count(platform.uow(), "d01")
    identity.set_user_scope(platform.uow(), username="d01", district="D02", department=None)
    assert _waiting(platform, "d01") == set()
    assert notices.unread_count(platform.uow(), "d01") == unread - 1
    identity.set_user_scope(platform.uow(), username="d01", district=None, department=None)
    assert _waiting(platform, "d01") == {ref}


def _permit_of_d02(platform: Any) -> str:
    """Enterprise C in D02 (which must exist) with an SO2 permit for 2026: its code."""
    alloc.register_enterprise(platform.uow(), credit_code=C, name="Enterprise C",
                              sector="thermal_power", district="D02")
    return str(alloc.issue_permit(
        platform.uow(), enterprise=C, site_seq=1, site_name="Plant C", district="D02",
        capacity=300, capacity_unit="MW", valid_from=date(2025, 1, 1),
        valid_to=date(2029, 12, 31), parameter_version="test",
        bases=[alloc.QuantityBasis("SO2", 2026, "ZA1", 5_000, 6_000, 3_000)], now=NOW))


def test_a_batch_is_announced_to_whoever_may_decide_it(  # type: ignore[no-untyped-def]
        platform, spine) -> None:
    """A bulk confirmation of one district's permits: the city's and that district's officers.
    One spanning two districts: only the city's, since no district officer may decide it
    (`web.approvals.in_scope`), not the first permit's district's."""
    _officer(platform, "d01", "D01")
    _officer(platform, "d02", "D02")
    pc = _permit_of_d02(platform)

    def batch(permits: list[str], district: str | None) -> set[str]:
        a = identity.request_approval(
            platform.uow(), tx_type="confirmation", action="confirm_permits",
            target=permits[0], payload=dict(permits=permits, year=2026, district=district),
            summary="batch", requested_by="admin")
        return {n["recipient"] for n in notices.of_event(platform.uow(), "approval_waiting",
                                                          a["id"])}

    one = batch([spine["A"], spine["B"]], None)
    assert {"d01", "officer"} <= one and "d02" not in one
    both = batch([spine["A"], pc], None)
    assert "officer" in both and "d01" not in both and "d02" not in both
    mine = batch([pc], "D02")  # filed by D02's officer for its district
    assert "d02" in mine and "d01" not in mine


def test_a_batch_spanning_districts_is_in_no_districts_list(  # type: ignore[no-untyped-def]
        platform, spine, client, browser) -> None:
    """The district officer's approvals list (page and API) holds what that officer may
    decide, no more: a batch of A's (D01) and C's (D02) permits, whose target is its first
    permit (A's), is in the city's list only; a batch of D01's permits alone is in D01's.
    Before, the list took any request whose target was a permit of the district, so D01's
    officer saw the spanning batch and C's permit in it, then got 404 on opening it."""
    _officer(platform, "d01", "D01")
    _officer(platform, "d02", "D02")
    pc = _permit_of_d02(platform)

    def batch(permits: list[str]) -> int:
        return int(identity.request_approval(
            platform.uow(), tx_type="confirmation", action="confirm_permits",
            target=permits[0], payload=dict(permits=permits, year=2026, district=None),
            summary="batch", requested_by="admin")["id"])

    spanning, d01 = batch([spine["A"], pc]), batch([spine["A"], spine["B"]])
    lists = {who: {a["id"]: a for a in client.get(
        "/api/v1/approvals?status=pending", headers=_bearer(platform, who)).json()["items"]}
        for who in ("d01", "d02", "officer")}
    assert spanning not in lists["d01"] and spanning not in lists["d02"]
    assert d01 in lists["d01"] and d01 not in lists["d02"]
    assert {spanning, d01} <= set(lists["officer"])
    assert (lists["officer"][spanning]["district"], lists["d01"][d01]["district"]) == (
        None, "D01")
    page = browser("d01").get("/bureau/approvals?status=pending")
    assert page.status_code == 200 and pc not in page.text and spine["A"] in page.text
    r = client.get(f"/api/v1/approvals/{spanning}", headers=_bearer(platform, "d01"))
    assert r.status_code == 404  # as the list: neither seen nor decided


def test_migration_0038_gives_earlier_requests_the_district_a_new_one_gets(  # type: ignore[no-untyped-def]
        platform, spine) -> None:
    """Requests made before revision 0038 get, on upgrade, the district `request_approval`
    gives a new one; the column goes on downgrade."""
    from sqlalchemy import create_engine, inspect, text

    from app.migrate import downgrade, upgrade

    _officer(platform, "d02", "D02")
    pc = _permit_of_d02(platform)
    pa, pb = spine["A"], spine["B"]
    asked = [("confirm_permits", pa, dict(permits=[pa, pc], year=2026, district=None), None),
             ("confirm_permits", pa, dict(permits=[pa, pb], year=2026, district=None), "D01"),
             ("confirm_permits", pc, dict(permits=[pc], year=2026, district="D02"), "D02"),
             ("confirm_rights", pa, dict(permit=pa, pollutant="SO2", year=2027), "D01"),
             ("release_reserve_plan", "7", dict(plan=7), None)]
    made = {}
    for action, target, payload, district in asked:
        a = identity.request_approval(
            platform.uow(), tx_type="confirmation", action=action, target=target,
            payload=payload, summary="s", requested_by="admin")
        assert a["district"] == district, action
        made[a["id"]] = district
    db_url = platform.settings.database_url
    platform.close()  # no pooled connection holds the table while it is rebuilt
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        downgrade(db_url, "0037")
        assert "district" not in {c["name"] for c in inspect(engine).get_columns(
            "approval_request")}
        upgrade(db_url)
        with engine.connect() as c:
            got = dict(c.execute(text("SELECT id, district FROM approval_request")).all())
        assert got == made
    finally:
        engine.dispose()


def test_a_district_officer_decides_only_its_districts_transfers(  # type: ignore[no-untyped-def]
        d01_only, platform, client, browser) -> None:
    """The transfer A → B (both in D01): D02's officer gets 404 `transfer_not_found` reading,
    approving or rejecting it, by API and page, as if missing, and nothing changes; D01's
    officer reads and rejects it."""
    _officer(platform, "d01", "D01")
    d01, d02 = _bearer(platform, "d01"), _bearer(platform, "d02")
    url = "/api/v1/transfers/tr-d01"
    missing = client.get("/api/v1/transfers/tr-none", headers=d02)
    for r in (client.get(url, headers=d02), client.post(url + "/approve", headers=d02),
              client.post(url + "/reject", json={"reason": "no"}, headers=d02)):
        assert r.status_code == 404 and r.json()["error"] == "transfer_not_found", r.text
        assert r.json()["detail"].replace("tr-d01", "X") \
            == missing.json()["detail"].replace("tr-none", "X")
    r = browser("d02").post("/bureau/transfers/decide",
                            data=dict(transfer="tr-d01", decision="reject", reason="no"))
    assert r.status_code == 404
    assert transfers.transfer_view(platform.uow(), "tr-d01")["status"] == "proposed"
    assert client.get(url, headers=d01).json()["status"] == "proposed"
    r = client.post(url + "/reject", json={"reason": "not this way"}, headers=d01)
    assert r.status_code == 200 and r.json()["status"] == "rejected", r.text
