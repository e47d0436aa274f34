"""JSON API of what a bidder and the bureau do to a running auction (issue 18), under
/api/v1 next to `web.api.trading`:

- ``POST /auctions/{id}/bids/{bid}/withdraw``: the bidder's own open bid, while the auction is
  open; its deposit and headroom holds are released in the same transaction.
- ``POST /auctions/{id}/bids/{bid}/replace``: a new quantity and price for it; the old holds are
  released and the new held in one transaction (a refused new bid leaves the old one).
- ``POST /auctions/{id}/schedule``: the bureau's announce, open and close times (ISO 8601 with
  an offset; Beijing times are ``+08:00``). The server takes each step when due
  (`trading.auction_service.run_due_auctions`). A schedule that opens the auction commits
  reserve rights like opening by hand, so when the approval policy asks a second officer for
  ``reserve_release`` the answer is 202 with the stored request.

A bid below the reserve price is refused by ``POST /auctions/{id}/bids`` with 422
``bid_below_reserve`` and nothing held. Another enterprise's bid answers 404 like a missing
one. Routes never commit: each calls one use case.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from identity.roles import BUREAU, Principal
from trading import auction_service as auctions
from web import approvals
from web.api.common import Strict
from web.api.common import audit as _audit
from web.api.common import platform as _p
from web.api.models import ErrorBody, Instant, PathId, Price
from web.api.trading import Kg
from web.auth import city_bureau, csrf_protect, require, require_role

router = APIRouter(dependencies=[Depends(csrf_protect)], tags=["auctions"])

WRITE: dict[int | str, dict[str, Any]] = {c: {"model": ErrorBody}
                                          for c in (401, 403, 404, 409, 422)}


class ReplaceBidIn(Strict):
    qty: Kg
    price: Price
    permit: str | None = Field(default=None, min_length=22, max_length=22,
                               description="default: the replaced bid's permit")


class ScheduleIn(Strict):
    announce_at: Instant | None = None
    open_at: Instant | None = None
    close_at: Instant | None = None


def _trader(user: Principal) -> str:
    assert user.enterprise is not None  # order:place is a trader's permission
    return user.enterprise


@router.post("/auctions/{auction_id}/bids/{bid_id}/withdraw", responses=WRITE)
def withdraw_bid(request: Request, auction_id: PathId, bid_id: PathId,
                 user: Principal = Depends(require("order:place"))) -> dict[str, Any]:
    """Withdraw your open bid while the auction is open; its holds are released."""
    _audit(request, "withdraw_bid", bid_id, f"auction {auction_id}")
    return auctions.withdraw_bid(_p(request).uow(), bid_id=bid_id, enterprise=_trader(user),
                                 auction_id=auction_id, actor=user.username)


@router.post("/auctions/{auction_id}/bids/{bid_id}/replace", status_code=201,
             responses=WRITE)
def replace_bid(request: Request, auction_id: PathId, bid_id: PathId, body: ReplaceBidIn,
                user: Principal = Depends(require("order:place"))) -> dict[str, Any]:
    """Replace your open bid: the new bid (a new id) stands instead; `replaces` names the
    old one."""
    _audit(request, "replace_bid", bid_id, f"{body.qty} kg @ {body.price}")
    p = _p(request)
    return auctions.replace_bid(p.uow(), bid_id=bid_id, enterprise=_trader(user),
                                qty=body.qty, price=body.price, permit=body.permit,
                                auction_id=auction_id, permits=p.permits, actor=user.username)


def _schedule(platform: Any, payload: dict[str, Any], actor: str) -> dict[str, Any]:
    def at(key: str) -> datetime | None:
        v = payload.get(key)
        return None if v is None else datetime.fromisoformat(str(v))

    return auctions.schedule_auction(platform.uow(), str(payload["auction"]),
                                     announce_at=at("announce_at"), open_at=at("open_at"),
                                     close_at=at("close_at"), actor=actor)


approvals.register("schedule_auction", _schedule)


def schedule_or_request(platform: Any, user: Principal, auction_id: str,
                        announce_at: datetime | None, open_at: datetime | None,
                        close_at: datetime | None) -> tuple[str, dict[str, Any]]:
    """Set the schedule now, or, when it opens the auction and the approval policy asks a
    second officer for "reserve_release", store the request (validated in full first)."""
    payload = dict(auction=auction_id,
                   announce_at=None if announce_at is None else announce_at.isoformat(),
                   open_at=None if open_at is None else open_at.isoformat(),
                   close_at=None if close_at is None else close_at.isoformat())
    if open_at is None:
        return "done", _schedule(platform, payload, user.username)
    return approvals.run_or_request(
        platform, user, tx_type="reserve_release", action="schedule_auction",
        target=auction_id, payload=payload,
        summary=f"schedule reserve auction {auction_id}: open {payload['open_at']}, "
                f"close {payload['close_at'] or 'by hand'}")


@router.post("/auctions/{auction_id}/schedule", tags=["bureau"],
             dependencies=[Depends(city_bureau)],  # the reserve's: the city bureau's (403)
             responses={**WRITE, 202: {"description": "a second officer must approve "
                                                      "(reserve_release)"}})
def schedule(request: Request, auction_id: PathId, body: ScheduleIn,
             user: Principal = Depends(require_role(*BUREAU))) -> Any:
    """Set when the server announces, opens and closes the auction."""
    _audit(request, "schedule_auction", auction_id,
           f"announce {body.announce_at} open {body.open_at} close {body.close_at}")
    outcome, result = schedule_or_request(_p(request), user, auction_id, body.announce_at,
                                          body.open_at, body.close_at)
    if outcome == "pending":
        request.state.audit["action"] = "request_approval"
        return JSONResponse(result, status_code=202)
    return result
