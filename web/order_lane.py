"""The order lane: `POST /api/v1/orders` at the engine's speed (issue 22).

An ASGI layer outside the rest of the stack. It answers the common order itself: a JSON body
with a bearer token (resolved as the route does, cached for
`identity.service.TOKEN_CACHE_SECONDS` and read again ahead of time in the background, so a
request seldom waits for its token's read), no `Idempotency-Key` and no query string. It applies
the route's checks (`web.api.v1.place_order`: the `order:place` permission, the request model
`OrderIn`, the caller's own enterprise), hands the order to the matcher
(`ERTS_MATCHER_SOCKET`) or to this process's order pipeline, and awaits the answer on the
event loop, so no thread waits for it. The answer is the route's (201 and `OrderOut`; a
rejection through the app's own exception handlers) with the security headers, and the audit
row is the one `web.middleware.Audit` would write, written in the order's group transaction
when the order is placed.

Everything else (a token refused, an invalid body, another enterprise named, an idempotent
request, the per-order path `ERTS_ORDER_PIPELINE=0`) goes down the full stack unchanged with
its body replayed, so every refusal there is the route's own answer. `ERTS_ORDER_LANE=0` turns
the lane off (the bench's peer).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

import anyio
from pydantic import ValidationError
from starlette.requests import Request

from identity import service as identity
from identity.roles import Principal
from kernel.errors import DomainError
from trading.matcher import SOCKET_ENV, AsyncMatcherClient
from trading.service import OrderResult, PlaceOrder
from web.api.models import OrderIn, OrderOut
from web.middleware import (
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    _error,
    _read_body,
    _replaying,
    audit_row,
    body_limit,
    record_request,
    secured,
)

log = logging.getLogger("erts.web")
PATH = "/api/v1/orders"
PERMISSION = "order:place"


class LaneStats:
    """What the lane did in this process: orders it answered, requests it passed on."""

    answered = 0
    passed = 0


STATS = LaneStats()


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {k.lower(): v for k, v in scope.get("headers", [])}


def _bearer(headers: dict[bytes, bytes]) -> str | None:
    scheme, _, raw = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    return raw.strip() if scheme.lower() == "bearer" and raw.strip() else None


def _json_type(headers: dict[bytes, bytes]) -> bool:
    ctype = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
    return ctype == "application/json" or ctype.endswith("+json")


class OrderLane:
    def __init__(self, app: ASGIApp, platform: Any, handlers: dict[Any, Any]) -> None:
        self.app = app
        self.platform = platform
        #: the FastAPI app's exception handlers: a refusal is answered by the same code
        self.handlers = handlers
        self.enabled = os.environ.get("ERTS_ORDER_LANE", "1") != "0"
        self._matcher: AsyncMatcherClient | None = None
        #: the background read of the cached tokens due again (`identity.refresh_tokens`)
        self._refreshing: asyncio.Task[None] | None = None
        #: tokens not cached that requests wait for, read together (`_read_misses`)
        self._misses: dict[str, asyncio.Future[Principal | None]] = {}
        self._reading: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (not self.enabled or scope["type"] != "http" or scope["method"] != "POST"
                or scope["path"] != PATH or scope.get("query_string")
                or not self.platform.settings.order_pipeline):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        raw = _bearer(headers)
        if raw is None or b"idempotency-key" in headers or not _json_type(headers):
            await self.app(scope, receive, send)
            return
        limit = body_limit(PATH, self.platform.settings.max_body_bytes)
        body = await _read_body(receive, limit)
        if body is None:  # as `RequestGuard` answers it
            await _error(scope, send, 413, "body_too_large",
                         f"request bodies are limited to {limit} bytes")
            return
        user = identity.cached_token_principal(raw)
        if user is None:  # read once per TOKEN_CACHE_SECONDS, with the others missing
            user = await self._token(raw)
        elif identity.tokens_due() and self._refreshing is None:
            # read again ahead of time, in the background: the requests do not wait for it
            self._refreshing = asyncio.get_running_loop().create_task(self._refresh())
        placed = None if user is None else self._admit(user, body)
        if placed is None:
            STATS.passed += 1
            scope.setdefault("state", {})["raw_body"] = body
            await self.app(scope, _replaying(body), send)
            return
        STATS.answered += 1
        await self._place(scope, send, *placed)

    async def _refresh(self) -> None:
        """`identity.refresh_tokens` in a thread. If it fails, the tokens it did not read
        are trusted no longer than their time: their next use reads them."""
        try:
            await anyio.to_thread.run_sync(identity.refresh_tokens, self.platform.read_uow())
        except Exception:
            log.warning("order lane: the tokens' refresh failed", exc_info=True)
        finally:
            self._refreshing = None

    async def _token(self, raw: str) -> Principal | None:
        """The token's principal (read, then cached), or None: the route words the refusal.

        The tokens that requests miss meanwhile are read together, in one statement in one
        thread (`identity.token_principals`), not one thread and one pooled connection each:
        after a start, every client's first order misses at once (measured: a server's
        first two seconds spent about a quarter of their CPU reading tokens one by one)."""
        waiting = self._misses.get(raw)
        if waiting is None:
            waiting = self._misses[raw] = asyncio.get_running_loop().create_future()
            if self._reading is None:
                self._reading = asyncio.get_running_loop().create_task(self._read_misses())
        # shielded: a request that goes away does not cancel the others' wait
        return await asyncio.shield(waiting)

    async def _read_misses(self) -> None:
        """Read what is missing, in rounds, until nothing is: each round takes every token
        missed until it starts (the requests of one turn of the loop, or those that came
        while the last round read). A failed read fails the requests of its round as a
        single read would have failed its own."""
        try:
            while self._misses:
                round_, self._misses = self._misses, {}
                try:
                    found = await anyio.to_thread.run_sync(
                        identity.token_principals, self.platform.read_uow(), list(round_))
                except Exception as exc:
                    for waiting in round_.values():
                        if not waiting.done():
                            waiting.set_exception(exc)
                    continue
                for raw, waiting in round_.items():
                    if not waiting.done():
                        waiting.set_result(found.get(raw))
        finally:
            self._reading = None

    @staticmethod
    def _admit(principal: Principal, body: bytes) -> tuple[Principal, OrderIn] | None:
        """The caller and the order when the lane may place it; None sends it the long way."""
        if (principal.enterprise is None or principal.district is not None
                or not principal.can(PERMISSION)):
            return None
        try:
            order = OrderIn.model_validate(json.loads(body))
        except (ValueError, ValidationError, DomainError):  # the route words the refusal
            return None
        if order.enterprise is not None and order.enterprise != principal.enterprise:
            return None
        return principal, order

    async def _place(self, scope: Scope, send: Send, user: Principal, body: OrderIn) -> None:
        assert user.enterprise is not None
        state = scope.setdefault("state", {})
        state["principal"] = user
        state["audit"] = {"action": "place_order", "target": body.market,
                          "detail": body.audit_detail()}
        row = audit_row(scope, 201)  # written in the order's transaction
        cmd = PlaceOrder(user.enterprise, body.permit, body.market, body.side, body.qty,
                         body.price, body.tif, body.order_id, body.kind, body.post_only,
                         body.stp)
        send = secured(send)
        try:
            r = await self._submit(cmd, user.username, row)
        except Exception as exc:
            status = await self._refuse(scope, send, exc)
            await anyio.to_thread.run_sync(lambda: self._audit(scope, status))
            return
        data = OrderOut.of(r).model_dump_json().encode()
        await send({"type": "http.response.start", "status": 201, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})
        if not row.get("recorded"):
            state["audit"]["target"] = r.order_id
            await anyio.to_thread.run_sync(lambda: self._audit(scope, 201))

    async def _submit(self, cmd: PlaceOrder, actor: str, row: dict[str, Any]) -> OrderResult:
        fee = self.platform.settings.fee_bps
        path = os.environ.get(SOCKET_ENV)
        if path:
            if self._matcher is None or self._matcher.path != path:
                self._matcher = AsyncMatcherClient(path)
            return await self._matcher.place(cmd, actor=actor, fee_bps=fee, audit=row)
        loop = asyncio.get_running_loop()
        answered = loop.create_future()

        def wake() -> None:
            if not answered.done():
                answered.set_result(None)

        def notify() -> None:  # the pipeline's writer thread
            loop.call_soon_threadsafe(wake)

        request = self.platform.order_pipeline().enqueue(cmd, actor=actor, fee_bps=fee,
                                                         audit=row, notify=notify)
        await answered
        return request.outcome()

    async def _refuse(self, scope: Scope, send: Send, exc: Exception) -> int:
        """Answer `exc` with the app's handler for it (as the route's refusal is answered)."""
        handler = next((self.handlers[c] for c in type(exc).__mro__ if c in self.handlers),
                       None)
        if handler is None:  # pragma: no cover - the app handles Exception
            raise exc
        if not isinstance(exc, DomainError):
            log.warning("order lane: %s", type(exc).__name__)
        response = await handler(Request(scope), exc)
        status = int(response.status_code)

        async def nothing() -> Message:
            return {"type": "http.disconnect"}

        await response(scope, nothing, send)
        return status

    def _audit(self, scope: Scope, status: int) -> None:
        record_request(self.platform, scope, status)
