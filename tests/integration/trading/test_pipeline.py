"""The pipelined path (`trading.pipeline`) with real groups: several orders of one market in
one transaction. The per-order path is the reference (the other trading tests run on both
paths through the `floor` fixture, with groups of one); here groups of many must give
exactly the trades and open orders of the reference book, answer each order on its own
(a refused order changes nothing for the others), keep the journal's hash chain and the
balances right, survive a restart, and fall back to the per-order path when a group fails.
SQLite and PostgreSQL."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import func, select

from allocation import service as alloc
from kernel.errors import DomainError
from ledger import service as ledger_service
from tests.integration.spine import NOW, A, B
from tests.integration.trading.conftest import Floor, assert_no_holds, run_clients
from trading import pipeline
from trading import service as trading
from trading.book import Order
from trading.reference_book import ReferenceBook
from trading.tables import OrderRow, TradeRow

pytestmark = pytest.mark.db

REFUSALS = ("insufficient_cash", "insufficient_tradable_rights", "cap_headroom_exceeded",
            "bought_today_not_resellable", "duplicate_order_id", "price_limit")


def _open(floor: Floor) -> list[tuple[str, int, int]]:
    """Open orders by the ids the test chose (the client ids; the platform assigns `id`)."""
    with floor.platform.uow() as uow:
        rows = uow.session.execute(select(OrderRow.id, OrderRow.client_id, OrderRow.price,
                                          OrderRow.remaining)
                                   .where(OrderRow.status == "open")).all()
    return sorted((r.client_id or r.id, r.price, r.remaining) for r in rows)


def _trades_since(floor: Floor, after: int) -> tuple[list[tuple[str, str, int, int]], int]:
    with floor.platform.uow() as uow:
        rows = uow.session.execute(select(TradeRow).where(TradeRow.id > after)
                                   .order_by(TradeRow.id)).scalars().all()
        mine = {i: c or i for i, c in uow.session.execute(select(OrderRow.id,
                                                                  OrderRow.client_id))}
        return ([(mine[t.buy_order], mine[t.sell_order], t.price, t.qty) for t in rows],
                max([after] + [t.id for t in rows]))


def _cmd(floor: Floor, who: str, side: str, qty: int, price: int | None, **kw: Any
         ) -> trading.PlaceOrder:
    ent, permit = (A, floor.pa) if who == "A" else (B, floor.pb)
    return trading.PlaceOrder(ent, permit, floor.market, side, qty, price, **kw)


@pytest.mark.parametrize("seed", [1, 2])
def test_groups_match_the_reference_book(floor: Floor, seed: int) -> None:
    if floor.path != "order":
        pytest.skip("groups are made here; one run is enough")
    p = floor.platform
    alloc.verify_surplus(p.uow(), permit=floor.pb, pollutant="SO2", year=2026, qty_kg=1_000,
                         actor="bureau", now=NOW)
    rng = random.Random(seed)
    ref = ReferenceBook()
    sides: dict[str, str] = {}
    last_trade = 0
    placed = refused = 0
    for step in range(30):
        roll = rng.random()
        live = [o.id for o, _ in ref.orders()]
        if roll < 0.15 and live:
            oid = rng.choice(live)
            owner = next(o.owner for o, _ in ref.orders() if o.id == oid)
            trading.cancel_order(p.uow(), enterprise=owner, order_id=oid, actor="t", now=NOW)
            ref.cancel(oid)
            continue
        if roll < 0.2:
            trading.clear_book_cache()  # a restart: the next group rebuilds the book
            continue
        cmds = []
        for k in range(rng.randint(1, 12)):
            oid = f"g{seed}-{step}-{k}"
            who = rng.choice("AB")
            side = rng.choice(("buy", "sell"))
            kind = "market" if rng.random() < 0.1 else "limit"
            tif = rng.choice(("gtc", "gtc", "gtc", "ioc", "fok"))
            cmds.append(_cmd(floor, who, side, rng.randint(1, 30) * 10,
                             300_000 + rng.randint(-5, 5) * 100, order_id=oid, kind=kind,
                             tif=tif, stp=rng.choice(("cancel_newest", "cancel_oldest",
                                                      "cancel_both")),
                             post_only=kind == "limit" and tif == "gtc" and rng.random() < 0.1))
        if rng.random() < 0.2 and cmds:  # a client id repeated inside the group
            cmds.append(cmds[0])
        cancelled: list[Any] = []
        if live and rng.random() < 0.5:  # cancels in the same group, before the orders
            oid = rng.choice(live)
            owner = next(o.owner for o, _ in ref.orders() if o.id == oid)
            # a group's cancel names the platform's id (`OrderPipeline.cancel_order` also
            # takes the client's own)
            with p.uow() as uow:
                pid = uow.session.scalar(select(OrderRow.id).where(
                    OrderRow.enterprise == owner, OrderRow.client_id == oid))
            assert pid is not None
            cancelled = [pipeline.CancelOrder(owner, pid, floor.market),
                         pipeline.CancelOrder(owner, pid, floor.market),  # not live any more
                         pipeline.CancelOrder(B if owner == A else A, pid, floor.market)]
        answers = pipeline.place_orders(p.uow, [*cancelled, *cmds], permits=p.permits,
                                        actor="t", now=NOW, strict=True)
        if cancelled:
            assert isinstance(answers[0], trading.OrderResult)
            assert (answers[0].status, answers[0].reason) == ("cancelled", "user")
            assert isinstance(answers[1], DomainError) and answers[1].code == "order_not_live"
            assert isinstance(answers[2], DomainError) and answers[2].code == "order_not_found"
            ref.cancel(oid)
            answers = answers[3:]
        expected: list[tuple[str, str, int, int]] = []
        for cmd, out in zip(cmds, answers, strict=True):
            if isinstance(out, DomainError):
                assert out.code in REFUSALS, out
                refused += 1
                continue
            placed += 1
            assert cmd.order_id is not None
            oid = cmd.order_id
            sides[oid] = cmd.side
            book_tif = cmd.tif if cmd.kind == "limit" else ("fok" if cmd.tif == "fok"
                                                            else "ioc")
            r = ref.submit(Order(oid, cmd.enterprise, cmd.side,  # type: ignore[arg-type]
                                 cmd.qty, cmd.price, book_tif, cmd.post_only,  # type: ignore[arg-type]
                                 cmd.stp))  # type: ignore[arg-type]
            fills = [(oid if cmd.side == "buy" else f.maker,
                      oid if cmd.side == "sell" else f.maker, f.price, f.qty) for f in r.fills]
            assert [(t.price, t.qty) for t in out.trades] == [(f[2], f[3]) for f in fills]
            assert out.filled == sum(f[3] for f in fills)
            expected.extend(fills)
        got, last_trade = _trades_since(floor, last_trade)
        assert got == expected, step
        assert _open(floor) == sorted((o.id, o.price, r) for o, r in ref.orders()), step
    assert placed > 40 and refused < placed
    report = ledger_service.verify(p.uow())
    assert report.ok, report.reason
    for oid, _price, _rem in _open(floor):
        owner = next(o.owner for o, _ in ref.orders() if o.id == oid)
        trading.cancel_order(p.uow(), enterprise=owner, order_id=oid, actor="t", now=NOW)
    assert_no_holds(p)
    with p.uow() as uow:
        bad = uow.session.scalar(select(func.count()).select_from(OrderRow).where(
            OrderRow.qty != OrderRow.remaining + OrderRow.filled + OrderRow.cancelled))
        assert bad == 0


def test_a_refused_order_leaves_the_rest_of_its_group(floor: Floor) -> None:
    if floor.path != "order":
        pytest.skip("one run is enough")
    p = floor.platform
    cmds = [_cmd(floor, "A", "sell", 1_000, 300_000, order_id="s1"),
            _cmd(floor, "A", "sell", 5_000, 300_000, order_id="s2"),  # more than A holds
            _cmd(floor, "B", "buy", 400, 300_000, order_id="b1"),
            _cmd(floor, "A", "sell", 100, 300_000, order_id="s1"),  # id taken in the group
            _cmd(floor, "A", "sell", 2_500, 301_000, order_id="s3"),  # 2 000 left: refused
            _cmd(floor, "A", "sell", 100, 301_000, order_id="s4", kind="market")]
    out = pipeline.place_orders(p.uow, cmds, permits=p.permits, actor="t", now=NOW,
                                strict=True)
    assert isinstance(out[0], trading.OrderResult) and out[0].status == "open"
    assert isinstance(out[1], DomainError) and out[1].code == "insufficient_tradable_rights"
    assert isinstance(out[2], trading.OrderResult) and out[2].status == "filled"
    assert [(t.qty, t.price) for t in out[2].trades] == [(400, 300_000)]
    assert isinstance(out[3], DomainError) and out[3].code == "duplicate_order_id"
    assert isinstance(out[4], DomainError) and out[4].code == "insufficient_tradable_rights"
    assert isinstance(out[5], trading.OrderResult)  # no bids left: runs as IOC at 301 000
    assert (out[5].status, out[5].reason) == ("cancelled", "ioc_remainder")  # as place_order
    assert _open(floor) == [("s1", 300_000, 600)]
    # the book the group left in the cache and one rebuilt from the rows agree
    trading.clear_book_cache()
    r = floor.place("B", "buy", 600, 300_000)
    assert r.status == "filled"
    assert_no_holds(p)
    assert ledger_service.verify(p.uow()).ok


def test_a_failing_group_is_redone_order_by_order(floor: Floor,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    if floor.path != "order":
        pytest.skip("one run is enough")
    p = floor.platform
    calls = {"n": 0}
    real = pipeline._write_groups

    def fail_once(*args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the database went away")
        real(*args)

    monkeypatch.setattr(pipeline, "_write_groups", fail_once)
    cmds = [_cmd(floor, "A", "sell", 500, 300_000, order_id="x1"),
            _cmd(floor, "B", "buy", 200, 300_000, order_id="x2")]
    out = pipeline.place_orders(p.uow, cmds, permits=p.permits, actor="t", now=NOW)
    assert [o.status for o in out] == ["open", "filled"]  # type: ignore[union-attr]
    with p.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(TradeRow)) == 1
    assert _open(floor) == [("x1", 300_000, 300)]
    trading.cancel_order(p.uow(), enterprise=A, order_id="x1", actor="t", now=NOW)
    assert_no_holds(p)


def test_the_pipeline_answers_concurrent_clients(floor: Floor) -> None:
    if floor.path != "order":
        pytest.skip("one run is enough")
    p = floor.platform
    timings: list[tuple[float, float, int]] = []
    pipe = pipeline.OrderPipeline(p.uow, p.permits, timings=timings)

    def cmd(i: int, j: int) -> trading.PlaceOrder:
        who, side = ("A", "sell") if i % 2 else ("B", "buy")
        return _cmd(floor, who, side, 10, 300_000, order_id=f"c{i}-{j}")

    results = run_clients(pipe, cmd)
    assert len(results) == 40
    assert all(isinstance(r, trading.OrderResult) for r in results), results
    assert pipe.groups <= 40
    # one timing per group (no group was redone order by order: groups counts transactions)
    assert len(timings) == pipe.groups and sum(n for _, _, n in timings) == 40
    assert all(wall >= 0 and cpu >= 0 for wall, cpu, _ in timings)
    with p.uow() as uow:
        s = uow.session
        traded = s.scalar(select(func.coalesce(func.sum(TradeRow.qty), 0)))
        for side in ("buy", "sell"):
            assert s.scalar(select(func.coalesce(func.sum(OrderRow.filled), 0))
                            .where(OrderRow.side == side)) == traded
    assert traded == sum(t.qty for r in results for t in r.trades) > 0
    for oid, _price, _rem in _open(floor):
        ent = A if oid.split("-")[0][1:] in {"1", "3", "5", "7"} else B
        trading.cancel_order(p.uow(), enterprise=ent, order_id=oid, actor="t", now=NOW)
    assert_no_holds(p)
    assert ledger_service.verify(p.uow()).ok


def test_purchases_made_elsewhere_between_groups_still_block_resale(floor: Floor) -> None:
    """The pipeline keeps each seller's purchases of the day and reads only newer trades:
    a purchase made between two groups by another path must still count."""
    if floor.path != "order":
        pytest.skip("one run is enough")
    p = floor.platform

    def group(*cmds: trading.PlaceOrder) -> list[Any]:
        return pipeline.place_orders(p.uow, list(cmds), permits=p.permits, actor="t",
                                     now=NOW, strict=True)

    first = group(_cmd(floor, "A", "sell", 1_000, 300_000), _cmd(floor, "B", "buy", 1_000,
                                                                  300_000))
    assert first[1].status == "filled"
    alloc.verify_surplus(p.uow(), permit=floor.pb, pollutant="SO2", year=2026, qty_kg=2_000,
                         actor="bureau", now=NOW)
    # 2 000 kg tradable, 1 000 bought today: at most 1 000 may be offered
    (refused,) = group(_cmd(floor, "B", "sell", 1_500, 310_000))
    assert isinstance(refused, DomainError) and refused.code == "bought_today_not_resellable"
    # another 500 kg bought through the per-order path, between two groups
    floor.path = "order"
    floor.place("A", "sell", 500, 300_000)
    assert floor.place("B", "buy", 500, 300_000).status == "filled"
    # now 1 500 bought: 1 000 is too much, 500 is allowed
    too_much, allowed = group(_cmd(floor, "B", "sell", 1_000, 310_000),
                              _cmd(floor, "B", "sell", 500, 310_000))
    assert isinstance(too_much, DomainError)
    assert too_much.code == "bought_today_not_resellable"
    assert isinstance(allowed, trading.OrderResult) and allowed.status == "open"
    assert ledger_service.verify(p.uow()).ok
