"""Bureau pages of off-site supervision: `/bureau/monitoring`.

One page: the upload form of hourly monitoring data (a CSV file as multipart, or pasted
text; "partial" keeps the valid rows), the recent imports, the check of an execution report
against the monitored emissions (permit, year, period, tolerance) with the deviations found,
and the daily emissions of one permit between two days (with its totals).

A rejected import re-renders the page (422) with its row errors and line numbers; nothing
is stored. The officer chooses the import's source (bureau upload or automatic monitoring
system); each listed import shows its source and, unless voided, a form to void it with a
reason (`POST /bureau/monitoring/imports/{id}/void`, audited); a district officer sees and
voids its district's imports only. Forms post and redirect (303); object ids travel as form
fields or query parameters. Routes never commit (each calls one use case).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from allocation import service as alloc
from compliance.errors import MonitoringImportRejected
from compliance.supervision import supervision_service as sup
from identity.roles import Principal
from kernel.clock import system_clock, trading_day
from kernel.errors import DomainError
from web import monitoring_words as words
from web.auth import csrf_protect, district_scope, ensure_permit_access, require
from web.errors import status_of
from web.i18n import translator
from web.messages import error_text
from web.pages import forms
from web.pages.base import _p, audit, see_other
from web.pages.render import lang_of, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Bureau = Depends(require("monitoring:write"))  # writes: the monitoring department
Text = Annotated[str | None, Query(max_length=22)]
IMPORTS_SHOWN = 20
CHECKS_SHOWN = 50
DAILY_SHOWN = 400
PERIODS = ("Y", "Q1", "Q2", "Q3", "Q4")
SOURCES = ("bureau", "automatic")  # what an officer may claim (enterprise: the trader's)
SOURCE_LABELS = {"bureau": "Bureau upload", "automatic": "Automatic monitoring system",
                 "enterprise": "Enterprise self-monitoring"}
#: uploads larger than this are refused before reading (the request guard may refuse earlier)
MAX_UPLOAD = 200 * 1024 * 1024


def _page(request: Request, status: int = 200, *, permit: str | None = None,
          first: str | None = None, last: str | None = None,
          **ctx: Any) -> HTMLResponse:
    uow = _p(request).uow
    q_errors = forms.FieldErrors()
    d_first = forms.day(first, "first", q_errors, required=False)
    d_last = forms.day(last, "last", q_errors, required=False)
    if d_last is None:
        d_last = trading_day(system_clock())
    if d_first is None:
        d_first = d_last - timedelta(days=30)
    daily = totals = None
    if permit and not q_errors:
        try:
            daily = sup.daily_emissions(uow(), permit=permit, first=d_first, last=d_last,
                                        limit=DAILY_SHOWN)
            totals = sup.monitoring_totals(uow(), permit=permit, first=d_first, last=d_last)
        except DomainError as exc:
            q_errors.add("permit" if exc.field == "permit" else "form",
                         error_text(exc))
    ctx.setdefault("forms", {"import": {}, "check": {}, "void": {}})
    ctx.setdefault("errors", {"import": {}, "check": {}, "void": {}})
    ctx.setdefault("import_errors", None)
    return render(
        request, "supervision_monitoring.html", status_code=status,
        imports=sup.imports(uow(), limit=IMPORTS_SHOWN, district=district_scope(request)),
        SOURCES=SOURCES, SOURCE_LABELS=SOURCE_LABELS,
        deviations=sup.report_checks(uow(), status="deviation", limit=CHECKS_SHOWN),
        query={"permit": permit or "", "first": d_first.isoformat(),
               "last": d_last.isoformat()},
        query_errors=q_errors, daily=daily, totals=totals, PERIODS=PERIODS, **ctx)


@router.get("/bureau/monitoring", response_class=HTMLResponse)
def monitoring(request: Request, permit: Text = None,
               first: Annotated[str | None, Query(max_length=10)] = None,
               last: Annotated[str | None, Query(max_length=10)] = None,
               user: Principal = Bureau) -> HTMLResponse:
    return _page(request, permit=(permit or "").strip() or None, first=first, last=last)


def _enterprise_names(request: Request, out: dict[str, Any]) -> dict[str, str]:
    """Names of the enterprises whose alert breaches the import's message lists."""
    names: dict[str, str] = {}
    for code in sorted({c["enterprise"] for c in out.get("alert_clues", [])[:words.SHOWN]}):
        try:
            names[code] = str(alloc.enterprise_view(_p(request).read_uow(), code)["name"])
        except DomainError:
            continue
    return names


@router.post("/bureau/monitoring/imports", response_model=None)
def import_monitoring(request: Request, csv_text: Annotated[str, Form()] = "",
                      partial: Annotated[str, Form()] = "",
                      source: Annotated[str, Form()] = "bureau",
                      file: Annotated[UploadFile | None, File()] = None,
                      user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    errors = forms.FieldErrors()
    data: bytes | None = None
    if file is not None and file.filename:
        data = file.file.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            errors.add("file", f"at most {MAX_UPLOAD // 2**20} MB")
    if not data and not errors:
        if csv_text.strip():
            data = csv_text.encode("utf-8")
        else:
            errors.add("file", "choose a CSV file or paste its text")
    forms.choice(source, "source", errors, SOURCES)
    form = {"csv_text": csv_text if len(csv_text) < 100_000 else "", "partial": partial,
            "source": source}
    audit(request, "import_monitoring", None, f"partial={partial == 'on'}")
    status, import_errors = 422, None  # type: int, dict[str, Any] | None
    if not errors and data is not None:
        try:
            out = sup.import_monitoring(_p(request).uow(), csv_data=data,
                                        partial=partial == "on", actor=user.username,
                                        district=user.district, source=source)
        except MonitoringImportRejected as exc:
            items: Any = exc.details.get("errors", [])
            tr = translator(lang_of(request))
            import_errors = {"count": exc.details.get("error_count", 0),
                             "items": [dict(e, detail=words.row_detail(str(e["detail"]), tr))
                                       for e in items[:200]]}
            errors.add("form", error_text(exc))
        except DomainError as exc:
            errors.add("form", error_text(exc))
            status = status_of(exc)
        else:
            request.state.audit["target"] = str(out["id"])
            lang = lang_of(request)
            return see_other("/bureau/monitoring", msg=words.import_message(
                out, translator(lang), lang, _enterprise_names(request, out)))
    return _page(request, status, forms={"import": form, "check": {}, "void": {}},
                 errors={"import": errors, "check": {}, "void": {}},
                 import_errors=import_errors)


@router.post("/bureau/monitoring/imports/{import_id}/void", response_model=None)
def void_import(request: Request, import_id: int, reason: Annotated[str, Form()] = "",
                user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    """Void an import with a reason (recorded, never deleted); see `sup.void_import`."""
    errors = forms.FieldErrors()
    text = forms.text(reason, "reason", errors, max_len=500)
    audit(request, "void_monitoring_import", str(import_id), (reason or "")[:200])
    status = 422
    if not errors and 1 <= import_id < 2**63:
        try:
            out = sup.void_import(_p(request).uow(), import_id=import_id, reason=text,
                                  actor=user.username, district=district_scope(request))
        except DomainError as exc:
            errors.add("form", error_text(exc))
            status = status_of(exc)
        else:
            return see_other("/bureau/monitoring", msg=(
                f"import #{import_id} voided: {out['voided_rows']} daily rows no longer "
                f"count, {out['restored_rows']} superseded rows count again"))
    elif not errors:
        errors.add("form", f"monitoring_import_not_found: no monitoring import #{import_id}")
        status = 404
    return _page(request, status, forms={"import": {}, "check": {}, "void": {"id": import_id,
                                                                       "reason": reason}},
                 errors={"import": {}, "check": {}, "void": errors})


@router.post("/bureau/monitoring/report-checks", response_model=None)
def check_reports(request: Request, permit: Annotated[str, Form()] = "",
                  year: Annotated[str, Form()] = "", period: Annotated[str, Form()] = "",
                  tolerance_pct: Annotated[str, Form()] = "",
                  user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    form = dict(permit=permit, year=year, period=period, tolerance_pct=tolerance_pct)
    errors = forms.FieldErrors()
    permit = forms.text(permit, "permit", errors, max_len=22)
    y = forms.whole(year, "year", errors, lo=1990, hi=2200)
    forms.choice(period, "period", errors, PERIODS)
    tol = forms.text(tolerance_pct, "tolerance_pct", errors, max_len=12, required=False)
    audit(request, "check_reports", permit, f"{year} {period}")
    status = 422
    if not errors and y is not None:
        try:
            ensure_permit_access(user, permit)
            out = sup.check_reports(_p(request).uow(), permit=permit, year=y, period=period,
                                    tolerance_pct=tol or None, actor=user.username)
        except DomainError as exc:
            errors.add(exc.field if exc.field in ("permit", "period", "tolerance_pct")
                       else "form", error_text(exc))
            status = status_of(exc)
        else:
            return see_other("/bureau/monitoring", msg=(
                f"{permit} {y} {period}: {len(out['lines'])} lines checked, "
                f"{out['deviations']} deviations"))
    return _page(request, status, forms={"import": {}, "check": form, "void": {}},
                 errors={"import": {}, "check": errors, "void": {}})
