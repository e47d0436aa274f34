"""Compliance use cases: outlets, execution reports (API and CSV import), the quarterly tax
return draft, the statistics export, the annual true-up and the compliance status.

Each writing use case runs in one unit of work (`with uow: ...; uow.commit()`). The true-up
surrenders rights through `ledger.service.execute` and writes the permit's permitted quantity
and history in the same transaction, as `allocation.service.confirm_rights` does, so the
permit and the ledger never disagree. Report, tax return and statistics read the same stored
lines: the figures agree to the kilogram by construction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from allocation.permits import PermitNotFound
from allocation.store import RegistryStore
from compliance import reports as R
from compliance.errors import (
    BadReport,
    DuplicateReport,
    ImportRejected,
    OutletExists,
    ReportNotFound,
    TrueUpAlreadyRun,
)
from compliance.parameters import DEFAULT_PROVINCE, PENALTY_FEN
from compliance.statistics import statistics_csv
from compliance.store import ComplianceStore
from compliance.tables import (
    ExecutionReportRow,
    OutletRow,
    ReportLineRow,
    TrueUpLineRow,
    TrueUpRow,
    ViolationRow,
)
from compliance.tax import rates, return_lines
from compliance.trueup import settle
from kernel.clock import system_clock, trading_day
from ledger import service as ledger
from ledger.entries import Transfer
from ledger.service import UoW
from ledger.store import LedgerStore
from ledger.transactions import AccountKind, Initiator

ART34 = "Regulation Art. 34"


def _permit(uow: UoW, permit: str, enterprise: str | None) -> str:
    """The permit's enterprise; another enterprise's permit is answered as missing."""
    p = RegistryStore(uow.session).permit(permit)
    if p is None or (enterprise is not None and p.enterprise != enterprise):
        raise PermitNotFound(f"no permit {permit}", field="permit")
    return p.enterprise


def register_outlet(uow: UoW, *, permit: str, outlet: str, medium: str) -> dict[str, str]:
    if medium not in ("air", "water"):
        raise BadReport("medium must be air or water", field="medium")
    outlet = outlet.strip()
    if not outlet or len(outlet) > 20:
        raise BadReport("outlet code must have 1-20 characters", field="outlet")
    with uow:
        _permit(uow, permit, None)
        store = ComplianceStore(uow.session)
        if store.outlet(permit, outlet) is not None:
            raise OutletExists(f"permit {permit} already has outlet {outlet}", field="outlet")
        store.add(OutletRow(permit=permit, code=outlet, medium=medium))
        uow.commit()
    return {"permit": permit, "outlet": outlet, "medium": medium}


def _registry(store: ComplianceStore, enterprise: str | None) -> R.Registry:
    permits = store.permit_codes(enterprise)
    codes = sorted(permits)
    return R.Registry(outlets=store.outlets(codes), permits=frozenset(codes),
                      reported=frozenset(store.reported(codes)))


def _totals(lines: Sequence[tuple[str, int]]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for pol, kg in lines:
        out[pol] += kg
    return dict(out)


def _store_report(uow: UoW, store: ComplianceStore, lines: Sequence[R.ReportLine], *,
                  source: str, actor: str, now: datetime) -> dict[str, Any]:
    """Store one report (all lines share permit, year and period) with its flags."""
    first = lines[0]
    permit, year, period = first.permit, first.year, first.period
    if store.report(permit, year, period) is not None:
        raise DuplicateReport(f"{permit} already reported {year} {period}", field="period")
    reg = RegistryStore(uow.session)
    totals = _totals([(ln.pollutant, ln.actual_kg) for ln in lines])
    permitted: dict[str, int | None] = {}
    for pol in totals:
        q = reg.quantity(permit, pol, year)
        permitted[pol] = q.permitted_kg if q is not None else None
    prior_row = store.report(permit, year - 1, period)
    prior = (_totals([(x.pollutant, x.actual_kg) for x in store.lines(prior_row.id)])
             if prior_row is not None else {})
    flags = R.plausibility(totals, permitted, prior)
    due = R.due_date(year, period)
    late = trading_day(now) > due
    row = ExecutionReportRow(permit=permit, year=year, period=period, submitted_at=now,
                             due=due, late=late, source=source, submitted_by=actor)
    rid = store.add_report(row, [ReportLineRow(outlet=ln.outlet, pollutant=ln.pollutant,
                                               actual_kg=ln.actual_kg,
                                               flags=",".join(flags[ln.pollutant]))
                                 for ln in lines])
    if rid is None:
        raise DuplicateReport(f"{permit} already reported {year} {period}", field="period")
    return _report_dict(row, store.lines(rid)) | {"id": rid}


def _report_dict(row: ExecutionReportRow, lines: Sequence[ReportLineRow]) -> dict[str, Any]:
    flags = sorted({f for ln in lines for f in ln.flags.split(",") if f})
    return {"id": row.id, "permit": row.permit, "year": row.year, "period": row.period,
            "submitted_at": row.submitted_at.isoformat(), "due": row.due.isoformat(),
            "late": row.late, "source": row.source, "flags": flags,
            "lines": [{"outlet": ln.outlet, "pollutant": ln.pollutant,
                       "actual_kg": ln.actual_kg,
                       "flags": [f for f in ln.flags.split(",") if f]} for ln in lines]}


def submit_report(uow: UoW, *, permit: str, year: int, period: str,
                  lines: Sequence[Mapping[str, Any]], actor: str,
                  enterprise: str | None = None, now: datetime | None = None
                  ) -> dict[str, Any]:
    """An execution report entered directly. `enterprise` restricts to its own permits."""
    now = now or system_clock()
    if not lines:
        raise BadReport("a report needs at least one line", field="lines")
    with uow:
        _permit(uow, permit, enterprise)
        store = ComplianceStore(uow.session)
        reg = _registry(store, enterprise)
        rows = [(i, {"permit": permit, "year": year, "period": period, **dict(ln)})
                for i, ln in enumerate(lines)]
        v = R.validate_rows(rows, reg)
        if v.errors:
            e = v.errors[0]
            if e.field == "period" and "already reported" in e.detail:
                raise DuplicateReport(e.detail, field="period")
            raise BadReport(e.detail, field=f"lines[{e.line}].{e.field}" if e.field
                            else f"lines[{e.line}]")
        out = _store_report(uow, store, v.lines, source="api", actor=actor, now=now)
        uow.commit()
        return out


def import_reports(uow: UoW, *, csv_text: str, actor: str, partial: bool = False,
                   enterprise: str | None = None, now: datetime | None = None
                   ) -> dict[str, Any]:
    """Import execution reports from CSV. Nothing is stored unless every row is valid, or,
    with `partial`, the valid rows are stored and the invalid ones reported."""
    now = now or system_clock()
    with uow:
        store = ComplianceStore(uow.session)
        v = R.parse_csv(csv_text, _registry(store, enterprise))
        errors = [e.to_dict() for e in v.errors]
        if errors and not partial:
            raise ImportRejected(f"{len(errors)} invalid row(s); nothing was stored "
                                 f"(first: line {errors[0]['line']}: {errors[0]['detail']})",
                                 errors=errors)
        groups: dict[tuple[str, int, str], list[R.ReportLine]] = defaultdict(list)
        for ln in v.lines:
            groups[(ln.permit, ln.year, ln.period)].append(ln)
        stored = [_store_report(uow, store, g, source="csv", actor=actor, now=now)
                  for _k, g in sorted(groups.items())]
        uow.commit()
        return {"stored_reports": len(stored), "stored_lines": len(v.lines),
                "errors": errors, "reports": stored}


def reports_of(uow: UoW, *, enterprise: str, year: int | None = None) -> dict[str, Any]:
    with uow:
        store = ComplianceStore(uow.session)
        permits = sorted(store.permit_codes(enterprise))
        items = [_report_dict(r, store.lines(r.id)) for r in store.reports_of(permits, year)]
        return {"enterprise": enterprise, "items": items}


def tax_return(uow: UoW, *, enterprise: str, year: int, quarter: int,
               province: str = DEFAULT_PROVINCE) -> dict[str, Any]:
    """The quarterly environmental protection tax return draft of an enterprise, from its
    quarterly execution reports."""
    if quarter not in (1, 2, 3, 4):
        raise BadReport("quarter must be 1-4", field="quarter")
    table = rates(province)
    with uow:
        figures = ComplianceStore(uow.session).figures(year, f"Q{quarter}", enterprise)
    lines = return_lines([(p, o, pol, kg) for _e, p, _y, _q, o, pol, kg in figures], table)
    return {"enterprise": enterprise, "year": year, "quarter": quarter, "province": province,
            "status": "draft", "rates_fen": table, "lines": [ln.to_dict() for ln in lines],
            "total_kg": sum(ln.kg for ln in lines),
            "total_fen": sum(ln.tax_fen for ln in lines)}


def statistics_export(uow: UoW, *, year: int, period: str = "Y") -> str:
    R.period_kind(period)
    with uow:
        return statistics_csv(ComplianceStore(uow.session).figures(year, period))


def true_up(uow: UoW, *, permit: str, year: int, actor: str,
            now: datetime | None = None) -> dict[str, Any]:
    """Surrender rights equal to the annual report's actual emissions from the permit's
    confirmed account, up to what it holds; record any shortfall as a violation. Runs once
    per permit and year."""
    now = now or system_clock()
    with uow:
        enterprise = _permit(uow, permit, None)
        store, reg = ComplianceStore(uow.session), RegistryStore(uow.session)
        if store.true_up(permit, year) is not None:
            raise TrueUpAlreadyRun(f"the {year} true-up of {permit} has already run",
                                   field="year")
        report = store.report(permit, year, "Y")
        if report is None:
            raise ReportNotFound(f"{permit} has no annual execution report for {year}",
                                 field="year")
        totals = _totals([(x.pollutant, x.actual_kg) for x in store.lines(report.id)])
        head = TrueUpRow(permit=permit, year=year, enterprise=enterprise, status="compliant",
                         actor=actor, at=now)
        if not store.claim_true_up(head):  # the key decides between concurrent runs
            raise TrueUpAlreadyRun(f"the {year} true-up of {permit} has already run",
                                   field="year")
        transfers: list[Transfer] = []
        rows: list[object] = []
        out: list[dict[str, Any]] = []
        for pol, actual in sorted(totals.items()):
            q = reg.quantity(permit, pol, year, lock=True)
            held, tid, acct = 0, None, None
            if q is not None:
                accts = ledger.ensure_rights_accounts(
                    uow, holder=permit, pollutant=pol, zone=q.zone, vintage=year,
                    kinds=[AccountKind.CONFIRMED, AccountKind.TRADABLE], now=now,
                    upper_limit=q.cap_kg)
                acct = LedgerStore(uow.session).get_account(accts[AccountKind.CONFIRMED])
                assert acct is not None
                held = max(acct.balance - acct.debits_pending, 0)
            s = settle(pol, actual, held)
            if q is not None and acct is not None and s.surrendered_kg > 0:
                sink = ledger.ensure_rights_accounts(
                    uow, holder=ledger.BUREAU, pollutant=pol, zone=q.zone, vintage=year,
                    kinds=[AccountKind.SURRENDER], now=now)[AccountKind.SURRENDER]
                tid = f"surrender:{permit}:{pol}:{year}"
                transfers.append(Transfer(tid, "surrender", accts[AccountKind.CONFIRMED], sink,
                                          s.surrendered_kg, reference=f"true-up:{year}"))
                after = acct.balance - s.surrendered_kg
                reg.set_permitted(permit, pol, year, after)
                reg.add_event(permit=permit, pollutant=pol, year=year, kind="surrender",
                              qty_kg=-s.surrendered_kg, counterparty="SURRENDER", price=None,
                              reference=tid, permitted_after_kg=after, at=now,
                              note=f"compliance true-up, actual {actual} kg")
            rows.append(TrueUpLineRow(permit=permit, year=year, pollutant=pol,
                                      actual_kg=actual, held_kg=held,
                                      surrendered_kg=s.surrendered_kg,
                                      shortfall_kg=s.shortfall_kg, transfer_id=tid))
            if s.shortfall_kg > 0:
                head.status = "violation"
                rows.append(ViolationRow(
                    enterprise=enterprise, permit=permit, year=year, pollutant=pol,
                    shortfall_kg=s.shortfall_kg, penalty_min_fen=PENALTY_FEN[0],
                    penalty_max_fen=PENALTY_FEN[1], basis=ART34, status="open", at=now,
                    note=None))
            out.append({"pollutant": pol, "actual_kg": actual, "held_kg": held,
                        "surrendered_kg": s.surrendered_kg, "shortfall_kg": s.shortfall_kg,
                        "transfer_id": tid})
        if transfers:
            ledger.execute(uow, transfers, initiator=Initiator.BUREAU, actor=actor, now=now)
        store.add(*rows)
        uow.commit()
        return {"permit": permit, "year": year, "enterprise": enterprise,
                "status": head.status, "lines": out,
                "penalty_fen": list(PENALTY_FEN) if head.status == "violation" else None}


def compliance_status(uow: UoW, *, enterprise: str, year: int | None = None
                      ) -> dict[str, Any]:
    """Per permit: its true-up status, or "pending"; the enterprise is in "violation" when any
    permit is, "compliant" when every permit was trued up without shortfall. The year
    defaults to the last calendar year (the one a true-up settles)."""
    year = year if year is not None else trading_day(system_clock()).year - 1
    with uow:
        store = ComplianceStore(uow.session)
        permits = sorted(store.permit_codes(enterprise))
        done = {t.permit: t.status for t in store.true_ups(enterprise, year)}
        per = {p: done.get(p, "pending") for p in permits}
        violations = [{"id": v.id, "permit": v.permit, "pollutant": v.pollutant,
                       "shortfall_kg": v.shortfall_kg, "penalty_min_fen": v.penalty_min_fen,
                       "penalty_max_fen": v.penalty_max_fen, "basis": v.basis,
                       "status": v.status} for v in store.violations(enterprise, year)]
        late = [f"{r.permit} {r.year} {r.period}" for r in store.reports_of(permits, year)
                if r.late]
    status = ("violation" if "violation" in per.values() else
              "compliant" if per and all(s == "compliant" for s in per.values()) else
              "pending")
    return {"enterprise": enterprise, "year": year, "status": status, "permits": per,
            "violations": violations, "late_reports": late}

