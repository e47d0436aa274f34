"""Template rendering: one Jinja2 environment, filters for kg, tonnes and yuan."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from kernel.pollutants import Pollutant
from kernel.quantities import kg_to_tonnes, yuan

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

SECTORS_ZH = {
    "thermal_power": "火电", "steel": "钢铁", "cement": "水泥", "chemicals": "化工",
    "paper": "造纸", "industrial_boiler": "工业锅炉", "sewage": "污水处理",
}
KINDS_ZH = {
    "confirmed": "确权（许可量）", "tradable": "可交易（核定富余）", "cash": "资金",
    "confirmation": "确权", "verified_surplus": "富余核定", "trade_in": "买入",
    "trade_out": "卖出", "reserve_release": "储备出让",
}


def _kg(v: Any) -> str:
    return "—" if v is None else f"{int(v):,}"


def _t(v: Any) -> str:
    return "—" if v is None else f"{kg_to_tonnes(int(v)):,}"


def _yuan(v: Any) -> str:
    return "—" if v is None else yuan(int(v))


def _price(v: Any) -> str:
    """fen per tonne → yuan per tonne"""
    return "—" if v is None else yuan(int(v))


def _pollutant_zh(code: str) -> str:
    try:
        return Pollutant(code).label_zh
    except ValueError:
        return code


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(TEMPLATES))
    t.env.filters.update(kg=_kg, t=_t, yuan=_yuan, price=_price, pollutant_zh=_pollutant_zh,
                         sector_zh=lambda s: SECTORS_ZH.get(s, s),
                         kind_zh=lambda s: KINDS_ZH.get(s, s))
    return t


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(request: Request, name: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    ctx.setdefault("htmx", getattr(request.app.state, "htmx", False))
    ctx.setdefault("msg", request.query_params.get("msg"))
    ctx.setdefault("err", request.query_params.get("err"))
    resp = templates().TemplateResponse(request, name, ctx, status_code=status_code)
    resp.headers["Vary"] = "HX-Request"
    return resp


def error_page(request: Request, status: int, code: str, message: str) -> HTMLResponse:
    return render(request, "error.html", status_code=status, code=code, message=message)
