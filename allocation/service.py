"""Allocation and registry use cases: issue indicators, confirm rights, verify surplus, and
keep every permit in step with its rights.

Each use case runs in one unit of work: `with uow: ...; uow.commit()`. The permit's
permitted quantity and history are written in the same transaction as the ledger batch that
moves the rights, so the permit and the ledger can never disagree after a commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

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
from allocation.store import RegistryStore
from kernel.clock import system_clock, trading_day
from kernel.errors import InvalidInput
from kernel.pollutants import parse_pollutant
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
    cap. Without `qty_kg`, confirms the permit's allocated quantity not yet confirmed."""
    now = now or system_clock()
    pol = parse_pollutant(pollutant).value
    with uow:
        store = RegistryStore(uow.session)
        _p, q = _usable_quantity(store, permit, pol, year, trading_day(now))
        accts = ledger.ensure_rights_accounts(
            uow, holder=permit, pollutant=pol, zone=q.zone, vintage=year,
            kinds=[AccountKind.CONFIRMED, AccountKind.TRADABLE], now=now,
            upper_limit=q.cap_kg)
        reserve = ledger.ensure_rights_accounts(
            uow, holder=ledger.BUREAU, pollutant=pol, zone=q.zone, vintage=year,
            kinds=[AccountKind.RESERVE], now=now)[AccountKind.RESERVE]
        held = LedgerStore(uow.session).get_account(accts[AccountKind.CONFIRMED])
        assert held is not None
        if qty_kg is None:
            qty_kg = q.allocated_kg - held.balance
            if qty_kg <= 0:
                raise ConfirmationAboveCap(
                    f"the allocated {q.allocated_kg} kg is already confirmed", field="qty_kg")
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
        after = held.balance + qty
        store.set_permitted(permit, pol, year, after, confirmed=True)
        store.add_event(permit=permit, pollutant=pol, year=year, kind="confirmation",
                        qty_kg=qty, counterparty="RESERVE", price=None, reference=tid,
                        permitted_after_kg=after, at=now, note=None)
        uow.commit()
        return RightsChange(permit, pol, year, qty, after, tid)


def verify_surplus(uow: UoW, *, permit: str, pollutant: str, year: int, qty_kg: int,
                   actor: str, reason: str = "verified reduction",
                   now: datetime | None = None) -> RightsChange:
    """The bureau verifies a reduction: confirmed rights become tradable and leave the
    permit's permitted quantity."""
    now = now or system_clock()
    pol = parse_pollutant(pollutant).value
    qty = _positive(qty_kg)
    with uow:
        store = RegistryStore(uow.session)
        _p, q = _usable_quantity(store, permit, pol, year, trading_day(now))
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
        after = held.balance - qty
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
        store = RegistryStore(uow.session)
        p = store.permit(permit)
        if p is None or p.enterprise != enterprise:
            raise NotPermitHolder(f"enterprise {enterprise} holds no permit {permit}",
                                  field="permit_code")
        check_usable(p, year, today)
        q = store.quantity(permit, pollutant, year)
        if q is None:
            raise QuantityNotFound(f"permit {permit} has no {pollutant} quantity for {year}",
                                   field="permit_code")
        if q.zone != zone:
            raise ZoneMismatch(f"permit {permit} is in zone {q.zone}, the market is {zone}",
                               field="market")
        # a buyer that never had rights confirmed still has headroom up to its cap
        ledger.ensure_rights_accounts(
            uow, holder=permit, pollutant=pollutant, zone=zone, vintage=year,
            kinds=[AccountKind.CONFIRMED, AccountKind.TRADABLE], now=system_clock(),
            upper_limit=q.cap_kg)

    def record_trade(self, uow: UoW, *, permit: str, pollutant: str, year: int, side: str,
                     qty_kg: int, counterparty: str, price: int, reference: str,
                     at: datetime) -> None:
        """Write the trade into the permit. A purchase joins the permitted quantity (the
        ledger has already refused anything above the cap); a sale left it at verification."""
        store = RegistryStore(uow.session)
        q = store.quantity(permit, pollutant, year, lock=True)
        assert q is not None
        after = q.permitted_kg + (qty_kg if side == "buy" else 0)
        if side == "buy":
            store.set_permitted(permit, pollutant, year, after)
        store.add_event(permit=permit, pollutant=pollutant, year=year,
                        kind="trade_in" if side == "buy" else "trade_out",
                        qty_kg=qty_kg if side == "buy" else -qty_kg,
                        counterparty=counterparty, price=price, reference=reference,
                        permitted_after_kg=after, at=at,
                        note=None if side == "buy" else "sold from verified surplus")


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
                allocated_kg=allocated, permitted_kg=0, confirmed=False))
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
                        valid_to=p.valid_to.isoformat(), status=p.status)
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
            status=p.status,
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
