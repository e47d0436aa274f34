"""Queries of the rights-confirmation queue: the permits whose permitted quantities for a
year still wait for confirmation, with their enterprise, district, zones and sector.

A permit waits for a year when it may carry rights that year (valid, the year within its
validity, not expired), its unit obtains rights by confirmation (not a new or expanded unit,
which buys them) and at least one of its permitted quantities for the year (above zero) is
not confirmed. Its state: `waiting` (none confirmed yet) or `partial` (some confirmed).
All SQL of the queue lives here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, select
from sqlalchemy.orm import Session

from allocation.paid_use import PURCHASE_ONLY
from allocation.tables import (
    DistrictRow,
    EnterpriseRow,
    PermitQuantityRow,
    PermitRow,
    ZoneRow,
)

#: confirmation states of a permit for a year, as filters take them
STATES = ("waiting", "partial", "confirmed")


class ConfirmationStore:
    def __init__(self, session: Session) -> None:
        self.s = session

    def _usable(self, year: int, today: date) -> Any:
        return and_(PermitRow.status == "valid", PermitRow.valid_to >= today,
                    PermitRow.valid_from <= date(year, 12, 31),
                    PermitRow.valid_to >= date(year, 1, 1),
                    PermitRow.unit_kind.not_in(sorted(PURCHASE_ONLY)))

    def _counted(self, year: int) -> Select[str, int, Any]:
        """Per permit: its quantities for `year` above zero and how many are unconfirmed."""
        q = PermitQuantityRow
        return (select(q.permit.label("permit"), func.count().label("n"),
                       func.sum(case((q.confirmed.is_(False), 1), else_=0)).label("open"))
                .where(q.year == year, q.permitted_kg > 0).group_by(q.permit))

    def queue(self, *, year: int, today: date, district: str | None = None,
              zone: str | None = None, sector: str | None = None,
              state: str | None = None, offset: int = 0, limit: int = 50
              ) -> tuple[list[str], int]:
        """Permit codes of the queue (by code) and their total. `state` None: waiting and
        partial; "confirmed": every quantity of the year confirmed."""
        c = self._counted(year).subquery()
        q = (select(PermitRow.code)
             .join(c, c.c.permit == PermitRow.code)
             .join(EnterpriseRow, EnterpriseRow.credit_code == PermitRow.enterprise)
             .where(self._usable(year, today)))
        if state == "waiting":
            q = q.where(c.c.open == c.c.n)
        elif state == "partial":
            q = q.where(c.c.open > 0, c.c.open < c.c.n)
        elif state == "confirmed":
            q = q.where(c.c.open == 0)
        else:
            q = q.where(c.c.open > 0)
        if district is not None:
            q = q.where(EnterpriseRow.district == district)
        if sector is not None:
            q = q.where(EnterpriseRow.sector == sector)
        if zone is not None:
            pq = PermitQuantityRow
            q = q.where(exists().where(pq.permit == PermitRow.code, pq.year == year,
                                       pq.zone == zone))
        total = int(self.s.scalar(select(func.count()).select_from(q.subquery())) or 0)
        codes = list(self.s.scalars(q.order_by(PermitRow.code).offset(offset).limit(limit)))
        return codes, total

    def permits(self, codes: Sequence[str], year: int) -> dict[str, dict[str, Any]]:
        """The permits `codes` (those that exist) with their enterprise, district and their
        quantities for `year`: code → dict(enterprise, enterprise_name, sector, district,
        district_name, status, valid_from, valid_to, unit_kind, quantities=[...])."""
        out: dict[str, dict[str, Any]] = {}
        for k in range(0, len(codes), 500):
            chunk = list(codes[k:k + 500])
            rows = self.s.execute(
                select(PermitRow, EnterpriseRow.name, EnterpriseRow.sector,
                       EnterpriseRow.district, DistrictRow.name)
                .join(EnterpriseRow, EnterpriseRow.credit_code == PermitRow.enterprise)
                .join(DistrictRow, DistrictRow.code == EnterpriseRow.district)
                .where(PermitRow.code.in_(chunk)))
            for p, name, sector, district, district_name in rows:
                out[p.code] = dict(code=p.code, enterprise=p.enterprise, enterprise_name=name,
                                   sector=sector, district=district,
                                   district_name=district_name, status=p.status,
                                   valid_from=p.valid_from, valid_to=p.valid_to,
                                   unit_kind=p.unit_kind, quantities=[])
            for q, zone_name in self.s.execute(
                    select(PermitQuantityRow, ZoneRow.name)
                    .join(ZoneRow, ZoneRow.code == PermitQuantityRow.zone)
                    .where(PermitQuantityRow.permit.in_(chunk),
                           PermitQuantityRow.year == year)
                    .order_by(PermitQuantityRow.permit, PermitQuantityRow.pollutant)):
                if q.permit in out:
                    out[q.permit]["quantities"].append(dict(
                        pollutant=q.pollutant, zone=q.zone, zone_name=zone_name,
                        permitted_kg=q.permitted_kg, cap_kg=q.cap_kg,
                        allocated_kg=q.allocated_kg, confirmed=q.confirmed))
        return out

    def districts(self) -> list[tuple[str, str]]:
        return [(c, n) for c, n in self.s.execute(
            select(DistrictRow.code, DistrictRow.name).order_by(DistrictRow.code))]

    def zones(self) -> list[tuple[str, str]]:
        return [(c, n) for c, n in self.s.execute(
            select(ZoneRow.code, ZoneRow.name).order_by(ZoneRow.code))]

    def sectors(self) -> list[str]:
        return list(self.s.scalars(select(EnterpriseRow.sector).distinct()
                                   .order_by(EnterpriseRow.sector)))

    def names(self, permits: Sequence[str], enterprises: Sequence[str]
              ) -> tuple[dict[str, str], dict[str, str]]:
        """(permit → its enterprise's name, enterprise credit code → name)."""
        by_permit: dict[str, str] = {}
        by_enterprise: dict[str, str] = {}
        ps = sorted(set(permits))
        for k in range(0, len(ps), 500):
            by_permit.update({c: n for c, n in self.s.execute(
                select(PermitRow.code, EnterpriseRow.name)
                .join(EnterpriseRow, EnterpriseRow.credit_code == PermitRow.enterprise)
                .where(PermitRow.code.in_(ps[k:k + 500])))})
        es = sorted(set(enterprises))
        for k in range(0, len(es), 500):
            by_enterprise.update({c: n for c, n in self.s.execute(
                select(EnterpriseRow.credit_code, EnterpriseRow.name)
                .where(EnterpriseRow.credit_code.in_(es[k:k + 500])))})
        return by_permit, by_enterprise
