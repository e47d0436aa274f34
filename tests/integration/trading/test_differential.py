"""The service against the naive reference book: a seeded random stream of limit, IOC, FOK,
market and post-only orders with per-order self-trade policies, cancels, replaces and
restarts (the in-process book cache dropped) goes through `trading.service`; the same
commands go to `trading.reference_book.ReferenceBook`. After every command the trades the
service wrote and its open orders must be exactly what the reference book did and holds.
Commands the ledger refuses (cash, rights, headroom) roll back in the service and are not
given to the reference book. SQLite and PostgreSQL."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from allocation import service as alloc
from kernel.errors import DomainError
from tests.integration.spine import NOW, A, B
from tests.integration.trading.conftest import Floor, assert_no_holds
from trading import service as trading
from trading.book import Order
from trading.reference_book import ReferenceBook
from trading.tables import OrderRow, TradeRow

pytestmark = pytest.mark.db

STEPS = 200


def _open(floor: Floor) -> list[tuple[str, int, int]]:
    """Open orders by the ids the test chose (the client ids; the platform assigns `id`)."""
    with floor.platform.uow() as uow:
        rows = uow.session.execute(select(OrderRow.client_id, OrderRow.price,
                                          OrderRow.remaining)
                                   .where(OrderRow.status == "open")).all()
    return sorted((r.client_id, r.price, r.remaining) for r in rows)


def _trades_since(floor: Floor, after: int) -> tuple[list[tuple[str, str, int, int]], int]:
    with floor.platform.uow() as uow:
        rows = uow.session.execute(select(TradeRow).where(TradeRow.id > after)
                                   .order_by(TradeRow.id)).scalars().all()
        mine = {i: c for i, c in uow.session.execute(select(OrderRow.id, OrderRow.client_id))}
        out = [(mine[t.buy_order], mine[t.sell_order], t.price, t.qty) for t in rows]
        return out, max([after] + [t.id for t in rows])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_service_matches_reference_book(floor: Floor, seed: int) -> None:
    p = floor.platform
    alloc.verify_surplus(p.uow(), permit=floor.pb, pollutant="SO2", year=2026, qty_kg=1_000,
                         actor="bureau", now=NOW)
    rng = random.Random(seed)
    ref = ReferenceBook()
    sides = {}  # order id -> side, to map reference fills to (buy order, sell order)
    last_trade = 0
    refused = 0
    for step in range(STEPS):
        live = [o.id for o, _ in ref.orders()]
        roll = rng.random()
        who = rng.choice("AB")
        ent = A if who == "A" else B
        expected: list[tuple[str, str, int, int]] = []
        try:
            if roll < 0.15 and live:
                oid = rng.choice(live)
                owner = next(o.owner for o, _ in ref.orders() if o.id == oid)
                trading.cancel_order(p.uow(), enterprise=owner, order_id=oid, actor="t",
                                     now=NOW)
                ref.cancel(oid)
            elif roll < 0.27 and live:
                oid = rng.choice(live)
                owner = next(o.owner for o, _ in ref.orders() if o.id == oid)
                qty = rng.choice([None, rng.randint(1, 12) * 10])
                price = rng.choice([None, 300_000 + rng.randint(-5, 5) * 100])
                if qty is None and price is None:
                    qty = 10
                trading.replace_order(p.uow(), enterprise=owner, order_id=oid, qty=qty,
                                      price=price, permits=p.permits, actor="t", now=NOW)
                out = ref.replace(oid, qty=qty, price=price)
                expected = [(f.taker if sides[f.taker] == "buy" else f.maker,
                             f.taker if sides[f.taker] == "sell" else f.maker, f.price, f.qty)
                            for f in out.fills]
            elif roll < 0.30:
                trading.clear_book_cache()  # a restart: the next command rebuilds the book
                continue
            else:
                oid = f"d{seed}-{step}"
                side = rng.choice(("buy", "sell"))
                qty = rng.randint(1, 12) * 10
                price = 300_000 + rng.randint(-5, 5) * 100
                kind = "market" if rng.random() < 0.1 else "limit"
                tif = rng.choice(("gtc", "gtc", "gtc", "ioc", "fok"))
                post_only = kind == "limit" and tif == "gtc" and rng.random() < 0.15
                stp = rng.choice(("cancel_newest", "cancel_oldest", "cancel_both"))
                floor.place(who, side, qty, price, order_id=oid, kind=kind, tif=tif,
                            post_only=post_only, stp=stp)
                sides[oid] = side
                # a market order runs as IOC (or FOK) at its protective price
                book_tif = tif if kind == "limit" else ("fok" if tif == "fok" else "ioc")
                out = ref.submit(Order(oid, ent, side, qty, price, book_tif,  # type: ignore[arg-type]
                                       post_only, stp))  # type: ignore[arg-type]
                expected = [(oid if side == "buy" else f.maker,
                             oid if side == "sell" else f.maker, f.price, f.qty)
                            for f in out.fills]
        except DomainError as exc:
            assert exc.code in ("insufficient_cash", "insufficient_tradable_rights",
                                "cap_headroom_exceeded", "bought_today_not_resellable"), exc
            refused += 1
            continue
        got, last_trade = _trades_since(floor, last_trade)
        assert got == expected, (step, got, expected)
        assert _open(floor) == sorted((o.id, o.price, r) for o, r in ref.orders()), step
    assert refused < STEPS // 2
    for oid, _price, _rem in _open(floor):
        owner = next(o.owner for o, _ in ref.orders() if o.id == oid)
        trading.cancel_order(p.uow(), enterprise=owner, order_id=oid, actor="t", now=NOW)
    assert_no_holds(p)
