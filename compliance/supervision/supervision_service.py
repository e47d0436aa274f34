"""Supervision use cases: import hourly monitoring data, read the daily emissions and
totals computed from it, and check execution reports against them.

`import_monitoring` runs in one unit of work: read and validate the CSV
(`compliance.supervision.monitoring.load`, row errors with line numbers), compute the daily
emissions, screen for anomalies (`compliance.supervision.screening.screen`), then store the import
record, the daily rows and one problem clue per anomaly (`compliance.alerting.clue_store.ClueStore`)
and commit. Without `partial`, any invalid row rejects the whole file and nothing is stored; with
`partial`, the valid rows are stored and the invalid ones listed. A header fault rejects the file
either way.

Decisions:
- Raw hourly rows are not stored (8.76 million rows a year for 1,000 outlets): the daily
  aggregates (`monitoring_daily`, grams per outlet, pollutant and day) and the anomaly
  evidence (clues) are what supervision uses. So a duplicate period is an outlet-day already
  in `monitoring_daily`, or an hour repeated in the file; a day is imported at once.
- A file (by SHA-256) is imported once per source while that import is live
  (`duplicate_monitoring_import`): the same bytes sent by a trader do not block the bureau.
- Provenance: each import records its source. A trader's import is always `enterprise`
  (self-monitoring: it cannot claim another); a bureau officer chooses `bureau` (an upload
  by the bureau, the default) or `automatic` (the feed of the automatic monitoring system);
  a bureau officer cannot file `enterprise` data in an enterprise's name (403
  `monitoring_source_not_allowed`). Authority: `bureau` and `automatic` rank 2, `enterprise`
  1, per outlet and day.
- A higher authority supersedes: a bureau import of an outlet-day whose data an enterprise
  imported marks the enterprise's rows `superseded_by` it (both kept). An enterprise import
  of an outlet-day the bureau has already imported is stored, but as superseded from the
  start (not refused): the enterprise's own record is kept for comparison, its file is not
  rejected for days it could not know about, and it becomes effective if the bureau's import
  is voided. Only effective rows (neither superseded nor voided) are summed anywhere.
- Same authority, same outlet-day: "already imported" (a row error, as before); to replace
  data an officer voids the import and the corrected file is imported again.
- Voiding (`void_import`, bureau): recorded on the import (who, when, why), never deleted;
  its rows are marked voided and stop counting; the enterprise rows it superseded become
  effective again. An import is voided once (409 `monitoring_import_voided`). A district
  officer voids only imports it can list.
- Hours: an hour must have ended by `now` (CST), lie on or after 1990-01-01 and within its
  permit's validity; magnitudes are bounded (`compliance.supervision.monitoring.MAX_*`).
- Size: a request is capped per role (`MAX_ROWS`, `MAX_BYTES`: an enterprise a year of
  hourly rows of about 11 outlets, 100,000 rows, 16 MiB; the bureau 10 million rows),
  checked before parsing (422 `monitoring_import_too_large`).
- Who imports: the bureau for every permit; a trader for its own enterprise's permits only
  (the enterprise operates the online monitoring and uploads its own data, as it reports its
  own execution reports); another enterprise's permit is an "unknown permit" row error.
- Exceedance limits: derived from the permit's sector under the parameter table the permit
  was issued with (`compliance.supervision.screening.sector_limits`); a permit whose parameter
  version is not bundled uses the table in force on the file's first day.
- Monitoring accounting (HJ 75, `compliance.supervision.monitoring`): mass is the measured
  concentration × dry standard flow; limits judge the O2-corrected concentration, with the
  reference O2 of the permit's sector (`compliance.supervision.screening.REFERENCE_O2`, versioned);
  a sector that needs one the table cannot give makes every air row without `o2_ref_pct` a row
  error naming that field. Missing and invalid hours are substituted and counted per day
  (`substituted_hours`), never dropped.
- Report checks (bureau): each line of a permit's execution report for a year or quarter is
  compared with the monitored kg of that outlet and pollutant over the period; a deviation
  beyond `tolerance_pct` (default `monitoring.REPORT_TOLERANCE_PCT`) is flagged. The latest
  check of a report replaces the previous one.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from allocation.errors import UnknownParameterVersion
from allocation.parameters import get_parameters
from allocation.permits import PermitNotFound
from compliance.alerting import alert_service
from compliance.alerting.clue_store import ClueStore
from compliance.errors import (
    BadMonitoringQuery,
    DuplicateMonitoringImport,
    MonitoringImportNotFound,
    MonitoringImportRejected,
    MonitoringImportTooLarge,
    MonitoringImportVoided,
    MonitoringSourceNotAllowed,
    ReportNotFound,
)
from compliance.reporting import reports as R
from compliance.reporting.store import ComplianceStore
from compliance.supervision import emissions as E
from compliance.supervision import monitoring as M
from compliance.supervision import screening as S
from compliance.supervision.supervision_store import SupervisionStore
from compliance.supervision.supervision_tables import MonitoringImportRow, ReportCheckRow
from kernel.clock import CST, system_clock
from ledger.service import UoW

#: errors kept on the import record (the answer lists up to monitoring.MAX_ERRORS)
STORED_ERRORS = 100
MAX_DAYS = 366
SOURCES = ("automatic", "bureau", "enterprise")
AUTHORITY = {"automatic": 2, "bureau": 2, "enterprise": 1}
#: rows and bytes one request may carry, by the importer's side
MAX_ROWS = {"enterprise": 100_000, "bureau": 10_000_000}
MAX_BYTES = {"enterprise": 16 * 2**20, "bureau": 2 * 2**30}


def _sha256(data: bytes | str | Path) -> str:
    h = hashlib.sha256()
    if isinstance(data, Path):
        with data.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    else:
        h.update(data.encode("utf-8") if isinstance(data, str) else data)
    return h.hexdigest()


def _limits(store: SupervisionStore, v: M.Validation, outlets: dict[tuple[str, str], str]
            ) -> dict[tuple[str, str, str], Decimal]:
    """(permit, outlet, pollutant) -> concentration limit, for the outlets in the file."""
    keys = M.keys_of(v)
    profiles = store.permit_profiles(sorted({p for p, _o in keys}))
    period = v.period
    out: dict[tuple[str, str, str], Decimal] = {}
    cache: dict[tuple[str, str], dict[str, tuple[Decimal, str]]] = {}
    for permit, outlet in keys:
        prof = profiles.get(permit)
        if prof is None:
            continue
        _ent, sector, version = prof
        if (sector, version) not in cache:
            try:
                params = get_parameters(version)
            except UnknownParameterVersion:
                params = get_parameters(on=period[0] if period else None)
            cache[(sector, version)] = S.sector_limits(params, sector)
        medium = outlets.get((permit, outlet))
        for pol, (limit, _src) in cache[(sector, version)].items():
            if M.medium_of(pol) == medium:
                out[(permit, outlet, pol)] = limit
    return out


def _reference_o2(store: SupervisionStore, outlets: dict[tuple[str, str], str]
                  ) -> dict[tuple[str, str], Decimal | None]:
    """The reference O2 of each air outlet whose sector's limits refer to one (HJ 75: the
    corrected concentration judges the limit); None where the table cannot give it."""
    sectors = store.permit_sectors(sorted({p for (p, _o), m in outlets.items() if m == "air"}))
    out: dict[tuple[str, str], Decimal | None] = {}
    for (permit, outlet), medium in outlets.items():
        sector = sectors.get(permit)
        if medium != "air" or sector is None:
            continue
        needs, value, _src = S.reference_o2(sector)
        if needs:
            out[(permit, outlet)] = value
    return out


def resolve_source(source: str | None, enterprise: str | None) -> str:
    """The source an import records: a trader's is `enterprise` whatever it asks; the
    bureau's `bureau` (default) or `automatic`."""
    if enterprise is not None:
        if source not in (None, "enterprise"):
            raise MonitoringSourceNotAllowed(
                f"an enterprise's import is self-monitoring data (source enterprise), not "
                f"{source}", field="source")
        return "enterprise"
    if source is None:
        return "bureau"
    if source not in ("bureau", "automatic"):
        raise MonitoringSourceNotAllowed(
            "the bureau imports source bureau or automatic; enterprise data is imported by "
            "the enterprise", field="source")
    return source


def _size(data: bytes | str | Path) -> int:
    if isinstance(data, Path):
        return data.stat().st_size if data.exists() else 0
    return len(data)


def _count_rows(data: bytes | str | Path, stop: int) -> int:
    """Line breaks in the data (an upper bound of its rows + 1), counting no further than
    `stop`."""
    if isinstance(data, str):
        return data.count("\n")
    if isinstance(data, bytes):
        return data.count(b"\n")
    n = 0
    if not data.exists():
        return 0
    with data.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            n += block.count(b"\n")
            if n > stop:
                break
    return n


def check_size(data: bytes | str | Path, side: str) -> None:
    """Refuse a request bigger than its side (`enterprise` or `bureau`) may send."""
    limit_b, limit_r = MAX_BYTES[side], MAX_ROWS[side]
    size = _size(data)
    if size > limit_b:
        raise MonitoringImportTooLarge(
            f"at most {limit_b // 2**20} MiB per import for the {side}; send the data in "
            f"parts", field="csv", limit=limit_b, bytes=size)
    rows = _count_rows(data, limit_r + 1)
    if isinstance(data, (bytes, str)) and data and not _ends_line(data):
        rows += 1
    if rows - 1 > limit_r:  # the header line is not a row
        raise MonitoringImportTooLarge(
            f"at most {limit_r:,} rows per import for the {side}; send the data in parts",
            field="csv", limit=limit_r, rows=rows - 1)


def _ends_line(data: bytes | str) -> bool:
    return data.endswith("\n") if isinstance(data, str) else data.endswith(b"\n")


def import_monitoring(uow: UoW, *, csv_data: bytes | str | Path, actor: str,
                      partial: bool = False, enterprise: str | None = None,
                      district: str | None = None, now: datetime | None = None,
                      source: str | None = None, capped: bool = True) -> dict[str, Any]:
    """Import an hourly monitoring CSV (see `compliance.supervision.monitoring` for the format).
    With `enterprise` (a trader) or `district` (a district officer), rows of other permits are
    row errors, as unknown permits. `source`: see `resolve_source`; `capped`: apply the
    per-request size caps (`check_size`)."""
    now = now or system_clock()
    source = resolve_source(source, enterprise)
    authority = AUTHORITY[source]
    if capped:
        check_size(csv_data, "enterprise" if source == "enterprise" else "bureau")
    timings: dict[str, float] = {}
    t = time.perf_counter()
    sha = _sha256(csv_data)
    with uow:
        store = SupervisionStore(uow.session)
        before = store.import_by_sha(sha, source)
        if before is not None:
            raise DuplicateMonitoringImport(
                f"this file was imported before (import #{before.id})", field="csv",
                import_id=before.id)
        outlets = store.outlets(enterprise, district)
        permits = sorted({p for p, _o in outlets})
        reg = M.Registry(outlets=outlets,
                         imported=lambda lo, hi: store.imported_days(permits, lo, hi,
                                                                     authority),
                         reference_o2=_reference_o2(store, outlets),
                         not_after=now.astimezone(CST).replace(tzinfo=None),
                         validity=store.permit_validity(permits))
        v = M.load(csv_data, reg)
        timings["read"] = time.perf_counter() - t
        errors = [e.to_dict() for e in v.errors]
        if v.error_count and (not partial or v.header is None):
            first = errors[0]
            raise MonitoringImportRejected(
                f"{v.error_count} invalid row(s); nothing was stored (first: line "
                f"{first['line']}: {first['detail']})", field="csv", errors=errors,
                error_count=v.error_count)
        t = time.perf_counter()
        days = E.daily(v)
        timings["emissions"] = time.perf_counter() - t
        t = time.perf_counter()
        period, accepted, n_outlets = v.period, v.accepted, len(M.keys_of(v))
        limits = _limits(store, v, outlets)
        hourly = E.hourly_series(v, release=True)  # frees the hourly rows as it goes
        anomalies = S.screen(hourly, E.daily_series(days), limits)
        del hourly
        timings["screening"] = time.perf_counter() - t
        t = time.perf_counter()
        if enterprise is not None:
            district = store.district_of(enterprise)
        row = MonitoringImportRow(
            sha256=sha, actor=actor, enterprise=enterprise, at=now, partial=partial,
            source=source, district=district,
            rows=v.rows, accepted=accepted, rejected=v.error_count,
            first_day=period[0] if period else None, last_day=period[1] if period else None,
            outlets=n_outlets, daily_rows=days.height, anomalies=len(anomalies),
            errors=errors[:STORED_ERRORS])
        import_id = store.add_import(row)
        if import_id is None:
            raise DuplicateMonitoringImport("this file was imported concurrently",
                                            field="csv")
        days, superseded = _authority(store, days, authority, import_id)
        prov = E.Provenance(import_id, source, authority)
        if days.height and not store.add_daily(E.daily_tuples(days, prov),
                                               E.daily_csv(days, prov)):
            raise DuplicateMonitoringImport(
                "a concurrent import stored some of these outlet-days first; nothing was "
                "stored", field="csv")
        clues = ClueStore(uow.session).open_from_anomalies(
            anomalies, now=now, source=f"monitoring import #{import_id}")
        uow.commit()
        timings["store"] = time.perf_counter() - t
    # new daily figures may breach a heavy-pollution alert's caps: check them in a second
    # transaction (the import stands on its own; the check is idempotent and re-runnable)
    alerts = alert_service.check_alerts(uow, now=now) if days.height else None
    return {**_import_dict(row), "error_count": v.error_count, "errors": errors,
            "alert_breaches": alerts["new_breaches"] if alerts else 0,
            "alert_clues": _alert_clues(alerts),
            "anomaly_kinds": dict(Counter(a.kind for a in anomalies)), "clues": clues,
            "substituted_hours": _substituted(days), "superseded": superseded,
            "timings": {k: round(x, 3) for k, x in timings.items()}}


def _alert_clues(alerts: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The clues the alert breaches found after this import opened: clue id, permit,
    enterprise, pollutant, period (day or month), the day and the kg against the cap."""
    if not alerts:
        return []
    return [{"clue": b["clue"], "alert": b["alert"], "permit": b["permit"],
             "enterprise": b["enterprise"], "pollutant": b["pollutant"],
             "period": b["period"], "day": b["day"], "emitted_kg": b["emitted_kg"],
             "cap_kg": b["cap_kg"]}
            for b in alerts["breaches"] if b["clue"] is not None]


def _authority(store: SupervisionStore, days: Any, authority: int, import_id: int
               ) -> tuple[Any, dict[str, int]]:
    """Apply the authority rule to an import's daily rows before they are stored: a bureau
    import marks the effective enterprise rows of its outlet-days superseded; an enterprise
    import's rows for outlet-days the bureau holds are stored superseded by that import.
    The rows (with `superseded_by` where it applies) and the counts of daily rows
    superseded: `by_this` (others' rows this import superseded), `stored_superseded`
    (this import's rows stored superseded)."""
    counts = {"by_this": 0, "stored_superseded": 0}
    if not days.height:
        return days, counts
    permits, lo, hi = E.daily_extent(days)
    if authority == 2:
        held = store.live_days(permits, lo, hi, 1, effective=True)
        if held:
            mine = E.outlet_days(days)
            hit = sorted({(p, o, d) for p, o, d, _i in held if (p, o, d) in mine})
            counts["by_this"] = store.supersede(hit, import_id)
        return days, counts
    held = store.live_days(permits, lo, hi, 2)
    if not held:
        return days, counts
    days, counts["stored_superseded"] = E.mark_superseded(days, held)
    return days, counts


def void_import(uow: UoW, *, import_id: int, actor: str, reason: str,
                district: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Void an import (bureau): recorded who, when and why; its rows stop counting; rows it
    superseded count again. `district`: a district officer's (only imports it can list)."""
    now = now or system_clock()
    reason = reason.strip()
    if not reason:
        raise BadMonitoringQuery("give the reason for voiding the import", field="reason")
    with uow:
        store = SupervisionStore(uow.session)
        row = store.import_row(import_id, lock=True)
        if row is not None and district is not None:
            rows, _n = store.imports(district=district, import_id=import_id)
            row = row if rows else None
        if row is None:
            raise MonitoringImportNotFound(f"no monitoring import #{import_id}",
                                           field="import_id")
        if row.voided_at is not None:
            raise MonitoringImportVoided(
                f"import #{import_id} was voided on {row.voided_at.isoformat()} by "
                f"{row.voided_by}", field="import_id")
        row.voided_at, row.voided_by, row.void_reason = now, actor, reason[:500]
        voided, restored = store.void(import_id)
        uow.session.flush()
        out = _import_dict(row) | {"voided_rows": voided, "restored_rows": restored}
        uow.commit()
    if restored:  # rows that count again may breach an alert's caps
        alert_service.check_alerts(uow, now=now)
    return out


def _import_dict(r: MonitoringImportRow) -> dict[str, Any]:
    return {"id": r.id, "sha256": r.sha256, "actor": r.actor, "enterprise": r.enterprise,
            "at": r.at.isoformat(), "partial": r.partial, "rows": r.rows,
            "accepted": r.accepted, "rejected": r.rejected,
            "first_day": r.first_day.isoformat() if r.first_day else None,
            "last_day": r.last_day.isoformat() if r.last_day else None,
            "outlets": r.outlets, "daily_rows": r.daily_rows, "anomalies": r.anomalies,
            "source": r.source, "district": r.district,
            "voided_at": r.voided_at.isoformat() if r.voided_at else None,
            "voided_by": r.voided_by, "void_reason": r.void_reason}


def _substituted(days: Any) -> int:
    """Hours substituted in an import (all outlets and pollutants)."""
    return int(days["substituted_hours"].sum()) if days.height else 0


def imports(uow: UoW, *, enterprise: str | None = None, district: str | None = None,
            offset: int = 0, limit: int = 50) -> dict[str, Any]:
    """Stored imports, newest first: an enterprise's own, or those of a district officer's
    district (see `SupervisionStore.imports`)."""
    with uow:
        rows, total = SupervisionStore(uow.session).imports(
            enterprise=enterprise, district=district, offset=offset, limit=limit)
        items = [_import_dict(r) | {"errors": r.errors} for r in rows]
    return {"items": items, "total": total, "offset": offset, "limit": limit}


def _own_permit(store: SupervisionStore, permit: str, enterprise: str | None) -> str:
    owner = store.permit_owner(permit)
    if owner is None or (enterprise is not None and owner != enterprise):
        raise PermitNotFound(f"no permit {permit}", field="permit")
    return owner


def _days(first: date, last: date) -> None:
    if last < first:
        raise BadMonitoringQuery("the last day is before the first", field="last")
    if (last - first).days >= MAX_DAYS:
        raise BadMonitoringQuery(f"at most {MAX_DAYS} days at a time", field="last")


def daily_emissions(uow: UoW, *, permit: str, first: date, last: date,
                    pollutant: str | None = None, enterprise: str | None = None,
                    offset: int = 0, limit: int = 100) -> dict[str, Any]:
    """The daily rows of a permit between two days (both included)."""
    _days(first, last)
    with uow:
        store = SupervisionStore(uow.session)
        _own_permit(store, permit, enterprise)
        rows, total = store.daily(permit, first, last, pollutant, offset=offset, limit=limit)
        items = [{"outlet": r.outlet, "pollutant": r.pollutant, "day": r.day.isoformat(),
                  "emitted_g": r.emitted_g, "hours": r.hours,
                  "substituted_hours": r.substituted_hours, "power_kwh": r.power_kwh,
                  "import_id": r.import_id, "source": r.source}
                 for r in rows]
    return {"permit": permit, "first": first.isoformat(), "last": last.isoformat(),
            "items": items, "total": total, "offset": offset, "limit": limit}


def monitoring_totals(uow: UoW, *, permit: str, first: date, last: date,
                      enterprise: str | None = None) -> dict[str, Any]:
    """Monitored emissions of a permit per outlet and pollutant between two days: grams,
    whole kg (rounded once), hours with an emission and days with data."""
    if last < first:
        raise BadMonitoringQuery("the last day is before the first", field="last")
    with uow:
        store = SupervisionStore(uow.session)
        _own_permit(store, permit, enterprise)
        totals = store.totals(permit, first, last)
    lines = [{"outlet": o, "pollutant": p, "emitted_g": g, "kg": E.grams_to_kg(g),
              "hours": h, "substituted_hours": sh, "days": n}
             for (o, p), (g, h, n, sh) in sorted(totals.items())]
    return {"permit": permit, "first": first.isoformat(), "last": last.isoformat(),
            "lines": lines}


def period_days(year: int, period: str) -> tuple[date, date]:
    """First and last day of a report period ("Y" or "Q1".."Q4")."""
    R.period_kind(period)
    if period == "Y":
        return date(year, 1, 1), date(year, 12, 31)
    q = int(period[1])
    first = date(year, 3 * q - 2, 1)
    nxt = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return first, nxt - timedelta(days=1)


def parse_tolerance(value: str | Decimal | int | None) -> Decimal:
    if value is None or value == "":
        return M.REPORT_TOLERANCE_PCT
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise BadMonitoringQuery(f"tolerance {value!r} is not a number",
                                 field="tolerance_pct") from None
    if not d.is_finite() or not Decimal(0) <= d <= Decimal(1000):
        raise BadMonitoringQuery("tolerance must be between 0 and 1000 %",
                                 field="tolerance_pct")
    return d


def check_reports(uow: UoW, *, permit: str, year: int, period: str, actor: str,
                  tolerance_pct: str | Decimal | int | None = None,
                  now: datetime | None = None) -> dict[str, Any]:
    """Compare each line of the permit's execution report for the period with the monitored
    emissions; store and return the result (deviations flagged)."""
    now = now or system_clock()
    tol = parse_tolerance(tolerance_pct)
    first, last = period_days(year, period)
    with uow:
        store = SupervisionStore(uow.session)
        _own_permit(store, permit, None)
        cs = ComplianceStore(uow.session)
        report = cs.report(permit, year, period)
        if report is None:
            raise ReportNotFound(f"{permit} has no execution report for {year} {period}",
                                 field="period")
        totals = store.totals(permit, first, last)
        period_hours = ((last - first).days + 1) * 24
        rows = []
        for ln in cs.lines(report.id):
            g, h, _n, _sub = totals.get((ln.outlet, ln.pollutant), (0, 0, 0, 0))
            c = E.check_report_line(ln.outlet, ln.pollutant, ln.actual_kg,
                                    g if h else None, h, tol)
            rows.append(ReportCheckRow(
                permit=permit, year=year, period=period, outlet=c.outlet,
                pollutant=c.pollutant, reported_kg=c.reported_kg, monitored_kg=c.monitored_kg,
                hours=c.hours, period_hours=period_hours,
                deviation_pct=None if c.deviation_pct is None else str(c.deviation_pct),
                tolerance_pct=str(tol), status=c.status, actor=actor, checked_at=now))
        store.replace_checks(permit, year, period, rows)
        out = [_check_dict(r) for r in rows]
        uow.commit()
    return {"permit": permit, "year": year, "period": period, "tolerance_pct": str(tol),
            "deviations": sum(1 for r in out if r["status"] == "deviation"), "lines": out}


def _check_dict(r: ReportCheckRow) -> dict[str, Any]:
    return {"permit": r.permit, "year": r.year, "period": r.period, "outlet": r.outlet,
            "pollutant": r.pollutant, "reported_kg": r.reported_kg,
            "monitored_kg": r.monitored_kg, "hours": r.hours, "period_hours": r.period_hours,
            "deviation_pct": r.deviation_pct, "tolerance_pct": r.tolerance_pct,
            "status": r.status, "actor": r.actor, "checked_at": r.checked_at.isoformat()}


def report_checks(uow: UoW, *, permit: str | None = None, enterprise: str | None = None,
                  status: str | None = None, year: int | None = None, offset: int = 0,
                  limit: int = 50) -> dict[str, Any]:
    """Stored report checks, newest first; `enterprise` restricts to its permits."""
    with uow:
        rows, total = SupervisionStore(uow.session).checks(
            permit=permit, enterprise=enterprise, status=status, year=year, offset=offset,
            limit=limit)
        items = [_check_dict(r) for r in rows]
    return {"items": items, "total": total, "offset": offset, "limit": limit}
