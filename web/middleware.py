"""ASGI middleware, outermost first:

1. `RequestGuard`: bodies over `max_body_bytes` get 413, unsafe requests with a body of the
   wrong content type get 415 (the API takes JSON; pages take forms), and every response gets
   the security headers.
2. `Idempotency`: an API POST with `Idempotency-Key` runs once per credential and key; a
   repeat of the same request gets the stored response (`Idempotent-Replayed: true`), the same
   key with a different request gets 409.
3. `Audit`: every state-changing request (POST, PUT, PATCH, DELETE) leaves an audit row:
   who (the principal the auth dependency resolved), when, what (the route, plus anything
   the route put in `request.state.audit`), from where (`web.auth.client_address`) and the
   status.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio

from identity import service as identity
from identity.errors import IdempotencyKeyReused
from web.auth import client_address

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("erts.web")
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
     b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
]


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", []):
        if k == name:
            return str(v.decode("latin-1"))
    return None


def _is_api(scope: Scope) -> bool:
    return str(scope.get("path", "")).startswith("/api/")


async def _error(scope: Scope, send: Send, status: int, code: str, detail: str) -> None:
    if _is_api(scope) or "text/html" not in (_header(scope, b"accept") or ""):
        body = json.dumps({"error": code, "detail": detail}).encode()
        ctype = b"application/json"
    else:
        from html import escape

        body = (f"<!doctype html><meta charset=utf-8><title>{status}</title>"
                f"<h1>{status}</h1><p><code>{escape(code)}</code> {escape(detail)}</p>"
                ).encode()
        ctype = b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", ctype),
                            (b"content-length", str(len(body)).encode()), *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None when it passes `limit`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            break
        chunk = msg.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not msg.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MIB = 1024 * 1024
#: routes whose bodies are legitimately large (pattern → limit): the ledger batch API takes up
#: to 8,000 transfers per call (about 2 MB of JSON); report imports (CSV or Excel, from the
#: API or the enterprise's upload form) and monitoring imports (a year of hourly readings of
#: one outlet is about 0.5 MB; a bureau upload covers many) carry files
LARGE_BODY_PATHS: list[tuple[re.Pattern[str], int]] = [
    (re.compile(r"/api/v1/ledger/transfers"), 4 * MIB),
    (re.compile(r"/api/v1/compliance/reports/import(-xlsx)?"), 8 * MIB),
    (re.compile(r"/enterprises/[^/]+/reports/import"), 8 * MIB),
    (re.compile(r"/api/v1/monitoring/imports|/bureau/monitoring(/imports)?"), 32 * MIB),
]


def body_limit(path: str, default: int) -> int:
    return max([default] + [lim for pat, lim in LARGE_BODY_PATHS if pat.fullmatch(path)])


def secured(send: Send) -> Send:
    """`send` adding the security headers a response does not set itself."""

    async def send_with_headers(msg: Message) -> None:
        if msg["type"] == "http.response.start":
            have = {k.lower() for k, _ in msg.get("headers", [])}
            msg["headers"] = list(msg.get("headers", [])) + [
                h for h in SECURITY_HEADERS if h[0] not in have]
        await send(msg)

    return send_with_headers


class RequestGuard:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.limit = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        send_with_headers = secured(send)
        method = scope["method"]
        if method not in UNSAFE:
            await self.app(scope, receive, send_with_headers)
            return
        limit = body_limit(scope.get("path", ""), self.limit)
        length = _header(scope, b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await _error(scope, send, 400, "bad_request", "invalid Content-Length")
                return
            if declared > limit:
                await _error(scope, send, 413, "body_too_large",
                             f"request bodies are limited to {limit} bytes")
                return
        body = await _read_body(receive, limit)
        if body is None:
            await _error(scope, send, 413, "body_too_large",
                         f"request bodies are limited to {limit} bytes")
            return
        if body:
            ctype = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
            if _is_api(scope):
                ok = ctype == "application/json" or ctype.endswith("+json")
                want = "application/json"
            else:
                ok = ctype in FORM_TYPES
                want = "application/x-www-form-urlencoded"
            if not ok:
                await _error(scope, send, 415, "unsupported_media_type",
                             f"send {want}, not {ctype or 'no content type'}")
                return
        scope.setdefault("state", {})["raw_body"] = body
        await self.app(scope, _replaying(body), send_with_headers)


class _Captured:
    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()


def _principal_key(scope: Scope) -> str:
    """Idempotency keys are scoped to the credential that sent them."""
    cred = _header(scope, b"authorization")
    if not cred:
        for part in (_header(scope, b"cookie") or "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "erts_session":
                cred = "cookie:" + value
    return hashlib.sha256((cred or "anonymous").encode()).hexdigest()


class Idempotency:
    def __init__(self, app: ASGIApp, platform: Any) -> None:
        self.app = app
        self.platform = platform

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key") if scope["type"] == "http" else None
        if key is None or scope["method"] != "POST" or not _is_api(scope):
            await self.app(scope, receive, send)
            return
        if not 1 <= len(key) <= 200:
            await _error(scope, send, 422, "invalid_input",
                         "Idempotency-Key: 1-200 characters")
            return
        body = scope.get("state", {}).get("raw_body", b"")
        principal = _principal_key(scope)
        req_hash = hashlib.sha256(b"\n".join([
            scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""),
            body])).hexdigest()
        try:
            replay = await anyio.to_thread.run_sync(lambda: identity.begin_idempotent(
                self.platform.uow(), principal=principal, key=key, request_hash=req_hash))
        except IdempotencyKeyReused as exc:
            await _error(scope, send, 409, exc.code, exc.message)
            return
        if replay is not None:
            data = replay.body.encode()
            await send({"type": "http.response.start", "status": replay.status, "headers": [
                (b"content-type", replay.content_type.encode()),
                (b"content-length", str(len(data)).encode()),
                (b"idempotent-replayed", b"true"), *SECURITY_HEADERS]})
            await send({"type": "http.response.body", "body": data})
            return
        cap = _Captured()

        async def capture(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                cap.status = msg["status"]
                cap.headers = list(msg.get("headers", []))
            elif msg["type"] == "http.response.body":
                cap.body.extend(msg.get("body", b""))
            await send(msg)

        try:
            await self.app(scope, receive, capture)
        finally:
            ctype = next((v.decode() for k, v in cap.headers if k.lower() == b"content-type"),
                         "application/json")
            if cap.status >= 500:
                await anyio.to_thread.run_sync(lambda: identity.abandon_idempotent(
                    self.platform.uow(), principal=principal, key=key))
            else:
                text = bytes(cap.body).decode("utf-8", "replace")
                await anyio.to_thread.run_sync(lambda: identity.finish_idempotent(
                    self.platform.uow(), principal=principal, key=key, status=cap.status,
                    content_type=ctype, body=text))


class Audit:
    def __init__(self, app: ASGIApp, platform: Any) -> None:
        self.app = app
        self.platform = platform

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE:
            await self.app(scope, receive, send)
            return
        status = 500

        async def watch(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]
            await send(msg)

        try:
            await self.app(scope, receive, watch)
        finally:
            # an order's row was written in its own transaction (`audit_row`, the pipeline)
            if not (scope.get("state", {}).get("audit") or {}).get("recorded"):
                await anyio.to_thread.run_sync(
                    lambda: record_request(self.platform, scope, status))


def record_request(platform: Any, scope: Scope, status: int) -> None:
    """Write the request's audit row in a transaction of its own (loud when it fails)."""
    try:
        identity.record_audit(platform.uow(), **audit_row(scope, status))
    except Exception:  # an audit failure must be loud, never silent
        log.exception("audit record failed for %s %s", scope["method"], scope["path"])


def audit_row(scope: Scope, status: int) -> dict[str, Any]:
    """The audit row of this request as `Audit` records it (`identity.record_audit`'s
    arguments); a route may hand it to a use case that writes it in its own transaction,
    then sets `request.state.audit["recorded"]` so that `Audit` does not write it again."""
    state = scope.get("state", {})
    principal = state.get("principal")
    extra: dict[str, Any] = state.get("audit") or {}
    route = scope.get("route")
    template = getattr(route, "path", None) or scope["path"]
    return dict(actor=principal.username if principal else extra.get("actor"),
                role=principal.role.value if principal else None,
                via=principal.via if principal else None,
                ip=client_address(scope), method=scope["method"], path=scope["path"],
                action=str(extra.get("action") or f"{scope['method']} {template}"),
                target=extra.get("target"), status=status, detail=extra.get("detail"))
