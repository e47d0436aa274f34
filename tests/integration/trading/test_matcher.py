"""The matcher (`trading.matcher`): orders handed over a Unix socket to the one process that
owns the books are placed as the in-process pipeline places them, answered only once
committed, with rejections raised again as the same error; two clients (two web workers)
meet in one book without a rebuild; the audit row is written in the order's transaction;
a matcher that is gone is a clear `matcher_unavailable`, never a hang. SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.matcher import audit_sink, warm_books
from identity.tables import AuditRow
from tests.integration.spine import A, B
from tests.integration.trading.conftest import Floor, assert_no_holds
from trading import pipeline
from trading import service as trading
from trading.market import InsufficientTradable, OrderNotFound
from trading.matcher import MatcherClient, MatcherServer, MatcherUnavailable
from trading.tables import OrderRow, TradeRow

pytestmark = pytest.mark.db


@pytest.fixture
def matcher(floor: Floor, tmp_path: Path) -> Iterator[MatcherServer]:
    if floor.path != "order":
        pytest.skip("the matcher runs its own pipeline: one run is enough")
    p = floor.platform
    server = MatcherServer(str(tmp_path / "m.sock"),
                           pipeline.OrderPipeline(p.uow, p.permits, audit=audit_sink))
    warm_books(p)
    server.bind()
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield server
    server.close()
    t.join(5)


def _cmd(floor: Floor, who: str, side: str, qty: int, price: int, **kw: Any
         ) -> trading.PlaceOrder:
    ent, permit = (A, floor.pa) if who == "A" else (B, floor.pb)
    return trading.PlaceOrder(ent, permit, floor.market, side, qty, price, **kw)


def _in_own_loop(run: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run `run()` to its end on a loop of its own, in a thread of its own (another test's
    loop may run in this one); what it raised is raised here."""
    failed: list[BaseException] = []

    def own_loop() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:
            failed.append(exc)

    t = threading.Thread(target=own_loop)
    t.start()
    t.join(60)
    if failed:
        raise failed[0]


def _audit(action: str) -> dict[str, Any]:
    return dict(actor="t", role="trader", via="token", ip="127.0.0.1", method="POST",
                path="/api/v1/orders", action=action, target=None, status=201,
                detail="bench")


def test_two_clients_meet_in_one_book_without_a_rebuild(floor: Floor,
                                                       matcher: MatcherServer) -> None:
    one, two = MatcherClient(matcher.path), MatcherClient(matcher.path)
    before = pipeline.STATS.rebuilds
    busy0, t0 = pipeline.STATS.busy, time.monotonic()  # earlier tests' groups count too
    try:
        for i in range(5):
            one.place(_cmd(floor, "A", "sell", 100, 300_000 + i * 1000), actor="A")
        # B's buys, through the other client, take A's sells, cheapest first
        got = [two.place(_cmd(floor, "B", "buy", qty, 310_000), actor="B")
               for qty in (150, 150, 250)]
        assert [r.status for r in got] == ["filled", "filled", "open"]
        assert [(t.price, t.qty) for t in got[0].trades] == [(300_000, 100), (301_000, 50)]
        assert [(t.price, t.qty) for t in got[1].trades] == [(301_000, 50), (302_000, 100)]
        assert got[2].filled == 200 and got[2].remaining == 50
        # every order found the book at the market's version: none was rebuilt
        assert pipeline.STATS.rebuilds == before
        stats = one.stats()
        assert stats["rebuilds"] == pipeline.STATS.rebuilds
        assert stats["requests"] >= 8
        # the writer's time in groups grew, by no more than the test has taken
        assert busy0 * 1000 < stats["busy_ms"] <= (busy0 + time.monotonic() - t0) * 1000 + 1
    finally:
        one.close()
        two.close()
    with floor.platform.uow() as uow:
        trades = uow.session.scalars(select(TradeRow).order_by(TradeRow.id)).all()
        assert [(t.buyer, t.seller, t.price, t.qty) for t in trades] == [
            (B, A, 300_000, 100), (B, A, 301_000, 50), (B, A, 301_000, 50),
            (B, A, 302_000, 100), (B, A, 303_000, 100), (B, A, 304_000, 100)]


def test_rejections_and_cancels_come_back_as_the_same_errors(floor: Floor,
                                                             matcher: MatcherServer) -> None:
    c = MatcherClient(matcher.path)
    try:
        with pytest.raises(InsufficientTradable) as err:
            c.place(_cmd(floor, "A", "sell", 999_999, 300_000), actor="A")
        assert (err.value.code, err.value.kind, err.value.field) == (
            "insufficient_tradable_rights", "conflict", "qty")
        r = c.place(_cmd(floor, "A", "sell", 100, 300_000, order_id="mine-1"), actor="A")
        assert r.client_order_id == "mine-1" and r.status == "open"
        assert r.order_id != "mine-1"  # the platform's id
        with pytest.raises(Exception) as dup:
            c.place(_cmd(floor, "A", "sell", 100, 300_000, order_id="mine-1"), actor="A")
        assert getattr(dup.value, "code", None) == "duplicate_order_id"
        # another enterprise's order is "not found", as a missing one
        with pytest.raises(OrderNotFound):
            c.cancel_order(enterprise=B, order_id="mine-1", actor="B")
        with pytest.raises(OrderNotFound):
            c.cancel_order(enterprise=A, order_id="nobody", actor="A")
        done = c.cancel_order(enterprise=A, order_id="mine-1", actor="A")
        assert (done.status, done.cancelled, done.remaining) == ("cancelled", 100, 0)
    finally:
        c.close()
    with floor.platform.uow() as uow:
        row = uow.session.scalar(select(OrderRow).where(OrderRow.id == r.order_id))
        assert row is not None and row.status == "cancelled"
    assert_no_holds(floor.platform)


def test_the_audit_row_is_written_with_the_order(floor: Floor,
                                                 matcher: MatcherServer) -> None:
    c = MatcherClient(matcher.path)
    try:
        placed = _audit("place_order")
        r = c.place(_cmd(floor, "A", "sell", 100, 300_000), actor="A", audit=placed)
        assert placed["recorded"] is True
        cancel = dict(_audit("cancel_order"), status=200)
        c.cancel_order(enterprise=A, order_id=r.order_id, actor="A", audit=cancel)
        assert cancel["recorded"] is True
        refused = _audit("place_order")
        with pytest.raises(InsufficientTradable):
            c.place(_cmd(floor, "A", "sell", 999_999, 300_000), actor="A", audit=refused)
        assert "recorded" not in refused  # the web's middleware records it, with its 409
    finally:
        c.close()
    with floor.platform.uow() as uow:
        rows = uow.session.scalars(select(AuditRow).where(AuditRow.path == "/api/v1/orders")
                                   .order_by(AuditRow.id)).all()
        assert [(a.action, a.target, a.status, a.actor) for a in rows] == [
            ("place_order", r.order_id, 201, "t"), ("cancel_order", r.order_id, 200, "t")]


def test_no_matcher_is_a_clear_error_not_a_hang(tmp_path: Path) -> None:
    c = MatcherClient(str(tmp_path / "nobody.sock"), connect_wait=0.3)
    with pytest.raises(MatcherUnavailable) as err:
        c.stats()
    assert (err.value.code, err.value.kind) == ("matcher_unavailable", "unavailable")


def test_a_matcher_that_dies_mid_request_is_unavailable_once_sent(tmp_path: Path) -> None:
    """A request sent, then the connection closed without an answer: 503, not re-sent (the
    order may have been placed)."""
    import socket

    path = str(tmp_path / "dying.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    got: list[bytes] = []

    def die() -> None:
        conn, _ = srv.accept()
        got.append(conn.recv(65536))
        conn.close()  # as a killed process would

    t = threading.Thread(target=die)
    t.start()
    c = MatcherClient(path, connect_wait=0.3)
    cmd = trading.PlaceOrder(A, "P", "SO2/ZA1/2026", "buy", 10, 300_000)
    with pytest.raises(MatcherUnavailable) as err:
        c.place(cmd, actor="A")
    t.join()
    srv.close()
    assert "may or may not" in err.value.message
    assert len(got) == 1 and b'"op":"place"' in got[0]


def test_a_replace_moves_the_matchers_book_without_a_rebuild(floor: Floor,
                                                              matcher: MatcherServer) -> None:
    """Issue 22: an amended order goes through the process that owns the book, so the next
    order finds it at the market's version (no rebuild) and trades at the new price."""
    c = MatcherClient(matcher.path)
    before = pipeline.STATS.rebuilds
    try:
        sell = c.place(_cmd(floor, "A", "sell", 100, 305_000, order_id="amend-1"), actor="A")
        moved = c.replace_order(enterprise=A, order_id="amend-1", qty=80, price=301_000,
                                actor="A")
        assert (moved.order_id, moved.remaining) == (sell.order_id, 80)
        with pytest.raises(OrderNotFound):  # another's order, as a missing one
            c.replace_order(enterprise=B, order_id="amend-1", qty=10, price=None, actor="B")
        got = c.place(_cmd(floor, "B", "buy", 100, 302_000), actor="B")
        assert [(t.price, t.qty) for t in got.trades] == [(301_000, 80)]
        assert pipeline.STATS.rebuilds == before
    finally:
        c.close()


def test_the_async_client_places_and_refuses_as_the_blocking_one(
        floor: Floor, matcher: MatcherServer) -> None:
    """The web worker's order lane awaits the matcher on its event loop
    (`AsyncMatcherClient`): the same answers, and a matcher gone is `matcher_unavailable`."""
    from trading.matcher import AsyncMatcherClient

    async def run() -> None:
        c = AsyncMatcherClient(matcher.path, connect_wait=0.2)
        row = _audit("place_order")
        placed = await asyncio.gather(*[
            c.place(_cmd(floor, "A", "sell", 10, 300_000 + i), actor="A",
                    audit=dict(row) if i == 0 else None) for i in range(6)])
        assert all(r.status == "open" for r in placed)
        assert len(c._idle) >= 1  # connections are kept for the next orders
        with pytest.raises(InsufficientTradable):
            await c.place(_cmd(floor, "A", "sell", 999_999, 300_000), actor="A")
        c.close()
        gone = AsyncMatcherClient(matcher.path + ".gone", connect_wait=0.2)  # none listens
        with pytest.raises(MatcherUnavailable):
            await gone.place(_cmd(floor, "A", "sell", 10, 300_000), actor="A")

    _in_own_loop(run)


def test_the_async_client_gives_up_at_its_deadline_even_on_half_an_answer(
        tmp_path: Path) -> None:
    """A matcher that sends an answer's length, then stalls: the lane's request is
    `matcher_unavailable` once `timeout` has passed since it was sent (one deadline for the
    whole answer, not one per read), and the connection is not kept."""
    import socket
    import struct

    from trading.matcher import AsyncMatcherClient

    path = str(tmp_path / "stalling.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    release = threading.Event()

    def stall() -> None:
        conn, _ = srv.accept()
        conn.recv(65536)
        time.sleep(1.0)
        conn.sendall(struct.pack("!I", 50))  # an answer of 50 bytes announced, none sent
        release.wait(10)
        conn.close()

    t = threading.Thread(target=stall)
    t.start()
    took: list[float] = []

    async def run() -> None:
        c = AsyncMatcherClient(path, timeout=1.2, connect_wait=0.3)
        began = time.monotonic()
        with pytest.raises(MatcherUnavailable) as err:
            await c.place(trading.PlaceOrder(A, "P", "SO2/ZA1/2026", "buy", 10, 300_000),
                          actor="A")
        took.append(time.monotonic() - began)
        assert "may or may not" in err.value.message
        assert c._idle == []

    try:
        _in_own_loop(run)
    finally:
        release.set()
        t.join(5)
        srv.close()
    # the deadline counts from the send, not again from the length's arrival (1.0 + 1.2 s)
    assert 1.15 <= took[0] < 1.9
