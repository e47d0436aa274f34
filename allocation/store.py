"""Registry repository: enterprises, permits, permitted quantities, events, indicators."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import groupby
from typing import Any

from sqlalchemy import func, insert, or_, select, tuple_, update
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
from storage.bulk import insert_rows, pg_rows, update_rows

#: a permit's quantities: (pollutant, year) -> (zone, cap in kg or None)
Quantities = dict[tuple[str, int], tuple[str, int | None]]

# what every group of the order pipeline reads and writes, on PostgreSQL as fixed texts
# prepared on the driver (SQLAlchemy's per-statement work cost more than the statements)
_PG_PERMITS_WITH_QUANTITIES = (
    "SELECT p.code, p.enterprise, p.valid_from, p.valid_to, p.status, q.pollutant, q.year, "
    "q.zone, q.cap_kg FROM permit AS p LEFT OUTER JOIN (permit_quantity AS q "
    "JOIN unnest(%s::varchar[], %s::int[]) AS k(pollutant, year) "
    "ON q.pollutant = k.pollutant AND q.year = k.year) ON q.permit = p.code "
    "WHERE p.code = ANY(%s::varchar[])")
_PG_PERMITTED_LOCK = (
    "SELECT q.permit, q.pollutant, q.year, q.permitted_kg FROM permit_quantity AS q "
    "JOIN unnest(%s::varchar[], %s::varchar[], %s::int[]) AS k(permit, pollutant, year) "
    "ON q.permit = k.permit AND q.pollutant = k.pollutant AND q.year = k.year "
    "ORDER BY q.permit, q.pollutant, q.year FOR UPDATE OF q")


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
        if lock:
            q = q.execution_options(populate_existing=True)
            if self.postgres:
                q = q.with_for_update()
        return self.s.scalar(q)

    def permits_with_quantities(self, codes: Iterable[str], keys: Iterable[tuple[str, int]]
                                ) -> dict[str, tuple[PermitView, Quantities]]:
        """For each of these permits that exists: the permit, and the zone and cap of each of
        its quantities of the (pollutant, year) asked (absent: it has none), in one
        statement."""
        wanted, asked = sorted(set(codes)), sorted(set(keys))
        if not wanted:
            return {}
        if self.postgres:
            rows: Iterable[Sequence[Any]] = pg_rows(self.s, _PG_PERMITS_WITH_QUANTITIES, (
                [k[0] for k in asked], [k[1] for k in asked], wanted))
        else:
            Q = PermitQuantityRow
            rows = self.s.execute(
                select(PermitRow.code, PermitRow.enterprise, PermitRow.valid_from,
                       PermitRow.valid_to, PermitRow.status, Q.pollutant, Q.year, Q.zone,
                       Q.cap_kg)
                .outerjoin(Q, (Q.permit == PermitRow.code) & tuple_(Q.pollutant, Q.year).in_(
                    asked))
                .where(PermitRow.code.in_(wanted)))
        out: dict[str, tuple[PermitView, Quantities]] = {}
        for code, enterprise, valid_from, valid_to, status, pol, year, zone, cap in rows:
            view, quantities = out.setdefault(code, (
                PermitView(code, enterprise, valid_from, valid_to, status), {}))
            if pol is not None:
                quantities[(pol, int(year))] = (zone, cap)
        return out

    def permitted_for_update(self, keys: Iterable[tuple[str, str, int]]
                             ) -> dict[tuple[str, str, int], int]:
        """The permitted quantity (kg) of each (permit, pollutant, year) that exists,
        locked (FOR UPDATE on PostgreSQL, in key order), as stored now: in one statement,
        without ORM objects (`set_permitted_many` writes them back)."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        if self.postgres:
            permits, pollutants, years = (list(c) for c in zip(*wanted, strict=True))
            return {(p, pol, y): kg for p, pol, y, kg in pg_rows(
                self.s, _PG_PERMITTED_LOCK, (permits, pollutants, years))}
        Q = PermitQuantityRow
        out: dict[tuple[str, str, int], int] = {}
        for (pol, year), group in groupby(wanted, key=lambda k: (k[1], k[2])):
            rows = self.s.execute(select(Q.permit, Q.permitted_kg).where(
                Q.permit.in_([k[0] for k in group]), Q.pollutant == pol, Q.year == year))
            out.update({(str(p), pol, year): int(kg) for p, kg in rows})
        return out

    def set_permitted_many(self, permitted: dict[tuple[str, str, int], int]) -> None:
        """Store the permitted quantity of each (permit, pollutant, year) in one statement;
        an ORM copy of any of those rows this session holds is expired, so it is read again
        rather than believed (or written back)."""
        if not permitted:
            return
        Q = PermitQuantityRow
        update_rows(self.s, Q.__table__, ("permit", "pollutant", "year"), [  # type: ignore[arg-type]
            dict(permit=p, pollutant=pol, year=y, permitted_kg=kg)
            for (p, pol, y), kg in sorted(permitted.items())])
        for obj in list(self.s.identity_map.values()):
            if isinstance(obj, Q) and (obj.permit, obj.pollutant, obj.year) in permitted:
                self.s.expire(obj)

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

    def surrendered_kg(self, permit: str, pollutant: str, year: int) -> int:
        """The rights of the year the permit surrendered at true-ups: consumed, while the
        permitted quantity keeps the limit that applied (DOMAIN §3)."""
        return self.surrendered_of([permit]).get((permit, pollutant, year), 0)

    def surrendered_of(self, permits: Sequence[str]) -> dict[tuple[str, str, int], int]:
        """`surrendered_kg` of every (permit, pollutant, year) of `permits` that surrendered
        any, in one statement per 500 permits."""
        E = PermitEventRow
        out: dict[tuple[str, str, int], int] = {}
        wanted = sorted(set(permits))
        for i in range(0, len(wanted), 500):
            rows = self.s.execute(
                select(E.permit, E.pollutant, E.year, func.sum(E.qty_kg))
                .where(E.permit.in_(wanted[i:i + 500]), E.kind == "surrender")
                .group_by(E.permit, E.pollutant, E.year))
            out.update({(str(p), str(pol), int(y)): -int(kg) for p, pol, y, kg in rows})
        return out

    def add_event(self, **values: object) -> None:
        self.s.add(PermitEventRow(**values))

    def add_events(self, rows: Sequence[dict[str, object]]) -> None:
        """Append history rows in one multi-row INSERT (no ORM objects)."""
        insert_rows(self.s, PermitEventRow.__table__, rows)  # type: ignore[arg-type]

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



# --------------------------------------------------------------------------- issue 5

from datetime import date  # noqa: E402

from sqlalchemy import delete  # noqa: E402

from allocation.tables import (  # noqa: E402
    ComputationChangeRow,
    ComputationRunRow,
    ReserveGrantRow,
    ReservePlanRow,
    ReserveRequestRow,
    ScenarioRow,
    ScenarioRunRow,
    StandardFlagRow,
    StandardRow,
)


class AllocationStore:
    """Computation inputs and results: facilities, quantity rows in bulk, computation runs,
    scenarios, standards and their flags, reserve requests, plans and grants."""

    CHUNK = 500

    def __init__(self, session: Session) -> None:
        self.s = session

    @property
    def postgres(self) -> bool:
        return self.s.get_bind().dialect.name == "postgresql"

    # -- facilities and quantities --------------------------------------------------------
    def facilities(self) -> list[tuple[str, str, str, date, date, str, int, str]]:
        """(permit, status, sector, valid_from, valid_to, parameter_version, capacity, unit),
        one per permit, in permit order."""
        q = (select(PermitRow.code, PermitRow.status, EnterpriseRow.sector,
                    PermitRow.valid_from, PermitRow.valid_to, PermitRow.parameter_version,
                    SiteRow.capacity, SiteRow.capacity_unit)
             .join(SiteRow, SiteRow.id == PermitRow.site)
             .join(EnterpriseRow, EnterpriseRow.credit_code == PermitRow.enterprise)
             .order_by(PermitRow.code))
        return [tuple(r) for r in self.s.execute(q)]  # type: ignore[misc]

    def quantity_rows(self, years: Sequence[int] | None = None, *, zone: str | None = None,
                      pollutant: str | None = None, lock: bool = False
                      ) -> list[PermitQuantityRow]:
        q = select(PermitQuantityRow).order_by(PermitQuantityRow.permit,
                                               PermitQuantityRow.pollutant,
                                               PermitQuantityRow.year)
        if years:
            q = q.where(PermitQuantityRow.year.in_(list(years)))
        if zone is not None:
            q = q.where(PermitQuantityRow.zone == zone)
        if pollutant is not None:
            q = q.where(PermitQuantityRow.pollutant == pollutant)
        if lock and self.postgres:
            q = q.with_for_update()
        return list(self.s.scalars(q))

    def update_quantities(self, values: Sequence[dict[str, object]]) -> None:
        """Bulk UPDATE by primary key (permit, pollutant, year)."""
        for i in range(0, len(values), 5000):
            self.s.execute(update(PermitQuantityRow), list(values[i:i + 5000]))

    def indicator_rows(self, year: int | None = None) -> list[IndicatorRow]:
        q = select(IndicatorRow)
        if year is not None:
            q = q.where(IndicatorRow.year == year)
        return list(self.s.scalars(q.order_by(IndicatorRow.zone, IndicatorRow.pollutant)))

    def years(self) -> list[int]:
        return [int(y) for y in self.s.scalars(
            select(PermitQuantityRow.year).distinct().order_by(PermitQuantityRow.year))]

    # -- runs -----------------------------------------------------------------------------
    def add_run(self, **values: object) -> ComputationRunRow:
        row = ComputationRunRow(**values)
        self.s.add(row)
        self.s.flush()
        return row

    def add_changes(self, rows: Sequence[dict[str, object]]) -> None:
        for i in range(0, len(rows), 5000):
            self.s.execute(insert(ComputationChangeRow), list(rows[i:i + 5000]))

    def run(self, run_id: int) -> ComputationRunRow | None:
        return self.s.get(ComputationRunRow, run_id)

    def changes(self, run_id: int, offset: int, limit: int) -> tuple[list[ComputationChangeRow],
                                                                     int]:
        q = select(ComputationChangeRow).where(ComputationChangeRow.run == run_id)
        total = self.s.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = self.s.scalars(q.order_by(ComputationChangeRow.id).offset(offset).limit(limit))
        return list(rows), int(total)

    # -- scenarios ------------------------------------------------------------------------
    def add(self, row: object) -> None:
        self.s.add(row)
        self.s.flush()

    def scenario(self, scenario_id: int) -> ScenarioRow | None:
        return self.s.get(ScenarioRow, scenario_id)

    def scenario_named(self, name: str) -> ScenarioRow | None:
        return self.s.scalar(select(ScenarioRow).where(ScenarioRow.name == name))

    def scenarios(self, offset: int, limit: int) -> tuple[list[ScenarioRow], int]:
        total = self.s.scalar(select(func.count()).select_from(ScenarioRow)) or 0
        rows = self.s.scalars(select(ScenarioRow).order_by(ScenarioRow.id).offset(offset)
                              .limit(limit))
        return list(rows), int(total)

    def delete_scenario(self, scenario_id: int) -> None:
        self.s.execute(delete(ScenarioRunRow).where(ScenarioRunRow.scenario == scenario_id))
        self.s.execute(update(ComputationRunRow).where(ComputationRunRow.scenario == scenario_id)
                       .values(scenario=None))
        self.s.execute(delete(ScenarioRow).where(ScenarioRow.id == scenario_id))

    def scenario_run(self, run_id: int) -> ScenarioRunRow | None:
        return self.s.get(ScenarioRunRow, run_id)

    def latest_scenario_run(self, scenario_id: int) -> ScenarioRunRow | None:
        return self.s.scalar(select(ScenarioRunRow).where(ScenarioRunRow.scenario == scenario_id)
                             .order_by(ScenarioRunRow.id.desc()).limit(1))

    def scenario_runs(self, scenario_id: int, limit: int = 20) -> list[ScenarioRunRow]:
        return list(self.s.scalars(select(ScenarioRunRow)
                                   .where(ScenarioRunRow.scenario == scenario_id)
                                   .order_by(ScenarioRunRow.id.desc()).limit(limit)))

    # -- standards ------------------------------------------------------------------------
    def standard(self, standard_id: int, *, lock: bool = False) -> StandardRow | None:
        q = select(StandardRow).where(StandardRow.id == standard_id)
        if lock and self.postgres:
            q = q.with_for_update()
        return self.s.scalar(q)

    def standard_named(self, name: str) -> StandardRow | None:
        return self.s.scalar(select(StandardRow).where(StandardRow.name == name))

    def add_flags(self, rows: Sequence[dict[str, object]]) -> None:
        for i in range(0, len(rows), 5000):
            self.s.execute(insert(StandardFlagRow), list(rows[i:i + 5000]))

    def flags(self, *, standard: int | None = None, status: str | None = None,
              permit: str | None = None, offset: int = 0, limit: int = 100
              ) -> tuple[list[StandardFlagRow], int]:
        q = select(StandardFlagRow)
        if standard is not None:
            q = q.where(StandardFlagRow.standard == standard)
        if status is not None:
            q = q.where(StandardFlagRow.status == status)
        if permit is not None:
            q = q.where(StandardFlagRow.permit == permit)
        total = self.s.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = self.s.scalars(q.order_by(StandardFlagRow.id).offset(offset).limit(limit))
        return list(rows), int(total)

    def flag(self, flag_id: int, *, lock: bool = False) -> StandardFlagRow | None:
        q = select(StandardFlagRow).where(StandardFlagRow.id == flag_id)
        if lock and self.postgres:
            q = q.with_for_update()
        return self.s.scalar(q)

    def set_recovery(self, flag_id: int, recovery_kg: int) -> None:
        self.s.execute(update(StandardFlagRow).where(StandardFlagRow.id == flag_id)
                       .values(recovery_kg=recovery_kg))

    def set_flag_status(self, ids: Sequence[int], status: str, note: str | None = None) -> None:
        for i in range(0, len(ids), self.CHUNK):
            self.s.execute(update(StandardFlagRow).where(
                StandardFlagRow.id.in_(list(ids[i:i + self.CHUNK])))
                .values(status=status, note=note))

    # -- reserve --------------------------------------------------------------------------
    def open_requests(self, year: int) -> list[ReserveRequestRow]:
        return list(self.s.scalars(select(ReserveRequestRow).where(
            ReserveRequestRow.year == year, ReserveRequestRow.status == "open")
            .order_by(ReserveRequestRow.id)))

    def set_request_status(self, ids: Sequence[int], status: str) -> None:
        for i in range(0, len(ids), self.CHUNK):
            self.s.execute(update(ReserveRequestRow).where(
                ReserveRequestRow.id.in_(list(ids[i:i + self.CHUNK]))).values(status=status))

    def plan(self, plan_id: int, *, lock: bool = False) -> ReservePlanRow | None:
        q = select(ReservePlanRow).where(ReservePlanRow.id == plan_id)
        if lock and self.postgres:
            q = q.with_for_update()
        return self.s.scalar(q)

    def add_grants(self, rows: Sequence[dict[str, object]]) -> None:
        for i in range(0, len(rows), 5000):
            self.s.execute(insert(ReserveGrantRow), list(rows[i:i + 5000]))

    def grants(self, plan_id: int) -> list[ReserveGrantRow]:
        return list(self.s.scalars(select(ReserveGrantRow).where(ReserveGrantRow.plan == plan_id)
                                   .order_by(ReserveGrantRow.id)))

    def supersede_plans(self, year: int, released: int) -> None:
        """Plans of `year` still planned when another is released are superseded."""
        self.s.execute(update(ReservePlanRow).where(
            ReservePlanRow.year == year, ReservePlanRow.status == "planned",
            ReservePlanRow.id != released).values(status="superseded"))


# --------------------------------------------------------------------------- issue 17

import json  # noqa: E402

from sqlalchemy import JSON  # noqa: E402

from allocation.register_tables import (  # noqa: E402
    PermitContentRow,
    PermitImportRow,
    PermitLifeEventRow,
    PermitOutletRow,
)


class RegisterStore:
    """The permit register: what the import reads in bulk and writes in bulk, the permit's
    content, outlets, life events, and the import history."""

    CHUNK = 5000

    def __init__(self, session: Session) -> None:
        self.s = session

    def district_zones(self) -> dict[str, tuple[str, str]]:
        return {c: (a, w) for c, a, w in self.s.execute(
            select(DistrictRow.code, DistrictRow.air_zone, DistrictRow.water_zone))}

    def _chunks(self, values: Sequence[Any]) -> Iterable[list[Any]]:
        values = list(values)
        for i in range(0, len(values), self.CHUNK):
            yield values[i:i + self.CHUNK]

    def site_permits(self, enterprises: Iterable[str]
                     ) -> dict[str, list[tuple[str, date, date, str]]]:
        """Site key (credit code + 3-digit sequence) -> the stored permits of that site."""
        out: dict[str, list[tuple[str, date, date, str]]] = {}
        for part in self._chunks(sorted(set(enterprises))):
            rows = self.s.execute(
                select(SiteRow.enterprise, SiteRow.seq, PermitRow.code, PermitRow.valid_from,
                       PermitRow.valid_to, PermitRow.status)
                .join(PermitRow, PermitRow.site == SiteRow.id)
                .where(SiteRow.enterprise.in_(part)))
            for ent, seq, code, vf, vt, st in rows:
                out.setdefault(f"{ent}{int(seq):03d}", []).append((code, vf, vt, st))
        return out

    def sites(self, enterprises: Iterable[str]) -> dict[tuple[str, int], int]:
        """(enterprise, sequence) -> site id."""
        out: dict[tuple[str, int], int] = {}
        for part in self._chunks(sorted(set(enterprises))):
            for ent, seq, sid in self.s.execute(select(SiteRow.enterprise, SiteRow.seq,
                                                       SiteRow.id)
                                                .where(SiteRow.enterprise.in_(part))):
                out.setdefault((ent, int(seq)), int(sid))
        return out

    def enterprises_among(self, codes: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for part in self._chunks(sorted(set(codes))):
            out.update(self.s.scalars(select(EnterpriseRow.credit_code)
                                      .where(EnterpriseRow.credit_code.in_(part))))
        return out

    def permit_states(self, codes: Iterable[str]) -> dict[str, tuple[str, str | None]]:
        """Permit code -> (status, content hash or None) of the stored permits among codes."""
        out: dict[str, tuple[str, str | None]] = {}
        for part in self._chunks(sorted(set(codes))):
            rows = self.s.execute(
                select(PermitRow.code, PermitRow.status, PermitContentRow.content_hash)
                .outerjoin(PermitContentRow, PermitContentRow.permit == PermitRow.code)
                .where(PermitRow.code.in_(part)))
            out.update({c: (st, h) for c, st, h in rows})
        return out

    def insert(self, table: Any, rows: Sequence[dict[str, Any]], *,
               returning: str | None = None) -> list[Any]:
        out: list[Any] = []
        if rows and self.postgres:
            # the driver-level bulk paths (COPY, unnest) take JSON as its text
            js = [c.name for c in table.__table__.columns if isinstance(c.type, JSON)]
            if js:
                rows = [{**r, **{c: json.dumps(r[c], ensure_ascii=False) for c in js}}
                        for r in rows]
        for part in self._chunks(rows):
            out.extend(insert_rows(self.s, table.__table__, part, returning=returning))
        return out

    def permit_row(self, code: str, *, lock: bool = False) -> PermitRow | None:
        q = select(PermitRow).where(PermitRow.code == code)
        if lock and self.postgres:
            q = q.with_for_update()
        return self.s.scalar(q)

    @property
    def postgres(self) -> bool:
        return self.s.get_bind().dialect.name == "postgresql"

    def content(self, permit: str) -> PermitContentRow | None:
        return self.s.get(PermitContentRow, permit)

    def contents(self, permits: Sequence[str]) -> dict[str, PermitContentRow]:
        out: dict[str, PermitContentRow] = {}
        for part in self._chunks(permits):
            out.update({r.permit: r for r in self.s.scalars(
                select(PermitContentRow).where(PermitContentRow.permit.in_(part)))})
        return out

    def outlets(self, permits: Sequence[str]) -> list[PermitOutletRow]:
        out: list[PermitOutletRow] = []
        for part in self._chunks(permits):
            out.extend(self.s.scalars(select(PermitOutletRow)
                                      .where(PermitOutletRow.permit.in_(part))
                                      .order_by(PermitOutletRow.permit,
                                                PermitOutletRow.outlet_id,
                                                PermitOutletRow.pollutant)))
        return out

    def delete_outlets(self, permits: Sequence[str]) -> None:
        for part in self._chunks(permits):
            self.s.execute(delete(PermitOutletRow).where(PermitOutletRow.permit.in_(part)))

    def life_events(self, permits: Sequence[str], limit: int = 100) -> list[PermitLifeEventRow]:
        return list(self.s.scalars(select(PermitLifeEventRow)
                                   .where(PermitLifeEventRow.permit.in_(list(permits)))
                                   .order_by(PermitLifeEventRow.id.desc()).limit(limit)))

    def add(self, row: object) -> None:
        self.s.add(row)
        self.s.flush()

    def imports(self, limit: int = 50) -> list[PermitImportRow]:
        return list(self.s.scalars(select(PermitImportRow).order_by(PermitImportRow.id.desc())
                                   .limit(limit)))

    def import_row(self, import_id: int) -> PermitImportRow | None:
        return self.s.get(PermitImportRow, import_id)

    def expiring(self, until: date, limit: int = 500, district: str | None = None
                 ) -> list[tuple[str, str, str, date, date]]:
        """Valid permits whose validity ends by `until`: (code, enterprise, name, from, to);
        `district`: of that district's enterprises only."""
        q = (select(PermitRow.code, PermitRow.enterprise, EnterpriseRow.name,
                    PermitRow.valid_from, PermitRow.valid_to)
             .join(EnterpriseRow, EnterpriseRow.credit_code == PermitRow.enterprise)
             .where(PermitRow.status == "valid", PermitRow.valid_to <= until))
        if district is not None:
            q = q.where(EnterpriseRow.district == district)
        rows = self.s.execute(q.order_by(PermitRow.valid_to, PermitRow.code).limit(limit))
        return [tuple(r) for r in rows]  # type: ignore[misc]
