"""Flash notices held on the server, never read from a URL.

`see_other(url, msg=...)` (web.pages.base) keeps its notice here for the browser that posted
(identity.flash_service, keyed by a digest of its log-in session id, or of its anonymous
nonce); the next full page that browser renders shows it once (web.pages.render). htmx
fragments do not take notices (a poll would swallow them). A `?msg=` or `?err=` in a URL is
ignored everywhere, so a link cannot put an "official" notice on any page.

`see_other` needs the request but its 40-odd callers do not pass it: `FlashContext`, a pure
ASGI middleware, keeps the current request's scope in a context variable, which Starlette
copies into the thread a sync route runs in.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from identity import flash_service
from web.auth import ANON_COOKIE, _resolve

_scope: ContextVar[Scope | None] = ContextVar("erts_flash_scope", default=None)


class FlashContext:
    """Keeps the HTTP request's scope where `current_request()` finds it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _scope.set(scope)
        try:
            await self.app(scope, receive, send)
        finally:
            _scope.reset(token)


def current_request() -> Request | None:
    scope = _scope.get()
    return None if scope is None else Request(scope)


def _holder(request: Request) -> str | None:
    principal, _ = _resolve(request)
    if principal is not None and principal.session_key and principal.via == "session":
        return flash_service.holder_of("session:" + principal.session_key)
    nonce = request.cookies.get(ANON_COOKIE)
    if principal is None and nonce:
        return flash_service.holder_of("anon:" + nonce)
    return None


def _platform(request: Request) -> Any:
    return request.app.state.platform


def push(request: Request | None, kind: str, text: str) -> bool:
    """Keep a notice for the browser of `request` (default: the current one). False when
    there is no browser to keep it for (a bearer client, no request)."""
    request = request or current_request()
    if request is None or not text:
        return False
    holder = _holder(request)
    if holder is None:
        return False
    flash_service.push(_platform(request).uow(), holder=holder, kind=kind, text=text)
    return True


def take(request: Request) -> dict[str, list[str]]:
    """The browser's notices by kind ("msg", "err"), handed over once."""
    holder = _holder(request)
    out: dict[str, list[str]] = {"msg": [], "err": []}
    if holder is None:
        return out
    for kind, text in flash_service.take(_platform(request).uow(), holder=holder):
        out.setdefault(kind, []).append(text)
    return out
