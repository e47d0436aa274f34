"""Execution reports (pure): periods, due dates from the permit's class and sector, the
structured fields the specification asks for, quantities in kg, row-by-row validation of an
import, and plausibility flags.

Guarantees: every accepted quantity is a whole, non-negative number of kilograms, converted
from tonnes exactly (Decimal; a tonne figure that is not a whole kg is refused, never
rounded) and at most `MAX_LINE_KG` (10^12 kg = 10^9 t per line: far above any outlet's
year, and small enough that the tax of a line, kg ÷ 0.8 kg per
equivalent × at most 1,400 fen, stays below 1.8·10^15 fen, so a thousand lines still sum
inside a signed 64-bit integer, the BigInteger of the columns); a larger figure
(`9223372036854775808` kg, `1e25` t) is a row error naming `quantity`, never a database
overflow; the whole numbers of a report's fields are bounded by `FIELD_MAX` (what their
columns hold); every refused row is reported with its line number in the file (the header is
line 1) and the field at fault; a report for a period that has not ended is refused (field
`period`); an annual report carries every field HJ 944-2018 asks for, including the
commitment (承诺书) that it is true, a quarterly one the subset the permit texts ask for
(`compliance.reporting.report_parameters`); the report-level fields of an import are one value per
report (a row that repeats them differently is refused).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import Context, Decimal, DecimalException, Inexact, InvalidOperation, Overflow
from typing import Any

from compliance.errors import BadReport
from compliance.parameters import CHANGE_FLAG_PCT, UNITS_TO_KG
from compliance.reporting.report_parameters import (
    ANNUAL,
    FIELDS,
    OUTPUT_UNITS,
    QUARTERLY,
    ReportParameters,
    ReportRule,
    report_parameters,
)
from kernel.errors import InvalidInput
from kernel.pollutants import parse_pollutant

PERIODS = ("Y", "Q1", "Q2", "Q3", "Q4")
COLUMNS = ("permit", "year", "period", "outlet", "pollutant", "quantity", "unit")
#: the report-level columns an import may carry (one value per report)
DETAIL_COLUMNS = FIELDS
REASON_MAX = 500
SIGNER_MAX = 60
_INTS = ("operating_hours", "output", "capacity", "facility_normal_hours",
         "facility_abnormal_hours", "monitoring_samples", "monitoring_exceedances",
         "tax_paid_fen")
_BOOLS = ("records_kept", "commitment")
#: the most data rows an import reads (the workbook reader's row limit too)
MAX_IMPORT_ROWS = 100_000
#: the largest quantity of one report line, kg (see the module's guarantees)
MAX_LINE_KG = 10**12
#: the largest value of each whole-number field: hours and counts are 32-bit columns (hours
#: are bounded by the period's hours anyway), output, capacity and tax paid 64-bit ones
FIELD_MAX: dict[str, int] = {"operating_hours": 8784, "facility_normal_hours": 8784,
                             "facility_abnormal_hours": 8784,
                             "monitoring_samples": 10**7, "monitoring_exceedances": 10**7,
                             "output": 10**15, "capacity": 10**15, "tax_paid_fen": 10**15}
#: exact arithmetic for unit conversions: anything inexact is refused, never rounded
_EXACT = Context(prec=60, traps=[InvalidOperation, Overflow, Inexact])
_TRUE = {"true", "yes", "y", "1", "是", "t"}
_FALSE = {"false", "no", "n", "0", "否", "f"}


def period_kind(period: str) -> str:
    if period not in PERIODS:
        raise BadReport(f"period must be one of {', '.join(PERIODS)}", field="period")
    return ANNUAL if period == "Y" else QUARTERLY


def period_bounds(year: int, period: str) -> tuple[date, date]:
    """The first and last day of the period."""
    if period_kind(period) == ANNUAL:
        return date(year, 1, 1), date(year, 12, 31)
    q = int(period[1])
    start = date(year, 3 * q - 2, 1)
    end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return start, end - timedelta(days=1)


def period_hours(year: int, period: str) -> int:
    start, end = period_bounds(year, period)
    return ((end - start).days + 1) * 24


def due_date(year: int, period: str, rule: ReportRule | None = None) -> date:
    """The day by which the report is due under `rule` (default: the current table's rule
    for a key-management unit of no particular sector): the annual report by the rule's
    (month, day) of the next year, a quarterly one `quarterly_due_days` after the quarter."""
    rule = rule or report_parameters().rule("key")
    if period_kind(period) == ANNUAL:
        month, day = rule.annual_due
        return date(year + 1, month, day)
    return period_bounds(year, period)[1] + timedelta(days=rule.quarterly_due_days)


def is_late(year: int, period: str, submitted: date, rule: ReportRule | None = None) -> bool:
    return submitted > due_date(year, period, rule)


def check_period_ended(year: int, period: str, today: date) -> None:
    """A report covers a period that has ended: refused (field `period`) otherwise."""
    end = period_bounds(year, period)[1]
    if today <= end:
        raise BadReport(f"the period {year} {period} ends on {end.isoformat()}: its report "
                        f"can be submitted from {(end + timedelta(days=1)).isoformat()}",
                        field="period")


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
    if d > MAX_LINE_KG / factor:
        raise BadReport(f"quantity must be at most {MAX_LINE_KG} kg per line", field=fld)
    if d != 0 and d.adjusted() < -6:  # below a gram: cannot be a whole number of kg
        raise BadReport(f"{str(quantity)[:40]} {unit} is not a whole number of kg", field=fld)
    try:
        kg = _EXACT.multiply(d, factor)
    except DecimalException:  # more than 60 significant digits
        raise BadReport(f"quantity {str(quantity)[:40]}... has too many digits",
                        field=fld) from None
    if kg != kg.to_integral_value():
        raise BadReport(f"{str(quantity)[:40]} {unit} is not a whole number of kg", field=fld)
    return int(kg)


@dataclass(frozen=True)
class ReportDetails:
    """The structured fields of a report (None: not given). Hours are whole hours, output and
    capacity whole units of `output_unit` for the period, the tax paid integer fen."""

    operating_hours: int | None = None
    output: int | None = None
    output_unit: str | None = None
    capacity: int | None = None
    facility_normal_hours: int | None = None
    facility_abnormal_hours: int | None = None
    abnormal_reason: str | None = None
    monitoring_samples: int | None = None
    monitoring_exceedances: int | None = None
    records_kept: bool | None = None
    tax_paid_fen: int | None = None
    commitment: bool | None = None
    commitment_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def flags(self) -> list[str]:
        """Report-level flags: output above the stated capacity, exceedances in the
        self-monitoring, abnormal operation of treatment facilities."""
        out = []
        if self.output is not None and self.capacity and self.output > self.capacity:
            out.append("output_above_capacity")
        if self.monitoring_exceedances:
            out.append("monitoring_exceedances")
        if self.facility_abnormal_hours:
            out.append("facility_abnormal")
        return out


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "")


def _whole(v: object, name: str) -> int:
    if isinstance(v, bool):
        raise BadReport(f"{name} must be a whole number", field=name)
    try:
        d = Decimal(str(v).strip())
    except InvalidOperation:
        raise BadReport(f"{name} {v!r} is not a number", field=name) from None
    if not d.is_finite() or d != d.to_integral_value():
        raise BadReport(f"{name} must be a whole number, got {v!r}", field=name)
    if d < 0:
        raise BadReport(f"{name} must not be negative", field=name)
    top = FIELD_MAX.get(name, 10**15)
    if d > top:
        raise BadReport(f"{name} must be at most {top}", field=name)
    return int(d)


def _flag(v: object, name: str) -> bool:
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise BadReport(f"{name} must be true or false, got {v!r}", field=name)


def _text(v: object, name: str, max_len: int) -> str:
    s = str(v).strip()
    if len(s) > max_len:
        raise BadReport(f"{name} has at most {max_len} characters", field=name)
    if any(unicodedata.category(c) == "Cc" for c in s):
        raise BadReport(f"{name} must not contain control characters", field=name)
    return s


def parse_details(values: Mapping[str, object], year: int, period: str,
                  params: ReportParameters | None = None) -> ReportDetails:
    """The structured fields of one report, or BadReport naming the field: a required field
    of the kind missing, a negative or non-whole number, hours beyond the period's hours,
    more exceedances than samples, abnormal hours without a reason, an annual report
    without the commitment."""
    params = params or report_parameters()
    kind = period_kind(period)
    unknown = sorted(k for k in values if k not in FIELDS)
    if unknown:
        raise BadReport(f"unknown field(s): {', '.join(unknown)}", field=unknown[0])
    given = {k: v for k, v in values.items() if not _blank(v)}
    for name in params.required[kind]:
        if name not in given:
            what = ("the legal representative's commitment (承诺书) that the report is true"
                    if name in ("commitment", "commitment_by") else name)
            raise BadReport(f"{_a(kind)} report needs {what}", field=name)
    d: dict[str, Any] = {}
    for name in _INTS:
        if name in given:
            d[name] = _whole(given[name], name)
    for name in _BOOLS:
        if name in given:
            d[name] = _flag(given[name], name)
    if "output_unit" in given:
        unit = str(given["output_unit"]).strip()
        if unit not in OUTPUT_UNITS:
            raise BadReport(f"output_unit must be one of {', '.join(OUTPUT_UNITS)}",
                            field="output_unit")
        d["output_unit"] = unit
    if "abnormal_reason" in given:
        d["abnormal_reason"] = _text(given["abnormal_reason"], "abnormal_reason", REASON_MAX)
    if "commitment_by" in given:
        d["commitment_by"] = _text(given["commitment_by"], "commitment_by", SIGNER_MAX)
    hours = period_hours(year, period)
    if d.get("operating_hours", 0) > hours:
        raise BadReport(f"operating_hours {d['operating_hours']} exceed the {hours} hours of "
                        f"{year} {period}", field="operating_hours")
    normal, abnormal = d.get("facility_normal_hours", 0), d.get("facility_abnormal_hours", 0)
    if normal + abnormal > hours:
        raise BadReport(f"facility hours (normal {normal} + abnormal {abnormal}) exceed the "
                        f"{hours} hours of {year} {period}",
                        field="facility_abnormal_hours" if abnormal > hours
                        else "facility_normal_hours")
    if abnormal > 0 and not d.get("abnormal_reason"):
        raise BadReport("abnormal operation of a treatment facility needs its reason",
                        field="abnormal_reason")
    if d.get("monitoring_exceedances", 0) > d.get("monitoring_samples", 0):
        raise BadReport("monitoring_exceedances cannot exceed monitoring_samples",
                        field="monitoring_exceedances")
    if ("output" in d or "capacity" in d) and "output_unit" not in d:
        raise BadReport("output and capacity need their output_unit", field="output_unit")
    if d.get("capacity") == 0:
        raise BadReport("capacity must be positive", field="capacity")
    if "commitment" in params.required[kind] and d.get("commitment") is not True:
        raise BadReport(f"{_a(kind)} report needs the legal representative's commitment "
                        "(承诺书) that it is true: commitment must be true",
                        field="commitment")
    if d.get("commitment") and not d.get("commitment_by"):
        raise BadReport("the commitment names who signs it (the legal representative)",
                        field="commitment_by")
    return ReportDetails(**d)


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
    #: (permit, year, period) → the report's structured fields (imports)
    details: dict[tuple[str, int, str], ReportDetails] = field(default_factory=dict)


@dataclass(frozen=True)
class Registry:
    """What validation needs to know: the outlets of each permit (with their medium), the
    permits the caller may report for, the periods already reported, today (a period
    that has not ended cannot be reported; None: not checked) and each permit's validity."""

    outlets: Mapping[tuple[str, str], str]
    permits: frozenset[str]
    reported: frozenset[tuple[str, int, str]]
    today: date | None = None
    #: permit → (valid_from, valid_to): a report covers a period the permit was valid in
    #: (a permit missing here is not checked)
    validity: Mapping[str, tuple[date, date]] = field(default_factory=dict)


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
    if reg.today is not None:
        check_period_ended(y, period, reg.today)
    valid = reg.validity.get(permit)
    if valid is not None:
        start, end = period_bounds(y, period)
        if end < valid[0] or start > valid[1]:
            raise BadReport(f"permit {permit} was not valid in {y} {period} (valid "
                            f"{valid[0].isoformat()} to {valid[1].isoformat()})", field="year")
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


def _group_details(rows: list[tuple[int, Mapping[str, object]]], out: Validation,
                   params: ReportParameters | None) -> None:
    """One value per report and field (the first row that gives it; a differing later
    value is an error at its line), then the report's fields are checked; a report whose
    fields fail is refused whole, every line of it listed."""
    lines_of: dict[tuple[str, int, str], list[ReportLine]] = {}
    for ln in out.lines:
        lines_of.setdefault((ln.permit, ln.year, ln.period), []).append(ln)
    by_line = dict(rows)
    refused: dict[tuple[str, int, str], RowError] = {}
    for key, group in lines_of.items():
        values: dict[str, tuple[str, int]] = {}
        err: RowError | None = None
        for ln in group:
            row = by_line.get(ln.line, {})
            for name in DETAIL_COLUMNS:
                v = row.get(name)
                if _blank(v):
                    continue
                s = str(v).strip()
                if name not in values:
                    values[name] = (s, ln.line)
                elif values[name][0] != s:
                    err = RowError(ln.line, name, f"{name} {s!r} differs from line "
                                   f"{values[name][1]} ({values[name][0]!r}): one value "
                                   f"per report")
                    break
            if err:
                break
        if err is None:
            try:
                out.details[key] = parse_details({k: v for k, (v, _n) in values.items()},
                                                 key[1], key[2], params)
            except BadReport as exc:
                at = values[exc.field][1] if exc.field in values else group[0].line
                err = RowError(at, exc.field, exc.message)
        if err is not None:
            refused[key] = err
    if not refused:
        return
    kept = []
    for ln in out.lines:
        key = (ln.permit, ln.year, ln.period)
        e = refused.get(key)
        if e is None:
            kept.append(ln)
        elif ln.line == e.line:
            out.errors.append(e)
        else:
            out.errors.append(RowError(ln.line, e.field, f"report {key[0]} {key[1]} {key[2]} "
                                       f"refused: see line {e.line}"))
    out.lines = kept
    out.errors.sort(key=lambda e: e.line)


def validate_rows(rows: Iterable[tuple[int, Mapping[str, object]]], reg: Registry, *,
                  details: bool = True, params: ReportParameters | None = None
                  ) -> Validation:
    """Validate numbered rows; duplicates (same permit, year, period, outlet and pollutant)
    and periods already reported are errors too. With `details`, the report-level columns
    are read per report and checked (`parse_details`)."""
    out = Validation()
    rows = list(rows)
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
    if details:
        _group_details(rows, out, params)
    return out


def parse_csv(text: str, reg: Registry, params: ReportParameters | None = None) -> Validation:
    """Validate a CSV text (header: permit,year,period,outlet,pollutant,quantity,unit and the
    report-level columns of `DETAIL_COLUMNS`, one value per report: on its first row, or
    repeated alike on every row).

    Malformed CSV (for example a bare carriage return inside a field, or a field longer
    than the csv module's limit) is reported as a row error at the line where the reader
    stopped, never raised; more than `MAX_IMPORT_ROWS` data rows is one error."""
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
            if len(rows) + len(extra) >= MAX_IMPORT_ROWS:
                return Validation(errors=[RowError(i, None, f"more than {MAX_IMPORT_ROWS} "
                                                   "rows: split the file")])
            if len(raw) > len(header):
                extra.append(RowError(i, None, "more cells than header columns"))
                continue
            rows.append((i, dict(zip(header, raw, strict=False))))
    except csv.Error as exc:
        return Validation(errors=[RowError(max(reader.line_num, 1), None,
                                           f"malformed CSV: {exc}")])
    out = validate_rows(rows, reg, params=params)
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


def missing_periods(valid_from: date, valid_to: date, rule: ReportRule,
                    params: ReportParameters, *, on: date,
                    filed: set[tuple[int, str]] | frozenset[tuple[int, str]],
                    first_year: int | None = None) -> list[tuple[int, str, date]]:
    """(year, period, due) of the reports a permit valid from `valid_from` to `valid_to`
    owes under `rule`, whose due date lies before `on` and which are not in `filed`
    ((year, period) pairs). A period the permit held for fewer than the table's
    `min_held_days` of its kind owes no report (it goes into the next one); a quarter whose
    annual report is filed owes no separate Q4 report (the annual covers it)."""
    out: list[tuple[int, str, date]] = []
    lo = max(valid_from.year, first_year if first_year is not None else valid_from.year)
    for year in range(lo, min(valid_to.year, on.year) + 1):
        for kind in rule.kinds:
            for period in (("Y",) if kind == ANNUAL else ("Q1", "Q2", "Q3", "Q4")):
                if (year, period) in filed:
                    continue
                if period == "Q4" and (year, "Y") in filed:
                    continue
                start, end = period_bounds(year, period)
                held = (min(end, valid_to) - max(start, valid_from)).days + 1
                if held <= 0 or held < params.min_held_days.get(kind, 0):
                    continue
                due = due_date(year, period, rule)
                if due < on:
                    out.append((year, period, due))
    return out
