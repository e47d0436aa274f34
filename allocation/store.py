"""Registry repository: enterprises, permits, permitted quantities, events, indicators."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from allocation.permits import PermitView
from allocation.tables import (
    DistrictRow,
    EnterpriseRow,
    IndicatorRow,
    PermitEventRow,
    PermitQuantityRow,
    PermitRow,
    SiteRow,
    ZoneRow,
)


class RegistryStore:
    def __init__(self, session: Session) -> None:
        self.s = session

    @property
    def postgres(self) -> bool:
        return self.s.get_bind().dialect.name == "postgresql"

    def enterprise(self, code: str) -> EnterpriseRow | None:
        return self.s.get(EnterpriseRow, code)

    def permit(self, code: str) -> PermitView | None:
        r = self.s.get(PermitRow, code)
        if r is None:
            return None
        return PermitView(r.code, r.enterprise, r.valid_from, r.valid_to, r.status)

    def permits_of(self, enterprise: str) -> list[PermitRow]:
        return list(self.s.scalars(select(PermitRow).where(PermitRow.enterprise == enterprise)
                                   .order_by(PermitRow.code)))

    def quantity(self, permit: str, pollutant: str, year: int, *, lock: bool = False
                 ) -> PermitQuantityRow | None:
        q = select(PermitQuantityRow).where(
            PermitQuantityRow.permit == permit, PermitQuantityRow.pollutant == pollutant,
            PermitQuantityRow.year == year)
        if lock and self.postgres:
            q = q.with_for_update()
        return self.s.scalar(q)

    def quantities(self, permit: str) -> list[PermitQuantityRow]:
        return list(self.s.scalars(select(PermitQuantityRow)
                                   .where(PermitQuantityRow.permit == permit)
                                   .order_by(PermitQuantityRow.pollutant,
                                             PermitQuantityRow.year)))

    def set_permitted(self, permit: str, pollutant: str, year: int, permitted: int,
                      confirmed: bool | None = None) -> None:
        values: dict[str, object] = {"permitted_kg": permitted}
        if confirmed is not None:
            values["confirmed"] = confirmed
        self.s.execute(update(PermitQuantityRow).where(
            PermitQuantityRow.permit == permit, PermitQuantityRow.pollutant == pollutant,
            PermitQuantityRow.year == year).values(**values))

    def add_event(self, **values: object) -> None:
        self.s.add(PermitEventRow(**values))

    def events(self, permit: str, limit: int = 200) -> list[PermitEventRow]:
        return list(self.s.scalars(select(PermitEventRow).where(PermitEventRow.permit == permit)
                                   .order_by(PermitEventRow.id.desc()).limit(limit)))

    def indicator(self, zone: str, pollutant: str, year: int, *, lock: bool = False
                  ) -> IndicatorRow | None:
        q = select(IndicatorRow).where(IndicatorRow.zone == zone,
                                       IndicatorRow.pollutant == pollutant,
                                       IndicatorRow.year == year)
        if lock and self.postgres:
            q = q.with_for_update()
        return self.s.scalar(q)

    def indicators(self, year: int | None = None) -> list[IndicatorRow]:
        q = select(IndicatorRow).order_by(IndicatorRow.zone, IndicatorRow.pollutant,
                                          IndicatorRow.year)
        if year is not None:
            q = q.where(IndicatorRow.year == year)
        return list(self.s.scalars(q))

    def zones(self) -> list[ZoneRow]:
        return list(self.s.scalars(select(ZoneRow).order_by(ZoneRow.code)))

    def districts(self) -> list[DistrictRow]:
        return list(self.s.scalars(select(DistrictRow).order_by(DistrictRow.code)))

    def search_enterprises(self, text: str | None, sector: str | None, district: str | None,
                           offset: int, limit: int) -> tuple[list[EnterpriseRow], int]:
        q = select(EnterpriseRow)
        if text:
            like = f"%{text}%"
            q = q.where(or_(EnterpriseRow.name.like(like),
                            EnterpriseRow.credit_code.like(like)))
        if sector:
            q = q.where(EnterpriseRow.sector == sector)
        if district:
            q = q.where(EnterpriseRow.district == district)
        total = self.s.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = self.s.scalars(q.order_by(EnterpriseRow.name).offset(offset).limit(limit))
        return list(rows), int(total)

    def site(self, site_id: int) -> SiteRow | None:
        return self.s.get(SiteRow, site_id)

    def add_all(self, rows: Sequence[object]) -> None:
        self.s.add_all(rows)

    def count(self, model: type) -> int:
        return int(self.s.scalar(select(func.count()).select_from(model)) or 0)

