"""Every instant the API answers carries its offset (issue 18: "the API keeps ISO 8601").

The platform stores instants in UTC. PostgreSQL hands `timestamptz` columns back aware, SQLite
hands them back naive, and the service views and out-models of /api/v1 turn them into ISO
strings as they come: `2026-12-06T01:00:00+00:00` on one database, `2026-12-06T01:00:00` on
the other. `InstantOffsets` is the one place that makes the answer the same on both: in the
JSON body of every /api/ response, a string value that is exactly an ISO date-time without an
offset (`YYYY-MM-DDTHH:MM:SS[.ffffff]`, what `datetime.isoformat()` makes of a naive
datetime) is a naive UTC instant, and gets `+00:00`. Nothing else of the body changes: days
(`2026-12-06`), aware times, texts that merely contain a time, object keys, and the bodies of
other media types (CSV, PDF) pass as they are.

The rewrite works on the encoded body, so it covers every way a route answers (a response
model serialised by pydantic's fast path, a `JSONResponse` built by hand, a replay of the
idempotency cache). A streamed body (more than one part, e.g. the ledger's journal export, a
file for independent verification) passes as it is, streamed: it is never held in memory.
It matches a JSON string only where a value starts (after `:`, `,` or
`[`) and ends (before `,`, `]` or `}`): a quote inside a string is escaped (`\\"`) and never
preceded by one of those characters, so the text of a string is never touched.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: a JSON string value that is a naive ISO 8601 date-time, with what precedes it
NAIVE_INSTANT = re.compile(
    rb'([:,\[]\s*)"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)"(?=\s*[,\]}])')


def with_offsets(body: bytes) -> bytes:
    """A JSON document with `+00:00` on every value that is a naive ISO date-time."""
    if b"T" not in body:
        return body
    return NAIVE_INSTANT.sub(rb'\1"\2+00:00"', body)


class InstantOffsets:
    """ASGI middleware: the JSON answers of /api/ with an offset on every instant."""

    def __init__(self, app: ASGIApp, prefix: str = "/api/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        start: Message | None = None

        async def send_wrapper(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if _is_json(message.get("headers") or []):
                    start = message  # held until the first part of the body shows its kind
                    return
                await send(message)
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            held, start = start, None
            if message.get("more_body", False):  # streamed: as it is
                await send(held)
                await send(message)
                return
            body = with_offsets(message.get("body", b""))
            headers = [(k, v) for k, v in held.get("headers") or []
                       if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**held, "headers": headers})
            await send({**message, "body": body})

        await self.app(scope, receive, send_wrapper)


def _is_json(headers: Any) -> bool:
    for k, v in headers:
        if k.lower() == b"content-type":
            return bytes(v).split(b";")[0].strip().lower() == b"application/json"
    return False
