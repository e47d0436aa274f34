"""Pages of the trading venues beyond the continuous market: reserve auctions (sealed bid),
listings and negotiated transfers, for enterprises and for the bureau.

Enterprise pages (`/enterprises/{code}/auctions`, `/enterprises/{code}/transfers`) show a
trader its own enterprise only: its own bids (other bidders stay sealed, public results once
cleared), the transfers it sells or buys; another enterprise's objects answer 404 like
missing ones (web.auth.ensure_enterprise_access, and the use cases check the party). The
bureau (`/bureau/auctions`, `/bureau/transfers`) sets up and runs auctions and approves or
rejects accepted transfers. Object ids travel as form fields, so a malformed form re-renders
with 422 and its field errors. Pages work without JavaScript; each POST carries the CSRF
token; routes never commit (each calls one use case).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from allocation import service as alloc
from identity.roles import Principal
from kernel.beijing import BEIJING, beijing_time
from kernel.errors import DomainError
from trading import auction_service as auctions
from trading import listing_service as listings
from trading import service as trading
from trading import surveillance
from trading import transfer_service as transfers
from web.api import trading as trading_api
from web.auth import city_bureau, csrf_protect, district_scope, ensure_enterprise_access, require
from web.errors import status_of
from web.i18n import translator
from web.messages import confirm
from web.pages import forms
from web.pages.base import _p, audit, see_other
from web.pages.render import lang_of, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

AUCTION_STEPS = ("announce", "open", "close", "clear", "settle")
RULES = ("uniform", "pay_as_bid")
ID_MAX = 40


def _fee(request: Request) -> int:
    return int(getattr(_p(request).settings, "fee_bps", 0) or 0)


def _permit_codes(request: Request, code: str) -> list[str]:
    view = alloc.enterprise_view(_p(request).uow(), code)
    return [str(x["code"]) for x in view["permits"]]  # type: ignore[attr-defined]


# enterprise: auctions ----------------------------------------------------------------------

def _auctions_page(request: Request, code: str, user: Principal, status: int = 200,
                   **ctx: Any) -> HTMLResponse:
    p = _p(request)
    rows = []
    for a in auctions.list_auctions(p.uow()):
        if a["status"] == "draft":
            continue  # not announced yet
        rows.append(_with_schedule(auctions.auction_view(p.uow(), str(a["id"]), reveal=False,
                                                         enterprise=code)))
    ctx.setdefault("errors", {})
    ctx.setdefault("form", {})
    return render(request, "enterprise_auctions.html", status_code=status, code=code,
                  auctions=rows, permits=_permit_codes(request, code),
                  can_trade=user.enterprise == code, **ctx)


def _with_schedule(a: dict[str, Any]) -> dict[str, Any]:
    """The schedule's times as people read them (Beijing time)."""
    for key in ("announce_at", "open_at", "close_at"):
        a[f"{key}_text"] = beijing_time(a.get(key))
    return a


def _beijing_instant(value: str, name: str, errors: forms.FieldErrors) -> datetime | None:
    """`YYYY-MM-DDTHH:MM` (or with a space), Beijing time → an aware instant; empty: None."""
    v = (value or "").strip().replace(" ", "T")
    if not v:
        return None
    try:
        at = datetime.strptime(v[:16], "%Y-%m-%dT%H:%M")
    except ValueError:
        errors.add(name, "Enter a Beijing time like 2026-12-06 09:00.")
        return None
    return at.replace(tzinfo=BEIJING)


@router.get("/enterprises/{code}/auctions", response_class=HTMLResponse)
def enterprise_auctions(request: Request, code: str,
                        user: Principal = Depends(require("enterprise:read"))) -> HTMLResponse:
    ensure_enterprise_access(user, code)
    return _auctions_page(request, code, user)


@router.post("/enterprises/{code}/auctions/bids", response_model=None)
def enterprise_bid(request: Request, code: str, auction: Annotated[str, Form()] = "",
                   permit: Annotated[str, Form()] = "", qty: Annotated[str, Form()] = "",
                   price_yuan: Annotated[str, Form()] = "",
                   user: Principal = Depends(require("order:place"))
                   ) -> RedirectResponse | HTMLResponse:
    ensure_enterprise_access(user, code)
    form = dict(auction=auction, permit=permit, qty=qty, price_yuan=price_yuan)
    errors = forms.FieldErrors()
    auction = forms.text(auction, "auction", errors, max_len=ID_MAX)
    permit = forms.text(permit, "permit", errors, max_len=22)
    n = forms.whole(qty, "qty", errors)
    price = forms.yuan_to_fen(price_yuan, "price", errors)
    audit(request, "place_bid", auction, f"{qty} kg @ {price_yuan} yuan/t")
    status = 422
    if not errors and n is not None and price is not None:
        p = _p(request)
        try:
            r = auctions.place_bid(p.uow(), auction_id=auction, enterprise=code, permit=permit,
                                   qty=n, price=price, permits=p.permits,
                                   actor=user.username)
        except DomainError as exc:
            errors.from_domain(exc)
            status = status_of(exc)
        else:
            return see_other(f"/enterprises/{code}/auctions",
                             msg=confirm("Bid {id} placed: {qty} t at {price} yuan/t.",
                                         id=r["id"], qty_kg=n, price=price_yuan))
    return _auctions_page(request, code, user, status, errors=errors, form=form)


@router.post("/enterprises/{code}/auctions/bids/withdraw", response_model=None)
def enterprise_withdraw_bid(request: Request, code: str, bid: Annotated[str, Form()] = "",
                            user: Principal = Depends(require("order:place"))
                            ) -> RedirectResponse | HTMLResponse:
    """Withdraw an own open bid while the auction is open: deposit and headroom released."""
    ensure_enterprise_access(user, code)
    errors = forms.FieldErrors()
    bid = forms.text(bid, "bid", errors, max_len=ID_MAX)
    audit(request, "withdraw_bid", bid)
    status = 422
    if not errors:
        try:
            auctions.withdraw_bid(_p(request).uow(), bid_id=bid, enterprise=code,
                                  actor=user.username)
        except DomainError as exc:
            errors.from_domain(exc)
            status = status_of(exc)
        else:
            return see_other(f"/enterprises/{code}/auctions",
                             msg=translator(lang_of(request))("Bid withdrawn"))
    return _auctions_page(request, code, user, status, errors=errors, form={})


@router.post("/enterprises/{code}/auctions/bids/replace", response_model=None)
def enterprise_replace_bid(request: Request, code: str, bid: Annotated[str, Form()] = "",
                           qty: Annotated[str, Form()] = "",
                           price_yuan: Annotated[str, Form()] = "",
                           user: Principal = Depends(require("order:place"))
                           ) -> RedirectResponse | HTMLResponse:
    """Replace an own open bid: old holds released and new ones held in one transaction."""
    ensure_enterprise_access(user, code)
    form = dict(bid=bid, qty=qty, price_yuan=price_yuan)
    errors = forms.FieldErrors()
    bid = forms.text(bid, "bid", errors, max_len=ID_MAX)
    n = forms.whole(qty, "qty", errors)
    price = forms.yuan_to_fen(price_yuan, "price", errors)
    audit(request, "replace_bid", bid, f"{qty} kg @ {price_yuan} yuan/t")
    status = 422
    if not errors and n is not None and price is not None:
        p = _p(request)
        try:
            auctions.replace_bid(p.uow(), bid_id=bid, enterprise=code, qty=n, price=price,
                                 permits=p.permits, actor=user.username)
        except DomainError as exc:
            errors.from_domain(exc)
            status = status_of(exc)
        else:
            return see_other(f"/enterprises/{code}/auctions",
                             msg=translator(lang_of(request))("Bid replaced"))
    return _auctions_page(request, code, user, status, errors=errors, form=form)


# enterprise: transfers and listings --------------------------------------------------------

def _transfers_page(request: Request, code: str, user: Principal, status: int = 200,
                    **ctx: Any) -> HTMLResponse:
    p = _p(request)
    ctx.setdefault("errors", {})
    ctx.setdefault("forms", {})
    return render(request, "enterprise_transfers.html", status_code=status, code=code,
                  transfers=transfers.transfers_of(p.uow(), code),
                  listings=listings.listings(p.uow()),
                  markets=[str(m["id"]) for m in trading.list_markets(p.uow())],
                  permits=_permit_codes(request, code),
                  can_trade=user.enterprise == code, **ctx)


@router.get("/enterprises/{code}/transfers", response_class=HTMLResponse)
def enterprise_transfers(request: Request, code: str,
                         user: Principal = Depends(require("enterprise:read"))
                         ) -> HTMLResponse:
    ensure_enterprise_access(user, code)
    return _transfers_page(request, code, user)


@router.post("/enterprises/{code}/transfers", response_model=None)
def enterprise_propose(request: Request, code: str, market: Annotated[str, Form()] = "",
                       seller_permit: Annotated[str, Form()] = "",
                       buyer: Annotated[str, Form()] = "",
                       buyer_permit: Annotated[str, Form()] = "",
                       qty: Annotated[str, Form()] = "",
                       price_yuan: Annotated[str, Form()] = "",
                       user: Principal = Depends(require("order:place"))
                       ) -> RedirectResponse | HTMLResponse:
    ensure_enterprise_access(user, code)
    form = dict(market=market, seller_permit=seller_permit, buyer=buyer,
                buyer_permit=buyer_permit, qty=qty, price_yuan=price_yuan)
    errors = forms.FieldErrors()
    market = forms.text(market, "market", errors, max_len=40)
    seller_permit = forms.text(seller_permit, "seller_permit", errors, max_len=22)
    buyer = forms.text(buyer, "buyer", errors, max_len=18)
    buyer_permit = forms.text(buyer_permit, "buyer_permit", errors, max_len=22)
    n = forms.whole(qty, "qty", errors)
    price = forms.yuan_to_fen(price_yuan, "price", errors)
    audit(request, "propose_transfer", market, f"{qty} kg @ {price_yuan} yuan/t to {buyer}")
    status = 422
    if not errors and n is not None and price is not None:
        p = _p(request)
        try:
            r = transfers.propose_transfer(
                p.uow(), market=market, seller=code, seller_permit=seller_permit, buyer=buyer,
                buyer_permit=buyer_permit, qty=n, price=price, permits=p.permits,
                actor=user.username)
        except DomainError as exc:
            errors.from_domain(exc)
            status = status_of(exc)
        else:
            request.state.audit["target"] = r["id"]
            return see_other(f"/enterprises/{code}/transfers",
                             msg=confirm("Transfer {id} proposed.", id=r["id"]))
    return _transfers_page(request, code, user, status, errors={"propose": errors},
                           forms={"propose": form})


@router.post("/enterprises/{code}/transfers/accept", response_model=None)
def enterprise_accept(request: Request, code: str, transfer: Annotated[str, Form()] = "",
                      user: Principal = Depends(require("order:place"))
                      ) -> RedirectResponse | HTMLResponse:
    ensure_enterprise_access(user, code)
    errors = forms.FieldErrors()
    transfer = forms.text(transfer, "transfer", errors, max_len=ID_MAX)
    audit(request, "accept_transfer", transfer)
    status = 422
    if not errors:
        try:
            transfers.accept_transfer(_p(request).uow(), transfer_id=transfer, buyer=code,
                                      actor=user.username, fee_bps=_fee(request))
        except DomainError as exc:
            errors.from_domain(exc)
            status = status_of(exc)
        else:
            return see_other(f"/enterprises/{code}/transfers",
                             msg=confirm("Transfer {id} accepted.", id=transfer))
    return _transfers_page(request, code, user, status, errors={"accept": errors})


@router.post("/enterprises/{code}/listings/take", response_model=None)
def enterprise_take(request: Request, code: str, listing: Annotated[str, Form()] = "",
                    permit: Annotated[str, Form()] = "", qty: Annotated[str, Form()] = "",
                    user: Principal = Depends(require("order:place"))
                    ) -> RedirectResponse | HTMLResponse:
    ensure_enterprise_access(user, code)
    form = dict(listing=listing, permit=permit, qty=qty)
    errors = forms.FieldErrors()
    listing = forms.text(listing, "listing", errors, max_len=ID_MAX)
    permit = forms.text(permit, "permit", errors, max_len=22)
    n = forms.whole(qty, "qty", errors)
    audit(request, "take_listing", listing, f"{qty} kg")
    status = 422
    if not errors and n is not None:
        p = _p(request)
        try:
            r = listings.take_listing(p.uow(), listing_id=listing, enterprise=code,
                                      permit=permit, qty=n, permits=p.permits,
                                      actor=user.username, fee_bps=_fee(request))
        except DomainError as exc:
            errors.from_domain(exc)
            status = status_of(exc)
        else:
            return see_other(f"/enterprises/{code}/transfers",
                             msg=confirm("Listing {id}: took {qty} t ({status}).", id=listing,
                                         qty_kg=n, status=("status", r["status"])))
    return _transfers_page(request, code, user, status, errors={"take": errors},
                           forms={"take": form})


# bureau: auctions --------------------------------------------------------------------------

def _bureau_auctions(request: Request, status: int = 200, **ctx: Any) -> HTMLResponse:
    p = _p(request)
    scope = district_scope(request)  # a district officer: its district's bids only
    rows = [_with_schedule(auctions.auction_view(p.uow(), str(a["id"]), reveal=True,
                                                 district=scope))
            for a in auctions.list_auctions(p.uow())]
    names: dict[str, str] = {}
    for a in rows:  # bidder names, for the bureau only (bids stay sealed to bidders)
        for b in a.get("bids") or []:
            code = str(b["enterprise"])
            if code not in names:
                names[code] = str(alloc.enterprise_view(p.read_uow(), code)["name"])
            b["enterprise_name"] = names[code]
    ctx.setdefault("errors", {})
    ctx.setdefault("forms", {})
    return render(request, "bureau_auctions.html", status_code=status, auctions=rows,
                  can_run=scope is None,  # a district officer reads; the city bureau runs
                  markets=[str(m["id"]) for m in trading.list_markets(p.uow())],
                  rules=RULES, next_step=_next_step, **ctx)


def _next_step(status: str) -> str | None:
    return {"draft": "open", "announced": "open", "open": "close", "closed": "clear",
            "cleared": "settle"}.get(status)


@router.get("/bureau/auctions", response_class=HTMLResponse)
def bureau_auctions(request: Request,
                    user: Principal = Depends(require("market:state"))) -> HTMLResponse:
    return _bureau_auctions(request)


# running the reserve's auctions (create, schedule, every step) is the city bureau's, like
# the reserve's other releases (403 for a district officer)
CITY = [Depends(city_bureau)]


@router.post("/bureau/auctions", response_model=None, dependencies=CITY)
def bureau_create_auction(request: Request, market: Annotated[str, Form()] = "",
                          offered: Annotated[str, Form()] = "",
                          reserve_yuan: Annotated[str, Form()] = "",
                          rule: Annotated[str, Form()] = "uniform",
                          tie_seed: Annotated[str, Form()] = "",
                          bidder_cap_pct: Annotated[str, Form()] = "",
                          user: Principal = Depends(require("market:state"))
                          ) -> RedirectResponse | HTMLResponse:
    form = dict(market=market, offered=offered, reserve_yuan=reserve_yuan, rule=rule,
                tie_seed=tie_seed, bidder_cap_pct=bidder_cap_pct)
    errors = forms.FieldErrors()
    market = forms.text(market, "market", errors, max_len=40)
    n = forms.whole(offered, "offered", errors)
    reserve = forms.yuan_to_fen(reserve_yuan, "reserve_price", errors)
    forms.choice(rule, "rule", errors, RULES)
    seed = forms.whole(tie_seed, "tie_seed", errors, lo=0, hi=2**62, required=False)
    cap: int | None = None
    if bidder_cap_pct.strip():
        cap = forms.whole(bidder_cap_pct, "bidder_cap_pct", errors, lo=1, hi=100)
    audit(request, "create_auction", market, f"{offered} kg >= {reserve_yuan} yuan/t {rule}")
    status = 422
    if not errors and n is not None and reserve is not None:
        try:
            r = auctions.create_auction(_p(request).uow(), market=market, offered=n,
                                        reserve_price=reserve, rule=rule,
                                        bidder_cap_pct=cap, tie_seed=seed,
                                        actor=user.username)
        except DomainError as exc:
            errors.from_domain(exc)
            status = status_of(exc)
        else:
            request.state.audit["target"] = r["id"]
            return see_other("/bureau/auctions", msg=confirm("Auction {id} created.", id=r["id"]))
    return _bureau_auctions(request, status, errors={"create": errors},
                            forms={"create": form})


@router.post("/bureau/auctions/step", response_model=None, dependencies=CITY)
def bureau_auction_step(request: Request, auction: Annotated[str, Form()] = "",
                        action: Annotated[str, Form()] = "",
                        user: Principal = Depends(require("market:state"))
                        ) -> RedirectResponse | HTMLResponse:
    errors = forms.FieldErrors()
    auction = forms.text(auction, "auction", errors, max_len=ID_MAX)
    forms.choice(action, "action", errors, AUCTION_STEPS)
    audit(request, f"{action[:10]}_auction", auction)
    status = 422
    if not errors:
        p = _p(request)
        try:
            if action == "settle":
                r = auctions.settle_auction(p.uow(), auction, permits=p.permits,
                                            actor=user.username)
            elif action == "open":
                outcome, r = trading_api.open_or_request(p, user, auction)
                if outcome == "pending":
                    request.state.audit["action"] = "request_approval"
                    return see_other("/bureau/auctions", msg=confirm(
                        "Auction {id}: a second officer must approve (request #{request}).",
                        id=auction, request=r["id"]))
            else:
                step = {"open": auctions.open_auction, "close": auctions.close_auction,
                        "clear": auctions.clear_auction,
                        "announce": auctions.announce_auction}[action]
                r = step(p.uow(), auction, actor=user.username)
        except DomainError as exc:
            errors.from_domain(exc)
            status = status_of(exc)
        else:
            return see_other("/bureau/auctions", msg=confirm("Auction {id}: {status}.", id=auction,
                                                                 status=("status", r["status"])))
    return _bureau_auctions(request, status, errors={"step": errors})


@router.post("/bureau/auctions/schedule", response_model=None, dependencies=CITY)
def bureau_schedule_auction(request: Request, auction: Annotated[str, Form()] = "",
                            announce_at: Annotated[str, Form()] = "",
                            open_at: Annotated[str, Form()] = "",
                            close_at: Annotated[str, Form()] = "",
                            user: Principal = Depends(require("market:state"))
                            ) -> RedirectResponse | HTMLResponse:
    """The Beijing times the server announces, opens and closes the auction at. A schedule
    that opens it needs a second officer when opening does (reserve_release)."""
    from web.api.auction_bids import schedule_or_request

    form = dict(auction=auction, announce_at=announce_at, open_at=open_at, close_at=close_at)
    errors = forms.FieldErrors()
    auction = forms.text(auction, "auction", errors, max_len=ID_MAX)
    ann = _beijing_instant(announce_at, "announce_at", errors)
    opn = _beijing_instant(open_at, "open_at", errors)
    cls = _beijing_instant(close_at, "close_at", errors)
    audit(request, "schedule_auction", auction,
          f"announce {announce_at} open {open_at} close {close_at} (Beijing)")
    status = 422
    if not errors:
        try:
            outcome, r = schedule_or_request(_p(request), user, auction, ann, opn, cls)
        except DomainError as exc:
            errors.from_domain(exc)
            status = status_of(exc)
        else:
            if outcome == "pending":
                request.state.audit["action"] = "request_approval"
                return see_other("/bureau/auctions", msg=confirm(
                    "Auction {id}: a second officer must approve (request #{request}).",
                    id=auction, request=r["id"]))
            return see_other("/bureau/auctions", msg=translator(lang_of(request))("Schedule saved"))
    return _bureau_auctions(request, status, errors={"schedule": errors},
                            forms={"schedule": form})


# bureau: negotiated transfers --------------------------------------------------------------

def _bureau_transfers(request: Request, status: int = 200, **ctx: Any) -> HTMLResponse:
    ctx.setdefault("errors", {})
    return render(request, "bureau_transfers.html", status_code=status,
                  transfers=transfers.transfers_of(_p(request).uow(), None,
                                                   district=district_scope(request)), **ctx)


@router.get("/bureau/transfers", response_class=HTMLResponse)
def bureau_transfers(request: Request,
                     user: Principal = Depends(require("market:state"))) -> HTMLResponse:
    return _bureau_transfers(request)


@router.post("/bureau/transfers/decide", response_model=None)
def bureau_decide_transfer(request: Request, transfer: Annotated[str, Form()] = "",
                           decision: Annotated[str, Form()] = "",
                           reason: Annotated[str, Form()] = "",
                           user: Principal = Depends(require("market:state"))
                           ) -> RedirectResponse | HTMLResponse:
    errors = forms.FieldErrors()
    transfer = forms.text(transfer, "transfer", errors, max_len=ID_MAX)
    forms.choice(decision, "decision", errors, ("approve", "reject"))
    why = forms.text(reason, "reason", errors, max_len=200, required=decision == "reject")
    audit(request, f"{decision[:10]}_transfer", transfer, why or None)
    status = 422
    if not errors:
        p = _p(request)
        try:
            if decision == "approve":
                outcome, r = trading_api.approve_or_request(p, user, transfer)
                if outcome == "pending":
                    request.state.audit["action"] = "request_approval"
                    return see_other("/bureau/transfers", msg=confirm(
                        "Transfer {id}: a second officer must approve (request #{request}).",
                        id=transfer, request=r["id"]))
            else:
                trading_api.ensure_transfer_scope(p, user, transfer)
                r = transfers.reject_transfer(p.uow(), transfer_id=transfer, reason=why,
                                              actor=user.username)
        except DomainError as exc:
            errors.from_domain(exc)
            status = status_of(exc)
        else:
            return see_other("/bureau/transfers", msg=confirm(
                "Transfer {id}: {status}.", id=transfer, status=("status", r["status"])))
    return _bureau_transfers(request, status, errors=errors,
                             form=dict(transfer=transfer, decision=decision, reason=reason))


# bureau: unusual trades (trading.surveillance) ---------------------------------------------

FLAGS_PAGE = 100


@router.get("/bureau/markets/flags", response_class=HTMLResponse)
def bureau_flags(request: Request, pct: Annotated[int, Query(ge=1, le=1000)] = 20,
                 window_days: Annotated[int, Query(ge=1, le=366)] = 1,
                 qty_tolerance_pct: Annotated[int, Query(ge=0, le=100)] = 20,
                 page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                 user: Principal = Depends(require("market:state"))) -> HTMLResponse:
    flags = trading.surveillance_flags(_p(request).uow(), pct=pct, window_days=window_days,
                                       qty_tolerance_pct=qty_tolerance_pct,
                                       district=district_scope(request))
    rows = [f.row() for f in flags[(page - 1) * FLAGS_PAGE:page * FLAGS_PAGE]]
    counts = {k: sum(1 for f in flags if f.kind == k) for k in surveillance.KINDS}
    return render(request, "bureau_flags.html", pct=pct, window_days=window_days,
                  qty_tolerance_pct=qty_tolerance_pct, flags=rows, counts=counts,
                  total=len(flags), page=page, pages=max(1, -(-len(flags) // FLAGS_PAGE)),
                  pager_base="?" + urlencode(dict(pct=pct, window_days=window_days,
                                                  qty_tolerance_pct=qty_tolerance_pct)) + "&")
