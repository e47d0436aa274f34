"""Template rendering: one Jinja2 environment (autoescaping on), filters for kg, tonnes and
yuan, and the per-request context every page gets: the user, the CSRF token, the language
and its `_()` translator."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from kernel.pollutants import Pollutant
from kernel.quantities import kg_to_tonnes, yuan
from web.auth import ANON_COOKIE, LANG_COOKIE, _resolve, cookie_args, csrf_token
from web.i18n import LANGS, translator

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

SECTORS = ["thermal_power", "steel", "cement", "chemicals", "paper", "industrial_boiler",
           "sewage"]
POLLUTANTS = [p.value for p in Pollutant]


def _kg(v: Any) -> str:
    return "—" if v is None else f"{int(v):,}"


def _t(v: Any) -> str:
    return "—" if v is None else f"{kg_to_tonnes(int(v)):,}"


def _yuan(v: Any) -> str:
    return "—" if v is None else yuan(int(v))


def _pollutant_zh(code: str) -> str:
    try:
        return Pollutant(code).label_zh
    except ValueError:
        return code


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(TEMPLATES))
    t.env.auto_reload = False  # templates ship with the package; skip the mtime check per render
    t.env.filters.update(kg=_kg, t=_t, yuan=_yuan, price=_yuan, pollutant_zh=_pollutant_zh)
    t.env.globals.update(SECTORS=SECTORS, POLLUTANTS=POLLUTANTS)
    return t


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def lang_of(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, "zh")
    return lang if lang in LANGS else "zh"


def render(request: Request, name: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    lang = lang_of(request)
    user, _err = _resolve(request)
    ctx.setdefault("htmx", getattr(request.app.state, "htmx", False))
    ctx.setdefault("msg", request.query_params.get("msg"))
    ctx.setdefault("err", request.query_params.get("err"))
    ctx.setdefault("errors", {})
    ctx.setdefault("form", {})
    ctx.update(user=user, csrf=csrf_token(request), lang=lang, _=translator(lang),
               path=request.url.path)
    resp = templates().TemplateResponse(request, name, ctx, status_code=status_code)
    resp.headers["Vary"] = "HX-Request, Cookie"
    resp.headers["Cache-Control"] = "no-store" if user else "no-cache"
    new_anon = getattr(request.state, "new_anon", None)
    if new_anon:
        resp.set_cookie(ANON_COOKIE, new_anon, **cookie_args(request))
    return resp


def error_page(request: Request, status: int, code: str, message: str) -> HTMLResponse:
    return render(request, "error.html", status_code=status, code=code, message=message)
