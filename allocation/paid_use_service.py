"""Paid use of rights (有偿使用): use cases and the hooks the allocation use cases call.

Guarantees:
- a confirmation to an existing unit bills the paid-use fee (base price, `allocation.
  paid_use`) in the confirmation's own transaction; a new or expanded unit's confirmation
  is refused (409 ``rights_by_purchase_only``) before anything is written;
- rights of a permit, pollutant and year become tradable (`verify_surplus`) only once its
  bills are paid (409 ``paid_use_unpaid``);
- paying a bill is one ledger transfer of cash, the enterprise's cash account → the bureau's
  revenue account (`REVENUE`, not the settlement bank), refused with ``insufficient_cash``
  when the cash is short; a bill is paid once (paying a paid bill answers it unchanged);
- a reserve release charges each grantee qty × the plan's price (cash → revenue) in the
  release's transaction; a grantee without the cash is skipped with a note, as a grantee
  without headroom is. Each charge is recorded as a paid bill.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from allocation import paid_use as rules
from allocation.errors import (
    BadUnitKind,
    BillNotFound,
    BillNotPayable,
    InsufficientCash,
    PaidUseUnpaid,
    PurchaseOnlyUnit,
    ReservePlanNotFound,
)
from allocation.paid_use_tables import PaidUseBillRow, PaidUseStore
from allocation.permits import PermitNotFound
from kernel.clock import system_clock, trading_day
from kernel.errors import InvalidInput
from ledger import errors as ledger_errors
from ledger import service as ledger
from ledger.entries import Transfer
from ledger.service import UoW
from ledger.store import LedgerStore
from ledger.transactions import Initiator
from notices import service as notify

#: the bureau's revenue account for paid-use fees and reserve sales (a cash account of its
#: own: the bureau's cash account funds buy-backs, the bank account is the gateway)
REVENUE = "BUREAU-REVENUE"
#: ledger type of a payment: a cash → cash transfer
PAYMENT_TYPE = "transfer"


# --------------------------------------------------------------------------- hooks


def check_confirmable(uow: UoW, permit: str) -> None:
    """Refuse confirmation to a unit that obtains rights only by purchase."""
    kind = PaidUseStore(uow.session).unit_kind(permit)
    if kind is not None and rules.requires_purchase(kind):
        raise PurchaseOnlyUnit(
            f"permit {permit} is a {kind} unit: new and expanded units obtain rights only by "
            "purchase (auction, listing or negotiated transfer), not by confirmation",
            field="permit_code")


def confirmation_bill(*, enterprise: str, permit: str, pollutant: str, year: int,
                      qty_kg: int, reference: str, now: datetime) -> dict[str, Any] | None:
    """The bill (as a row) of a confirmation to an existing unit, or None where the
    pollutant has no published base price or the fee rounds to nothing."""
    price = rules.confirmation_price(pollutant)
    if price is None:
        return None
    amount = rules.fee_fen(qty_kg, price)
    if amount <= 0:
        return None
    return dict(enterprise=enterprise, permit=permit, pollutant=pollutant, year=year,
                source="confirmation", reference=reference, qty_kg=qty_kg, price=price,
                amount_fen=amount, price_version=rules.BASE_PRICE_VERSION, issued_at=now,
                due_on=rules.due_date(now), status="unpaid", paid_at=None, paid_by=None,
                transfer_id=None)


def bill_confirmations(uow: UoW, bills: Sequence[dict[str, Any] | None]) -> int:
    """Store the bills of confirmations (inside the confirmation's transaction)."""
    rows = [b for b in bills if b is not None]
    PaidUseStore(uow.session).add_bills(rows)
    notify.bills_issued(uow, rows)
    return len(rows)


def check_paid(uow: UoW, *, permit: str, pollutant: str, year: int) -> None:
    """Rights become tradable only once the year's paid-use bills are paid."""
    unpaid = PaidUseStore(uow.session).unpaid(permit, pollutant, year)
    if unpaid:
        owed = sum(b.amount_fen for b in unpaid)
        raise PaidUseUnpaid(
            f"{permit} {pollutant} {year}: {len(unpaid)} paid-use bill(s) of {owed} fen "
            f"unpaid (bill {', '.join(str(b.id) for b in unpaid)}): rights become tradable "
            "only once paid", field="year", bills=[b.id for b in unpaid])


class ReleaseCharges:
    """What a reserve release charges its grantees, inside the release's transaction: each
    grant qty × the plan's price, from the grantee's cash to the bureau's revenue account;
    the cash each enterprise has left is tracked across its grants in the plan."""

    def __init__(self, uow: UoW, *, plan_id: int, prices: Mapping[str, Any] | None,
                 pollutants: set[str], now: datetime) -> None:
        self.uow, self.plan_id, self.now = uow, plan_id, now
        self.prices = rules.plan_prices(pollutants, None) | {
            k: int(v) for k, v in (prices or {}).items()}
        self.cash_left: dict[str, int] = {}
        self.revenue: int | None = None

    def charge(self, grant: Any, qty: int, enterprise: str
               ) -> tuple[list[Transfer], str | None]:
        """The transfers that charge this grant (recording its price, amount and a paid
        bill), or a note why it is skipped."""
        price = self.prices.get(grant.pollutant)
        if price is None:
            return [], (f"no price for {grant.pollutant} in the plan (no published base "
                        "price): set the plan's price")
        amount = rules.fee_fen(qty, price)
        grant.price, grant.amount_fen = price, amount
        if amount <= 0:
            return [], None
        cash = ledger.ensure_cash_account(self.uow, enterprise, self.now)
        if enterprise not in self.cash_left:
            acct = LedgerStore(self.uow.session).get_account(cash)
            self.cash_left[enterprise] = acct.available if acct is not None else 0
        if self.cash_left[enterprise] < amount:
            grant.price, grant.amount_fen = None, None
            return [], (f"{enterprise} has {self.cash_left[enterprise]} fen of cash, "
                        f"{amount} fen due at {price} fen/t")
        self.cash_left[enterprise] -= amount
        if self.revenue is None:
            self.revenue = ledger.ensure_cash_account(self.uow, REVENUE, self.now)
        tid = f"release:{self.plan_id}:{grant.permit}:{grant.pollutant}:{grant.year}:pay"
        PaidUseStore(self.uow.session).add_bills([dict(
            enterprise=enterprise, permit=grant.permit, pollutant=grant.pollutant,
            year=grant.year, source="reserve_release", reference=tid, qty_kg=qty,
            price=price, amount_fen=amount, price_version=rules.BASE_PRICE_VERSION,
            issued_at=self.now, due_on=trading_day(self.now), status="paid",
            paid_at=self.now, paid_by="reserve release", transfer_id=tid)])
        return [Transfer(tid, PAYMENT_TYPE, cash, self.revenue, amount,
                         reference=f"reserve_plan:{self.plan_id}")], None


# --------------------------------------------------------------------------- use cases


def bill_dict(b: PaidUseBillRow, today: date) -> dict[str, Any]:
    return {"id": b.id, "enterprise": b.enterprise, "permit": b.permit,
            "pollutant": b.pollutant, "year": b.year, "source": b.source,
            "reference": b.reference, "qty_kg": b.qty_kg, "price": b.price,
            "amount_fen": b.amount_fen, "price_version": b.price_version,
            "issued_at": b.issued_at.isoformat(), "due_on": b.due_on.isoformat(),
            "status": b.status, "overdue": rules.is_overdue(b.status, b.due_on, today),
            "paid_at": b.paid_at.isoformat() if b.paid_at else None, "paid_by": b.paid_by,
            "transfer_id": b.transfer_id}


def list_bills(uow: UoW, *, enterprise: str | None = None, permit: str | None = None,
               status: str | None = None, overdue: bool = False, offset: int = 0,
               limit: int = 100, now: datetime | None = None,
               district: str | None = None) -> dict[str, Any]:
    """Bills newest first: an enterprise's (`enterprise`), a district's (`district`: a
    district officer's list) or all; `overdue` keeps unpaid bills past their due date
    (Beijing date)."""
    today = trading_day(now or system_clock())
    if status is not None and status not in rules.BILL_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(rules.BILL_STATUSES)}",
                           field="status")
    due_before = today if overdue else None
    with uow:
        store = PaidUseStore(uow.session)
        total, rows = store.bills(enterprise=enterprise, permit=permit, status=status,
                                  due_before=due_before, offset=offset, limit=limit,
                                  district=district)
        items = [bill_dict(b, today) for b in rows]
        # what every selected bill still owes, not only this page's
        owed = store.owed_fen(enterprise=enterprise, permit=permit, status=status,
                              due_before=due_before, district=district)
    return {"total": total, "offset": offset, "limit": limit, "items": items,
            "owed_fen": owed}


def get_bill(uow: UoW, bill_id: int, *, enterprise: str | None = None,
             now: datetime | None = None) -> dict[str, Any]:
    """One bill (an enterprise's own only when `enterprise` is given: BillNotFound else)."""
    with uow:
        b = PaidUseStore(uow.session).bill(bill_id)
        if b is None or (enterprise is not None and b.enterprise != enterprise):
            raise BillNotFound(f"no bill {bill_id}", field="bill")
        return bill_dict(b, trading_day(now or system_clock()))


def pay_bill(uow: UoW, *, bill_id: int, actor: str, enterprise: str | None = None,
             initiator: Initiator = Initiator.ENTERPRISE,
             now: datetime | None = None) -> dict[str, Any]:
    """Pay a bill: one ledger transfer, the enterprise's cash → the bureau's revenue
    account, and the bill marked paid, in one unit of work. `enterprise` scopes the caller
    (another enterprise's bill is 404, as a missing one). Paying a paid bill answers it
    unchanged (``replayed``); a cancelled one is 409 ``bill_not_payable``; short cash 409
    ``insufficient_cash``."""
    now = now or system_clock()
    today = trading_day(now)
    with uow:
        ledger.lock_journal(uow)  # before the bill row: see ledger.service
        store = PaidUseStore(uow.session)
        b = store.bill(bill_id, lock=True)
        if b is None or (enterprise is not None and b.enterprise != enterprise):
            raise BillNotFound(f"no bill {bill_id}", field="bill")
        if b.status == "paid":
            return bill_dict(b, today) | {"replayed": True}
        if b.status != "unpaid":
            raise BillNotPayable(f"bill {bill_id} is {b.status}", field="bill")
        cash = ledger.ensure_cash_account(uow, b.enterprise, now)
        revenue = ledger.ensure_cash_account(uow, REVENUE, now)
        acct = LedgerStore(uow.session).get_account(cash)
        available = acct.available if acct is not None else 0
        if available < b.amount_fen:
            raise InsufficientCash(
                f"bill {bill_id} is {b.amount_fen} fen; {b.enterprise} has {available} fen "
                "of cash available", field="bill")
        tid = f"paid-use:{bill_id}"
        try:
            ledger.execute(uow, [Transfer(tid, PAYMENT_TYPE, cash, revenue, b.amount_fen,
                                          reference=f"paid_use_bill:{bill_id}")],
                           initiator=initiator, actor=actor, now=now)
        except ledger_errors.InsufficientBalance as exc:
            raise InsufficientCash(exc.message, field="bill") from None
        b.status, b.paid_at, b.paid_by, b.transfer_id = "paid", now, actor, tid
        uow.session.flush()
        out = bill_dict(b, today) | {"replayed": False}
        uow.commit()
        return out


def pay_all(uow_factory: Any, *, permit: str, actor: str,
            initiator: Initiator = Initiator.ENTERPRISE,
            now: datetime | None = None) -> list[dict[str, Any]]:
    """Pay every unpaid bill of a permit, each in its own unit of work (for the demo and
    scripts; stops at the first refusal, with the bills paid before it kept)."""
    with uow_factory() as uow:
        _total, rows = PaidUseStore(uow.session).bills(permit=permit, status="unpaid",
                                                        limit=10_000)
        ids = sorted(b.id for b in rows)
    return [pay_bill(uow_factory(), bill_id=i, actor=actor, initiator=initiator, now=now)
            for i in ids]


def set_unit_kind(uow: UoW, *, permit: str, unit_kind: str) -> dict[str, Any]:
    """Record whether a permit's unit is existing, new or expanded."""
    if unit_kind not in rules.UNIT_KINDS:
        raise BadUnitKind(f"unit_kind must be one of {', '.join(rules.UNIT_KINDS)}",
                          field="unit_kind")
    with uow:
        if not PaidUseStore(uow.session).set_unit_kind(permit, unit_kind):
            raise PermitNotFound(f"no permit {permit}", field="permit")
        uow.commit()
    return {"permit": permit, "unit_kind": unit_kind}


def set_plan_prices(uow: UoW, *, plan_id: int, prices: Mapping[str, object]
                    ) -> dict[str, Any]:
    """Set a planned reserve plan's price per pollutant (fen per tonne, never below a
    published base price); pollutants not given keep their price or take the base price."""
    from allocation.errors import PlanNotReleasable
    from allocation.store import AllocationStore

    if not isinstance(prices, Mapping) or not prices:
        raise InvalidInput("prices must map pollutants to fen per tonne", field="prices")
    with uow:
        store = AllocationStore(uow.session)
        plan = store.plan(plan_id, lock=True)
        if plan is None:
            raise ReservePlanNotFound(f"no reserve plan {plan_id}", field="id")
        if plan.status != "planned":
            raise PlanNotReleasable(f"reserve plan {plan_id} is {plan.status}: only a "
                                    "planned plan takes prices", field="id")
        pols = {g.pollutant for g in store.grants(plan_id)}
        # the prices set before stay unless given again; the rest take the base price
        merged = rules.plan_prices(pols, dict(plan.prices or {}) | dict(prices))
        plan.prices = merged
        uow.commit()
    return {"id": plan_id, "prices": merged}


def base_prices() -> list[dict[str, Any]]:
    return [{"pollutant": b.pollutant, "price": b.fen_per_t, "status": b.status,
             "source": b.source, "version": rules.BASE_PRICE_VERSION}
            for b in rules.BASE_PRICES[rules.BASE_PRICE_VERSION].values()]


__all__ = ["REVENUE", "ReleaseCharges", "base_prices", "bill_confirmations",
           "check_confirmable", "check_paid", "confirmation_bill", "list_bills", "pay_all",
           "pay_bill", "set_plan_prices", "set_unit_kind"]
