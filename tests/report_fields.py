"""The structured fields an execution report carries (HJ 944-2018), for tests that file
reports about something else: a complete annual set (with the commitment) and the quarterly
subset, as API `details` and as the report-level cells of an import."""

from __future__ import annotations

from compliance.reporting.reports import COLUMNS, DETAIL_COLUMNS

ANNUAL: dict[str, object] = {
    "operating_hours": 8000, "output": 90000, "output_unit": "t", "capacity": 100000,
    "facility_normal_hours": 8000, "facility_abnormal_hours": 0, "abnormal_reason": "",
    "monitoring_samples": 52, "monitoring_exceedances": 0, "records_kept": True,
    "tax_paid_fen": 1234500, "commitment": True, "commitment_by": "张三"}
QUARTERLY: dict[str, object] = {
    "facility_abnormal_hours": 0, "monitoring_samples": 13, "monitoring_exceedances": 0}

#: the import header with the report-level columns
HEADER = ",".join(COLUMNS + DETAIL_COLUMNS) + "\n"
HEADER_CELLS = list(COLUMNS + DETAIL_COLUMNS)


def details(period: str) -> dict[str, object]:
    return dict(ANNUAL if period == "Y" else QUARTERLY)


def cells(period: str) -> list[object]:
    """The report-level cells of a report's first row, in `DETAIL_COLUMNS` order."""
    d = details(period)
    return ["true" if d.get(c) is True else d.get(c, "") for c in DETAIL_COLUMNS]


def row(line: str, period: str) -> str:
    """`line` (the seven line cells) with the report's fields appended."""
    return line + "," + ",".join(str(c) for c in cells(period))
