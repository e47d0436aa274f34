"""The ledger API contract: status codes, the error body, idempotency, exports."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from tests.integration.ledger.conftest import Books, make_books, tamper

pytestmark = pytest.mark.db
API = "/api/v1/ledger"
BUREAU = {"initiator": "bureau", "actor": "officer"}
ENT = {"initiator": "enterprise", "actor": "e1"}


@pytest.fixture
def books(platform) -> Books:  # type: ignore[no-untyped-def]
    """Seeded now: the API runs on the system clock (reversal windows count from it)."""
    return make_books(platform, datetime.now(UTC))


@pytest.fixture
def client(platform):  # type: ignore[no-untyped-def]
    """A client with a bureau administrator's bearer token (ledger reads and writes)."""
    from identity import service as identity
    from web.app import create_app

    identity.create_user(platform.uow(), username="ledger_admin", display_name="Ledger admin",
                         role="bureau_admin", password="", enterprise=None,
                         password_hash="!no-password-log-in")  # token only
    token = identity.create_token(platform.uow(), name="test",
                                  owner=identity.principal_of(platform.uow(), "ledger_admin"))[0]
    with TestClient(create_app(platform.settings, platform),
                    headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


@pytest.mark.parametrize("group_commit", [True, False], ids=["writer", "per_batch"])
def test_transfers_post_void_and_errors(platform, client: TestClient, books: Books,  # type: ignore[no-untyped-def]
                                        group_commit: bool) -> None:
    platform.settings.ledger_group_commit = group_commit
    body = {**ENT, "transfers": [
        {"id": "a1", "type": "transfer", "debit_account": books.cash1,
         "credit_account": books.cash2, "amount": 100},
        {"id": "a2", "type": "transfer", "debit_account": books.cash1,
         "credit_account": books.cash2, "amount": 50, "phase": "pending"}]}
    r = client.post(f"{API}/transfers", json=body)
    assert r.status_code == 201, r.text
    assert [x["status"] for x in r.json()["results"]] == ["created", "created"]
    again = client.post(f"{API}/transfers", json=body)
    assert again.status_code == 200 and again.json()["replayed"]
    body["transfers"][0]["amount"] = 101  # type: ignore[index]
    r = client.post(f"{API}/transfers", json=body)
    assert r.status_code == 409
    assert r.json() == {"error": "id_conflict", "detail": r.json()["detail"], "field": "amount"}
    r = client.post(f"{API}/pending/a2/post", json={**ENT, "id": "a2:p", "amount": 20})
    assert r.status_code == 201 and r.json()["results"][0]["entry"]["amount"] == 20
    r = client.post(f"{API}/pending/a2/void", json={**ENT, "id": "a2:v"})
    assert r.status_code == 201 and r.json()["results"][0]["entry"]["amount"] == 30
    r = client.post(f"{API}/pending/a2/post", json={**ENT, "id": "a2:p2"})
    assert r.status_code == 409 and r.json()["error"] == "pending_voided"
    r = client.post(f"{API}/pending/nope/post", json={**ENT, "id": "n:p"})
    assert r.status_code == 404 and r.json()["error"] == "pending_not_found"
    bad = [({"debit_account": 99_999}, 404, "account_not_found"),
           ({"credit_account": books.c1}, 422, "asset_mismatch"),
           ({"amount": 0}, 422, "non_positive_amount"),
           ({"amount": 10**9}, 409, "insufficient_balance"),
           ({"amount": 1.5}, 422, "invalid_input")]
    for i, (change, status, code) in enumerate(bad):
        t = {"id": f"bad{i}", "type": "transfer", "debit_account": books.cash1,
             "credit_account": books.cash2, "amount": 5, **change}
        r = client.post(f"{API}/transfers", json={**ENT, "transfers": [t]})
        assert (r.status_code, r.json()["error"]) == (status, code), (change, r.text)
    r = client.post(f"{API}/transfers", json={**ENT, "linked": False, "transfers": [
        {"id": "u1", "type": "transfer", "debit_account": books.cash1,
         "credit_account": books.cash2, "amount": 5},
        {"id": "u2", "type": "transfer", "debit_account": books.cash1,
         "credit_account": books.cash2, "amount": 10**9}]})
    assert r.status_code == 200
    assert [(x["status"], x["error"]) for x in r.json()["results"]] == [
        ("created", None), ("rejected", "insufficient_balance")]
    codes = [x["code"] for x in client.get(f"{API}/rejections").json()]
    assert "insufficient_balance" in codes and "id_conflict" in codes
    # linked batches went through the group-commit writer, or none did
    assert (platform._writer is not None and platform._writer.groups >= 1) == group_commit


def test_accounts_freeze_reverse_verify_reconcile_export(platform, client: TestClient,  # type: ignore[no-untyped-def]
                                                         books: Books, db_url: str) -> None:
    r = client.get(f"{API}/accounts/{books.c1}")
    assert r.status_code == 200 and r.json()["balance"] == 2500
    assert r.json()["upper_limit"] == 5000
    assert client.get(f"{API}/accounts/99999").json()["error"] == "account_not_found"
    r = client.post(f"{API}/accounts/{books.c1}/freeze", json={**ENT, "reason": "x"})
    assert r.status_code == 403 and r.json()["error"] == "initiator_not_allowed"
    r = client.post(f"{API}/accounts/{books.c1}/freeze", json={**BUREAU, "reason": "closure"})
    assert r.status_code == 200 and r.json()["frozen"]
    from identity import service as identity  # four-eyes: tests/web/test_four_eyes.py

    identity.set_approval_policy(platform.uow(), tx_type="reversal", required=False,
                                 actor="test")
    r = client.post(f"{API}/transfers/seed:confirm1/reversal",
                    json={**BUREAU, "id": "rev", "amount": 100})
    assert r.status_code == 201, r.text
    r = client.post(f"{API}/accounts/{books.c1}/unfreeze", json={**BUREAU, "reason": "ok"})
    assert r.status_code == 200 and not r.json()["frozen"]
    r = client.get(f"{API}/accounts/{books.c1}/balance",
                   params={"as_of": "2020-06-01T02:00:00Z"})
    assert r.status_code == 200 and r.json()["balance"] == 0
    assert client.get(f"{API}/accounts/{books.c1}/balance").json()["balance"] == 2400
    r = client.get(f"{API}/accounts/{books.c1}/statement")
    assert [x["id"] for x in r.json()["lines"]] == ["seed:confirm1", "seed:verify1", "rev"]
    assert r.json()["closing"]["balance"] == 2400
    assert client.get(f"{API}/holders/P1/entries").status_code == 200
    assert client.get(f"{API}/transaction-types").json()[0]["name"] == "issuance"
    v = client.get(f"{API}/verify").json()
    assert v["ok"] and v["entries"] == 7
    csv_ = client.get(f"{API}/export.csv")
    assert csv_.status_code == 200 and csv_.headers["content-type"].startswith("text/csv")
    assert csv_.text.count("\n") == 8
    assert len(client.get(f"{API}/export.json").json()) == 7
    assert client.post(f"{API}/expiry-sweeps", json={"initiator": "system",
                                                     "actor": "job"}).json() == {"expired": []}
    tamper(db_url, "UPDATE ledger_journal SET amount = 1 WHERE seq = 3")
    v = client.get(f"{API}/verify").json()
    assert not v["ok"] and v["first_bad_seq"] == 3
    r = client.post(f"{API}/reconcile", json={"initiator": "system", "actor": "job"})
    assert r.status_code == 200 and books.c2 in r.json()["frozen"]


def test_batch_of_8000_over_http(client: TestClient, books: Books) -> None:
    """The batch API takes 8,000 transfers in one call (the body limit allows it)."""
    body = {**ENT, "linked": True, "transfers": [
        {"id": f"big{i}", "type": "transfer", "debit_account": books.cash1,
         "credit_account": books.cash2, "amount": 1} for i in range(8000)]}
    r = client.post(f"{API}/transfers", json=body)
    assert r.status_code == 201, r.text[:300]
    assert len(r.json()["results"]) == 8000
    body["transfers"].append({"id": "big8000", "type": "transfer",  # type: ignore[attr-defined]
                              "debit_account": books.cash1, "credit_account": books.cash2,
                              "amount": 1})
    r = client.post(f"{API}/transfers", json=body)
    assert r.status_code == 422


def test_out_of_range_account_id_is_422(client: TestClient) -> None:
    r = client.get(f"{API}/accounts/{2**70}")
    assert r.status_code == 422 and r.json()["error"] == "invalid_input"
