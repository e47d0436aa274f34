"""Execution-report use cases: outlets, reports entered (API, form) or imported (CSV, Excel),
the reports of an enterprise, the statistics export and the bureau's list of reports past
their due date and not filed.

Each writing use case runs in one unit of work (`with uow: ...; uow.commit()`); an import
stores nothing unless every row is valid (or, with `partial`, only whole valid reports).
A report is accepted only for a period that has ended (today in Beijing time); its due date
comes from the permit's management class and sector (`compliance.reporting.report_parameters`; the
class defaults by sector until the permit register records it) and is stored with the
parameter version, so `late` can be explained later. Report, tax return and statistics read
the same stored lines: the figures agree to the kilogram by construction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from allocation.permits import PermitNotFound
from allocation.store import RegistryStore
from compliance.errors import BadReport, DuplicateReport, ImportRejected, OutletExists
from compliance.reporting import reports as R
from compliance.reporting.report_parameters import report_parameters
from compliance.reporting.report_store import ReportStore
from compliance.reporting.statistics import statistics_csv
from compliance.reporting.store import ComplianceStore
from compliance.reporting.tables import ExecutionReportRow, OutletRow, ReportLineRow
from kernel.clock import system_clock, trading_day
from ledger.service import UoW


def _owner(uow: UoW, permit: str, enterprise: str | None) -> str:
    """The permit's enterprise; another enterprise's permit is answered as missing."""
    p = RegistryStore(uow.session).permit(permit)
    if p is None or (enterprise is not None and p.enterprise != enterprise):
        raise PermitNotFound(f"no permit {permit}", field="permit")
    return p.enterprise


def _sum(lines: Sequence[tuple[str, int]]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for pol, kg in lines:
        out[pol] += kg
    return dict(out)


def register_outlet(uow: UoW, *, permit: str, outlet: str, medium: str) -> dict[str, str]:
    if medium not in ("air", "water"):
        raise BadReport("medium must be air or water", field="medium")
    outlet = outlet.strip()
    if not outlet or len(outlet) > 20:
        raise BadReport("outlet code must have 1-20 characters", field="outlet")
    with uow:
        _owner(uow, permit, None)
        store = ComplianceStore(uow.session)
        if store.outlet(permit, outlet) is not None:
            raise OutletExists(f"permit {permit} already has outlet {outlet}", field="outlet")
        store.add(OutletRow(permit=permit, code=outlet, medium=medium))
        uow.commit()
    return {"permit": permit, "outlet": outlet, "medium": medium}


def _registry(store: ComplianceStore, enterprise: str | None, today: date | None = None
              ) -> R.Registry:
    permits = store.permit_codes(enterprise)
    codes = sorted(permits)
    return R.Registry(outlets=store.outlets(codes), permits=frozenset(codes),
                      reported=frozenset(store.reported(codes)), today=today,
                      validity=ReportStore(store.s).validity(codes))


def _store_report(uow: UoW, store: ComplianceStore, lines: Sequence[R.ReportLine],
                  details: R.ReportDetails, *, source: str, actor: str, now: datetime
                  ) -> dict[str, Any]:
    """Store one report (all lines share permit, year and period) with its fields, flags
    and the due date of the permit's class and sector."""
    first = lines[0]
    permit, year, period = first.permit, first.year, first.period
    if store.report(permit, year, period) is not None:
        raise DuplicateReport(f"{permit} already reported {year} {period}", field="period")
    reg = RegistryStore(uow.session)
    totals = _sum([(ln.pollutant, ln.actual_kg) for ln in lines])
    permitted: dict[str, int | None] = {}
    for pol in totals:
        q = reg.quantity(permit, pol, year)
        permitted[pol] = q.permitted_kg if q is not None else None
    prior_row = store.report(permit, year - 1, period)
    prior = (_sum([(x.pollutant, x.actual_kg) for x in store.lines(prior_row.id)])
             if prior_row is not None else {})
    flags = R.plausibility(totals, permitted, prior)
    params = report_parameters()
    sector = ReportStore(uow.session).sectors([permit]).get(permit)
    cls = params.management_class(sector)
    due = R.due_date(year, period, params.rule(cls, sector))
    late = trading_day(now) > due
    row = ExecutionReportRow(permit=permit, year=year, period=period, submitted_at=now,
                             due=due, late=late, source=source, submitted_by=actor,
                             flags=",".join(details.flags()), management_class=cls,
                             rules_version=params.version, **details.to_dict())
    rid = store.add_report(row, [ReportLineRow(outlet=ln.outlet, pollutant=ln.pollutant,
                                               actual_kg=ln.actual_kg,
                                               flags=",".join(flags[ln.pollutant]))
                                 for ln in lines])
    if rid is None:
        raise DuplicateReport(f"{permit} already reported {year} {period}", field="period")
    return _report_dict(row, store.lines(rid)) | {"id": rid}


def _split(flags: str | None) -> list[str]:
    return [f for f in (flags or "").split(",") if f]


def _report_dict(row: ExecutionReportRow, lines: Sequence[ReportLineRow]) -> dict[str, Any]:
    flags = sorted({f for ln in lines for f in _split(ln.flags)} | set(_split(row.flags)))
    details = {name: getattr(row, name) for name in R.DETAIL_COLUMNS}
    return {"id": row.id, "permit": row.permit, "year": row.year, "period": row.period,
            "submitted_at": row.submitted_at.isoformat(), "due": row.due.isoformat(),
            "late": row.late, "source": row.source, "flags": flags,
            "management_class": row.management_class, "rules_version": row.rules_version,
            "details": details,
            "lines": [{"outlet": ln.outlet, "pollutant": ln.pollutant,
                       "actual_kg": ln.actual_kg, "flags": _split(ln.flags)}
                      for ln in lines]}


def submit_report(uow: UoW, *, permit: str, year: int, period: str,
                  lines: Sequence[Mapping[str, Any]], actor: str,
                  details: Mapping[str, Any] | None = None,
                  enterprise: str | None = None, now: datetime | None = None
                  ) -> dict[str, Any]:
    """An execution report entered directly: its lines and its structured fields
    (`details`: `compliance.reporting.reports.DETAIL_COLUMNS`). `enterprise` restricts to its own
    permits. Refused (4xx naming the field, nothing stored): a period that has not ended,
    a missing required field of the kind, a bad line."""
    now = now or system_clock()
    today = trading_day(now)
    if not lines:
        raise BadReport("a report needs at least one line", field="lines")
    if not isinstance(year, int) or isinstance(year, bool) or not 1990 <= year <= 2200:
        raise BadReport("year must be between 1990 and 2200", field="year")
    R.period_kind(period)
    with uow:
        _owner(uow, permit, enterprise)
        R.check_period_ended(year, period, today)
        d = R.parse_details(dict(details or {}), year, period)
        store = ComplianceStore(uow.session)
        reg = _registry(store, enterprise, today)
        rows = [(i, {"permit": permit, "year": year, "period": period, **dict(ln)})
                for i, ln in enumerate(lines)]
        v = R.validate_rows(rows, reg, details=False)
        if v.errors:
            e = v.errors[0]
            if e.field == "period" and "already reported" in e.detail:
                raise DuplicateReport(e.detail, field="period")
            if e.field in ("year", "period"):  # report-level, not one line's
                raise BadReport(e.detail, field=e.field)
            raise BadReport(e.detail, field=f"lines[{e.line}].{e.field}" if e.field
                            else f"lines[{e.line}]")
        out = _store_report(uow, store, v.lines, d, source="api", actor=actor, now=now)
        uow.commit()
        return out


def import_reports(uow: UoW, *, csv_text: str, actor: str, partial: bool = False,
                   enterprise: str | None = None, now: datetime | None = None
                   ) -> dict[str, Any]:
    """Import execution reports from CSV (the report-level columns once per report).
    Nothing is stored unless every row is valid, or, with `partial`, the valid reports are
    stored and the invalid rows reported."""
    now = now or system_clock()
    with uow:
        store = ComplianceStore(uow.session)
        v = R.parse_csv(csv_text, _registry(store, enterprise, trading_day(now)))
        errors = [e.to_dict() for e in v.errors]
        if errors and not partial:
            raise ImportRejected(f"{len(errors)} invalid row(s); nothing was stored "
                                 f"(first: line {errors[0]['line']}: {errors[0]['detail']})",
                                 errors=errors)
        groups: dict[tuple[str, int, str], list[R.ReportLine]] = defaultdict(list)
        for ln in v.lines:
            groups[(ln.permit, ln.year, ln.period)].append(ln)
        stored = [_store_report(uow, store, g, v.details[k], source="csv", actor=actor,
                                now=now)
                  for k, g in sorted(groups.items())]
        uow.commit()
        return {"stored_reports": len(stored), "stored_lines": len(v.lines),
                "errors": errors, "reports": stored}


def reports_of(uow: UoW, *, enterprise: str, year: int | None = None) -> dict[str, Any]:
    with uow:
        store = ComplianceStore(uow.session)
        permits = sorted(store.permit_codes(enterprise))
        items = [_report_dict(r, store.lines(r.id)) for r in store.reports_of(permits, year)]
        return {"enterprise": enterprise, "items": items}


def statistics_export(uow: UoW, *, year: int, period: str = "Y") -> str:
    R.period_kind(period)
    with uow:
        return statistics_csv(ComplianceStore(uow.session).figures(year, period))


class MissingReport(NamedTuple):
    """A report past its due date and not filed (Regulation Art. 37 when it stays so)."""

    permit: str
    year: int
    period: str
    due: date


def _missing(uow: UoW, on: date, since: int | None, enterprise: str | None = None,
             district: str | None = None) -> list[tuple[MissingReport, str]]:
    params = report_parameters()
    first = date(since, 1, 1) if since is not None else date(1990, 1, 1)
    rs = ReportStore(uow.session)
    permits = rs.permits_valid(first, on, district)
    if enterprise is not None:
        permits = [p for p in permits if p[1] == enterprise]
    if not permits:
        return []
    filed: dict[str, set[tuple[int, str]]] = defaultdict(set)
    for p, y, per in rs.filed(min(v.year for _c, _e, _s, v, _t in permits), on.year):
        filed[p].add((y, per))
    out: list[tuple[MissingReport, str]] = []
    for code, ent, sector, valid_from, valid_to in permits:
        rule = params.rule(params.management_class(sector), sector)
        for y, per, due in R.missing_periods(valid_from, valid_to, rule, params, on=on,
                                             filed=filed[code], first_year=since):
            out.append((MissingReport(code, y, per, due), ent))
    out.sort(key=lambda x: (x[0].due, x[0].permit, x[0].period))
    return out


def missing_reports(uow: UoW, *, on: date, since: int | None = None,
                    enterprise: str | None = None) -> list[MissingReport]:
    """Every report past its due date on `on` and not filed, by due date: (permit, year,
    period, due). The permit's class and sector decide which reports it owes
    (`compliance.reporting.report_parameters`); `since` limits the years looked at."""
    with uow:
        return [m for m, _e in _missing(uow, on, since, enterprise)]


def missing_report_list(uow: UoW, *, on: date, since: int | None = None,
                        enterprise: str | None = None, offset: int = 0, limit: int = 50,
                        district: str | None = None) -> dict[str, Any]:
    """The bureau's page of missing reports with the enterprise and the days overdue
    (`district`: of that district's enterprises only, a district officer's page)."""
    with uow:
        rows = _missing(uow, on, since, enterprise, district)
    items = [{"permit": m.permit, "enterprise": e, "year": m.year, "period": m.period,
              "due": m.due.isoformat(), "days_overdue": (on - m.due).days}
             for m, e in rows[offset:offset + limit]]
    return {"on": on.isoformat(), "since": since, "total": len(rows), "offset": offset,
            "limit": limit, "items": items}
