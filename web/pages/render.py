"""Template rendering: one Jinja2 environment (autoescaping on) with gettext and Babel's locale
filters for kg, tonnes, yuan and Beijing time (web.pages.l10n), and the per-request context
every page gets: the user, the CSRF token and the language (`lang`, which `_()` reads)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from kernel.pollutants import Pollutant
from web import flash, notice_words
from web.auth import ANON_COOKIE, LANG_COOKIE, _resolve, cookie_args, csrf_token
from web.i18n import LANGS
from web.pages import l10n

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

SECTORS = ["thermal_power", "steel", "cement", "chemicals", "paper", "industrial_boiler",
           "sewage"]
POLLUTANTS = [p.value for p in Pollutant]


def _pollutant_zh(code: str) -> str:
    try:
        return Pollutant(code).label_zh
    except ValueError:
        return code


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(TEMPLATES))
    t.env.auto_reload = False  # templates ship with the package; skip the mtime check per render
    # _, gettext, ngettext and the locale filters kg, t, yuan, price, bjtime, bjdate
    l10n.install(t.env)
    t.env.filters.update(pollutant_zh=_pollutant_zh)
    t.env.globals.update(SECTORS=SECTORS, POLLUTANTS=POLLUTANTS)
    from web.labels import template_label

    t.env.globals.update(label=template_label)  # label(kind, code): web/labels.py
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
    # notices come from the server-side flash only, never from the URL (web.flash)
    notices = flash.take(request) if not is_htmx(request) else {}
    for kind in ("msg", "err"):
        shown = [t for t in [ctx.get(kind), *notices.get(kind, [])] if t]
        ctx[kind] = " · ".join(shown) if shown else None
    ctx.setdefault("errors", {})
    ctx.setdefault("form", {})
    ctx.update(user=user, csrf=csrf_token(request), lang=lang,
               path=request.url.path)
    # the header's unread count (issue 18); fragments have no header
    ctx.setdefault("unread_notices", 0 if is_htmx(request)
                   else notice_words.unread_notices(request, user))
    ctx.setdefault("export_url", export_url(request, user))  # a list's .xlsx (web.exports)
    resp = templates().TemplateResponse(request, name, ctx, status_code=status_code)
    resp.headers["Vary"] = "HX-Request, Cookie"
    resp.headers["Cache-Control"] = "no-store" if user else "no-cache"
    new_anon = getattr(request.state, "new_anon", None)
    if new_anon:
        resp.set_cookie(ANON_COOKIE, new_anon, **cookie_args(request))
    return resp


def export_url(request: Request, user: Any) -> str | None:
    """The Excel export of the list page being shown, for a bureau user (web.pages.exports)."""
    served: frozenset[str] = getattr(request.app.state, "export_paths", frozenset())
    if user is None or not user.is_bureau or request.url.path not in served:
        return None
    query = request.url.query
    return request.url.path + ".xlsx" + (f"?{query}" if query else "")


def error_page(request: Request, status: int, code: str, message: str) -> HTMLResponse:
    return render(request, "error.html", status_code=status, code=code, message=message)
