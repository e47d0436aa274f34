"""Public disclosure (no log-in): permits and their quantities and history, trade prices over
time as a server-rendered SVG chart, recent trades (anonymised, as an exchange publishes
them), compliance status per enterprise and penalty decisions. Nothing private is shown:
no cash, holdings, parties of a trade, order ids or fees (docs/public-disclosure.md)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from allocation import service as alloc
from allocation.public import public_permit
from compliance.enforcement import disclosure_service as disclosure
from identity.roles import Principal
from trading import service as trading
from web.auth import current_user
from web.charts import price_chart
from web.pages.base import _p
from web.pages.register_pages import decorate
from web.pages.render import render

router = APIRouter(include_in_schema=False)
SIZE = 50
Page = Annotated[int, Query(ge=1, le=100_000)]
Search = Annotated[str | None, Query(max_length=100)]
Year = Annotated[int | None, Query(ge=1990, le=2200)]


def _pages(total: int) -> int:
    return max(1, -(-total // SIZE))


def _base(**params: object) -> str:
    """The pager's link prefix, keeping the list's filters."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return "?" + (urlencode(kept) + "&" if kept else "")


@router.get("/public/permits", response_class=HTMLResponse)
def permits(request: Request, q: Annotated[str | None, Query(max_length=100)] = None,
            sector: Annotated[str | None, Query(max_length=30)] = None,
            page: Annotated[int, Query(ge=1, le=100_000)] = 1,
            user: Principal | None = Depends(current_user)) -> HTMLResponse:
    size = 50
    res = alloc.search_enterprises(_p(request).read_uow(), q=q or None, sector=sector or None,
                                   offset=(page - 1) * size, limit=size)
    total = int(res["total"])  # type: ignore[call-overload]
    return render(request, "public_permits.html", res=res, q=q or "", sector=sector or "",
                  page=page, pages=max(1, -(-total // size)),
                  pager_base="?" + urlencode({"q": q or "", "sector": sector or ""}) + "&")


@router.get("/public/enterprises/{code}", response_class=HTMLResponse)
def enterprise(request: Request, code: str, year: Year = None,
               user: Principal | None = Depends(current_user)) -> HTMLResponse:
    p = _p(request)
    view = alloc.enterprise_view(p.read_uow(), code)
    permit_codes = [x["code"] for x in view["permits"]]  # type: ignore[attr-defined]
    return render(request, "public_enterprise.html", e=view,
                  permits=decorate(request, [public_permit(alloc.permit_view(
                      p.read_uow(), c, events=100)) for c in permit_codes]),
                  disc=disclosure.enterprise_disclosure(p.read_uow(), enterprise=code, year=year))


@router.get("/public/prices", response_class=HTMLResponse)
def prices(request: Request, market: Annotated[str | None, Query(max_length=40)] = None,
           user: Principal | None = Depends(current_user)) -> HTMLResponse:
    p = _p(request)
    markets = trading.list_markets(p.read_uow())
    ids = [str(m["id"]) for m in markets]
    traded = [str(m["id"]) for m in markets if m["last_price"] is not None]
    selected = market if market in ids else (traded[0] if traded else (ids[0] if ids else None))
    chart = None
    if selected:
        view = trading.market_view(p.read_uow(), selected, levels=1, tape=500)
        points = [(str(t["at"]), int(t["price"]))
                  for t in reversed(view["trades"])]  # type: ignore[call-overload]
        chart = price_chart(points, title=f"{selected} · yuan/t")
    return render(request, "public_prices.html", markets=markets, selected=selected,
                  chart=chart)


@router.get("/public/penalties", response_class=HTMLResponse)
def penalties(request: Request, q: Search = None, page: Page = 1,
              user: Principal | None = Depends(current_user)) -> HTMLResponse:
    res = disclosure.penalty_decisions(_p(request).read_uow(), q=q or None,
                                       offset=(page - 1) * SIZE, limit=SIZE)
    return render(request, "public_penalties.html", res=res, q=q or "", page=page,
                  pages=_pages(res["total"]), pager_base=_base(q=q))


@router.get("/public/compliance", response_class=HTMLResponse)
def compliance(request: Request, year: Year = None, q: Search = None, page: Page = 1,
               user: Principal | None = Depends(current_user)) -> HTMLResponse:
    res = disclosure.public_compliance(_p(request).read_uow(), year=year, q=q or None,
                                       offset=(page - 1) * SIZE, limit=SIZE)
    return render(request, "public_compliance.html", res=res, q=q or "", year=res["year"],
                  page=page, pages=_pages(res["total"]), pager_base=_base(year=year, q=q))


@router.get("/public/trades", response_class=HTMLResponse)
def trades(request: Request, market: Annotated[str | None, Query(max_length=40)] = None,
           page: Page = 1, user: Principal | None = Depends(current_user)) -> HTMLResponse:
    p = _p(request)
    res = disclosure.public_trades(p.read_uow(), market=market or None, offset=(page - 1) * SIZE,
                                   limit=SIZE)
    return render(request, "public_trades.html", res=res, market=market or "",
                  markets=trading.list_markets(p.read_uow()), page=page,
                  pages=_pages(res["total"]), pager_base=_base(market=market))
