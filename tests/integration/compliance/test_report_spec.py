"""Execution reports as HJ 944-2018 defines them, on a real database (SQLite and
PostgreSQL): the structured fields round-trip; a period not ended, a missing commitment,
hours beyond the period, a bad line each refuse the report with the field named and store
nothing; the due date comes from the permit's sector (thermal power 15 January, a
simplified boiler 31 January); missing reports past their due date are listed for the
bureau, and disappear once filed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

import pytest

from allocation import service as alloc
from compliance.errors import BadReport, ImportRejected
from compliance.reporting import service as compliance
from kernel.ids import make_credit_code
from tests.integration.spine import NOW, A, build_spine
from tests.report_fields import ANNUAL, HEADER, QUARTERLY, row

pytestmark = pytest.mark.db
C = make_credit_code("91500000CCCCCCCC3")
FILED = datetime(2026, 1, 20, 2, 0, tzinfo=UTC)
LINE: list[dict[str, Any]] = [{"outlet": "DA001", "pollutant": "SO2", "quantity": "1.5",
                               "unit": "t"}]


def _world(platform) -> dict[str, str]:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    alloc.register_enterprise(platform.uow(), credit_code=C, name="Enterprise C",
                              sector="industrial_boiler", district="D01")
    codes["C"] = alloc.issue_permit(
        platform.uow(), enterprise=C, site_seq=1, site_name="Boiler C", district="D01",
        capacity=20, capacity_unit="t/h", valid_from=date(2025, 1, 1),
        valid_to=date(2029, 12, 31), parameter_version="test",
        bases=[alloc.QuantityBasis("SO2", 2026, "ZA1", 3000, None, None)], now=NOW)
    for p in codes.values():
        compliance.register_outlet(platform.uow(), permit=p, outlet="DA001", medium="air")
    return codes


def _refused(platform, field: str, **kw) -> None:  # type: ignore[no-untyped-def]
    args: dict[str, Any] = dict(year=2025, period="Y", lines=LINE, details=ANNUAL,
                                actor="officer", now=FILED) | kw
    with pytest.raises(BadReport) as exc:
        compliance.submit_report(platform.uow(), **args)
    assert exc.value.field == field, exc.value.message
    assert compliance.reports_of(platform.uow(), enterprise=A)["items"] == []


def test_fields_round_trip_and_the_due_date_comes_from_the_sector(platform) -> None:  # type: ignore[no-untyped-def]
    codes = _world(platform)
    out = compliance.submit_report(platform.uow(), permit=codes["A"], year=2025, period="Y",
                                   lines=LINE, details=ANNUAL | {"output": 120000},
                                   actor="officer", now=FILED)
    # thermal power (key management): the annual report was due on 15 January
    assert (out["due"], out["late"], out["management_class"], out["rules_version"]) == (
        "2026-01-15", True, "key", "2026.1")
    assert out["details"] == ANNUAL | {"output": 120000, "abnormal_reason": None}
    assert "output_above_capacity" in out["flags"]
    stored = compliance.reports_of(platform.uow(), enterprise=A)["items"][0]
    assert stored["details"] == out["details"] and stored["lines"][0]["actual_kg"] == 1500
    # a simplified boiler: due by the end of January, so not late on the 20th
    out = compliance.submit_report(platform.uow(), permit=codes["C"], year=2025, period="Y",
                                   lines=LINE, details=ANNUAL, actor="officer", now=FILED)
    assert (out["due"], out["late"], out["management_class"]) == (
        "2026-01-31", False, "simplified")
    # a quarterly report needs the subset only
    q = compliance.submit_report(platform.uow(), permit=codes["A"], year=2025, period="Q4",
                                 lines=LINE, details=QUARTERLY, actor="officer", now=FILED)
    assert q["due"] == "2026-01-15" and q["details"]["commitment"] is None


def test_bad_reports_name_the_field_and_store_nothing(platform) -> None:  # type: ignore[no-untyped-def]
    codes = _world(platform)
    p = codes["A"]
    _refused(platform, "period", permit=p, year=2026, now=NOW)        # 2026 has not ended
    _refused(platform, "period", permit=p, year=2026, period="Q2", now=NOW)
    _refused(platform, "year", permit=p, year=2024)  # the permit is valid from 2025
    _refused(platform, "commitment",
             permit=p, details={k: v for k, v in ANNUAL.items() if k != "commitment"})
    _refused(platform, "commitment", permit=p, details=ANNUAL | {"commitment": False})
    _refused(platform, "operating_hours", permit=p, details=ANNUAL | {"operating_hours": 8761})
    _refused(platform, "tax_paid_fen", permit=p, details=ANNUAL | {"tax_paid_fen": "12.5"})
    _refused(platform, "lines[0].quantity", permit=p,
             lines=[LINE[0] | {"quantity": "-1"}])
    _refused(platform, "lines[0].outlet", permit=p, lines=[LINE[0] | {"outlet": "DA009"}])
    _refused(platform, "lines[0].pollutant", permit=p,
             lines=[LINE[0] | {"pollutant": "XYZ"}])
    # an import: row errors with line numbers, nothing stored
    text = HEADER + "\n".join([
        row(f"{p},2025,Y,DA001,SO2,1,t", "Y").replace(",true,张三", ",false,张三"),
        f"{p},2025,Y,DA001,NOx,2.5,kg",
        row(f"{p},2026,Q4,DA001,SO2,1,t", "Q4")])
    with pytest.raises(ImportRejected) as exc:
        compliance.import_reports(platform.uow(), csv_text=text, actor="officer", now=NOW)
    rows = cast(list[dict[str, Any]], exc.value.details["errors"])
    errors = {(e["line"], e["field"]) for e in rows}
    assert errors == {(2, "commitment"), (3, "quantity"), (4, "period")}
    assert compliance.reports_of(platform.uow(), enterprise=A)["items"] == []


def test_missing_reports_past_their_due_date(platform) -> None:  # type: ignore[no-untyped-def]
    codes = _world(platform)
    on = date(2026, 2, 1)
    got = compliance.missing_reports(platform.uow(), on=on)
    # A and B (thermal power, key): 2025 Q1-Q4 and the annual; C (boiler, simplified): the
    # annual only, due 31 January, missing from 1 February
    want = {(codes[t], 2025, per) for t in ("A", "B") for per in ("Q1", "Q2", "Q3", "Q4", "Y")}
    assert {(m.permit, m.year, m.period) for m in got} == want | {(codes["C"], 2025, "Y")}
    assert all(m.due < on for m in got)
    assert [m.due for m in got] == sorted(m.due for m in got)
    assert not any(m.permit == codes["C"] for m in compliance.missing_reports(
        platform.uow(), on=date(2026, 1, 31)))
    # filed: gone; the annual report covers Q4
    compliance.submit_report(platform.uow(), permit=codes["A"], year=2025, period="Y",
                             lines=LINE, details=ANNUAL, actor="officer", now=FILED)
    left = {(m.permit, m.period) for m in compliance.missing_reports(platform.uow(), on=on)
            if m.permit == codes["A"]}
    assert left == {(codes["A"], "Q1"), (codes["A"], "Q2"), (codes["A"], "Q3")}
    page = compliance.missing_report_list(platform.uow(), on=on, enterprise=A, limit=2)
    assert page["total"] == 3 and len(page["items"]) == 2
    assert page["items"][0] == {"permit": codes["A"], "enterprise": A, "year": 2025,
                                "period": "Q1", "due": "2025-04-15", "days_overdue": 292}
