"""The registry's use cases: zones and districts, enterprises, permits with their quantities,
indicators and cash deposits; the views of them; and `PermitRegistry`, what trading asks of
permits inside its own transaction (see trading.ports).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from allocation.checks import positive
from allocation.permits import (
    NotPermitHolder,
    PermitNotFound,
    QuantityNotFound,
    ZoneMismatch,
    cap_and_allocation,
    check_usable,
)
from allocation.register import permit_status
from allocation.store import RegistryStore
from kernel.clock import system_clock
from kernel.errors import DomainError
from kernel.pollutants import parse_pollutant
from kernel.records import PermitAsk, PermitTrade
from ledger import service as ledger
from ledger.entries import Transfer
from ledger.service import UoW
from ledger.transactions import AccountKind, Initiator


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
    from allocation.permits import EnterpriseNotFound
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
            total_kg=positive(total_kg, "total_kg"), reserve_share_pct=reserve_share_pct,
            issued=False)])
        uow.commit()


def deposit_cash(uow: UoW, *, enterprise: str, amount_fen: int, actor: str, reference: str,
                 now: datetime | None = None) -> None:
    """Money enters an enterprise's cash account from the settlement bank."""
    now = now or system_clock()
    amt = positive(amount_fen, "amount_fen")
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
