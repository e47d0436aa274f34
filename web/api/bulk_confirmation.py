"""JSON API of bulk rights confirmation under /api/v1 (issue 18).

- `GET /confirmations/queue`: the permits waiting for confirmation for a year (default: this
  Beijing year), filtered by district, zone, sector and state (`waiting`: nothing confirmed
  yet, `partial`, `confirmed`; default: waiting or partial). A district officer sees its
  district only.
- `POST /confirmations/batch` `{permits, year}`: every waiting pollutant of the permits,
  confirmed in one transaction (201 with each permit and pollutant), or, when the approval
  policy asks a second officer for `confirmation`, one approval request for the whole batch
  (202), checked in full first and carrying the quantities the second officer approves.
  A permit that does not exist or lies outside the officer's district (404
  `permit_not_found`), cannot carry rights that year (409 `permit_expired` …) or has nothing
  waiting (409 `permit_not_awaiting_confirmation`) refuses the whole batch; `field` names it
  (`permits[i]`) and nothing is confirmed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from allocation import bulk_confirmation as bulk
from identity.roles import Principal
from kernel.clock import system_clock, trading_day
from web import approvals
from web.api.common import READ, WRITE, Strict
from web.api.common import audit as _audit
from web.api.common import platform as _p
from web.api.models import ApprovalOut
from web.auth import csrf_protect, require

router = APIRouter(dependencies=[Depends(csrf_protect)])
Confirm = Depends(require("rights:confirm"))
Code = Annotated[str, Field(min_length=1, max_length=22, pattern=r"^[0-9A-Za-z]+$")]
Filter = Annotated[str | None, Query(max_length=30)]


class QueueQuantity(BaseModel):
    pollutant: str
    zone: str
    zone_name: str
    permitted_kg: int
    cap_kg: int
    allocated_kg: int
    confirmed: bool


class QueueItem(BaseModel):
    code: str
    enterprise: str
    enterprise_name: str
    sector: str
    district: str
    district_name: str
    state: Literal["waiting", "partial", "confirmed"]
    waiting: list[str] = Field(description="pollutants whose permitted quantity waits")
    waiting_kg: int = Field(description="their permitted quantities, kg")
    quantities: list[QueueQuantity]


class QueuePage(BaseModel):
    total: int
    offset: int
    limit: int
    year: int
    items: list[QueueItem]


class BatchIn(Strict):
    permits: list[Code] = Field(min_length=1, max_length=bulk.MAX_PERMITS,
                                description="permit codes; every waiting pollutant of each")
    year: int = Field(ge=2000, le=2100)


class BatchItemOut(BaseModel):
    permit: str
    enterprise_name: str
    pollutant: str
    year: int
    qty_kg: int
    permitted_before_kg: int
    permitted_after_kg: int
    transfer_id: str


class BatchOut(BaseModel):
    year: int
    permits: int
    total_kg: int
    items: list[BatchItemOut]


def this_year() -> int:
    return trading_day(system_clock()).year


@router.get("/confirmations/queue", tags=["bureau"], response_model=QueuePage, responses=READ)
def queue(request: Request, year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
          district: Filter = None, zone: Filter = None, sector: Filter = None,
          state: Annotated[Literal["waiting", "partial", "confirmed"] | None, Query()] = None,
          offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
          limit: Annotated[int, Query(ge=1, le=1000)] = 100,
          user: Principal = Confirm) -> dict[str, Any]:
    if user.is_bureau and user.district is not None:
        district = user.district
    return bulk.confirmation_queue(_p(request).read_uow(), year=year or this_year(),
                                   district=district or None, zone=zone or None,
                                   sector=sector or None, state=state, offset=offset,
                                   limit=limit)


def run_batch(request: Request, user: Principal, permits: list[str], year: int
              ) -> tuple[str, dict[str, Any]]:
    """("done", result) or ("pending", approval): the pages' and the API's one path."""
    codes = list(dict.fromkeys(permits))
    summary = (f"confirm every waiting pollutant of {len(codes)} permits for {year}: "
               + ", ".join(codes[:5]) + (" …" if len(codes) > 5 else ""))
    _audit(request, "confirm_permits", codes[0] if codes else None, summary[:200])
    return approvals.run_or_request(
        _p(request), user, tx_type="confirmation", action="confirm_permits",
        target=codes[0] if codes else "", summary=summary,
        payload=dict(permits=codes, year=year,
                     district=user.district if user.is_bureau else None))


@router.post("/confirmations/batch", tags=["bureau"], status_code=201, response_model=BatchOut,
             responses={**WRITE, 202: {"model": ApprovalOut,
                                       "description": "a second officer must approve"}})
def batch(request: Request, body: BatchIn, user: Principal = Confirm) -> Any:
    outcome, result = run_batch(request, user, list(body.permits), body.year)
    if outcome == "pending":
        request.state.audit["action"] = "request_approval"
        return JSONResponse(ApprovalOut.model_validate(result).model_dump(), status_code=202)
    return result
