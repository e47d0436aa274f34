"""Allocation and registry use cases: issue indicators, confirm rights, verify surplus, and
keep every permit in step with its rights.

Each use case runs in one unit of work: `with uow: ...; uow.commit()`. The permit's
permitted quantity and history are written in the same transaction as the ledger batch that
moves the rights, so the permit and the ledger can never disagree after a commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from allocation import paid_use_service as paid_use
from allocation.permits import (
    ConfirmationAboveCap,
    IndicatorAlreadyIssued,
    IndicatorNotFound,
    NotPermitHolder,
    PermitNotFound,
    QuantityNotFound,
    ZoneMismatch,
    check_usable,
)
from allocation.register import permit_status
from allocation.store import RegistryStore
from kernel.clock import system_clock, trading_day
from kernel.errors import DomainError, InvalidInput
from kernel.pollutants import parse_pollutant
from kernel.records import PermitAsk, PermitTrade
from ledger import service as ledger
from ledger.entries import Transfer
from ledger.service import UoW
from ledger.store import LedgerStore
from ledger.transactions import AccountKind, Initiator


def _positive(qty: object, field: str = "qty_kg") -> int:
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        raise InvalidInput(f"{field} must be a positive whole number of kg", field=field)
    return qty


@dataclass(frozen=True)
class RightsChange:
    permit: str
    pollutant: str
    year: int
    qty_kg: int
    permitted_after_kg: int
    transfer_id: str


def _usable_quantity(store: RegistryStore, permit: str, pollutant: str, year: int,
                     today: date, lock: bool = True):  # type: ignore[no-untyped-def]
    p = store.permit(permit)
    if p is None:
        raise PermitNotFound(f"no permit {permit}", field="permit_code")
    check_usable(p, year, today)
    q = store.quantity(permit, pollutant, year, lock=lock)
    if q is None:
        raise QuantityNotFound(f"permit {permit} has no {pollutant} quantity for {year}",
                               field="pollutant")
    return p, q


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
        _p, q = _usable_quantity(store, permit, pol, year, trading_day(now))
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
        qty = _positive(qty_kg)
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
                _p, q = _usable_quantity(store, item.permit, pol, item.year, today)
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
                qty = _positive(qty_kg)
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
    qty = _positive(qty_kg)
    with uow:
        ledger.lock_journal(uow)  # before the permit rows: see ledger.service
        store = RegistryStore(uow.session)
        _p, q = _usable_quantity(store, permit, pol, year, trading_day(now))
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


class PermitRegistry:
    """What trading asks of permits, inside trading's own transaction (see trading.ports)."""

    def check_trading_permit(self, uow: UoW, *, enterprise: str, permit: str, pollutant: str,
                             zone: str, year: int, today: date) -> None:
        refused = self.check_trading_permits(uow, holders=[(enterprise, permit)],
                                             pollutant=pollutant, zone=zone, year=year,
                                             today=today)[(enterprise, permit)]
        if refused is not None:
            raise refused

    def check_trading_permits(self, uow: UoW, *, holders: Sequence[tuple[str, str]],
                              pollutant: str, zone: str, year: int, today: date
                              ) -> dict[tuple[str, str], DomainError | None]:
        """Check each (enterprise, permit) may trade `pollutant` of `year` in `zone` today:
        its answer is None or the rejection (see `check_trading_permits_of`)."""
        return self.check_trading_permits_of(uow, asks=[PermitAsk(
            pollutant, zone, year, today, tuple(holders))])[0]

    def check_trading_permits_of(self, uow: UoW, *, asks: Sequence[PermitAsk]
                                 ) -> list[dict[tuple[str, str], DomainError | None]]:
        """Answer each ask (each holder's answer is None or the rejection), in the asks'
        order. The permits and their quantities of every ask are read in one statement, and
        the rights accounts of the holders that pass are ensured together (a buyer that
        never had rights confirmed still has headroom up to its cap)."""
        store = RegistryStore(uow.session)
        found = store.permits_with_quantities(
            {p for a in asks for _, p in a.holders}, {(a.pollutant, a.year) for a in asks})
        out: list[dict[tuple[str, str], DomainError | None]] = []
        wants: dict[tuple[str, str, int], dict[str, int | None]] = {}
        for ask in asks:
            answers: dict[tuple[str, str], DomainError | None] = {}
            limits = wants.setdefault((ask.pollutant, ask.zone, ask.year), {})
            for enterprise, permit in ask.holders:
                try:
                    p, quantities = found.get(permit, (None, {}))
                    if p is None or p.enterprise != enterprise:
                        raise NotPermitHolder(
                            f"enterprise {enterprise} holds no permit {permit}",
                            field="permit_code")
                    check_usable(p, ask.year, today=ask.today)
                    q_zone, cap = quantities.get((ask.pollutant, ask.year), (None, None))
                    if q_zone is None:
                        raise QuantityNotFound(
                            f"permit {permit} has no {ask.pollutant} quantity for {ask.year}",
                            field="permit_code")
                    if q_zone != ask.zone:
                        raise ZoneMismatch(f"permit {permit} is in zone {q_zone}, the market "
                                           f"is {ask.zone}", field="market")
                    answers[(enterprise, permit)] = None
                    limits[permit] = cap
                except DomainError as exc:
                    answers[(enterprise, permit)] = exc
            out.append(answers)
        wanted = [(pol, zone, year, limits) for (pol, zone, year), limits in wants.items()
                  if limits]
        if wanted:
            ledger.ensure_rights_accounts_of(
                uow, wants=wanted, kinds=[AccountKind.CONFIRMED, AccountKind.TRADABLE],
                now=system_clock())
        return out

    def record_trade(self, uow: UoW, *, permit: str, pollutant: str, year: int, side: str,
                     qty_kg: int, counterparty: str, price: int, reference: str,
                     at: datetime) -> None:
        self.record_trades(uow, pollutant=pollutant, year=year, trades=[PermitTrade(
            permit, side, qty_kg, counterparty, price, reference, at)])

    def record_trades(self, uow: UoW, *, pollutant: str, year: int,
                      trades: Sequence[PermitTrade]) -> None:
        """Write trades of `pollutant` and `year` into their permits, in order (see
        `record_trades_of`)."""
        self.record_trades_of(uow, trades=[(pollutant, year, t) for t in trades])

    def record_trades_of(self, uow: UoW, *,
                         trades: Sequence[tuple[str, int, PermitTrade]]) -> None:
        """Write trades, each of its (pollutant, year), into their permits, in order. A
        purchase joins the permitted quantity (the ledger has already refused anything above
        the cap); a sale left it at verification. The quantities are locked and read in
        one statement, written back in one, and the history appended in one, whatever the
        pollutants and years."""
        if not trades:
            return
        store = RegistryStore(uow.session)
        uow.session.flush()  # what this transaction changed through the ORM, before the read
        permitted = store.permitted_for_update((t.permit, pol, y) for pol, y, t in trades)
        events: list[dict[str, object]] = []
        bought: set[tuple[str, str, int]] = set()
        for pollutant, year, t in trades:
            key = (t.permit, pollutant, year)
            buy = t.side == "buy"
            if buy:
                permitted[key] += t.qty_kg
                bought.add(key)
            events.append(dict(permit=t.permit, pollutant=pollutant, year=year,
                               kind="trade_in" if buy else "trade_out",
                               qty_kg=t.qty_kg if buy else -t.qty_kg,
                               counterparty=t.counterparty, price=t.price,
                               reference=t.reference, permitted_after_kg=permitted[key],
                               at=t.at, note=None if buy else "sold from verified surplus"))
        store.set_permitted_many({k: permitted[k] for k in bought})
        store.add_events(events)


@dataclass(frozen=True)
class QuantityBasis:
    pollutant: str
    year: int
    zone: str
    spec_kg: int
    eia_kg: int | None
    share_kg: int | None


def register_area(uow: UoW, *, zones: list[tuple[str, str, str]],
                  districts: list[tuple[str, str, str, str]]) -> None:
    """Zones (code, name, medium) and districts (code, name, air zone, water zone)."""
    from allocation.tables import DistrictRow, ZoneRow

    with uow:
        store = RegistryStore(uow.session)
        store.add_all([ZoneRow(code=c, name=n, medium=m) for c, n, m in zones])
        uow.session.flush()
        store.add_all([DistrictRow(code=c, name=n, air_zone=a, water_zone=w)
                       for c, n, a, w in districts])
        uow.commit()


def register_enterprise(uow: UoW, *, credit_code: str, name: str, sector: str,
                        district: str) -> None:
    from allocation.tables import EnterpriseRow
    from kernel.ids import validate_credit_code

    validate_credit_code(credit_code)
    with uow:
        RegistryStore(uow.session).add_all([EnterpriseRow(
            credit_code=credit_code, name=name, sector=sector, district=district,
            status="active")])
        uow.commit()


def issue_permit(uow: UoW, *, enterprise: str, site_seq: int, site_name: str, district: str,
                 capacity: int, capacity_unit: str, valid_from: date, valid_to: date,
                 bases: list[QuantityBasis], parameter_version: str,
                 now: datetime | None = None) -> str:
    """Issue a permit with its quantities per pollutant and year (cap and allocation from
    the bases). Returns the permit code."""
    from allocation.permits import EnterpriseNotFound, cap_and_allocation
    from allocation.tables import PermitQuantityRow, PermitRow, SiteRow
    from kernel.ids import make_permit_code

    now = now or system_clock()
    with uow:
        store = RegistryStore(uow.session)
        if store.enterprise(enterprise) is None:
            raise EnterpriseNotFound(f"no enterprise {enterprise}", field="enterprise")
        site = SiteRow(enterprise=enterprise, seq=site_seq, name=site_name, district=district,
                       capacity=capacity, capacity_unit=capacity_unit)
        store.add_all([site])
        uow.session.flush()
        code = make_permit_code(enterprise, site_seq)
        store.add_all([PermitRow(code=code, enterprise=enterprise, site=site.id,
                                 valid_from=valid_from, valid_to=valid_to, status="valid",
                                 issued_at=now, parameter_version=parameter_version)])
        uow.session.flush()
        rows = []
        for b in bases:
            pol = parse_pollutant(b.pollutant).value
            cap, allocated, binding = cap_and_allocation(b.spec_kg, b.eia_kg, b.share_kg)
            rows.append(PermitQuantityRow(
                permit=code, pollutant=pol, year=b.year, zone=b.zone, spec_kg=b.spec_kg,
                eia_kg=b.eia_kg, share_kg=b.share_kg, binding=binding, cap_kg=cap,
                allocated_kg=allocated, permitted_kg=allocated, confirmed=False))
        store.add_all(rows)
        uow.commit()
        return code


def set_indicator(uow: UoW, *, zone: str, pollutant: str, year: int, total_kg: int,
                  reserve_share_pct: int) -> None:
    from allocation.tables import IndicatorRow

    with uow:
        RegistryStore(uow.session).add_all([IndicatorRow(
            zone=zone, pollutant=parse_pollutant(pollutant).value, year=year,
            total_kg=_positive(total_kg, "total_kg"), reserve_share_pct=reserve_share_pct,
            issued=False)])
        uow.commit()


def deposit_cash(uow: UoW, *, enterprise: str, amount_fen: int, actor: str, reference: str,
                 now: datetime | None = None) -> None:
    """Money enters an enterprise's cash account from the settlement bank."""
    now = now or system_clock()
    amt = _positive(amount_fen, "amount_fen")
    with uow:
        bank = ledger.bank_account(uow, now)
        cash = ledger.ensure_cash_account(uow, enterprise, now)
        ledger.execute(uow, [Transfer(f"deposit:{reference}", "deposit", bank, cash, amt,
                                      reference=reference)],
                       initiator=Initiator.BUREAU, actor=actor, now=now)
        uow.commit()


def _enterprise_dict(e) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return dict(credit_code=e.credit_code, name=e.name, sector=e.sector,
                district=e.district, status=e.status)


def search_enterprises(uow: UoW, *, q: str | None = None, sector: str | None = None,
                       district: str | None = None, offset: int = 0, limit: int = 50
                       ) -> dict[str, object]:
    with uow:
        rows, total = RegistryStore(uow.session).search_enterprises(q, sector, district,
                                                                    offset, limit)
        return dict(total=total, offset=offset, limit=limit,
                    items=[_enterprise_dict(e) for e in rows])


def enterprise_view(uow: UoW, code: str) -> dict[str, object]:
    from allocation.permits import EnterpriseNotFound

    with uow:
        store = RegistryStore(uow.session)
        e = store.enterprise(code)
        if e is None:
            raise EnterpriseNotFound(f"no enterprise {code}", field="credit_code")
        permits = [dict(code=p.code, valid_from=p.valid_from.isoformat(),
                        valid_to=p.valid_to.isoformat(),
                        status=permit_status(p.status, p.valid_to))  # issue 18
                   for p in store.permits_of(code)]
        return dict(_enterprise_dict(e), permits=permits)


def permit_view(uow: UoW, code: str, *, events: int = 200) -> dict[str, object]:
    with uow:
        store = RegistryStore(uow.session)
        p = store.permit(code)
        if p is None:
            raise PermitNotFound(f"no permit {code}", field="permit_code")
        e = store.enterprise(p.enterprise)
        return dict(
            code=p.code, enterprise=p.enterprise, enterprise_name=e.name if e else "",
            valid_from=p.valid_from.isoformat(), valid_to=p.valid_to.isoformat(),
            status=permit_status(p.status, p.valid_to),  # issue 18: expired when past
            quantities=[dict(pollutant=q.pollutant, year=q.year, zone=q.zone,
                             spec_kg=q.spec_kg, eia_kg=q.eia_kg, share_kg=q.share_kg,
                             binding=q.binding, cap_kg=q.cap_kg, allocated_kg=q.allocated_kg,
                             permitted_kg=q.permitted_kg, confirmed=q.confirmed)
                        for q in store.quantities(code)],
            history=[dict(pollutant=v.pollutant, year=v.year, kind=v.kind, qty_kg=v.qty_kg,
                          counterparty=v.counterparty, price=v.price, reference=v.reference,
                          permitted_after_kg=v.permitted_after_kg, at=v.at.isoformat(),
                          note=v.note)
                     for v in store.events(code, events)])


def registry_summary(uow: UoW) -> dict[str, int]:
    from allocation.tables import DistrictRow, EnterpriseRow, PermitRow, ZoneRow

    with uow:
        s = RegistryStore(uow.session)
        return dict(enterprises=s.count(EnterpriseRow), permits=s.count(PermitRow),
                    districts=s.count(DistrictRow), zones=s.count(ZoneRow))


# =========================================================================== issue 5
# Whole-municipality computation, apportionment, standards, scenarios and reserve plans.
# Each use case runs in one unit of work; the heavy arithmetic is in the pure modules
# (facilities, quantities, scenario, apportionment, reserve, reserve_lp).

from collections.abc import Mapping  # noqa: E402
from decimal import Decimal  # noqa: E402
from typing import Any  # noqa: E402

from allocation import errors as alloc_errors  # noqa: E402
from allocation.facilities import Site, derive, infer_fuels, profile_version  # noqa: E402
from allocation.parameters import ParameterSet, get_parameters  # noqa: E402
from allocation.permits import cap_and_allocation  # noqa: E402
from allocation.scenario import (  # noqa: E402
    Baseline,
    Changes,
    Quantity,
    build_baseline,
    parse_changes,
    parse_standard,
    specification,
)
from allocation.store import AllocationStore  # noqa: E402
from allocation.tables import ScenarioRow, ScenarioRunRow, StandardRow  # noqa: E402
from kernel.pollutants import Pollutant  # noqa: E402


def _params(version: str | None, now: datetime) -> ParameterSet:
    return get_parameters(version, on=None if version else trading_day(now))


def _usable_in(status: str, valid_from: date, valid_to: date, year: int) -> bool:
    return status == "valid" and valid_from.year <= year <= valid_to.year


@dataclass
class _Municipality:
    """Facilities (one per permit) and the stored quantity rows, as loaded."""

    sites: list[Site]
    index: dict[str, int]
    info: dict[str, tuple[str, date, date, str]]  # permit -> status, from, to, version
    rows: list[Any]  # PermitQuantityRow


def _load(store: AllocationStore, params: ParameterSet, years: Sequence[int] | None,
          *, lock: bool = False) -> _Municipality:
    facilities = store.facilities()
    rows = store.quantity_rows(years, lock=lock)
    stored: dict[str, dict[Pollutant, int]] = {}
    for q in rows:
        stored.setdefault(q.permit, {}).setdefault(Pollutant(q.pollutant), q.spec_kg)
    sites = [Site(code, sector, Decimal(capacity), unit)
             for code, _st, sector, _f, _t, _v, capacity, unit in facilities]
    fuels = infer_fuels(sites, [stored.get(s.permit, {}) for s in sites], params)
    sites = [Site(s.permit, s.sector, s.capacity, s.capacity_unit, f)
             for s, f in zip(sites, fuels, strict=True)]
    info = {code: (st, vf, vt, ver) for code, st, _s, vf, vt, ver, _c, _u in facilities}
    return _Municipality(sites, {s.permit: i for i, s in enumerate(sites)}, info, rows)


def _confirmed_holdings(uow: UoW, keys: set[tuple[str, str, str, int]]
                        ) -> dict[tuple[str, str, str, int], tuple[int, int]]:
    """(permit, pollutant, zone, year) -> (confirmed account id, balance + pending credits)."""
    from ledger.service import asset_code

    store = LedgerStore(uow.session)
    holders = sorted({k[0] for k in keys})
    wanted = {(k[0], asset_code(k[1], k[2], k[3])): k for k in keys}
    out: dict[tuple[str, str, str, int], tuple[int, int]] = {}
    for i in range(0, len(holders), 500):
        for a in store.accounts_of(holders[i:i + 500]):
            if a.kind != AccountKind.CONFIRMED:
                continue
            key = wanted.get((a.holder, a.asset))
            if key is not None:
                out[key] = (a.id, a.balance + a.credits_pending)
    return out


def _write_changes(uow: UoW, store: AllocationStore, changes: list[dict[str, Any]]
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Apply quantity changes, holding back any whose cap would fall below the confirmed
    rights (the bureau recovers rights first). Caps reach the ledger as the confirmed
    account's upper limit. Returns (applied, held back)."""
    keys = {(c["permit"], c["pollutant"], c["zone"], c["year"]) for c in changes
            if c["new_cap_kg"] != c["old_cap_kg"]}
    holdings = _confirmed_holdings(uow, keys) if keys else {}
    applied, held = [], []
    ledger_store = LedgerStore(uow.session)
    for c in changes:
        key = (c["permit"], c["pollutant"], c["zone"], c["year"])
        acct = holdings.get(key)
        if acct is not None and c["new_cap_kg"] < acct[1]:
            c["status"], c["note"] = "held_back", (
                f"the new cap {c['new_cap_kg']} kg is below the {acct[1]} kg of confirmed "
                "rights: recover rights first")
            held.append(c)
            continue
        c["status"] = "applied"
        applied.append(c)
        if acct is not None and c["new_cap_kg"] != c["old_cap_kg"]:
            ledger_store.set_upper_limit(acct[0], c["new_cap_kg"])
    store.update_quantities([dict(permit=c["permit"], pollutant=c["pollutant"], year=c["year"],
                                  spec_kg=c["new_spec_kg"], share_kg=c["new_share_kg"],
                                  cap_kg=c["new_cap_kg"], allocated_kg=c["new_allocated_kg"],
                                  binding=c["new_binding"],
                                  permitted_kg=_recomputed_permitted(c)) for c in applied])
    return applied, held


def _recomputed_permitted(c: Mapping[str, Any]) -> int:
    """The permitted quantity after a recomputation: a quantity not yet confirmed follows
    its new allocation (with what trades and releases added or took); a confirmed one keeps
    its limit (the bureau changes it by recovery or release). Never above the new cap."""
    permitted = int(c["old_permitted_kg"])
    if not c["confirmed"]:
        permitted += int(c["new_allocated_kg"]) - int(c["old_allocated_kg"])
    return max(min(permitted, int(c["new_cap_kg"])), 0)


def _change(q: Any, spec: int, share: int | None) -> dict[str, Any] | None:
    cap, allocated, binding = cap_and_allocation(spec, q.eia_kg, share)
    if (spec, share, cap, allocated, binding) == (q.spec_kg, q.share_kg, q.cap_kg,
                                                   q.allocated_kg, q.binding):
        return None
    return dict(permit=q.permit, pollutant=q.pollutant, year=q.year, zone=q.zone,
                old_spec_kg=q.spec_kg, new_spec_kg=spec, old_share_kg=q.share_kg,
                new_share_kg=share, old_cap_kg=q.cap_kg, new_cap_kg=cap,
                old_allocated_kg=q.allocated_kg, new_allocated_kg=allocated,
                old_binding=q.binding, new_binding=binding, note=None,
                old_permitted_kg=q.permitted_kg, confirmed=q.confirmed)


def _record(store: AllocationStore, *, kind: str, actor: str, started: datetime,
            version: str, scenario: int | None, facilities: int, quantities: int,
            applied: list[dict[str, Any]], held: list[dict[str, Any]], skipped: int,
            summary: dict[str, Any]) -> int:
    run = store.add_run(kind=kind, actor=actor, started_at=started, finished_at=system_clock(),
                        parameter_version=version, scenario=scenario, facilities=facilities,
                        quantities=quantities, changed=len(applied), held_back=len(held),
                        skipped=skipped, summary=summary)
    cols = ("permit", "pollutant", "year", "status", "old_spec_kg", "new_spec_kg",
            "old_share_kg", "new_share_kg", "old_cap_kg", "new_cap_kg", "old_allocated_kg",
            "new_allocated_kg", "old_binding", "new_binding", "note")
    store.add_changes([{"run": run.id, **{k: c[k] for k in cols}} for c in applied + held])
    return int(run.id)


def compute_permitted_quantities(uow: UoW, *, actor: str, parameter_version: str | None = None,
                                 scenario: int | None = None,
                                 changes: Mapping[str, Any] | None = None,
                                 years: Sequence[int] | None = None,
                                 now: datetime | None = None) -> dict[str, Any]:
    """Recompute every permit's specification basis (vectorised), then cap, permitted
    quantity and binding basis, and write them in one unit of work with a `computation_run`
    recording who ran it, the parameter version, the scenario and every changed row.

    The parameter changes of a scenario (ultra-low sectors, standards, utilisation hours)
    apply; its indicator and alert changes do not (they are not permit bases). Shares and EIA
    bases are kept. Rows whose facility has no profile keep their stored basis (counted as
    skipped); a cap that would fall below the confirmed rights is held back, not written.
    """
    now = now or system_clock()
    params = _params(parameter_version, now)
    with uow:
        store = AllocationStore(uow.session)
        doc: Mapping[str, Any] | None = changes
        if scenario is not None:
            row = store.scenario(scenario)
            if row is None:
                raise alloc_errors.ScenarioNotFound(f"no scenario {scenario}",
                                                    field="scenario")
            doc = row.changes
        ch = parse_changes(doc, params) if doc else Changes()
        if ch.parameter_version and ch.parameter_version != params.version:
            params = get_parameters(ch.parameter_version)
        town = _load(store, params, years, lock=True)
        if not town.rows:
            raise alloc_errors.NothingToCompute("no permitted-quantity rows to compute",
                                                field="years")
        rows = derive(town.sites, params)
        pollutants = tuple(Pollutant)
        specs = {y: specification(rows, params, pollutants, year=y, changes=ch)
                 for y in sorted({q.year for q in town.rows})}
        found: list[dict[str, Any]] = []
        kept = 0
        for q in town.rows:
            f = town.index[q.permit]
            spec = int(specs[q.year][f, pollutants.index(Pollutant(q.pollutant))])
            if spec < 0:
                kept += 1
                continue
            c = _change(q, spec, q.share_kg)
            if c is not None:
                found.append(c)
        applied, held = _write_changes(uow, store, found)
        binding: dict[str, int] = {}
        for q in town.rows:
            binding[q.binding] = binding.get(q.binding, 0) + 1
        summary = {"years": sorted(specs), "binding_before": binding,
                   "skipped_facilities": [{"permit": town.sites[f].permit, "reason": r}
                                          for f, r in rows.skipped][:100],
                   "scenario_changes_ignored": [k for k in ("indicators", "alert")
                                                if doc and doc.get(k)],
                   "facility_profiles": profile_version(params)}
        run_id = _record(store, kind="compute", actor=actor, started=now,
                         version=params.version, scenario=scenario,
                         facilities=len(town.sites), quantities=len(town.rows),
                         applied=applied, held=held, skipped=kept, summary=summary)
        uow.commit()
        return computation_summary(run_id, params.version, len(town.sites), len(town.rows),
                                   applied, held, kept, summary, actor, now)


def computation_summary(run_id: int, version: str, facilities: int, quantities: int,
                        applied: list[dict[str, Any]], held: list[dict[str, Any]], kept: int,
                        summary: dict[str, Any], actor: str, now: datetime) -> dict[str, Any]:
    def total(rows: list[dict[str, Any]], a: str, b: str) -> int:
        return sum(int(r[b] or 0) - int(r[a] or 0) for r in rows)

    return {"id": run_id, "actor": actor, "started_at": now.isoformat(),
            "parameter_version": version, "facilities": facilities, "quantities": quantities,
            "changed": len(applied), "held_back": len(held), "skipped": kept,
            "delta_allocated_kg": total(applied, "old_allocated_kg", "new_allocated_kg"),
            "delta_cap_kg": total(applied, "old_cap_kg", "new_cap_kg"),
            "held_back_rows": [{k: c[k] for k in ("permit", "pollutant", "year", "new_cap_kg",
                                                  "note")} for c in held[:50]],
            "summary": summary}


def computation_view(uow: UoW, run_id: int, *, offset: int = 0, limit: int = 100
                     ) -> dict[str, Any]:
    with uow:
        store = AllocationStore(uow.session)
        run = store.run(run_id)
        if run is None:
            raise alloc_errors.ComputationNotFound(f"no computation run {run_id}", field="id")
        rows, total = store.changes(run_id, offset, limit)
        return {"id": run.id, "kind": run.kind, "actor": run.actor,
                "started_at": run.started_at.isoformat(),
                "finished_at": run.finished_at.isoformat(),
                "parameter_version": run.parameter_version, "scenario": run.scenario,
                "facilities": run.facilities, "quantities": run.quantities,
                "changed": run.changed, "held_back": run.held_back, "skipped": run.skipped,
                "summary": run.summary,
                "changes": {"total": total, "offset": offset, "limit": limit, "items": [
                    {k: getattr(c, k) for k in (
                        "permit", "pollutant", "year", "status", "old_spec_kg", "new_spec_kg",
                        "old_share_kg", "new_share_kg", "old_cap_kg", "new_cap_kg",
                        "old_allocated_kg", "new_allocated_kg", "old_binding", "new_binding",
                        "note")} for c in rows]}}


# --------------------------------------------------------------------------- apportionment


def apportion_indicator(uow: UoW, *, zone: str, pollutant: str, year: int,
                        method: str = "pro_rata",
                        entries: Sequence[Mapping[str, Any]] | None = None, actor: str,
                        now: datetime | None = None) -> dict[str, Any]:
    """Apportion a zone's stored indicator, net of its reserve share, to the permits usable
    in that year: ``pro_rata`` to their calculated cap (stored), or ``grandfathering`` /
    ``benchmark`` on weights given per permit in `entries` ({permit, historical_kg} or
    {permit, performance_value, activity}). The parts are whole kg summing exactly to the
    indicator net of the reserve; share, permitted quantity and binding basis are rewritten
    in one unit of work and recorded as a computation run."""
    from allocation.apportionment import METHODS, apportion, reserve_kg

    now = now or system_clock()
    pol = parse_pollutant(pollutant).value
    if method not in METHODS:
        raise alloc_errors.ApportionmentError(
            f"unknown method {method!r} (use one of: {', '.join(METHODS)})", field="method")
    with uow:
        store = AllocationStore(uow.session)
        reg = RegistryStore(uow.session)
        ind = reg.indicator(zone, pol, year, lock=True)
        if ind is None:
            raise IndicatorNotFound(f"no indicator for {zone} {pol} {year}", field="zone")
        info = {code: (st, vf, vt) for code, st, _s, vf, vt, _v, _c, _u in store.facilities()}
        rows = store.quantity_rows([year], zone=zone, pollutant=pol, lock=True)
        members = [q for q in rows if _usable_in(*info[q.permit], year)]
        if not members:
            raise alloc_errors.NothingToCompute(
                f"no permit usable in {year} carries {pol} in zone {zone}", field="zone")
        given: dict[str, Mapping[str, Any]] = {}
        if method != "pro_rata":
            if not entries:
                raise alloc_errors.ApportionmentError(
                    f"{method} needs entries with a weight for every permit", field="entries")
            for i, e in enumerate(entries):
                if not isinstance(e, Mapping) or not isinstance(e.get("permit"), str):
                    raise alloc_errors.ApportionmentError("each entry needs a permit",
                                                          field=f"entries[{i}].permit")
                given[e["permit"]] = e
            codes = {q.permit for q in members}
            extra = sorted(set(given) - codes)
            if extra:
                raise alloc_errors.ApportionmentError(
                    f"permit {extra[0]} is not in zone {zone} for {pol} {year}",
                    field="entries")
            missing = sorted(codes - set(given))
            if missing:
                raise alloc_errors.ApportionmentError(
                    f"no weight for permit {missing[0]}", field="entries")
        weights = []
        for q in members:
            if method == "pro_rata":
                weights.append({"id": q.permit, "calculated_cap_kg": q.cap_kg})
            else:
                weights.append({**{k: v for k, v in given[q.permit].items()
                                   if k not in ("permit", "id")}, "id": q.permit})
        share_pct = Decimal(ind.reserve_share_pct) / 100
        parts = apportion(ind.total_kg, share_pct, weights, method)
        found = [c for q in members if (c := _change(q, q.spec_kg, parts[q.permit]))]
        applied, held = _write_changes(uow, store, found)
        reserve = reserve_kg(ind.total_kg, share_pct)
        summary = {"zone": zone, "pollutant": pol, "year": year, "method": method,
                   "indicator_kg": ind.total_kg, "reserve_kg": reserve,
                   "apportioned_kg": sum(parts.values()), "permits": len(members),
                   "excluded_permits": len(rows) - len(members)}
        run_id = _record(store, kind="apportionment", actor=actor, started=now,
                         version="-", scenario=None, facilities=len(members),
                         quantities=len(members), applied=applied, held=held, skipped=0,
                         summary=summary)
        uow.commit()
        return {"id": run_id, **summary, "changed": len(applied), "held_back": len(held),
                "shares": [{"permit": p, "share_kg": kg} for p, kg in parts.items()]}


# --------------------------------------------------------------------------- standards


def register_standard(uow: UoW, *, name: str, effective: str | date,
                      limits: Mapping[str, Any], actor: str,
                      parameter_version: str | None = None,
                      now: datetime | None = None) -> dict[str, Any]:
    """Register a new standard (concentration limits from an effective date) before that
    date: every permitted-quantity row of a year the standard reaches whose cap or permitted
    quantity it changes is flagged with the old and new quantity (a year it enters part-way
    takes the day-weighted mean). Returns the standard and its flags."""
    now = now or system_clock()
    params = _params(parameter_version, now)
    eff = effective.isoformat() if isinstance(effective, date) else effective
    std = parse_standard({"name": name, "effective": eff, "limits": limits}, "", params)
    today = trading_day(now)
    if std.effective <= today:
        raise alloc_errors.ScenarioError(
            f"the effective date {std.effective} must be after today ({today}): permits are "
            "flagged before a standard takes effect", field="effective")
    with uow:
        store = AllocationStore(uow.session)
        if store.standard_named(std.name) is not None:
            raise alloc_errors.NameTaken(f"a standard named {std.name!r} exists", field="name")
        years = [y for y in store.years() if y >= std.effective.year]
        town = _load(store, params, years)
        row = StandardRow(name=std.name, effective=std.effective, limits=dict(limits),
                             parameter_version=params.version, registered_by=actor,
                             registered_at=now, status="registered", applied_run=None)
        store.add(row)
        flags = _standard_flags(town, params, std, int(row.id))
        store.add_flags(flags)
        uow.commit()
        return {"id": row.id, "name": std.name, "effective": std.effective.isoformat(),
                "parameter_version": params.version, "flagged": len(flags),
                "permits": len({f["permit"] for f in flags}),
                "flags": [{k: v for k, v in f.items() if k != "standard"} for f in flags]}


def _standard_flags(town: _Municipality, params: ParameterSet, std: Any, standard_id: int
                    ) -> list[dict[str, Any]]:
    if not town.rows:
        return []
    rows = derive(town.sites, params)
    pollutants = tuple(Pollutant)
    years = sorted({q.year for q in town.rows})
    before = {y: specification(rows, params, pollutants, year=y) for y in years}
    after = {y: specification(rows, params, pollutants, year=y,
                              changes=Changes(standards=(std,))) for y in years}
    flags = []
    for q in town.rows:
        f, j = town.index[q.permit], pollutants.index(Pollutant(q.pollutant))
        old, new = int(before[q.year][f, j]), int(after[q.year][f, j])
        if old < 0 or new < 0 or old == new:
            continue
        old_cap, old_alloc, _ = cap_and_allocation(old, q.eia_kg, q.share_kg)
        cap, alloc, binding = cap_and_allocation(new, q.eia_kg, q.share_kg)
        if (cap, alloc) == (old_cap, old_alloc):
            continue
        flags.append(dict(standard=standard_id, permit=q.permit, pollutant=q.pollutant,
                          year=q.year, zone=q.zone, old_spec_kg=q.spec_kg, new_spec_kg=new,
                          old_cap_kg=q.cap_kg, new_cap_kg=cap, old_allocated_kg=q.allocated_kg,
                          new_allocated_kg=alloc, new_binding=binding,
                          permitted_kg=q.permitted_kg, status="open", note=None))
    return flags


def apply_standard(uow: UoW, *, standard_id: int, actor: str, now: datetime | None = None
                   ) -> dict[str, Any]:
    """Change the flagged permits' quantities to the standard's (before its effective date),
    in one unit of work recorded as a computation run; caps below confirmed rights are held
    back and their flags say so."""
    now = now or system_clock()
    with uow:
        store = AllocationStore(uow.session)
        std = store.standard(standard_id, lock=True)
        if std is None:
            raise alloc_errors.StandardNotFound(f"no standard {standard_id}", field="id")
        if std.status == "applied":
            raise alloc_errors.StandardAlreadyApplied(f"standard {std.name} was applied")
        flags, _ = store.flags(standard=standard_id, status="open", limit=10**9)
        reg = RegistryStore(uow.session)
        found: list[dict[str, Any]] = []
        by_key: dict[tuple[str, str, int], int] = {}
        for fl in flags:
            q = reg.quantity(fl.permit, fl.pollutant, fl.year, lock=True)
            if q is None:
                continue
            c = _change(q, fl.new_spec_kg, q.share_kg)
            if c is not None:
                found.append(c)
                by_key[(fl.permit, fl.pollutant, fl.year)] = fl.id
        applied, held = _write_changes(uow, store, found)
        store.set_flag_status([by_key[(c["permit"], c["pollutant"], c["year"])]
                               for c in applied], "applied")
        for c in held:
            store.set_flag_status([by_key[(c["permit"], c["pollutant"], c["year"])]],
                                  "held_back", c["note"])
        recovery = _mark_recovery(uow, store, held, by_key)
        summary = {"standard": std.name, "effective": std.effective.isoformat()}
        run_id = _record(store, kind="standard", actor=actor, started=now,
                         version=f"{std.parameter_version}+{std.name}", scenario=None,
                         facilities=len({f.permit for f in flags}), quantities=len(flags),
                         applied=applied, held=held, skipped=0, summary=summary)
        std.status = "applied"
        std.applied_run = run_id
        uow.commit()
        return {"id": std.id, "name": std.name, "run": run_id, "applied": len(applied),
                "held_back": len(held), "recovery_kg": recovery}


def _mark_recovery(uow: UoW, store: AllocationStore, held: list[dict[str, Any]],
                   by_key: dict[tuple[str, str, int], int]) -> int:
    """Mark each held-back flag with the confirmed rights above its new cap (to recover or
    buy back before the change can be written). Returns the total kg marked."""
    if not held:
        return 0
    holdings = _confirmed_holdings(uow, {(c["permit"], c["pollutant"], c["zone"], c["year"])
                                         for c in held})
    total = 0
    for c in held:
        acct = holdings.get((c["permit"], c["pollutant"], c["zone"], c["year"]))
        kg = max((acct[1] if acct else 0) - c["new_cap_kg"], 0)
        store.set_recovery(by_key[(c["permit"], c["pollutant"], c["year"])], kg)
        total += kg
    return total


#: decision → (ledger transaction type, the flag's status afterwards)
RECOVERY_DECISIONS = {"recover": ("recovery", "recovered"),
                      "buy_back": ("reserve_buyback", "bought_back")}
FLAG_FIELDS = ("id", "standard", "permit", "pollutant", "year", "zone", "old_spec_kg",
               "new_spec_kg", "old_cap_kg", "new_cap_kg", "old_allocated_kg",
               "new_allocated_kg", "new_binding", "permitted_kg", "status", "note",
               "recovery_kg", "decision", "moved_kg", "price", "amount_fen", "transfer_id",
               "decided_by")


def _flag_dict(r: Any) -> dict[str, Any]:
    return {k: getattr(r, k) for k in FLAG_FIELDS} | {
        "decided_at": r.decided_at.isoformat() if r.decided_at else None}


def standard_flags(uow: UoW, *, standard: int | None = None, status: str | None = None,
                   permit: str | None = None, offset: int = 0, limit: int = 100
                   ) -> dict[str, Any]:
    with uow:
        rows, total = AllocationStore(uow.session).flags(
            standard=standard, status=status, permit=permit, offset=offset, limit=limit)
        return {"total": total, "offset": offset, "limit": limit,
                "items": [_flag_dict(r) for r in rows]}


def _decidable(store: AllocationStore, flag_id: int, *, lock: bool = False) -> Any:
    fl = store.flag(flag_id, lock=lock)
    if fl is None:
        raise alloc_errors.StandardFlagNotFound(f"no standard flag {flag_id}", field="flag")
    if fl.status in ("recovered", "bought_back"):
        raise alloc_errors.FlagAlreadyDecided(
            f"flag {flag_id} was decided already ({fl.status})", field="flag")
    if fl.status != "held_back":
        raise alloc_errors.FlagNotHeldBack(
            f"flag {flag_id} is {fl.status}: only held-back flags await a decision",
            field="flag")
    return fl


def check_recovery_decision(uow: UoW, *, flag_id: int, decision: str,
                            price: int | None = None) -> dict[str, Any]:
    """Validate a decision on a held-back flag without writing (for routes that must ask a
    second officer first); returns the flag."""
    _decision_args(decision, price)
    with uow:
        return _flag_dict(_decidable(AllocationStore(uow.session), flag_id))


def _decision_args(decision: str, price: int | None) -> int | None:
    if decision not in RECOVERY_DECISIONS:
        raise alloc_errors.BadRecoveryDecision(
            f"decision must be one of {', '.join(RECOVERY_DECISIONS)}", field="decision")
    if decision == "recover":
        return None
    if isinstance(price, bool) or not isinstance(price, int) or not 0 <= price <= 10**12:
        raise alloc_errors.BadRecoveryDecision(
            "a buy-back needs a price of 0 to 10^12 fen per tonne", field="price")
    return price


def decide_standard_flag(uow: UoW, *, flag_id: int, decision: str, actor: str,
                         price: int | None = None, now: datetime | None = None
                         ) -> dict[str, Any]:
    """The bureau's decision on a held-back flag, in one unit of work: the confirmed rights
    above the new cap go to the bureau reserve, either recovered (ledger type "recovery") or
    bought back (a linked batch: "verification" confirmed → tradable, then
    "reserve_buyback" tradable → reserve and bureau cash → the enterprise's cash at `price`
    fen per tonne, qty × price / 1000 half-even). Then the permit's quantity takes the
    standard's values (cap, allocation, binding basis), the confirmed account's upper limit
    the new cap, the permitted quantity the rights left, and the history an event. A flag is
    decided once (409 `flag_already_decided`)."""
    from kernel.quantities import trade_value

    now = now or system_clock()
    price = _decision_args(decision, price)
    tx_type, status = RECOVERY_DECISIONS[decision]
    with uow:
        ledger.lock_journal(uow)  # before the permit rows: see ledger.service
        store, reg = AllocationStore(uow.session), RegistryStore(uow.session)
        fl = _decidable(store, flag_id, lock=True)
        std = store.standard(fl.standard)
        p = reg.permit(fl.permit)
        q = reg.quantity(fl.permit, fl.pollutant, fl.year, lock=True)
        if p is None or q is None or std is None:
            raise QuantityNotFound(f"permit {fl.permit} has no {fl.pollutant} quantity for "
                                   f"{fl.year}", field="flag")
        c = _change(q, fl.new_spec_kg, q.share_kg)
        new_cap = c["new_cap_kg"] if c is not None else q.cap_kg
        accts = ledger.ensure_rights_accounts(
            uow, holder=fl.permit, pollutant=fl.pollutant, zone=q.zone, vintage=fl.year,
            kinds=[AccountKind.CONFIRMED, AccountKind.TRADABLE], now=now,
            upper_limit=q.cap_kg)
        lstore = LedgerStore(uow.session)
        held = lstore.get_account(accts[AccountKind.CONFIRMED])
        assert held is not None
        qty = max(held.balance + held.credits_pending - new_cap, 0)
        tid, amount = None, None
        ref = f"standard-flag:{flag_id}"
        if qty > 0:
            reserve = ledger.ensure_rights_accounts(
                uow, holder=ledger.BUREAU, pollutant=fl.pollutant, zone=q.zone,
                vintage=fl.year, kinds=[AccountKind.RESERVE], now=now)[AccountKind.RESERVE]
            if price is None:
                tid = f"recovery:flag:{flag_id}"
                transfers = [Transfer(tid, tx_type, accts[AccountKind.CONFIRMED], reserve,
                                      qty, reference=ref)]
            else:
                tid, amount = f"buyback:flag:{flag_id}", int(trade_value(qty, price))
                transfers = [
                    Transfer(f"{tid}:verify", "verification", accts[AccountKind.CONFIRMED],
                             accts[AccountKind.TRADABLE], qty, reference=ref),
                    Transfer(tid, tx_type, accts[AccountKind.TRADABLE], reserve, qty,
                             reference=ref)]
                if amount > 0:
                    transfers.append(Transfer(
                        f"{tid}:pay", tx_type, ledger.ensure_cash_account(uow, ledger.BUREAU,
                                                                          now),
                        ledger.ensure_cash_account(uow, p.enterprise, now), amount,
                        reference=ref))
            ledger.execute(uow, transfers, initiator=Initiator.BUREAU, actor=actor, now=now)
        if c is not None:
            store.update_quantities([dict(
                permit=fl.permit, pollutant=fl.pollutant, year=fl.year,
                spec_kg=c["new_spec_kg"], share_kg=c["new_share_kg"], cap_kg=c["new_cap_kg"],
                allocated_kg=c["new_allocated_kg"], binding=c["new_binding"])])
        lstore.set_upper_limit(accts[AccountKind.CONFIRMED], new_cap)
        # the recovered or bought-back rights leave the permit, which never stays above the
        # new cap
        after = min(q.permitted_kg - qty, new_cap)
        reg.set_permitted(fl.permit, fl.pollutant, fl.year, after)
        note = (f"standard {std.name}: cap {q.cap_kg if c is None else c['old_cap_kg']} → "
                f"{new_cap} kg, {qty} kg {'recovered' if price is None else 'bought back'}")
        reg.add_event(permit=fl.permit, pollutant=fl.pollutant, year=fl.year,
                      kind="recovery" if price is None else "buy_back", qty_kg=-qty,
                      counterparty="RESERVE", price=price, reference=tid or ref,
                      permitted_after_kg=after, at=now, note=note)
        fl.note = note
        fl.status, fl.decision, fl.moved_kg = status, decision, qty
        fl.price, fl.amount_fen, fl.transfer_id = price, amount, tid
        fl.decided_by, fl.decided_at = actor, now
        uow.session.flush()
        out = _flag_dict(fl) | {"permitted_after_kg": after, "enterprise": p.enterprise}
        uow.commit()
        return out


# --------------------------------------------------------------------------- scenarios


def load_baseline(uow: UoW, *, year: int | None = None,
                  parameter_version: str | None = None,
                  now: datetime | None = None) -> Baseline:
    """The baseline of a year from the database: permits usable in that year, their stored
    quantities, the derived outlet rows and the year's indicators (default: the latest year
    with indicators)."""
    now = now or system_clock()
    params = _params(parameter_version, now)
    with uow:
        store = AllocationStore(uow.session)
        if year is None:
            years = sorted({i.year for i in store.indicator_rows()}) or store.years()
            if not years:
                raise alloc_errors.NothingToCompute("the registry holds no quantities yet",
                                                    field="year")
            year = years[-1]
        town = _load(store, params, [year])
        keep = sorted({q.permit for q in town.rows if _usable_in(*town.info[q.permit][:3],
                                                                 year)})
        if not keep:
            raise alloc_errors.NothingToCompute(f"no permit is usable in {year}", field="year")
        pos = {code: i for i, code in enumerate(keep)}
        quantities: list[dict[Pollutant, Quantity]] = [{} for _ in keep]
        for q in town.rows:
            if q.permit in pos:
                quantities[pos[q.permit]][Pollutant(q.pollutant)] = Quantity(
                    q.zone, q.spec_kg, q.eia_kg, q.share_kg, q.permitted_kg)
        indicators = {(i.zone, Pollutant(i.pollutant)): (i.total_kg, i.reserve_share_pct)
                      for i in store.indicator_rows(year)}
        zones = [z.code for z in RegistryStore(uow.session).zones()]
        sites = [town.sites[town.index[code]] for code in keep]
    return build_baseline(year, params, sites, quantities, indicators, zones=zones)


def _scenario_dict(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "description": row.description,
            "changes": row.changes, "created_by": row.created_by,
            "created_at": row.created_at.isoformat()}


def create_scenario(uow: UoW, *, doc: Mapping[str, Any], actor: str,
                    now: datetime | None = None) -> dict[str, Any]:
    """Store a named scenario after checking its changes (`ScenarioError` names the field)."""
    now = now or system_clock()
    changes = parse_changes(doc)
    with uow:
        store = AllocationStore(uow.session)
        if store.scenario_named(changes.name) is not None:
            raise alloc_errors.NameTaken(f"a scenario named {changes.name!r} exists",
                                         field="name")
        desc = doc.get("description")
        row = ScenarioRow(name=changes.name, description=desc if isinstance(desc, str) else None,
                          changes=dict(doc), created_by=actor, created_at=now)
        store.add(row)
        uow.commit()
        return _scenario_dict(row)


def list_scenarios(uow: UoW, *, offset: int = 0, limit: int = 50) -> dict[str, Any]:
    with uow:
        rows, total = AllocationStore(uow.session).scenarios(offset, limit)
        return {"total": total, "offset": offset, "limit": limit,
                "items": [_scenario_dict(r) for r in rows]}


def scenario_view(uow: UoW, scenario_id: int) -> dict[str, Any]:
    with uow:
        store = AllocationStore(uow.session)
        row = store.scenario(scenario_id)
        if row is None:
            raise alloc_errors.ScenarioNotFound(f"no scenario {scenario_id}", field="id")
        runs = [{"id": r.id, "run_at": r.run_at.isoformat(), "actor": r.actor, "year": r.year,
                 "parameter_version": r.parameter_version}
                for r in store.scenario_runs(scenario_id)]
        return {**_scenario_dict(row), "runs": runs}


def delete_scenario(uow: UoW, scenario_id: int) -> None:
    with uow:
        store = AllocationStore(uow.session)
        if store.scenario(scenario_id) is None:
            raise alloc_errors.ScenarioNotFound(f"no scenario {scenario_id}", field="id")
        store.delete_scenario(scenario_id)
        uow.commit()


def run_scenario(uow_factory: Any, *, scenario_id: int, actor: str, permits: bool = False,
                 now: datetime | None = None) -> dict[str, Any]:
    """Run a stored scenario against the database baseline of its year and store the run:
    permitted quantities, the reserve plan and the deltas by zone, sector and pollutant."""
    from allocation.scenario import run_json

    now = now or system_clock()
    with uow_factory() as uow:
        row = AllocationStore(uow.session).scenario(scenario_id)
        if row is None:
            raise alloc_errors.ScenarioNotFound(f"no scenario {scenario_id}", field="id")
        doc = dict(row.changes)
    year = doc.get("year") if isinstance(doc.get("year"), int) else None
    base = load_baseline(uow_factory(), year=year, parameter_version=doc.get(
        "parameter_version"), now=now)
    result = run_json(base, doc, permits=permits)
    with uow_factory() as uow:
        store = AllocationStore(uow.session)
        run = ScenarioRunRow(scenario=scenario_id, actor=actor, run_at=now, year=base.year,
                             parameter_version=base.params.version, result=result)
        store.add(run)
        uow.commit()
        return {"id": run.id, "scenario": scenario_id, "run_at": now.isoformat(), **result}


def scenario_run_view(uow: UoW, run_id: int) -> dict[str, Any]:
    with uow:
        run = AllocationStore(uow.session).scenario_run(run_id)
        if run is None:
            raise alloc_errors.ScenarioRunNotFound(f"no scenario run {run_id}", field="id")
        return {"id": run.id, "scenario": run.scenario, "run_at": run.run_at.isoformat(),
                "actor": run.actor, **run.result}


def compare_scenarios(uow_factory: Any, *, a: int, b: int, actor: str,
                      now: datetime | None = None) -> dict[str, Any]:
    """Two scenarios side by side, from their latest runs (a scenario never run is run)."""
    from allocation.scenario import compare

    results = []
    for which, sid in (("a", a), ("b", b)):
        with uow_factory() as uow:
            store = AllocationStore(uow.session)
            if store.scenario(sid) is None:
                raise alloc_errors.ScenarioNotFound(f"no scenario {sid}", field=which)
            latest = store.latest_scenario_run(sid)
            result = dict(latest.result) if latest is not None else None
            run_id = latest.id if latest is not None else None
        if result is None:
            out = run_scenario(uow_factory, scenario_id=sid, actor=actor, now=now)
            run_id, result = out["id"], out
        results.append((run_id, result))
    if results[0][1].get("year") != results[1][1].get("year"):
        raise alloc_errors.ScenarioError("the two scenarios are for different years",
                                         field="b")
    out = compare(results[0][1], results[1][1])
    out["runs"] = {"a": results[0][0], "b": results[1][0]}
    return out


# --------------------------------------------------------------------------- reserve


def request_reserve(uow: UoW, *, permit: str, pollutant: str, year: int, qty_kg: int,
                    priority: int = 1, min_pct: int = 0, all_or_nothing: bool = False,
                    actor: str, note: str | None = None,
                    now: datetime | None = None) -> dict[str, Any]:
    """A permit asks for reserve rights (planned by `plan_reserve_release`)."""
    from allocation.tables import ReserveRequestRow

    now = now or system_clock()
    pol = parse_pollutant(pollutant).value
    qty = _positive(qty_kg)
    if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 100:
        raise InvalidInput("priority must be a whole number from 1 to 100", field="priority")
    if isinstance(min_pct, bool) or not isinstance(min_pct, int) or not 0 <= min_pct <= 100:
        raise InvalidInput("min_pct must be a whole percentage", field="min_pct")
    with uow:
        store = RegistryStore(uow.session)
        _p, q = _usable_quantity(store, permit, pol, year, trading_day(now), lock=False)
        row = ReserveRequestRow(permit=permit, pollutant=pol, year=year, qty_kg=qty,
                                priority=priority, min_pct=min_pct,
                                all_or_nothing=bool(all_or_nothing), status="open",
                                created_by=actor, created_at=now, note=note)
        AllocationStore(uow.session).add(row)
        uow.commit()
        return {"id": row.id, "permit": permit, "pollutant": pol, "year": year,
                "zone": q.zone, "qty_kg": qty, "priority": priority, "min_pct": min_pct,
                "all_or_nothing": bool(all_or_nothing), "status": "open",
                "cap_headroom_kg": max(q.cap_kg - q.permitted_kg, 0)}


def _reserve_balances(uow: UoW, year: int) -> dict[tuple[str, str], int]:
    """(pollutant, zone) -> available kg of the bureau reserve for vintage `year`."""
    out: dict[tuple[str, str], int] = {}
    for a in LedgerStore(uow.session).accounts_of([ledger.BUREAU]):
        if a.kind != AccountKind.RESERVE:
            continue
        pol, zone, vintage = a.asset.split("/")
        if int(vintage) == year:
            out[(pol, zone)] = max(a.available, 0)
    return out


def build_reserve_problem(uow: UoW, *, year: int, applicants: str = "requests",
                          zones: Sequence[str] | None = None,
                          pollutants: Sequence[str] | None = None,
                          retained_share: str = "0", objective: str = "priority",
                          now: datetime | None = None) -> dict[str, Any]:
    """The reserve-release problem (its JSON form, `allocation.reserve.parse_problem`) from
    the database: the bureau's reserve balances of the vintage, and applicants per permit and
    zone: open requests (``requests``) or every usable permit's headroom (``headroom``),
    bounded by cap headroom = cap - permitted quantity."""
    now = now or system_clock()
    if applicants not in ("requests", "headroom"):
        raise InvalidInput("applicants must be requests or headroom", field="applicants")
    pols = {parse_pollutant(p).value for p in pollutants} if pollutants else None
    zone_set = set(zones) if zones else None
    today = trading_day(now)
    with uow:
        store = AllocationStore(uow.session)
        balances = _reserve_balances(uow, year)
        rows = {(q.permit, q.pollutant): q for q in store.quantity_rows([year])}
        info = {code: (st, vf, vt) for code, st, _s, vf, vt, _v, _c, _u in store.facilities()}
        apps: dict[tuple[str, str], dict[str, Any]] = {}
        request_ids: dict[str, list[int]] = {}
        excluded: list[str] = []

        def usable(code: str) -> bool:
            st, vf, vt = info[code]
            return st == "valid" and vf <= today <= vt and vf.year <= year <= vt.year

        def want(q: Any) -> bool:
            return ((pols is None or q.pollutant in pols)
                    and (zone_set is None or q.zone in zone_set))

        if applicants == "requests":
            for r in store.open_requests(year):
                q = rows.get((r.permit, r.pollutant))
                if q is None or not want(q):
                    continue
                if not usable(r.permit):
                    excluded.append(f"request {r.id}: permit {r.permit} is not usable")
                    continue
                a = apps.setdefault((r.permit, q.zone), {
                    "id": f"{r.permit}@{q.zone}", "zone": q.zone, "demand_kg": {},
                    "cap_headroom_kg": {}, "priority": 1, "min_fraction": "0",
                    "all_or_nothing": False})
                a["demand_kg"][r.pollutant] = a["demand_kg"].get(r.pollutant, 0) + r.qty_kg
                a["cap_headroom_kg"][r.pollutant] = max(q.cap_kg - q.permitted_kg, 0)
                a["priority"] = max(a["priority"], r.priority)
                a["min_fraction"] = str(max(Decimal(a["min_fraction"]),
                                            Decimal(r.min_pct) / 100))
                a["all_or_nothing"] = a["all_or_nothing"] or r.all_or_nothing
                request_ids.setdefault(a["id"], []).append(r.id)
        else:
            for (code, pol), q in rows.items():
                head = q.cap_kg - q.permitted_kg
                if head <= 0 or not want(q) or not usable(code):
                    continue
                a = apps.setdefault((code, q.zone), {
                    "id": f"{code}@{q.zone}", "zone": q.zone, "demand_kg": {},
                    "cap_headroom_kg": {}})
                a["demand_kg"][pol] = head
                a["cap_headroom_kg"][pol] = head
        needed = {(p, a["zone"]) for a in apps.values() for p in a["demand_kg"]}
        reserve = [{"pollutant": p, "zone": z, "available_kg": balances.get((p, z), 0)}
                   for p, z in sorted(needed | {k for k in balances if (
                       pols is None or k[0] in pols) and (zone_set is None or k[1] in zone_set)})]
    return {"name": f"reserve release {year} ({applicants})", "objective": objective,
            "retained_share": retained_share, "reserve": reserve,
            "applicants": [apps[k] for k in sorted(apps)],
            "_requests": request_ids, "_excluded": excluded}


def plan_reserve_release(uow_factory: Any, *, year: int, applicants: str = "requests",
                         zones: Sequence[str] | None = None,
                         pollutants: Sequence[str] | None = None,
                         retained_share: str = "0", objective: str = "priority",
                         engine: str = "auto", actor: str,
                         prices: Mapping[str, object] | None = None,
                         now: datetime | None = None) -> dict[str, Any]:
    """Build the problem from the database, optimise it, store the plan and its grants.

    An infeasible problem is stored with its diagnosis (status ``infeasible``); a solver that
    stops without proof of optimality gives status ``not_optimal``; neither can be released.
    """
    from allocation.reserve import parse_problem
    from allocation.reserve_lp import optimise
    from allocation.tables import ReservePlanRow

    now = now or system_clock()
    doc = build_reserve_problem(uow_factory(), year=year, applicants=applicants, zones=zones,
                                pollutants=pollutants, retained_share=retained_share,
                                objective=objective, now=now)
    requests = doc.pop("_requests")
    excluded = doc.pop("_excluded")
    # the price each grantee pays per pollutant, never below a published base price
    plan_prices = paid_use.rules.plan_prices({r["pollutant"] for r in doc["reserve"]}, prices)
    if not doc["applicants"]:
        raise alloc_errors.NothingToCompute(f"no applicant for reserve in {year}",
                                            field="applicants")
    report = optimise(parse_problem(doc), engine=engine)
    grants = report.pop("grants", None) or []
    if report["status"] == "infeasible":
        status = "infeasible"
    elif report.get("proven_optimal") and report.get("check", {}).get("ok"):
        status = "planned"
    else:
        status = "not_optimal"
    report["excluded"] = excluded
    report["requests"] = requests
    with uow_factory() as uow:
        store = AllocationStore(uow.session)
        plan = ReservePlanRow(year=year, applicants=applicants, status=status,
                              created_by=actor, created_at=now, problem=doc, report=report,
                              prices=plan_prices)
        store.add(plan)
        rows = []
        for g in grants:
            permit, zone = g["id"].rsplit("@", 1)
            for pol, kg in g["granted_kg"].items():
                if kg > 0:
                    rows.append(dict(plan=plan.id, permit=permit, pollutant=pol, zone=zone,
                                     year=year, granted_kg=kg, released_kg=0,
                                     status="planned", note=None))
        store.add_grants(rows)
        uow.commit()
        plan_id = plan.id
    return reserve_plan_view(uow_factory(), plan_id)


def reserve_plan_view(uow: UoW, plan_id: int) -> dict[str, Any]:
    with uow:
        store = AllocationStore(uow.session)
        plan = store.plan(plan_id)
        if plan is None:
            raise alloc_errors.ReservePlanNotFound(f"no reserve plan {plan_id}", field="id")
        return {"id": plan.id, "year": plan.year, "applicants": plan.applicants,
                "status": plan.status, "created_by": plan.created_by,
                "created_at": plan.created_at.isoformat(), "released_by": plan.released_by,
                "released_at": plan.released_at.isoformat() if plan.released_at else None,
                "report": plan.report, "prices": plan.prices,
                "grants": [{"permit": g.permit, "pollutant": g.pollutant, "zone": g.zone,
                            "year": g.year, "granted_kg": g.granted_kg,
                            "released_kg": g.released_kg, "status": g.status, "note": g.note,
                            "price": g.price, "amount_fen": g.amount_fen}
                           for g in store.grants(plan_id)]}


def release_reserve_plan(uow: UoW, *, plan_id: int, actor: str,
                         now: datetime | None = None) -> dict[str, Any]:
    """Release a plan's grants from the bureau reserve into the permits' confirmed accounts
    (ledger type ``reserve_release``) in one unit of work: each grant never above the permit's
    cap (clipped to the headroom left at release), the permit's permitted quantity and
    history updated with it. The plan's requests become granted; other plans of the year
    still planned become superseded (the balances they used changed)."""
    from ledger.entries import MAX_BATCH

    now = now or system_clock()
    today = trading_day(now)
    with uow:
        ledger.lock_journal(uow)  # before the permit rows: see ledger.service
        store = AllocationStore(uow.session)
        reg = RegistryStore(uow.session)
        plan = store.plan(plan_id, lock=True)
        if plan is None:
            raise alloc_errors.ReservePlanNotFound(f"no reserve plan {plan_id}", field="id")
        if plan.status != "planned":
            raise alloc_errors.PlanNotReleasable(
                f"reserve plan {plan_id} is {plan.status}: only a planned plan (feasible, "
                "proven optimal, re-checked) can be released", field="id")
        grants = store.grants(plan_id)
        charges = paid_use.ReleaseCharges(uow, plan_id=plan_id, prices=plan.prices, now=now,
                                          pollutants={g.pollutant for g in grants})
        transfers: list[Transfer] = []
        after: list[tuple[Any, int, int, str]] = []
        for g in grants:
            p = reg.permit(g.permit)
            q = reg.quantity(g.permit, g.pollutant, g.year, lock=True)
            if p is None or q is None:
                g.status, g.note = "skipped", "permit or quantity no longer exists"
                continue
            try:
                check_usable(p, g.year, today)
            except DomainError as exc:
                g.status, g.note = "skipped", exc.message
                continue
            accts = ledger.ensure_rights_accounts(
                uow, holder=g.permit, pollutant=g.pollutant, zone=g.zone, vintage=g.year,
                kinds=[AccountKind.CONFIRMED, AccountKind.TRADABLE], now=now,
                upper_limit=q.cap_kg)
            reserve = ledger.ensure_rights_accounts(
                uow, holder=ledger.BUREAU, pollutant=g.pollutant, zone=g.zone, vintage=g.year,
                kinds=[AccountKind.RESERVE], now=now)[AccountKind.RESERVE]
            held = LedgerStore(uow.session).get_account(accts[AccountKind.CONFIRMED])
            assert held is not None
            # released rights join the permit, which never goes above its cap
            room = min(q.cap_kg - held.balance - held.credits_pending,
                       q.cap_kg - q.permitted_kg)
            qty = min(g.granted_kg, room)
            if qty <= 0:
                g.status, g.note = "skipped", f"no headroom left under the cap of {q.cap_kg} kg"
                continue
            pay, unpaid = charges.charge(g, qty, p.enterprise)  # qty × the plan's price
            if unpaid is not None:
                g.status, g.note = "skipped", unpaid
                continue
            tid = f"release:{plan_id}:{g.permit}:{g.pollutant}:{g.year}"
            transfers.append(Transfer(tid, "reserve_release", reserve,
                                      accts[AccountKind.CONFIRMED], qty,
                                      reference=f"reserve_plan:{plan_id}"))
            transfers.extend(pay)
            after.append((g, qty, q.permitted_kg + qty, tid))
            if qty < g.granted_kg:
                g.note = f"clipped to the cap: {g.granted_kg - qty} kg not released"
        for i in range(0, len(transfers), MAX_BATCH):
            ledger.execute(uow, transfers[i:i + MAX_BATCH], initiator=Initiator.BUREAU,
                           actor=actor, now=now)
        released = 0
        for g, qty, permitted_after, tid in after:
            reg.set_permitted(g.permit, g.pollutant, g.year, permitted_after, confirmed=True)
            reg.add_event(permit=g.permit, pollutant=g.pollutant, year=g.year,
                          kind="reserve_release", qty_kg=qty, counterparty="RESERVE",
                          price=None, reference=tid, permitted_after_kg=permitted_after,
                          at=now, note=f"reserve plan {plan_id}")
            g.released_kg, g.status = qty, "released"
            released += qty
        ids = [i for lst in (plan.report or {}).get("requests", {}).values() for i in lst]
        store.set_request_status(ids, "granted")
        plan.status, plan.released_by, plan.released_at = "released", actor, now
        store.supersede_plans(plan.year, plan.id)
        uow.commit()
        return {"id": plan_id, "status": "released", "released_kg": released,
                "grants": len(after), "skipped": sum(g.status == "skipped" for g in grants)}


# --------------------------------------------------------------------------- reversals


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
