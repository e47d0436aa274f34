"""Penalty decisions and the public lists on a real database (SQLite and PostgreSQL): an
amount outside the violation's range stores nothing; decision numbers are unique; a
correction and a withdrawal are events (nothing deleted) and a withdrawal reopens the
violation; the public compliance status is the enterprise's own compliance status; public
trades carry no parties, orders or fees."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from allocation import service as alloc
from compliance.enforcement import disclosure_service as disclosure
from compliance.errors import (
    BadPenaltyDecision,
    DecisionNotFound,
    DecisionWithdrawn,
    DuplicateDecisionNumber,
    PenaltyOutOfRange,
    ViolationNotFound,
    ViolationNotOpen,
)
from compliance.reporting import service as compliance
from tests.integration.paid_use_support import fund_and_pay
from tests.integration.spine import NOW, A, B, build_spine
from tests.report_fields import HEADER as REPORT_HEADER
from tests.report_fields import row
from trading import service as trading

pytestmark = pytest.mark.db
LATER = NOW + timedelta(days=30)
MIN, MAX = 200_000_00, 1_000_000_00


def _violations(platform) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """A and B each report 4 000 kg SO2 above their permitted quantities (8 000 and 6 000
    kg) for 2026: two violations."""
    codes = build_spine(platform)
    rows = []
    for tag in ("A", "B"):
        compliance.register_outlet(platform.uow(), permit=codes[tag], outlet="DA001",
                                   medium="air")
        rows.append(row(f"{codes[tag]},2026,Y,DA001,SO2,"
                        f"{4000 + (8000 if tag == 'A' else 6000)},kg", "Y"))
    # filed on 2027-01-02 (2026 has ended); the true-up runs early with a reason
    compliance.import_reports(platform.uow(), csv_text=REPORT_HEADER + "\n".join(rows),
                              actor="officer", now=datetime(2027, 1, 2, 2, tzinfo=NOW.tzinfo))
    for tag in ("A", "B"):
        compliance.true_up(platform.uow(), permit=codes[tag], year=2026, actor="officer",
                           override_reason="test: before the deadline", now=NOW)
    items = disclosure.violations(platform.uow())["items"]
    return {"A": next(v["id"] for v in items if v["enterprise"] == A),
            "B": next(v["id"] for v in items if v["enterprise"] == B)}


def _decide(platform, vid: int, number: str, amount: int = 300_000_00,  # type: ignore[no-untyped-def]
            **kw):
    args = dict(violation_id=vid, number=number, amount_fen=amount, decided_on="2026-06-20",
                summary="SO2 beyond the rights held", actor="officer", now=LATER)
    return disclosure.decide_penalty(platform.uow(), **(args | kw))


def test_out_of_range_amount_is_refused_and_nothing_is_stored(platform) -> None:  # type: ignore[no-untyped-def]
    v = _violations(platform)
    for amount in (MIN - 1, MAX + 1, 0):
        with pytest.raises(PenaltyOutOfRange) as exc:
            _decide(platform, v["A"], "渝环罚〔2026〕1号", amount)
        assert exc.value.field == "amount_fen"
    with pytest.raises(BadPenaltyDecision):
        _decide(platform, v["A"], "X-1", decided_on="2026-05-31")  # before the violation
    with pytest.raises(BadPenaltyDecision):
        _decide(platform, v["A"], "X-1", decided_on="2026-08-01")  # after "today"
    with pytest.raises(ViolationNotFound):
        _decide(platform, 10**9, "X-1")
    assert disclosure.penalty_decisions(platform.uow())["total"] == 0
    assert [x["status"] for x in disclosure.violations(platform.uow())["items"]] == ["open"] * 2
    # both ends of the range are allowed
    assert _decide(platform, v["A"], "X-min", MIN)["amount_fen"] == MIN
    assert _decide(platform, v["B"], "X-max", MAX)["amount_fen"] == MAX


def test_decision_published_unique_and_the_violation_decided(platform) -> None:  # type: ignore[no-untyped-def]
    v = _violations(platform)
    out = _decide(platform, v["A"], "渝环罚〔2026〕12号")
    assert (out["status"], out["amount_fen"], out["enterprise"]) == ("published", 300_000_00, A)
    assert [h["kind"] for h in out["history"]] == ["decided"]
    with pytest.raises(ViolationNotOpen):
        _decide(platform, v["A"], "渝环罚〔2026〕13号")
    with pytest.raises(DuplicateDecisionNumber):
        _decide(platform, v["B"], " 渝环罚〔2026〕12号 ")  # the number is stripped first
    status = compliance.compliance_status(platform.uow(), enterprise=A, year=2026)
    assert [x["status"] for x in status["violations"]] == ["decided"]
    assert disclosure.violations(platform.uow())["total"] == 1  # only B's awaits
    feed = disclosure.penalty_decisions(platform.uow())
    assert feed["total"] == 1 and feed["items"][0]["number"] == "渝环罚〔2026〕12号"
    assert feed["updated"] == feed["items"][0]["updated"]
    assert disclosure.penalty_decisions(platform.uow(), q="Enterprise B")["total"] == 0
    assert disclosure.penalty_decisions(platform.uow(), q="Enterprise A")["total"] == 1
    assert disclosure.penalty_decisions(platform.uow(), q="%")["total"] == 0  # literal


def test_correction_and_withdrawal_are_events(platform) -> None:  # type: ignore[no-untyped-def]
    v = _violations(platform)
    _decide(platform, v["A"], "D-1")
    with pytest.raises(PenaltyOutOfRange):
        disclosure.correct_penalty(platform.uow(), number="D-1", amount_fen=MAX + 1,
                                   reason="typo", actor="officer2", now=LATER)
    with pytest.raises(BadPenaltyDecision):
        disclosure.correct_penalty(platform.uow(), number="D-1", reason="nothing", actor="o")
    out = disclosure.correct_penalty(platform.uow(), number="D-1", amount_fen=250_000_00,
                                     reason="calculation error", actor="officer2",
                                     now=LATER + timedelta(hours=1))
    assert out["amount_fen"] == 250_000_00
    assert [(h["kind"], h["reason"]) for h in out["history"]] == [
        ("decided", None), ("corrected", "calculation error")]
    with pytest.raises(DecisionNotFound):
        disclosure.withdraw_penalty(platform.uow(), number="nope", reason="r", actor="o")
    out = disclosure.withdraw_penalty(platform.uow(), number="D-1", reason="revoked on review",
                                      actor="officer", now=LATER + timedelta(hours=2))
    assert (out["status"], out["amount_fen"], out["summary"]) == ("withdrawn", None, None)
    assert out["withdrawn_reason"] == "revoked on review"
    with pytest.raises(DecisionWithdrawn):
        disclosure.withdraw_penalty(platform.uow(), number="D-1", reason="again", actor="o")
    with pytest.raises(DecisionWithdrawn):
        disclosure.correct_penalty(platform.uow(), number="D-1", summary="x", reason="r",
                                   actor="o")
    # the violation is open again; a new decision needs a new number
    with pytest.raises(DuplicateDecisionNumber):
        _decide(platform, v["A"], "D-1")
    _decide(platform, v["A"], "D-2", 400_000_00)
    feed = disclosure.penalty_decisions(platform.uow(), enterprise=A)
    assert [(d["number"], d["status"]) for d in feed["items"]] == [
        ("D-2", "published"), ("D-1", "withdrawn")]


def test_public_compliance_is_the_enterprise_status(platform) -> None:  # type: ignore[no-untyped-def]
    v = _violations(platform)
    _decide(platform, v["A"], "C-1")
    for year in (2025, 2026):
        page = disclosure.public_compliance(platform.uow(), year=year)
        assert page["total"] == 2 and page["year"] == year
        for item in page["items"]:
            own = compliance.compliance_status(platform.uow(), enterprise=item["credit_code"],
                                               year=year)
            assert item["status"] == own["status"]
            assert {p["permit"]: p["status"] for p in item["permits"]} == own["permits"]
    page = disclosure.public_compliance(platform.uow(), year=2026)
    a = next(i for i in page["items"] if i["credit_code"] == A)
    assert (a["status"], a["violations"], a["penalty_decisions"]) == ("violation", 1, 1)
    assert disclosure.public_compliance(platform.uow(), year=2026, q="Enterprise B",
                                        limit=1)["total"] == 1
    second = disclosure.public_compliance(platform.uow(), year=2026, offset=1, limit=1)
    assert second["next_offset"] is None and len(second["items"]) == 1
    one = disclosure.enterprise_disclosure(platform.uow(), enterprise=A, year=2026)
    assert one["status"] == "violation" and [d["number"] for d in one["decisions"]] == ["C-1"]


def test_public_trades_and_permits_carry_nothing_private(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    with platform.uow() as uow:
        mid = trading.ensure_market(uow, pollutant="SO2", zone="ZA1", vintage=2026)
        uow.commit()
    for tag in ("A", "B"):
        alloc.confirm_rights(platform.uow(), permit=codes[tag], pollutant="SO2", year=2026,
                             actor="test")
    fund_and_pay(platform, codes["A"])  # tradable once the paid-use fee is paid
    alloc.verify_surplus(platform.uow(), permit=codes["A"], pollutant="SO2", year=2026,
                         qty_kg=2000, actor="test")
    sell = trading.place_order(platform.uow(), trading.PlaceOrder(
        A, codes["A"], mid, "sell", 500, 300_000), permits=platform.permits, actor="test")
    buy = trading.place_order(platform.uow(), trading.PlaceOrder(
        B, codes["B"], mid, "buy", 200, 300_000), permits=platform.permits, actor="test")
    page = disclosure.public_trades(platform.uow())
    assert page["total"] == 1
    t = page["items"][0]
    assert set(t) == {"id", "market", "qty_kg", "price_fen_per_t", "value_fen", "venue", "at",
                      "updated"}
    assert (t["market"], t["qty_kg"], t["price_fen_per_t"]) == (mid, 200, 300_000)
    text = repr(page)
    for private in (sell.order_id, buy.order_id, A, B, codes["A"], codes["B"]):
        assert private not in text
    assert disclosure.public_trades(platform.uow(), market="SO2/ZA1/2099")["total"] == 0
    permits = disclosure.public_permits(platform.uow())
    assert permits["total"] == 2 and permits["updated"] is not None
    pa = next(p for p in permits["items"] if p["code"] == codes["A"])
    q = pa["quantities"][0]
    assert (q["pollutant"], q["year"], q["confirmed"]) == ("SO2", 2026, True)
    assert datetime.fromisoformat(pa["updated"]) >= NOW
    assert "balance" not in repr(permits) and "cash" not in repr(permits)
    assert disclosure.public_permits(platform.uow(), enterprise=B)["total"] == 1


def test_the_database_keeps_one_decision_in_force_per_violation(platform) -> None:  # type: ignore[no-untyped-def]
    """Even a writer that skips the service's check cannot store a second decision in force
    for a violation (partial unique index); a withdrawn one does not count."""
    from compliance.enforcement.disclosure_store import DisclosureStore
    from compliance.enforcement.disclosure_tables import PenaltyDecisionRow

    v = _violations(platform)
    first = _decide(platform, v["A"], "U-1")

    def row(number: str, status: str = "published") -> PenaltyDecisionRow:
        return PenaltyDecisionRow(
            number=number, violation=v["A"], enterprise=A, permit=first["permit"], year=2026,
            pollutant="SO2", amount_fen=MIN, decided_on=LATER.date(), legal_basis="b",
            summary="s", status=status, decided_by="x", published_at=LATER,
            updated_at=LATER, withdrawn_reason=None)

    with platform.uow() as uow:
        assert DisclosureStore(uow.session).add_decision(row("U-2")) is None
    with platform.uow() as uow:
        assert DisclosureStore(uow.session).add_decision(row("U-3", "withdrawn")) is not None
        uow.commit()
    assert disclosure.penalty_decisions(platform.uow(), enterprise=A)["total"] == 2


def test_concurrent_decisions_on_one_violation_leave_one(pg_platform) -> None:  # type: ignore[no-untyped-def]
    """Eight officers decide the same violation at once under different numbers (PostgreSQL,
    real concurrency): exactly one decision is stored, the others are refused with a
    conflict, never an error."""
    from concurrent.futures import ThreadPoolExecutor

    from kernel.errors import Conflict

    v = _violations(pg_platform)

    def attempt(i: int) -> str:
        try:
            _decide(pg_platform, v["A"], f"R-{i}")
        except Conflict as exc:
            return exc.code
        return "ok"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert results.count("ok") == 1, results
    assert set(results) - {"ok"} <= {"violation_not_open", "duplicate_decision_number"}
    assert disclosure.penalty_decisions(pg_platform.uow(), enterprise=A)["total"] == 1
