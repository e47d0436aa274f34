"""JSON API of market surveillance under /api/v1: the unusual-trade flags of
`trading.surveillance` (price far from the reference, self-dealing, round trips), newest
first, paginated. Bureau only (``market:state``), like the `/bureau/markets/flags` page.
The route never commits: it calls one read use case."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from identity.roles import Principal
from trading import service as trading
from web.api.common import platform as _p
from web.api.models import ErrorBody
from web.auth import csrf_protect, district_scope, require

router = APIRouter(dependencies=[Depends(csrf_protect)], tags=["surveillance"])

FlagKind = Literal["price_deviation", "self_dealing", "round_trip"]


class FlagOut(BaseModel):
    kind: FlagKind
    market: str
    deal: str = Field(description="the trade (`book #12`, `listing #3`) or `transfer <id>`")
    venue: str
    at: str
    seller: str
    buyer: str
    qty: int = Field(description="kg")
    price: int = Field(description="fen per tonne")
    ref_price: int | None = Field(description="the market's reference price, fen per tonne")
    deviation_pct: str | None = Field(description="|price − reference| in % of the reference, "
                                                  "one decimal (price_deviation only)")
    other: str | None = Field(description="the other leg (round_trip only)")


class FlagPage(BaseModel):
    total: int
    offset: int
    limit: int
    next_offset: int | None
    items: list[FlagOut]


@router.get("/surveillance/flags", response_model=FlagPage,
            responses={c: {"model": ErrorBody} for c in (401, 403, 422)})
def flags(request: Request,
          pct: Annotated[int, Query(ge=1, le=1000, description="price deviation threshold, %")
                         ] = 20,
          window_days: Annotated[int, Query(ge=1, le=366, description="round-trip window in "
                                            "trading days (1: the same day)")] = 1,
          qty_tolerance_pct: Annotated[int, Query(ge=0, le=100, description="round-trip legs' "
                                                  "quantities may differ by this % at most")
                                       ] = 20,
          kind: FlagKind | None = None,
          offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
          limit: Annotated[int, Query(ge=1, le=500)] = 100,
          _user: Principal = Depends(require("market:state"))) -> dict[str, Any]:
    found = trading.surveillance_flags(_p(request).uow(), pct=pct, window_days=window_days,
                                       qty_tolerance_pct=qty_tolerance_pct,
                                       district=district_scope(request))
    if kind is not None:
        found = [f for f in found if f.kind == kind]
    end = offset + limit
    return dict(total=len(found), offset=offset, limit=limit,
                next_offset=end if end < len(found) else None,
                items=[f.row() for f in found[offset:end]])
