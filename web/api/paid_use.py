"""JSON API of the paid use of rights (有偿使用) under /api/v1 (issue 17).

- ``GET /paid-use/bills``: the bureau sees every bill, a trader its enterprise's (filters:
  status, overdue, permit); amounts in fen, quantities in kg, prices in fen per tonne.
- ``POST /paid-use/bills/{bill_id}/pay``: a trader pays its enterprise's bill (another
  enterprise's bill is 404); paying a paid bill answers it unchanged (``replayed``).
- ``GET /paid-use/base-prices``: the base-price table, unpublished prices marked as such.
- ``POST /paid-use/unit-kinds``: the bureau records a permit's unit kind.
- ``POST /paid-use/plans/{plan_id}/prices``: the bureau prices a planned reserve release.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import Field

from allocation import paid_use_service as paid_use
from identity.roles import Principal
from web.api.common import READ, WRITE, Strict
from web.api.common import audit as _audit
from web.api.common import own_enterprise as _own
from web.api.common import platform as _p
from web.api.models import Price
from web.auth import csrf_protect, district_scope, ensure_permit_access, require

router = APIRouter(dependencies=[Depends(csrf_protect)], tags=["paid use"])
Id = Annotated[int, Path(ge=1, le=2**53)]


@router.get("/paid-use/bills", responses=READ)
def bills(request: Request,
          status: Annotated[Literal["unpaid", "paid", "cancelled"] | None, Query()] = None,
          overdue: bool = False,
          permit: Annotated[str | None, Query(max_length=22)] = None,
          offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
          limit: Annotated[int, Query(ge=1, le=1000)] = 100,
          user: Principal = Depends(require("enterprise:read"))) -> dict[str, Any]:
    """Paid-use bills, newest first: the bureau's list (every enterprise; a district
    officer: its district's) or a trader's own. ``overdue=true`` keeps unpaid bills past
    their due date (Beijing date)."""
    return paid_use.list_bills(_p(request).uow(), enterprise=_own(user), permit=permit,
                               status=status, overdue=overdue, offset=offset, limit=limit,
                               district=district_scope(request))


@router.post("/paid-use/bills/{bill_id}/pay", responses=WRITE)
def pay(request: Request, bill_id: Id,
        user: Principal = Depends(require("order:place"))) -> dict[str, Any]:
    """Pay a bill from the enterprise's cash account to the bureau's revenue account."""
    _audit(request, "pay_paid_use_bill", str(bill_id))
    return paid_use.pay_bill(_p(request).uow(), bill_id=bill_id, actor=user.username,
                             enterprise=user.enterprise or "")


@router.get("/paid-use/base-prices")
def base_prices() -> list[dict[str, Any]]:
    """Base prices (fen per tonne) by pollutant; ``price`` null where not published."""
    return paid_use.base_prices()


class UnitKindIn(Strict):
    permit: str = Field(min_length=1, max_length=22)
    unit_kind: Literal["existing", "new", "expanded"]


@router.post("/paid-use/unit-kinds", responses=WRITE)
def unit_kind(request: Request, body: UnitKindIn,
              user: Principal = Depends(require("rights:confirm"))) -> dict[str, Any]:
    """Record a permit's unit kind: new and expanded units obtain rights only by purchase."""
    ensure_permit_access(user, body.permit)
    _audit(request, "set_unit_kind", body.permit, body.unit_kind)
    return paid_use.set_unit_kind(_p(request).uow(), permit=body.permit,
                                  unit_kind=body.unit_kind)


class PricesIn(Strict):
    prices: dict[str, Annotated[Price, Field(ge=0)]] = Field(min_length=1, max_length=10,
                                   description="pollutant -> fen per tonne",
                                   examples=[{"SO2": 150_000}])


@router.post("/paid-use/plans/{plan_id}/prices", responses=WRITE)
def plan_prices(request: Request, plan_id: Id, body: PricesIn,
                user: Principal = Depends(require("rights:confirm"))) -> dict[str, Any]:
    """Price a planned reserve release per pollutant (never below a published base
    price); each grantee pays qty × price at release."""
    _audit(request, "price_reserve_plan", str(plan_id),
           ", ".join(f"{k} {v}" for k, v in body.prices.items()))
    return paid_use.set_plan_prices(_p(request).uow(), plan_id=plan_id, prices=body.prices)
