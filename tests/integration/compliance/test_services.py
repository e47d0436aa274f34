"""Compliance on a real database (SQLite and PostgreSQL): report → tax → statistics agree to
the kilogram; the true-up surrenders rights and records shortfalls; it never runs twice;
imports are all-or-nothing unless partial."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from allocation import service as alloc
from allocation.store import RegistryStore
from compliance.errors import ImportRejected, TrueUpAlreadyRun
from compliance.reporting import service as compliance
from ledger.service import BUREAU, asset_code
from ledger.store import LedgerStore
from tests.integration.spine import NOW, A, B, build_spine
from tests.report_fields import ANNUAL, HEADER, row

pytestmark = pytest.mark.db
#: a day after 2026 ended and before its annual report is due (31 January)
FILED = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)


def _outlets(platform, codes) -> None:  # type: ignore[no-untyped-def]
    for tag in ("A", "B"):
        compliance.register_outlet(platform.uow(), permit=codes[tag], outlet="DA001",
                                   medium="air")
        compliance.register_outlet(platform.uow(), permit=codes[tag], outlet="DW001",
                                   medium="water")


def test_report_tax_and_statistics_agree_to_the_kilogram(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    _outlets(platform, codes)
    pa, pb = codes["A"], codes["B"]
    text = HEADER + "\n".join([
        row(f"{pa},2026,Q1,DA001,SO2,1.234,t", "Q1"), f"{pa},2026,Q1,DA001,NOx,777,kg",
        f"{pa},2026,Q1,DW001,COD,0.5,t", f"{pa},2026,Q1,DW001,NH3-N,33,kg",
        f"{pa},2026,Q1,DA001,PM,41,kg", row(f"{pb},2026,Q1,DA001,SO2,950,kg", "Q1")])
    out = compliance.import_reports(platform.uow(), csv_text=text, actor="officer", now=NOW)
    assert out["errors"] == [] and out["stored_reports"] == 2 and out["stored_lines"] == 6
    assert all(r["late"] for r in out["reports"])  # Q1 was due on 15 April
    report = {(ln["outlet"], ln["pollutant"]): ln["actual_kg"]
              for ln in compliance.reports_of(platform.uow(), enterprise=A)["items"][0]["lines"]}
    assert report == {("DA001", "SO2"): 1234, ("DA001", "NOx"): 777, ("DW001", "COD"): 500,
                      ("DW001", "NH3-N"): 33, ("DA001", "PM"): 41}
    tax = compliance.tax_return(platform.uow(), enterprise=A, year=2026, quarter=1)
    assert {(ln["outlet"], ln["pollutant"]): ln["kg"] for ln in tax["lines"]} == report
    assert tax["total_kg"] == sum(report.values())
    assert tax["total_fen"] == sum(ln["tax_fen"] for ln in tax["lines"])
    by = {ln["pollutant"]: ln["tax_fen"] for ln in tax["lines"]}
    # by hand: 1234/0.95×240 = 311 747.37; 777/0.95×240 = 196 294.74; 500/1×300 = 150 000;
    # 33/0.8×300 = 12 375; 41/4×240 = 2 460
    assert by == {"SO2": 311_747, "NOx": 196_295, "COD": 150_000, "NH3-N": 12_375,
                  "PM": 2_460}
    stats = list(csv.DictReader(io.StringIO(
        compliance.statistics_export(platform.uow(), year=2026, period="Q1"))))
    mine = {(r["outlet"], r["pollutant"]): int(r["actual_kg"]) for r in stats
            if r["enterprise"] == A}
    assert mine == report
    assert sum(int(r["actual_kg"]) for r in stats) == sum(report.values()) + 950


def test_true_up_surrenders_records_shortfalls_and_runs_once(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    _outlets(platform, codes)
    pa, pb = codes["A"], codes["B"]
    alloc.confirm_rights(platform.uow(), permit=pa, pollutant="SO2", year=2026, qty_kg=8000,
                         actor="officer", now=NOW)
    alloc.confirm_rights(platform.uow(), permit=pb, pollutant="SO2", year=2026, qty_kg=1000,
                         actor="officer", now=NOW)
    for permit, kg in ((pa, 5000), (pb, 6500)):
        compliance.submit_report(platform.uow(), permit=permit, year=2026, period="Y",
                                 lines=[{"outlet": "DA001", "pollutant": "SO2",
                                         "quantity": str(kg), "unit": "kg"}],
                                 details=ANNUAL, actor="officer", now=FILED)
    at = datetime(2027, 2, 1, 2, 0, tzinfo=NOW.tzinfo)
    ra = compliance.true_up(platform.uow(), permit=pa, year=2026, actor="officer", now=at)
    assert ra["status"] == "compliant"
    line = {k: v for k, v in ra["lines"][0].items() if k != "vintages"}
    assert line | {"transfer_id": None} == {
        "pollutant": "SO2", "actual_kg": 5000, "permitted_kg": 8000, "banked_kg": 0,
        "held_kg": 8000, "surrendered_kg": 5000, "exceedance_kg": 0, "shortfall_kg": 0,
        "deducted_kg": 0, "outstanding_kg": 0, "unbacked_kg": 0, "transfer_id": None}
    assert [(v["vintage"], v["kind"], v["qty_kg"]) for v in ra["lines"][0]["vintages"]] == [
        (2026, "surrender", 5000)]
    rb = compliance.true_up(platform.uow(), permit=pb, year=2026, actor="officer", now=at)
    assert rb["status"] == "violation" and rb["penalty_fen"] == [200_000_00, 1_000_000_00]
    # B: 6 000 kg permitted (1 000 kg confirmed as rights), 6 500 kg emitted: 500 kg over
    assert (rb["lines"][0]["surrendered_kg"], rb["lines"][0]["shortfall_kg"],
            rb["lines"][0]["unbacked_kg"]) == (1000, 500, 5000)

    with platform.uow() as uow:
        ls, asset = LedgerStore(uow.session), asset_code("SO2", "ZA1", 2026)
        bal = {h: ls.get_account(ls.account_id(h, "confirmed", asset)).balance  # type: ignore[arg-type,union-attr]
               for h in (pa, pb)}
        sink = ls.get_account(ls.account_id(BUREAU, "surrender", asset))  # type: ignore[arg-type]
        assert bal == {pa: 3000, pb: 0}
        assert sink is not None and sink.balance == 6000
        reg = RegistryStore(uow.session)
        # surrender consumed rights; the permit keeps the limit that applied
        assert reg.quantity(pa, "SO2", 2026).permitted_kg == 8000  # type: ignore[union-attr]
        assert reg.events(pa)[0].kind == "surrender"  # newest first
        assert reg.events(pa)[0].qty_kg == -5000

    with pytest.raises(TrueUpAlreadyRun) as exc:
        compliance.true_up(platform.uow(), permit=pa, year=2026, actor="officer", now=at)
    assert exc.value.code == "true_up_already_run"

    sa = compliance.compliance_status(platform.uow(), enterprise=A, year=2026)
    sb = compliance.compliance_status(platform.uow(), enterprise=B, year=2026)
    assert sa["status"] == "compliant" and sa["violations"] == []
    assert sb["status"] == "violation"
    assert sb["violations"][0]["shortfall_kg"] == 500
    assert sb["violations"][0]["basis"] == "Regulation Art. 34(1)"
    assert sb["violations"][0]["kind"] == "quantity_exceedance"


def test_import_is_all_or_nothing_unless_partial(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    _outlets(platform, codes)
    pa = codes["A"]
    text = HEADER + "\n".join([row(f"{pa},2026,Y,DA001,SO2,12,t", "Y"),
                               f"{pa},2026,Y,DA001,NOx,-1,kg",
                               f"{pa},2026,Y,DW001,COD,7,kg"])
    with pytest.raises(ImportRejected) as exc:
        compliance.import_reports(platform.uow(), csv_text=text, actor="officer", now=FILED)
    assert exc.value.details["errors"] == [{"line": 3, "field": "quantity",
                                            "detail": "quantity must not be negative"}]
    assert compliance.reports_of(platform.uow(), enterprise=A)["items"] == []
    out = compliance.import_reports(platform.uow(), csv_text=text, actor="officer",
                                    partial=True, now=FILED)
    assert out["stored_lines"] == 2 and [e["line"] for e in out["errors"]] == [3]
    items = compliance.reports_of(platform.uow(), enterprise=A)["items"]
    assert [(ln["pollutant"], ln["actual_kg"]) for ln in items[0]["lines"]] == [
        ("SO2", 12_000), ("COD", 7)]
    # 12 000 kg SO2 is above A's permitted quantity (nothing confirmed yet)
    assert items[0]["lines"][0]["flags"] == ["above_permitted"]
    assert items[0]["late"] is False
    # the same period again is a duplicate
    again = compliance.import_reports(platform.uow(), csv_text=text, actor="officer",
                                      partial=True, now=FILED)
    assert again["stored_lines"] == 0 and {e["line"] for e in again["errors"]} == {2, 3, 4}
