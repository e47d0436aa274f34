"""The spine end to end in services: permit → confirmed rights → trade → both permits."""

from __future__ import annotations

import pytest

from allocation import service as alloc
from allocation.store import RegistryStore
from kernel.errors import DomainError
from ledger.store import LedgerStore
from tests.integration.paid_use_support import fund_and_pay
from tests.integration.spine import NOW, A, B, build_spine
from trading import service as trading

pytestmark = pytest.mark.db


def test_permit_to_settled_trade(platform) -> None:  # type: ignore[no-untyped-def]
    permits = build_spine(platform)
    pa, pb = permits["A"], permits["B"]
    # A: allocated = min(10000, 11000, 8000) = 8000 (indicator share binds); cap 10000
    ra = alloc.confirm_rights(platform.uow(), permit=pa, pollutant="SO2", year=2026,
                              actor="bureau", now=NOW)
    assert ra.qty_kg == 8000
    alloc.confirm_rights(platform.uow(), permit=pb, pollutant="SO2", year=2026,
                         actor="bureau", now=NOW)
    fund_and_pay(platform, pa, NOW)  # tradable once the paid-use fee is paid
    alloc.verify_surplus(platform.uow(), permit=pa, pollutant="SO2", year=2026, qty_kg=3000,
                         actor="bureau", now=NOW)
    with platform.uow() as uow:
        market = trading.ensure_market(uow, pollutant="SO2", zone="ZA1", vintage=2026)
        uow.commit()
    sell = trading.place_order(platform.uow(), trading.PlaceOrder(
        A, pa, market, "sell", 2000, 300_000), permits=platform.permits, actor="a", now=NOW)
    assert sell.status == "open"
    buy = trading.place_order(platform.uow(), trading.PlaceOrder(
        B, pb, market, "buy", 1500, 310_000), permits=platform.permits, actor="b", now=NOW)
    assert buy.status == "filled"
    assert [(t.price, t.qty, t.value_fen) for t in buy.trades] == [(300_000, 1500, 450_000)]
    with platform.uow() as uow:
        reg = RegistryStore(uow.session)
        qa = reg.quantity(pa, "SO2", 2026)
        qb = reg.quantity(pb, "SO2", 2026)
        assert qa is not None and qb is not None
        assert qa.permitted_kg == 5000  # 8000 confirmed - 3000 verified surplus
        assert qb.permitted_kg == 6000 + 1500  # bought rights join B's permit
        kinds_a = [e.kind for e in reg.events(pa)]
        kinds_b = [e.kind for e in reg.events(pb)]
        assert kinds_a[0] == "trade_out" and kinds_b[0] == "trade_in"
        assert reg.events(pb)[0].counterparty == pa
        ls = LedgerStore(uow.session)
        # every asset sums to zero over all accounts
        assert all(v == 0 for v in ls.asset_sums().values())
        accts = {(a.holder, a.kind, a.asset): a for a in ls.accounts_of([A, B, pa, pb])}
        assert accts[(pa, "tradable", market)].balance == 1500
        assert accts[(pa, "tradable", market)].on_hold == 500
        assert accts[(pb, "confirmed", market)].balance == 7500
        assert accts[(B, "cash", "CNY")].balance == 10_000_000 - 450_000
        assert accts[(B, "cash", "CNY")].on_hold == 0  # price improvement released
        assert accts[(A, "cash", "CNY")].balance == 1_000 + 450_000
    # cancelling the rest releases the hold
    trading.cancel_order(platform.uow(), enterprise=A, order_id=sell.order_id, actor="a",
                         now=NOW)
    with platform.uow() as uow:
        acct = LedgerStore(uow.session).accounts_of([pa])
        assert all(a.on_hold == 0 for a in acct)


def test_rejections_leave_nothing(platform) -> None:  # type: ignore[no-untyped-def]
    permits = build_spine(platform)
    pa, pb = permits["A"], permits["B"]
    with pytest.raises(DomainError) as e:
        alloc.confirm_rights(platform.uow(), permit=pa, pollutant="SO2", year=2026,
                             qty_kg=10_001, actor="bureau", now=NOW)
    assert e.value.code == "confirmation_above_cap"
    with pytest.raises(DomainError) as e:
        alloc.confirm_rights(platform.uow(), permit=pa[:-1] + "X", pollutant="SO2",
                             year=2026, actor="bureau", now=NOW)
    assert e.value.code == "permit_not_found"
    alloc.confirm_rights(platform.uow(), permit=pb, pollutant="SO2", year=2026,
                         actor="bureau", now=NOW)
    with platform.uow() as uow:
        market = trading.ensure_market(uow, pollutant="SO2", zone="ZA1", vintage=2026)
        uow.commit()
    # B has no tradable rights: selling is refused and leaves no hold
    with pytest.raises(DomainError) as e:
        trading.place_order(platform.uow(), trading.PlaceOrder(
            B, pb, market, "sell", 100, 300_000), permits=platform.permits, actor="b", now=NOW)
    assert e.value.code == "insufficient_tradable_rights"
    # buying beyond the cap headroom (cap 8000 - 6000 confirmed = 2000)
    with pytest.raises(DomainError) as e:
        trading.place_order(platform.uow(), trading.PlaceOrder(
            B, pb, market, "buy", 2001, 1_000), permits=platform.permits, actor="b", now=NOW)
    assert e.value.code == "cap_headroom_exceeded"
    with pytest.raises(DomainError) as e:
        trading.place_order(platform.uow(), trading.PlaceOrder(
            A, pa, market, "buy", 10, 1_000_000_000), permits=platform.permits, actor="a",
            now=NOW)
    assert e.value.code == "insufficient_cash"
    with pytest.raises(DomainError) as e:
        trading.place_order(platform.uow(), trading.PlaceOrder(
            B, pb, "SO2/NOPE/2026", "buy", 10, 1_000), permits=platform.permits, actor="b",
            now=NOW)
    assert e.value.code == "market_not_found"
    with pytest.raises(DomainError) as e:
        trading.place_order(platform.uow(), trading.PlaceOrder(
            B, pb, market, "buy", 0, 1_000), permits=platform.permits, actor="b", now=NOW)
    assert e.value.code == "invalid_input"
    with pytest.raises(DomainError) as e:  # A's permit, B's order
        trading.place_order(platform.uow(), trading.PlaceOrder(
            B, pa, market, "buy", 10, 1_000), permits=platform.permits, actor="b", now=NOW)
    assert e.value.code == "permit_not_found"
    with platform.uow() as uow:
        ls = LedgerStore(uow.session)
        assert all(a.on_hold == 0 and a.credits_pending == 0
                   for a in ls.accounts_of([A, B, pa, pb, "MARKET"]))
        assert all(v == 0 for v in ls.asset_sums().values())
