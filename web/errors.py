"""The only status table: domain error kinds → HTTP status, one error shape.

Every error body is `{"error": code, "detail": message}` (plus `field` when known).
Rejections are 4xx; anything else is a 500 that hides its internals.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from kernel.errors import DomainError

log = logging.getLogger("erts.web")

STATUS = {
    "invalid": 422,
    "not_found": 404,
    "conflict": 409,
    "forbidden": 403,
    "unauthorized": 401,
    "rate_limited": 429,
    "unavailable": 503,  # a process of the server is not answering (the matcher)
}


def status_of(exc: DomainError) -> int:
    return STATUS.get(exc.kind, 400)


def page_text(request: Request, exc: DomainError) -> str:
    """A refusal as a page shows it: the message catalogue's, in the page's language."""
    from web.messages import error_text
    from web.pages.render import lang_of

    return error_text(exc, lang_of(request))


def page_code_text(request: Request, code: str, detail: str) -> str:
    from web.messages import code_text
    from web.pages.render import lang_of

    return code_text(code, detail, lang_of(request))


def _wants_html(request: Request) -> bool:
    """Pages answer in HTML unless the client asks for JSON first; the API always in JSON."""
    accept = request.headers.get("accept", "")
    return not request.url.path.startswith("/api/") and not accept.startswith(
        "application/json")


def _body(code: str, detail: str, field: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {"error": code, "detail": detail}
    if field:
        body["field"] = field
    return body


def _to_login(request: Request, exc: DomainError) -> Response:
    """Pages: an unauthenticated or expired visitor goes to the log-in form and comes back."""
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    if request.method != "GET":
        target = request.headers.get("hx-current-url") or "/"
    url = f"/login?next={quote(target, safe='')}&reason={quote(exc.code)}"
    if request.headers.get("hx-request") == "true":
        return Response(status_code=401, headers={"HX-Redirect": url})
    resp = RedirectResponse(url, status_code=303)
    if exc.code == "session_expired" or request.cookies.get("erts_session"):
        resp.delete_cookie("erts_session", path="/")
    return resp


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> str:
    """The `Allow` header of a 405: every method some route serves at this path (Starlette
    names only the first route's methods, and one path often has a GET and a POST route)."""
    allowed: list[str] = []
    routes = getattr(request.app.router, "routes", [])
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        for route in routes:
            try:
                match, _child = route.matches(scope)
            except Exception:  # a route that cannot match this request at all
                continue
            if match == Match.FULL:
                allowed.append(method)
                break
    return ", ".join(allowed)


def _one_error_shape(app: FastAPI) -> None:
    """The OpenAPI schema documents what the handlers below answer: every operation may get
    a 422 in the one error shape (the input boundary refuses a bad query on any route), and
    FastAPI's default 422 body (`HTTPValidationError`) is never sent, so it is replaced."""
    generate = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        error_ref = {"$ref": "#/components/schemas/ErrorBody"}
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        if "ErrorBody" not in components:
            from web.api.models import ErrorBody

            components["ErrorBody"] = ErrorBody.model_json_schema()
        for ops in schema.get("paths", {}).values():
            for op in ops.values():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                documented = op["responses"].get("422") or {}
                op["responses"]["422"] = {
                    "description": documented.get("description")
                    or "invalid input: a field, parameter or body refused",
                    "content": {"application/json": {"schema": error_ref}}}
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    _one_error_shape(app)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        status = status_of(exc)
        headers: dict[str, str] = {}
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="erts"'
        retry = getattr(exc, "retry_after", None)
        if status == 429 and retry:
            headers["Retry-After"] = str(retry)
        if _wants_html(request):
            if status == 401:
                return _to_login(request, exc)
            from web.pages.render import error_page

            resp = error_page(request, status, exc.code, page_text(request, exc))
            resp.headers.update(headers)
            return resp
        return JSONResponse(exc.to_dict(), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errs = exc.errors()
        first = errs[0] if errs else {}
        where = [str(p) for p in first.get("loc", ())]
        loc = [p for p in where if p not in ("body", "query", "path", "header", "cookie")]
        # always a field: the parameter, or the part of the request ("body") that is wrong
        field = ".".join(loc) or (where[0] if where else "request")
        if first.get("type") == "json_invalid":  # loc is (body, offset): not a field
            field = "body"
        detail = f"{field}: {first.get('msg', 'invalid')}" if field else "invalid request"
        if _wants_html(request):
            from web.pages.render import error_page

            return error_page(request, 422, "invalid_input",
                              page_code_text(request, "invalid_input", detail))
        return JSONResponse(_body("invalid_input", detail, field), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400:
            # a body that is not JSON (or not a form) at all: the same 422 as a wrong field
            detail = f"body: {exc.detail}"
            if _wants_html(request):
                from web.pages.render import error_page

                return error_page(request, 422, "invalid_input",
                                  page_code_text(request, "invalid_input", detail))
            return JSONResponse(_body("invalid_input", detail, "body"), status_code=422)
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large",
                415: "unsupported_media_type"}.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
        if _wants_html(request):
            from web.pages.render import error_page

            resp = error_page(request, exc.status_code, code,
                              page_code_text(request, code, str(exc.detail)))
            resp.headers.update(headers)
            return resp
        return JSONResponse(_body(code, str(exc.detail)), status_code=exc.status_code,
                            headers=headers)

    @app.exception_handler(sa_exc.OperationalError)
    @app.exception_handler(sa_exc.InterfaceError)
    async def database_unavailable(request: Request, exc: sa_exc.DBAPIError) -> Response:
        # the database dropped the connection (a restart: the pool has no pre-ping), refused
        # a new one (too many clients) or gave up on a lock: nothing was committed, and the
        # request may be retried (the CLI answers the same code)
        log.warning("database unavailable on %s: %s", request.url.path,
                    str(exc.orig or exc).strip().splitlines()[:1])
        detail = "the database is not available; try again"
        headers = {"Retry-After": "1"}
        if _wants_html(request):
            from web.pages.render import error_page

            resp = error_page(request, 503, "database_unavailable",
                              page_code_text(request, "database_unavailable", detail))
            resp.headers.update(headers)
            return resp
        return JSONResponse(_body("database_unavailable", detail), status_code=503,
                            headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        if _wants_html(request):
            return HTMLResponse("<h1>500</h1><p>internal error</p>", status_code=500)
        return JSONResponse(_body("internal_error", "internal error"), status_code=500)
