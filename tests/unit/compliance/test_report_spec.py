"""Execution reports as HJ 944-2018 defines them (pure rules): the structured fields each
kind must carry, periods that have not ended, hours within the period, one value per report
in an import, deadlines by management class and sector, and the reports a permit owes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compliance.errors import BadReport
from compliance.reporting import reports as R
from compliance.reporting.report_parameters import (
    ANNUAL,
    KEY,
    QUARTERLY,
    SIMPLIFIED,
    V2026,
    report_parameters,
)

ANNUAL_FIELDS = {"operating_hours": 8000, "output": 90000, "output_unit": "t",
                 "capacity": 100000, "facility_normal_hours": 7990,
                 "facility_abnormal_hours": 10, "abnormal_reason": "desulphuriser pump",
                 "monitoring_samples": 52, "monitoring_exceedances": 0,
                 "records_kept": True, "tax_paid_fen": 1234500, "commitment": True,
                 "commitment_by": "张三"}
QUARTER_FIELDS = {"facility_abnormal_hours": 0, "monitoring_samples": 13,
                  "monitoring_exceedances": 0}
REG = R.Registry(outlets={("P1", "DA001"): "air"}, permits=frozenset({"P1"}),
                 reported=frozenset(), today=date(2026, 12, 5))


def _err(values: Mapping[str, object], year: int = 2025, period: str = "Y") -> str | None:
    with pytest.raises(BadReport) as exc:
        R.parse_details(values, year, period)
    return exc.value.field


def test_an_annual_report_carries_every_field_and_the_commitment() -> None:
    d = R.parse_details(ANNUAL_FIELDS, 2025, "Y")
    assert d.tax_paid_fen == 1234500 and d.commitment_by == "张三"
    assert d.flags() == ["facility_abnormal"]
    for name in ANNUAL_FIELDS:
        if name == "abnormal_reason":
            continue
        assert _err({k: v for k, v in ANNUAL_FIELDS.items() if k != name}) == name
    assert _err(ANNUAL_FIELDS | {"commitment": False}) == "commitment"
    assert _err(ANNUAL_FIELDS | {"commitment": "否"}) == "commitment"
    assert _err(ANNUAL_FIELDS | {"commitment_by": "  "}) == "commitment_by"


def test_a_quarterly_report_needs_the_subset_only() -> None:
    d = R.parse_details(QUARTER_FIELDS, 2026, "Q1")
    assert d.commitment is None and d.operating_hours is None
    for name in QUARTER_FIELDS:
        assert _err({k: v for k, v in QUARTER_FIELDS.items() if k != name},
                    2026, "Q1") == name
    assert R.parse_details(QUARTER_FIELDS | {"operating_hours": 2160}, 2026, "Q1")


def test_bad_values_name_their_field() -> None:
    assert _err(ANNUAL_FIELDS | {"tax_paid_fen": -1}) == "tax_paid_fen"
    assert _err(ANNUAL_FIELDS | {"output": "1.5"}) == "output"
    assert _err(ANNUAL_FIELDS | {"monitoring_samples": "many"}) == "monitoring_samples"
    assert _err(ANNUAL_FIELDS | {"records_kept": "maybe"}) == "records_kept"
    assert _err(ANNUAL_FIELDS | {"output_unit": "lb"}) == "output_unit"
    assert _err(ANNUAL_FIELDS | {"monitoring_exceedances": 53}) == "monitoring_exceedances"
    assert _err(ANNUAL_FIELDS | {"abnormal_reason": ""}) == "abnormal_reason"
    assert _err(ANNUAL_FIELDS | {"colour": "red"}) == "colour"
    assert _err(ANNUAL_FIELDS | {"capacity": 0}) == "capacity"


def test_operating_hours_within_the_period() -> None:
    assert R.period_hours(2025, "Y") == 8760 and R.period_hours(2024, "Y") == 8784
    assert R.period_hours(2026, "Q1") == 90 * 24 and R.period_hours(2024, "Q1") == 91 * 24
    assert R.parse_details(ANNUAL_FIELDS | {"operating_hours": 8784,
                                            "facility_normal_hours": 8774}, 2024, "Y")
    assert _err(ANNUAL_FIELDS | {"operating_hours": 8761}) == "operating_hours"
    assert _err(QUARTER_FIELDS | {"operating_hours": 2161}, 2026, "Q1") == "operating_hours"
    assert _err(ANNUAL_FIELDS | {"facility_normal_hours": 8751}) == "facility_normal_hours"


@given(st.integers(2000, 2100), st.sampled_from(R.PERIODS))
def test_a_period_can_be_reported_from_the_day_after_it_ends(year: int, period: str) -> None:
    start, end = R.period_bounds(year, period)
    assert start <= end and R.period_hours(year, period) == ((end - start).days + 1) * 24
    with pytest.raises(BadReport) as exc:
        R.check_period_ended(year, period, end)
    assert exc.value.field == "period"
    R.check_period_ended(year, period, date.fromordinal(end.toordinal() + 1))


def test_lines_of_a_period_not_ended_are_refused() -> None:
    with pytest.raises(BadReport) as exc:
        R.check_line("P1", 2026, "Y", "DA001", "SO2", "1", "kg", REG)
    assert exc.value.field == "period"
    assert R.check_line("P1", 2026, "Q3", "DA001", "SO2", "1", "kg", REG).actual_kg == 1


def _csv(rows: list[dict[str, object]]) -> str:
    cols = list(R.COLUMNS) + list(R.DETAIL_COLUMNS)
    return "\n".join([",".join(cols)] + [",".join(str(r.get(c, "")) for c in cols)
                                          for r in rows])


def test_an_import_carries_one_value_per_report() -> None:
    base = {"permit": "P1", "year": 2025, "period": "Y", "outlet": "DA001", "unit": "kg"}
    rows = [base | ANNUAL_FIELDS | {"pollutant": "SO2", "quantity": 10},
            base | {"pollutant": "NOx", "quantity": 20},                          # blank: ok
            base | {"pollutant": "PM", "quantity": 5, "tax_paid_fen": 1234500}]   # same: ok
    v = R.parse_csv(_csv(rows), REG)
    assert v.errors == [] and len(v.lines) == 3
    assert v.details[("P1", 2025, "Y")].tax_paid_fen == 1234500
    rows[2]["tax_paid_fen"] = 1
    v = R.parse_csv(_csv(rows), REG)
    assert v.lines == [] and {(e.line, e.field) for e in v.errors} == {
        (2, "tax_paid_fen"), (3, "tax_paid_fen"), (4, "tax_paid_fen")}
    assert "line 2" in next(e.detail for e in v.errors if e.line == 4)
    # a missing commitment refuses the whole report, at its first line
    rows = [base | ANNUAL_FIELDS | {"pollutant": "SO2", "quantity": 10, "commitment": ""},
            base | {"pollutant": "NOx", "quantity": 20}]
    v = R.parse_csv(_csv(rows), REG)
    assert v.lines == [] and [(e.line, e.field) for e in v.errors] == [
        (2, "commitment"), (3, "commitment")]


def test_classes_and_deadlines_come_from_the_sector() -> None:
    p = report_parameters()
    assert p.version == V2026.version
    assert p.management_class("thermal_power") == KEY
    assert p.management_class("industrial_boiler") == SIMPLIFIED
    assert p.management_class("unknown") == KEY  # the stricter duty
    power = p.rule(KEY, "thermal_power")
    assert R.due_date(2025, "Y", power) == date(2026, 1, 15) and power.verify
    assert R.due_date(2025, "Y", p.rule(KEY, "cement")) == date(2026, 1, 31)
    assert p.rule(SIMPLIFIED, "industrial_boiler").kinds == (ANNUAL,)
    assert p.rule(KEY, "steel").kinds == (ANNUAL, QUARTERLY)


def test_the_reports_a_permit_owes() -> None:
    p = report_parameters()
    key, simple = p.rule(KEY), p.rule(SIMPLIFIED)
    on = date(2026, 12, 5)
    # held from 2025-10-15: 2025 annual not owed (< 90 days), Q4 2025 owed (78 days)
    got = R.missing_periods(date(2025, 10, 15), date(2030, 10, 14), key, p, on=on,
                            filed=set())
    assert got == [(2025, "Q4", date(2026, 1, 15)), (2026, "Q1", date(2026, 4, 15)),
                   (2026, "Q2", date(2026, 7, 15)), (2026, "Q3", date(2026, 10, 15))]
    # filed ones are not missing; an annual report covers its Q4
    got = R.missing_periods(date(2024, 1, 1), date(2028, 12, 31), key, p, on=on,
                            filed={(2024, "Y"), (2025, "Y"), (2026, "Q1"), (2024, "Q1"),
                                   (2024, "Q2"), (2024, "Q3"), (2025, "Q1"), (2025, "Q2"),
                                   (2025, "Q3")})
    assert got == [(2026, "Q2", date(2026, 7, 15)), (2026, "Q3", date(2026, 10, 15))]
    # due on the day itself is not yet missing; simplified units owe the annual only
    assert R.missing_periods(date(2024, 1, 1), date(2028, 12, 31), simple, p,
                             on=date(2026, 1, 31), filed={(2024, "Y")}) == []
    assert R.missing_periods(date(2024, 1, 1), date(2028, 12, 31), simple, p,
                             on=date(2026, 2, 1), filed={(2024, "Y")}) == [
        (2025, "Y", date(2026, 1, 31))]


def test_a_report_covers_a_period_the_permit_was_valid_in() -> None:
    reg = R.Registry(outlets={("P1", "DA001"): "air"}, permits=frozenset({"P1"}),
                     reported=frozenset(), today=date(2026, 12, 5),
                     validity={"P1": (date(2025, 10, 1), date(2030, 9, 30))})
    assert R.check_line("P1", 2025, "Q4", "DA001", "SO2", "1", "kg", reg).year == 2025
    assert R.check_line("P1", 2025, "Y", "DA001", "SO2", "1", "kg", reg).year == 2025
    with pytest.raises(BadReport) as exc:
        R.check_line("P1", 2025, "Q3", "DA001", "SO2", "1", "kg", reg)
    assert exc.value.field == "year"
