"""The true-up against the permit on a real database (SQLite and PostgreSQL): the year's
permitted quantity is the legal limit whatever rights of other vintages are held; an
unconfirmed permit is judged on its permit quantity; surrender consumes rights and leaves
the limit on the permit; banking counts only where allowed and once written into the permit;
a deduction lowers next year's permit; the true-up waits for the year and its report deadline
unless an override reason is recorded; a rejected run leaves nothing behind; every asset
still sums to zero."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from allocation import service as alloc
from allocation.store import RegistryStore
from compliance.errors import BadReport, TrueUpAlreadyRun, TrueUpTooEarly
from compliance.reporting import service as compliance
from compliance.reporting.trueup import VintagePolicy
from kernel.ids import make_credit_code
from ledger import service as ledger_service
from ledger.errors import LedgerRejection
from ledger.service import BUREAU, asset_code
from ledger.store import LedgerStore
from ledger.transactions import AccountKind, Initiator
from tests.integration.spine import NOW, build_spine
from tests.report_fields import ANNUAL

pytestmark = pytest.mark.db
C = make_credit_code("91500000CCCCCCCC3")
YEARS = (2025, 2026, 2027)
LATER = datetime(2028, 2, 1, 2, 0, tzinfo=UTC)  # every year here and its deadline are past
T = 1000  # kg per tonne


def _world(platform, confirm: dict[int, int | None], *, cap_t: int = 100) -> str:  # type: ignore[no-untyped-def]
    """Enterprise C with one SO2 permit for 2025-2027 in zone ZA1: 100 t permitted a year
    (the share binds), cap `cap_t` t; `confirm` confirms kg per vintage (None: all)."""
    build_spine(platform)
    alloc.register_enterprise(platform.uow(), credit_code=C, name="Enterprise C",
                              sector="thermal_power", district="D01")
    permit = alloc.issue_permit(
        platform.uow(), enterprise=C, site_seq=1, site_name="Plant C", district="D01",
        capacity=300, capacity_unit="MW", valid_from=date(2025, 1, 1),
        valid_to=date(2029, 12, 31), parameter_version="test",
        bases=[alloc.QuantityBasis("SO2", y, "ZA1", cap_t * T, None, 100 * T) for y in YEARS],
        now=NOW)
    for y in YEARS:
        if y != 2026:  # the spine issued 2026
            alloc.set_indicator(platform.uow(), zone="ZA1", pollutant="SO2", year=y,
                                total_kg=1_000 * T, reserve_share_pct=10)
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
                             details=ANNUAL, actor="officer", now=LATER)


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


def test_the_permitted_quantity_binds_from_issuance(platform) -> None:  # type: ignore[no-untyped-def]
    permit = _world(platform, {})
    assert _permitted(platform, permit) == {2025: 100 * T, 2026: 100 * T, 2027: 100 * T}
    # confirming records the limit as rights: the limit does not move
    alloc.confirm_rights(platform.uow(), permit=permit, pollutant="SO2", year=2025,
                         qty_kg=40 * T, actor="bureau", now=NOW)
    assert _permitted(platform, permit)[2025] == 100 * T
    rest = alloc.confirm_rights(platform.uow(), permit=permit, pollutant="SO2", year=2025,
                                actor="bureau", now=NOW)  # the rest of the limit
    assert rest.qty_kg == 60 * T and rest.permitted_after_kg == 100 * T
    assert _balances(platform, permit)[2025] == 100 * T


def test_an_exceedance_is_judged_against_the_year_whatever_is_banked(platform) -> None:  # type: ignore[no-untyped-def]
    """100 t permitted, 20 t left over from 2025, 115 t emitted in 2026: 15 t over."""
    permit = _world(platform, {2025: None, 2027: None})
    _report(platform, permit, 2025, 80 * T)
    r25 = compliance.true_up(platform.uow(), permit=permit, year=2025, actor="officer",
                             now=LATER)
    assert r25["status"] == "compliant"
    assert _balances(platform, permit)[2025] == 20 * T  # left over
    assert _permitted(platform, permit)[2025] == 100 * T  # the limit that applied stays

    _report(platform, permit, 2027, 115 * T)
    r27 = compliance.true_up(platform.uow(), permit=permit, year=2027, actor="officer",
                             now=LATER)
    line = r27["lines"][0]
    assert r27["status"] == "violation"
    assert (line["permitted_kg"], line["surrendered_kg"], line["exceedance_kg"],
            line["banked_kg"]) == (100 * T, 100 * T, 15 * T, 0)
    assert _balances(platform, permit) == {2025: 20 * T, 2026: 0, 2027: 0}
    assert _permitted(platform, permit)[2027] == 100 * T
    v = compliance.compliance_status(platform.uow(), enterprise=C, year=2027)["violations"]
    assert len(v) == 1 and v[0]["shortfall_kg"] == 15 * T
    assert (v[0]["penalty_min_fen"], v[0]["penalty_max_fen"]) == (200_000_00, 1_000_000_00)
    with platform.uow() as uow:
        events = [(e.qty_kg, e.permitted_after_kg) for e in RegistryStore(uow.session).events(
            permit) if e.year == 2027 and e.kind == "surrender"]
    assert events == [(-100 * T, 100 * T)]
    # confirming again does not re-confirm what was surrendered
    with pytest.raises(Exception) as exc:
        alloc.confirm_rights(platform.uow(), permit=permit, pollutant="SO2", year=2027,
                             actor="bureau", now=NOW)
    assert getattr(exc.value, "code", "") == "confirmation_above_cap"
    with pytest.raises(Exception) as exc:  # the batch reads what was surrendered too
        alloc.confirm_rights_batch(platform.uow(), items=[
            alloc.ConfirmItem(permit, "SO2", 2027)], actor="bureau", now=NOW)
    assert getattr(exc.value, "code", "") == "confirmation_above_cap"
    with pytest.raises(TrueUpAlreadyRun):
        compliance.true_up(platform.uow(), permit=permit, year=2027, actor="officer",
                           now=LATER)
    _sums_zero(platform)


def test_an_unconfirmed_permit_is_judged_on_its_permit_quantity(platform) -> None:  # type: ignore[no-untyped-def]
    permit = _world(platform, {})
    _report(platform, permit, 2025, 90 * T)
    _report(platform, permit, 2027, 120 * T)
    ok = compliance.true_up(platform.uow(), permit=permit, year=2025, actor="officer",
                            now=LATER)
    assert ok["status"] == "compliant"
    assert (ok["lines"][0]["surrendered_kg"], ok["lines"][0]["unbacked_kg"]) == (0, 90 * T)
    over = compliance.true_up(platform.uow(), permit=permit, year=2027, actor="officer",
                              now=LATER)
    assert over["status"] == "violation" and over["lines"][0]["exceedance_kg"] == 20 * T
    assert _permitted(platform, permit) == {2025: 100 * T, 2026: 100 * T, 2027: 100 * T}
    _sums_zero(platform)


def test_banking_counts_only_once_written_into_the_permit_under_its_cap(platform) -> None:  # type: ignore[no-untyped-def]
    permit = _world(platform, {2025: None, 2027: None}, cap_t=110)
    on = VintagePolicy(banking=True)
    _report(platform, permit, 2025, 80 * T)
    compliance.true_up(platform.uow(), permit=permit, year=2025, actor="officer", policy=on,
                       now=LATER)
    _report(platform, permit, 2027, 115 * T)
    out = compliance.true_up(platform.uow(), permit=permit, year=2027, actor="officer",
                             policy=on, now=LATER)
    line = out["lines"][0]
    # 20 t banked but the cap leaves room for 10 t: the permit goes to 110 t, 5 t over
    assert (line["banked_kg"], line["permitted_kg"], line["exceedance_kg"],
            line["surrendered_kg"]) == (10 * T, 110 * T, 5 * T, 110 * T)
    assert [(d["vintage"], d["kind"], d["qty_kg"]) for d in line["vintages"]] == [
        (2027, "surrender", 100 * T), (2025, "banked", 10 * T)]
    assert _permitted(platform, permit)[2027] == 110 * T
    assert _balances(platform, permit) == {2025: 10 * T, 2026: 0, 2027: 0}
    with platform.uow() as uow:
        banking = [(e.year, e.qty_kg, e.permitted_after_kg)
                   for e in RegistryStore(uow.session).events(permit) if e.kind == "banking"]
    assert banking == [(2027, 10 * T, 110 * T)]
    _sums_zero(platform)


def test_a_deduction_lowers_next_years_permit(platform) -> None:  # type: ignore[no-untyped-def]
    permit = _world(platform, {2025: None, 2026: 1 * T})
    _report(platform, permit, 2025, 104 * T)
    # 2026's rights hold 1 t (the spine's small indicator), so 1 t of the 4 t is deducted
    out = compliance.true_up(platform.uow(), permit=permit, year=2025, actor="officer",
                             deduct_next_year=True, now=LATER)
    line = out["lines"][0]
    assert (line["exceedance_kg"], line["deducted_kg"], line["outstanding_kg"]) == (
        4 * T, 1 * T, 3 * T)
    assert _permitted(platform, permit)[2026] == 99 * T
    assert _balances(platform, permit)[2026] == 0
    with platform.uow() as uow:
        sunk = LedgerStore(uow.session)
        aid = sunk.account_id(BUREAU, "surrender", asset_code("SO2", "ZA1", 2026))
        assert aid is not None and sunk.get_account(aid).balance == 1 * T  # type: ignore[union-attr]
    _sums_zero(platform)


def test_the_true_up_waits_for_the_year_and_its_deadline(platform) -> None:  # type: ignore[no-untyped-def]
    permit = _world(platform, {2027: None})
    _report(platform, permit, 2027, 50 * T)
    for early in (datetime(2027, 12, 30, 2, 0, tzinfo=UTC),  # the year is not over
                  datetime(2028, 1, 10, 2, 0, tzinfo=UTC)):  # its report is not due yet
        with pytest.raises(TrueUpTooEarly):
            compliance.true_up(platform.uow(), permit=permit, year=2027, actor="officer",
                               now=early)
    with pytest.raises(BadReport):
        compliance.true_up(platform.uow(), permit=permit, year=2027, actor="officer",
                           override_reason="x\x00", now=datetime(2027, 12, 30, tzinfo=UTC))
    out = compliance.true_up(platform.uow(), permit=permit, year=2027, actor="officer",
                             override_reason="enterprise closes on 31 December",
                             now=datetime(2027, 12, 30, 2, 0, tzinfo=UTC))
    assert out["override_reason"] == "enterprise closes on 31 December"
    st = compliance.compliance_status(platform.uow(), enterprise=C, year=2027)
    assert st["true_ups"][0]["override_reason"] == "enterprise closes on 31 December"


def test_a_rejected_deduction_leaves_nothing_behind(platform) -> None:  # type: ignore[no-untyped-def]
    permit = _world(platform, {2025: None, 2026: 1 * T})
    _report(platform, permit, 2025, 101 * T + 500)
    with platform.uow() as uow:
        aid = LedgerStore(uow.session).account_id(permit, AccountKind.CONFIRMED,
                                                  asset_code("SO2", "ZA1", 2026))
    assert aid is not None
    ledger_service.freeze(platform.uow, aid, reason="reconciliation discrepancy",
                          initiator=Initiator.BUREAU, actor="officer")
    with pytest.raises(LedgerRejection):
        compliance.true_up(platform.uow(), permit=permit, year=2025, actor="officer",
                           deduct_next_year=True, now=LATER)
    # nothing was stored: no true-up, no surrender, no permit change
    assert _balances(platform, permit) == {2025: 100 * T, 2026: 1 * T, 2027: 0}
    assert _permitted(platform, permit) == {2025: 100 * T, 2026: 100 * T, 2027: 100 * T}
    assert compliance.compliance_status(platform.uow(), enterprise=C,
                                        year=2025)["permits"][permit] == "pending"
    ledger_service.unfreeze(platform.uow, aid, reason="resolved", initiator=Initiator.BUREAU,
                            actor="officer")
    out = compliance.true_up(platform.uow(), permit=permit, year=2025, actor="officer",
                             deduct_next_year=True, now=LATER)
    assert out["lines"][0]["deducted_kg"] == 1 * T
    assert out["lines"][0]["outstanding_kg"] == 500
    assert out["status"] == "violation"  # the exceedance happened; Art. 34 applies either way
    _sums_zero(platform)
