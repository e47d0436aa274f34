"""Heavy-pollution alert repository: all SQL for permits' emergency measures, alerts, their
caps and breaches, and the registry and monitoring reads the caps and checks need (in the same
session). Daily emissions are read from `monitoring_daily` only (grams per permit, outlet,
pollutant and day), summed over the permit's outlets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from allocation.tables import (
    DistrictRow,
    EnterpriseRow,
    PermitQuantityRow,
    PermitRow,
    SiteRow,
    ZoneRow,
)
from compliance.alerting.alert_tables import (
    AlertBreachRow,
    AlertCapRow,
    AlertRow,
    EmergencyMeasureRow,
    EmergencyPlanRow,
)
from compliance.alerting.alerts import Measure, Plan
from compliance.supervision.supervision_tables import EFFECTIVE_DAILY, MonitoringDailyRow
from kernel.pollutants import Pollutant

CHUNK = 500
#: heavy-pollution weather measures cut air pollutants (SO2, NOx, PM, VOCs)
AIR = [p.value for p in Pollutant if p.medium == "air"]


class Affected(NamedTuple):
    permit: str
    pollutant: str
    year: int
    zone: str
    permitted_kg: int
    enterprise: str
    sector: str


def _chunks(items: Sequence[str]) -> list[Sequence[str]]:
    return [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]


class AlertStore:
    def __init__(self, session: Session) -> None:
        self.s = session

    # alerts ------------------------------------------------------------------------------
    def add(self, row: AlertRow) -> int:
        self.s.add(row)
        self.s.flush()
        return row.id

    def get(self, alert_id: int, *, lock: bool = False) -> AlertRow | None:
        if lock:
            return self.s.scalar(select(AlertRow).where(AlertRow.id == alert_id)
                                 .with_for_update())
        return self.s.get(AlertRow, alert_id)

    def alerts(self, *, offset: int = 0, limit: int = 50) -> tuple[list[AlertRow], int]:
        total = self.s.scalar(select(func.count()).select_from(AlertRow)) or 0
        rows = list(self.s.scalars(select(AlertRow).order_by(AlertRow.id.desc())
                                   .offset(offset).limit(limit)))
        return rows, int(total)

    def started(self, today: date) -> list[int]:
        """Ids of alerts whose first day has come (the ones a check looks at)."""
        return list(self.s.scalars(select(AlertRow.id).where(AlertRow.first_day <= today)
                                   .order_by(AlertRow.id)))

    # registry reads ----------------------------------------------------------------------
    def unknown_codes(self, codes: Iterable[str]) -> list[str]:
        """The codes that are neither a trading zone nor a district."""
        wanted = sorted(set(codes))
        known = set(self.s.scalars(select(ZoneRow.code).where(ZoneRow.code.in_(wanted))))
        known |= set(self.s.scalars(select(DistrictRow.code)
                                    .where(DistrictRow.code.in_(wanted))))
        return [c for c in wanted if c not in known]

    def affected(self, zones: Sequence[str], first_day: date, last_day: date
                 ) -> list[Affected]:
        """Per (permit, air pollutant, year of the alert) the permit quantity's zone and
        permitted kg (the legal limit from issuance, confirmed or not), for permits in force
        during the alert that either sit in a listed district (all their air pollutants) or
        trade a pollutant in a listed zone (that pollutant); pollutants with no permitted
        quantity (0 kg) are left out."""
        Q, P = PermitQuantityRow, PermitRow
        years = list(range(first_day.year, last_day.year + 1))
        q = (select(Q.permit, Q.pollutant, Q.year, Q.zone, Q.permitted_kg, P.enterprise,
                    EnterpriseRow.sector)
             .join(P, P.code == Q.permit).join(SiteRow, SiteRow.id == P.site)
             .join(EnterpriseRow, EnterpriseRow.credit_code == P.enterprise)
             .where(Q.year.in_(years), Q.permitted_kg > 0, Q.pollutant.in_(AIR),
                    P.status != "revoked", P.valid_from <= last_day,
                    P.valid_to >= first_day,
                    or_(Q.zone.in_(list(zones)), SiteRow.district.in_(list(zones))))
             .order_by(Q.permit, Q.pollutant, Q.year))
        return [Affected(permit, pollutant, int(year), zone, int(kg), ent, sector)
                for permit, pollutant, year, zone, kg, ent, sector in self.s.execute(q)]

    # emergency measures ------------------------------------------------------------------
    def permit_known(self, permit: str) -> bool:
        return self.s.get(PermitRow, permit) is not None

    def plans(self, permits: Sequence[str]) -> dict[str, Plan]:
        """permit → its emergency measures, for the permits that have them."""
        grades: dict[str, str] = {}
        levels: dict[str, dict[str, Measure]] = {}
        for chunk in _chunks(sorted(set(permits))):
            for r in self.s.scalars(select(EmergencyPlanRow)
                                    .where(EmergencyPlanRow.permit.in_(chunk))):
                grades[r.permit] = r.grade
            for m in self.s.scalars(select(EmergencyMeasureRow)
                                    .where(EmergencyMeasureRow.permit.in_(chunk))):
                levels.setdefault(m.permit, {})[m.level] = Measure(m.cut_pct, m.measure)
        return {p: Plan(g, levels.get(p, {})) for p, g in grades.items()}

    def plan_row(self, permit: str) -> EmergencyPlanRow | None:
        return self.s.get(EmergencyPlanRow, permit)

    def set_plan(self, permit: str, plan: Plan, *, actor: str, at: datetime) -> None:
        """Replace the permit's grade and measures."""
        row = self.s.get(EmergencyPlanRow, permit, with_for_update=True)
        if row is None:
            row = EmergencyPlanRow(permit=permit, grade=plan.grade, set_by=actor, set_at=at)
            self.s.add(row)
        else:
            row.grade, row.set_by, row.set_at = plan.grade, actor, at
        self.s.flush()
        self.s.execute(delete(EmergencyMeasureRow).where(EmergencyMeasureRow.permit == permit))
        self.s.add_all([EmergencyMeasureRow(permit=permit, level=lv, cut_pct=m.cut_pct,
                                            measure=m.text)
                        for lv, m in plan.levels.items()])
        self.s.flush()

    def plan_rows(self, *, enterprise: str | None = None, offset: int = 0, limit: int = 50
                  ) -> tuple[list[EmergencyPlanRow], int]:
        E = EmergencyPlanRow
        conds = []
        if enterprise is not None:
            conds.append(E.permit.in_(select(PermitRow.code)
                                      .where(PermitRow.enterprise == enterprise)))
        total = self.s.scalar(select(func.count()).select_from(E).where(*conds)) or 0
        rows = list(self.s.scalars(select(E).where(*conds)
                                   .order_by(E.set_at.desc(), E.permit)
                                   .offset(offset).limit(limit)))
        return rows, int(total)

    def enterprise_of(self, permits: Sequence[str]) -> Mapping[str, str]:
        out: dict[str, str] = {}
        for chunk in _chunks(sorted(set(permits))):
            for code, ent in self.s.execute(select(PermitRow.code, PermitRow.enterprise)
                                            .where(PermitRow.code.in_(chunk))):
                out[code] = ent
        return out

    # caps --------------------------------------------------------------------------------
    def replace_caps(self, alert_id: int, caps: Iterable[AlertCapRow]) -> int:
        self.s.execute(delete(AlertCapRow).where(AlertCapRow.alert == alert_id))
        rows = list(caps)
        self.s.add_all(rows)
        self.s.flush()
        return len(rows)

    def caps(self, alert_id: int, *, enterprise: str | None = None,
             offset: int = 0, limit: int | None = None) -> tuple[list[AlertCapRow], int]:
        conds = [AlertCapRow.alert == alert_id]
        if enterprise is not None:
            conds.append(AlertCapRow.enterprise == enterprise)
        total = self.s.scalar(select(func.count()).select_from(AlertCapRow).where(*conds)) or 0
        q = (select(AlertCapRow).where(*conds)
             .order_by(AlertCapRow.permit, AlertCapRow.pollutant, AlertCapRow.month)
             .offset(offset))
        if limit is not None:
            q = q.limit(limit)
        return list(self.s.scalars(q)), int(total)

    # monitoring --------------------------------------------------------------------------
    def daily_emissions(self, permits: Sequence[str], first_day: date, last_day: date
                        ) -> dict[tuple[str, str, date], int]:
        """Grams per (permit, pollutant, day), summed over the permit's outlets."""
        M = MonitoringDailyRow
        out: dict[tuple[str, str, date], int] = {}
        for chunk in _chunks(sorted(permits)):
            q = (select(M.permit, M.pollutant, M.day, func.sum(M.emitted_g))
                 .where(M.permit.in_(chunk), M.day >= first_day, M.day <= last_day,
                        *EFFECTIVE_DAILY)  # neither voided nor superseded
                 .group_by(M.permit, M.pollutant, M.day))
            for permit, pollutant, day, g in self.s.execute(q):
                out[(permit, pollutant, day)] = int(g or 0)
        return out

    # breaches ----------------------------------------------------------------------------
    def breach_rows(self, alert_id: int) -> dict[tuple[str, str, str, date], AlertBreachRow]:
        return {(b.permit, b.pollutant, b.period, b.day): b for b in self.s.scalars(
            select(AlertBreachRow).where(AlertBreachRow.alert == alert_id))}

    def add_breaches(self, rows: Sequence[AlertBreachRow]) -> None:
        self.s.add_all(list(rows))
        self.s.flush()

    def breaches(self, *, alert_id: int | None = None, enterprise: str | None = None,
                 offset: int = 0, limit: int = 50) -> tuple[list[AlertBreachRow], int]:
        conds = []
        if alert_id is not None:
            conds.append(AlertBreachRow.alert == alert_id)
        if enterprise is not None:
            conds.append(AlertBreachRow.enterprise == enterprise)
        total = self.s.scalar(select(func.count()).select_from(AlertBreachRow)
                              .where(*conds)) or 0
        rows = list(self.s.scalars(select(AlertBreachRow).where(*conds)
                                   .order_by(AlertBreachRow.id.desc())
                                   .offset(offset).limit(limit)))
        return rows, int(total)

    def breach_count(self, alert_id: int) -> int:
        return int(self.s.scalar(select(func.count()).select_from(AlertBreachRow)
                                 .where(AlertBreachRow.alert == alert_id)) or 0)
