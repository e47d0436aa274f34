"""Paid use of rights on a real database (SQLite, and PostgreSQL when configured):
confirmation bills the fee at the base price, rights become tradable only once paid, paying
moves cash to the bureau's revenue account once, new units buy their rights, and a priced
reserve release charges its grantees."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from allocation import paid_use_service as paid_use
from allocation import service as alloc
from allocation.errors import (
    BillNotFound,
    InsufficientCash,
    PaidUseUnpaid,
    PlanPriceBelowBase,
    PurchaseOnlyUnit,
)
from ledger import service as ledger_service
from ledger.store import LedgerStore
from ledger.transactions import AccountKind
from tests.integration.spine import NOW, A, B, build_spine

pytestmark = pytest.mark.db


def cash(platform, holder: str) -> int:  # type: ignore[no-untyped-def]
    with platform.uow() as uow:
        store = LedgerStore(uow.session)
        aid = store.account_id(holder, AccountKind.CASH, "CNY")
        acct = store.get_account(aid) if aid is not None else None
        return acct.balance if acct is not None else 0


def events(platform, permit: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [e["kind"] for e in alloc.permit_view(platform.uow(), permit)["history"]]


def test_confirm_bills_pay_once_then_tradable(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    pa = codes["A"]
    alloc.confirm_rights(platform.uow(), permit=pa, pollutant="SO2", year=2026, qty_kg=1000,
                         actor="bureau", now=NOW)
    bills = paid_use.list_bills(platform.uow(), enterprise=A, now=NOW)
    assert bills["total"] == 1 and bills["owed_fen"] == 97_600
    bill = bills["items"][0]
    # 1 000 kg SO2 × 976 yuan/t = 976.00 yuan, due 30 days after the Beijing issue date
    assert (bill["permit"], bill["pollutant"], bill["year"], bill["qty_kg"], bill["price"],
            bill["amount_fen"], bill["status"], bill["due_on"], bill["source"]) == (
        pa, "SO2", 2026, 1000, 97_600, 97_600, "unpaid", "2026-07-01", "confirmation")

    # not tradable while unpaid: refused, nothing written
    with pytest.raises(PaidUseUnpaid) as exc:
        alloc.verify_surplus(platform.uow(), permit=pa, pollutant="SO2", year=2026,
                             qty_kg=500, actor="bureau", now=NOW)
    assert exc.value.code == "paid_use_unpaid" and exc.value.field == "year"
    assert "verified_surplus" not in events(platform, pa)

    # A holds 10 yuan: short
    with pytest.raises(InsufficientCash):
        paid_use.pay_bill(platform.uow(), bill_id=bill["id"], actor="trader_a", enterprise=A,
                          now=NOW)
    assert cash(platform, A) == 1000 and cash(platform, paid_use.REVENUE) == 0
    # another enterprise's bill is not found
    with pytest.raises(BillNotFound):
        paid_use.pay_bill(platform.uow(), bill_id=bill["id"], actor="trader_b", enterprise=B,
                          now=NOW)
    alloc.deposit_cash(platform.uow(), enterprise=A, amount_fen=100_000, actor="bureau",
                       reference="A-fee", now=NOW)
    paid = paid_use.pay_bill(platform.uow(), bill_id=bill["id"], actor="trader_a",
                             enterprise=A, now=NOW)
    assert paid["status"] == "paid" and not paid["replayed"]
    assert paid["transfer_id"] == f"paid-use:{bill['id']}"
    assert cash(platform, A) == 1000 + 100_000 - 97_600
    assert cash(platform, paid_use.REVENUE) == 97_600
    assert cash(platform, ledger_service.BUREAU) == 0  # revenue is its own account
    assert set(ledger_service.asset_sums(platform.uow()).values()) == {0}
    again = paid_use.pay_bill(platform.uow(), bill_id=bill["id"], actor="trader_a",
                              enterprise=A, now=NOW)
    assert again["replayed"] and again["status"] == "paid"
    assert cash(platform, A) == 3400 and cash(platform, paid_use.REVENUE) == 97_600

    r = alloc.verify_surplus(platform.uow(), permit=pa, pollutant="SO2", year=2026,
                             qty_kg=500, actor="bureau", now=NOW)
    assert r.qty_kg == -500

    # more rights confirmed later: a new bill, not tradable until it is paid too
    alloc.confirm_rights(platform.uow(), permit=pa, pollutant="SO2", year=2026, qty_kg=2000,
                         actor="bureau", now=NOW)
    with pytest.raises(PaidUseUnpaid):
        alloc.verify_surplus(platform.uow(), permit=pa, pollutant="SO2", year=2026,
                             qty_kg=100, actor="bureau", now=NOW)


def test_overdue_bills_are_listed_for_the_bureau(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    for p in (codes["A"], codes["B"]):
        alloc.confirm_rights(platform.uow(), permit=p, pollutant="SO2", year=2026,
                             actor="bureau", now=NOW)
    on_due = datetime(2026, 7, 1, 15, 0, tzinfo=UTC)  # 23:00 Beijing, still the due date
    assert paid_use.list_bills(platform.uow(), overdue=True, now=on_due)["total"] == 0
    late = datetime(2026, 7, 1, 16, 0, tzinfo=UTC)  # 00:00 Beijing on 2 July
    out = paid_use.list_bills(platform.uow(), overdue=True, now=late)
    assert out["total"] == 2 and all(b["overdue"] for b in out["items"])
    # A 8 000 kg, B 6 000 kg (the allocated quantities) at 976 yuan/t
    assert out["owed_fen"] == 780_800 + 585_600
    # what is owed counts every selected bill, not only the page shown
    page = paid_use.list_bills(platform.uow(), overdue=True, limit=1, now=late)
    assert len(page["items"]) == 1 and page["owed_fen"] == 780_800 + 585_600
    assert paid_use.list_bills(platform.uow(), enterprise=B, now=late)["total"] == 1


def test_new_and_expanded_units_are_refused_confirmation(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    paid_use.set_unit_kind(platform.uow(), permit=codes["B"], unit_kind="new")
    before = ledger_service.asset_sums(platform.uow())
    with pytest.raises(PurchaseOnlyUnit) as exc:
        alloc.confirm_rights(platform.uow(), permit=codes["B"], pollutant="SO2", year=2026,
                             actor="bureau", now=NOW)
    assert (exc.value.code, exc.value.kind, exc.value.field) == (
        "rights_by_purchase_only", "conflict", "permit_code")
    with pytest.raises(PurchaseOnlyUnit) as exc:
        alloc.confirm_rights_batch(platform.uow(), items=[
            alloc.ConfirmItem(codes["A"], "SO2", 2026, 100),
            alloc.ConfirmItem(codes["B"], "SO2", 2026, 100)], actor="bureau", now=NOW)
    assert exc.value.field == "items[1].permit_code"
    # nothing half-stored: no rights moved, no bill, no event
    assert ledger_service.asset_sums(platform.uow()) == before
    assert paid_use.list_bills(platform.uow())["total"] == 0
    assert "confirmation" not in events(platform, codes["A"])


def test_a_batch_bills_each_confirmation(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    alloc.confirm_rights_batch(platform.uow(), items=[
        alloc.ConfirmItem(codes["A"], "SO2", 2026, 1000),
        alloc.ConfirmItem(codes["A"], "SO2", 2026, 500),
        alloc.ConfirmItem(codes["B"], "SO2", 2026, 2000)], actor="bureau", now=NOW)
    items = paid_use.list_bills(platform.uow(), now=NOW)["items"]
    assert sorted((b["permit"], b["qty_kg"], b["amount_fen"]) for b in items) == sorted([
        (codes["A"], 1000, 97_600), (codes["A"], 500, 48_800), (codes["B"], 2000, 195_200)])
    assert len({b["reference"] for b in items}) == 3


def test_a_priced_reserve_release_charges_the_grantee(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    a, b = codes["A"], codes["B"]
    for p in (a, b):  # 1 000 kg each, within their headroom under the cap
        alloc.request_reserve(platform.uow(), permit=p, pollutant="SO2", year=2026,
                              qty_kg=1000, actor="officer", now=NOW)
    with pytest.raises(PlanPriceBelowBase):
        alloc.plan_reserve_release(platform.uow, year=2026, actor="officer",
                                   prices={"SO2": 50_000}, now=NOW)
    plan = alloc.plan_reserve_release(platform.uow, year=2026, actor="officer",
                                      prices={"SO2": 150_000}, now=NOW)
    assert plan["prices"] == {"SO2": 150_000}
    revenue, cash_b = cash(platform, paid_use.REVENUE), cash(platform, B)
    out = alloc.release_reserve_plan(platform.uow(), plan_id=plan["id"], actor="officer2",
                                     now=NOW)
    # B pays 1 000 kg × 1 500 yuan/t; A (10 yuan of cash) is skipped with a note
    assert (out["released_kg"], out["grants"], out["skipped"]) == (1000, 1, 1)
    view = alloc.reserve_plan_view(platform.uow(), plan["id"])
    by = {g["permit"]: g for g in view["grants"]}
    assert (by[b]["status"], by[b]["price"], by[b]["amount_fen"]) == ("released", 150_000,
                                                                     150_000)
    assert by[a]["status"] == "skipped" and "cash" in by[a]["note"]
    assert cash(platform, B) == cash_b - 150_000
    assert cash(platform, paid_use.REVENUE) == revenue + 150_000
    assert set(ledger_service.asset_sums(platform.uow()).values()) == {0}
    bills = paid_use.list_bills(platform.uow(), enterprise=B, now=NOW)["items"]
    assert [(x["source"], x["status"], x["amount_fen"]) for x in bills] == [
        ("reserve_release", "paid", 150_000)]
    assert events(platform, a).count("reserve_release") == 0


def test_plan_prices_can_be_set_before_release(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    alloc.request_reserve(platform.uow(), permit=codes["B"], pollutant="SO2", year=2026,
                          qty_kg=1000, actor="officer", now=NOW)
    plan = alloc.plan_reserve_release(platform.uow, year=2026, actor="officer", now=NOW)
    assert plan["prices"] == {"SO2": 97_600}  # the base price by default
    out = paid_use.set_plan_prices(platform.uow(), plan_id=plan["id"],
                                   prices={"SO2": 200_000})
    assert out["prices"] == {"SO2": 200_000}
    # a later call for another pollutant keeps the price set before
    out = paid_use.set_plan_prices(platform.uow(), plan_id=plan["id"],
                                   prices={"NOx": 300_000})
    assert out["prices"] == {"SO2": 200_000, "NOx": 300_000}
    alloc.release_reserve_plan(platform.uow(), plan_id=plan["id"], actor="officer", now=NOW)
    assert cash(platform, paid_use.REVENUE) == 200_000
    assert date.fromisoformat(paid_use.list_bills(platform.uow())["items"][0]["due_on"])
