"""A trading floor on the spine: A holds 3 000 kg of verified surplus (tradable), B cash;
one SO2 market. Helpers check the ledger's promises after every scenario."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import update

from allocation import service as alloc
from kernel.errors import DomainError
from ledger.store import LedgerStore
from tests.integration.paid_use_support import fund_and_pay
from tests.integration.spine import NOW, A, B, build_spine
from trading import pipeline
from trading import service as trading
from trading.tables import MarketRow


@dataclass
class Floor:
    platform: Any
    pa: str  # A's permit
    pb: str  # B's permit
    market: str
    #: "order": `trading.service.place_order` (the reference); "group": the same order
    #: through the pipelined path (`trading.pipeline.place_orders`, a group of one)
    path: str = "order"
    #: with the "group" path, a shared `OrderPipeline` (concurrent tests) instead of one
    #: strict group per call
    pipe: pipeline.OrderPipeline | None = None

    def place(self, who: str, side: str, qty: int, price: int | None, *, fee_bps: int = 0,
              now: datetime | None = NOW, **kw: Any) -> trading.OrderResult:
        ent, permit = (A, self.pa) if who == "A" else (B, self.pb)
        cmd = trading.PlaceOrder(ent, permit, self.market, side, qty, price, **kw)
        if self.path == "group" and self.pipe is not None:
            return self.pipe.place(cmd, actor=who, now=now, fee_bps=fee_bps)
        if self.path == "group":
            (out,) = pipeline.place_orders(self.platform.uow, [cmd],
                                           permits=self.platform.permits, actor=who, now=now,
                                           fee_bps=fee_bps, strict=True)
            if isinstance(out, Exception):
                raise out
            return out
        return trading.place_order(self.platform.uow(), cmd, permits=self.platform.permits,
                                   actor=who, now=now, fee_bps=fee_bps)

    def account(self, holder: str, kind: str, asset: str | None = None) -> Any:
        with self.platform.uow() as uow:
            for a in LedgerStore(uow.session).accounts_of([holder]):
                if a.kind == kind and a.asset == (asset or self.market):
                    return a
        return None

    def balance(self, holder: str, kind: str, asset: str | None = None) -> int:
        a = self.account(holder, kind, asset)
        return 0 if a is None else int(a.balance)

    def set_market(self, **values: Any) -> None:
        with self.platform.uow() as uow:
            uow.session.execute(update(MarketRow).where(MarketRow.id == self.market)
                                .values(version=MarketRow.version + 1, **values))
            uow.commit()


def run_clients(pipe: pipeline.OrderPipeline,
                cmd: Callable[[int, int], trading.PlaceOrder], *, clients: int = 8,
                orders: int = 5) -> list[Any]:
    """`clients` threads each place `orders` orders (`cmd(client, n)`) through `pipe`, then
    close it; returns every answer (a result or the rejection), in no particular order."""
    results: list[Any] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        for j in range(orders):
            try:
                r: Any = pipe.place(cmd(i, j), actor="t", now=NOW)
            except DomainError as exc:
                r = exc
            with lock:
                results.append(r)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pipe.close()
    return results


def assert_no_holds(platform: Any) -> None:
    """No account has anything on hold, and every asset sums to zero."""
    with platform.uow() as uow:
        ls = LedgerStore(uow.session)
        held = [(a.holder, a.kind, a.asset, a.debits_pending, a.credits_pending)
                for a in ls.all_accounts() if a.debits_pending or a.credits_pending]
        assert held == []
        assert all(v == 0 for v in ls.asset_sums().values())


def assert_conserved(platform: Any) -> None:
    with platform.uow() as uow:
        assert all(v == 0 for v in LedgerStore(uow.session).asset_sums().values())


@pytest.fixture(params=["order", "group"])
def floor(platform: Any, request: Any) -> Floor:
    trading.clear_book_cache()
    codes = build_spine(platform)
    pa, pb = codes["A"], codes["B"]
    for p in (pa, pb):
        alloc.confirm_rights(platform.uow(), permit=p, pollutant="SO2", year=2026,
                             actor="bureau", now=NOW)
        fund_and_pay(platform, p, NOW)  # tradable once the paid-use fee is paid
    alloc.verify_surplus(platform.uow(), permit=pa, pollutant="SO2", year=2026, qty_kg=3000,
                         actor="bureau", now=NOW)
    alloc.deposit_cash(platform.uow(), enterprise=A, amount_fen=5_000_000, actor="bureau",
                       reference="A-more", now=NOW)
    with platform.uow() as uow:
        market = trading.ensure_market(uow, pollutant="SO2", zone="ZA1", vintage=2026)
        uow.commit()
    return Floor(platform, pa, pb, market, request.param)
