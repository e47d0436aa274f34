"""HTML pages. They work without JavaScript (forms post, then redirect); with htmx loaded the
market block refreshes itself. One URL serves a page or, for `HX-Request: true`, its fragment.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from allocation import service as alloc
from app.wiring import Platform
from kernel.errors import DomainError
from ledger import service as ledger_service
from trading import service as trading
from web.pages.render import is_htmx, render

router = APIRouter(include_in_schema=False)


def _p(request: Request) -> Platform:
    return request.app.state.platform  # type: ignore[no-any-return]


def _back(url: str, *, msg: str | None = None, err: DomainError | None = None
          ) -> RedirectResponse:
    sep = "&" if "?" in url else "?"
    if err is not None:
        url += f"{sep}err={quote(f'{err.code}: {err.message}')}"
    elif msg:
        url += f"{sep}msg={quote(msg)}"
    return RedirectResponse(url, status_code=303)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    p = _p(request)
    return render(request, "home.html", summary=alloc.registry_summary(p.uow()),
                  markets=trading.list_markets(p.uow()))


@router.get("/enterprises", response_class=HTMLResponse)
def enterprises(request: Request, q: Annotated[str | None, Query(max_length=100)] = None,
                sector: Annotated[str | None, Query(max_length=30)] = None,
                page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> HTMLResponse:
    size = 50
    res = alloc.search_enterprises(_p(request).uow(), q=q or None, sector=sector or None,
                                   offset=(page - 1) * size, limit=size)
    total = int(res["total"])  # type: ignore[call-overload]
    return render(request, "enterprises.html", res=res, q=q or "", sector=sector or "",
                  page=page, pages=max(1, -(-total // size)))


@router.get("/enterprises/{code}", response_class=HTMLResponse)
def enterprise(request: Request, code: str) -> HTMLResponse:
    p = _p(request)
    view = alloc.enterprise_view(p.uow(), code)
    permit_codes = [x["code"] for x in view["permits"]]  # type: ignore[attr-defined]
    permits = [alloc.permit_view(p.uow(), c, events=50) for c in permit_codes]
    holdings = ledger_service.holdings(p.uow(), [code, *permit_codes])
    rights: dict[str, dict[str, object]] = {}
    cash = None
    for h in holdings:
        if h["asset"] == "CNY":
            cash = h
            continue
        row = rights.setdefault(str(h["asset"]), {"asset": h["asset"]})
        row[str(h["kind"])] = h
    return render(request, "enterprise.html", e=view, permits=permits,
                  rights=sorted(rights.values(), key=lambda r: str(r["asset"])), cash=cash,
                  orders=trading.orders_of(p.uow(), code, 30),
                  trades=trading.trades_of(p.uow(), code, 30),
                  markets=trading.list_markets(p.uow()))


@router.post("/enterprises/{code}/orders")
def enterprise_order(request: Request, code: str,
                     permit: Annotated[str, Form(max_length=22)],
                     market: Annotated[str, Form(max_length=40)],
                     side: Annotated[str, Form(max_length=4)],
                     qty: Annotated[int, Form()], price_yuan: Annotated[str, Form(max_length=20)],
                     tif: Annotated[str, Form(max_length=4)] = "gtc") -> RedirectResponse:
    back = f"/enterprises/{code}"
    p = _p(request)
    try:
        price = _yuan_to_fen(price_yuan)
        r = trading.place_order(p.uow(), trading.PlaceOrder(code, permit, market, side, qty,
                                                            price, tif),
                                permits=p.permits, actor=code)
    except DomainError as exc:
        return _back(back, err=exc)
    return _back(back, msg=f"委托 {r.order_id[:8]}… {r.status}：成交 {r.filled} kg")


@router.post("/enterprises/{code}/orders/{order_id}/cancel")
def enterprise_cancel(request: Request, code: str, order_id: str) -> RedirectResponse:
    back = f"/enterprises/{code}"
    try:
        trading.cancel_order(_p(request).uow(), enterprise=code, order_id=order_id, actor=code)
    except DomainError as exc:
        return _back(back, err=exc)
    return _back(back, msg="已撤单 order cancelled")


def _yuan_to_fen(text: str) -> int:
    from decimal import Decimal, InvalidOperation

    from kernel.errors import InvalidInput

    try:
        d = Decimal(text.strip())
    except InvalidOperation as exc:
        raise InvalidInput("price must be a number of yuan per tonne", field="price") from exc
    fen = d * 100
    if fen != fen.to_integral_value():
        raise InvalidInput("price is off the tick (0.01 yuan per tonne)", field="price")
    return int(fen)


@router.get("/markets/{pollutant}/{zone}/{vintage}", response_class=HTMLResponse)
def market(request: Request, pollutant: str, zone: str, vintage: int) -> HTMLResponse:
    m = trading.market_view(_p(request).uow(), f"{pollutant}/{zone}/{vintage}")
    name = "_market_data.html" if is_htmx(request) else "market.html"
    return render(request, name, m=m)


@router.get("/bureau", response_class=HTMLResponse)
def bureau(request: Request) -> HTMLResponse:
    sums = ledger_service.asset_sums(_p(request).uow())
    return render(request, "bureau.html", sums=sums,
                  nonzero=[a for a, v in sums.items() if v != 0])


@router.post("/bureau/confirmations")
def bureau_confirm(request: Request, permit: Annotated[str, Form(max_length=22)],
                   pollutant: Annotated[str, Form(max_length=10)],
                   year: Annotated[int, Form(ge=2000, le=2100)],
                   qty_kg: Annotated[str, Form(max_length=20)] = "") -> RedirectResponse:
    try:
        qty = int(qty_kg) if qty_kg.strip() else None
    except ValueError:
        from kernel.errors import InvalidInput

        return _back("/bureau", err=InvalidInput("qty_kg must be a whole number",
                                                 field="qty_kg"))
    try:
        r = alloc.confirm_rights(_p(request).uow(), permit=permit, pollutant=pollutant,
                                 year=year, qty_kg=qty, actor="bureau")
    except DomainError as exc:
        return _back("/bureau", err=exc)
    return _back("/bureau",
                 msg=f"已确权 {r.qty_kg} kg → {permit}（许可量 {r.permitted_after_kg} kg）")


@router.post("/bureau/surplus-verifications")
def bureau_verify(request: Request, permit: Annotated[str, Form(max_length=22)],
                  pollutant: Annotated[str, Form(max_length=10)],
                  year: Annotated[int, Form(ge=2000, le=2100)],
                  qty_kg: Annotated[int, Form()]) -> RedirectResponse:
    try:
        r = alloc.verify_surplus(_p(request).uow(), permit=permit, pollutant=pollutant,
                                 year=year, qty_kg=qty_kg, actor="bureau")
    except DomainError as exc:
        return _back("/bureau", err=exc)
    return _back("/bureau", msg=f"已核定富余 {-r.qty_kg} kg 可交易 ({permit})")
