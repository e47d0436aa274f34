"""Access review of the issue-18 capabilities, as an attacker would try them: another
enterprise's user, an anonymous visitor, an officer of the wrong role or district, a stale
read. Documents (PDF), Excel exports (access and formula injection), notices, auction bids
withdrawn or replaced (ownership, state, reserve, balanced holds, a bid changed meanwhile),
bulk confirmation under the four-eyes rule, flash notices and the password change (the current
password, a lock-out that says when to retry), and CSRF on the new forms and API writes."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from allocation import service as alloc
from identity import service as identity
from kernel.errors import DomainError
from kernel.ids import make_credit_code
from ledger import service as ledger_service
from tests.integration.spine import A, B
from tests.web.conftest import Browser, login, password_hash
from tests.web.test_documents import world  # noqa: F401 - the documents' fixture
from tests.web.test_order_entry_halts_auctions import _open_auction, floor  # noqa: F401
from trading import auction_service as auctions

pytestmark = pytest.mark.db
NUMBER = "渝环罚〔2026〕9号"
FORMULAS = ('=HYPERLINK("http://evil.example/","x")', "+1+1", "-2+3", "@SUM(1)",
            "\t=1", "\r=1")


def _district_officer(platform: Any, name: str = "d02", district: str = "D02") -> str:
    """An officer of a second district (the spine's A and B lie in D01)."""
    if district == "D02":
        alloc.register_area(platform.uow(), zones=[],
                            districts=[("D02", "District 2", "ZA1", "ZW1")])
    identity.create_user(platform.uow(), username=name, display_name=name,
                         role="bureau_officer", password="", district=district,
                         password_hash=password_hash(name))
    return name


def _bearer(platform: Any, name: str) -> dict[str, str]:
    owner = identity.principal_of(platform.uow(), name)
    return {"Authorization": "Bearer "
            + identity.create_token(platform.uow(), owner=owner, name="t")[0]}


# documents ---------------------------------------------------------------------------------

def _doc_urls(w: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, str]]]:
    """kind → (API url, page url, query) of A's documents (the trade is A's and B's)."""
    q = {"number": NUMBER}
    return {"trade": (f"/api/v1/trades/{w['trade']}/confirmation.pdf",
                      f"/documents/trades/{w['trade']}.pdf", {}),
            "bill": (f"/api/v1/paid-use/bills/{w['bill_a']}/notice.pdf",
                     f"/documents/bills/{w['bill_a']}.pdf", {}),
            "decision": ("/api/v1/penalties/decision.pdf", "/documents/penalty-decision.pdf",
                         q)}


def test_documents_refused_to_anonymous_analysts_and_other_districts(  # type: ignore[no-untyped-def]
        world, platform, client, auth, browser) -> None:  # noqa: F811
    d02 = _bearer(platform, _district_officer(platform))
    for kind, (api, page, q) in _doc_urls(world).items():
        r = client.get(api, params=q)
        assert r.status_code == 401 and r.json()["error"] == "not_authenticated", kind
        r = client.get(page, params=q, follow_redirects=False)
        assert r.status_code in (303, 401) and not r.content.startswith(b"%PDF"), kind
        r = client.get(api, params=q, headers=auth("analyst"))
        assert r.status_code == 403 and r.json()["error"] == "forbidden", kind
        r = client.get(api, params=q, headers=d02)  # A lies in D01: as if missing
        assert r.status_code == 404 and not r.content.startswith(b"%PDF"), kind
        r = client.get(api, params=q, headers=auth("officer"))  # the city bureau: every one
        assert r.status_code == 200 and r.content.startswith(b"%PDF"), kind
        assert r.headers["cache-control"] == "no-store"
    # the bill and decision are A's alone: B's trader gets 404 on the page as on the API
    tb = browser("trader_b")
    for kind in ("bill", "decision"):
        api, page, q = _doc_urls(world)[kind]
        r = tb.get(page, params=q)
        assert r.status_code == 404 and not r.content.startswith(b"%PDF"), kind


def test_document_ids_answer_like_missing_ones_and_never_500(  # type: ignore[no-untyped-def]
        world, client, auth, browser) -> None:  # noqa: F811
    """Ids are sequential, so guessing one must tell nothing: another enterprise's bill
    answers exactly as a missing bill (code and message), bad ids are 422, none is a 500."""
    tb = auth("trader_b")
    theirs = client.get(f"/api/v1/paid-use/bills/{world['bill_a']}/notice.pdf", headers=tb)
    missing = client.get("/api/v1/paid-use/bills/987654/notice.pdf", headers=tb)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["error"] == missing.json()["error"] == "bill_not_found"
    assert theirs.json()["detail"].replace(str(world["bill_a"]), "N") \
        == missing.json()["detail"].replace("987654", "N")
    officer = auth("officer")
    for url, code in (("/api/v1/trades/987654/confirmation.pdf", "trade_not_found"),
                      ("/api/v1/paid-use/bills/987654/notice.pdf", "bill_not_found"),
                      ("/api/v1/penalties/decision.pdf?number=nope", "penalty_decision_not_found")):
        r = client.get(url, headers=officer)
        assert r.status_code == 404 and r.json()["error"] == code, url
    for url in ("/api/v1/trades/0/confirmation.pdf", "/api/v1/trades/abc/confirmation.pdf",
                f"/api/v1/trades/{2**60}/confirmation.pdf",
                "/api/v1/paid-use/bills/-1/notice.pdf", "/api/v1/penalties/decision.pdf",
                "/api/v1/penalties/decision.pdf?number=" + "x" * 61):
        r = client.get(url, headers=officer)
        assert r.status_code == 422 and r.json()["error"], url
    ob = browser("officer")
    for url in ("/documents/trades/987654.pdf", "/documents/bills/987654.pdf",
                "/documents/penalty-decision.pdf?number=nope"):
        assert ob.get(url).status_code == 404, url
    for url in ("/documents/trades/abc.pdf", "/documents/bills/0.pdf",
                "/documents/penalty-decision.pdf"):
        assert ob.get(url).status_code == 422, url


# Excel exports -----------------------------------------------------------------------------

def test_no_enterprise_analyst_or_anonymous_visitor_exports_officer_lists(  # type: ignore[no-untyped-def]
        app, platform, client, browser) -> None:
    from web.pages.exports import EXPORT_PATHS

    _district_officer(platform)
    trader, analyst, officer, d02 = (browser(n) for n in ("trader_a", "analyst", "officer",
                                                          "d02"))
    trader_api = _bearer(platform, "trader_a")
    for path in sorted(EXPORT_PATHS):
        url = path + ".xlsx"
        r = client.get(url, follow_redirects=False)
        assert r.status_code in (303, 401) and not r.content.startswith(b"PK"), url
        for who, r in (("trader", trader.get(url)),
                       ("trader token", client.get(url, headers=trader_api))):
            assert r.status_code == 403 and not r.content.startswith(b"PK"), (who, url)
        r = analyst.get(url)
        if path == "/enterprises":  # the registry's search is an analyst's (registry:read)
            assert r.status_code == 200
        else:
            assert r.status_code == 403 and not r.content.startswith(b"PK"), url
    # the users list is the administrator's; the audit log the city bureau's
    assert officer.get("/admin/users.xlsx").status_code == 403
    assert d02.get("/bureau/audit.xlsx").status_code == 403
    # a district officer's export is its page's: the registry of its district only
    rows = list(load_workbook(io.BytesIO(d02.get("/enterprises.xlsx").content)).active
                .iter_rows(values_only=True))  # type: ignore[union-attr]
    assert len(rows) == 1  # the header: A and B lie in D01


def test_a_district_officer_exports_its_districts_bills_and_reports_only(  # type: ignore[no-untyped-def]
        world, platform, browser) -> None:  # noqa: F811
    _district_officer(platform)
    d02 = browser("d02")
    assert d02.get(f"/documents/bills/{world['bill_b']}.pdf").status_code == 404
    for path in ("/bureau/paid-use.xlsx", "/bureau/reports/missing.xlsx"):
        r = d02.get(path)
        assert r.status_code == 200
        cells = {v for ws in load_workbook(io.BytesIO(r.content))
                 for row in ws.iter_rows(values_only=True) for v in row}
        assert A not in cells and B not in cells, path  # both lie in D01


def test_exported_text_that_a_spreadsheet_would_run_is_inert(  # type: ignore[no-untyped-def]
        platform, spine, browser) -> None:
    """An enterprise name is text a user typed: written as a text cell flagged as such
    (Excel's quote prefix), so neither opening the file nor editing the cell runs it."""
    codes = {}
    for i, name in enumerate(FORMULAS):
        code = make_credit_code(f"91500000EEEEEEE{i:02d}")
        alloc.register_enterprise(platform.uow(), credit_code=code, name=name,
                                  sector="steel", district="D01")
        codes[code] = name
    r = browser("officer").get("/enterprises.xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws is not None
    found = {}
    for row in ws.iter_rows(min_row=2):
        name, code = row[0], row[1]
        if code.value in codes:
            found[code.value] = name
    assert set(found) == set(codes)
    for code, cell in found.items():
        assert cell.value == codes[code].replace("\r", "\n")  # the text, nothing added
        assert cell.data_type == "s" and cell.quotePrefix, (codes[code], cell.data_type)
    # an ordinary name keeps an ordinary cell
    plain = next(row[0] for row in ws.iter_rows(min_row=2) if row[1].value == A)
    assert plain.value == "Enterprise A" and not plain.quotePrefix


def test_excel_cells_unit() -> None:
    from web.exports import Column, Sheet, workbook

    data = workbook([(Sheet("Users", lambda c: [], (Column("Name", "n"),
                                                    Column("Qty", "q", "int"))),
                      [{"n": v, "q": -5} for v in FORMULAS] + [{"n": "'quoted", "q": 1}])],
                    "en")
    ws = load_workbook(io.BytesIO(data)).active
    assert ws is not None
    for i, v in enumerate(FORMULAS, start=2):
        cell = ws[f"A{i}"]
        assert cell.value == v.replace("\r", "\n")  # XML reads a CR back as a LF
        assert (cell.data_type, cell.quotePrefix) == ("s", True), v
        assert ws[f"B{i}"].value == -5 and ws[f"B{i}"].data_type == "n"  # a number stays one
    last = len(FORMULAS) + 2
    assert ws[f"A{last}"].value == "'quoted"


# notices -----------------------------------------------------------------------------------

def test_notices_are_the_recipients_alone(platform, spine, client, auth, browser) -> None:  # type: ignore[no-untyped-def]
    from notices import service as notices

    with platform.uow() as uow:
        notices.to_enterprise(uow, A, "bill_issued", "ref-a", dict(count=1, amount_fen=100))
        notices.to_officers(uow, "approval_waiting", 7, dict(action="confirm_rights",
                                                             by="officer2", target=spine["A"]))
        uow.commit()
    mine = client.get("/api/v1/notifications", headers=auth("trader_a")).json()
    (note,) = mine["items"]
    assert mine["unread"] == 1 and note["kind"] == "bill_issued"
    # B sees none of A's, nor the officers'; its count does not move with theirs
    theirs = client.get("/api/v1/notifications", headers=auth("trader_b")).json()
    assert theirs["items"] == [] and theirs["unread"] == 0
    assert client.get("/api/v1/workbench", headers=auth("trader_b")).json()["unread"] == 0
    officer_ids = [n["id"] for n in client.get("/api/v1/notifications",
                                               headers=auth("officer")).json()["items"]]
    assert officer_ids and note["id"] not in officer_ids
    # marking another's notice read changes nothing: by id, by "all", from the page
    r = client.post("/api/v1/notifications/read", headers=auth("trader_b"),
                    json={"ids": [note["id"], *officer_ids]})
    assert r.status_code == 200 and r.json() == {"marked": 0, "unread": 0}
    assert client.post("/api/v1/notifications/read", headers=auth("trader_b"),
                       json={"ids": None}).json()["marked"] == 0
    tb = browser("trader_b")
    tb.get("/notifications")
    r = tb.c.post("/notifications/read", data={"csrf_token": tb.csrf, "id": [str(note["id"])]},
                  follow_redirects=False)
    assert r.status_code == 303
    assert notices.unread_count(platform.uow(), "trader_a") == 1
    assert notices.unread_count(platform.uow(), "officer") == 1
    assert f"/enterprises/{A}/bills" not in tb.get("/notifications").text
    # nobody without a log-in reads or marks anything
    assert client.get("/api/v1/notifications").status_code == 401
    assert client.post("/api/v1/notifications/read", json={}).status_code == 401
    # the owner does
    r = client.post("/api/v1/notifications/read", headers=auth("trader_a"),
                    json={"ids": [note["id"]]})
    assert r.json() == {"marked": 1, "unread": 0}


# auction bids ------------------------------------------------------------------------------

def _cash(platform: Any, code: str) -> tuple[int, int]:
    """(balance, on hold) of the enterprise's cash, fen."""
    rows = [h for h in ledger_service.holdings(platform.uow(), [code]) if h["asset"] == "CNY"]
    return (sum(int(h["balance"]) for h in rows), sum(int(h["on_hold"]) for h in rows))


def _bids(platform: Any, aid: str) -> dict[str, str]:
    return {b["id"]: b["status"]
            for b in auctions.auction_view(platform.uow(), aid, reveal=True)["bids"]}


def _pending(platform: Any, bid: str) -> dict[str, tuple[str, int]]:
    """The bid's holds as the ledger has them: id → (state, remaining)."""
    from ledger.store import LedgerStore

    with platform.uow() as uow:
        found = LedgerStore(uow.session).load_pendings([f"{bid}:room", f"{bid}:cash"])
        return {k: (p.state, int(p.remaining)) for k, p in found.items()}


def test_a_bid_is_its_bidders_alone_and_only_while_open(  # type: ignore[no-untyped-def]
        floor, platform, client, auth, browser) -> None:  # noqa: F811
    aid = _open_auction(platform, floor["market"], "auc-rev")
    r = client.post(f"/api/v1/auctions/{aid}/bids", headers=auth("trader_b"),
                    json=dict(permit=floor["B"], qty=300, price=110_000))
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    held = _cash(platform, B)
    assert held[1] == 300 * 110_000 // 1000
    base = f"/api/v1/auctions/{aid}/bids/{bid}"
    # another enterprise, the bureau, an analyst, nobody: refused, nothing moves
    for headers, status in ((auth("trader_a"), 404), (auth("officer"), 403),
                            (auth("admin"), 403), (auth("analyst"), 403), ({}, 401)):
        assert client.post(base + "/withdraw", headers=headers).status_code == status
        r = client.post(base + "/replace", headers=headers, json=dict(qty=300, price=120_000))
        assert r.status_code == status
    # A's page with B's bid id: 404 like a missing bid; B's page as A: 404 (not A's)
    ta = browser("trader_a")
    ta.get(f"/enterprises/{A}/auctions")
    assert ta.post(f"/enterprises/{A}/auctions/bids/replace",
                   data=dict(bid=bid, qty="300", price_yuan="1300")).status_code == 404
    assert ta.post(f"/enterprises/{B}/auctions/bids/withdraw",
                   data=dict(bid=bid)).status_code == 404
    # B named under another auction: as missing
    r = client.post(f"/api/v1/auctions/auc-other/bids/{bid}/withdraw", headers=auth("trader_b"))
    assert r.status_code == 404 and r.json()["error"] == "bid_not_found"
    # below the reserve, or not a whole lot: refused, the old bid and its holds stand
    for qty, price, code in ((300, 99_999, "bid_below_reserve"),):
        r = client.post(base + "/replace", headers=auth("trader_b"),
                        json=dict(qty=qty, price=price))
        assert r.status_code == 422 and r.json()["error"] == code
    assert _cash(platform, B) == held and _bids(platform, aid) == {bid: "open"}
    assert _pending(platform, bid) == {f"{bid}:room": ("pending", 300),
                                       f"{bid}:cash": ("pending", held[1])}
    # after the close: neither withdrawn nor replaced, the deposit stays for the clearing
    auctions.close_auction(platform.uow(), aid, actor="officer")
    for action, body in (("withdraw", None), ("replace", dict(qty=300, price=120_000))):
        r = client.post(f"{base}/{action}", headers=auth("trader_b"), json=body)
        assert r.status_code == 409 and r.json()["error"] == "auction_wrong_state", action
    assert _cash(platform, B) == held and _bids(platform, aid) == {bid: "open"}


def test_replacing_keeps_deposit_and_headroom_balanced_in_every_path(  # type: ignore[no-untyped-def]
        floor, platform, client, auth) -> None:  # noqa: F811
    aid = _open_auction(platform, floor["market"], "auc-bal")
    cash0 = _cash(platform, B)
    r = client.post(f"/api/v1/auctions/{aid}/bids", headers=auth("trader_b"),
                    json=dict(permit=floor["B"], qty=400, price=120_000))
    first = r.json()["id"]

    def replace(bid: str, qty: int, price: int) -> Any:
        return client.post(f"/api/v1/auctions/{aid}/bids/{bid}/replace",
                           headers=auth("trader_b"), json=dict(qty=qty, price=price))

    up = replace(first, 800, 150_000)  # up: more held
    assert up.status_code == 201, up.text
    second = up.json()["id"]
    assert _cash(platform, B) == (cash0[0], cash0[1] + 800 * 150)
    assert _pending(platform, first) == {f"{first}:room": ("voided", 0),
                                         f"{first}:cash": ("voided", 0)} or all(
        state != "pending" for state, _ in _pending(platform, first).values())
    down = replace(second, 200, 100_000)  # down: the difference comes back
    assert down.status_code == 201
    third = down.json()["id"]
    assert _cash(platform, B) == (cash0[0], cash0[1] + 200 * 100)
    assert {k: v[0] for k, v in _pending(platform, third).items()} == {
        f"{third}:room": "pending", f"{third}:cash": "pending"}
    # a replacement the cash cannot cover is refused half-way (after the old holds were
    # voided): the whole transaction rolls back, the bid and its holds stand as they were
    r = replace(third, 1_000, 2 * cash0[0])
    assert r.status_code == 409 and r.json()["error"] == "insufficient_cash"
    # one beyond the permit's cap headroom: the same
    r = replace(third, 10**7, 100_000)
    assert r.status_code in (409, 422) and r.json()["error"] in (
        "cap_headroom_exceeded", "insufficient_cash")
    assert _cash(platform, B) == (cash0[0], cash0[1] + 200 * 100)
    assert _bids(platform, aid) == {first: "replaced", second: "replaced", third: "open"}
    assert {k: v[0] for k, v in _pending(platform, third).items()} == {
        f"{third}:room": "pending", f"{third}:cash": "pending"}
    r = client.post(f"/api/v1/auctions/{aid}/bids/{third}/withdraw", headers=auth("trader_b"))
    assert r.status_code == 200 and _cash(platform, B) == cash0


def test_a_bid_withdrawn_meanwhile_is_not_replaced(floor, platform, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """replace_bid reads the bid, then waits for the auction's lock; a withdrawal committed
    in between must be seen (the bid is read again under the lock), or one withdrawn bid
    would come back as a new one, its deposit held again."""
    aid = _open_auction(platform, floor["market"], "auc-race")
    bid = auctions.place_bid(platform.uow(), auction_id=aid, enterprise=B, permit=floor["B"],
                             qty=300, price=110_000, permits=platform.permits,
                             actor="trader_b")["id"]
    cash0 = _cash(platform, B)
    real = auctions._auction
    fired: list[str] = []
    postgres = platform.uow().__enter__().dialect == "postgresql"

    def racing(uow, store, auction_id, *states):  # type: ignore[no-untyped-def]
        if not fired:
            fired.append(auction_id)
            if postgres:  # another request withdraws it, committed before our lock
                auctions.withdraw_bid(platform.uow(), bid_id=bid, enterprise=B,
                                      actor="trader_b")
            else:  # SQLite serialises writers at BEGIN: the same change, made beside the ORM
                from sqlalchemy import update

                from trading.tables import AuctionBidRow

                uow.session.execute(update(AuctionBidRow.__table__).where(
                    AuctionBidRow.__table__.c.id == bid).values(status="withdrawn"))
        return real(uow, store, auction_id, *states)

    monkeypatch.setattr(auctions, "_auction", racing)
    with pytest.raises(DomainError) as e:
        auctions.replace_bid(platform.uow(), bid_id=bid, enterprise=B, qty=600,
                             price=120_000, permits=platform.permits, actor="trader_b")
    assert e.value.code == "bid_not_open"
    assert fired == [aid]
    if postgres:
        assert _bids(platform, aid) == {bid: "withdrawn"}
        assert _cash(platform, B) == (cash0[0], 0)


# bulk confirmation -------------------------------------------------------------------------

def test_a_batch_is_approved_once_and_never_by_its_proposer(  # type: ignore[no-untyped-def]
        platform, spine, client, auth, browser) -> None:
    from ledger.tables import JournalRow

    def entries() -> int:
        from sqlalchemy import func, select

        with platform.uow() as uow:
            return int(uow.session.scalar(select(func.count()).select_from(JournalRow)))

    assert identity.approval_required(platform.uow(), "confirmation")
    r = client.post("/api/v1/confirmations/batch", headers=auth("officer"),
                    json={"permits": [spine["A"], spine["B"]], "year": 2026})
    assert r.status_code == 202, r.text
    aid = r.json()["id"]
    before = entries()
    # the proposer cannot approve its own batch, by the API or the page
    r = client.post(f"/api/v1/approvals/{aid}/approve", headers=auth("officer"))
    assert r.status_code in (403, 409) and r.json()["error"] == "self_approval"
    me = browser("officer")
    me.get("/bureau/approvals")
    r = me.post(f"/bureau/approvals/{aid}/approve")
    assert r.status_code in (403, 409)
    assert entries() == before and identity.approval(platform.uow(), aid)["status"] == "pending"
    # a trader, an analyst or an officer of another department cannot either
    identity.create_user(platform.uow(), username="monitor", display_name="M",
                         role="bureau_officer", password="", department="monitoring",
                         password_hash=password_hash("monitor"))
    monitor = _bearer(platform, "monitor")
    for headers in (auth("trader_a"), auth("analyst"), monitor):
        assert client.post(f"/api/v1/approvals/{aid}/approve",
                           headers=headers).status_code == 403
    r = client.post("/api/v1/confirmations/batch", headers=monitor,
                    json={"permits": [spine["A"]], "year": 2026})
    assert r.status_code == 403
    # a second officer approves it once; the second approval changes nothing
    r = client.post(f"/api/v1/approvals/{aid}/approve", headers=auth("officer2"))
    assert r.status_code == 200 and r.json()["status"] == "executed"
    after = entries()
    assert after > before
    for who in ("officer2", "admin"):
        r = client.post(f"/api/v1/approvals/{aid}/approve", headers=auth(who))
        assert r.status_code == 409 and r.json()["error"] == "approval_not_pending"
    assert entries() == after
    # the batch proposed again (nothing waits now) is refused before it is stored
    r = client.post("/api/v1/confirmations/batch", headers=auth("officer"),
                    json={"permits": [spine["A"]], "year": 2026})
    assert r.status_code == 409
    assert identity.approvals(platform.uow(), status="pending")["total"] == 0


def test_another_districts_officer_neither_sees_nor_approves_a_batch(  # type: ignore[no-untyped-def]
        platform, spine, client, auth) -> None:
    d02 = _bearer(platform, _district_officer(platform))
    r = client.post("/api/v1/confirmations/batch", headers=auth("officer"),
                    json={"permits": [spine["A"]], "year": 2026})
    aid = r.json()["id"]
    r = client.post(f"/api/v1/approvals/{aid}/approve", headers=d02)
    assert r.status_code == 404
    assert identity.approval(platform.uow(), aid)["status"] == "pending"
    r = client.post("/api/v1/confirmations/batch", headers=d02,
                    json={"permits": [spine["A"]], "year": 2026})
    assert r.status_code == 404 and r.json()["field"] == "permits[0]"
    q = client.get("/api/v1/confirmations/queue?year=2026&district=D01", headers=d02).json()
    assert q["total"] == 0  # its own district, whatever it asks for


# flash and the password ----------------------------------------------------------------------

def test_no_notice_from_the_url(browser) -> None:  # type: ignore[no-untyped-def]
    me = browser("trader_a")
    for url in ("/?msg=Official%20notice%20X9", "/notifications?err=Official%20notice%20X9",
                "/account/password?msg=Official%20notice%20X9&err=X9"):
        r = me.get(url)
        assert r.status_code == 200 and "Official notice X9" not in r.text, url


def _wrong(me: Browser, n: int = 1) -> Any:
    r = None
    for _ in range(n):
        r = me.post("/account/password", dict(old_password="guess-123",
                                              new_password="new-pw-123",
                                              new_password_again="new-pw-123"))
    return r


def test_password_change_cannot_be_used_to_guess_the_password(app, browser, spine) -> None:  # type: ignore[no-untyped-def]
    """Someone holding a stale or stolen session must not try current passwords without
    limit: after 5 wrong ones the change is refused for a while, with a message saying until
    when (Beijing time), even with the right password, and log-in counts are untouched."""
    me = browser("trader_a")
    me.get("/account/password")
    for _ in range(4):
        r = _wrong(me)
        assert r.status_code == 422 and "当前密码不正确" in r.text
    r = _wrong(me)  # the fifth: wrong, and now refused for a while
    assert r.status_code == 422 and "北京时间" in r.text
    r = me.post("/account/password", dict(old_password="pw-trader_a",
                                          new_password="new-pw-123",
                                          new_password_again="new-pw-123"))
    assert r.status_code == 429 and re.search(r"北京时间 \d{4}-\d\d-\d\d \d\d:\d\d", r.text)
    assert r.headers.get("retry-after", "").isdigit()
    with TestClient(app) as c:  # the password is unchanged and log-in works as before
        login(c, "trader_a", "pw-trader_a")


def test_password_change_api_is_throttled_too(client, auth) -> None:  # type: ignore[no-untyped-def]
    officer = auth("officer")
    for _ in range(5):
        r = client.post("/api/v1/account/password", headers=officer,
                        json={"old_password": "nope-nope", "new_password": "new-pw-123"})
        assert r.status_code == 422 and r.json()["error"] == "wrong_password"
    r = client.post("/api/v1/account/password", headers=officer,
                    json={"old_password": "pw-officer", "new_password": "new-pw-123"})
    assert r.status_code == 429 and r.json()["error"] == "too_many_attempts"
    assert int(r.headers["retry-after"]) > 60
    # another user is not affected
    r = client.post("/api/v1/account/password", headers=auth("officer2"),
                    json={"old_password": "pw-officer2", "new_password": "new-pw-123"})
    assert r.status_code == 200


def test_password_change_refusal_lasts_until_the_window_ends(platform, spine) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    from identity import account_service as account
    from identity.errors import TooManyAttempts, WrongPassword

    limits = identity.LoginLimits(per_pair=2, window=timedelta(minutes=10))
    t0 = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)

    def change(old: str, at: datetime) -> Any:
        return account.change_password(platform.uow(), username="analyst", old_password=old,
                                       new_password="new-pw-123", limits=limits, now=at)

    with pytest.raises(WrongPassword) as wrong:
        change("guess-1", t0)
    assert wrong.value.retry_after is None
    with pytest.raises(WrongPassword) as wrong:
        change("guess-2", t0 + timedelta(minutes=1))
    assert wrong.value.retry_after == 9 * 60  # the window opened at t0
    with pytest.raises(TooManyAttempts) as refused:
        change("pw-analyst", t0 + timedelta(minutes=9, seconds=30))
    assert refused.value.retry_after == 30
    out = change("pw-analyst", t0 + timedelta(minutes=10))  # a new window: right is right
    assert out.username == "analyst"


# CSRF --------------------------------------------------------------------------------------

NEW_POSTS = ("/notifications/read", "/account/password",
             f"/enterprises/{A}/auctions/bids/withdraw", f"/enterprises/{A}/auctions/bids/replace",
             "/bureau/confirmations/batch", "/api/v1/notifications/read",
             "/api/v1/account/password", "/api/v1/auctions/x/bids/y/withdraw",
             "/api/v1/auctions/x/bids/y/replace", "/api/v1/confirmations/batch",
             "/api/v1/auctions/x/schedule", "/bureau/auctions/schedule")


@pytest.mark.parametrize("who", ["trader_a", "officer"])
def test_new_forms_and_api_writes_need_the_csrf_token_with_a_session(browser, who) -> None:  # type: ignore[no-untyped-def]
    me = browser(who)
    for url in NEW_POSTS:
        tries: tuple[dict[str, Any], ...] = (
            {"data": {"bid": "y"}}, {"data": {"bid": "y", "csrf_token": "0" * 64}})
        if url.startswith("/api/"):
            tries = ({"json": {}}, {"json": {}, "headers": {"X-CSRF-Token": "0" * 64}})
        for kw in tries:
            r = me.c.post(url, follow_redirects=False, **kw)
            assert r.status_code == 403 and "csrf" in r.text.lower(), (url, kw, r.status_code)


def test_every_write_route_installs_the_csrf_check(app) -> None:  # type: ignore[no-untyped-def]
    """Structural: each POST, PUT, PATCH or DELETE route of the app (pages and API, those of
    issue 18 included) runs `csrf_protect` among its dependencies."""
    from fastapi.routing import APIRoute

    from web.auth import csrf_protect

    def calls(dependant: Any) -> set[Any]:
        out = set()
        for d in dependant.dependencies:
            out.add(d.call)
            out |= calls(d)
        return out

    def routes(rs: Any, deps: frozenset[Any] = frozenset()) -> Any:
        for r in rs:
            if isinstance(r, APIRoute):
                yield r, deps
                continue
            inner = getattr(r, "original_router", None)  # a router included in the app
            ctx = getattr(r, "include_context", None)
            if inner is not None:
                yield from routes(inner.routes, deps | {
                    d.dependency for d in (getattr(ctx, "dependencies", None) or [])})

    unsafe = [(r, deps) for r, deps in routes(app.router.routes)
              if set(r.methods or ()) & {"POST", "PUT", "PATCH", "DELETE"}]
    assert len(unsafe) > 50
    missing = [r.path for r, deps in unsafe
               if csrf_protect not in calls(r.dependant) | deps]
    assert missing == []
