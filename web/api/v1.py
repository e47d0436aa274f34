"""JSON API, version 1. Each route calls one use case; routes never commit."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from allocation import service as alloc
from app.wiring import Platform
from ledger import service as ledger_service
from trading import service as trading

router = APIRouter()


class ErrorBody(BaseModel):
    error: str
    detail: str
    field: str | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody}, 409: {"model": ErrorBody}, 422: {"model": ErrorBody}}


def _p(request: Request) -> Platform:
    return request.app.state.platform  # type: ignore[no-any-return]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConfirmIn(Strict):
    pollutant: str = Field(max_length=10)
    year: int = Field(ge=2000, le=2100)
    qty_kg: int | None = Field(default=None, description="default: the allocated quantity")


class VerifyIn(Strict):
    pollutant: str = Field(max_length=10)
    year: int = Field(ge=2000, le=2100)
    qty_kg: int
    reason: str = Field(default="verified reduction", max_length=200)


class RightsChangeOut(BaseModel):
    permit: str
    pollutant: str
    year: int
    qty_kg: int
    permitted_after_kg: int
    transfer_id: str


class OrderIn(Strict):
    enterprise: str = Field(min_length=18, max_length=18)
    permit: str = Field(min_length=22, max_length=22)
    market: str = Field(max_length=40, examples=["SO2/A-ZC/2026"])
    side: Literal["buy", "sell"]
    qty: int = Field(description="kg")
    price: int = Field(description="fen per tonne")
    tif: Literal["gtc", "ioc", "fok"] = "gtc"
    order_id: str | None = Field(default=None, max_length=64)


class TradeOut(BaseModel):
    id: int
    market: str
    price: int
    qty: int
    value_fen: int
    buyer: str
    seller: str


class OrderOut(BaseModel):
    order_id: str
    status: str
    qty: int
    remaining: int
    filled: int
    cancelled: int
    trades: list[TradeOut] = []


class CancelIn(Strict):
    enterprise: str = Field(min_length=18, max_length=18)


def _order_out(r: trading.OrderResult) -> OrderOut:
    return OrderOut(order_id=r.order_id, status=r.status, qty=r.qty, remaining=r.remaining,
                    filled=r.filled, cancelled=r.cancelled,
                    trades=[TradeOut(id=t.id, market=t.market, price=t.price, qty=t.qty,
                                     value_fen=t.value_fen, buyer=t.buyer, seller=t.seller)
                            for t in r.trades])


@router.get("/enterprises", tags=["registry"])
def list_enterprises(request: Request, q: str | None = Query(None, max_length=100),
                     sector: str | None = Query(None, max_length=30),
                     district: str | None = Query(None, max_length=20),
                     offset: int = Query(0, ge=0), limit: int = Query(50, ge=1, le=500)
                     ) -> dict[str, Any]:
    return alloc.search_enterprises(_p(request).uow(), q=q, sector=sector, district=district,
                                    offset=offset, limit=limit)


@router.get("/enterprises/{code}", tags=["registry"], responses=ERRORS)
def get_enterprise(request: Request, code: str) -> dict[str, Any]:
    p = _p(request)
    view = alloc.enterprise_view(p.uow(), code)
    permit_codes = [x["code"] for x in view["permits"]]  # type: ignore[attr-defined]
    view["holdings"] = ledger_service.holdings(p.uow(), [code, *permit_codes])
    return view


@router.get("/enterprises/{code}/orders", tags=["trading"], responses=ERRORS)
def enterprise_orders(request: Request, code: str,
                      limit: int = Query(100, ge=1, le=500)) -> list[dict[str, Any]]:
    p = _p(request)
    alloc.enterprise_view(p.uow(), code)
    return trading.orders_of(p.uow(), code, limit)


@router.get("/enterprises/{code}/trades", tags=["trading"], responses=ERRORS)
def enterprise_trades(request: Request, code: str,
                      limit: int = Query(100, ge=1, le=500)) -> list[dict[str, Any]]:
    p = _p(request)
    alloc.enterprise_view(p.uow(), code)
    return trading.trades_of(p.uow(), code, limit)


@router.get("/permits/{code}", tags=["registry"], responses=ERRORS)
def get_permit(request: Request, code: str) -> dict[str, Any]:
    return alloc.permit_view(_p(request).uow(), code)


@router.post("/permits/{code}/confirmations", tags=["bureau"], status_code=201,
             responses=ERRORS)
def confirm(request: Request, code: str, body: ConfirmIn) -> RightsChangeOut:
    r = alloc.confirm_rights(_p(request).uow(), permit=code, pollutant=body.pollutant,
                             year=body.year, qty_kg=body.qty_kg, actor="bureau")
    return RightsChangeOut(**r.__dict__)


@router.post("/permits/{code}/surplus-verifications", tags=["bureau"], status_code=201,
             responses=ERRORS)
def verify(request: Request, code: str, body: VerifyIn) -> RightsChangeOut:
    r = alloc.verify_surplus(_p(request).uow(), permit=code, pollutant=body.pollutant,
                             year=body.year, qty_kg=body.qty_kg, actor="bureau",
                             reason=body.reason)
    return RightsChangeOut(**r.__dict__)


@router.get("/markets", tags=["trading"])
def markets(request: Request) -> list[dict[str, Any]]:
    return trading.list_markets(_p(request).uow())


@router.get("/markets/{pollutant}/{zone}/{vintage}", tags=["trading"], responses=ERRORS)
def market(request: Request, pollutant: str, zone: str, vintage: int) -> dict[str, Any]:
    return trading.market_view(_p(request).uow(), f"{pollutant}/{zone}/{vintage}")


@router.post("/orders", tags=["trading"], status_code=201, responses=ERRORS)
def place_order(request: Request, body: OrderIn) -> OrderOut:
    p = _p(request)
    r = trading.place_order(p.uow(), trading.PlaceOrder(
        body.enterprise, body.permit, body.market, body.side, body.qty, body.price, body.tif,
        body.order_id), permits=p.permits, actor=body.enterprise)
    return _order_out(r)


@router.post("/orders/{order_id}/cancel", tags=["trading"], responses=ERRORS)
def cancel_order(request: Request, order_id: str, body: CancelIn) -> OrderOut:
    r = trading.cancel_order(_p(request).uow(), enterprise=body.enterprise, order_id=order_id,
                             actor=body.enterprise)
    return _order_out(r)


@router.get("/ledger/asset-sums", tags=["ledger"])
def asset_sums(request: Request) -> dict[str, int]:
    """Sum of every asset's balances over all accounts: zero for every asset."""
    return ledger_service.asset_sums(_p(request).uow())
