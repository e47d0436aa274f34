"""The bureau's compliance page: per permit the year's true-up status (pending until it runs,
compliant, violation) with the vintages each line surrendered and any deduction from next
year, paginated and filtered by status; a form that runs a permit's true-up (optionally
deducting the shortfall from next year); and the violations with their shortfall, the
deducted and outstanding parts and the Regulation Art. 34 penalty range.

Works without JavaScript: the form posts, then redirects; a rejected form re-renders with
its field errors and a 4xx status."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from compliance.reporting import service as compliance
from identity.roles import Principal
from kernel.clock import system_clock, trading_day
from kernel.errors import DomainError
from web.auth import csrf_protect, district_scope, ensure_permit_access, require
from web.errors import status_of
from web.messages import confirm, error_text
from web.pages import forms
from web.pages.base import _p, audit, see_other
from web.pages.render import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Bureau = Depends(require("rights:confirm"))
PAGE = 50
STATUSES = compliance.TRUE_UP_STATUSES
#: statuses as shown ("pending" and "open" alone would read as an approval's or a market's)
LABEL = {"pending": "not trued up", "compliant": "compliant", "violation": "violation",
         "open": "open violation"}


def _page(request: Request, status: int = 200, *, year: int, flt: str | None = None,
          page: int = 1, vpage: int = 1, form: dict[str, str] | None = None,
          errors: forms.FieldErrors | None = None) -> HTMLResponse:
    p = _p(request)
    ups = compliance.true_up_list(p.uow(), year=year, status=flt, offset=(page - 1) * PAGE,
                                  limit=PAGE, district=district_scope(request))
    vio = compliance.violation_list(p.uow(), year=year, offset=(vpage - 1) * PAGE,
                                    limit=PAGE, district=district_scope(request))
    base = {"year": year, **({"status": flt} if flt else {})}
    return render(request, "compliance_bureau.html", status_code=status, year=year,
                  flt=flt or "", ups=ups, vio=vio, page=page,
                  pages=max(1, -(-int(ups["total"]) // PAGE)), vpage=vpage,
                  vpages=max(1, -(-int(vio["total"]) // PAGE)),
                  pager_base="/bureau/compliance?" + urlencode({**base, "vpage": vpage}) + "&",
                  vpager_base="/bureau/compliance?" + urlencode({**base, "page": page}) + "&",
                  STATUSES=STATUSES, LABEL=LABEL, form=form or {"year": str(year)},
                  errors=errors or {})


@router.get("/bureau/compliance", response_class=HTMLResponse)
def compliance_page(request: Request,
                    year: Annotated[int | None, Query(ge=1990, le=2200)] = None,
                    status: Annotated[str | None, Query(
                        pattern="^(pending|compliant|violation)?$")] = None,
                    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                    vpage: Annotated[int, Query(ge=1, le=100_000)] = 1,
                    user: Principal = Bureau) -> HTMLResponse:
    y = year if year is not None else trading_day(system_clock()).year - 1
    return _page(request, year=y, flt=status or None, page=page, vpage=vpage)


@router.post("/bureau/compliance/true-ups", response_model=None)
def run_true_up(request: Request, permit: Annotated[str, Form()] = "",
                year: Annotated[str, Form()] = "",
                deduct_next_year: Annotated[str, Form()] = "",
                override_reason: Annotated[str, Form()] = "",
                user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    form: dict[str, Any] = dict(permit=permit, year=year, deduct_next_year=deduct_next_year,
                                override_reason=override_reason)
    errors = forms.FieldErrors()
    permit = forms.text(permit, "permit", errors, max_len=22)
    y = forms.whole(year, "year", errors, lo=1990, hi=2200)
    deduct = deduct_next_year == "on"
    audit(request, "true_up", permit, f"{year} deduct_next_year={deduct}"
          + (f" override={override_reason.strip()}" if override_reason.strip() else ""))
    status = 422
    if not errors and y is not None:
        try:
            ensure_permit_access(user, permit)
            out = compliance.true_up(_p(request).uow(), permit=permit, year=y,
                                     actor=user.username, deduct_next_year=deduct,
                                     override_reason=override_reason or None)
        except DomainError as exc:
            errors.add(exc.field if exc.field in ("permit", "year", "override_reason")
                       else "form", error_text(exc))
            status = status_of(exc)
        else:
            deducted = sum(ln["deducted_kg"] for ln in out["lines"])
            over = sum(ln["exceedance_kg"] for ln in out["lines"])
            return see_other(f"/bureau/compliance?year={y}",
                             msg=confirm("True-up of {permit} {year}: {status}, "
                                         "exceedance {over} t, deducted {deducted} t.",
                                         permit=permit, year=y,
                                         status=("status", out["status"]), over_kg=over,
                                         deducted_kg=deducted))
    shown = y if y is not None else trading_day(system_clock()).year - 1
    return _page(request, status, year=shown, form=form, errors=errors)
