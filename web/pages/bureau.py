"""Bureau workspace: rights confirmation (with second-officer approval when the policy asks
for it), surplus verification, ledger conservation, market surveillance, approvals and the
audit log."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from allocation import service as alloc
from identity import service as identity
from identity.roles import Principal
from kernel.errors import DomainError
from kernel.pollutants import Pollutant
from ledger import service as ledger_service
from web import approval_words, approvals
from web.auth import city_bureau, csrf_protect, district_scope, ensure_permit_access, require
from web.errors import status_of
from web.messages import confirm
from web.pages import forms
from web.pages.base import _p, audit, see_other
from web.pages.render import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Id = Annotated[int, Path(ge=1, le=2**53)]
Vintage = Annotated[int, Path(ge=1900, le=2200)]
POLLUTANTS = tuple(p.value for p in Pollutant)


def _bureau_page(request: Request, status: int = 200, **ctx: Any) -> HTMLResponse:
    p = _p(request)
    sums = ledger_service.asset_sums(p.read_uow())
    ctx.setdefault("forms", {"confirm": {}, "verify": {}})
    ctx.setdefault("errors", {})
    return render(request, "bureau.html", status_code=status, sums=sums,
                  nonzero=[a for a, v in sums.items() if v != 0],
                  confirm_needs_approval=identity.approval_required(p.read_uow(), "confirmation"),
                  **ctx)


@router.get("/bureau", response_class=HTMLResponse)
def bureau(request: Request,
           user: Principal = Depends(require("rights:confirm"))) -> HTMLResponse:
    return _bureau_page(request)


@router.post("/bureau/confirmations", response_model=None)
def bureau_confirm(request: Request, permit: Annotated[str, Form()] = "",
                   pollutant: Annotated[str, Form()] = "", year: Annotated[str, Form()] = "",
                   qty_kg: Annotated[str, Form()] = "",
                   user: Principal = Depends(require("rights:confirm"))
                   ) -> RedirectResponse | HTMLResponse:
    form = dict(permit=permit, pollutant=pollutant, year=year, qty_kg=qty_kg)
    errors = forms.FieldErrors()
    permit = forms.text(permit, "permit", errors, max_len=22)
    forms.choice(pollutant, "pollutant", errors, POLLUTANTS)
    y = forms.whole(year, "year", errors, lo=2000, hi=2100)
    qty = forms.whole(qty_kg, "qty_kg", errors, required=False)
    summary = f"confirm {qty or 'allocated'} kg {pollutant} {year} on {permit}"
    audit(request, "confirm_rights", permit, summary)
    status = 422
    if not errors and y is not None:
        p = _p(request)
        try:
            ensure_permit_access(user, permit)
            alloc.permit_view(p.read_uow(), permit, events=0)
            outcome, result = approvals.run_or_request(
                p, user, tx_type="confirmation", action="confirm_rights", target=permit,
                payload=dict(permit=permit, pollutant=pollutant, year=y, qty_kg=qty),
                summary=summary)
        except DomainError as exc:
            errors.from_domain(exc)
            status = status_of(exc)
        else:
            if outcome == "pending":
                request.state.audit["action"] = "request_approval"
                return see_other("/bureau", msg=approval_words.request_message(
                    request, p, result))
            return see_other("/bureau", msg=approval_words.done_message(
                request, p, "confirm_rights", dict(permit=permit, pollutant=pollutant,
                                                   year=y), result))
    return _bureau_page(request, status, forms={"confirm": form, "verify": {}},
                        errors={"confirm": errors})


@router.post("/bureau/surplus-verifications", response_model=None)
def bureau_verify(request: Request, permit: Annotated[str, Form()] = "",
                  pollutant: Annotated[str, Form()] = "", year: Annotated[str, Form()] = "",
                  qty_kg: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
                  user: Principal = Depends(require("rights:verify"))
                  ) -> RedirectResponse | HTMLResponse:
    form = dict(permit=permit, pollutant=pollutant, year=year, qty_kg=qty_kg, reason=reason)
    errors = forms.FieldErrors()
    permit = forms.text(permit, "permit", errors, max_len=22)
    forms.choice(pollutant, "pollutant", errors, POLLUTANTS)
    y = forms.whole(year, "year", errors, lo=2000, hi=2100)
    qty = forms.whole(qty_kg, "qty_kg", errors)
    why = forms.text(reason, "reason", errors, max_len=200, required=False) or \
        "verified reduction"
    audit(request, "verify_surplus", permit, f"{qty_kg} kg {pollutant} {year}: {why}")
    status = 422
    if not errors and y is not None and qty is not None:
        try:
            ensure_permit_access(user, permit)
            r = alloc.verify_surplus(_p(request).uow(), permit=permit, pollutant=pollutant,
                                     year=y, qty_kg=qty, actor=user.username, reason=why)
        except DomainError as exc:
            errors.from_domain(exc)
            status = status_of(exc)
        else:
            return see_other("/bureau", msg=confirm(
                "Verified {qty} t of surplus as tradable (permit {permit}).",
                qty_kg=-r.qty_kg, permit=permit))
    return _bureau_page(request, status, forms={"confirm": {}, "verify": form},
                        errors={"verify": errors})


@router.get("/bureau/markets", response_class=HTMLResponse)
def surveillance(request: Request,
                 user: Principal = Depends(require("market:state"))) -> HTMLResponse:
    from web.pages.market_halts import markets_page  # halts with a reason (issue 18)

    return markets_page(request)


@router.post("/bureau/markets/{pollutant}/{zone}/{vintage}/state", response_model=None)
def set_state(request: Request, pollutant: str, zone: str, vintage: Vintage,
              state: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
              confirm: Annotated[str, Form()] = "",
              user: Principal = Depends(require("market:state"))
              ) -> RedirectResponse | HTMLResponse:
    from web.pages.market_halts import change_state

    return change_state(request, user, f"{pollutant}/{zone}/{vintage}", state=state,
                        reason=reason, confirm=confirm)


def _pages(total: int, size: int) -> int:
    return max(1, -(-total // size))


@router.get("/bureau/approvals", response_class=HTMLResponse)
def approvals_page(request: Request,
                   status: Annotated[str | None, Query(max_length=10)] = None,
                   page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                   user: Principal = Depends(require("approval:read"))) -> HTMLResponse:
    size = 50
    p = _p(request)
    st = status if status in ("pending", "executing", "executed", "failed", "rejected") else None
    res = identity.approvals(p.read_uow(), status=st, offset=(page - 1) * size, limit=size,
                             district=district_scope(request))
    return render(request, "approvals.html", res=res, status=st or "",
                  words=approval_words.for_page(request, p, user, res["items"]),
                  policy=identity.approval_policy(p.read_uow()), page=page,
                  pages=_pages(res["total"], size),
                  pager_base="?" + urlencode({"status": st or ""}) + "&")


@router.post("/bureau/approvals/{approval_id}/approve", response_model=None)
def approve(request: Request, approval_id: Id,
            user: Principal = Depends(require("approval:decide"))) -> RedirectResponse:
    audit(request, "approve", str(approval_id))
    out = approvals.approve(_p(request), user, approval_id)
    request.state.audit["detail"] = f"{out['status']}: {out['result']}"[:500]
    return see_other("/bureau/approvals",
                     msg=approval_words.decision_message(request, _p(request), out))


@router.post("/bureau/approvals/{approval_id}/reject", response_model=None)
def reject(request: Request, approval_id: Id, reason: Annotated[str, Form()] = "",
           user: Principal = Depends(require("approval:decide"))) -> RedirectResponse:
    audit(request, "reject", str(approval_id), reason[:500])
    out = approvals.reject(_p(request), user, approval_id, reason[:500])
    return see_other("/bureau/approvals",
                     msg=approval_words.decision_message(request, _p(request), out))


@router.post("/bureau/approvals/policy", response_model=None)
def set_policy(request: Request, tx_type: Annotated[str, Form()] = "",
               required: Annotated[str, Form()] = "",
               user: Principal = Depends(require("approval:policy"))) -> RedirectResponse:
    audit(request, "set_approval_policy", tx_type, f"required={required}")
    outcome, result = approvals.set_policy(_p(request), user, tx_type, required == "true")
    if outcome == "pending":  # turning a requirement off needs a second officer too
        request.state.audit["action"] = "request_approval"
        return see_other("/bureau/approvals",
                         msg=approval_words.request_message(request, _p(request), result))
    return see_other("/bureau/approvals", msg=confirm(
        "Approval policy of {kind}: {required}.", kind=("approval_kind", tx_type),
        required=confirm("a second officer approves" if required == "true"
                         else "takes effect at once")))


@router.get("/bureau/audit", response_class=HTMLResponse, dependencies=[Depends(city_bureau)])
def audit_page(request: Request, actor: Annotated[str | None, Query(max_length=40)] = None,
               action: Annotated[str | None, Query(max_length=80)] = None,
               page: Annotated[int, Query(ge=1, le=100_000)] = 1,
               user: Principal = Depends(require("audit:read"))) -> HTMLResponse:
    size = 50
    res = identity.audit_page(_p(request).read_uow(), actor=actor or None, action=action or None,
                              offset=(page - 1) * size, limit=size)
    return render(request, "audit.html", res=res, actor=actor or "", action=action or "",
                  page=page, pages=_pages(res["total"], size),
                  pager_base="?" + urlencode({"actor": actor or "", "action": action or ""})
                  + "&")
