"""Request and response models of /api/v1: the OpenAPI schema is generated from these.

The input boundary of JSON bodies (issue 19) is `Strict`, the base of every request model,
and the aliases below, defined once and used by every router:

- unknown fields are refused;
- no string anywhere in a body (values at any depth and object keys) holds NUL, another C0
  control character, DEL or a C1 control character. Tab, line feed and carriage return are
  the exception in free text (a reason, a note, a CSV upload legitimately has line breaks);
  identifiers (`UserId`, codes) and names (`Name`) refuse them too, through their pattern;
- every integer is a JSON integer: ``"10"``, ``10.0``, ``true``, ``"1_000"`` and full-width
  digits are refused, whatever the field's annotation (`Strict` checks `int` fields of every
  subclass), and the aliases carry bounds that the OpenAPI schema states;
- dates lie in `FIRST_DAY`..`LAST_DAY`.

A refusal is a 422 `{"error": "invalid_input", "detail": ..., "field": <field>}`.

Bounds, and why they fit the columns: quantities (kg) and money (fen) are stored in signed
64-bit columns (max 9.22e18). One quantity or amount is at most `MAX_KG` = `MAX_FEN` = 10^15
(10^12 t, 10^13 yuan: orders of magnitude above any real permit, trade or fee), so that a sum
of 9,000 of them — more than any batch, statement or report the platform adds up — still fits.
Prices (fen per tonne) are at most `MAX_PRICE` = 10^12.
"""

from __future__ import annotations

import re
import typing
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, Literal

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from kernel.errors import InvalidInput
from kernel.ids import USER_ID_PATTERN

MAX_KG = 10**15
MAX_FEN = 10**15
MAX_PRICE = 10**12
MAX_COUNT = 10**9
#: database row ids (positive, below 2^53 so that JavaScript clients read them exactly)
MAX_ROW_ID = 2**53
FIRST_YEAR = 1990
LAST_YEAR = 2100
FIRST_DAY = date(FIRST_YEAR, 1, 1)
LAST_DAY = date(LAST_YEAR, 12, 31)

#: control characters refused in free text: C0 but tab, LF and CR; DEL; C1
FREE_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: a name or one-line value: no control character at all (the schema states this pattern)
NO_CONTROL_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"


def _day_in_bounds(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"dates lie between {FIRST_DAY} and {LAST_DAY}")
    return value


def _instant_in_bounds(value: datetime) -> datetime:
    day = value.astimezone(UTC).date() if value.tzinfo else value.date()
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"times lie between {FIRST_DAY} and {LAST_DAY}")
    return value


Kg = Annotated[int, Field(strict=True, ge=1, le=MAX_KG, description="kilograms")]
Fen = Annotated[int, Field(strict=True, ge=0, le=MAX_FEN, description="fen")]
Price = Annotated[int, Field(strict=True, ge=1, le=MAX_PRICE, description="fen per tonne")]
Count = Annotated[int, Field(strict=True, ge=0, le=MAX_COUNT)]
Year = Annotated[int, Field(strict=True, ge=FIRST_YEAR, le=LAST_YEAR)]
RowId = Annotated[int, Field(strict=True, ge=1, le=MAX_ROW_ID)]
Day = Annotated[date, AfterValidator(_day_in_bounds),
                Field(description=f"a date from {FIRST_DAY} to {LAST_DAY}")]
Instant = Annotated[datetime, AfterValidator(_instant_in_bounds),
                    Field(description=f"a time from {FIRST_DAY} to {LAST_DAY}")]
UserId = Annotated[str, Field(min_length=1, max_length=64, pattern=USER_ID_PATTERN,
                              description="letters, digits and . _ : - (first a letter or "
                                          "digit)")]
Name = Annotated[str, Field(pattern=NO_CONTROL_PATTERN)]
#: a path segment naming an object (a code, an id, a user name, a market's pollutant or zone)
PathId = Annotated[str, Path(min_length=1, max_length=64, pattern=USER_ID_PATTERN)]
PathYear = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR)]


def no_control(value: Any) -> Any:
    """A free-form JSON document (a scenario, a sheet): no string in it, key or value, holds
    a refused control character."""
    bad = _control_at(value, "")
    if bad:
        raise InvalidInput(f"{bad}: control characters are not allowed", field=bad)
    return value


#: the body of the operations that take a free-form JSON object
JsonObject = Annotated[dict[str, Any], AfterValidator(no_control)]


def _int_shape(annotation: object) -> str | None:
    """"int" when the field holds an int (or None), "items" for a list/tuple of ints,
    "values" for a mapping to ints; None otherwise."""
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if annotation is int:
        return "int"
    if origin is Annotated:
        return _int_shape(args[0])
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        shapes = {_int_shape(a) for a in args}
        return "int" if shapes == {"int"} else None
    if origin in (list, tuple, set, frozenset) and args and all(
            _int_shape(a) == "int" for a in args if a is not Ellipsis):
        return "items"
    if origin is dict and len(args) == 2 and _int_shape(args[1]) == "int":
        return "values"
    return None


def _is_int(value: object) -> bool:
    return value is None or type(value) is int


def _control_at(value: object, path: str) -> str | None:
    """The path of the first string (value or key) under `value` with a refused control
    character, or None."""
    if isinstance(value, str):
        return path if FREE_TEXT_CONTROL.search(value) else None
    if isinstance(value, dict):
        for k, v in value.items():
            sub = f"{path}.{k}" if path else str(k)
            if isinstance(k, str) and FREE_TEXT_CONTROL.search(k):
                return path or "body"
            found = _control_at(v, sub)
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = _control_at(v, f"{path}.{i}" if path else str(i))
            if found:
                return found
    return None


class ErrorBody(BaseModel):
    """The one error shape."""

    error: str = Field(description="stable machine-readable code")
    detail: str
    field: str | None = None


class Strict(BaseModel):
    """The base of every request model: see the module docstring."""

    model_config = ConfigDict(extra="forbid")
    #: field (by its JSON name) → "int" / "items" / "values", computed once per class
    __int_fields__: ClassVar[dict[str, str]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        shapes: dict[str, str] = {}
        for name, info in cls.model_fields.items():
            shape = _int_shape(info.annotation)
            if shape:
                shapes[info.alias or name] = shape
        cls.__int_fields__ = shapes

    @model_validator(mode="before")
    @classmethod
    def _boundary(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        bad = _control_at(data, "")
        if bad:
            raise InvalidInput(f"{bad}: control characters are not allowed", field=bad)
        for name, shape in cls.__int_fields__.items():
            if name not in data:
                continue
            value = data[name]
            if shape == "int":
                ok = _is_int(value)
            elif shape == "items":
                ok = not isinstance(value, (list, tuple)) or all(map(_is_int, value))
            else:
                ok = not isinstance(value, dict) or all(map(_is_int, value.values()))
            if not ok:
                raise InvalidInput(f"{name}: JSON integers only (no strings, fractions or "
                                   "booleans)", field=name)
        return data




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
    pollutant: str = Field(max_length=10, pattern=NO_CONTROL_PATTERN, examples=["SO2"])
    year: Annotated[Year, Field(ge=2000)]
    qty_kg: Kg | None = Field(default=None,
                               description="default: the allocated quantity not yet confirmed")


class VerifyIn(Strict):
    pollutant: str = Field(max_length=10, pattern=NO_CONTROL_PATTERN, examples=["SO2"])
    year: Annotated[Year, Field(ge=2000)]
    qty_kg: Kg
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
    qty: Annotated[Kg, Field(le=10**12, description="kg")]
    price: Price | None = Field(default=None,
                              description="fen per tonne; required for limit orders, the "
                                          "optional protective price of a market order")
    tif: Literal["gtc", "ioc", "fok"] = "gtc"
    kind: Literal["limit", "market"] = "limit"
    post_only: bool = False
    stp: Literal["cancel_newest", "cancel_oldest", "cancel_both"] = Field(
        default="cancel_newest", description="self-trade prevention policy of this order")
    order_id: Annotated[UserId, Field(max_length=32)] | None = Field(
        default=None, description="the client's own id for the order, unique within its "
        "enterprise (a repeat is 409 duplicate_order_id); the order's id is the platform's "
        "(`order_id` of the answer), and the routes taking an order id accept either")


    def audit_detail(self) -> str:
        """The order as its audit row describes it (the route and the order lane)."""
        return (f"{self.side} {self.qty} kg @ {self.price} fen/t {self.tif} "
                f"permit {self.permit}")


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
    order_id: str = Field(description="the platform's id of the order")
    client_order_id: str | None = Field(
        default=None, description="the id the client chose (`order_id` of the request)")
    status: str
    qty: int
    remaining: int
    filled: int
    cancelled: int
    trades: list[TradeOut] = []

    @classmethod
    def of(cls, r: Any) -> OrderOut:
        """The answer to a placed or cancelled order (`trading.service.OrderResult`)."""
        return cls.model_validate(dict(
            order_id=r.order_id, client_order_id=r.client_order_id, status=r.status,
            qty=r.qty, remaining=r.remaining, filled=r.filled, cancelled=r.cancelled,
            trades=[dict(id=t.id, market=t.market, price=t.price, qty=t.qty,
                         value_fen=t.value_fen, buyer=t.buyer, seller=t.seller)
                    for t in r.trades]))


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
    client_order_id: str | None = None


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
    reason: str = Field(default="", max_length=200,
                        description="why; required (422 reason_required when empty)")


class MarketStateOut(BaseModel):
    market: str
    state: str
    reason: str | None = None
    at: str | None = Field(default=None, description="when, ISO 8601 (UTC)")
    by: str | None = None


# identity ----------------------------------------------------------------------------------

class MeOut(BaseModel):
    username: str
    display_name: str
    role: str
    enterprise: str | None
    via: str


class TokenIn(Strict):
    name: Name = Field(min_length=1, max_length=80)
    expires_days: Annotated[Count, Field(ge=1, le=3650)] | None = None


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
    preview: dict[str, object] | None = Field(None, description=(
        "the dry run's outcome when the request was made: what is approved, in figures"))
    district: str | None = Field(None, description=(
        "the district whose officers may see and decide it besides the city's, decided when "
        "it was made; none: the city's officers only"))


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
    # the path segment that later names the user (`PathId`) takes the same ids
    username: Annotated[UserId, Field(max_length=40)]
    display_name: Name = Field(min_length=1, max_length=80)
    role: Literal["bureau_officer", "bureau_admin", "trader", "analyst"]
    enterprise: str | None = Field(default=None, min_length=18, max_length=18)
    password: str = Field(min_length=8, max_length=200)
    district: Name | None = Field(default=None, min_length=1, max_length=20,
                                  description="bureau users: the district bureau; none = city")
    department: Literal["approval", "monitoring", "enforcement"] | None = Field(
        default=None, description="bureau users: the department; none = every department")


class UserActiveIn(Strict):
    active: bool


class UserScopeIn(Strict):
    """A bureau user's level and department (both none: a city officer of every department)."""

    district: Name | None = Field(default=None, min_length=1, max_length=20)
    department: Literal["approval", "monitoring", "enforcement"] | None = None
