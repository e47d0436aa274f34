"""Transfers through the ledger's use cases, on SQLite and PostgreSQL: idempotency, two-phase,
linked and unlinked batches, reversal, expiry, and every bad input with its own code."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledger import errors as E
from ledger import service as ledger
from ledger.entries import Transfer
from ledger.store import LedgerStore
from ledger.transactions import Initiator
from tests.integration.ledger.conftest import NOW, Books, balances, rejection_codes

pytestmark = pytest.mark.db
B, EN, S = Initiator.BUREAU, Initiator.ENTERPRISE, Initiator.SYSTEM


def journal_ids(platform) -> list[str]:  # type: ignore[no-untyped-def]
    with platform.uow() as uow:
        return [e.id for e in LedgerStore(uow.session).journal()]


def test_idempotent_ids(platform, books: Books) -> None:  # type: ignore[no-untyped-def]
    t = Transfer("x1", "transfer", books.cash1, books.cash2, 500, reference="inv-1")
    first = ledger.submit(platform.uow, [t], initiator=EN, actor="e1", now=NOW)
    again = ledger.submit(platform.uow, [t], initiator=EN, actor="e1", now=NOW)
    assert not first.replayed and again.replayed and again.entries == first.entries
    for changed, field in ((Transfer("x1", "transfer", books.cash1, books.cash2, 501,
                                     reference="inv-1"), "amount"),
                           (Transfer("x1", "transfer", books.cash1, books.cash2, 500,
                                     reference="inv-2"), "reference"),
                           (Transfer("x1", "transfer", books.cash2, books.cash1, 500,
                                     reference="inv-1"), "debit_account")):
        with pytest.raises(E.IdConflict) as exc:
            ledger.submit(platform.uow, [changed], initiator=EN, actor="e1", now=NOW)
        assert exc.value.field == field
    assert journal_ids(platform).count("x1") == 1
    assert balances(platform)[books.cash2][0] == 1_000_500


def test_two_phase_post_in_parts_and_void(platform, books: Books) -> None:  # type: ignore[no-untyped-def]
    ledger.submit(platform.uow, [Transfer("h", "confirmation", books.reserve, books.c2, 1500,
                                          phase="pending")], initiator=B, actor="b", now=NOW)
    bal = balances(platform)
    assert bal[books.c2] == (1000, 0, 1500) and bal[books.reserve][1] == 1500
    ledger.post_pending(platform.uow, "h", id="h:p1", amount=500, initiator=B, actor="b",
                        now=NOW)
    again = ledger.post_pending(platform.uow, "h", id="h:p1", amount=500, initiator=B,
                                actor="b", now=NOW)
    assert again.replayed
    ledger.void_pending(platform.uow, "h", id="h:v", initiator=B, actor="b", now=NOW)
    bal = balances(platform)
    assert bal[books.c2] == (1500, 0, 0) and bal[books.reserve] == (20_000 - 5000 - 500, 0, 0)
    with pytest.raises(E.PendingVoided):
        ledger.post_pending(platform.uow, "h", id="h:p2", initiator=B, actor="b", now=NOW)
    assert rejection_codes(platform)[-1] == "pending_voided"


def test_linked_batch_all_or_nothing_and_rejection_leaves_only_audit(  # type: ignore[no-untyped-def]
        platform, books: Books) -> None:
    before, ids = balances(platform), journal_ids(platform)
    with platform.uow() as uow:
        pend_before = LedgerStore(uow.session).pending_states()
    with pytest.raises(E.OverLimit):
        ledger.submit(platform.uow, [
            Transfer("a", "transfer", books.cash1, books.cash2, 100),
            Transfer("b", "confirmation", books.reserve, books.c2, 500, phase="pending"),
            Transfer("c", "confirmation", books.reserve, books.c2, 1600)],
            initiator=B, actor="b", now=NOW)
    assert balances(platform) == before and journal_ids(platform) == ids
    with platform.uow() as uow:
        assert LedgerStore(uow.session).pending_states() == pend_before
    assert rejection_codes(platform) == ["over_limit"]


def test_unlinked_batch_each_on_its_own(platform, books: Books) -> None:  # type: ignore[no-untyped-def]
    out = ledger.submit_each(platform.uow, [
        Transfer("u1", "transfer", books.cash1, books.cash2, 10),
        Transfer("u2", "transfer", books.cash1, books.cash2, 10**9),
        Transfer("u3", "transfer", books.cash1, books.cash2, 10),
        Transfer("u3", "transfer", books.cash1, books.cash2, 10)], initiator=EN, actor="e",
        now=NOW)
    assert [(o.status, o.code) for o in out] == [
        ("created", None), ("rejected", "insufficient_balance"), ("created", None),
        ("rejected", "id_conflict")]
    again = ledger.submit_each(platform.uow, [
        Transfer("u1", "transfer", books.cash1, books.cash2, 10),
        Transfer("u3", "transfer", books.cash1, books.cash2, 11)], initiator=EN, actor="e",
        now=NOW)
    assert [(o.status, o.field) for o in again] == [("replayed", None), ("rejected", "amount")]
    assert balances(platform)[books.cash2][0] == 1_000_020


def test_each_bad_input_rejected_with_its_code(platform, books: Books) -> None:  # type: ignore[no-untyped-def]
    before, ids = balances(platform), journal_ids(platform)
    cases = [
        (Transfer("r1", "transfer", 99_999, books.cash2, 1), EN, "account_not_found"),
        (Transfer("r2", "transfer", books.cash1, books.c2, 1), EN, "asset_mismatch"),
        (Transfer("r3", "transfer", books.cash1, books.cash2, 0), EN, "non_positive_amount"),
        (Transfer("r4", "transfer", books.cash1, books.cash2, -5), EN, "non_positive_amount"),
        (Transfer("r5", "confirmation", books.reserve, books.c1, 2501), B, "over_limit"),
        (Transfer("r6", "transfer", books.cash1, books.cash2, 2_000_000), EN,
         "insufficient_balance"),
        (Transfer("r7", "transfer", books.s1, books.c1, 1), B, "account_closed_to_debits"),
        (Transfer("r8", "confirmation", books.reserve, books.c1, 1), EN,
         "initiator_not_allowed"),
        (Transfer("r9", "bogus", books.cash1, books.cash2, 1), EN, "unknown_transaction_type"),
    ]
    for t, who, code in cases:
        with pytest.raises(E.LedgerRejection) as exc:
            ledger.submit(platform.uow, [t], initiator=who, actor="x", now=NOW)
        assert exc.value.code == code, t
    with pytest.raises(E.BatchTooLarge):
        ledger.submit(platform.uow, [Transfer(f"big{i}", "transfer", books.cash1, books.cash2,
                                              1) for i in range(8001)],
                      initiator=EN, actor="x", now=NOW)
    ledger.freeze(platform.uow, books.cash1, reason="court order", initiator=B, actor="b")
    with pytest.raises(E.AccountFrozen):
        ledger.submit(platform.uow, [Transfer("r10", "transfer", books.cash1, books.cash2, 1)],
                      initiator=EN, actor="x", now=NOW)
    assert balances(platform) == before and journal_ids(platform) == ids
    assert rejection_codes(platform) == [c for _, _, c in cases] + [
        "batch_too_large", "account_frozen"]


def test_freeze_passes_only_bureau_recovery_and_reversal(platform, books: Books) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(E.InitiatorNotAllowed):
        ledger.freeze(platform.uow, books.c1, reason="x", initiator=EN, actor="e")
    view = ledger.freeze(platform.uow, books.c1, reason="enterprise closed", initiator=B,
                         actor="officer")
    assert view["frozen"] and view["frozen_reason"] == "enterprise closed"
    with pytest.raises(E.AlreadyFrozen):
        ledger.freeze(platform.uow, books.c1, reason="again", initiator=B, actor="officer")
    with pytest.raises(E.AccountFrozen):
        ledger.submit(platform.uow, [Transfer("v", "verification", books.c1, books.t1, 1)],
                      initiator=B, actor="b", now=NOW)
    ledger.reverse(platform.uow, "seed:confirm1", id="rev1", amount=500, initiator=B,
                   actor="b", now=NOW + timedelta(days=1))
    ledger.submit(platform.uow, [Transfer("rec", "recovery", books.c1, books.reserve, 2000)],
                  initiator=B, actor="b", now=NOW)
    assert balances(platform)[books.c1][0] == 4000 - 1500 - 500 - 2000
    view = ledger.unfreeze(platform.uow, books.c1, reason="recovered", initiator=B,
                           actor="officer")
    assert not view["frozen"]
    assert [f["action"] for f in view["flags"]] == ["freeze", "unfreeze"]  # type: ignore[index]
    with pytest.raises(E.NotFrozen):
        ledger.unfreeze(platform.uow, books.c1, reason="x", initiator=B, actor="officer")


def test_reversal_window_and_once(platform, books: Books) -> None:  # type: ignore[no-untyped-def]
    late = NOW + timedelta(days=31)
    with pytest.raises(E.ReversalWindowClosed):
        ledger.reverse(platform.uow, "seed:confirm2", id="rv0", initiator=B, actor="b",
                       now=late)
    with pytest.raises(E.NotReversible):
        ledger.reverse(platform.uow, "seed:issue", id="rv0", initiator=B, actor="b", now=NOW)
    with pytest.raises(E.InitiatorNotAllowed):
        ledger.reverse(platform.uow, "seed:confirm2", id="rv0", initiator=EN, actor="e",
                       now=NOW)
    r = ledger.reverse(platform.uow, "seed:confirm2", id="rv1", initiator=B, actor="b",
                       now=NOW + timedelta(days=29))
    e = r.entries[0]
    assert (e.type, e.debit_account, e.credit_account, e.amount, e.pending_id) == (
        "reversal", books.c2, books.reserve, 1000, "seed:confirm2")
    with pytest.raises(E.AlreadyReversed):
        ledger.reverse(platform.uow, "seed:confirm2", id="rv2", initiator=B, actor="b",
                       now=NOW)
    assert ledger.reverse(platform.uow, "seed:confirm2", id="rv1", initiator=B, actor="b",
                          now=NOW).replayed
    assert balances(platform)[books.c2][0] == 0


def test_expiry_sweep(platform, books: Books) -> None:  # type: ignore[no-untyped-def]
    ledger.submit(platform.uow, [
        Transfer("h1", "transfer", books.cash1, books.cash2, 100, phase="pending",
                 timeout_s=60),
        Transfer("h2", "transfer", books.cash1, books.cash2, 200, phase="pending",
                 timeout_s=3600),
        Transfer("h3", "transfer", books.cash1, books.cash2, 300, phase="pending")],
        initiator=EN, actor="e", now=NOW)
    assert ledger.expire_pendings(platform.uow, NOW + timedelta(seconds=30)) == []
    assert ledger.expire_pendings(platform.uow, NOW + timedelta(seconds=61)) == ["h1"]
    with pytest.raises(E.PendingExpired):
        ledger.post_pending(platform.uow, "h1", id="h1:p", initiator=EN, actor="e",
                            now=NOW + timedelta(seconds=62))
    with pytest.raises(E.PendingExpired):
        ledger.post_pending(platform.uow, "h2", id="h2:p", initiator=EN, actor="e",
                            now=NOW + timedelta(hours=2))
    assert ledger.expire_pendings(platform.uow, NOW + timedelta(hours=2), limit=1) == ["h2"]
    assert balances(platform)[books.cash1][1] == 300
    assert ledger.verify(platform.uow()).ok


def test_group_commit_writer(platform, books: Books) -> None:  # type: ignore[no-untyped-def]
    import threading

    from ledger.writer import Writer

    writer = Writer(platform.uow)
    results: dict[str, object] = {}

    def client(k: int) -> None:
        for n in range(20):
            tid = f"w{k}-{n}"
            try:
                r = writer.submit([Transfer(tid, "transfer", books.cash1, books.cash2,
                                            10**7 if n == 7 else 3)], initiator=EN,
                                  actor=f"c{k}", now=NOW)
                results[tid] = r.replayed
            except E.LedgerRejection as exc:
                results[tid] = exc.code
        r = writer.submit([Transfer(f"w{k}-0", "transfer", books.cash1, books.cash2, 3)],
                          initiator=EN, actor=f"c{k}", now=NOW)
        results[f"w{k}-again"] = r.replayed

    threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    held = writer.submit([Transfer("wp", "transfer", books.cash1, books.cash2, 5,
                                   phase="pending"),
                          Transfer("wp:post", "transfer", 0, 0, 2, phase="post",
                                   pending_id="wp")], initiator=EN, actor="c", now=NOW)
    assert [e.amount for e in held.entries] == [5, 2]
    writer.close()
    assert all(results[f"w{k}-7"] == "insufficient_balance" for k in range(4))
    assert all(results[f"w{k}-again"] is True for k in range(4))
    assert sum(1 for v in results.values() if v is False) == 4 * 19
    assert balances(platform)[books.cash2] == (1_000_000 + 4 * 19 * 3 + 2, 0, 3)
    assert rejection_codes(platform) == ["insufficient_balance"] * 4
    assert ledger.verify(platform.uow()).ok
