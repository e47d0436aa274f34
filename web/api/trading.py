"""JSON API of the trading venues beyond plain orders: replace, market OHLC, reserve
auctions, listings and negotiated transfers. Mounted under /api/v1 next to `web.api.v1`.

Access (web.auth): traders act for their own enterprise only (`order:place`); the bureau
runs auctions, lists from the reserve and approves or rejects negotiated transfers; public
data (OHLC, auction results, open listings) needs no credentials. Routes never commit: each
calls one use case. Fees come from `Settings.fee_bps`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from identity.roles import BUREAU, Principal
from trading import auction_service as auctions
from trading import listing_service as listings
from trading import service as trading
from trading import transfer_service as transfers
from trading.market import ClientIdNotAllowed
from trading.settlement import BUREAU as RESERVE_SELLER
from web import approvals
from web.api import models
from web.api.common import Strict
from web.api.common import audit as _audit
from web.api.common import platform as _p
from web.api.models import ErrorBody, Instant, PathId, PathYear, UserId
from web.auth import city_bureau, csrf_protect, current_user, district_scope, require, require_role

router = APIRouter(dependencies=[Depends(csrf_protect)])

WRITE: dict[int | str, dict[str, Any]] = {c: {"model": ErrorBody}
                                          for c in (401, 403, 404, 409, 422)}
PUBLIC: dict[int | str, dict[str, Any]] = {c: {"model": ErrorBody} for c in (404, 422)}
#: a venue's quantity: the boundary's kilograms, at most 10^12 kg (10^9 t) per order, listing,
#: bid or transfer, so that quantity × price stays far inside the 64-bit money columns' reach
Kg = Annotated[models.Kg, Field(le=10**12)]
Price = models.Price


class ReplaceIn(Strict):
    qty: Kg | None = Field(default=None, description="new open quantity")
    price: Price | None = None


class AuctionIn(Strict):
    market: str = Field(max_length=40, examples=["SO2/ZA1/2026"])
    offered: Kg
    reserve_price: Price
    rule: Literal["uniform", "pay_as_bid"] = "uniform"
    bidder_cap_pct: float | None = Field(default=None, gt=0, le=100)
    tie_seed: int | None = Field(default=None, ge=0, le=2**62,
                                 description="default: drawn at random and published")
    auction_id: Annotated[UserId, Field(max_length=24)] | None = None


class BidIn(Strict):
    permit: str = Field(min_length=22, max_length=22)
    qty: Kg
    price: Price
    bid_id: Annotated[UserId, Field(max_length=24)] | None = Field(
        default=None, description="bureau only: a trader's bid id is the platform's (422 "
                                  "client_id_not_allowed)")


class ListingIn(Strict):
    market: str = Field(max_length=40)
    permit: str | None = Field(default=None, min_length=22, max_length=22,
                               description="the selling permit; omitted by the bureau, "
                                           "which lists from the reserve")
    qty: Kg
    price: Price
    listing_id: Annotated[UserId, Field(max_length=24)] | None = Field(
        default=None, description="bureau only (reserve listings): a trader's listing id is "
                                  "the platform's (422 client_id_not_allowed)")


class TakeIn(Strict):
    permit: str = Field(min_length=22, max_length=22)
    qty: Kg


class TransferIn(Strict):
    market: str = Field(max_length=40)
    seller_permit: str = Field(min_length=22, max_length=22)
    buyer: str = Field(min_length=18, max_length=18)
    buyer_permit: str = Field(min_length=22, max_length=22)
    qty: Kg
    price: Price
    expires_at: Instant | None = None
    transfer_id: Annotated[UserId, Field(max_length=24)] | None = Field(
        default=None, description="bureau only: a trader's transfer id is the platform's "
                                  "(422 client_id_not_allowed)")


class RejectIn(Strict):
    reason: str = Field(min_length=1, max_length=200)


def _platform_id(user: Principal, value: str | None, field: str) -> None:
    """Ids of listings, transfers and bids are one namespace for every enterprise: a trader
    choosing one could learn from "taken" that another enterprise used it (issue 19), so a
    trader's objects get the platform's ids and only the bureau may choose them."""
    if value is not None and not user.is_bureau:
        raise ClientIdNotAllowed(
            f"{field} is assigned by the platform; only the bureau may choose it", field=field)


def _fee(request: Request) -> int:
    return int(getattr(request.app.state.settings, "fee_bps", 0) or 0)


def _enterprise(user: Principal) -> str:
    assert user.enterprise is not None  # order:place is a trader's permission
    return user.enterprise


def _mid(pollutant: str, zone: str, vintage: int) -> str:
    return f"{pollutant}/{zone}/{vintage}"


# orders and market data --------------------------------------------------------------------

@router.post("/orders/{order_id}/replace", tags=["trading"], responses=WRITE)
def replace_order(request: Request, order_id: PathId, body: ReplaceIn,
                  user: Principal = Depends(require("order:place"))) -> dict[str, Any]:
    """Amend a resting order: a smaller quantity keeps time priority; a new price or a
    larger quantity loses it (and may trade at once)."""
    _audit(request, "replace_order", order_id, f"qty={body.qty} price={body.price}")
    r = _p(request).replace_order(enterprise=_enterprise(user), order_id=order_id,
                                  qty=body.qty, price=body.price, actor=user.username)
    return dict(r.__dict__, trades=[t.__dict__ for t in r.trades])


@router.get("/markets/{pollutant}/{zone}/{vintage}/ohlc", tags=["trading"], responses=PUBLIC)
def market_ohlc(request: Request, pollutant: PathId, zone: PathId, vintage: PathYear,
                days: Annotated[int, Query(ge=1, le=366)] = 30,
                _user: Principal | None = Depends(current_user)) -> list[dict[str, Any]]:
    """Daily open, high, low, close and volume per trading day (China Standard Time)."""
    return trading.ohlc(_p(request).uow(), _mid(pollutant, zone, vintage), days=days)


# reserve auctions --------------------------------------------------------------------------

@router.get("/auctions", tags=["auctions"], responses=PUBLIC)
def list_auctions(request: Request, market: str | None = Query(None, max_length=40),
                  _user: Principal | None = Depends(current_user)) -> list[dict[str, Any]]:
    return auctions.list_auctions(_p(request).uow(), market)


@router.get("/auctions/{auction_id}", tags=["auctions"], responses=PUBLIC)
def get_auction(request: Request, auction_id: PathId,
                user: Principal | None = Depends(current_user)) -> dict[str, Any]:
    """Public results (anonymised); the bureau sees every bid (a district officer those of
    its district's enterprises), a trader its own."""
    return auctions.auction_view(_p(request).uow(), auction_id,
                                 reveal=bool(user and user.is_bureau),
                                 enterprise=user.enterprise if user else None,
                                 district=district_scope(request))


#: running the reserve's auctions (create, schedule, every step) is the city bureau's, like
#: the reserve's other releases: a district officer gets 403 `forbidden`
CITY = [Depends(city_bureau)]


@router.post("/auctions", tags=["auctions"], status_code=201, responses=WRITE,
             dependencies=CITY)
def create_auction(request: Request, body: AuctionIn,
                   user: Principal = Depends(require_role(*BUREAU))) -> dict[str, Any]:
    _audit(request, "create_auction", body.market, f"{body.offered} kg >= {body.reserve_price}")
    return auctions.create_auction(
        _p(request).uow(), market=body.market, offered=body.offered,
        reserve_price=body.reserve_price, rule=body.rule, bidder_cap_pct=body.bidder_cap_pct,
        tie_seed=body.tie_seed, actor=user.username, auction_id=body.auction_id)


def _open_auction(platform: Any, payload: dict[str, Any], actor: str) -> dict[str, Any]:
    return auctions.open_auction(  # type: ignore[no-any-return]
        platform.uow(), str(payload["auction"]), actor=actor)


approvals.register("open_auction", _open_auction)


def open_or_request(platform: Any, user: Principal, auction_id: str
                    ) -> tuple[str, dict[str, Any]]:
    """Open an auction now, or store a request for a second officer when the approval policy
    asks one for "reserve_release" (the default): opening commits the offered reserve rights
    to the market. The request is validated in full first."""
    a = auctions.auction_view(platform.uow(), auction_id, reveal=True, enterprise=None)
    return approvals.run_or_request(
        platform, user, tx_type="reserve_release", action="open_auction", target=auction_id,
        payload={"auction": auction_id},
        summary=f"open reserve auction {auction_id}: {a.get('offered')} kg in "
                f"{a.get('market')} at {a.get('reserve_price')} fen/t or more")

#: 202: opening an auction commits reserve rights to the market (a reserve release): when the
#: approval policy asks a second officer for "reserve_release" (the default), the answer is the
#: stored request, and the auction opens when another officer approves it
PENDING: dict[int | str, dict[str, Any]] = {
    202: {"description": "a second officer must approve (reserve_release)"}}


def _step(name: str) -> Any:
    def route(request: Request, auction_id: PathId,
              user: Principal = Depends(require_role(*BUREAU))) -> Any:
        _audit(request, f"{name}_auction", auction_id)
        p = _p(request)
        if name == "open":
            outcome, result = open_or_request(p, user, auction_id)
            if outcome == "pending":
                request.state.audit["action"] = "request_approval"
                return JSONResponse(result, status_code=202)
            return result
        if name == "settle":
            return auctions.settle_auction(p.uow(), auction_id, permits=p.permits,
                                           actor=user.username)
        fn = {"open": auctions.open_auction, "close": auctions.close_auction,
              "clear": auctions.clear_auction}[name]
        return fn(p.uow(), auction_id, actor=user.username)  # type: ignore[no-any-return]

    route.__name__ = f"{name}_auction"
    route.__doc__ = {"open": "Hold the offer in the reserve and take bids.",
                     "close": "Stop taking bids.",
                     "clear": "Clear the bids (uniform price or pay-as-bid); release losers.",
                     "settle": "Deliver rights to winners, pay the bureau."}[name]
    return route


for _name in ("open", "close", "clear", "settle"):
    router.add_api_route(f"/auctions/{{auction_id}}/{_name}", _step(_name), methods=["POST"],
                         tags=["auctions"], dependencies=CITY,
                         responses={**WRITE, **PENDING} if _name == "open" else WRITE)


@router.post("/auctions/{auction_id}/bids", tags=["auctions"], status_code=201,
             responses=WRITE)
def place_bid(request: Request, auction_id: PathId, body: BidIn,
              user: Principal = Depends(require("order:place"))) -> dict[str, Any]:
    """A sealed bid; holds a deposit of its full value and headroom under the permit cap.
    Its id is the platform's: a trader's `bid_id` is refused (422 client_id_not_allowed)."""
    _platform_id(user, body.bid_id, "bid_id")
    _audit(request, "place_bid", auction_id, f"{body.qty} kg @ {body.price}")
    p = _p(request)
    return auctions.place_bid(p.uow(), auction_id=auction_id, enterprise=_enterprise(user),
                              permit=body.permit, qty=body.qty, price=body.price,
                              permits=p.permits, actor=user.username, bid_id=body.bid_id)


# listings ----------------------------------------------------------------------------------

@router.get("/listings", tags=["listings"], responses=PUBLIC)
def open_listings(request: Request, market: str | None = Query(None, max_length=40),
                  _user: Principal | None = Depends(current_user)) -> list[dict[str, Any]]:
    """Open listings. The reserve's (`seller` "BUREAU", `reserve` true) are public as they
    are; an enterprise's names its seller to the bureau and to the seller itself only, and
    is unnamed to anyone else (`seller` null; docs/public-disclosure.md)."""
    out = [dict(x, reserve=x["seller"] == RESERVE_SELLER)
           for x in listings.listings(_p(request).uow(), market)]
    if _user is not None and _user.is_bureau:
        return out
    mine = _user.enterprise if _user is not None else None
    return [x if x["reserve"] or x["seller"] == mine else
            dict(x, seller=None, seller_permit=None) for x in out]


def _reserve_listing(platform: Any, payload: dict[str, Any], actor: str) -> dict[str, Any]:
    return listings.create_listing(
        platform.uow(), market=str(payload["market"]), seller=None, permit=None,
        qty=int(payload["qty"]), price=int(payload["price"]), permits=platform.permits,
        actor=actor, listing_id=payload.get("listing_id"))


approvals.register("create_reserve_listing", _reserve_listing)


@router.post("/listings", tags=["listings"], status_code=201,
             responses={**WRITE, **PENDING})
def create_listing(request: Request, body: ListingIn,
                   user: Principal = Depends(require("enterprise:read"))) -> Any:
    """A trader lists its permit's tradable rights; the bureau lists from the reserve. A
    reserve listing releases reserve rights: when the approval policy asks a second officer
    for "reserve_release" (the default), the answer is 202 with the stored request (validated
    in full now), and the listing is posted when another officer approves it. Only the bureau
    may choose the listing's id: a trader's `listing_id` is refused (422
    client_id_not_allowed), its listings get the platform's ids. A reserve listing is the
    city bureau's (403 `forbidden` for a district officer)."""
    _platform_id(user, body.listing_id, "listing_id")
    p = _p(request)
    _audit(request, "create_listing", body.market, f"{body.qty} kg @ {body.price}")
    seller = None if user.is_bureau else _enterprise(user)
    if seller is None:
        city_bureau(request)  # a release of the reserve: the city bureau's (403)
        outcome, result = approvals.run_or_request(
            p, user, tx_type="reserve_release", action="create_reserve_listing",
            target=body.market,
            payload=dict(market=body.market, qty=body.qty, price=body.price,
                         listing_id=body.listing_id),
            summary=f"list {body.qty} kg of reserve rights in {body.market} at "
                    f"{body.price} fen/t")
        if outcome == "pending":
            request.state.audit["action"] = "request_approval"
            return JSONResponse(result, status_code=202)
        return result
    return listings.create_listing(p.uow(), market=body.market, seller=seller,
                                   permit=None if seller is None else body.permit,
                                   qty=body.qty, price=body.price, permits=p.permits,
                                   actor=user.username, listing_id=body.listing_id)


@router.post("/listings/{listing_id}/take", tags=["listings"], responses=WRITE)
def take_listing(request: Request, listing_id: PathId, body: TakeIn,
                 user: Principal = Depends(require("order:place"))) -> dict[str, Any]:
    _audit(request, "take_listing", listing_id, f"{body.qty} kg")
    p = _p(request)
    return listings.take_listing(p.uow(), listing_id=listing_id, enterprise=_enterprise(user),
                                 permit=body.permit, qty=body.qty, permits=p.permits,
                                 actor=user.username, fee_bps=_fee(request))


@router.post("/listings/{listing_id}/withdraw", tags=["listings"], responses=WRITE)
def withdraw_listing(request: Request, listing_id: PathId,
                     user: Principal = Depends(require("enterprise:read"))) -> dict[str, Any]:
    """A trader withdraws what is left of its own listing; the city bureau, of a reserve
    listing (putting the reserve back is the city's, as releasing it: 403 `forbidden` for
    a district officer)."""
    _audit(request, "withdraw_listing", listing_id)
    seller = None if user.is_bureau else _enterprise(user)
    if seller is None:
        city_bureau(request)
    return listings.withdraw_listing(_p(request).uow(), listing_id=listing_id, seller=seller,
                                     actor=user.username)


# negotiated transfers ----------------------------------------------------------------------

@router.get("/transfers", tags=["transfers"], responses=WRITE)
def list_transfers(request: Request,
                   status: str | None = Query(None, pattern="^(proposed|accepted|settled|"
                                                            "rejected|expired)$"),
                   user: Principal = Depends(require("enterprise:read"))) -> list[dict[str, Any]]:
    """The bureau sees every transfer (a district officer those with a party of its
    district); a trader its own enterprise's."""
    who = None if user.is_bureau else _enterprise(user)
    return transfers.transfers_of(_p(request).uow(), who, status,
                                  district=district_scope(request))


@router.get("/transfers/{transfer_id}", tags=["transfers"], responses=WRITE)
def get_transfer(request: Request, transfer_id: PathId,
                 user: Principal = Depends(require("enterprise:read"))) -> dict[str, Any]:
    return transfers.transfer_view(_p(request).uow(), transfer_id,
                                   party=None if user.is_bureau else _enterprise(user),
                                   district=district_scope(request))


def ensure_transfer_scope(platform: Any, user: Principal, transfer_id: str) -> None:
    """A district officer decides only transfers with a party of its district (another
    answers 404 `transfer_not_found`, as a missing one)."""
    if user.is_bureau and user.district is not None:
        transfers.transfer_view(platform.uow(), transfer_id, district=user.district)


@router.post("/transfers", tags=["transfers"], status_code=201, responses=WRITE)
def propose_transfer(request: Request, body: TransferIn,
                     user: Principal = Depends(require("order:place"))) -> dict[str, Any]:
    """The seller proposes quantity and price to a named buyer; its rights are held. The
    transfer's id is the platform's: a trader's `transfer_id` is refused (422
    client_id_not_allowed)."""
    _platform_id(user, body.transfer_id, "transfer_id")
    _audit(request, "propose_transfer", body.market, f"{body.qty} kg @ {body.price} to "
                                                     f"{body.buyer}")
    p = _p(request)
    return transfers.propose_transfer(
        p.uow(), market=body.market, seller=_enterprise(user), seller_permit=body.seller_permit,
        buyer=body.buyer, buyer_permit=body.buyer_permit, qty=body.qty, price=body.price,
        permits=p.permits, actor=user.username, expires_at=body.expires_at,
        transfer_id=body.transfer_id)


@router.post("/transfers/{transfer_id}/accept", tags=["transfers"], responses=WRITE)
def accept_transfer(request: Request, transfer_id: PathId,
                    user: Principal = Depends(require("order:place"))) -> dict[str, Any]:
    _audit(request, "accept_transfer", transfer_id)
    return transfers.accept_transfer(_p(request).uow(), transfer_id=transfer_id,
                                     buyer=_enterprise(user), actor=user.username,
                                     fee_bps=_fee(request))


def _approve(platform: Any, payload: dict[str, Any], actor: str) -> dict[str, Any]:
    return transfers.approve_transfer(platform.uow(), transfer_id=payload["transfer"],
                                      permits=platform.permits, actor=actor,
                                      fee_bps=int(platform.settings.fee_bps or 0))


approvals.register("approve_transfer", _approve)


def approve_or_request(platform: Any, user: Principal, transfer_id: str
                       ) -> tuple[str, dict[str, Any]]:
    """Approve an accepted negotiated transfer now, or store a request for a second officer
    when the approval policy asks one for "negotiated_transfer" (off by default). A
    transfer that is not waiting for the bureau is refused at once with its own code."""
    ensure_transfer_scope(platform, user, transfer_id)
    t = transfers.transfer_view(platform.uow(), transfer_id)
    if t["status"] != "accepted":
        return "done", _approve(platform, {"transfer": transfer_id}, user.username)
    return approvals.run_or_request(
        platform, user, tx_type="negotiated_transfer", action="approve_transfer",
        target=transfer_id, payload={"transfer": transfer_id},
        summary=f"approve negotiated transfer {transfer_id}: {t['qty']} kg in {t['market']} "
                f"at {t['price']} fen/t, {t['seller']} to {t['buyer']}")


@router.post("/transfers/{transfer_id}/approve", tags=["transfers"],
             responses={**WRITE, 202: {"description": "a second officer must approve"}})
def approve_transfer(request: Request, transfer_id: PathId,
                     user: Principal = Depends(require_role(*BUREAU))) -> Any:
    """Approve an accepted transfer: settlement moves rights and money at once. When the
    approval policy requires a second officer for "negotiated_transfer", the answer is 202
    with the approval request, and the settlement runs when another officer approves it."""
    _audit(request, "approve_transfer", transfer_id)
    outcome, result = approve_or_request(_p(request), user, transfer_id)
    if outcome == "pending":
        request.state.audit["action"] = "request_approval"
        return JSONResponse(result, status_code=202)
    return result


@router.post("/transfers/{transfer_id}/reject", tags=["transfers"], responses=WRITE)
def reject_transfer(request: Request, transfer_id: PathId, body: RejectIn,
                    user: Principal = Depends(require_role(*BUREAU))) -> dict[str, Any]:
    _audit(request, "reject_transfer", transfer_id, body.reason)
    ensure_transfer_scope(_p(request), user, transfer_id)
    return transfers.reject_transfer(_p(request).uow(), transfer_id=transfer_id,
                                     reason=body.reason, actor=user.username)


@router.post("/transfers/expire", tags=["transfers"], responses=WRITE)
def expire_transfers(request: Request,
                     user: Principal = Depends(require_role(*BUREAU))) -> dict[str, Any]:
    """The expiry sweep (also safe to run from a scheduler)."""
    _audit(request, "expire_transfers")
    return {"expired": transfers.expire_transfers(_p(request).uow(), actor=user.username)}
