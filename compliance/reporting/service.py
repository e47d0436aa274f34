"""Compliance use cases: outlets, execution reports (API and CSV import), the quarterly tax
return draft, the statistics export, the annual true-up and the compliance status.

Each writing use case runs in one unit of work (`with uow: ...; uow.commit()`). The true-up
surrenders rights through `ledger.service.execute` and writes the permit's permitted quantity
and history in the same transaction, as `allocation.service.confirm_rights` does, so the
permit and the ledger never disagree. Report, tax return and statistics read the same stored
lines: the figures agree to the kilogram by construction.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from allocation.permits import PermitNotFound
from allocation.store import RegistryStore
from compliance.enforcement import violations
from compliance.errors import (
    BadReport,
    ReportNotFound,
    TrueUpAlreadyRun,
    TrueUpTooEarly,
)
from compliance.reporting.report_service import (  # noqa: F401  (re-exported: callers keep working)
    MissingReport,
    import_reports,
    missing_report_list,
    missing_reports,
    register_outlet,
    reports_of,
    statistics_export,
    submit_report,
)
from compliance.reporting.store import ComplianceStore
from compliance.reporting.tables import (
    TrueUpLineRow,
    TrueUpRow,
    TrueUpSurrenderRow,
    ViolationRow,
)
from compliance.reporting.tax_service import tax_return  # noqa: F401  (moved; callers keep it)
from compliance.reporting.trueup import BANKED, DEDUCTION, Settlement, VintagePolicy, settle
from kernel.clock import system_clock, trading_day
from ledger import service as ledger
from ledger.entries import Transfer
from ledger.service import UoW
from ledger.store import LedgerStore
from ledger.transactions import AccountKind, Initiator

#: the kind a true-up exceedance opens: discharging beyond the permitted quantity
QUANTITY_EXCEEDANCE = violations.kind("quantity_exceedance")


def _permit(uow: UoW, permit: str, enterprise: str | None) -> str:
    """The permit's enterprise; another enterprise's permit is answered as missing."""
    p = RegistryStore(uow.session).permit(permit)
    if p is None or (enterprise is not None and p.enterprise != enterprise):
        raise PermitNotFound(f"no permit {permit}", field="permit")
    return p.enterprise


def _totals(lines: Sequence[tuple[str, int]]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for pol, kg in lines:
        out[pol] += kg
    return dict(out)


def _confirmed(uow: UoW, permit: str, pollutant: str, zone: str, vintages: Sequence[int]
               ) -> dict[int, tuple[int, int, int]]:
    """vintage → (confirmed account id, balance, available) of the permit's existing
    confirmed accounts in `zone` (available = balance less pending debits)."""
    ls = LedgerStore(uow.session)
    out = {}
    for v in vintages:
        aid = ls.account_id(permit, AccountKind.CONFIRMED, ledger.asset_code(pollutant, zone, v))
        acct = ls.get_account(aid) if aid is not None else None
        if acct is not None:
            out[v] = (acct.id, acct.balance, max(acct.balance - acct.debits_pending, 0))
    return out


OVERRIDE_MAX = 500


def _true_up_due(year: int, report_due: date, today: date, override_reason: str | None
                 ) -> str | None:
    """The recorded override reason, or None when the year and its report deadline have
    passed; refuses an early true-up without a reason."""
    reason = (override_reason or "").strip() or None
    if reason is not None and (len(reason) > OVERRIDE_MAX or any(
            unicodedata.category(c) == "Cc" and c not in "\n\t" for c in reason)):
        raise BadReport(f"override_reason has at most {OVERRIDE_MAX} characters and no "
                        "control characters", field="override_reason")
    ends = max(date(year, 12, 31), report_due)
    if today <= ends and reason is None:
        raise TrueUpTooEarly(
            f"the {year} true-up runs after the year and its report deadline ({ends}); "
            "the bureau may run it earlier with a recorded override_reason",
            field="year", after=ends.isoformat())
    return reason if today <= ends else None


def true_up(uow: UoW, *, permit: str, year: int, actor: str, deduct_next_year: bool = False,
            policy: VintagePolicy | None = None, override_reason: str | None = None,
            now: datetime | None = None) -> dict[str, Any]:
    """Judge the annual report's actual emissions against the permit's permitted quantity of
    `year` and settle them from the rights, by the rules of `compliance.reporting.trueup`: an
    exceedance is a violation (Regulation Art. 34) whatever else the enterprise holds;
    vintage-`year` confirmed rights are surrendered (consumed) while the permit keeps the
    limit that applied; banked rights count only where the policy allows banking and only
    once written into the year's permitted quantity (never above its cap, recorded on the
    permit's history); with `deduct_next_year`, the exceedance is surrendered from vintage
    year+1 up to what it holds, and year+1's permitted quantity falls by as much.

    Runs once per permit and year, after the year and its annual report's deadline, or
    earlier with a recorded `override_reason`. Permit and ledger change in one transaction."""
    now = now or system_clock()
    policy = policy or VintagePolicy()
    with uow:
        ledger.lock_journal(uow)  # before the permit rows: see ledger.service
        enterprise = _permit(uow, permit, None)
        store, reg = ComplianceStore(uow.session), RegistryStore(uow.session)
        if store.true_up(permit, year) is not None:
            raise TrueUpAlreadyRun(f"the {year} true-up of {permit} has already run",
                                   field="year")
        report = store.report(permit, year, "Y")
        if report is None:
            raise ReportNotFound(f"{permit} has no annual execution report for {year}",
                                 field="year")
        override = _true_up_due(year, report.due, trading_day(now), override_reason)
        totals = _totals([(x.pollutant, x.actual_kg) for x in store.lines(report.id)])
        head = TrueUpRow(permit=permit, year=year, enterprise=enterprise, status="compliant",
                         actor=actor, at=now, override_reason=override)
        if not store.claim_true_up(head):  # the key decides between concurrent runs
            raise TrueUpAlreadyRun(f"the {year} true-up of {permit} has already run",
                                   field="year")
        window = list(range(year - policy.max_age, year)) if policy.banking else []
        settled = store.trued_up_years(permit, window) if window else set()
        transfers: list[Transfer] = []
        rows: list[object] = []
        out: list[dict[str, Any]] = []
        for pol, actual in sorted(totals.items()):
            # lock every quantity row the rules may touch, in year order (no deadlock with a
            # concurrent true-up of another year of the same permit)
            rows_by_year = {v: reg.quantity(permit, pol, v, lock=True)
                            for v in sorted({*window, year, year + 1})}
            q = rows_by_year[year]
            if q is None:
                # the permit sets no permitted quantity for this pollutant: no quantity limit
                # to judge (concentration limits are checked by supervision)
                rows.append(TrueUpLineRow(permit=permit, year=year, pollutant=pol,
                                          actual_kg=actual, held_kg=0, surrendered_kg=0,
                                          shortfall_kg=0, transfer_id=None, deducted_kg=0,
                                          permitted_kg=None, banked_kg=0))
                out.append(_line_out(pol, actual, None, None, []))
                continue
            ledger.ensure_rights_accounts(
                uow, holder=permit, pollutant=pol, zone=q.zone, vintage=year,
                kinds=[AccountKind.CONFIRMED, AccountKind.TRADABLE], now=now,
                upper_limit=q.cap_kg)
            accts = _confirmed(uow, permit, pol, q.zone, [*window, year, year + 1])
            holdings = {v: a[2] for v, a in accts.items() if v <= year}
            nxt = None
            if deduct_next_year:
                nxt = accts[year + 1][2] if year + 1 in accts else 0
            s = settle(pol, year, actual, permitted_kg=q.permitted_kg, cap_kg=q.cap_kg,
                       holdings=holdings, settled=settled, policy=policy,
                       next_year_held=nxt)
            drawn: list[dict[str, Any]] = []
            year_tid = None
            limit = q.permitted_kg
            for d in s.draws:
                aid, _balance, _avail = accts[d.vintage]
                sink = ledger.ensure_rights_accounts(
                    uow, holder=ledger.BUREAU, pollutant=pol, zone=q.zone, vintage=d.vintage,
                    kinds=[AccountKind.SURRENDER], now=now)[AccountKind.SURRENDER]
                if d.kind == DEDUCTION:
                    tid = f"deduction:{permit}:{pol}:{year}"
                elif d.kind == BANKED:
                    tid = f"surrender:{permit}:{pol}:{year}:v{d.vintage}"
                else:
                    tid = year_tid = f"surrender:{permit}:{pol}:{year}"
                transfers.append(Transfer(tid, "surrender", aid, sink, d.kg,
                                          reference=f"true-up:{year}"))
                note = f"compliance true-up {year}, actual {actual} kg"
                if d.kind == BANKED:
                    # written into year Y's permit first, then surrendered with it
                    limit += d.kg
                    reg.set_permitted(permit, pol, year, limit)
                    reg.add_event(permit=permit, pollutant=pol, year=year, kind="banking",
                                  qty_kg=d.kg, counterparty=f"vintage {d.vintage}",
                                  price=None, reference=tid, permitted_after_kg=limit,
                                  at=now, note=f"banked vintage {d.vintage} written into "
                                               f"the {year} permitted quantity")
                    reg.add_event(permit=permit, pollutant=pol, year=d.vintage,
                                  kind="surrender", qty_kg=-d.kg, counterparty="SURRENDER",
                                  price=None, reference=tid,
                                  permitted_after_kg=_permitted(rows_by_year, d.vintage),
                                  at=now, note=f"{note}; banked into {year}")
                elif d.kind == DEDUCTION:
                    nq = rows_by_year[year + 1]
                    after = max(nq.permitted_kg - d.kg, 0) if nq is not None else 0
                    reg.set_permitted(permit, pol, d.vintage, after)
                    reg.add_event(permit=permit, pollutant=pol, year=d.vintage,
                                  kind="deduction", qty_kg=-d.kg, counterparty="SURRENDER",
                                  price=None, reference=tid, permitted_after_kg=after,
                                  at=now, note=f"{note}; exceedance of {year} deducted "
                                               f"from {d.vintage}")
                else:
                    # surrender consumes the rights; the permit keeps the limit that applied
                    reg.add_event(permit=permit, pollutant=pol, year=year, kind="surrender",
                                  qty_kg=-d.kg, counterparty="SURRENDER", price=None,
                                  reference=tid, permitted_after_kg=limit, at=now, note=note)
                rows.append(TrueUpSurrenderRow(permit=permit, year=year, pollutant=pol,
                                               vintage=d.vintage, kind=d.kind, qty_kg=d.kg,
                                               transfer_id=tid))
                drawn.append({"vintage": d.vintage, "kind": d.kind, "qty_kg": d.kg,
                              "transfer_id": tid})
            rows.append(TrueUpLineRow(permit=permit, year=year, pollutant=pol,
                                      actual_kg=actual, held_kg=s.held_kg,
                                      surrendered_kg=s.surrendered_kg,
                                      shortfall_kg=s.exceedance_kg, transfer_id=year_tid,
                                      deducted_kg=s.deducted_kg, permitted_kg=s.limit_kg,
                                      banked_kg=s.banked_kg))
            if s.exceedance_kg > 0:
                head.status = "violation"
                rows.append(_exceedance(enterprise, permit, year, pol, s, actor, now))
            out.append(_line_out(pol, actual, s, year_tid, drawn))
        if transfers:
            ledger.execute(uow, transfers, initiator=Initiator.BUREAU, actor=actor, now=now)
        store.add(*rows)
        uow.commit()
        return {"permit": permit, "year": year, "enterprise": enterprise,
                "status": head.status, "deduct_next_year": deduct_next_year,
                "banking": policy.banking, "override_reason": override, "lines": out,
                "penalty_fen": (list(QUANTITY_EXCEEDANCE.range_fen())
                                if head.status == "violation" else None)}


def _permitted(rows_by_year: Mapping[int, Any], year: int) -> int:
    q = rows_by_year.get(year)
    return int(q.permitted_kg) if q is not None else 0


def _exceedance(enterprise: str, permit: str, year: int, pollutant: str, s: Settlement,
                actor: str, now: datetime) -> ViolationRow:
    """The violation an exceedance opens: Regulation Art. 34(1), discharging beyond the
    permitted quantity (`compliance.enforcement.violations`), dated the year's last day (or the day
    of an early run)."""
    note = f"actual {s.actual_kg} kg against the permitted {s.limit_kg} kg"
    if s.deducted_kg:
        note += f"; {s.deducted_kg} kg deducted from {year + 1}"
    return ViolationRow(enterprise=enterprise, permit=permit, year=year, pollutant=pollutant,
                        shortfall_kg=s.exceedance_kg,
                        penalty_min_fen=QUANTITY_EXCEEDANCE.range_fen()[0],
                        penalty_max_fen=QUANTITY_EXCEEDANCE.range_fen()[1],
                        basis=QUANTITY_EXCEEDANCE.basis_en, kind=QUANTITY_EXCEEDANCE.code,
                        article=QUANTITY_EXCEEDANCE.article_ref,
                        occurred_on=min(date(year, 12, 31), trading_day(now)),
                        opened_by=actor, facts=note,
                        status="open", at=now,
                        note=note, deducted_kg=s.deducted_kg)


def _line_out(pollutant: str, actual: int, s: Settlement | None, year_tid: str | None,
              drawn: list[dict[str, Any]]) -> dict[str, Any]:
    if s is None:
        return {"pollutant": pollutant, "actual_kg": actual, "permitted_kg": None,
                "banked_kg": 0, "held_kg": 0, "surrendered_kg": 0, "exceedance_kg": 0,
                "shortfall_kg": 0, "deducted_kg": 0, "outstanding_kg": 0, "unbacked_kg": 0,
                "transfer_id": None, "vintages": []}
    return {"pollutant": pollutant, "actual_kg": actual, "permitted_kg": s.limit_kg,
            "banked_kg": s.banked_kg, "held_kg": s.held_kg,
            "surrendered_kg": s.surrendered_kg, "exceedance_kg": s.exceedance_kg,
            "shortfall_kg": s.exceedance_kg, "deducted_kg": s.deducted_kg,
            "outstanding_kg": s.outstanding_kg, "unbacked_kg": s.unbacked_kg,
            "transfer_id": year_tid, "vintages": drawn}


def _violation_dict(v: ViolationRow) -> dict[str, Any]:
    return {"id": v.id, "enterprise": v.enterprise, "permit": v.permit, "year": v.year,
            "pollutant": v.pollutant, "shortfall_kg": v.shortfall_kg,
            "deducted_kg": v.deducted_kg, "outstanding_kg": v.shortfall_kg - v.deducted_kg,
            "penalty_min_fen": v.penalty_min_fen, "penalty_max_fen": v.penalty_max_fen,
            "basis": v.basis, "kind": v.kind, "article": v.article, "status": v.status,
            "at": v.at.isoformat(), "note": v.note}


def _line_dicts(store: ComplianceStore, permits: Sequence[str], year: int
                ) -> dict[str, list[dict[str, Any]]]:
    """permit → its true-up lines with the vintages each surrendered or deducted."""
    drawn: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for d in store.surrenders(permits, year):
        drawn[(d.permit, d.pollutant)].append({"vintage": d.vintage, "kind": d.kind,
                                               "qty_kg": d.qty_kg,
                                               "transfer_id": d.transfer_id})
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ln in store.lines_of(permits, year):
        out[ln.permit].append({
            "pollutant": ln.pollutant, "actual_kg": ln.actual_kg,
            "permitted_kg": ln.permitted_kg, "banked_kg": ln.banked_kg,
            "held_kg": ln.held_kg, "surrendered_kg": ln.surrendered_kg,
            "exceedance_kg": ln.shortfall_kg, "shortfall_kg": ln.shortfall_kg,
            "deducted_kg": ln.deducted_kg, "outstanding_kg": ln.shortfall_kg - ln.deducted_kg,
            "unbacked_kg": ln.actual_kg - ln.shortfall_kg - ln.surrendered_kg,
            "transfer_id": ln.transfer_id, "vintages": drawn[(ln.permit, ln.pollutant)]})
    return out


def compliance_status(uow: UoW, *, enterprise: str, year: int | None = None
                      ) -> dict[str, Any]:
    """Per permit: its true-up status, or "pending"; the enterprise is in "violation" when any
    permit is, "compliant" when every permit was trued up without shortfall. The year
    defaults to the last calendar year (the one a true-up settles). `true_ups` gives each
    run's lines with the vintages surrendered and the deduction from the next year."""
    year = year if year is not None else trading_day(system_clock()).year - 1
    with uow:
        store = ComplianceStore(uow.session)
        permits = sorted(store.permit_codes(enterprise))
        runs = store.true_ups(enterprise, year)
        done = {t.permit: t.status for t in runs}
        per = {p: done.get(p, "pending") for p in permits}
        lines = _line_dicts(store, [t.permit for t in runs], year) if runs else {}
        true_ups = [{"permit": t.permit, "status": t.status, "at": t.at.isoformat(),
                     "actor": t.actor, "override_reason": t.override_reason,
                     "lines": lines.get(t.permit, [])} for t in runs]
        violations = [_violation_dict(v) for v in store.violations(enterprise, year)]
        late = [f"{r.permit} {r.year} {r.period}" for r in store.reports_of(permits, year)
                if r.late]
    status = ("violation" if "violation" in per.values() else
              "compliant" if per and all(s == "compliant" for s in per.values()) else
              "pending")
    return {"enterprise": enterprise, "year": year, "status": status, "permits": per,
            "true_ups": true_ups, "violations": violations, "late_reports": late,
            "deducted_kg": sum(v["deducted_kg"] for v in violations),
            "outstanding_kg": sum(v["outstanding_kg"] for v in violations)}


TRUE_UP_STATUSES = ("pending", "compliant", "violation")


def true_up_list(uow: UoW, *, year: int, status: str | None = None, offset: int = 0,
                 limit: int = 50, district: str | None = None) -> dict[str, Any]:
    """Every permit valid in `year` with its true-up status ("pending" until it runs),
    whether its annual report is in, and the lines of a run, in pages; `district` keeps
    the permits of that district's enterprises only."""
    if status is not None and status not in TRUE_UP_STATUSES:
        raise BadReport(f"status must be one of {', '.join(TRUE_UP_STATUSES)}",
                        field="status")
    with uow:
        store = ComplianceStore(uow.session)
        rows, total = store.status_page(year, status, offset, limit, district)
        ran = [r["permit"] for r in rows if r["status"] != "pending"]
        lines = _line_dicts(store, ran, year) if ran else {}
        items = [r | {"at": r["at"].isoformat() if r["at"] else None,
                      "lines": lines.get(r["permit"], [])} for r in rows]
    return {"year": year, "status": status, "total": total, "offset": offset,
            "limit": limit, "items": items}


def violation_list(uow: UoW, *, year: int | None = None, offset: int = 0, limit: int = 50,
                   district: str | None = None) -> dict[str, Any]:
    """Violation records, newest first, with the exceedance, the deducted and outstanding
    parts and the penalty range; `district` keeps a district officer's enterprises."""
    with uow:
        rows, total = ComplianceStore(uow.session).violations_page(year, offset, limit,
                                                                   district)
        items = [_violation_dict(v) for v in rows]
    return {"year": year, "total": total, "offset": offset, "limit": limit, "items": items}
