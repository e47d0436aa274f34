"""One pipelined transaction across several markets (`trading.pipeline`): the orders of two
markets share the group's ledger, so a trader's cash is spent in arrival order across them
exactly as one order after another through `place_order` would spend it; an unknown market,
a client id taken in another market of the group, and a failing group are each answered on
their own. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from allocation import service as alloc
from allocation.store import RegistryStore
from kernel.errors import DomainError
from ledger import service as ledger_service
from tests.integration.paid_use_support import fund_and_pay
from tests.integration.spine import NOW, A, B
from tests.integration.trading.conftest import assert_no_holds, run_clients
from trading import pipeline
from trading import service as trading
from trading.tables import MarketRow, OrderRow, TradeRow

pytestmark = pytest.mark.db

POLS = ("SO2", "NOx")
PRICE = 300_000  # fen per tonne: 1 000 kg cost 300 000 fen
B_CASH = 500_000


class Markets:
    def __init__(self, platform: Any) -> None:
        self.platform = platform
        trading.clear_book_cache()
        alloc.register_area(platform.uow(), zones=[("ZA1", "Air zone 1", "air")],
                            districts=[("D01", "District 1", "ZA1", "ZA1")])
        for pol in POLS:
            alloc.set_indicator(platform.uow(), zone="ZA1", pollutant=pol, year=2026,
                                total_kg=10**7, reserve_share_pct=10)
            alloc.issue_indicator(platform.uow(), zone="ZA1", pollutant=pol, year=2026,
                                  actor="bureau", now=NOW)
        self.permit: dict[str, str] = {}
        for tag, code in (("A", A), ("B", B)):
            alloc.register_enterprise(platform.uow(), credit_code=code, name=f"E {tag}",
                                      sector="thermal_power", district="D01")
            permit = alloc.issue_permit(
                platform.uow(), enterprise=code, site_seq=1, site_name=f"Plant {tag}",
                district="D01", capacity=300, capacity_unit="MW",
                valid_from=date(2025, 1, 1), valid_to=date(2029, 12, 31),
                parameter_version="test",
                bases=[alloc.QuantityBasis(pol, 2026, "ZA1", 100_000, None, None)
                       for pol in POLS], now=NOW)
            for pol in POLS:
                alloc.confirm_rights(platform.uow(), permit=permit, pollutant=pol, year=2026,
                                     qty_kg=50_000, actor="bureau", now=NOW)
            self.permit[code] = permit
            fund_and_pay(platform, permit, NOW)  # tradable once the paid-use fee is paid
        for pol in POLS:  # A sells in both markets
            alloc.verify_surplus(platform.uow(), permit=self.permit[A], pollutant=pol,
                                 year=2026, qty_kg=10_000, actor="bureau", now=NOW)
        alloc.deposit_cash(platform.uow(), enterprise=B, amount_fen=B_CASH, actor="bureau",
                           reference="B", now=NOW)
        self.market: dict[str, str] = {}
        with platform.uow() as uow:
            for pol in POLS:
                self.market[pol] = trading.ensure_market(uow, pollutant=pol, zone="ZA1",
                                                         vintage=2026)
            uow.commit()

    def cmd(self, who: str, pol: str, side: str, qty: int, price: int = PRICE, **kw: Any
            ) -> trading.PlaceOrder:
        return trading.PlaceOrder(who, self.permit[who], self.market.get(pol, pol), side, qty,
                                  price, **kw)

    def group(self, *cmds: Any, strict: bool = True) -> list[Any]:
        return pipeline.place_orders(self.platform.uow, list(cmds),
                                     permits=self.platform.permits, actor="t", now=NOW,
                                     strict=strict)

    def versions(self) -> dict[str, int]:
        with self.platform.uow() as uow:
            return {pol: int(uow.session.scalar(select(MarketRow.version).where(
                MarketRow.id == self.market[pol])) or 0) for pol in POLS}

    def open_orders(self) -> list[tuple[str, str, int]]:
        with self.platform.uow() as uow:
            rows = uow.session.execute(select(OrderRow.id, OrderRow.client_id, OrderRow.market,
                                              OrderRow.remaining)
                                       .where(OrderRow.status == "open")).all()
        # by the ids the test chose (client ids; the platform assigns `id`)
        return sorted((r.client_id or r.id, r.market, r.remaining) for r in rows)


def _permit_record(mk: Markets, who: str
                   ) -> tuple[dict[str, int], list[tuple[str, str, int, int | None]]]:
    """The permit's permitted quantity per pollutant, and its trade events in order."""
    with mk.platform.uow() as uow:
        store = RegistryStore(uow.session)
        permit = mk.permit[who]
        permitted = {q.pollutant: q.permitted_kg for q in store.quantities(permit)}
        events = [(e.pollutant, e.kind, e.qty_kg, e.permitted_after_kg)
                  for e in reversed(store.events(permit)) if e.kind.startswith("trade")]
    return permitted, events


@pytest.fixture
def mk(platform: Any) -> Markets:
    return Markets(platform)


def test_cash_is_spent_in_arrival_order_across_markets(mk: Markets) -> None:
    before = mk.versions()
    out = mk.group(
        mk.cmd(B, "SO2", "buy", 1_000, order_id="b-so2"),  # holds 300 000 of 500 000
        mk.cmd(B, "NOx", "buy", 1_000, order_id="b-nox-big"),  # 300 000 more: refused
        mk.cmd(A, "NOx", "sell", 800, order_id="a-nox"),  # rests: nothing to meet
        mk.cmd(B, "NOx", "buy", 500, order_id="b-nox"),  # 150 000: fits, meets a-nox
        mk.cmd(A, "SO2", "sell", 600, order_id="a-so2"),  # meets b-so2
        mk.cmd(B, "SO2", "buy", 200, order_id="b-so2-2"),  # 60 000 would exceed: refused
    )
    assert isinstance(out[0], trading.OrderResult) and out[0].status == "open"
    assert isinstance(out[1], DomainError) and out[1].code == "insufficient_cash"
    assert isinstance(out[2], trading.OrderResult) and out[2].status == "open"
    assert isinstance(out[3], trading.OrderResult) and out[3].status == "filled"
    assert [(t.market, t.qty) for t in out[3].trades] == [(mk.market["NOx"], 500)]
    assert isinstance(out[4], trading.OrderResult) and out[4].status == "filled"
    assert [(t.market, t.qty) for t in out[4].trades] == [(mk.market["SO2"], 600)]
    assert isinstance(out[5], DomainError) and out[5].code == "insufficient_cash"
    assert mk.open_orders() == [("a-nox", mk.market["NOx"], 300),
                                ("b-so2", mk.market["SO2"], 400)]
    # both permits record every trade of both pollutants: B's permitted quantities (100 000
    # kg each from issuance, half of it confirmed as rights) grew
    permitted, events = _permit_record(mk, B)
    assert permitted == {"SO2": 100_000 + 600, "NOx": 100_000 + 500}
    assert events == [("NOx", "trade_in", 500, 100_500), ("SO2", "trade_in", 600, 100_600)]
    assert [e[:3] for e in _permit_record(mk, A)[1]] == [("NOx", "trade_out", -500),
                                                          ("SO2", "trade_out", -600)]
    # one transaction bumped both markets once
    assert mk.versions() == {pol: v + 1 for pol, v in before.items()}
    # the books the group left in the cache and ones rebuilt from the rows agree
    # B has 50 000 fen free: 100 kg at 290 000 fen/t cost 29 000
    cached = mk.group(mk.cmd(A, "SO2", "sell", 400), mk.cmd(B, "NOx", "buy", 100, 290_000))
    assert [r.status for r in cached] == ["filled", "open"]
    trading.clear_book_cache()
    rebuilt = mk.group(mk.cmd(A, "NOx", "sell", 100, 290_000))
    assert rebuilt[0].status == "filled"
    assert [(t.price, t.qty) for t in rebuilt[0].trades] == [(290_000, 100)]
    assert [oid for oid, _, _ in mk.open_orders()] == ["a-nox"]
    trading.cancel_order(mk.platform.uow(), enterprise=A, order_id="a-nox", actor="t",
                         now=NOW)
    assert_no_holds(mk.platform)
    assert ledger_service.verify(mk.platform.uow()).ok


def test_unknown_markets_and_ids_taken_in_another_market(mk: Markets) -> None:
    """A client id is unique within its enterprise, across markets and within one
    transaction; another enterprise may use the same one (issue 19)."""
    out = mk.group(
        mk.cmd(A, "SO2", "sell", 100, order_id="same"),
        mk.cmd(A, "nowhere", "sell", 100, order_id="lost"),
        mk.cmd(A, "NOx", "sell", 100, order_id="same"),  # taken in SO2, same transaction
        mk.cmd(B, "NOx", "buy", 100, order_id="other"),
        mk.cmd(B, "NOx", "buy", 100, order_id="same"),  # A's, not B's
    )
    assert isinstance(out[0], trading.OrderResult) and out[0].status == "open"
    assert isinstance(out[1], DomainError) and out[1].code == "market_not_found"
    assert isinstance(out[2], DomainError) and out[2].code == "duplicate_order_id"
    assert isinstance(out[3], trading.OrderResult) and out[3].status == "open"
    assert isinstance(out[4], trading.OrderResult) and out[4].status == "open"
    assert out[4].client_order_id == "same" and out[4].order_id != out[0].order_id
    assert [oid for oid, _, _ in mk.open_orders()] == ["other", "same", "same"]


def test_a_failing_group_of_two_markets_is_redone_market_by_market(
        mk: Markets, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    real = pipeline._write_groups

    def fail_first(uow: Any, groups: Any, shared: Any) -> None:
        calls.append(sorted(g.m.id for g in groups))
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        real(uow, groups, shared)

    monkeypatch.setattr(pipeline, "_write_groups", fail_first)
    requests = [pipeline.Request(c, "t", NOW) for c in (
        mk.cmd(A, "SO2", "sell", 500, order_id="x1"),
        mk.cmd(B, "NOx", "buy", 200, order_id="x2"),
        mk.cmd(B, "SO2", "buy", 200, order_id="x3"))]
    ran = pipeline.run_group(mk.platform.uow, requests, permits=mk.platform.permits)
    assert ran == 3  # the failed group, then one per market
    assert calls == [sorted(mk.market.values()), [mk.market["NOx"]], [mk.market["SO2"]]]
    assert all(r.done.is_set() and r.error is None for r in requests)
    assert [r.result.status for r in requests] == ["open", "open", "filled"]  # type: ignore
    with mk.platform.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(TradeRow)) == 1
    assert mk.open_orders() == [("x1", mk.market["SO2"], 300), ("x2", mk.market["NOx"], 200)]
    assert ledger_service.verify(mk.platform.uow()).ok


def test_one_writer_serves_concurrent_clients_of_both_markets(mk: Markets) -> None:
    timings: list[tuple[float, float, int]] = []
    pipe = pipeline.OrderPipeline(mk.platform.uow, mk.platform.permits, timings=timings)

    def cmd(i: int, j: int) -> trading.PlaceOrder:
        who, side = (A, "sell") if i % 2 else (B, "buy")
        return mk.cmd(who, POLS[(i // 2) % 2], side, 10, order_id=f"c{i}-{j}")

    results = run_clients(pipe, cmd)
    assert len(results) == 40
    assert all(isinstance(r, trading.OrderResult) for r in results), results
    assert len(timings) == pipe.groups and sum(n for _, _, n in timings) == 40
    with mk.platform.uow() as uow:
        s = uow.session
        for pol in POLS:
            m = mk.market[pol]
            traded = s.scalar(select(func.coalesce(func.sum(TradeRow.qty), 0))
                              .where(TradeRow.market == m))
            for side in ("buy", "sell"):
                assert s.scalar(select(func.coalesce(func.sum(OrderRow.filled), 0)).where(
                    OrderRow.side == side, OrderRow.market == m)) == traded
    assert sum(t.qty for r in results for t in r.trades) > 0
    for oid, _m, _rem in mk.open_orders():
        ent = A if int(oid.split("-")[0][1:]) % 2 else B
        trading.cancel_order(mk.platform.uow(), enterprise=ent, order_id=oid, actor="t",
                             now=NOW)
    assert_no_holds(mk.platform)
    assert ledger_service.verify(mk.platform.uow()).ok


def test_resale_counts_each_markets_purchases_of_the_day(mk: Markets) -> None:
    """The pipeline reads the sellers' purchases of the day of every market of a group in
    one statement, each from its own watermark: a purchase counts in its own market only,
    and one made between groups by another path still counts."""
    first = mk.group(mk.cmd(A, "SO2", "sell", 1_000), mk.cmd(A, "NOx", "sell", 1_000),
                     mk.cmd(B, "SO2", "buy", 1_000), mk.cmd(B, "NOx", "buy", 500))
    assert [r.status for r in first[2:]] == ["filled", "filled"]
    for pol in POLS:
        alloc.verify_surplus(mk.platform.uow(), permit=mk.permit[B], pollutant=pol,
                             year=2026, qty_kg=2_000, actor="bureau", now=NOW)
    # 2 000 kg tradable in each; bought today: 1 000 SO2, 500 NOx
    refused, nox, so2 = mk.group(mk.cmd(B, "SO2", "sell", 1_500, 310_000),
                                 mk.cmd(B, "NOx", "sell", 1_000, 310_000),
                                 mk.cmd(B, "SO2", "sell", 1_000, 310_000))
    assert isinstance(refused, DomainError) and refused.code == "bought_today_not_resellable"
    assert (nox.status, so2.status) == ("open", "open")
    # 100 kg more SO2 bought through the per-order path, between two groups
    for who, side in ((A, "sell"), (B, "buy")):
        trading.place_order(mk.platform.uow(), mk.cmd(who, "SO2", side, 100),
                            permits=mk.platform.permits, actor="t", now=NOW)
    # SO2: 1 000 available, 1 100 bought: nothing; NOx: 1 000 available, 500 bought: 500
    so2_more, nox_more = mk.group(mk.cmd(B, "SO2", "sell", 100, 310_000),
                                  mk.cmd(B, "NOx", "sell", 500, 310_000))
    assert isinstance(so2_more, DomainError)
    assert so2_more.code == "bought_today_not_resellable"
    assert isinstance(nox_more, trading.OrderResult) and nox_more.status == "open"
    assert ledger_service.verify(mk.platform.uow()).ok
