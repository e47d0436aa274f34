"""The tax return draft from stored execution reports (SQLite and PostgreSQL): an outlet's
recorded source kind decides smoke dust or general dust; without one the draft assumes a
process source and says so; no reduction is claimed without concentrations; untaxed
pollutants are listed; recording a source kind refuses bad input and stores nothing."""

from __future__ import annotations

import pytest

from compliance.errors import OutletNotFound, UnknownSourceKind
from compliance.reporting import service as compliance
from compliance.reporting import tax_service
from compliance.reporting.store import ComplianceStore
from tests.integration.spine import NOW, A, build_spine
from tests.report_fields import HEADER, row

pytestmark = pytest.mark.db


def _file_q1(platform, pa: str) -> None:  # type: ignore[no-untyped-def]
    text = HEADER + "\n".join([
        row(f"{pa},2026,Q1,DA001,SO2,950,kg", "Q1"), f"{pa},2026,Q1,DA001,PM,218,kg",
        f"{pa},2026,Q1,DA001,VOCs,10,kg", f"{pa},2026,Q1,DW001,COD,500,kg"])
    out = compliance.import_reports(platform.uow(), csv_text=text, actor="officer", now=NOW)
    assert out["errors"] == [], out


def test_draft_uses_the_outlets_source_kind(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    pa = codes["A"]
    compliance.register_outlet(platform.uow(), permit=pa, outlet="DA001", medium="air")
    compliance.register_outlet(platform.uow(), permit=pa, outlet="DW001", medium="water")
    _file_q1(platform, pa)

    before = tax_service.tax_return(platform.uow(), enterprise=A, year=2026, quarter=1)
    pm = {ln["pollutant"]: ln for ln in before["lines"]}["PM"]
    assert (pm["taxed_as"], pm["tax_fen"]) == ("general_dust", 13_080)  # 54.5 eq × 240
    assert any(n.startswith("source_kind_assumed") for n in before["notes"])

    out = tax_service.set_outlet_source_kind(platform.uow(), permit=pa, outlet="DA001",
                                             source_kind="combustion")
    assert out["source_kind"] == "combustion"
    draft = compliance.tax_return(platform.uow(), enterprise=A, year=2026, quarter=1)
    ln = {x["pollutant"]: x for x in draft["lines"]}
    assert (ln["PM"]["taxed_as"], ln["PM"]["equivalent_value_kg"], ln["PM"]["tax_fen"]) == (
        "smoke_dust", "2.18", 24_000)
    assert ln["SO2"]["tax_fen"] == 240_000 and ln["COD"]["tax_fen"] == 150_000
    assert (ln["VOCs"]["status"], ln["VOCs"]["reason"]) == ("not_taxed", "no_equivalent_value")
    assert {x["reason"] for x in draft["lines"] if x["status"] == "taxed"} == {
        "no_concentration_no_reduction"}
    assert all(x["month"] is None and x["payable_pct"] in (0, 100) for x in draft["lines"])
    assert [n.split(":")[0] for n in draft["notes"]] == [
        "quarterly_figures", "no_concentrations", "source_kind_assumed"]  # DW001 unrecorded
    assert draft["status"] == "draft" and draft["due_date"] == "2026-04-15"
    assert draft["total_kg"] == 950 + 218 + 10 + 500
    assert draft["total_fen"] == 240_000 + 24_000 + 150_000


def test_source_kind_refuses_bad_input_and_stores_nothing(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    pa = codes["A"]
    compliance.register_outlet(platform.uow(), permit=pa, outlet="DA001", medium="air")
    with pytest.raises(UnknownSourceKind) as e:
        tax_service.set_outlet_source_kind(platform.uow(), permit=pa, outlet="DA001",
                                           source_kind="boiler")
    assert e.value.field == "source_kind"
    with pytest.raises(OutletNotFound):
        tax_service.set_outlet_source_kind(platform.uow(), permit=pa, outlet="DA009",
                                           source_kind="process")
    uow = platform.uow()
    with uow:
        row_ = ComplianceStore(uow.session).outlet(pa, "DA001")
        assert row_ is not None and row_.source_kind is None
