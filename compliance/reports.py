"""Execution reports (pure): periods and due dates, quantities in kg, row-by-row validation of
an import, and plausibility flags.

Guarantees: every accepted quantity is a whole, non-negative number of kilograms, converted
from tonnes exactly (Decimal; a tonne figure that is not a whole kg is refused, never
rounded); every refused row is reported with its line number in the file (the header is
line 1) and the field at fault.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from compliance.errors import BadReport
from compliance.parameters import CHANGE_FLAG_PCT, DUE_DAY, UNITS_TO_KG
from kernel.errors import InvalidInput
from kernel.pollutants import parse_pollutant

PERIODS = ("Y", "Q1", "Q2", "Q3", "Q4")
COLUMNS = ("permit", "year", "period", "outlet", "pollutant", "quantity", "unit")


def period_kind(period: str) -> str:
    if period not in PERIODS:
        raise BadReport(f"period must be one of {', '.join(PERIODS)}", field="period")
    return "annual" if period == "Y" else "quarterly"


def due_date(year: int, period: str) -> date:
    """The day by which the report is due: `DUE_DAY[kind]` of the month after the period."""
    kind = period_kind(period)
    end_month = 12 if period == "Y" else 3 * int(period[1])
    y, m = (year + 1, 1) if end_month == 12 else (year, end_month + 1)
    return date(y, m, DUE_DAY[kind])


def is_late(year: int, period: str, submitted: date) -> bool:
    return submitted > due_date(year, period)


def to_kg(quantity: str | int | Decimal, unit: str, fld: str = "quantity") -> int:
    """A reported quantity in kg or t to whole kg, exactly."""
    factor = UNITS_TO_KG.get(str(unit).strip().lower())
    if factor is None:
        raise BadReport(f"unit must be one of {', '.join(UNITS_TO_KG)}, got {unit!r}",
                        field="unit")
    if isinstance(quantity, bool):
        raise BadReport("quantity must be a number", field=fld)
    try:
        d = Decimal(str(quantity).strip())
    except InvalidOperation:
        raise BadReport(f"quantity {quantity!r} is not a number", field=fld) from None
    if not d.is_finite():
        raise BadReport("quantity must be finite", field=fld)
    if d < 0:
        raise BadReport("quantity must not be negative", field=fld)
    kg = d * factor
    if kg != kg.to_integral_value():
        raise BadReport(f"{quantity} {unit} is not a whole number of kg", field=fld)
    return int(kg)


@dataclass(frozen=True)
class ReportLine:
    permit: str
    year: int
    period: str
    outlet: str
    pollutant: str
    actual_kg: int
    line: int = 0


@dataclass(frozen=True)
class RowError:
    line: int
    field: str | None
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {"line": self.line, "field": self.field, "detail": self.detail}


@dataclass
class Validation:
    lines: list[ReportLine] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class Registry:
    """What validation needs to know: the outlets of each permit (with their medium), the
    permits the caller may report for, and the periods already reported."""

    outlets: Mapping[tuple[str, str], str]
    permits: frozenset[str]
    reported: frozenset[tuple[str, int, str]]


def check_line(permit: str, year: object, period: str, outlet: str, pollutant: str,
               quantity: object, unit: str, reg: Registry, line: int = 0) -> ReportLine:
    """One line, or BadReport naming the field."""
    if permit not in reg.permits:
        raise BadReport(f"unknown permit {permit!r}", field="permit")
    try:
        y = int(str(year).strip())
    except ValueError:
        raise BadReport(f"year {year!r} is not a whole number", field="year") from None
    if not 1990 <= y <= 2200:
        raise BadReport("year must be between 1990 and 2200", field="year")
    period_kind(period)
    try:
        pol = parse_pollutant(pollutant).value
    except InvalidInput:
        raise BadReport(f"unknown pollutant {pollutant!r}", field="pollutant") from None
    medium = reg.outlets.get((permit, outlet))
    if medium is None:
        raise BadReport(f"permit {permit} has no outlet {outlet!r}", field="outlet")
    if parse_pollutant(pol).medium != medium:
        raise BadReport(f"outlet {outlet} is a {medium} outlet, {pol} is not", field="pollutant")
    kg = to_kg(quantity, unit)  # type: ignore[arg-type]
    return ReportLine(permit, y, period, outlet, pol, kg, line)


def validate_rows(rows: Iterable[tuple[int, Mapping[str, object]]], reg: Registry) -> Validation:
    """Validate numbered rows; duplicates (same permit, year, period, outlet and pollutant)
    and periods already reported are errors too."""
    out = Validation()
    seen: dict[tuple[str, int, str, str, str], int] = {}
    for n, row in rows:
        missing = [c for c in COLUMNS if str(row.get(c) or "").strip() == ""]
        if missing:
            out.errors.append(RowError(n, missing[0],
                                       f"missing value(s): {', '.join(missing)}"))
            continue
        vals = {c: str(row[c]).strip() for c in COLUMNS}
        try:
            ln = check_line(vals["permit"], vals["year"], vals["period"], vals["outlet"],
                            vals["pollutant"], vals["quantity"], vals["unit"], reg, n)
        except BadReport as exc:
            out.errors.append(RowError(n, exc.field, exc.message))
            continue
        key = (ln.permit, ln.year, ln.period, ln.outlet, ln.pollutant)
        if key in seen:
            out.errors.append(RowError(n, "period", f"duplicate of line {seen[key]}"))
            continue
        if (ln.permit, ln.year, ln.period) in reg.reported:
            out.errors.append(RowError(
                n, "period", f"{ln.permit} already reported {ln.year} {ln.period}"))
            continue
        seen[key] = n
        out.lines.append(ln)
    return out


def parse_csv(text: str, reg: Registry) -> Validation:
    """Validate a CSV text (header: permit,year,period,outlet,pollutant,quantity,unit).

    Malformed CSV (for example a bare carriage return inside a field) is reported as a row
    error at the line where the reader stopped, never raised."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        first = next(reader, None)
        if first is None:
            return Validation(errors=[RowError(1, None, "empty file: no header")])
        header = [h.strip().lower() for h in first]
        absent = [c for c in COLUMNS if c not in header]
        if absent:
            return Validation(errors=[RowError(1, absent[0],
                                               f"header lacks column(s): {', '.join(absent)}")])
        rows: list[tuple[int, dict[str, object]]] = []
        extra: list[RowError] = []
        for raw in reader:
            i = reader.line_num
            if not any(cell.strip() for cell in raw):
                continue
            if len(raw) > len(header):
                extra.append(RowError(i, None, "more cells than header columns"))
                continue
            rows.append((i, dict(zip(header, raw, strict=False))))
    except csv.Error as exc:
        return Validation(errors=[RowError(max(reader.line_num, 1), None,
                                           f"malformed CSV: {exc}")])
    out = validate_rows(rows, reg)
    out.errors = sorted(out.errors + extra, key=lambda e: e.line)
    return out


def plausibility(totals: Mapping[str, int], permitted: Mapping[str, int | None],
                 prior: Mapping[str, int]) -> dict[str, list[str]]:
    """Flags per pollutant: `above_permitted` when the actual total exceeds the permitted
    quantity (or the permit has none for it); `change_over_50pct` when it moved by more than
    `CHANGE_FLAG_PCT` % against the same period of the prior year."""
    flags: dict[str, list[str]] = {}
    for pol, kg in totals.items():
        f = []
        cap = permitted.get(pol)
        if cap is None or kg > cap:
            f.append("above_permitted")
        before = prior.get(pol)
        if before is not None and abs(kg - before) * 100 > CHANGE_FLAG_PCT * before:
            f.append(f"change_over_{CHANGE_FLAG_PCT}pct")
        flags[pol] = f
    return flags
