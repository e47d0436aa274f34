"""Verification, tampering, reconciliation, queries, export and the CLI, on both databases."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.cli import main
from ledger import errors as E
from ledger import service as ledger
from ledger.entries import Transfer
from ledger.transactions import Initiator
from tests.integration.ledger.conftest import NOW, Books, export_hash, raw_engine, tamper

pytestmark = pytest.mark.db
B, EN = Initiator.BUREAU, Initiator.ENTERPRISE


def some_traffic(platform, books: Books) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        ledger.submit(platform.uow, [
            Transfer(f"p{i}", "transfer", books.cash1, books.cash2, 10 + i, phase="pending",
                     timeout_s=600),
            Transfer(f"s{i}", "transfer", books.cash2, books.cash1, 7)],
            initiator=EN, actor="e", batch=f"b{i}", now=NOW + timedelta(minutes=i))
        ledger.post_pending(platform.uow, f"p{i}", id=f"p{i}:post", amount=5, initiator=EN,
                            actor="e", now=NOW + timedelta(minutes=i, seconds=1))


def test_verify_intact_then_each_tampering_is_caught(platform, db_url: str,  # type: ignore[no-untyped-def]
                                                      books: Books) -> None:
    some_traffic(platform, books)
    report = ledger.verify(platform.uow())
    assert report.ok and report.entries == 6 + 15 and report.first_bad_seq is None
    # altered: an amount changed in place
    tamper(db_url, "UPDATE ledger_journal SET amount = amount + 1 WHERE seq = 9")
    report = ledger.verify(platform.uow())
    assert not report.ok and report.first_bad_seq == 9
    assert "hash" in report.reason and report.discrepancies
    tamper(db_url, "UPDATE ledger_journal SET amount = amount - 1 WHERE seq = 9")
    assert ledger.verify(platform.uow()).ok


def test_an_account_the_journal_refers_to_cannot_be_deleted(platform, db_url: str,  # type: ignore[no-untyped-def]
                                                            books: Books) -> None:
    """On PostgreSQL the journal has no row-level foreign keys (migration 0014): a trigger
    refuses the delete instead. On SQLite the foreign key does. Either way nothing goes."""
    some_traffic(platform, books)
    eng = raw_engine(db_url)
    with eng.connect() as c:
        if eng.dialect.name == "sqlite":
            c.execute(text("PRAGMA foreign_keys=ON"))
        before = c.execute(text("SELECT count(*) FROM ledger_account")).scalar()
        stmts = [f"DELETE FROM ledger_account WHERE id = {books.cash1}"]
        if eng.dialect.name == "postgresql":  # refused even where nothing refers to them
            stmts += ["DELETE FROM market", "DELETE FROM permit", "TRUNCATE ledger_account"]
        for stmt in stmts:
            with pytest.raises(DBAPIError):
                c.execute(text(stmt))
        assert c.execute(text("SELECT count(*) FROM ledger_account")).scalar() == before
    eng.dispose()
    assert ledger.verify(platform.uow()).ok


def test_removed_row_is_caught(platform, db_url: str, books: Books) -> None:  # type: ignore[no-untyped-def]
    some_traffic(platform, books)
    tamper(db_url, "DELETE FROM ledger_journal WHERE seq = 12")
    report = ledger.verify(platform.uow())
    assert not report.ok and report.first_bad_seq == 12 and "gap" in report.reason
    last = report.head_seq
    tamper(db_url, f"DELETE FROM ledger_journal WHERE seq = {last}")
    assert ledger.verify(platform.uow()).first_bad_seq == 12


def test_removed_last_row_and_inserted_row_are_caught(platform, db_url: str,  # type: ignore[no-untyped-def]
                                                       books: Books) -> None:
    some_traffic(platform, books)
    head = ledger.verify(platform.uow()).head_seq
    tamper(db_url, f"DELETE FROM ledger_journal WHERE seq = {head}")
    report = ledger.verify(platform.uow())
    assert not report.ok and report.first_bad_seq == head and "removed" in report.reason


def test_inserted_row_with_a_correct_hash_is_caught(platform, db_url: str,  # type: ignore[no-untyped-def]
                                                     books: Books) -> None:
    some_traffic(platform, books)
    rows = list(ledger.export_journal(platform.uow(), "json"))
    last = json.loads("".join(rows))[-1]
    seq = last["seq"] + 1
    created = last["created_at_us"]
    parts = (last["hash"], str(seq), "forged", "", "transfer", "single", "",
             str(books.cash2), str(books.cash1), "CNY", "999", "", "e", str(created), "")
    h = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    tamper(db_url, "INSERT INTO ledger_journal (seq, id, batch, type, phase, pending_id, "
                   "debit_account, credit_account, asset, amount, reference, initiator, "
                   "created_at, timeout_at, prev_hash, hash) VALUES "
                   f"({seq}, 'forged', NULL, 'transfer', 'single', NULL, {books.cash2}, "
                   f"{books.cash1}, 'CNY', 999, NULL, 'e', '{last['created_at']}', NULL, "
                   f"'{last['hash']}', '{h}')")
    report = ledger.verify(platform.uow())
    assert not report.ok and report.first_bad_seq == seq and "inserted" in report.reason
    assert {d.account for d in report.discrepancies} == {books.cash1, books.cash2}


def test_reconcile_freezes_disagreeing_accounts_and_records_why(  # type: ignore[no-untyped-def]
        platform, db_url: str, books: Books) -> None:
    some_traffic(platform, books)
    clean = ledger.reconcile(platform.uow, actor="job")
    assert clean.verify.ok and clean.frozen == []
    tamper(db_url, f"UPDATE ledger_account SET credits_posted = credits_posted + 50 "
                   f"WHERE id = {books.t1}")
    result = ledger.reconcile(platform.uow, actor="job")
    assert result.frozen == [books.t1] and not result.verify.ok
    assert result.verify.first_bad_seq is None  # the journal itself is intact
    view = ledger.account_view(platform.uow(), books.t1)
    assert view["frozen"] and "credits_posted" in str(view["frozen_reason"])
    assert view["flags"][0]["run"] == result.run  # type: ignore[index]
    with pytest.raises(E.AccountFrozen):
        ledger.submit(platform.uow, [Transfer("x", "transfer", books.t1, books.c2, 1)],
                      initiator=EN, actor="e", now=NOW)
    with pytest.raises(E.DiscrepancyUnresolved):
        ledger.unfreeze(platform.uow, books.t1, reason="checked", initiator=B, actor="b")
    assert ledger.reconcile(platform.uow, actor="job").frozen == []  # already frozen
    tamper(db_url, f"UPDATE ledger_account SET credits_posted = credits_posted - 50 "
                   f"WHERE id = {books.t1}")
    ledger.unfreeze(platform.uow, books.t1, reason="restored from backup", initiator=B,
                    actor="b")


def test_balance_as_of_statement_history_and_export(platform, books: Books) -> None:  # type: ignore[no-untyped-def]
    some_traffic(platform, books)
    at = ledger.balance_as_of(platform.uow(), books.cash1, NOW + timedelta(minutes=2, seconds=30))
    # seed 1,000,000; minutes 0..2: -5 posted each, +7 each, holds 10+11+12 minus 15 posted
    assert at["balance"] == 1_000_000 + 3 * 7 - 3 * 5
    assert at["on_hold"] == (10 + 11 + 12) - 15
    assert ledger.balance_as_of(platform.uow(), books.cash1, NOW - timedelta(days=1))[
        "balance"] == 0
    now = ledger.balance_as_of(platform.uow(), books.cash1, NOW + timedelta(days=1))
    view = ledger.account_view(platform.uow(), books.cash1)
    assert (now["balance"], now["on_hold"]) == (view["balance"], view["on_hold"])
    st = ledger.statement(platform.uow(), books.cash1, start=NOW + timedelta(minutes=1),
                          end=NOW + timedelta(minutes=3))
    assert st["opening"] == {"balance": 1_000_000 + 7 - 5, "on_hold": 5, "pending_in": 0}
    lines = st["lines"]
    assert [ln["id"] for ln in lines] == ["p1", "s1", "p1:post", "p2", "s2", "p2:post"]  # type: ignore[index]
    assert st["closing"]["balance"] == lines[-1]["balance"] == 1_000_000 + 3 * 7 - 3 * 5  # type: ignore[index]
    with pytest.raises(E.BadTimeRange):
        ledger.statement(platform.uow(), books.cash1, start=NOW, end=NOW)
    with pytest.raises(E.AccountNotFound):
        ledger.balance_as_of(platform.uow(), 99_999)
    hist = ledger.holder_history(platform.uow(), "P1")
    assert {h["id"] for h in hist} == {"seed:confirm1", "seed:verify1"}
    text = "".join(ledger.export_journal(platform.uow(), "csv"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 21 and rows[0]["id"] == "seed:issue"
    prev = "0" * 64
    for r in rows:  # an auditor recomputes the chain from the export alone
        assert r["hash_version"] == "2"
        assert export_hash(prev, r) == r["hash"]
        prev = r["hash"]
    js = json.loads("".join(ledger.export_journal(platform.uow(), "json")))
    assert [j["hash"] for j in js] == [r["hash"] for r in rows]


def test_cli(platform, db_url: str, books: Books, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
             capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    some_traffic(platform, books)
    assert main(["ledger", "verify"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    out = tmp_path / "j.csv"
    assert main(["ledger", "export", "--format", "csv", "--output", str(out)]) == 0
    assert out.read_text().count("\n") == 22
    assert main(["ledger", "export", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 21
    with pytest.raises(SystemExit) as exc:
        main(["ledger", "export", "--format", "xml"])
    assert exc.value.code == 2
    assert main(["ledger", "export", "--format", "csv", "--output",
                 str(tmp_path / "no" / "such" / "dir.csv")]) == 2
    tamper(db_url, "UPDATE ledger_journal SET reference = 'forged' WHERE seq = 14")
    capsys.readouterr()
    assert main(["ledger", "verify"]) == 1
    err = capsys.readouterr().err
    assert "first bad entry seq 14" in err
    assert main(["ledger", "reconcile"]) == 1
    assert main(["ledger", "expire"]) == 0


def test_hash_times_agree_at_every_microsecond(platform, books: Books) -> None:  # type: ignore[no-untyped-def]
    """SQLite rounds fractions of a second to milliseconds: .9997 s must not become the next
    second when verify recomputes the hash."""
    for i, us in enumerate((999_700, 999_999, 500_000, 1, 123_456)):
        at = NOW.replace(microsecond=us) + timedelta(seconds=i)
        ledger.submit(platform.uow, [Transfer(f"us{i}", "transfer", books.cash1, books.cash2, 1,
                                              phase="pending", timeout_s=7)],
                      initiator=EN, actor="e", now=at)
    report = ledger.verify(platform.uow())
    assert report.ok, report.as_dict()
    e = json.loads("".join(ledger.export_journal(platform.uow(), "json")))[-5]
    assert e["created_at_us"] % 1_000_000 == 999_700
    assert e["timeout_at_us"] == e["created_at_us"] + 7_000_000
