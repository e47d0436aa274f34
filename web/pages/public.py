"""Public disclosure (no log-in): permits and their quantities and history, and trade
prices over time as a server-rendered SVG chart."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from allocation import service as alloc
from identity.roles import Principal
from trading import service as trading
from web.auth import current_user
from web.charts import price_chart
from web.pages.render import render
from web.pages.routes import _p

router = APIRouter(include_in_schema=False)


@router.get("/public/permits", response_class=HTMLResponse)
def permits(request: Request, q: Annotated[str | None, Query(max_length=100)] = None,
            sector: Annotated[str | None, Query(max_length=30)] = None,
            page: Annotated[int, Query(ge=1, le=100_000)] = 1,
            user: Principal | None = Depends(current_user)) -> HTMLResponse:
    size = 50
    res = alloc.search_enterprises(_p(request).uow(), q=q or None, sector=sector or None,
                                   offset=(page - 1) * size, limit=size)
    from urllib.parse import urlencode

    total = int(res["total"])  # type: ignore[call-overload]
    return render(request, "public_permits.html", res=res, q=q or "", sector=sector or "",
                  page=page, pages=max(1, -(-total // size)),
                  pager_base="?" + urlencode({"q": q or "", "sector": sector or ""}) + "&")


@router.get("/public/enterprises/{code}", response_class=HTMLResponse)
def enterprise(request: Request, code: str,
               user: Principal | None = Depends(current_user)) -> HTMLResponse:
    p = _p(request)
    view = alloc.enterprise_view(p.uow(), code)
    permit_codes = [x["code"] for x in view["permits"]]  # type: ignore[attr-defined]
    return render(request, "public_enterprise.html", e=view,
                  permits=[alloc.permit_view(p.uow(), c, events=100) for c in permit_codes])


@router.get("/public/prices", response_class=HTMLResponse)
def prices(request: Request, market: Annotated[str | None, Query(max_length=40)] = None,
           user: Principal | None = Depends(current_user)) -> HTMLResponse:
    p = _p(request)
    markets = trading.list_markets(p.uow())
    ids = [str(m["id"]) for m in markets]
    traded = [str(m["id"]) for m in markets if m["last_price"] is not None]
    selected = market if market in ids else (traded[0] if traded else (ids[0] if ids else None))
    chart = None
    if selected:
        view = trading.market_view(p.uow(), selected, levels=1, tape=500)
        points = [(str(t["at"]), int(t["price"]))
                  for t in reversed(view["trades"])]  # type: ignore[call-overload]
        chart = price_chart(points, title=f"{selected} · yuan/t")
    return render(request, "public_prices.html", markets=markets, selected=selected,
                  chart=chart)
