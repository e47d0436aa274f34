"""JSON API, version 1. Each route checks who may call it (web.auth), then calls one use
case; routes never commit. Every POST that creates something takes `Idempotency-Key`
(handled by web.middleware.Idempotency). Lists are paginated with offset and limit.

Access (see identity.roles.PERMISSIONS): public data (registry search, permits, markets,
prices) needs no credentials; an enterprise's private data needs the bureau or that
enterprise's trader; bureau actions need a bureau role.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from allocation import service as alloc
from allocation.public import public_permit
from identity import service as identity
from identity.roles import Principal
from ledger import service as ledger_service
from trading import service as trading
from trading.market import OrderNotFound
from web import approvals
from web.api.common import WRITE
from web.api.common import audit as _audit
from web.api.common import errors as _err
from web.api.common import platform as _p
from web.api.models import (
    ApprovalOut,
    ApprovalPage,
    AuditPage,
    CancelIn,
    ConfirmIn,
    EnterpriseDetail,
    EnterprisePage,
    MarketOut,
    MarketStateIn,
    MarketStateOut,
    MarketView,
    MeOut,
    OrderIn,
    OrderOut,
    OrderPage,
    PathId,
    PermitOut,
    PolicyIn,
    PolicyOut,
    PricePoint,
    RejectIn,
    RightsChangeOut,
    TokenCreated,
    TokenIn,
    TokenOut,
    TradePage,
    UserActiveIn,
    UserIn,
    UserOut,
    UserPage,
    UserScopeIn,
    VerifyIn,
)
from web.auth import (
    LANG_COOKIE,
    city_bureau,
    csrf_protect,
    current_user,
    district_scope,
    ensure_enterprise_access,
    ensure_permit_access,
    require,
    require_user,
)
from web.middleware import audit_row
from web.statements import trades_csv

router = APIRouter(dependencies=[Depends(csrf_protect)])
Id = Annotated[int, Path(ge=1, le=2**53)]
Vintage = Annotated[int, Path(ge=1900, le=2200)]


PUBLIC = _err(404, 422)
AUTH = _err(401, 403, 404, 422)
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200,
                                       description="repeat-safe POST: same key, same result")]


def _window(rows: list[dict[str, Any]], offset: int, limit: int) -> dict[str, Any]:
    items = rows[offset:offset + limit]
    more = len(rows) > offset + limit
    return dict(offset=offset, limit=limit, items=items,
                next_offset=offset + limit if more else None)


Offset = Annotated[int, Query(ge=0, le=5000)]
Limit = Annotated[int, Query(ge=1, le=500)]


# who am I ----------------------------------------------------------------------------------

@router.get("/me", tags=["identity"], response_model=MeOut, responses=_err(401))
def me(user: Principal = Depends(require_user)) -> dict[str, Any]:
    return dict(username=user.username, display_name=user.display_name, role=user.role.value,
                enterprise=user.enterprise, via=user.via)


# registry ----------------------------------------------------------------------------------

@router.get("/enterprises", tags=["registry"], response_model=EnterprisePage, responses=PUBLIC)
def list_enterprises(request: Request, q: str | None = Query(None, max_length=100),
                     sector: str | None = Query(None, max_length=30),
                     district: str | None = Query(None, max_length=20),
                     offset: Offset = 0, limit: Limit = 50,
                     _user: Principal | None = Depends(current_user)) -> dict[str, Any]:
    """Public registry: name, credit code, sector, district and status of every enterprise."""
    return alloc.search_enterprises(_p(request).uow(), q=q, sector=sector, district=district,
                                    offset=offset, limit=limit)


@router.get("/enterprises/{code}", tags=["registry"], response_model=EnterpriseDetail,
            responses=AUTH)
def get_enterprise(request: Request, code: PathId,
                   user: Principal = Depends(require("enterprise:read"))) -> dict[str, Any]:
    ensure_enterprise_access(user, code)
    p = _p(request)
    view = alloc.enterprise_view(p.uow(), code)
    permit_codes = [x["code"] for x in view["permits"]]  # type: ignore[attr-defined]
    view["holdings"] = ledger_service.holdings(p.uow(), [code, *permit_codes])
    return view


@router.get("/enterprises/{code}/orders", tags=["trading"], response_model=OrderPage,
            responses=AUTH)
def enterprise_orders(request: Request, code: PathId, offset: Offset = 0, limit: Limit = 100,
                      user: Principal = Depends(require("enterprise:read"))) -> dict[str, Any]:
    ensure_enterprise_access(user, code)
    p = _p(request)
    alloc.enterprise_view(p.uow(), code)
    return _window(trading.orders_of(p.uow(), code, offset + limit + 1), offset, limit)


@router.get("/enterprises/{code}/trades", tags=["trading"], response_model=TradePage,
            responses=AUTH)
def enterprise_trades(request: Request, code: PathId, offset: Offset = 0, limit: Limit = 100,
                      user: Principal = Depends(require("enterprise:read"))) -> dict[str, Any]:
    ensure_enterprise_access(user, code)
    p = _p(request)
    alloc.enterprise_view(p.uow(), code)
    return _window(trading.trades_of(p.uow(), code, offset + limit + 1), offset, limit)


@router.get("/enterprises/{code}/statements/trades.csv", tags=["trading"], responses={
    **AUTH, 200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                  "description": "the enterprise's trades, newest first"}},
    response_class=Response)
def enterprise_statement(request: Request, code: PathId,
                         user: Principal = Depends(require("enterprise:read"))) -> Response:
    ensure_enterprise_access(user, code)
    p = _p(request)
    alloc.enterprise_view(p.uow(), code)
    # headers in the caller's page language (the cookie; Chinese without one)
    lang = "en" if request.cookies.get(LANG_COOKIE) == "en" else "zh"
    return trades_csv(code, trading.trades_of(p.uow(), code, 5000), lang)


@router.get("/permits/{code}", tags=["registry"], response_model=PermitOut, responses=PUBLIC)
def get_permit(request: Request, code: PathId,
               _user: Principal | None = Depends(current_user)) -> dict[str, Any]:
    """Public disclosure: a permit's bases, cap, permitted quantities and history. A permit
    past its validity is shown `expired` whatever its stored status (issue 17; the status
    comes from allocation.register.permit_status, as on every page). The history names the
    other party of a trade only to the bureau and the permit's own enterprise; to anyone else
    it is published without parties (allocation.public, docs/public-disclosure.md)."""
    view = alloc.permit_view(_p(request).uow(), code)
    if _user is not None and (_user.is_bureau or _user.enterprise == view["enterprise"]):
        return view
    return public_permit(view)


@router.post("/permits/{code}/confirmations", tags=["bureau"], status_code=201,
             response_model=RightsChangeOut,
             responses={**WRITE, 202: {"model": ApprovalOut,
                                       "description": "a second officer must approve"}})
def confirm(request: Request, code: PathId, body: ConfirmIn, idempotency_key: IdemKey = None,
            user: Principal = Depends(require("rights:confirm"))) -> Any:
    """Rights confirmation. When the approval policy requires a second officer for
    `confirmation`, the answer is 202 with the approval request instead."""
    ensure_permit_access(user, code)
    p = _p(request)
    alloc.permit_view(p.uow(), code, events=0)
    payload = dict(permit=code, pollutant=body.pollutant, year=body.year, qty_kg=body.qty_kg)
    summary = (f"confirm {body.qty_kg if body.qty_kg else 'allocated'} kg {body.pollutant} "
               f"{body.year} on {code}")
    _audit(request, "confirm_rights", code, summary)
    outcome, result = approvals.run_or_request(
        p, user, tx_type="confirmation", action="confirm_rights", target=code,
        payload=payload, summary=summary)
    if outcome == "pending":
        request.state.audit["action"] = "request_approval"
        return JSONResponse(ApprovalOut.model_validate(result).model_dump(), status_code=202)
    return RightsChangeOut.model_validate(result)


@router.post("/permits/{code}/surplus-verifications", tags=["bureau"], status_code=201,
             response_model=RightsChangeOut, responses=WRITE)
def verify(request: Request, code: PathId, body: VerifyIn, idempotency_key: IdemKey = None,
           user: Principal = Depends(require("rights:verify"))) -> RightsChangeOut:
    ensure_permit_access(user, code)
    _audit(request, "verify_surplus", code,
           f"{body.qty_kg} kg {body.pollutant} {body.year}: {body.reason}")
    r = alloc.verify_surplus(_p(request).uow(), permit=code, pollutant=body.pollutant,
                             year=body.year, qty_kg=body.qty_kg, actor=user.username,
                             reason=body.reason)
    return RightsChangeOut(**r.__dict__)


# markets -----------------------------------------------------------------------------------

@router.get("/markets", tags=["trading"], response_model=list[MarketOut])
def markets(request: Request,
            _user: Principal | None = Depends(current_user)) -> list[dict[str, Any]]:
    return trading.list_markets(_p(request).uow())


@router.get("/markets/{pollutant}/{zone}/{vintage}", tags=["trading"],
            response_model=MarketView, responses=PUBLIC)
def market(request: Request, pollutant: PathId, zone: PathId, vintage: Vintage,
           _user: Principal | None = Depends(current_user)) -> dict[str, Any]:
    """Depth, last price and the anonymised tape."""
    return trading.market_view(_p(request).uow(), f"{pollutant}/{zone}/{vintage}")


@router.get("/markets/{pollutant}/{zone}/{vintage}/prices", tags=["trading"],
            response_model=list[PricePoint], responses=PUBLIC)
def market_prices(request: Request, pollutant: PathId, zone: PathId, vintage: Vintage,
                  limit: Annotated[int, Query(ge=1, le=2000)] = 500,
                  _user: Principal | None = Depends(current_user)) -> list[dict[str, Any]]:
    """Trade prices over time, oldest first (public disclosure)."""
    m = trading.market_view(_p(request).uow(), f"{pollutant}/{zone}/{vintage}", levels=0,
                            tape=limit)
    return [dict(at=t["at"], price=t["price"], qty=t["qty"])
            for t in reversed(m["trades"])]  # type: ignore[call-overload]


@router.post("/markets/{pollutant}/{zone}/{vintage}/state", tags=["bureau"],
             response_model=MarketStateOut, responses=WRITE)
def market_state(request: Request, pollutant: PathId, zone: PathId, vintage: Vintage,
                 body: MarketStateIn,
                 user: Principal = Depends(require("market:state"))) -> dict[str, Any]:
    """Market surveillance: halt, resume (open) or close a market, stating why (422
    `reason_required` without a reason; 409 `market_already_in_state`)."""
    from trading import halts  # the reason is stored on the market (issue 18)

    mid = f"{pollutant}/{zone}/{vintage}"
    _audit(request, "set_market_state", mid, f"{body.state}: {body.reason}")
    return halts.set_market_state(_p(request).uow(), market=mid, state=body.state,
                                  reason=body.reason, actor=user.username)


# orders ------------------------------------------------------------------------------------

def _own_enterprise(user: Principal, named: str | None) -> str:
    """A trader acts for its own enterprise; naming another is 404 like a missing one."""
    assert user.enterprise is not None
    if named is not None and named != user.enterprise:
        ensure_enterprise_access(user, named)
    return user.enterprise


@router.post("/orders", tags=["trading"], status_code=201, response_model=OrderOut,
             responses=WRITE)
def place_order(request: Request, body: OrderIn, idempotency_key: IdemKey = None,
                user: Principal = Depends(require("order:place"))) -> OrderOut:
    enterprise = _own_enterprise(user, body.enterprise)
    _audit(request, "place_order", body.market, body.audit_detail())
    p = _p(request)
    row = audit_row(request.scope, 201)  # written in the order's transaction
    r = p.place_order(trading.PlaceOrder(
        enterprise, body.permit, body.market, body.side, body.qty, body.price, body.tif,
        body.order_id, body.kind, body.post_only, body.stp), actor=user.username, audit=row)
    request.state.audit["target"] = r.order_id
    request.state.audit["recorded"] = bool(row.get("recorded"))
    return OrderOut.of(r)


@router.post("/orders/{order_id}/cancel", tags=["trading"], response_model=OrderOut,
             responses=WRITE)
def cancel_order(request: Request, order_id: PathId, body: CancelIn | None = None,
                 user: Principal = Depends(require("order:place"))) -> OrderOut:
    named = body.enterprise if body else None
    if named is not None and named != user.enterprise:  # another's order: "not found"
        raise OrderNotFound(f"no order {order_id}", field="order_id")
    enterprise = _own_enterprise(user, named)
    _audit(request, "cancel_order", order_id)
    row = audit_row(request.scope, 200)  # written in the cancel's transaction
    r = _p(request).cancel_order(enterprise=enterprise, order_id=order_id,
                                 actor=user.username, audit=row)
    request.state.audit["recorded"] = bool(row.get("recorded"))
    return OrderOut.of(r)


# ledger ------------------------------------------------------------------------------------

@router.get("/ledger/asset-sums", tags=["ledger"], response_model=dict[str, int],
            responses=_err(401, 403))
def asset_sums(request: Request,
               _user: Principal = Depends(require("ledger:read"))) -> dict[str, int]:
    """Sum of every asset's balances over all accounts: zero for every asset."""
    return ledger_service.asset_sums(_p(request).uow())


# API tokens --------------------------------------------------------------------------------

@router.get("/tokens", tags=["identity"], response_model=list[TokenOut], responses=_err(401, 403))
def tokens(request: Request, everyone: bool = False,
           user: Principal = Depends(require("token:own"))) -> list[dict[str, Any]]:
    """The caller's tokens; `everyone=true` lists all users' (administrator)."""
    return identity.list_tokens(_p(request).uow(), viewer=user, everyone=everyone)


@router.post("/tokens", tags=["identity"], status_code=201, response_model=TokenCreated,
             responses=WRITE)
def create_token(request: Request, body: TokenIn, idempotency_key: IdemKey = None,
                 user: Principal = Depends(require("token:own"))) -> dict[str, Any]:
    raw, out = identity.create_token(_p(request).uow(), owner=user, name=body.name,
                                     expires_days=body.expires_days)
    _audit(request, "create_token", str(out["id"]), out["name"])
    return dict(out, token=raw)


@router.post("/tokens/{token_id}/revoke", tags=["identity"], response_model=TokenOut,
             responses=WRITE)
def revoke_token(request: Request, token_id: Id,
                 user: Principal = Depends(require("token:own"))) -> dict[str, Any]:
    _audit(request, "revoke_token", str(token_id))
    return identity.revoke_token(_p(request).uow(), viewer=user, token_id=token_id)


# audit -------------------------------------------------------------------------------------

@router.get("/audit", tags=["bureau"], response_model=AuditPage, responses=_err(401, 403, 422),
            dependencies=[Depends(city_bureau)])
def audit(request: Request, actor: str | None = Query(None, max_length=40),
          action: str | None = Query(None, max_length=80), offset: Offset = 0,
          limit: Limit = 50, _user: Principal = Depends(require("audit:read"))
          ) -> dict[str, Any]:
    return identity.audit_page(_p(request).uow(), actor=actor, action=action, offset=offset,
                               limit=limit)


# approvals ---------------------------------------------------------------------------------

ApprovalStatus = Query(None, pattern="^(pending|executing|executed|failed|rejected)$")


@router.get("/approvals", tags=["bureau"], response_model=ApprovalPage,
            responses=_err(401, 403, 422))
def list_approvals(request: Request, status: str | None = ApprovalStatus,
                   offset: Offset = 0, limit: Limit = 50,
                   _user: Principal = Depends(require("approval:read"))) -> dict[str, Any]:
    return identity.approvals(_p(request).uow(), status=status, offset=offset, limit=limit,
                              district=district_scope(request))


@router.get("/approvals/{approval_id}", tags=["bureau"], response_model=ApprovalOut,
            responses=AUTH)
def get_approval(request: Request, approval_id: Id,
                 _user: Principal = Depends(require("approval:read"))) -> dict[str, Any]:
    return approvals.check_scope(_p(request), _user, approval_id)


@router.post("/approvals/{approval_id}/approve", tags=["bureau"], response_model=ApprovalOut,
             responses=WRITE)
def approve(request: Request, approval_id: Id,
            user: Principal = Depends(require("approval:decide"))) -> dict[str, Any]:
    """A second officer approves; the action runs now. The result says executed or failed."""
    _audit(request, "approve", str(approval_id))
    out = approvals.approve(_p(request), user, approval_id)
    request.state.audit["detail"] = f"{out['status']}: {out['result']}"
    return out


@router.post("/approvals/{approval_id}/reject", tags=["bureau"], response_model=ApprovalOut,
             responses=WRITE)
def reject(request: Request, approval_id: Id, body: RejectIn | None = None,
           user: Principal = Depends(require("approval:decide"))) -> dict[str, Any]:
    reason = body.reason if body else ""
    _audit(request, "reject", str(approval_id), reason)
    return approvals.reject(_p(request), user, approval_id, reason)


@router.get("/approval-policy", tags=["bureau"], response_model=list[PolicyOut],
            responses=_err(401, 403))
def get_policy(request: Request,
               _user: Principal = Depends(require("approval:read"))) -> list[dict[str, Any]]:
    """Per transaction type: does a bureau action need a second officer?"""
    return identity.approval_policy(_p(request).uow())


@router.put("/approval-policy/{tx_type}", tags=["bureau"], response_model=PolicyOut,
            responses={**WRITE, 202: {"model": ApprovalOut,
                                      "description": "a second officer must approve"}})
def set_policy(request: Request, tx_type: PathId, body: PolicyIn,
               user: Principal = Depends(require("approval:policy"))) -> Any:
    """Turning a requirement on takes effect at once; turning off a requirement that holds
    is itself four-eyes: 202 with the approval request (web.approvals.set_policy)."""
    _audit(request, "set_approval_policy", tx_type, f"required={body.required}")
    outcome, result = approvals.set_policy(_p(request), user, tx_type, body.required)
    if outcome == "pending":
        request.state.audit["action"] = "request_approval"
        return JSONResponse(ApprovalOut.model_validate(result).model_dump(), status_code=202)
    return result


# users -------------------------------------------------------------------------------------

@router.get("/users", tags=["identity"], response_model=UserPage, responses=_err(401, 403, 422))
def users(request: Request, offset: Offset = 0, limit: Limit = 100,
          _user: Principal = Depends(require("user:manage"))) -> dict[str, Any]:
    return identity.list_users(_p(request).uow(), offset=offset, limit=limit)


@router.post("/users", tags=["identity"], status_code=201, response_model=UserOut,
             responses=WRITE)
def create_user(request: Request, body: UserIn, idempotency_key: IdemKey = None,
                _user: Principal = Depends(require("user:manage"))) -> dict[str, Any]:
    _audit(request, "create_user", body.username, f"role={body.role}")
    identity.create_user(_p(request).uow(), username=body.username,
                         display_name=body.display_name, role=body.role,
                         password=body.password, enterprise=body.enterprise,
                         district=body.district, department=body.department)
    return dict(username=body.username, display_name=body.display_name, role=body.role,
                enterprise=body.enterprise, active=True, district=body.district,
                department=body.department)


@router.post("/users/{username}/scope", tags=["identity"], response_model=UserOut,
             responses=WRITE)
def set_scope(request: Request, username: PathId, body: UserScopeIn,
              _user: Principal = Depends(require("user:manage"))) -> dict[str, Any]:
    """Set a bureau user's district (none: the city) and department (none: every
    department); its sessions end. 422 `unknown_district`, `scope_not_for_role`."""
    _audit(request, "set_user_scope", username, f"{body.district}/{body.department}")
    return identity.set_user_scope(_p(request).uow(), username=username,
                                   district=body.district, department=body.department)


@router.post("/users/{username}/active", tags=["identity"], response_model=UserOut,
             responses=WRITE)
def set_active(request: Request, username: PathId, body: UserActiveIn,
               _user: Principal = Depends(require("user:manage"))) -> dict[str, Any]:
    _audit(request, "set_user_active", username, f"active={body.active}")
    return identity.set_user_active(_p(request).uow(), username=username, active=body.active)
