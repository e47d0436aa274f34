"""Rights movements of the allocation context: issue an indicator into the bureau reserve,
confirm rights (one or a batch), verify a surplus, reverse a transfer.

Each use case runs in one unit of work: `with uow: ...; uow.commit()`. The permit's
permitted quantity and history are written in the same transaction as the ledger batch that
moves the rights, so the permit and the ledger can never disagree after a commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from allocation import paid_use_service as paid_use
from allocation.checks import positive, usable_quantity
from allocation.permits import ConfirmationAboveCap, IndicatorAlreadyIssued, IndicatorNotFound
from allocation.store import RegistryStore
from kernel.clock import system_clock, trading_day
from kernel.errors import DomainError, InvalidInput
from kernel.pollutants import parse_pollutant
from ledger import service as ledger
from ledger.entries import Transfer
from ledger.service import UoW
from ledger.store import LedgerStore
from ledger.transactions import AccountKind, Initiator


@dataclass(frozen=True)
class RightsChange:
    permit: str
    pollutant: str
    year: int
    qty_kg: int
    permitted_after_kg: int
    transfer_id: str


def issue_indicator(uow: UoW, *, zone: str, pollutant: str, year: int, actor: str,
                    now: datetime | None = None) -> int:
    """Issue a zone's total-control indicator into the bureau reserve (supply enters)."""
    now = now or system_clock()
    with uow:
        store = RegistryStore(uow.session)
        ind = store.indicator(zone, pollutant, year, lock=True)
        if ind is None:
            raise IndicatorNotFound(f"no indicator for {zone} {pollutant} {year}")
        if ind.issued:
            raise IndicatorAlreadyIssued(f"indicator {zone} {pollutant} {year} was issued")
        accts = ledger.ensure_rights_accounts(
            uow, holder=ledger.BUREAU, pollutant=pollutant, zone=zone, vintage=year,
            kinds=[AccountKind.ISSUANCE, AccountKind.RESERVE], now=now)
        ledger.execute(uow, [Transfer(
            f"issuance:{zone}:{pollutant}:{year}", "issuance", accts[AccountKind.ISSUANCE],
            accts[AccountKind.RESERVE], ind.total_kg, reference=f"indicator:{zone}")],
            initiator=Initiator.BUREAU, actor=actor, now=now)
        ind.issued = True
        uow.commit()
        return ind.total_kg


def confirm_rights(uow: UoW, *, permit: str, pollutant: str, year: int,
                   qty_kg: int | None = None, actor: str,
                   now: datetime | None = None) -> RightsChange:
    """Rights confirmation (确权): reserve → the permit's confirmed account, never above the
    cap. Without `qty_kg`, confirms the part of the permitted quantity not yet held as rights.

    The permitted quantity is the permit's legal limit from issuance (DOMAIN §3):
    confirmation records it as rights and leaves it as it is; only rights confirmed beyond
    it (up to the cap) raise it (`permitted_after_confirmation`)."""
    now = now or system_clock()
    pol = parse_pollutant(pollutant).value
    with uow:
        ledger.lock_journal(uow)  # before the permit rows: see ledger.service
        store = RegistryStore(uow.session)
        _p, q = usable_quantity(store, permit, pol, year, trading_day(now))
        paid_use.check_confirmable(uow, permit)  # new/expanded units buy their rights
        accts = ledger.ensure_rights_accounts(
            uow, holder=permit, pollutant=pol, zone=q.zone, vintage=year,
            kinds=[AccountKind.CONFIRMED, AccountKind.TRADABLE], now=now,
            upper_limit=q.cap_kg)
        reserve = ledger.ensure_rights_accounts(
            uow, holder=ledger.BUREAU, pollutant=pol, zone=q.zone, vintage=year,
            kinds=[AccountKind.RESERVE], now=now)[AccountKind.RESERVE]
        held = LedgerStore(uow.session).get_account(accts[AccountKind.CONFIRMED])
        assert held is not None
        consumed = store.surrendered_kg(permit, pol, year)
        if qty_kg is None:
            qty_kg = q.permitted_kg - held.balance - consumed
            if qty_kg <= 0:
                raise ConfirmationAboveCap(
                    f"the permitted {q.permitted_kg} kg is already confirmed", field="qty_kg")
        qty = positive(qty_kg)
        if held.balance + held.credits_pending + qty > q.cap_kg:
            raise ConfirmationAboveCap(
                f"confirming {qty} kg would bring {permit} {pol} {year} to "
                f"{held.balance + qty} kg, above its cap of {q.cap_kg} kg", field="qty_kg")
        tid = f"confirm:{permit}:{pol}:{year}:{held.credits_posted + qty}"
        ledger.execute(uow, [Transfer(tid, "confirmation", reserve,
                                      accts[AccountKind.CONFIRMED], qty,
                                      reference=f"permit:{permit}")],
                       initiator=Initiator.BUREAU, actor=actor, now=now)
        after = permitted_after_confirmation(q.permitted_kg, held.balance + consumed + qty)
        store.set_permitted(permit, pol, year, after, confirmed=True)
        store.add_event(permit=permit, pollutant=pol, year=year, kind="confirmation",
                        qty_kg=qty, counterparty="RESERVE", price=None, reference=tid,
                        permitted_after_kg=after, at=now, note=None)
        paid_use.bill_confirmations(uow, [paid_use.confirmation_bill(  # the paid-use fee
            enterprise=_p.enterprise, permit=permit, pollutant=pol, year=year, qty_kg=qty,
            reference=tid, now=now)])
        uow.commit()
        return RightsChange(permit, pol, year, qty, after, tid)


def permitted_after_confirmation(permitted_kg: int, recorded_kg: int) -> int:
    """The permitted quantity after a confirmation that brings the rights recorded for the
    year (held now plus surrendered) to `recorded_kg`: unchanged while they stay within it,
    raised to them beyond it (the cap is checked before)."""
    return max(permitted_kg, recorded_kg)


@dataclass(frozen=True)
class ConfirmItem:
    """One confirmation of a batch; `qty_kg` None confirms the allocated rest."""

    permit: str
    pollutant: str
    year: int
    qty_kg: int | None = None


def _name_item(exc: DomainError, i: int, item: ConfirmItem) -> DomainError:
    """The item's own rejection (same class and code), naming the item in the batch."""
    exc.message = f"items[{i}] ({item.permit} {item.pollutant} {item.year}): {exc.message}"
    exc.args = (exc.message,)
    exc.field = f"items[{i}].{exc.field}" if exc.field else f"items[{i}]"
    exc.details["item"] = i
    return exc


def confirm_rights_batch(uow: UoW, *, items: Sequence[ConfirmItem], actor: str,
                         now: datetime | None = None,
                         plan: Callable[[UoW], Sequence[ConfirmItem]] | None = None
                         ) -> list[RightsChange]:
    """Many rights confirmations in one unit of work and one linked ledger batch, with the
    rules, transfer ids and history events of `confirm_rights` called once per item in the
    same order (items for the same permit, pollutant and year count the earlier ones).

    All or nothing: the first bad item rolls the whole batch back with that item's own
    error (same code), its message and `field` naming it (``items[3].qty_kg``). At most the
    ledger's batch size (8,000) items per call.

    `plan` (instead of `items`): computes the items inside the transaction, after the
    journal lock, so what it reads (what waits for confirmation) cannot change before the
    batch is written (`allocation.bulk_confirmation`)."""
    from ledger.entries import MAX_BATCH, AccountState

    now = now or system_clock()
    if len(items) > MAX_BATCH:
        raise InvalidInput(f"a batch takes at most {MAX_BATCH} items", field="items")
    if not items and plan is None:
        return []
    today = trading_day(now)
    with uow:
        ledger.lock_journal(uow)  # before the permit rows: see ledger.service
        if plan is not None:
            items = plan(uow)
            if len(items) > MAX_BATCH:
                raise InvalidInput(f"a batch takes at most {MAX_BATCH} items", field="items")
            if not items:
                return []
        store = RegistryStore(uow.session)
        lstore = LedgerStore(uow.session)
        # the permits' existing accounts in a few reads; missing ones are made per item
        holders = sorted({item.permit for item in items})
        known: dict[tuple[str, str, str], AccountState] = {}
        for k in range(0, len(holders), 500):
            for a in lstore.accounts_of(holders[k:k + 500]):
                known[a.holder, a.kind.value, a.asset] = a
        reserves: dict[tuple[str, str], int] = {}
        #: confirmed account → [balance, credits pending, credits posted] as the batch goes
        running: dict[int, list[int]] = {}
        #: (permit, pollutant, year) → kg surrendered at true-ups, read once for the batch
        consumed_of = store.surrendered_of(holders)
        transfers: list[Transfer] = []
        out: list[RightsChange] = []
        bills: list[dict[str, object] | None] = []  # the paid-use fees, stored with the batch
        by_tid: dict[str, int] = {}
        for i, item in enumerate(items):
            try:
                pol = parse_pollutant(item.pollutant).value
                _p, q = usable_quantity(store, item.permit, pol, item.year, today)
                paid_use.check_confirmable(uow, item.permit)
                asset = ledger.asset_code(pol, q.zone, item.year)
                held = known.get((item.permit, AccountKind.CONFIRMED.value, asset))
                if held is None or (item.permit, AccountKind.TRADABLE.value,
                                    asset) not in known:
                    acct = ledger.ensure_rights_accounts(
                        uow, holder=item.permit, pollutant=pol, zone=q.zone,
                        vintage=item.year, kinds=[AccountKind.CONFIRMED, AccountKind.TRADABLE],
                        now=now, upper_limit=q.cap_kg)[AccountKind.CONFIRMED]
                    held = lstore.get_account(acct)
                    assert held is not None
                    known[item.permit, AccountKind.CONFIRMED.value, asset] = held
                    known[item.permit, AccountKind.TRADABLE.value, asset] = held  # it exists
                acct = held.id
                if (pol, q.zone) not in reserves:
                    reserves[pol, q.zone] = ledger.ensure_rights_accounts(
                        uow, holder=ledger.BUREAU, pollutant=pol, zone=q.zone,
                        vintage=item.year, kinds=[AccountKind.RESERVE],
                        now=now)[AccountKind.RESERVE]
                if acct not in running:
                    running[acct] = [held.balance, held.credits_pending, held.credits_posted]
                balance, pending, credits = running[acct]
                consumed = consumed_of.get((item.permit, pol, item.year), 0)
                qty_kg = item.qty_kg
                if qty_kg is None:
                    qty_kg = q.permitted_kg - balance - consumed
                    if qty_kg <= 0:
                        raise ConfirmationAboveCap(
                            f"the permitted {q.permitted_kg} kg is already confirmed",
                            field="qty_kg")
                qty = positive(qty_kg)
                if balance + pending + qty > q.cap_kg:
                    raise ConfirmationAboveCap(
                        f"confirming {qty} kg would bring {item.permit} {pol} {item.year} to "
                        f"{balance + qty} kg, above its cap of {q.cap_kg} kg", field="qty_kg")
            except DomainError as exc:
                raise _name_item(exc, i, item) from None
            tid = f"confirm:{item.permit}:{pol}:{item.year}:{credits + qty}"
            running[acct] = [balance + qty, pending, credits + qty]
            by_tid[tid] = i
            transfers.append(Transfer(tid, "confirmation", reserves[pol, q.zone], acct, qty,
                                      reference=f"permit:{item.permit}"))
            after = permitted_after_confirmation(q.permitted_kg, balance + consumed + qty)
            # the row is loaded (and locked): the flush writes the changes in executemany
            q.permitted_kg, q.confirmed = after, True
            store.add_event(permit=item.permit, pollutant=pol, year=item.year,
                            kind="confirmation", qty_kg=qty, counterparty="RESERVE",
                            price=None, reference=tid, permitted_after_kg=after, at=now,
                            note=None)
            bills.append(paid_use.confirmation_bill(
                enterprise=_p.enterprise, permit=item.permit, pollutant=pol, year=item.year,
                qty_kg=qty, reference=tid, now=now))
            out.append(RightsChange(item.permit, pol, item.year, qty, after, tid))
        try:
            ledger.execute(uow, transfers, initiator=Initiator.BUREAU, actor=actor, now=now)
        except DomainError as exc:
            bad = by_tid.get(str(getattr(exc, "transfer_id", None) or ""))
            if bad is not None:
                raise _name_item(exc, bad, items[bad]) from None
            raise
        paid_use.bill_confirmations(uow, bills)
        uow.commit()
        return out


def verify_surplus(uow: UoW, *, permit: str, pollutant: str, year: int, qty_kg: int,
                   actor: str, reason: str = "verified reduction",
                   now: datetime | None = None) -> RightsChange:
    """The bureau verifies a reduction: confirmed rights become tradable and leave the
    permit's permitted quantity."""
    now = now or system_clock()
    pol = parse_pollutant(pollutant).value
    qty = positive(qty_kg)
    with uow:
        ledger.lock_journal(uow)  # before the permit rows: see ledger.service
        store = RegistryStore(uow.session)
        _p, q = usable_quantity(store, permit, pol, year, trading_day(now))
        paid_use.check_paid(uow, permit=permit, pollutant=pol, year=year)  # tradable once paid
        accts = ledger.ensure_rights_accounts(
            uow, holder=permit, pollutant=pol, zone=q.zone, vintage=year,
            kinds=[AccountKind.CONFIRMED, AccountKind.TRADABLE], now=now,
            upper_limit=q.cap_kg)
        held = LedgerStore(uow.session).get_account(accts[AccountKind.CONFIRMED])
        assert held is not None
        tid = f"verify:{permit}:{pol}:{year}:{held.debits_posted + qty}"
        ledger.execute(uow, [Transfer(tid, "verification", accts[AccountKind.CONFIRMED],
                                      accts[AccountKind.TRADABLE], qty,
                                      reference=f"permit:{permit}")],
                       initiator=Initiator.BUREAU, actor=actor, now=now)
        after = q.permitted_kg - qty  # verified surplus leaves the permit
        store.set_permitted(permit, pol, year, after)
        store.add_event(permit=permit, pollutant=pol, year=year, kind="verified_surplus",
                        qty_kg=-qty, counterparty=None, price=None, reference=tid,
                        permitted_after_kg=after, at=now, note=reason)
        uow.commit()
        return RightsChange(permit, pol, year, -qty, after, tid)


def reverse_rights(uow: UoW, *, transfer_id: str, id: str, amount: int = 0,
                   initiator: Initiator, actor: str, reference: str | None = None,
                   now: datetime | None = None) -> ledger.BatchResult:
    """Reverse a finished ledger transfer (all of it, or `amount`) and, in the same unit of
    work, bring every permit whose confirmed account it touched into line: rights moving
    into or out of the permit move its permitted quantity (DOMAIN §3), so reversing a
    surplus verification, a release or a trade's delivery moves it back, and writes a
    "reversal" event into its history. Reversing a confirmation takes back rights that only
    recorded the permit's limit: the limit stays, except the part the confirmation had
    raised above the allocated quantity. Transfers of money leave permits alone."""
    now = now or system_clock()
    with uow:
        result = ledger.execute(uow, [Transfer(id, "reversal", 0, 0, amount,
                                               pending_id=transfer_id, reference=reference)],
                                initiator=initiator, actor=actor, now=now)
        if not result.replayed:
            ls, reg = LedgerStore(uow.session), RegistryStore(uow.session)
            original = ls.entry(transfer_id)
            confirmation = original is not None and original.type == "confirmation"
            for e in result.entries:
                for account_id, sign in ((e.debit_account, -1), (e.credit_account, 1)):
                    acct = ls.get_account(account_id)
                    if acct is None or acct.kind != AccountKind.CONFIRMED:
                        continue
                    pol, _zone, vintage = acct.asset.split("/")
                    q = reg.quantity(acct.holder, pol, int(vintage), lock=True)
                    if q is None:
                        continue
                    if confirmation and sign < 0:
                        after = max(q.permitted_kg - e.amount,
                                    min(q.permitted_kg, q.allocated_kg))
                    else:
                        after = q.permitted_kg + sign * e.amount
                    reg.set_permitted(acct.holder, pol, int(vintage), after)
                    q.permitted_kg = after  # the same row may be touched by the next entry
                    reg.add_event(permit=acct.holder, pollutant=pol, year=int(vintage),
                                  kind="reversal", qty_kg=sign * e.amount,
                                  counterparty="LEDGER", price=None, reference=e.id,
                                  permitted_after_kg=after, at=now,
                                  note=f"reversal of {transfer_id}")
        uow.commit()
        return result
