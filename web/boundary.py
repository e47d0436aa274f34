"""The input boundary of paths, query strings and form bodies (issue 19).

`InputBoundary` is a pure-ASGI middleware that refuses, with a 422 naming the parameter, any
request whose

- path holds a control character once decoded (C0, DEL or C1: no path segment is free text);
- query string holds one, raw or percent-encoded (``%00``-``%1F``, ``%7F``, ``%C2%80``-
  ``%C2%9F``): query parameters are identifiers, codes, numbers, dates and search words;
- URL-encoded form body (pages) holds one other than tab, line feed and carriage return,
  which a textarea legitimately sends.

The common case costs one regular-expression scan of the decoded path and of the raw query
bytes (and of the form body, which `RequestGuard` has already buffered): microseconds. Only a
refused request pays for finding the parameter's name. JSON bodies are checked field by field
by the request models (`web.api.models.Strict`); multipart bodies carry files and are left to
their readers.

The answer has the one error shape ``{"error": "invalid_input", "detail", "field"}`` on the
API, and the page's error rendering (Chinese by default) elsewhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import anyio

from web.api.models import FREE_TEXT_CONTROL
from web.middleware import _header as middleware_header

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: any control character of a decoded string
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: a control character in a raw query string, raw or percent-encoded (UTF-8 for C1)
_QUERY_CONTROL = re.compile(rb"[\x00-\x1f\x7f]|%[01][0-9a-fA-F]|%7[fF]|%[cC]2%[89][0-9a-fA-F]")
#: the same in a URL-encoded form body, where tab, LF and CR are allowed
_FORM_CONTROL = re.compile(
    rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|%0[0-8bBcCeEfF]|%1[0-9a-fA-F]|%7[fF]"
    rb"|%[cC]2%[89][0-9a-fA-F]")
MESSAGE = "control characters are not allowed"


def _header(scope: Scope, name: bytes) -> str:
    return middleware_header(scope, name) or ""


def _path_params(routes: list[Any], scope: Scope) -> dict[str, Any]:
    """The path parameters of the route that serves `scope` (FastAPI's included routers
    select their route through `_match`; plain Starlette routes through `matches`)."""
    for route in routes:
        try:
            select = getattr(route, "_match", None)
            if select is not None:
                match, child, inner, _ctx = select(scope)
                if match.value and inner is not None and hasattr(inner, "_match"):
                    return _path_params([inner], scope)
            else:
                match, child = route.matches(scope)
        except Exception:  # a route that cannot even match this path
            continue
        if match.value and child.get("path_params"):
            return dict(child["path_params"])
    return {}


def _path_field(scope: Scope) -> str:
    """The path parameter holding the control character (route matching runs only here, on
    a refused request); "path" when no route matches."""
    router = getattr(scope.get("app"), "router", None)
    params = _path_params(list(getattr(router, "routes", [])), dict(scope))
    for name, value in params.items():
        if isinstance(value, str) and CONTROL.search(value):
            return str(name)
    return "path"


def _pair_field(pairs: list[tuple[str, str]], pattern: re.Pattern[str], default: str) -> str:
    for name, value in pairs:
        if pattern.search(name):
            return default
        if pattern.search(value):
            return name
    return default


def refused_field(scope: Scope) -> str | None:
    """The name of the path, query or form field with a refused control character, or None
    when the request may pass."""
    if CONTROL.search(scope.get("path", "")):
        return _path_field(scope)
    query: bytes = scope.get("query_string", b"")
    if query and _QUERY_CONTROL.search(query):
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True, encoding="utf-8",
                          errors="replace")
        return _pair_field(pairs, CONTROL, "query")
    # form bodies are the pages' (RequestGuard lets only JSON reach /api/, and the request
    # models check JSON field by field): an API body is never scanned here
    body = scope.get("state", {}).get("raw_body")
    if body and not scope.get("path", "").startswith("/api/") and _FORM_CONTROL.search(body):
        ctype = _header(scope, b"content-type").split(";")[0].strip().lower()
        if ctype == "application/x-www-form-urlencoded":
            pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True,
                              encoding="utf-8", errors="replace")
            return _pair_field(pairs, FREE_TEXT_CONTROL, "form")
    return None


def _wants_html(scope: Scope) -> bool:
    path = str(scope.get("path", ""))
    return not path.startswith("/api/") and not _header(scope, b"accept").startswith(
        "application/json")


async def _refuse(scope: Scope, send: Send, field: str) -> None:
    if _wants_html(scope):
        from starlette.requests import Request

        from web.i18n import translator
        from web.pages.render import error_page, lang_of

        request = Request(scope)
        message = f"{field}: {translator(lang_of(request))(MESSAGE)}"
        # rendering resolves the visitor (a database read): off the event loop
        response = await anyio.to_thread.run_sync(
            lambda: error_page(request, 422, "invalid_input", message))
        await response(scope, _no_body, send)
        return
    body = json.dumps({"error": "invalid_input", "detail": f"{field}: {MESSAGE}",
                       "field": field}).encode()
    await send({"type": "http.response.start", "status": 422,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


class InputBoundary:
    """Refuses control characters in paths, query strings and form bodies (see above)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            field = refused_field(scope)
            if field is not None:
                await _refuse(scope, send, field)
                return
        await self.app(scope, receive, send)
