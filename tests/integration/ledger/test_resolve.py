"""Resolving a frozen account: reconciliation again, recorded, unfreezing only when the
account agrees with the journal (optionally restoring its stored figures from an intact
journal), on both databases and through the API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from ledger import errors as E
from ledger import service as ledger
from ledger.entries import Transfer
from ledger.store import LedgerStore
from ledger.transactions import Initiator
from tests.integration.ledger.conftest import NOW, Books, tamper

pytestmark = pytest.mark.db
B, EN = Initiator.BUREAU, Initiator.ENTERPRISE


def _runs(platform) -> list[tuple[int, str, list[tuple[int, str, int, int]]]]:  # type: ignore[no-untyped-def]
    with platform.uow() as uow:
        store = LedgerStore(uow.session)
        return [(r.id, r.reason, store.run_discrepancies(r.id)) for r in store.runs()]


def _freeze_by_tampering(platform, db_url: str, books: Books) -> int:  # type: ignore[no-untyped-def]
    tamper(db_url, f"UPDATE ledger_account SET credits_posted = credits_posted + 50 "
                   f"WHERE id = {books.t1}")
    result = ledger.reconcile(platform.uow, actor="job")
    assert result.frozen == [books.t1]
    return result.run


def test_resolve_records_the_run_and_unfreezes_only_when_the_account_agrees(  # type: ignore[no-untyped-def]
        platform, db_url: str, books: Books) -> None:
    with pytest.raises(E.NotFrozen):
        ledger.resolve(platform.uow, books.t1, reason="x", initiator=B, actor="b")
    _freeze_by_tampering(platform, db_url, books)
    with pytest.raises(E.InitiatorNotAllowed):
        ledger.resolve(platform.uow, books.t1, reason="x", initiator=EN, actor="e")
    with pytest.raises(E.DiscrepancyUnresolved) as exc:
        ledger.resolve(platform.uow, books.t1, reason="checked", initiator=B, actor="chen")
    assert "credits_posted" in exc.value.message
    run, why, found = _runs(platform)[0]
    assert f"run {run}" in exc.value.message and "disagree" in why
    assert found == [(books.t1, "credits_posted", 1550, 1500)]
    assert ledger.account_view(platform.uow(), books.t1)["frozen"]  # still frozen

    view = ledger.resolve(platform.uow, books.t1, reason="row edited by hand; journal holds",
                          initiator=B, actor="chen", restore=True)
    assert not view["frozen"] and view["balance"] == 1500
    flags = view["flags"]
    assert [f["action"] for f in flags] == ["freeze", "restore", "unfreeze"]  # type: ignore[index]
    run = _runs(platform)[0][0]
    assert flags[-1] == {**flags[-1], "actor": "chen", "run": run,  # type: ignore[index]
                         "reason": "resolved: row edited by hand; journal holds"}
    assert "[0, 1550, 0, 0]" in flags[1]["reason"]  # type: ignore[index]
    assert ledger.verify(platform.uow()).ok
    # and the account moves again
    ledger.submit(platform.uow, [Transfer("after", "transfer", books.t1, books.c2, 1)],
                  initiator=EN, actor="e", now=NOW)


def test_resolve_after_the_stored_figures_are_corrected_needs_no_restore(  # type: ignore[no-untyped-def]
        platform, db_url: str, books: Books) -> None:
    _freeze_by_tampering(platform, db_url, books)
    tamper(db_url, f"UPDATE ledger_account SET credits_posted = credits_posted - 50 "
                   f"WHERE id = {books.t1}")
    view = ledger.resolve(platform.uow, books.t1, reason="restored from backup",
                          initiator=B, actor="chen")
    assert not view["frozen"]
    assert [f["action"] for f in view["flags"]] == ["freeze", "unfreeze"]  # type: ignore[index]
    assert _runs(platform)[0][2] == []  # the run found nothing left to disagree


def test_resolve_cli(platform, db_url: str, books: Books,  # type: ignore[no-untyped-def]
                     monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
                     ) -> None:
    from app.cli import main

    monkeypatch.setenv("DATABASE_URL", db_url)
    args = ["ledger", "resolve", str(books.t1), "--reason", "checked", "--actor", "chen"]
    assert main(args) == 2  # not frozen: bad input
    assert "account_not_frozen" in capsys.readouterr().err
    _freeze_by_tampering(platform, db_url, books)
    assert main(args) == 1
    assert "discrepancy_unresolved" in capsys.readouterr().err
    assert main([*args, "--restore"]) == 0
    assert not ledger.account_view(platform.uow(), books.t1)["frozen"]


def test_resolve_refuses_while_an_entry_of_the_account_fails_the_chain(  # type: ignore[no-untyped-def]
        platform, db_url: str, books: Books) -> None:
    tamper(db_url, "UPDATE ledger_journal SET amount = amount + 1 WHERE id = 'seed:verify1'")
    result = ledger.reconcile(platform.uow, actor="job")
    assert books.t1 in result.frozen
    for restore in (False, True):
        with pytest.raises(E.DiscrepancyUnresolved) as exc:
            ledger.resolve(platform.uow, books.t1, reason="x", initiator=B, actor="b",
                           restore=restore)
        assert "fails verification" in exc.value.message
    assert ledger.account_view(platform.uow(), books.t1)["frozen"]


@pytest.fixture
def client(platform):  # type: ignore[no-untyped-def]
    from identity import service as identity
    from web.app import create_app

    identity.create_user(platform.uow(), username="ledger_admin", display_name="Ledger admin",
                         role="bureau_admin", password="", enterprise=None,
                         password_hash="!no-password-log-in")
    token = identity.create_token(platform.uow(), name="test",
                                  owner=identity.principal_of(platform.uow(), "ledger_admin"))[0]
    with TestClient(create_app(platform.settings, platform),
                    headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


def test_resolve_api(client: TestClient, platform, db_url: str, books: Books) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/v1/ledger/accounts/{books.t1}/resolve"
    body = {"initiator": "bureau", "actor": "chen", "reason": "checked"}
    r = client.post(url, json=body)
    assert (r.status_code, r.json()["error"]) == (409, "account_not_frozen")
    _freeze_by_tampering(platform, db_url, books)
    r = client.post(url, json=body)
    assert (r.status_code, r.json()["error"]) == (409, "discrepancy_unresolved")
    r = client.post(url, json={**body, "reason": ""})
    assert r.status_code == 422
    r = client.post(url, json={**body, "restore": True})
    assert r.status_code == 200, r.text
    assert r.json()["frozen"] is False and r.json()["balance"] == 1500
    r = client.post("/api/v1/ledger/accounts/999999/resolve", json=body)
    assert (r.status_code, r.json()["error"]) == (404, "account_not_found")
