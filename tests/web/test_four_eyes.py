"""Four-eyes without exception (issue 19): every transaction type that needs a second officer
needs one on every path (the raw ledger routes, the domain routes, the pages, the CLI),
administrators included; a request is validated in full when it is made.

Runs on SQLite, and on PostgreSQL with TEST_DATABASE_URL set."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from allocation import service as alloc
from identity import service as identity
from ledger import service as ledger
from ledger.transactions import AccountKind
from tests.web.flash_support import notice, notice_has

pytestmark = pytest.mark.db
API = "/api/v1/ledger"
ADMIN = {"initiator": "bureau", "actor": "admin"}


def _accounts(platform: Any, permit: str) -> dict[str, int]:
    """The bureau reserve, A's confirmed and tradable SO2 2026 accounts, A's and B's cash."""
    now = datetime.now(UTC)
    with platform.uow() as uow:
        reserve = ledger.ensure_rights_accounts(
            uow, holder=ledger.BUREAU, pollutant="SO2", zone="ZA1", vintage=2026,
            kinds=[AccountKind.RESERVE, AccountKind.SETTLEMENT], now=now)
        mine = ledger.ensure_rights_accounts(
            uow, holder=permit, pollutant="SO2", zone="ZA1", vintage=2026,
            kinds=[AccountKind.CONFIRMED, AccountKind.TRADABLE], now=now)
        from tests.integration.spine import A, B

        cash_a = ledger.ensure_cash_account(uow, A, now)
        cash_b = ledger.ensure_cash_account(uow, B, now)
        bank = ledger.bank_account(uow, now)
        uow.commit()
    return dict(reserve=reserve[AccountKind.RESERVE],
                settlement=reserve[AccountKind.SETTLEMENT],
                confirmed=mine[AccountKind.CONFIRMED], tradable=mine[AccountKind.TRADABLE],
                cash_a=cash_a, cash_b=cash_b, bank=bank)


def _balance(platform: Any, account: int) -> int:
    return int(ledger.account_view(platform.uow(), account)["balance"])  # type: ignore[call-overload]


def _pending(platform: Any) -> list[dict[str, Any]]:
    return list(identity.approvals(platform.uow(), status="pending")["items"])


def _one(body: dict[str, Any], **transfer: Any) -> dict[str, Any]:
    return {**body, "transfers": [transfer]}


def test_raw_ledger_refuses_domain_types_even_for_an_administrator(
        client, spine, auth, platform) -> None:  # type: ignore[no-untyped-def]
    """The reproduction: an administrator alone moved confirmed rights with a raw
    `confirmation`, leaving the permit and the ledger disagreeing while verify passed."""
    pa = spine["A"]
    acc = _accounts(platform, pa)
    admin = auth("admin")
    reserve_before = _balance(platform, acc["reserve"])
    cases = [
        ("confirmation", acc["reserve"], acc["confirmed"], "/confirmations"),
        ("reserve_release", acc["reserve"], acc["confirmed"], "/reserve/plans"),
        ("recovery", acc["confirmed"], acc["reserve"], "/revocations"),
        ("reserve_buyback", acc["tradable"], acc["reserve"], "/standard-decisions"),
        ("verification", acc["confirmed"], acc["tradable"], "/surplus-verifications"),
        ("issuance", acc["bank"], acc["reserve"], "indicator"),
        ("surrender", acc["confirmed"], acc["reserve"], "/true-ups"),
        ("reversal", 0, 0, "/reversal"),
    ]
    for i, (tx_type, debit, credit, route) in enumerate(cases):
        for phase in ("single", "pending"):
            r = client.post(f"{API}/transfers", headers=admin, json=_one(
                ADMIN, id=f"raw-{i}-{phase}", type=tx_type, debit_account=debit,
                credit_account=credit, amount=500, phase=phase))
            assert r.status_code == 409, (tx_type, r.text)
            assert r.json()["error"] == "domain_route_required" and route in r.json()["detail"]
            assert r.json()["field"] == "type"
    # rights move raw only as a cancellation out of the reserve: a "transfer" of reserve
    # rights into settlement (then on to a permit) is refused too, and so is a cancellation
    # of a permit's rights
    r = client.post(f"{API}/transfers", headers=admin, json=_one(
        ADMIN, id="raw-t", type="transfer", debit_account=acc["reserve"],
        credit_account=acc["settlement"], amount=500))
    assert (r.status_code, r.json()["error"], r.json()["field"]) == (
        409, "domain_route_required", "debit_account")
    r = client.post(f"{API}/transfers", headers=admin, json=_one(
        ADMIN, id="raw-c", type="cancellation", debit_account=acc["confirmed"],
        credit_account=acc["reserve"], amount=1))
    assert (r.status_code, r.json()["error"]) == (409, "domain_route_required")
    # unlinked batches are screened the same way, before anything is applied
    r = client.post(f"{API}/transfers", headers=admin, json={**ADMIN, "linked": False,
                    "transfers": [
                        {"id": "u-ok", "type": "transfer", "debit_account": acc["cash_b"],
                         "credit_account": acc["cash_a"], "amount": 1},
                        {"id": "u-bad", "type": "confirmation", "debit_account": acc["reserve"],
                         "credit_account": acc["confirmed"], "amount": 1}]})
    assert (r.status_code, r.json()["error"]) == (409, "domain_route_required")
    assert ledger.entry_of(platform.uow(), "u-ok") is None
    assert _balance(platform, acc["reserve"]) == reserve_before
    assert _balance(platform, acc["confirmed"]) == 0
    assert _pending(platform) == []
    assert ledger.verify(platform.uow()).ok
    # money still moves raw between cash accounts (no second officer for "transfer")
    r = client.post(f"{API}/transfers", headers=admin, json=_one(
        ADMIN, id="cash-1", type="transfer", debit_account=acc["cash_b"],
        credit_account=acc["cash_a"], amount=7))
    assert r.status_code == 201, r.text


def test_pending_rights_are_posted_and_voided_only_by_their_route(
        client, spine, auth, platform) -> None:  # type: ignore[no-untyped-def]
    """A hold of rights (an auction's or a listing's) is not posted or voided raw, whatever
    type the raw post claims."""
    from ledger.entries import Transfer
    from ledger.transactions import Initiator

    acc = _accounts(platform, spine["A"])
    ledger.submit(platform.uow, [Transfer("hold-1", "transfer", acc["reserve"],
                                          acc["settlement"], 100, phase="pending")],
                  initiator=Initiator.SYSTEM, actor="listing")
    admin = auth("admin")
    r = client.post(f"{API}/pending/hold-1/post", headers=admin, json={**ADMIN, "id": "p1"})
    assert (r.status_code, r.json()["error"]) == (409, "domain_route_required")
    r = client.post(f"{API}/transfers", headers=admin, json=_one(
        ADMIN, id="p2", type="transfer", phase="post", pending_id="hold-1"))
    assert (r.status_code, r.json()["error"]) == (409, "domain_route_required")
    r = client.post(f"{API}/pending/hold-1/void", headers=admin, json={**ADMIN, "id": "v1"})
    assert (r.status_code, r.json()["error"]) == (409, "domain_route_required")
    assert ledger.entry_of(platform.uow(), "p1") is None
    assert ledger.entry_of(platform.uow(), "v1") is None


def test_bureau_deposit_needs_a_second_officer_and_is_bounded(
        client, spine, auth, platform) -> None:  # type: ignore[no-untyped-def]
    """The reproduction: an administrator alone deposited 10^11 fen."""
    acc = _accounts(platform, spine["A"])
    admin = auth("admin")
    before = _balance(platform, acc["cash_a"])
    r = client.post(f"{API}/transfers", headers=admin, json=_one(
        ADMIN, id="dep-huge", type="deposit", debit_account=acc["bank"],
        credit_account=acc["cash_a"], amount=10**11))
    assert (r.status_code, r.json()["error"], r.json()["field"]) == (
        422, "amount_above_limit", "amount")
    # claiming to be the system does not skip the second officer either
    for initiator in ("bureau", "system"):
        r = client.post(f"{API}/transfers", headers=admin, json=_one(
            {"initiator": initiator, "actor": "admin"}, id=f"dep-{initiator}",
            type="deposit", debit_account=acc["bank"], credit_account=acc["cash_a"],
            amount=5_000))
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "pending" and r.json()["tx_type"] == "deposit"
    assert _balance(platform, acc["cash_a"]) == before
    aid = r.json()["id"]
    # an invalid deposit is refused now, with the ledger's own code, and not queued
    r = client.post(f"{API}/transfers", headers=admin, json=_one(
        ADMIN, id="dep-nowhere", type="deposit", debit_account=acc["bank"],
        credit_account=999_999, amount=5))
    assert (r.status_code, r.json()["error"]) == (404, "account_not_found")
    r = client.post(f"{API}/transfers", headers=admin, json={**ADMIN, "linked": False,
                    "transfers": [{"id": "dep-u", "type": "deposit",
                                   "debit_account": acc["bank"],
                                   "credit_account": acc["cash_a"], "amount": 5}]})
    assert (r.status_code, r.json()["error"]) == (422, "approval_needs_linked_batch")
    assert len(_pending(platform)) == 2
    # the administrator cannot approve its own request; another officer can
    r = client.post(f"/api/v1/approvals/{aid}/approve", headers=admin)
    assert (r.status_code, r.json()["error"]) == (403, "self_approval")
    r = client.post(f"/api/v1/approvals/{aid}/approve", headers=auth("officer"))
    assert r.status_code == 200 and r.json()["status"] == "executed", r.text
    assert _balance(platform, acc["cash_a"]) == before + 5_000
    e = ledger.entry_of(platform.uow(), "dep-system")
    assert e is not None and e.amount == 5_000
    # a withdrawal (money leaves) needs one too
    r = client.post(f"{API}/transfers", headers=admin, json=_one(
        ADMIN, id="wd-1", type="withdrawal", debit_account=acc["cash_b"],
        credit_account=acc["bank"], amount=100))
    assert r.status_code == 202 and r.json()["tx_type"] == "withdrawal"
    # repeating a posted batch moves nothing: it is answered as the replay it is
    r = client.post(f"{API}/transfers", headers=admin, json=_one(
        {"initiator": "system", "actor": "admin"}, id="dep-system", type="deposit",
        debit_account=acc["bank"], credit_account=acc["cash_a"], amount=5_000))
    assert r.status_code == 200 and r.json()["replayed"], r.text
    assert ledger.verify(platform.uow()).ok


def test_pending_deposit_is_posted_only_with_a_second_officer(
        client, spine, auth, platform) -> None:  # type: ignore[no-untyped-def]
    from ledger.entries import Transfer
    from ledger.transactions import Initiator

    acc = _accounts(platform, spine["A"])
    ledger.submit(platform.uow, [Transfer("dep-hold", "deposit", acc["bank"], acc["cash_a"],
                                          300, phase="pending")],
                  initiator=Initiator.SYSTEM, actor="bank")
    before = _balance(platform, acc["cash_a"])
    admin = auth("admin")
    r = client.post(f"{API}/pending/dep-hold/post", headers=admin, json={**ADMIN, "id": "dp"})
    assert r.status_code == 202 and r.json()["tx_type"] == "deposit", r.text
    assert _balance(platform, acc["cash_a"]) == before
    r = client.post(f"/api/v1/approvals/{r.json()['id']}/approve", headers=auth("officer2"))
    assert r.json()["status"] == "executed", r.text
    assert _balance(platform, acc["cash_a"]) == before + 300
    # voiding moves nothing: no second officer
    ledger.submit(platform.uow, [Transfer("dep-hold2", "deposit", acc["bank"], acc["cash_a"],
                                          300, phase="pending")],
                  initiator=Initiator.SYSTEM, actor="bank")
    r = client.post(f"{API}/pending/dep-hold2/void", headers=admin, json={**ADMIN, "id": "dv"})
    assert r.status_code == 201, r.text


def test_reversal_needs_a_second_officer_and_keeps_the_permit(
        client, spine, auth, platform) -> None:  # type: ignore[no-untyped-def]
    pa = spine["A"]
    done = alloc.confirm_rights(platform.uow(), permit=pa, pollutant="SO2", year=2026,
                                actor="test")
    admin = auth("admin")
    r = client.post(f"{API}/transfers/{done.transfer_id}/reversal", headers=admin,
                    json={**ADMIN, "id": "rev-1", "amount": 100})
    assert r.status_code == 202 and r.json()["tx_type"] == "reversal", r.text
    assert ledger.entry_of(platform.uow(), "rev-1") is None
    # refused at request time, as the direct reversal would be; nothing queued
    for target, amount, status, code in (("nope", 0, 404, "not_found"),
                                         (done.transfer_id, 10**9, 409, "")):
        r = client.post(f"{API}/transfers/{target}/reversal", headers=admin,
                        json={**ADMIN, "id": f"rev-{target[:4]}-{amount}", "amount": amount})
        assert r.status_code == status and code in r.json()["error"], r.text
    (req,) = _pending(platform)
    r = client.post(f"/api/v1/approvals/{req['id']}/approve", headers=auth("officer"))
    assert r.json()["status"] == "executed", r.text
    view = alloc.permit_view(platform.uow(), pa, events=0)
    q = next(x for x in view["quantities"] if x["pollutant"] == "SO2")  # type: ignore[union-attr,attr-defined]
    acc = _accounts(platform, pa)
    assert _balance(platform, acc["confirmed"]) == done.qty_kg - 100
    assert q["permitted_kg"] >= _balance(platform, acc["confirmed"])
    assert ledger.verify(platform.uow()).ok


INVALID_CONFIRMATIONS = [
    ("A", {"pollutant": "CO2", "year": 2026}),
    ("A", {"pollutant": "SO2", "year": 2026, "qty_kg": 10**15}),
    ("A", {"pollutant": "SO2", "year": 2026, "qty_kg": 99_999}),  # above the cap
    ("A", {"pollutant": "SO2", "year": 2035}),  # outside the permit's validity
    ("A", {"pollutant": "SO2", "year": 2027}),  # no quantity for that year
    ("missing", {"pollutant": "SO2", "year": 2026}),
]


def test_invalid_confirmations_are_refused_when_requested(
        client, spine, auth, platform) -> None:  # type: ignore[no-untyped-def]
    """The reproduction: invalid confirmations were queued and failed only at approval. Each
    is now refused at request time with exactly the answer of the direct action."""
    codes = {**spine, "missing": "PERMIT-THAT-IS-NOT"}
    asked = []
    for who in ("officer", "admin"):
        for tag, body in INVALID_CONFIRMATIONS:
            r = client.post(f"/api/v1/permits/{codes[tag]}/confirmations", headers=auth(who),
                            json=body)
            asked.append((r.status_code, r.json().get("error")))
            assert 400 <= r.status_code < 500, (body, r.text)
    assert _pending(platform) == []
    identity.set_approval_policy(platform.uow(), tx_type="confirmation", required=False,
                                 actor="test")
    direct = []
    for who in ("officer", "admin"):
        for tag, body in INVALID_CONFIRMATIONS:
            r = client.post(f"/api/v1/permits/{codes[tag]}/confirmations", headers=auth(who),
                            json=body)
            direct.append((r.status_code, r.json().get("error")))
    assert asked == direct
    assert asked[:6] == [(422, "invalid_input"), (409, "confirmation_above_cap"),
                         (409, "confirmation_above_cap"), (422, "year_outside_permit"),
                         (404, "permitted_quantity_not_found"), (404, "permit_not_found")]


def test_invalid_confirmation_on_the_page_is_refused_and_not_queued(
        browser, spine, platform) -> None:  # type: ignore[no-untyped-def]
    b = browser("officer")
    b.get("/bureau")
    r = b.post("/bureau/confirmations", data=dict(permit=spine["A"], pollutant="SO2",
                                                  year="2026", qty_kg="99999"))
    assert r.status_code == 409 and 'class="field-error"' in r.text, r.text[-2000:]
    assert _pending(platform) == []
    r = b.post("/bureau/confirmations", data=dict(permit=spine["A"], pollutant="SO2",
                                                  year="2026", qty_kg=""),
               follow_redirects=False)
    text = notice(b, r)  # what waits, in words (issue 18)
    assert r.status_code == 303 and "等待第二名经办人审批" in text and "Enterprise A" in text
    assert len(_pending(platform)) == 1


@pytest.fixture
def district_officer(platform, spine) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """An officer of district D02 (A and B are in D01), with a bearer token."""
    from tests.web.conftest import password_hash

    alloc.register_area(platform.uow(), zones=[], districts=[("D02", "District 2", "ZA1",
                                                              "ZW1")])
    identity.create_user(platform.uow(), username="d2", display_name="D2",
                         role="bureau_officer", password="", district="D02",
                         password_hash=password_hash("d2"))
    token = identity.create_token(platform.uow(), name="t",
                                  owner=identity.principal_of(platform.uow(), "d2"))[0]
    return {"Authorization": f"Bearer {token}"}


def test_approver_is_another_person_within_its_district(
        client, spine, auth, platform, district_officer) -> None:  # type: ignore[no-untyped-def]
    pa = spine["A"]
    r = client.post(f"/api/v1/permits/{pa}/confirmations", headers=auth("admin"),
                    json={"pollutant": "SO2", "year": 2026})
    assert r.status_code == 202, r.text
    aid = r.json()["id"]
    r = client.post(f"/api/v1/approvals/{aid}/approve", headers=auth("admin"))
    assert (r.status_code, r.json()["error"]) == (403, "self_approval")
    # a district officer neither sees nor decides a request about another district's permit
    r = client.post(f"/api/v1/approvals/{aid}/approve", headers=district_officer)
    assert (r.status_code, r.json()["error"]) == (404, "approval_not_found")
    r = client.post(f"/api/v1/approvals/{aid}/reject", headers=district_officer, json={})
    assert r.status_code == 404
    assert client.get(f"/api/v1/approvals/{aid}", headers=district_officer).status_code == 404
    assert identity.approval(platform.uow(), aid)["status"] == "pending"
    r = client.post(f"/api/v1/approvals/{aid}/approve", headers=auth("officer"))
    assert r.status_code == 200 and r.json()["status"] == "executed", r.text
    assert r.json()["decided_by"] == "officer"


def test_cli_files_an_approval_request_instead_of_recovering_alone(
        spine, platform, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """`erts permits revoke` recovers rights ("recovery" needs a second officer by default):
    the CLI files the request, validated first, and another officer approves it."""
    from app.cli import main
    from identity.roles import Principal
    from web import approvals

    pa = spine["A"]
    monkeypatch.setenv("DATABASE_URL", platform.settings.database_url)
    alloc.confirm_rights(platform.uow(), permit=pa, pollutant="SO2", year=2026, actor="test")
    code = main(["permits", "revoke", "--permit", pa, "--reason", "decision", "--on",
                 "2026-06-01", "--actor", "officer"])
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert code == 0 and doc["status"] == "pending" and "approval request" in err
    assert alloc.permit_view(platform.uow(), pa, events=0)["status"] == "valid"
    # invalid requests are refused at once (exit 2), nothing filed
    code = main(["permits", "revoke", "--permit", "NOPE", "--reason", "x", "--actor",
                 "officer"])
    assert code == 2 and "not_found" in capsys.readouterr().err
    assert len(_pending(platform)) == 1
    officer: Principal = identity.principal_of(platform.uow(), "officer")
    with pytest.raises(Exception) as exc:
        approvals.approve(platform, officer, doc["id"])
    assert getattr(exc.value, "code", "") == "self_approval"
    out2 = approvals.approve(platform, identity.principal_of(platform.uow(), "officer2"),
                             doc["id"])
    assert out2["status"] == "executed", out2
    assert alloc.permit_view(platform.uow(), pa, events=0)["status"] == "revoked"
    assert ledger.verify(platform.uow()).ok


def test_dropping_a_requirement_needs_a_second_officer(
        client, spine, auth, platform, browser) -> None:  # type: ignore[no-untyped-def]
    """Else an administrator alone could switch four-eyes off, act alone, switch it on."""
    admin = auth("admin")

    def required(tx_type: str) -> bool:
        return identity.approval_required(platform.uow(), tx_type)

    r = client.put("/api/v1/approval-policy/deposit", headers=admin, json={"required": False})
    assert r.status_code == 202 and r.json()["target"] == "deposit", r.text
    assert required("deposit")
    aid = r.json()["id"]
    r = client.post(f"/api/v1/approvals/{aid}/approve", headers=admin)
    assert (r.status_code, r.json()["error"]) == (403, "self_approval")
    # on the page too
    b = browser("admin")
    b.get("/bureau/approvals")
    r = b.post("/bureau/approvals/policy", data=dict(tx_type="recovery", required="false"),
               follow_redirects=False)
    assert r.status_code == 303 and notice_has(b, r, "pending", "等待", "审批")
    assert required("recovery")
    r = client.post(f"/api/v1/approvals/{aid}/approve", headers=auth("officer"))
    assert r.json()["status"] == "executed", r.text
    assert not required("deposit")
    # turning a requirement on takes effect at once
    r = client.put("/api/v1/approval-policy/negotiated_transfer", headers=admin,
                   json={"required": True})
    assert r.status_code == 200 and r.json()["required"] is True
    assert required("negotiated_transfer")
    r = client.put("/api/v1/approval-policy/nonsense", headers=admin, json={"required": True})
    assert r.status_code == 422
