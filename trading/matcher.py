"""One writer per market across server processes: the matcher.

`erts serve --workers N` (N > 1) starts one matching process next to its web workers (see
`app.matcher`). It owns every market's book and runs the group-commit `OrderPipeline`; the
web workers hand it their orders and cancels over a local Unix domain socket and wait for the
answer. So however many web workers there are, an order is matched by the one process whose
cached book is always at the market row's version: no book is ever rebuilt because another
process moved the market (`STATS.rebuilds` counts rebuilds; the `stats` request reads it,
with the groups, the requests and the writer's busy milliseconds).

Protocol: frames of a 4-byte big-endian length then a JSON object, one request then its
answer on a connection at a time (a web worker keeps a pool of connections).
Requests: `{"op": "place", "cmd": {PlaceOrder fields}, "actor", "fee_bps", "audit"}`,
`{"op": "cancel", "enterprise", "order_id", "actor", "audit"}`, `{"op": "replace",
"enterprise", "order_id", "qty", "price", "actor", "fee_bps"}`, `{"op": "stats"}`.
Answers: `{"ok": OrderResult, "audited": bool}`, `{"rejected": {cls, code, kind, message,
field}}` (a `DomainError`, raised again in the web worker as the same class), or
`{"fault": message}` (anything else: the caller answers 503).

Guarantees:
- an answer `ok` is sent only after the order's group committed (acknowledged = committed);
  the matcher's books are rebuilt from the persisted orders when it starts again;
- a request whose connection fails before it was sent is retried on a new connection for up
  to `connect_wait` seconds (the supervisor restarts a dead matcher); once sent, a failure
  (the matcher died, or no answer within `timeout`) raises `MatcherUnavailable` (503
  `matcher_unavailable`) and is never re-sent, so no order is placed twice: the order may or
  may not have been placed, which its client order id (or the request's Idempotency-Key)
  tells.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

import msgspec

from kernel.errors import DomainError
from trading.pipeline import STATS, OrderPipeline
from trading.service import OrderResult, PlaceOrder, TradeView

__all__ = ["AsyncMatcherClient", "MatcherClient", "MatcherServer", "MatcherUnavailable",
           "SOCKET_ENV"]

log = logging.getLogger(__name__)

#: the environment variable through which `erts serve` tells its web workers the socket
SOCKET_ENV = "ERTS_MATCHER_SOCKET"
_LEN = struct.Struct("!I")
_CRED = struct.Struct("3i")  # SO_PEERCRED: pid, uid, gid
MAX_FRAME = 1 << 20
#: frames are JSON encoded and decoded in C (msgspec); a value JSON has no type for is sent
#: as its `str`, and malformed JSON raises a ValueError (msgspec.DecodeError)
_ENCODE = msgspec.json.Encoder(enc_hook=str).encode
_DECODE = msgspec.json.Decoder().decode
#: seconds a web worker waits for an answer once its request is sent, then answers 503
TIMEOUT = 10.0
#: seconds a web worker keeps trying to connect (a matcher being restarted), then 503
CONNECT_WAIT = 10.0
#: the packages whose errors an answer may name (re-raised as the same class)
_ERROR_PACKAGES = ("kernel.", "trading.", "ledger.", "allocation.", "identity.")


class MatcherUnavailable(DomainError):
    """The matching process did not answer: 503. An order sent may or may not be placed."""

    code = "matcher_unavailable"
    kind = "unavailable"


class _Closed(Exception):
    """The peer closed the connection."""


def frame(obj: Any) -> bytes:
    """One message as it goes on the wire: its length, then its JSON."""
    data = _ENCODE(obj)
    return _LEN.pack(len(data)) + data


def send_frame(sock: socket.socket, obj: Any) -> None:
    sock.sendall(frame(obj))


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise _Closed
        buf += chunk
    return bytes(buf)


def recv_frame(sock: socket.socket) -> Any:
    (n,) = _LEN.unpack(_recv_exact(sock, _LEN.size))
    if n > MAX_FRAME:
        raise ValueError(f"frame of {n} bytes")
    return _DECODE(_recv_exact(sock, n))


def _result_out(r: OrderResult) -> dict[str, Any]:
    # the fields as they are: `dataclasses.asdict` deep-copies every value
    out = dict(r.__dict__)
    out["trades"] = [dict(t.__dict__, at=t.at.isoformat()) for t in r.trades]
    return out


def _result_in(d: dict[str, Any]) -> OrderResult:
    from datetime import datetime

    trades = [TradeView(**dict(t, at=datetime.fromisoformat(t["at"]))) for t in d["trades"]]
    return OrderResult(**dict(d, trades=trades))


def _error_out(exc: DomainError) -> dict[str, Any]:
    cls = type(exc)
    return {"cls": f"{cls.__module__}:{cls.__qualname__}", "code": exc.code,
            "kind": exc.kind, "message": exc.message, "field": exc.field}


def _error_in(d: dict[str, Any]) -> DomainError:
    """The rejection as its own class when it is one of ours, else a plain DomainError with
    the same code and kind (the web maps by kind)."""
    cls: type[DomainError] = DomainError
    module, _, name = str(d.get("cls", "")).partition(":")
    if module.startswith(_ERROR_PACKAGES):
        try:
            found = getattr(importlib.import_module(module), name)
            if isinstance(found, type) and issubclass(found, DomainError):
                cls = found
        except (ImportError, AttributeError):
            pass
    exc = cls.__new__(cls)
    Exception.__init__(exc, d["message"])
    exc.message, exc.field, exc.details = d["message"], d.get("field"), {}
    exc.code, exc.kind = d["code"], d["kind"]
    return exc


# the matching process ----------------------------------------------------------------------

class MatcherServer:
    """Serves the order pipeline on a Unix domain socket from one event loop (in the thread
    that calls `serve_forever`): each connection's request is read there, an order is queued
    on the pipeline (`enqueue`) and its answer written when the pipeline's writer thread says
    its group committed. No thread per connection, so the only hand-off is writer thread →
    event loop, once per answer. Cancels and replaces (rare) run in the loop's thread pool,
    blocking on the pipeline as before."""

    def __init__(self, path: str, pipeline: OrderPipeline) -> None:
        self.path = path
        self.pipeline = pipeline
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: asyncio.Event | None = None
        #: the process ids of the clients that connected (the web workers), for `stats`
        self.clients: set[int] = set()

    def bind(self) -> None:
        """Listen (replacing a stale socket file of a dead matcher)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(self.path)
        os.chmod(self.path, 0o600)
        sock.listen(512)
        self._sock = sock

    def serve_forever(self) -> None:
        """Serve until `close` (uvloop's loop when it is installed)."""
        if self._sock is None:
            self.bind()
        try:
            import uvloop
        except ImportError:  # pragma: no cover - uvicorn[standard] brings it
            factory = None
        else:
            factory = uvloop.new_event_loop
        # the Runner cancels the connections still open when serving ends
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(self._serve_all())

    async def _serve_all(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._done = asyncio.Event()
        if self._stop.is_set():
            return
        server = await asyncio.start_unix_server(self._serve, sock=self._sock)
        async with server:
            await self._done.wait()

    def close(self) -> None:
        """Stop serving (from any thread), then answer what is queued and stop the writer."""
        self._stop.set()
        loop, done = self._loop, self._done
        if loop is not None and done is not None:
            with contextlib.suppress(RuntimeError):  # the loop already stopped
                loop.call_soon_threadsafe(done.set)
        elif self._sock is not None:
            self._sock.close()
        self.pipeline.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        try:
            cred = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CRED.size)
            self.clients.add(_CRED.unpack(cred)[0])
        except (OSError, AttributeError):
            pass
        try:
            while True:
                (n,) = _LEN.unpack(await reader.readexactly(_LEN.size))
                if n > MAX_FRAME:
                    return
                msg = _DECODE(await reader.readexactly(n))
                if msg.get("op") == "place":
                    answer = await self._place(msg)
                else:
                    answer = await asyncio.get_running_loop().run_in_executor(
                        None, self.answer, msg)
                writer.write(frame(answer))
        except (asyncio.IncompleteReadError, OSError, ValueError, asyncio.CancelledError):
            return  # the peer went away, or the matcher is stopping
        finally:
            writer.close()

    async def _place(self, msg: dict[str, Any]) -> dict[str, Any]:
        """An order, queued without a thread: the answer once its group committed."""
        loop = asyncio.get_running_loop()
        woken = loop.create_future()

        def wake() -> None:
            if not woken.done():
                woken.set_result(None)

        def notify() -> None:  # the pipeline's writer thread
            loop.call_soon_threadsafe(wake)

        audit = msg.get("audit")
        try:
            request = self.pipeline.enqueue(
                PlaceOrder(**msg["cmd"]), actor=msg["actor"],
                fee_bps=int(msg.get("fee_bps") or 0), audit=audit, notify=notify)
        except DomainError as exc:
            return {"rejected": _error_out(exc)}
        except Exception as exc:  # a malformed request: the caller answers 503
            log.exception("matcher: place failed")
            return {"fault": f"{type(exc).__name__}: {exc}"}
        await woken
        return self._answered(request.outcome, audit)

    def answer(self, msg: dict[str, Any]) -> dict[str, Any]:
        """A request answered in the calling thread (blocking on the pipeline)."""
        op = msg.get("op")
        if op == "stats":
            return {"ok": {"rebuilds": STATS.rebuilds, "groups": STATS.groups,
                           "requests": STATS.requests, "busy_ms": round(STATS.busy * 1000),
                           "pid": os.getpid(),
                           "clients": sorted(self.clients)}}
        audit = msg.get("audit")
        if op == "place":
            return self._answered(lambda: self.pipeline.place(
                PlaceOrder(**msg["cmd"]), actor=msg["actor"],
                fee_bps=int(msg.get("fee_bps") or 0), audit=audit), audit)
        if op == "cancel":
            return self._answered(lambda: self.pipeline.cancel_order(
                enterprise=msg["enterprise"], order_id=msg["order_id"], actor=msg["actor"],
                audit=audit), audit)
        if op == "replace":
            return self._answered(lambda: self.pipeline.replace_order(
                enterprise=msg["enterprise"], order_id=msg["order_id"], qty=msg["qty"],
                price=msg["price"], actor=msg["actor"],
                fee_bps=int(msg.get("fee_bps") or 0)), audit)
        return {"fault": f"unknown request {op!r}"}

    @staticmethod
    def _answered(outcome: Callable[[], OrderResult],
                  audit: dict[str, Any] | None) -> dict[str, Any]:
        try:
            r = outcome()
        except DomainError as exc:
            return {"rejected": _error_out(exc)}  # a rejected order is never audited here
        except Exception as exc:  # the caller answers 503; the matcher keeps serving
            log.exception("matcher: request failed")
            return {"fault": f"{type(exc).__name__}: {exc}"}
        return {"ok": _result_out(r), "audited": bool(audit and audit.get("recorded"))}


# the web worker's side ---------------------------------------------------------------------

class MatcherClient:
    """Hands orders to the matcher: one connection per calling thread, kept open."""

    def __init__(self, path: str, *, timeout: float | None = None,
                 connect_wait: float | None = None) -> None:
        self.path = path
        self.timeout = TIMEOUT if timeout is None else timeout
        self.connect_wait = CONNECT_WAIT if connect_wait is None else connect_wait
        self._local = threading.local()

    def _connect(self) -> socket.socket:
        deadline = time.monotonic() + self.connect_wait
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect(self.path)
                return sock
            except OSError as exc:
                sock.close()
                if time.monotonic() >= deadline:
                    raise MatcherUnavailable(
                        "the matching process is not running; nothing was placed, try "
                        "again shortly") from exc
                time.sleep(0.05)

    def _drop(self) -> None:
        sock = getattr(self._local, "sock", None)
        self._local.sock = None
        if sock is not None:
            sock.close()

    def call(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Send one request, return its answer. A kept connection found dead before the
        request went out (the matcher restarted since) is replaced once."""
        for attempt in (0, 1):
            sock = getattr(self._local, "sock", None)
            fresh = sock is None
            if sock is None:
                sock = self._local.sock = self._connect()
            try:
                send_frame(sock, msg)
            except OSError as exc:
                self._drop()
                if attempt == 0 and not fresh:
                    continue  # nothing reached the matcher: the old one died
                raise MatcherUnavailable("the matching process is not answering; nothing "
                                         "was placed, try again shortly") from exc
            try:
                answer: dict[str, Any] = recv_frame(sock)
                return answer
            except (_Closed, OSError, ValueError) as exc:
                self._drop()
                if isinstance(exc, _Closed) and not fresh and attempt == 0 \
                        and _unread(msg):
                    continue
                raise MatcherUnavailable(
                    "the matching process failed while handling the request: the order may "
                    "or may not have been placed; look it up by its order id before sending "
                    "it again") from exc
        raise AssertionError("unreachable")

    def _ask(self, msg: dict[str, Any]) -> tuple[OrderResult, bool]:
        return _outcome(self.call(msg))

    def place(self, cmd: PlaceOrder, *, actor: str, fee_bps: int = 0,
              audit: dict[str, Any] | None = None) -> OrderResult:
        """As `OrderPipeline.place`, in the matcher; sets `audit["recorded"]` when the
        matcher wrote the audit row with the order."""
        r, audited = self._ask(_place_msg(cmd, actor, fee_bps, audit))
        if audited and audit is not None:
            audit["recorded"] = True
        return r

    def cancel_order(self, *, enterprise: str, order_id: str, actor: str,
                     audit: dict[str, Any] | None = None) -> OrderResult:
        r, audited = self._ask({"op": "cancel", "enterprise": enterprise,
                                "order_id": order_id, "actor": actor, "audit": audit})
        if audited and audit is not None:
            audit["recorded"] = True
        return r

    def replace_order(self, *, enterprise: str, order_id: str, qty: int | None,
                      price: int | None, actor: str, fee_bps: int = 0) -> OrderResult:
        r, _audited = self._ask({"op": "replace", "enterprise": enterprise,
                                 "order_id": order_id, "qty": qty, "price": price,
                                 "actor": actor, "fee_bps": fee_bps})
        return r

    def stats(self) -> dict[str, Any]:
        answer = self.call({"op": "stats"})
        return dict(answer["ok"])

    def close(self) -> None:
        self._drop()


def _place_msg(cmd: PlaceOrder, actor: str, fee_bps: int,
               audit: dict[str, Any] | None) -> dict[str, Any]:
    return {"op": "place", "cmd": dict(cmd.__dict__), "actor": actor, "fee_bps": fee_bps,
            "audit": audit}


def _outcome(answer: dict[str, Any]) -> tuple[OrderResult, bool]:
    """The order's result and whether its audit row was written; or its rejection raised."""
    if "ok" in answer:
        return _result_in(answer["ok"]), bool(answer.get("audited"))
    if "rejected" in answer:
        raise _error_in(answer["rejected"])
    raise MatcherUnavailable(f"the matching process could not answer: "
                             f"{answer.get('fault')}")


class AsyncMatcherClient:
    """The matcher client of an event loop (the web worker's order lane): a pool of kept
    connections, one request in flight on each, with the same guarantees as
    `MatcherClient` (a request is re-sent only when its kept connection was found closed
    before it went out)."""

    def __init__(self, path: str, *, timeout: float | None = None,
                 connect_wait: float | None = None) -> None:
        self.path = path
        self.timeout = TIMEOUT if timeout is None else timeout
        self.connect_wait = CONNECT_WAIT if connect_wait is None else connect_wait
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        deadline = time.monotonic() + self.connect_wait
        while True:
            try:
                return await asyncio.open_unix_connection(self.path)
            except OSError as exc:
                if time.monotonic() >= deadline:
                    raise MatcherUnavailable(
                        "the matching process is not running; nothing was placed, try "
                        "again shortly") from exc
                await asyncio.sleep(0.05)

    async def _take(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while self._idle:
            reader, writer = self._idle.pop()
            if not reader.at_eof() and not writer.is_closing():
                return reader, writer
            writer.close()  # the matcher closed it (it restarted): never used for a request
        return await self._connect()

    async def call(self, msg: dict[str, Any]) -> dict[str, Any]:
        reader, writer = await self._take()
        try:
            writer.write(frame(msg))
            # one deadline for the whole answer: `asyncio.timeout` makes no task per read
            # (`wait_for` made two per request on Python 3.11)
            async with asyncio.timeout(self.timeout):
                (n,) = _LEN.unpack(await reader.readexactly(_LEN.size))
                if n > MAX_FRAME:
                    raise ValueError(f"frame of {n} bytes")
                answer: dict[str, Any] = _DECODE(await reader.readexactly(n))
        except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError) as exc:
            writer.close()
            raise MatcherUnavailable(
                "the matching process failed while handling the request: the order may "
                "or may not have been placed; look it up by its order id before sending "
                "it again") from exc
        self._idle.append((reader, writer))
        return answer

    async def place(self, cmd: PlaceOrder, *, actor: str, fee_bps: int = 0,
                    audit: dict[str, Any] | None = None) -> OrderResult:
        """As `MatcherClient.place`, awaiting the answer instead of blocking a thread."""
        r, audited = _outcome(await self.call(_place_msg(cmd, actor, fee_bps, audit)))
        if audited and audit is not None:
            audit["recorded"] = True
        return r

    def close(self) -> None:
        for _reader, writer in self._idle:
            writer.close()
        self._idle.clear()


def _unread(msg: dict[str, Any]) -> bool:
    """Only a request that changes nothing may be re-sent after the connection closed
    without an answer."""
    return msg.get("op") == "stats"
