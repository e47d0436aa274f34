"""JSON API of the permit register under /api/v1 (issue 17).

Import of a permit file (CSV text, or CSV/.xlsx bytes in base64) with row errors by line,
the import history, the permit's register view (content, outlets, life, shown status: public,
as the disclosure shows it) and its life steps for the bureau: change, renewal, revocation,
cancellation. Routes never commit; each calls one use case of `allocation.register_service`.

A change, revocation or cancellation may recover confirmed rights to the reserve (ledger type
"recovery"): when the approval policy asks a second officer for "recovery" (the default), the
answer is 202 with the approval request and the step runs when another officer approves it.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from allocation import register_service as reg
from allocation.register import PermitFileRejected
from compliance.reporting.workbook import upload_text
from identity.roles import Principal
from kernel.errors import InvalidInput
from web import approvals
from web.api.common import READ, WRITE, Strict, audit
from web.api.common import platform as _p
from web.api.models import Day
from web.auth import city_bureau, csrf_protect, district_scope, ensure_permit_access, require

router = APIRouter(dependencies=[Depends(csrf_protect)], tags=["permits"])
Bureau = Depends(require("rights:confirm"))
Code = Annotated[str, Path(min_length=1, max_length=40)]
Id = Annotated[int, Path(ge=1, le=2**53)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]


class ImportBody(Strict):
    filename: Annotated[str, Field(min_length=1, max_length=200)] = "upload.csv"
    #: the CSV text, or
    content: Annotated[str | None, Field(max_length=64 * 1024 * 1024)] = None
    #: the file's bytes (CSV or .xlsx) in base64
    content_base64: Annotated[str | None, Field(max_length=90 * 1024 * 1024)] = None
    partial: bool = False
    dry_run: bool = False


class QuantityItem(Strict):
    pollutant: Annotated[str, Field(max_length=10)]
    year: Annotated[int, Field(ge=1990, le=2200)]
    qty_kg: Annotated[int, Field(ge=0, le=10**13)]


class ChangeBody(Strict):
    quantities: Annotated[list[QuantityItem], Field(min_length=1, max_length=500)]
    reason: Reason


class RenewalBody(Strict):
    applied_on: Day
    valid_to: Day | None = None
    reason: Reason


class EndBody(Strict):
    on: Day | None = None
    reason: Reason


def import_text(body: ImportBody) -> str:
    if body.content is not None:
        return body.content
    if body.content_base64 is None:
        raise InvalidInput("give content (CSV text) or content_base64", field="content")
    try:
        data = base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("content_base64 is not base64", field="content_base64") from None
    return upload_text(data, body.filename)


@router.post("/permit-imports", dependencies=[Depends(city_bureau)], responses=WRITE)
def import_permits(request: Request, body: ImportBody, user: Principal = Bureau) -> Any:
    """Import a permit file: all or nothing unless `partial`; `dry_run` checks only. A file
    with row errors (and not partial) answers 422 `bad_permit_file` with `errors`: each
    `{line, field, code, message, permit}`; nothing is stored but the import's record."""
    text = import_text(body)
    audit(request, "permit_import", body.filename, "dry run" if body.dry_run else None)
    try:
        return reg.import_permits(_p(request).uow(), text=text, filename=body.filename,
                                  actor=user.username, partial=body.partial,
                                  dry_run=body.dry_run)
    except PermitFileRejected as exc:
        summary = dict(exc.details.get("summary") or {})  # type: ignore[call-overload]
        return JSONResponse(status_code=422, content={
            "error": exc.code, "detail": exc.message, "field": exc.field, **summary})


@router.get("/permit-imports", responses=READ)
def imports(request: Request, _user: Principal = Bureau) -> list[dict[str, Any]]:
    return reg.list_imports(_p(request).uow())


@router.get("/permit-imports/{import_id}", responses=READ)
def import_view(request: Request, import_id: Id, _user: Principal = Bureau) -> dict[str, Any]:
    return reg.import_view(_p(request).uow(), import_id)


@router.get("/permit-register/expiring", responses=READ)
def expiring(request: Request, _user: Principal = Bureau) -> list[dict[str, Any]]:
    """Valid permits within 60 days of expiry (or past it) and not renewed (a district
    officer: its district's)."""
    return reg.expiring_permits(_p(request).uow(), district=district_scope(request))


@router.get("/permits/{code}/register", responses=READ)
def register_view(request: Request, code: Code) -> dict[str, Any]:
    """The permit's content as disclosed: management class, industry, EIA approval,
    outlets by type, noise, solid waste, its life, and its status as shown (a permit past
    its validity is `expired` whatever its stored status)."""
    return reg.register_view(_p(request).read_uow(), code)


def _change(platform: Any, payload: dict[str, Any], actor: str) -> dict[str, Any]:
    return reg.change_permit(platform.uow(), permit=payload["permit"], actor=actor,
                             reason=payload["reason"], quantities=payload["quantities"])


def _end(platform: Any, payload: dict[str, Any], actor: str) -> dict[str, Any]:
    on = payload.get("on")
    return reg.end_permit(platform.uow(), permit=payload["permit"], step=payload["step"],
                          on=date.fromisoformat(on) if on else None, actor=actor,
                          reason=payload["reason"])


approvals.register("permit_change", _change)
approvals.register("end_permit", _end)
APPROVAL: dict[int | str, dict[str, Any]] = {
    202: {"description": "a second officer must approve (rights are recovered)"}}


def run_step(platform: Any, user: Principal, action: str, payload: dict[str, Any],
             summary: str) -> tuple[str, dict[str, Any]]:
    """Check the permit exists and is active, then run the step or ask a second officer."""
    reg.check_active(platform.uow(), payload["permit"],
                     allowed=reg.END_STEPS[payload["step"]][1] if "step" in payload
                     else ("valid",))
    return approvals.run_or_request(platform, user, tx_type="recovery", action=action,
                                    target=payload["permit"], payload=payload,
                                    summary=summary)


def _answer(outcome: str, result: dict[str, Any], response: Response) -> dict[str, Any]:
    if outcome == "pending":
        response.status_code = 202
    return result


@router.post("/permits/{code}/changes", responses={**WRITE, **APPROVAL})
def change(request: Request, response: Response, code: Code, body: ChangeBody,
           user: Principal = Bureau) -> dict[str, Any]:
    """A permit change (变更) of quantities; confirmed rights above a lowered limit go back
    to the reserve in the same transaction."""
    ensure_permit_access(user, code)
    audit(request, "permit_change", code, body.reason)
    items = [q.model_dump() for q in body.quantities]
    what = ", ".join(f"{q['pollutant']} {q['year']} → {q['qty_kg']} kg" for q in items[:5])
    return _answer(*run_step(_p(request), user, "permit_change",
                             dict(permit=code, quantities=items, reason=body.reason),
                             f"change of {code}: {what} ({body.reason})"), response)


@router.post("/permits/{code}/renewals", responses=WRITE)
def renew(request: Request, code: Code, body: RenewalBody,
          user: Principal = Bureau) -> dict[str, Any]:
    """Renewal (延续): applied for 60 days before expiry, else flagged late; after expiry
    409 `renewal_after_expiry`."""
    ensure_permit_access(user, code)
    audit(request, "permit_renewal", code, body.reason)
    return reg.renew_permit(_p(request).uow(), permit=code, applied_on=body.applied_on,
                            valid_to=body.valid_to, actor=user.username, reason=body.reason)


def _end_route(request: Request, response: Response, code: str, body: EndBody, user: Principal,
               step: str) -> dict[str, Any]:
    ensure_permit_access(user, code)
    audit(request, f"permit_{step}", code, body.reason)
    payload = dict(permit=code, step=step, reason=body.reason,
                   on=body.on.isoformat() if body.on else None)
    return _answer(*run_step(_p(request), user, "end_permit", payload,
                             f"{step} of {code} ({body.reason})"), response)


@router.post("/permits/{code}/revocations", responses={**WRITE, **APPROVAL})
def revoke(request: Request, response: Response, code: Code, body: EndBody,
           user: Principal = Bureau) -> dict[str, Any]:
    """Revocation (撤销): rights of vintages after the year of `on` go back to the reserve."""
    return _end_route(request, response, code, body, user, "revocation")


@router.post("/permits/{code}/cancellations", responses={**WRITE, **APPROVAL})
def cancel(request: Request, response: Response, code: Code, body: EndBody,
           user: Principal = Bureau) -> dict[str, Any]:
    """Cancellation (注销), as revocation for its rights."""
    return _end_route(request, response, code, body, user, "cancellation")
