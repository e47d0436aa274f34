"""Enterprise workspace, the registry list, markets and the home page. Pages work without
JavaScript (forms post, then redirect; a rejected form re-renders with its errors); with htmx
the market block refreshes itself. One URL serves a page or, for `HX-Request: true`, its
fragment (responses carry `Vary: HX-Request`)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from allocation import service as alloc
from identity.roles import Principal, Role
from kernel.errors import DomainError
from ledger import service as ledger_service
from trading import service as trading
from web.auth import csrf_protect, current_user, ensure_enterprise_access, require
from web.charts import price_chart
from web.errors import status_of
from web.messages import confirm
from web.pages import forms
from web.pages.base import _p, audit, see_other
from web.pages.render import is_htmx, lang_of, render
from web.statements import holdings_csv, trades_csv

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Id = Annotated[int, Path(ge=1, le=2**53)]
Vintage = Annotated[int, Path(ge=1900, le=2200)]


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: Principal | None = Depends(current_user)) -> HTMLResponse:
    if user is not None:  # the role's workbench (issue 18)
        from web.pages.workbench import workbench

        return workbench(request, user)
    p = _p(request)
    return render(request, "home.html", summary=alloc.registry_summary(p.read_uow()),
                  markets=trading.list_markets(p.read_uow()))


@router.get("/enterprises", response_class=HTMLResponse)
def enterprises(request: Request, q: Annotated[str | None, Query(max_length=100)] = None,
                sector: Annotated[str | None, Query(max_length=30)] = None,
                district: Annotated[str | None, Query(max_length=20)] = None,
                page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                user: Principal = Depends(require("registry:read"))) -> HTMLResponse:
    size = 50
    if user.is_bureau and user.district is not None:
        district = user.district  # a district officer searches its own district
    res = alloc.search_enterprises(_p(request).read_uow(), q=q or None, sector=sector or None,
                                   district=district or None, offset=(page - 1) * size,
                                   limit=size)
    total = int(res["total"])  # type: ignore[call-overload]
    name = "_enterprise_rows.html" if is_htmx(request) else "enterprises.html"
    return render(request, name, res=res, q=q or "", sector=sector or "",
                  district=district or "", page=page, pages=max(1, -(-total // size)))


def _enterprise_context(request: Request, code: str, user: Principal,
                        market_id: str | None = None) -> dict[str, Any]:
    p = _p(request)
    view = alloc.enterprise_view(p.read_uow(), code)
    permit_codes = [x["code"] for x in view["permits"]]  # type: ignore[attr-defined]
    permits = [alloc.permit_view(p.read_uow(), c, events=50) for c in permit_codes]
    from web.pages.register_pages import decorate  # the register's sections (issue 17)

    decorate(request, permits)
    holdings = ledger_service.holdings(p.read_uow(), [code, *permit_codes])
    rights: dict[str, dict[str, object]] = {}
    cash = None
    for h in holdings:
        if h["asset"] == "CNY":
            cash = h
            continue
        row = rights.setdefault(str(h["asset"]), {"asset": h["asset"]})
        row[str(h["kind"])] = h
    markets = trading.list_markets(p.read_uow())
    from web.pages.order_entry import order_entry  # only what the permits can trade (issue 18)

    entry = order_entry(permits, markets, holdings, wanted_market=market_id,
                        fee_bps=int(getattr(p.settings, "fee_bps", 0) or 0))
    selected = entry["selected"]
    m = trading.market_view(p.read_uow(), selected) if selected else None
    return dict(e=view, permits=permits,
                rights=sorted(rights.values(), key=lambda r: str(r["asset"])), cash=cash,
                orders=trading.orders_of(p.read_uow(), code, 30),
                trades=trading.trades_of(p.read_uow(), code, 30), markets=markets,
                selected_market=selected, m=m, entry=entry,
                poll_url=f"/enterprises/{code}/depth?market={quote(selected, safe='')}"
                if selected else None,
                can_trade=user.role == Role.TRADER and user.enterprise == code)


@router.get("/enterprises/{code}", response_class=HTMLResponse)
def enterprise(request: Request, code: str,
               market: Annotated[str | None, Query(max_length=40)] = None,
               user: Principal = Depends(require("enterprise:read"))) -> HTMLResponse:
    ensure_enterprise_access(user, code)
    return render(request, "enterprise.html", **_enterprise_context(request, code, user, market))


@router.get("/enterprises/{code}/depth", response_class=HTMLResponse)
def enterprise_depth(request: Request, code: str,
                     market: Annotated[str, Query(max_length=40)],
                     user: Principal = Depends(require("enterprise:read"))) -> HTMLResponse:
    """Fragment: live depth and tape of the market chosen in the order form."""
    ensure_enterprise_access(user, code)
    m = trading.market_view(_p(request).read_uow(), market)
    if not is_htmx(request):
        return see_other(f"/enterprises/{code}?market={quote(market, safe='')}")  # type: ignore[return-value]
    return render(request, "_market_data.html", m=m,
                  poll_url=f"/enterprises/{code}/depth?market={quote(market, safe='')}")


@router.post("/enterprises/{code}/orders", response_model=None)
def enterprise_order(request: Request, code: str,
                     permit: Annotated[str, Form()] = "", market: Annotated[str, Form()] = "",
                     side: Annotated[str, Form()] = "", qty: Annotated[str, Form()] = "",
                     price_yuan: Annotated[str, Form()] = "",
                     tif: Annotated[str, Form()] = "gtc",
                     user: Principal = Depends(require("order:place"))
                     ) -> RedirectResponse | HTMLResponse:
    ensure_enterprise_access(user, code)
    form = dict(permit=permit, market=market, side=side, qty=qty, price_yuan=price_yuan,
                tif=tif)
    errors = forms.FieldErrors()
    permit = forms.text(permit, "permit", errors, max_len=22)
    market = forms.text(market, "market", errors, max_len=40)
    forms.choice(side, "side", errors, ("buy", "sell"))
    forms.choice(tif, "tif", errors, ("gtc", "ioc", "fok"))
    n = forms.whole(qty, "qty", errors)
    price = forms.yuan_to_fen(price_yuan, "price", errors)
    audit(request, "place_order", market, f"{side} {qty} kg @ {price_yuan} yuan/t {tif}")
    status = 422
    if not errors and n is not None and price is not None:
        p = _p(request)
        try:
            r = p.place_order(trading.PlaceOrder(code, permit, market, side, n, price, tif),
                              actor=user.username)
        except DomainError as exc:
            errors.from_domain(exc)
            status = status_of(exc)
        else:
            request.state.audit["target"] = r.order_id
            return see_other(f"/enterprises/{code}?market={quote(market, safe='')}",
                             msg=confirm("Order {order}: {status}, {filled} t filled.",
                                         order=r.order_id[:8], status=("status", r.status),
                                         filled_kg=r.filled))
    return render(request, "enterprise.html", status_code=status, errors=errors, form=form,
                  **_enterprise_context(request, code, user, market))


@router.post("/enterprises/{code}/orders/{order_id}/cancel", response_model=None)
def enterprise_cancel(request: Request, code: str, order_id: str,
                      user: Principal = Depends(require("order:place"))) -> RedirectResponse:
    ensure_enterprise_access(user, code)
    audit(request, "cancel_order", order_id)
    # the way orders are placed: through the matching process when the server runs one, so
    # that no other process moves the market under its book
    _p(request).cancel_order(enterprise=code, order_id=order_id, actor=user.username)
    return see_other(f"/enterprises/{code}",
                     msg=confirm("Order {order} cancelled.", order=order_id[:8]))


@router.get("/enterprises/{code}/statements/trades.csv")
def statement_trades(request: Request, code: str,
                     user: Principal = Depends(require("enterprise:read"))) -> Response:
    ensure_enterprise_access(user, code)
    p = _p(request)
    alloc.enterprise_view(p.read_uow(), code)
    return trades_csv(code, trading.trades_of(p.read_uow(), code, 5000), lang_of(request))


@router.get("/enterprises/{code}/statements/holdings.csv")
def statement_holdings(request: Request, code: str,
                       user: Principal = Depends(require("enterprise:read"))) -> Response:
    ensure_enterprise_access(user, code)
    p = _p(request)
    view = alloc.enterprise_view(p.read_uow(), code)
    permit_codes = [x["code"] for x in view["permits"]]  # type: ignore[attr-defined]
    return holdings_csv(code, ledger_service.holdings(p.read_uow(), [code, *permit_codes]),
                        lang_of(request))


@router.get("/markets/{pollutant}/{zone}/{vintage}", response_class=HTMLResponse)
def market(request: Request, pollutant: str, zone: str, vintage: Vintage,
           user: Principal | None = Depends(current_user)) -> HTMLResponse:
    p = _p(request)
    market_id = f"{pollutant}/{zone}/{vintage}"
    if is_htmx(request):
        return render(request, "_market_data.html", m=trading.market_view(p.read_uow(), market_id))
    # one read for the depth, the tape (its newest 30) and the chart (the newest 500)
    m = trading.market_view(p.read_uow(), market_id, tape=500)
    tape: list[dict[str, Any]] = m["trades"]  # type: ignore[assignment]
    points = [(str(t["at"]), int(t["price"])) for t in reversed(tape)]
    from web.pages.market_halts import state_note  # why it is halted (issue 18)

    return render(request, "market.html", m=dict(m, trades=tape[:30]),
                  chart=price_chart(points, title=f"{m['id']} · yuan/t"),
                  state_note=state_note(request, market_id))
