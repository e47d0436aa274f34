"""Request and response models of /api/v1: the OpenAPI schema is generated from these."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ErrorBody(BaseModel):
    """The one error shape."""

    error: str = Field(description="stable machine-readable code")
    detail: str
    field: str | None = None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")




# registry ----------------------------------------------------------------------------------

class EnterpriseOut(BaseModel):
    credit_code: str
    name: str
    sector: str
    district: str
    status: str


class EnterprisePage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[EnterpriseOut]


class PermitSummary(BaseModel):
    code: str
    valid_from: str
    valid_to: str
    status: str


class HoldingOut(BaseModel):
    id: int
    holder: str
    kind: str
    asset: str
    balance: int
    on_hold: int
    available: int
    upper_limit: int | None
    frozen: bool


class EnterpriseDetail(EnterpriseOut):
    permits: list[PermitSummary]
    holdings: list[HoldingOut]


class QuantityOut(BaseModel):
    pollutant: str
    year: int
    zone: str
    spec_kg: int
    eia_kg: int | None
    share_kg: int | None
    binding: str
    cap_kg: int
    allocated_kg: int
    permitted_kg: int
    confirmed: bool


class PermitEventOut(BaseModel):
    pollutant: str
    year: int
    kind: str
    qty_kg: int
    counterparty: str | None
    price: int | None
    reference: str | None
    permitted_after_kg: int
    at: str
    note: str | None


class PermitOut(BaseModel):
    code: str
    enterprise: str
    enterprise_name: str
    valid_from: str
    valid_to: str
    status: str
    quantities: list[QuantityOut]
    history: list[PermitEventOut]


class ConfirmIn(Strict):
    pollutant: str = Field(max_length=10, examples=["SO2"])
    year: int = Field(ge=2000, le=2100)
    qty_kg: int | None = Field(default=None, ge=1, le=10**15,
                               description="default: the allocated quantity not yet confirmed")


class VerifyIn(Strict):
    pollutant: str = Field(max_length=10, examples=["SO2"])
    year: int = Field(ge=2000, le=2100)
    qty_kg: int = Field(ge=1, le=10**15)
    reason: str = Field(default="verified reduction", max_length=200)


class RightsChangeOut(BaseModel):
    permit: str
    pollutant: str
    year: int
    qty_kg: int
    permitted_after_kg: int
    transfer_id: str


# trading -----------------------------------------------------------------------------------

class OrderIn(Strict):
    enterprise: str | None = Field(default=None, min_length=18, max_length=18,
                                   description="default and only allowed value: the caller's")
    permit: str = Field(min_length=1, max_length=22)
    market: str = Field(max_length=40, examples=["SO2/A-ZC/2026"])
    side: Literal["buy", "sell"]
    qty: int = Field(ge=1, le=10**12, description="kg")
    price: int | None = Field(default=None, ge=1, le=10**12,
                              description="fen per tonne; required for limit orders, the "
                                          "optional protective price of a market order")
    tif: Literal["gtc", "ioc", "fok"] = "gtc"
    kind: Literal["limit", "market"] = "limit"
    post_only: bool = False
    stp: Literal["cancel_newest", "cancel_oldest", "cancel_both"] = Field(
        default="cancel_newest", description="self-trade prevention policy of this order")
    order_id: str | None = Field(default=None, min_length=1, max_length=32,
                                 pattern=r"^[A-Za-z0-9_.:-]+$")


class CancelIn(Strict):
    enterprise: str | None = Field(default=None, min_length=18, max_length=18)


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


class OrderView(BaseModel):
    id: str
    market: str
    enterprise: str
    permit: str
    side: str
    price: int | None
    qty: int
    remaining: int
    filled: int
    cancelled: int
    tif: str
    status: str
    created_at: str


class OrderPage(BaseModel):
    offset: int
    limit: int
    next_offset: int | None
    items: list[OrderView]


class PublicTrade(BaseModel):
    id: int
    market: str
    price: int
    qty: int
    value_fen: int
    aggressor: str
    at: str


class PrivateTrade(PublicTrade):
    buyer: str
    seller: str
    buyer_permit: str
    seller_permit: str


class TradePage(BaseModel):
    offset: int
    limit: int
    next_offset: int | None
    items: list[PrivateTrade]


class MarketOut(BaseModel):
    id: str
    pollutant: str
    zone: str
    vintage: int
    state: str
    last_price: int | None
    tick: int
    min_lot: int
    reference_price: int | None
    band_pct: int | None


class Level(BaseModel):
    price: int
    qty: int


class MarketView(BaseModel):
    id: str
    pollutant: str
    zone: str
    vintage: int
    state: str
    last_price: int | None
    reference_price: int | None
    band_pct: int | None
    price_band: tuple[int, int] | None
    bids: list[Level]
    asks: list[Level]
    trades: list[PublicTrade]


class PricePoint(BaseModel):
    at: str
    price: int
    qty: int


class MarketStateIn(Strict):
    state: Literal["open", "halted", "closed"]
    reason: str = Field(default="", max_length=200)


class MarketStateOut(BaseModel):
    market: str
    state: str


# identity ----------------------------------------------------------------------------------

class MeOut(BaseModel):
    username: str
    display_name: str
    role: str
    enterprise: str | None
    via: str


class TokenIn(Strict):
    name: str = Field(min_length=1, max_length=80)
    expires_days: int | None = Field(default=None, ge=1, le=3650)


class TokenOut(BaseModel):
    id: int
    username: str
    name: str
    prefix: str
    created_at: str | None
    expires_at: str | None
    revoked_at: str | None
    active: bool


class TokenCreated(TokenOut):
    token: str = Field(description="shown once; store it now")


class AuditOut(BaseModel):
    id: int
    at: str | None
    actor: str | None
    role: str | None
    via: str | None
    ip: str | None
    method: str
    path: str
    action: str
    target: str | None
    status: int
    detail: str | None


class AuditPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[AuditOut]


class ApprovalOut(BaseModel):
    id: int
    tx_type: str
    action: str
    target: str
    payload: dict[str, object]
    summary: str
    requested_by: str
    requested_at: str | None
    status: Literal["pending", "executing", "executed", "failed", "rejected"]
    decided_by: str | None
    decided_at: str | None
    result: str | None


class ApprovalPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[ApprovalOut]


class RejectIn(Strict):
    reason: str = Field(default="", max_length=500)


class PolicyOut(BaseModel):
    tx_type: str
    required: bool
    default: bool
    updated_by: str | None
    updated_at: str | None


class PolicyIn(Strict):
    required: bool


class UserOut(BaseModel):
    username: str
    display_name: str
    role: str
    enterprise: str | None
    active: bool
    district: str | None = None
    department: str | None = None


class UserPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[UserOut]


class UserIn(Strict):
    username: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    display_name: str = Field(min_length=1, max_length=80)
    role: Literal["bureau_officer", "bureau_admin", "trader", "analyst"]
    enterprise: str | None = Field(default=None, min_length=18, max_length=18)
    password: str = Field(min_length=8, max_length=200)
    district: str | None = Field(default=None, min_length=1, max_length=20,
                                 description="bureau users: the district bureau; none = city")
    department: Literal["approval", "monitoring", "enforcement"] | None = Field(
        default=None, description="bureau users: the department; none = every department")


class UserActiveIn(Strict):
    active: bool


class UserScopeIn(Strict):
    """A bureau user's level and department (both none: a city officer of every department)."""

    district: str | None = Field(default=None, min_length=1, max_length=20)
    department: Literal["approval", "monitoring", "enforcement"] | None = None
