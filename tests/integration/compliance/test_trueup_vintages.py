"""The true-up's vintage rules and the deduction from next year on a real database (SQLite and
PostgreSQL): banked vintages settle the rest, future vintages never do unless a deduction is
asked for, every surrendered vintage's permit follows the ledger, a true-up never runs twice,
a rejected ledger batch leaves nothing behind, and every asset still sums to zero."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from allocation import service as alloc
from allocation.store import RegistryStore
from compliance import service as compliance
from compliance.errors import TrueUpAlreadyRun
from kernel.ids import make_credit_code
from ledger import service as ledger_service
from ledger.errors import LedgerRejection
from ledger.service import BUREAU, asset_code
from ledger.store import LedgerStore
from ledger.transactions import AccountKind, Initiator
from tests.integration.spine import NOW, build_spine

pytestmark = pytest.mark.db
C = make_credit_code("91500000CCCCCCCC3")
YEARS = (2025, 2026, 2027, 2028)
LATER = datetime(2029, 2, 1, 2, 0, tzinfo=UTC)


def _world(platform, confirm: dict[int, int]) -> str:  # type: ignore[no-untyped-def]
    """Enterprise C with one SO2 permit for 2025-2028 in zone ZA1, `confirm` kg per vintage
    confirmed, and an outlet."""
    build_spine(platform)
    alloc.register_enterprise(platform.uow(), credit_code=C, name="Enterprise C",
                              sector="thermal_power", district="D01")
    permit = alloc.issue_permit(
        platform.uow(), enterprise=C, site_seq=1, site_name="Plant C", district="D01",
        capacity=300, capacity_unit="MW", valid_from=date(2025, 1, 1),
        valid_to=date(2029, 12, 31), parameter_version="test",
        bases=[alloc.QuantityBasis("SO2", y, "ZA1", 5000, None, None) for y in YEARS],
        now=NOW)
    for y in YEARS:
        if y != 2026:  # the spine issued 2026
            alloc.set_indicator(platform.uow(), zone="ZA1", pollutant="SO2", year=y,
                                total_kg=20_000, reserve_share_pct=10)
            alloc.issue_indicator(platform.uow(), zone="ZA1", pollutant="SO2", year=y,
                                  actor="bureau", now=NOW)
    for y, kg in confirm.items():
        alloc.confirm_rights(platform.uow(), permit=permit, pollutant="SO2", year=y,
                             qty_kg=kg, actor="bureau", now=NOW)
    compliance.register_outlet(platform.uow(), permit=permit, outlet="DA001", medium="air")
    return permit


def _report(platform, permit: str, year: int, kg: int) -> None:  # type: ignore[no-untyped-def]
    compliance.submit_report(platform.uow(), permit=permit, year=year, period="Y",
                             lines=[{"outlet": "DA001", "pollutant": "SO2",
                                     "quantity": str(kg), "unit": "kg"}],
                             actor="officer", now=NOW)


def _balances(platform, permit: str) -> dict[int, int]:  # type: ignore[no-untyped-def]
    with platform.uow() as uow:
        ls = LedgerStore(uow.session)
        out = {}
        for y in YEARS:
            aid = ls.account_id(permit, AccountKind.CONFIRMED, asset_code("SO2", "ZA1", y))
            acct = ls.get_account(aid) if aid is not None else None
            out[y] = acct.balance if acct is not None else 0
        return out


def _permitted(platform, permit: str) -> dict[int, int]:  # type: ignore[no-untyped-def]
    with platform.uow() as uow:
        reg = RegistryStore(uow.session)
        return {y: reg.quantity(permit, "SO2", y).permitted_kg for y in YEARS}  # type: ignore[union-attr]


def _sums_zero(platform) -> None:  # type: ignore[no-untyped-def]
    sums = ledger_service.asset_sums(platform.uow())
    assert sums and all(v == 0 for v in sums.values()), sums


def test_banked_vintages_settle_the_rest_and_the_deduction_reaches_next_year(platform) -> None:  # type: ignore[no-untyped-def]
    permit = _world(platform, {2025: 3000, 2026: 2000, 2027: 4000, 2028: 1000})
    for y, kg in ((2025, 1000), (2026, 3500), (2027, 6000)):
        _report(platform, permit, y, kg)

    r25 = compliance.true_up(platform.uow(), permit=permit, year=2025, actor="officer",
                             now=LATER)
    assert r25["status"] == "compliant"
    assert r25["lines"][0]["vintages"] == [{"vintage": 2025, "kind": "surrender",
                                            "qty_kg": 1000,
                                            "transfer_id": f"surrender:{permit}:SO2:2025"}]

    r26 = compliance.true_up(platform.uow(), permit=permit, year=2026, actor="officer",
                             now=LATER)
    line = r26["lines"][0]
    assert r26["status"] == "compliant"
    assert (line["held_kg"], line["surrendered_kg"], line["shortfall_kg"]) == (4000, 3500, 0)
    assert [(d["vintage"], d["qty_kg"]) for d in line["vintages"]] == [(2026, 2000),
                                                                      (2025, 1500)]
    assert _balances(platform, permit) == {2025: 500, 2026: 0, 2027: 4000, 2028: 1000}
    assert _permitted(platform, permit) == {2025: 500, 2026: 0, 2027: 4000, 2028: 1000}

    # 2027: 4000 own + 500 banked from 2025 = 4500; 1500 short, 1000 deducted from 2028
    r27 = compliance.true_up(platform.uow(), permit=permit, year=2027, actor="officer",
                             deduct_next_year=True, now=LATER)
    line = r27["lines"][0]
    assert r27["status"] == "violation" and r27["penalty_fen"] == [200_000_00, 1_000_000_00]
    assert (line["surrendered_kg"], line["shortfall_kg"], line["deducted_kg"],
            line["outstanding_kg"]) == (4500, 1500, 1000, 500)
    assert [(d["vintage"], d["kind"], d["qty_kg"]) for d in line["vintages"]] == [
        (2027, "surrender", 4000), (2025, "surrender", 500), (2028, "deduction", 1000)]
    assert _balances(platform, permit) == {2025: 0, 2026: 0, 2027: 0, 2028: 0}
    assert _permitted(platform, permit) == {2025: 0, 2026: 0, 2027: 0, 2028: 0}
    with platform.uow() as uow:
        events = RegistryStore(uow.session).events(permit)
        ded = [e for e in events if e.kind == "deduction"]
        assert len(ded) == 1 and (ded[0].year, ded[0].qty_kg, ded[0].permitted_after_kg) == (
            2028, -1000, 0)
        banked = [e for e in events if e.kind == "surrender" and e.year == 2025]
        assert sorted(e.qty_kg for e in banked) == [-1500, -1000, -500]
        ls = LedgerStore(uow.session)
        sunk = {y: ls.get_account(ls.account_id(  # type: ignore[arg-type]
            BUREAU, "surrender", asset_code("SO2", "ZA1", y))).balance  # type: ignore[union-attr]
            for y in YEARS}
        assert sunk == {2025: 3000, 2026: 2000, 2027: 4000, 2028: 1000}

    st = compliance.compliance_status(platform.uow(), enterprise=C, year=2027)
    assert st["status"] == "violation"
    v = st["violations"][0]
    assert (v["shortfall_kg"], v["deducted_kg"], v["outstanding_kg"]) == (1500, 1000, 500)
    assert (v["penalty_min_fen"], v["penalty_max_fen"]) == (200_000_00, 1_000_000_00)
    assert st["deducted_kg"] == 1000 and st["outstanding_kg"] == 500
    assert st["true_ups"][0]["lines"][0]["vintages"][-1]["kind"] == "deduction"

    with pytest.raises(TrueUpAlreadyRun):
        compliance.true_up(platform.uow(), permit=permit, year=2027, actor="officer",
                           deduct_next_year=True, now=LATER)
    listed = compliance.true_up_list(platform.uow(), year=2027, status="violation")
    assert [i["permit"] for i in listed["items"]] == [permit]
    assert listed["items"][0]["lines"][0]["deducted_kg"] == 1000
    pending = compliance.true_up_list(platform.uow(), year=2027, status="pending")
    assert pending["total"] == 2  # the spine's A and B
    viol = compliance.violation_list(platform.uow(), year=2027)
    assert viol["total"] == 1 and viol["items"][0]["outstanding_kg"] == 500
    _sums_zero(platform)


def test_no_deduction_leaves_next_year_and_unsettled_years_are_not_banked(platform) -> None:  # type: ignore[no-untyped-def]
    permit = _world(platform, {2025: 3000, 2026: 1000, 2027: 4000})
    _report(platform, permit, 2026, 2500)
    out = compliance.true_up(platform.uow(), permit=permit, year=2026, actor="officer",
                             now=LATER)
    line = out["lines"][0]
    # 2025 has not been trued up: its rights are not banked; 2027 is never borrowed
    assert (line["surrendered_kg"], line["shortfall_kg"], line["deducted_kg"]) == (1000, 1500, 0)
    assert [d["vintage"] for d in line["vintages"]] == [2026]
    assert _balances(platform, permit) == {2025: 3000, 2026: 0, 2027: 4000, 2028: 0}
    v = compliance.compliance_status(platform.uow(), enterprise=C, year=2026)["violations"]
    assert (v[0]["shortfall_kg"], v[0]["deducted_kg"], v[0]["outstanding_kg"]) == (1500, 0,
                                                                                  1500)
    _sums_zero(platform)


def test_a_rejected_deduction_leaves_nothing_behind(platform) -> None:  # type: ignore[no-untyped-def]
    permit = _world(platform, {2026: 1000, 2027: 4000})
    _report(platform, permit, 2026, 2500)
    with platform.uow() as uow:
        aid = LedgerStore(uow.session).account_id(permit, AccountKind.CONFIRMED,
                                                  asset_code("SO2", "ZA1", 2027))
    assert aid is not None
    ledger_service.freeze(platform.uow, aid, reason="reconciliation discrepancy",
                          initiator=Initiator.BUREAU, actor="officer")
    with pytest.raises(LedgerRejection):
        compliance.true_up(platform.uow(), permit=permit, year=2026, actor="officer",
                           deduct_next_year=True, now=LATER)
    # nothing was stored: no true-up, no surrender, and it can run again once unfrozen
    assert _balances(platform, permit) == {2025: 0, 2026: 1000, 2027: 4000, 2028: 0}
    assert compliance.compliance_status(platform.uow(), enterprise=C,
                                        year=2026)["permits"][permit] == "pending"
    ledger_service.unfreeze(platform.uow, aid, reason="resolved", initiator=Initiator.BUREAU,
                            actor="officer")
    out = compliance.true_up(platform.uow(), permit=permit, year=2026, actor="officer",
                             deduct_next_year=True, now=LATER)
    assert out["lines"][0]["deducted_kg"] == 1500 and out["lines"][0]["outstanding_kg"] == 0
    assert out["status"] == "violation"  # the shortfall happened; Art. 34 applies either way
    assert _balances(platform, permit)[2027] == 2500
    _sums_zero(platform)
