"""An enterprise's execution reports: its reports with their flags and structured fields, the
reports it owes past their due date, a form to enter one (permit, year, period, the fields
HJ 944-2018 asks for: production and operating hours, treatment facilities, self-monitoring,
records, tax paid in yuan, the commitment; and up to `LINES` lines of outlet, pollutant,
quantity and unit), an upload of a CSV file or an Excel workbook (.xlsx: its first sheet is
read as the CSV; the "partial" box keeps the valid rows), row errors with their line
numbers, and the compliance status for a year with its violations and penalty decisions.
The bureau's list of missing reports is at `/bureau/reports/missing`.

Access: the bureau, or the enterprise's own trader (another enterprise answers 404); the
missing-report list: the bureau."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from allocation import service as alloc
from compliance.enforcement import disclosure_service as disclosure
from compliance.errors import BadWorkbook, ImportRejected
from compliance.reporting import service as compliance
from compliance.reporting.report_parameters import OUTPUT_UNITS
from compliance.reporting.reports import DETAIL_COLUMNS, PERIODS
from compliance.reporting.workbook import upload_text
from identity.roles import Principal
from kernel.clock import system_clock, trading_day
from kernel.errors import DomainError
from web.auth import csrf_protect, district_scope, ensure_enterprise_access, require
from web.errors import status_of
from web.i18n import N_, translator
from web.messages import error_text
from web.pages import forms
from web.pages.base import _p, audit, see_other
from web.pages.render import lang_of, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Reader = Depends(require("enterprise:read"))
Bureau = Depends(require("rights:confirm"))
Year = Annotated[int | None, Query(ge=1990, le=2200)]
LINES = 5
UNITS = ("kg", "t")
MAX_UPLOAD = 8 * 1024 * 1024
PAGE = 50
#: the form's report-level inputs (the tax is entered in yuan as `tax_paid`)
FORM_FIELDS = tuple(f for f in DETAIL_COLUMNS if f not in ("tax_paid_fen", "commitment"))


def _page(request: Request, code: str, status: int = 200, *, year: int | None = None,
          **ctx: Any) -> HTMLResponse:
    p = _p(request)
    view = alloc.enterprise_view(p.uow(), code)
    reports = compliance.reports_of(p.uow(), enterprise=code)
    missing = compliance.missing_report_list(p.uow(), on=trading_day(system_clock()),
                                             enterprise=code, limit=PAGE)
    state = compliance.compliance_status(p.uow(), enterprise=code, year=year)
    decisions = disclosure.penalty_decisions(p.uow(), enterprise=code, limit=500)
    ctx.setdefault("form", {"lines": [{} for _ in range(LINES)]})
    ctx.setdefault("fe", {})
    ctx.setdefault("upload_fe", {})
    ctx.setdefault("result", None)
    return render(request, "reports.html", status_code=status, e=view,
                  permits=[x["code"] for x in view["permits"]],  # type: ignore[attr-defined]
                  reports=reports["items"], state=state, decisions=decisions["items"],
                  missing=missing, PERIODS=PERIODS, UNITS=UNITS, OUTPUT_UNITS=OUTPUT_UNITS,
                  **ctx)


@router.get("/enterprises/{code}/reports", response_class=HTMLResponse)
def reports(request: Request, code: str, year: Year = None,
            user: Principal = Reader) -> HTMLResponse:
    ensure_enterprise_access(user, code)
    return _page(request, code, year=year)


def _line_field(field: str | None) -> str:
    """`lines[2].quantity` → "line 3: quantity" (the form counts from 1)."""
    if field and field.startswith("lines["):
        n, _, rest = field[6:].partition("]")
        if n.isdigit():
            return f"line {int(n) + 1}" + (f": {rest.lstrip('.')}" if rest.strip(".") else "")
    return field or "form"


def _tax_fen(value: str, errors: forms.FieldErrors) -> int | None:
    """Tax paid in yuan (0.01 at most) → fen; blank: not given."""
    v = (value or "").strip().replace(",", "")
    if not v:
        return None
    try:
        d = Decimal(v)
    except InvalidOperation:
        errors.add("tax_paid", "must be a number of yuan")
        return None
    fen = d * 100
    if not d.is_finite() or d < 0 or d > Decimal(10**12) or fen != fen.to_integral_value():
        errors.add("tax_paid", "must be a non-negative number of yuan with at most 2 decimals")
        return None
    return int(fen)


def _details(request_form: dict[str, str], errors: forms.FieldErrors) -> dict[str, Any]:
    """The report-level fields of the form, as text for the domain's checks."""
    out: dict[str, Any] = {k: request_form[k].strip() for k in FORM_FIELDS
                           if request_form.get(k, "").strip()}
    fen = _tax_fen(request_form.get("tax_paid", ""), errors)
    if fen is not None:
        out["tax_paid_fen"] = fen
    if request_form.get("commitment") == "on":
        out["commitment"] = True
    return out


F = Annotated[str, Form()]


@router.post("/enterprises/{code}/reports", response_model=None)
def submit(request: Request, code: str, permit: F = "", year: F = "", period: F = "",
           outlet: Annotated[list[str] | None, Form()] = None,
           pollutant: Annotated[list[str] | None, Form()] = None,
           quantity: Annotated[list[str] | None, Form()] = None,
           unit: Annotated[list[str] | None, Form()] = None,
           operating_hours: F = "", output: F = "", output_unit: F = "", capacity: F = "",
           facility_normal_hours: F = "", facility_abnormal_hours: F = "",
           abnormal_reason: F = "", monitoring_samples: F = "", monitoring_exceedances: F = "",
           records_kept: F = "", tax_paid: F = "", commitment: F = "", commitment_by: F = "",
           user: Principal = Reader) -> RedirectResponse | HTMLResponse:
    ensure_enterprise_access(user, code)
    fields = dict(operating_hours=operating_hours, output=output, output_unit=output_unit,
                  capacity=capacity, facility_normal_hours=facility_normal_hours,
                  facility_abnormal_hours=facility_abnormal_hours,
                  abnormal_reason=abnormal_reason, monitoring_samples=monitoring_samples,
                  monitoring_exceedances=monitoring_exceedances, records_kept=records_kept,
                  tax_paid=tax_paid, commitment=commitment, commitment_by=commitment_by)
    cols = [list(outlet or []), list(pollutant or []), list(quantity or []), list(unit or [])]
    n = min(max((len(c) for c in cols), default=0), 1000)
    for c in cols:
        c.extend([""] * (n - len(c)))
    rows = [dict(outlet=o.strip(), pollutant=pol.strip(), quantity=q.strip(),
                 unit=(u.strip() or "kg")) for o, pol, q, u in zip(*cols, strict=False)][:n]
    lines = [r for r in rows if r["outlet"] or r["pollutant"] or r["quantity"]]
    shown = rows + [{} for _ in range(max(0, LINES - len(rows)))]
    form: dict[str, Any] = dict(fields, permit=permit, year=year, period=period, lines=shown)
    errors = forms.FieldErrors()
    details = _details(fields, errors)
    permit = forms.text(permit, "permit", errors, max_len=22)
    y = forms.whole(year, "year", errors, lo=1990, hi=2200)
    forms.choice(period, "period", errors, PERIODS)
    for r in lines:
        forms.choice(r["unit"], "unit", errors, UNITS)
    if not lines:
        errors.add("lines", "enter at least one line")
    audit(request, "submit_report", permit, f"{year} {period}")
    status = 422
    if not errors and y is not None:
        try:
            out = compliance.submit_report(_p(request).uow(), permit=permit, year=y,
                                           period=period, lines=lines, details=details,
                                           actor=user.username, enterprise=code)
        except DomainError as exc:
            fld = exc.field or ""
            errors.add("permit" if fld == "permit" else "period" if fld == "period"
                       else "tax_paid" if fld == "tax_paid_fen"
                       else fld if fld in DETAIL_COLUMNS
                       else "lines" if fld.startswith("lines") else "form",
                       error_text(exc).wrap(f"{_line_field(fld)}: ")
                       if fld.startswith("lines") else error_text(exc))
            status = status_of(exc)
        else:
            flags = ", ".join(out["flags"]) or "—"
            return see_other(f"/enterprises/{code}/reports",
                             msg=f"report {out['permit']} {out['year']} {out['period']} "
                                 f"stored (flags: {flags})")
    return _page(request, code, status, form=form, fe=errors)


#: what the page says when compliance.reporting.workbook refuses a file (a msgid of the catalogue)
UNREADABLE = N_("The file cannot be read: it is not a readable CSV or Excel workbook, or it "
                "exceeds the reader's limits (100,000 rows, 256 columns, 1,000,000 cells, 64 "
                "MB unpacked per part, 10 seconds).")


@router.post("/enterprises/{code}/reports/import", response_model=None)
def upload(request: Request, code: str, file: Annotated[UploadFile | None, File()] = None,
           partial: Annotated[str, Form()] = "",
           user: Principal = Reader) -> RedirectResponse | HTMLResponse:
    ensure_enterprise_access(user, code)
    errors = forms.FieldErrors()
    data = file.file.read(MAX_UPLOAD + 1) if file is not None else b""
    name = (file.filename or "") if file is not None else ""
    audit(request, "import_reports", None, f"{name[:80]} partial={partial == 'on'}")
    if not data:
        errors.add("file", "choose a CSV or .xlsx file")
        return _page(request, code, 422, upload_fe=errors)
    try:
        text = upload_text(data, name)
        out = compliance.import_reports(_p(request).uow(), csv_text=text,
                                        partial=partial == "on", actor=user.username,
                                        enterprise=code)
    except ImportRejected as exc:
        errors.add("file", error_text(exc))
        return _page(request, code, 422, upload_fe=errors,
                     result={"rejected": True, "errors": exc.details.get("errors", []),
                             "stored_reports": 0, "stored_lines": 0})
    except BadWorkbook as exc:  # refused by the reader's limits or unreadable
        _ = translator(lang_of(request))
        errors.add("file", error_text(exc).wrap(f"{_(UNREADABLE)} (", ")"))
        return _page(request, code, status_of(exc), upload_fe=errors)
    except DomainError as exc:
        errors.add("file", error_text(exc))
        return _page(request, code, status_of(exc), upload_fe=errors)
    msg = f"{out['stored_reports']} report(s), {out['stored_lines']} line(s) stored"
    if out["errors"]:  # a partial import: show the rows left out
        return _page(request, code, 200, result=dict(out, rejected=False), msg=msg)
    return see_other(f"/enterprises/{code}/reports", msg=msg)


@router.get("/bureau/reports/missing", response_class=HTMLResponse)
def missing(request: Request, on: Annotated[date | None, Query()] = None,
            page: Annotated[int, Query(ge=1, le=10**6)] = 1,
            _user: Principal = Bureau) -> HTMLResponse:
    """Execution reports past their due date and not filed (Regulation Art. 37), by due
    date, with the enterprise and the days overdue."""
    day = on or trading_day(system_clock())
    out = compliance.missing_report_list(_p(request).uow(), on=day, offset=(page - 1) * PAGE,
                                         limit=PAGE, district=district_scope(request))
    return render(request, "reports_missing.html", out=out, on=day, page=page,
                  pages=max(1, -(-int(out["total"]) // PAGE)),
                  pager_base="/bureau/reports/missing?" + urlencode({"on": day.isoformat()})
                  + "&")
