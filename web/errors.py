"""The only status table: domain error kinds → HTTP status, one error shape.

Every error body is `{"error": code, "detail": message}` (plus `field` when known).
Rejections are 4xx; anything else is a 500 that hides its internals.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from kernel.errors import DomainError

log = logging.getLogger("erts.web")

STATUS = {
    "invalid": 422,
    "not_found": 404,
    "conflict": 409,
    "forbidden": 403,
    "unauthorized": 401,
}


def status_of(exc: DomainError) -> int:
    return STATUS.get(exc.kind, 400)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", "text/html")


def _body(code: str, detail: str, field: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {"error": code, "detail": detail}
    if field:
        body["field"] = field
    return body


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        status = status_of(exc)
        if _wants_html(request):
            from web.pages.render import error_page

            return error_page(request, status, exc.code, exc.message)
        return JSONResponse(exc.to_dict(), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errs = exc.errors()
        first = errs[0] if errs else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(loc) or None
        detail = f"{field}: {first.get('msg', 'invalid')}" if field else "invalid request"
        if _wants_html(request):
            from web.pages.render import error_page

            return error_page(request, 422, "invalid_input", detail)
        return JSONResponse(_body("invalid_input", detail, field), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large",
                415: "unsupported_media_type"}.get(exc.status_code, "http_error")
        if _wants_html(request):
            from web.pages.render import error_page

            return error_page(request, exc.status_code, code, str(exc.detail))
        return JSONResponse(_body(code, str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        if _wants_html(request):
            return HTMLResponse("<h1>500</h1><p>internal error</p>", status_code=500)
        return JSONResponse(_body("internal_error", "internal error"), status_code=500)
