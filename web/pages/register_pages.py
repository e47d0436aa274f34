"""Pages of the permit register (issue 17), for the bureau: upload of a permit file (CSV or
Excel) with a preview of its row errors by line before anything is stored, the import
history, the permits within 60 days of expiry (renewal window), and the permit's life steps
(renewal, revocation, cancellation, a change of one quantity) with who and why.

Works without JavaScript: forms post, then redirect (or re-render with their errors and a 4xx
status). Times are shown in Beijing time, quantities in tonnes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from allocation import register_service as reg
from allocation.register import MANAGEMENT_CLASSES, OUTLET_TYPES, PermitFileRejected
from compliance.reporting.workbook import upload_text
from identity.roles import Principal
from kernel.beijing import beijing_time
from kernel.errors import DomainError
from web.api.register import run_step
from web.auth import city_bureau, csrf_protect, district_scope, ensure_permit_access, require
from web.errors import status_of
from web.messages import confirm, error_text
from web.pages import forms
from web.pages.base import _p, audit, see_other
from web.pages.render import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Bureau = Depends(require("rights:confirm"))
MAX_UPLOAD = 64 * 1024 * 1024
STEPS = ("renewal", "revocation", "cancellation", "change")
#: a permit's status as shown ("cancelled" alone reads as an order's)
STATUS_TEXT = {"valid": "Permit valid", "expired": "Permit expired",
               "revoked": "Permit revoked", "cancelled": "Permit cancelled"}


def _page(request: Request, status: int = 200, **ctx: Any) -> HTMLResponse:
    p = _p(request)
    ctx.setdefault("form", {})
    ctx.setdefault("fe", forms.FieldErrors())
    ctx.setdefault("step_fe", forms.FieldErrors())
    return render(request, "register_bureau.html", status_code=status,
                  imports=reg.list_imports(p.uow(), limit=30),
                  expiring=reg.expiring_permits(p.uow(), district=district_scope(request)),
                  STEPS=STEPS, **ctx)


@router.get("/bureau/permits", response_class=HTMLResponse)
def permits_page(request: Request, user: Principal = Bureau) -> HTMLResponse:
    return _page(request)


@router.post("/bureau/permits/imports", dependencies=[Depends(city_bureau)], response_model=None)
def upload(request: Request, file: Annotated[UploadFile | None, File()] = None,
           partial: Annotated[str, Form()] = "", preview: Annotated[str, Form()] = "",
           user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    fe = forms.FieldErrors()
    data = file.file.read(MAX_UPLOAD + 1) if file is not None else b""
    name = ((file.filename or "") if file is not None else "")[:200] or "upload.csv"
    audit(request, "permit_import", None, f"{name[:80]} partial={partial == 'on'} "
                                          f"preview={preview == 'on'}")
    if not data:
        fe.add("file", "choose a CSV or .xlsx file")
        return _page(request, 422, fe=fe)
    if len(data) > MAX_UPLOAD:
        fe.add("file", "the file is larger than 64 MB")
        return _page(request, 413, fe=fe)
    try:
        out = reg.import_permits(_p(request).uow(), text=upload_text(data, name),
                                 filename=name, actor=user.username,
                                 partial=partial == "on", dry_run=preview == "on")
    except PermitFileRejected as exc:
        fe.add("file", error_text(exc))
        return _page(request, 422, fe=fe, result=exc.details.get("summary"))
    except DomainError as exc:
        fe.add("file", error_text(exc))
        return _page(request, status_of(exc), fe=fe)
    if out["dry_run"] or out["errors"]:
        return _page(request, 200, result=out)
    return see_other(f"/bureau/permits/imports/{out['id']}",
                     msg=confirm("Permits imported: {new} new, {changed} changed, "
                                 "{same} unchanged.",
                                 new=out["permits_new"], changed=out["permits_changed"],
                                 same=out["permits_unchanged"]))


@router.get("/bureau/permits/imports/{import_id}", response_class=HTMLResponse)
def import_page(request: Request, import_id: Annotated[int, Path(ge=1, le=2**53)],
                user: Principal = Bureau) -> HTMLResponse:
    return render(request, "register_import.html",
                  imp=reg.import_view(_p(request).uow(), import_id))


@router.post("/bureau/permits/steps", response_model=None)
def step(request: Request, permit: Annotated[str, Form()] = "",
         step: Annotated[str, Form()] = "", on: Annotated[str, Form()] = "",
         valid_to: Annotated[str, Form()] = "", pollutant: Annotated[str, Form()] = "",
         year: Annotated[str, Form()] = "", qty_t: Annotated[str, Form()] = "",
         reason: Annotated[str, Form()] = "",
         user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    from allocation.register import tonnes_to_kg
    from allocation.register_service import parse_day

    form = dict(permit=permit, step=step, on=on, valid_to=valid_to, pollutant=pollutant,
                year=year, qty_t=qty_t, reason=reason)
    fe = forms.FieldErrors()
    audit(request, f"permit_{step[:20]}", permit[:40], reason[:200])
    uow = _p(request).uow()
    outcome = "done"
    try:
        if step not in STEPS:
            fe.add("step", "choose a step")
            return _page(request, 422, form=form, step_fe=fe)
        ensure_permit_access(user, permit.strip())
        if step == "renewal":
            out = reg.renew_permit(uow, permit=permit.strip(),
                                   applied_on=parse_day(on, "applied_on"),
                                   valid_to=parse_day(valid_to, "valid_to") if valid_to
                                   else None, actor=user.username, reason=reason)
            msg = f"renewed to {out['valid_to']}" + (" (applied late)" if out["late"] else "")
        elif step == "change":
            try:
                kg = tonnes_to_kg(qty_t.strip())
            except ValueError as exc:
                fe.add("qty_t", str(exc))
                return _page(request, 422, form=form, step_fe=fe)
            if not year.isdigit():
                fe.add("year", "year must be a number")
                return _page(request, 422, form=form, step_fe=fe)
            reason = reg.check_reason(reason)
            outcome, out = run_step(_p(request), user, "permit_change", dict(
                permit=permit.strip(), reason=reason,
                quantities=[dict(pollutant=pollutant, year=int(year), qty_kg=kg)]),
                f"change of {permit}: {pollutant} {year} → {kg} kg ({reason})")
            msg = f"changed {pollutant} {year}"
        else:
            reason = reg.check_reason(reason)
            day = parse_day(on, "on").isoformat() if on else None
            outcome, out = run_step(_p(request), user, "end_permit", dict(
                permit=permit.strip(), step=step, reason=reason, on=day),
                f"{step} of {permit} ({reason})")
            msg = str(out.get("status", ""))
        if step != "renewal" and outcome == "pending":
            msg = f"{step} awaits a second officer's approval (request {out['id']})"
    except DomainError as exc:
        f = exc.field or "permit"
        fe.add({"applied_on": "on", "permit_code": "permit"}.get(f, f.split(".")[-1]
                                                                  if "." in f else f),
               error_text(exc))
        return _page(request, status_of(exc), form=form, step_fe=fe)
    return see_other("/bureau/permits", msg=f"{permit}: {msg}")


def decorate(request: Request, permits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add to each permit view (allocation.service.permit_view) its register view and set
    the status shown: a permit past its validity is expired whatever its stored status."""
    views = reg.register_views(_p(request).read_uow(), [str(p["code"]) for p in permits])
    for p in permits:
        r = views.get(str(p["code"]))
        if r is not None:
            p["status"] = r["status"]
            p["status_text"] = STATUS_TEXT.get(r["status"], r["status"])
            for e in r["life"]:
                e["at_bj"] = beijing_time(e["at"])
            p["register"] = r
    return permits


#: the labels the permit section uses
LABELS = dict(MANAGEMENT=MANAGEMENT_CLASSES, OUTLETS=OUTLET_TYPES, STATUS_TEXT=STATUS_TEXT)
