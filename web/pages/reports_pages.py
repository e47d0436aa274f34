"""An enterprise's execution reports: its reports with their flags, a form to enter one
(permit, year, period and up to `LINES` lines of outlet, pollutant, quantity and unit), an
upload of a CSV file or an Excel workbook (.xlsx: its first sheet is read as the CSV; the
"partial" box keeps the valid rows), row errors with their line numbers, and the compliance
status for a year with its violations and penalty decisions.

Access: the bureau, or the enterprise's own trader (another enterprise answers 404)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from allocation import service as alloc
from compliance import disclosure_service as disclosure
from compliance import service as compliance
from compliance.errors import ImportRejected
from compliance.reports import PERIODS
from compliance.workbook import upload_text
from identity.roles import Principal
from kernel.errors import DomainError
from web.auth import csrf_protect, ensure_enterprise_access, require
from web.errors import status_of
from web.pages import forms
from web.pages.render import render
from web.pages.routes import _p, audit, see_other

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Reader = Depends(require("enterprise:read"))
Year = Annotated[int | None, Query(ge=1990, le=2200)]
LINES = 5
UNITS = ("kg", "t")
MAX_UPLOAD = 8 * 1024 * 1024


def _page(request: Request, code: str, status: int = 200, *, year: int | None = None,
          **ctx: Any) -> HTMLResponse:
    p = _p(request)
    view = alloc.enterprise_view(p.uow(), code)
    reports = compliance.reports_of(p.uow(), enterprise=code)
    state = compliance.compliance_status(p.uow(), enterprise=code, year=year)
    decisions = disclosure.penalty_decisions(p.uow(), enterprise=code, limit=500)
    ctx.setdefault("form", {"lines": [{} for _ in range(LINES)]})
    ctx.setdefault("fe", {})
    ctx.setdefault("upload_fe", {})
    ctx.setdefault("result", None)
    return render(request, "reports.html", status_code=status, e=view,
                  permits=[x["code"] for x in view["permits"]],  # type: ignore[attr-defined]
                  reports=reports["items"], state=state, decisions=decisions["items"],
                  PERIODS=PERIODS, UNITS=UNITS, **ctx)


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


@router.post("/enterprises/{code}/reports", response_model=None)
def submit(request: Request, code: str, permit: Annotated[str, Form()] = "",
           year: Annotated[str, Form()] = "", period: Annotated[str, Form()] = "",
           outlet: Annotated[list[str] | None, Form()] = None,
           pollutant: Annotated[list[str] | None, Form()] = None,
           quantity: Annotated[list[str] | None, Form()] = None,
           unit: Annotated[list[str] | None, Form()] = None,
           user: Principal = Reader) -> RedirectResponse | HTMLResponse:
    ensure_enterprise_access(user, code)
    cols = [list(outlet or []), list(pollutant or []), list(quantity or []), list(unit or [])]
    n = min(max((len(c) for c in cols), default=0), 1000)
    for c in cols:
        c.extend([""] * (n - len(c)))
    rows = [dict(outlet=o.strip(), pollutant=pol.strip(), quantity=q.strip(),
                 unit=(u.strip() or "kg")) for o, pol, q, u in zip(*cols, strict=False)][:n]
    lines = [r for r in rows if r["outlet"] or r["pollutant"] or r["quantity"]]
    shown = rows + [{} for _ in range(max(0, LINES - len(rows)))]
    form = dict(permit=permit, year=year, period=period, lines=shown)
    errors = forms.FieldErrors()
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
                                           period=period, lines=lines, actor=user.username,
                                           enterprise=code)
        except DomainError as exc:
            fld = exc.field or ""
            errors.add("permit" if fld == "permit" else "period" if fld == "period"
                       else "lines" if fld.startswith("lines") else "form",
                       f"{_line_field(fld)}: {exc.code}: {exc.message}"
                       if fld.startswith("lines") else f"{exc.code}: {exc.message}")
            status = status_of(exc)
        else:
            flags = ", ".join(out["flags"]) or "—"
            return see_other(f"/enterprises/{code}/reports",
                             msg=f"report {out['permit']} {out['year']} {out['period']} "
                                 f"stored (flags: {flags})")
    return _page(request, code, status, form=form, fe=errors)


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
        errors.add("file", exc.message)
        return _page(request, code, 422, upload_fe=errors,
                     result={"rejected": True, "errors": exc.details.get("errors", []),
                             "stored_reports": 0, "stored_lines": 0})
    except DomainError as exc:
        errors.add("file", f"{exc.code}: {exc.message}")
        return _page(request, code, status_of(exc), upload_fe=errors)
    msg = f"{out['stored_reports']} report(s), {out['stored_lines']} line(s) stored"
    if out["errors"]:  # a partial import: show the rows left out
        return _page(request, code, 200, result=dict(out, rejected=False), msg=msg)
    return see_other(f"/enterprises/{code}/reports", msg=msg)
