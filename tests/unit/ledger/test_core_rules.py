"""Each rule of the pure core, by example, with the code it rejects with."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ledger import errors as E
from ledger.entries import (
    AccountState,
    Entry,
    Finished,
    Ledger,
    Transfer,
    chain_hash,
    chain_hash_v2,
    entry_hash,
    first_difference,
    micros,
    replayed,
    seal,
    verify_chain,
)
from ledger.transactions import AccountKind as K
from ledger.transactions import Initiator

B, S, EN = Initiator.BUREAU, Initiator.SYSTEM, Initiator.ENTERPRISE
NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
R = "SO2/Z1/2026"


def book() -> Ledger:
    accts = [AccountState(1, "BUREAU", K.ISSUANCE, R), AccountState(2, "BUREAU", K.RESERVE, R),
             AccountState(3, "P1", K.CONFIRMED, R, upper_limit=100),
             AccountState(4, "P1", K.TRADABLE, R), AccountState(5, "P1", K.SURRENDER, R),
             AccountState(6, "BANK", K.ISSUANCE, "CNY"), AccountState(7, "E1", K.CASH, "CNY")]
    led = Ledger({a.id: a for a in accts})
    led.apply(Transfer("i", "issuance", 1, 2, 1000), B, NOW)
    return led


def code(led: Ledger, t: Transfer, who: Initiator = B, now: datetime = NOW) -> str:
    with pytest.raises(E.LedgerRejection) as exc:
        led.apply(t, who, now)
    return exc.value.code


def test_each_bad_input_has_its_code() -> None:
    led = book()
    assert code(led, Transfer("a", "confirmation", 2, 99, 5)) == "account_not_found"
    assert code(led, Transfer("a", "confirmation", 2, 7, 5)) == "asset_mismatch"
    assert code(led, Transfer("a", "confirmation", 2, 3, 0)) == "non_positive_amount"
    assert code(led, Transfer("a", "confirmation", 2, 3, -3)) == "non_positive_amount"
    assert code(led, Transfer("a", "confirmation", 2, 3, 101)) == "over_limit"
    assert code(led, Transfer("a", "verification", 3, 4, 1)) == "insufficient_balance"
    assert code(led, Transfer("a", "nope", 2, 3, 1)) == "unknown_transaction_type"
    assert code(led, Transfer("a", "confirmation", 2, 3, 1), EN) == "initiator_not_allowed"
    assert code(led, Transfer("a", "verification", 2, 3, 1)) == "account_kind_not_allowed"
    assert code(led, Transfer("a", "confirmation", 2, 2, 1)) == "same_account"
    led.apply(Transfer("c", "confirmation", 2, 3, 50), B, NOW)
    led.apply(Transfer("s", "surrender", 3, 5, 10), B, NOW)
    assert code(led, Transfer("a", "transfer", 5, 3, 1)) == "account_closed_to_debits"
    assert led.accounts[3].balance == 40


def test_frozen_account_passes_only_bureau_recovery_and_reversal() -> None:
    led = book()
    led.apply(Transfer("c", "confirmation", 2, 3, 50), B, NOW)
    led.accounts[3].frozen = True
    assert code(led, Transfer("v", "verification", 3, 4, 5)) == "account_frozen"
    assert code(led, Transfer("c2", "confirmation", 2, 3, 5)) == "account_frozen"
    led.finished["c"] = Finished("c", "confirmation", "single", 2, 3, 50, NOW)
    led.apply(Transfer("rv", "reversal", 0, 0, 10, pending_id="c"), B, NOW)
    led.apply(Transfer("rc", "recovery", 3, 2, 40), B, NOW)
    assert led.accounts[3].balance == 0 and led.accounts[2].balance == 1000


def test_two_phase_post_in_parts_void_and_expire() -> None:
    led = book()
    led.apply(Transfer("h", "confirmation", 2, 3, 60, phase="pending", timeout_s=60), B, NOW)
    assert led.accounts[2].available == 940 and led.accounts[3].credits_pending == 60
    assert code(led, Transfer("c", "confirmation", 2, 3, 41)) == "over_limit"
    led.apply(Transfer("p1", "confirmation", 0, 0, 20, phase="post", pending_id="h"), B, NOW)
    assert code(led, Transfer("p2", "confirmation", 0, 0, 41, phase="post",
                              pending_id="h")) == "post_exceeds_pending"
    assert code(led, Transfer("x", "confirmation", 0, 0, 0, phase="expire",
                              pending_id="h"), S) == "pending_not_timed_out"
    later = NOW + timedelta(seconds=61)
    assert code(led, Transfer("p3", "confirmation", 0, 0, 0, phase="post", pending_id="h"),
                B, later) == "pending_expired"
    led.apply(Transfer("x", "confirmation", 0, 0, 0, phase="expire", pending_id="h"), S, later)
    assert led.pendings["h"].state == "expired"
    assert led.accounts[3].balance == 20 and led.accounts[3].credits_pending == 0
    assert led.accounts[2].available == 980
    led.apply(Transfer("h2", "confirmation", 2, 3, 10, phase="pending"), B, NOW)
    led.apply(Transfer("p4", "confirmation", 0, 0, 0, phase="post", pending_id="h2"), B, NOW)
    assert code(led, Transfer("p5", "confirmation", 0, 0, 0, phase="post",
                              pending_id="h2")) == "pending_already_posted"
    led.apply(Transfer("h3", "confirmation", 2, 3, 10, phase="pending"), B, NOW)
    led.apply(Transfer("v3", "confirmation", 0, 0, 0, phase="void", pending_id="h3"), B, NOW)
    assert code(led, Transfer("p6", "confirmation", 0, 0, 0, phase="post",
                              pending_id="h3")) == "pending_voided"
    assert code(led, Transfer("p7", "confirmation", 0, 0, 0, phase="post",
                              pending_id="zz")) == "pending_not_found"


def test_reversal_window_parts_and_types() -> None:
    led = book()
    led.apply(Transfer("c", "confirmation", 2, 3, 50), B, NOW)
    led.finished["c"] = Finished("c", "confirmation", "single", 2, 3, 50, NOW)
    led.finished["i"] = Finished("i", "issuance", "single", 1, 2, 1000, NOW)
    assert code(led, Transfer("r0", "reversal", 0, 0, 0, pending_id="i")) == "not_reversible"
    assert code(led, Transfer("r0", "reversal", 0, 0, 0, pending_id="q")) == (
        "transfer_not_found")
    assert code(led, Transfer("r0", "reversal", 0, 0, 0, pending_id="c"),
                now=NOW + timedelta(days=30, seconds=1)) == "reversal_window_closed"
    assert code(led, Transfer("r0", "reversal", 0, 0, 0, pending_id="c"), EN) == (
        "initiator_not_allowed")
    led.apply(Transfer("r1", "reversal", 0, 0, 20, pending_id="c"), B,
              NOW + timedelta(days=30))
    assert code(led, Transfer("r2", "reversal", 0, 0, 31, pending_id="c")) == (
        "reversal_exceeds_original")
    m = led.apply(Transfer("r3", "reversal", 0, 0, 0, pending_id="c"), B, NOW)
    assert (m.debit_account, m.credit_account, m.amount) == (3, 2, 30)
    assert code(led, Transfer("r4", "reversal", 0, 0, 0, pending_id="c")) == (
        "already_reversed")
    assert led.accounts[3].balance == 0 and led.accounts[2].balance == 1000


def test_linked_batch_is_all_or_nothing() -> None:
    led = book()
    before = {i: (a.balance, a.debits_pending, a.credits_pending)
              for i, a in led.accounts.items()}
    with pytest.raises(E.OverLimit):
        led.apply_batch([Transfer("a", "confirmation", 2, 3, 60),
                         Transfer("h", "confirmation", 2, 3, 30, phase="pending"),
                         Transfer("b", "confirmation", 2, 3, 60)], B, NOW)
    assert {i: (a.balance, a.debits_pending, a.credits_pending)
            for i, a in led.accounts.items()} == before
    assert "h" not in led.pendings
    with pytest.raises(E.BatchTooLarge):
        led.apply_batch([Transfer(str(i), "confirmation", 2, 3, 1) for i in range(8001)], B,
                        NOW)


def test_idempotency_names_the_differing_field() -> None:
    t = Transfer("x", "confirmation", 2, 3, 5, reference="r")
    e = Entry(1, "x", None, "confirmation", "single", None, 2, 3, R, 5, "r", "b", NOW, None,
              "0" * 64)
    assert replayed([t], {"x": e}) == [e]
    assert replayed([t], {}) is None
    for changed, name in ((Transfer("x", "confirmation", 2, 3, 6, reference="r"), "amount"),
                          (Transfer("x", "confirmation", 2, 4, 5, reference="r"),
                           "credit_account"),
                          (Transfer("x", "verification", 2, 3, 5, reference="r"), "type")):
        assert first_difference(changed, e) == name
        with pytest.raises(E.IdConflict) as exc:
            replayed([changed], {"x": e})
        assert exc.value.field == name
    post = Transfer("p", "confirmation", 0, 0, 0, phase="post", pending_id="h")
    pe = Entry(2, "p", None, "confirmation", "post", "h", 2, 3, R, 5, None, "b", NOW, None,
               "0" * 64)
    assert first_difference(post, pe) is None
    held = Entry(3, "h", None, "confirmation", "pending", None, 2, 3, R, 5, None, "b", NOW,
                 NOW + timedelta(seconds=60), "0" * 64)
    assert first_difference(Transfer("h", "confirmation", 2, 3, 5, phase="pending",
                                     timeout_s=60), held) is None
    assert first_difference(Transfer("h", "confirmation", 2, 3, 5, phase="pending",
                                     timeout_s=61), held) == "timeout_s"
    with pytest.raises(E.IdConflict):
        replayed([t, t], {})


def test_hash_is_the_same_for_naive_utc_and_aware_times() -> None:
    led = book()
    ts = [Transfer("c", "confirmation", 2, 3, 5, phase="pending", timeout_s=9)]
    entries = seal(ts, led.apply_batch(ts, B, NOW), led, seq=0, prev_hash="0" * 64,
                   batch="b", actor="bureau", now=NOW)
    e = entries[0]
    naive = Entry(**{**{f: getattr(e, f) for f in e.__slots__},  # type: ignore[attr-defined]
                     "created_at": NOW.replace(tzinfo=None),
                     "timeout_at": e.timeout_at.replace(tzinfo=None)})  # type: ignore[union-attr]
    assert entry_hash(naive) == entry_hash(e) == e.hash
    assert e.hash_version == 2
    assert e.hash == chain_hash_v2("0" * 64, 1, "c", "b", "confirmation", "pending", None, 2, 3,
                                   R, 5, None, "bureau", micros(NOW), micros(NOW) + 9_000_000)
    assert verify_chain(entries) == (True, None, "intact")
    # history written by the first rule still verifies by it, next to entries of the second
    led2 = book()
    t1 = [Transfer("d", "confirmation", 2, 3, 1)]
    old = seal(t1, led2.apply_batch(t1, B, NOW), led2, seq=0, prev_hash="0" * 64, batch=None,
               actor="bureau", now=NOW, version=1)
    assert old[0].hash_version == 1 and old[0].hash == chain_hash(
        "0" * 64, 1, "d", None, "confirmation", "single", None, 2, 3, R, 1, None, "bureau",
        micros(NOW), None)
    t2 = [Transfer("e", "confirmation", 2, 3, 1)]
    new = seal(t2, led2.apply_batch(t2, B, NOW), led2, seq=1, prev_hash=old[0].hash,
               batch=None, actor="bureau", now=NOW)
    assert new[0].hash_version == 2
    assert verify_chain([old[0], new[0]]) == (True, None, "intact")
    assert not verify_chain([replace(old[0], hash_version=2), new[0]])[0]
    assert not verify_chain([old[0], replace(new[0], hash_version=1)])[0]
    # the ambiguities of the first rule are gone: NULL is not '', and moving a field
    # boundary inside user-chosen ids changes the hash
    assert chain_hash("0", 1, "a", None, "t", "single", None, 2, 3, R, 1, None, "b", 0,
                      None) == chain_hash("0", 1, "a", "", "t", "single", "", 2, 3, R, 1, "",
                                          "b", 0, None)
    assert chain_hash_v2("0", 1, "a", None, "t", "single", None, 2, 3, R, 1, None, "b", 0,
                         None) != chain_hash_v2("0", 1, "a", "", "t", "single", None, 2, 3, R,
                                                1, None, "b", 0, None)
    assert chain_hash_v2("0", 1, "a\x1fx", "y", "t", "single", None, 2, 3, R, 1, None, "b", 0,
                         None) != chain_hash_v2("0", 1, "a", "x\x1fy", "t", "single", None, 2,
                                                3, R, 1, None, "b", 0, None)
    assert chain_hash("0", 1, "a\x1fx", "y", "t", "single", None, 2, 3, R, 1, None, "b", 0,
                      None) == chain_hash("0", 1, "a", "x\x1fy", "t", "single", None, 2, 3, R,
                                          1, None, "b", 0, None)
