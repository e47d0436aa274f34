"""The demo municipality (`app.demo.load_demo`): a small load on SQLite and PostgreSQL.

One load per database (loads cost seconds): the test checks the registry, the ledger and
the book it leaves, reloads it (idempotent), refuses another seed or size, and compares it,
row for row and down to the journal hash, with a second load into a fresh SQLite database
that was interrupted half-way, resumed and run one transaction per service call.
"""

from __future__ import annotations

import shutil
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from allocation import service as alloc
from allocation.tables import (
    DistrictRow,
    EnterpriseRow,
    IndicatorRow,
    PermitQuantityRow,
    PermitRow,
    ZoneRow,
)
from app import demo
from app.demo import DemoAlreadyLoaded, check_password, hash_password, load_demo, plan_demo
from app.demo_municipality import SECTORS
from compliance.reporting.tables import OutletRow
from identity.tables import UserRow
from kernel.errors import Conflict, DomainError
from kernel.ids import validate_credit_code, validate_permit_code
from ledger.entries import verify_chain
from ledger.store import LedgerStore
from ledger.tables import AccountRow, HeadRow
from tests.integration.spine import build_spine
from trading.tables import MarketRow, OrderRow, TradeRow

pytestmark = pytest.mark.db

SEED = 7
N = 60


def _utc(at: datetime) -> datetime:
    """SQLite gives back naive UTC, PostgreSQL aware datetimes."""
    return at if at.tzinfo is None else at.astimezone(UTC).replace(tzinfo=None)


def _snapshot(platform: Any) -> dict[str, Any]:
    """What two identical loads must share."""
    with platform.uow() as uow:
        s = uow.session
        head = s.get(HeadRow, 1)
        return {
            "head": (head.seq, head.hash) if head else None,
            "quantities": [tuple(r) for r in s.execute(select(
                PermitQuantityRow.permit, PermitQuantityRow.pollutant, PermitQuantityRow.year,
                PermitQuantityRow.zone, PermitQuantityRow.spec_kg, PermitQuantityRow.eia_kg,
                PermitQuantityRow.share_kg, PermitQuantityRow.cap_kg,
                PermitQuantityRow.allocated_kg, PermitQuantityRow.permitted_kg,
                PermitQuantityRow.confirmed).order_by(
                PermitQuantityRow.permit, PermitQuantityRow.pollutant, PermitQuantityRow.year))],
            "accounts": [tuple(r) for r in s.execute(select(
                AccountRow.id, AccountRow.holder, AccountRow.kind, AccountRow.asset,
                AccountRow.upper_limit, AccountRow.debits_posted, AccountRow.credits_posted,
                AccountRow.debits_pending, AccountRow.credits_pending).order_by(AccountRow.id))],
            "orders": [tuple(r) for r in s.execute(select(
                OrderRow.id, OrderRow.status, OrderRow.remaining, OrderRow.filled)
                .order_by(OrderRow.seq))],
            "trades": [(i, m, p, q, _utc(at)) for i, m, p, q, at in s.execute(select(
                TradeRow.id, TradeRow.market, TradeRow.price, TradeRow.qty, TradeRow.at)
                .order_by(TradeRow.id))],
            "users": [tuple(r) for r in s.execute(select(
                UserRow.username, UserRow.role, UserRow.enterprise, UserRow.password_hash)
                .order_by(UserRow.username))],
        }


def test_demo_municipality(platform, sqlite_template: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                           monkeypatch: pytest.MonkeyPatch) -> None:
    # confirmations in several batches (one unit of work and one ledger batch each)
    monkeypatch.setattr(demo, "CONFIRM_BATCH", 50)
    s = load_demo(platform, seed=SEED, enterprises=N)
    assert s.confirmations > 2 * demo.CONFIRM_BATCH
    assert not s.already_loaded
    assert (s.seed, s.enterprises, s.today) == (SEED, N, "2026-11-27")
    assert s.districts >= 30 and s.zones == 10 and s.markets == 32
    assert s.trades >= 1 and s.resting_orders >= 2 and s.showcase_market
    assert set(s.users) == {"officer", "officer2", "admin", "analyst", "trader1", "trader2",
                            "trader3", "trader4", "trader5", "district_officer", "enforcer"}
    from identity import service as identity

    district = identity.principal_of(platform.uow(), "district_officer").district
    assert district == identity.district_of_enterprise(platform.uow(), s.traders["trader1"][0])
    enforcer = identity.principal_of(platform.uow(), "enforcer")
    assert enforcer.district is None and enforcer.department == "enforcement"

    with platform.uow() as uow:
        ss = uow.session
        # the area: real district names, zones by medium, short codes
        districts = list(ss.scalars(select(DistrictRow)))
        zones = {z.code: z for z in ss.scalars(select(ZoneRow))}
        assert len(districts) >= 30
        assert {"渝中区", "江北区", "万州区", "秀山县", "两江新区"} <= {d.name for d in districts}
        assert Counter(z.medium for z in zones.values()) == {"air": 6, "water": 4}
        assert all(len(c) <= 20 for c in list(zones) + [d.code for d in districts])
        assert all(zones[d.air_zone].medium == "air" and zones[d.water_zone].medium == "water"
                   for d in districts)
        # enterprises and permits
        ents = list(ss.scalars(select(EnterpriseRow)))
        assert len(ents) == N
        assert {e.sector for e in ents} == set(SECTORS)
        for e in ents:
            validate_credit_code(e.credit_code)
        permits = list(ss.scalars(select(PermitRow)))
        assert len(permits) == s.permits >= N
        # the traders' permits carry outlets for reports and monitoring; nobody else's do
        traders = {s.traders[t][0] for t in s.traders}
        outlets = list(ss.scalars(select(OutletRow)))
        owners = {p.code: p.enterprise for p in permits}
        assert outlets and {owners[o.permit] for o in outlets} == traders
        assert {(o.code, o.medium) for o in outlets} <= {("DA001", "air"), ("DW001", "water")}
        for p in permits:
            validate_permit_code(p.code)
            assert p.code.startswith(p.enterprise)
        # every quantity: the cap and the allocation follow from the bases
        qs = list(ss.scalars(select(PermitQuantityRow)))
        assert len(qs) == s.permit_quantities
        for q in qs:
            assert q.cap_kg == (q.spec_kg if q.eia_kg is None else min(q.spec_kg, q.eia_kg))
            assert q.allocated_kg == min(v for v in (q.spec_kg, q.eia_kg, q.share_kg)
                                         if v is not None)
        # shares apportion each indicator net of its 10 % reserve exactly
        shares: dict[tuple[str, str, int], int] = defaultdict(int)
        for q in qs:
            shares[(q.zone, q.pollutant, q.year)] += q.share_kg or 0
        inds = list(ss.scalars(select(IndicatorRow)))
        assert len(inds) == s.indicators and all(i.issued for i in inds)
        for i in inds:
            reserve = (i.total_kg * i.reserve_share_pct + 50) // 100
            assert abs(shares[(i.zone, i.pollutant, i.year)] - (i.total_kg - reserve)) <= 1
        # the ledger: every asset sums to zero, the chain is intact
        ls = LedgerStore(ss)
        sums = ls.asset_sums()
        assert sums and all(v == 0 for v in sums.values()), sums
        ok, bad_seq, reason = verify_chain(list(ls.journal()))
        assert ok, (bad_seq, reason)
        # the permit follows the ledger: confirmed rights = permitted quantity
        confirmed = [q for q in qs if q.year == 2026 and q.confirmed]
        assert len(confirmed) == s.confirmations
        balance = {(a.holder, a.asset): a.credits_posted - a.debits_posted
                   for a in ss.scalars(select(AccountRow).where(AccountRow.kind == "confirmed"))}
        for q in confirmed:
            assert balance[(q.permit, f"{q.pollutant}/{q.zone}/2026")] == q.permitted_kg
        # a quantity not yet confirmed still binds from issuance (DOMAIN §3)
        assert all(q.permitted_kg >= q.allocated_kg for q in qs if not q.confirmed)
        # ~95 % of the valid permits confirmed, the expired ones not
        expired = {p.code for p in permits if p.valid_to < date(2026, 11, 27)}
        done = {q.permit for q in confirmed}
        assert not done & expired
        assert len(done) >= 0.8 * (len(permits) - len(expired))
        exp = sorted((q.permit, q.pollutant) for q in qs if q.permit in expired and q.year == 2026)
        # the book: live orders rest without crossing, the tape has trades
        assert ss.scalar(select(func.count()).select_from(TradeRow)) == s.trades
        live = list(ss.scalars(select(OrderRow).where(OrderRow.status == "open")))
        assert len(live) == s.resting_orders
        by_market: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for o in live:
            by_market[o.market][o.side].append(o.price)
        for m, sides in by_market.items():
            if sides["buy"] and sides["sell"]:
                assert max(sides["buy"]) < min(sides["sell"]), m
        show = by_market[s.showcase_market]
        assert show["buy"] or show["sell"]
        m = ss.get(MarketRow, s.showcase_market)
        assert m is not None and m.reference_price and m.band_pct == 30
        # users: roles, traders bound to enterprises, password "demo"
        users = {u.username: u for u in ss.scalars(select(UserRow))}
        assert users["officer"].role == "bureau_officer"
        assert users["admin"].role == "bureau_admin" and users["analyst"].role == "analyst"
        for name, (code, _ename) in s.traders.items():
            assert users[name].role == "trader" and users[name].enterprise == code
        assert all(check_password("demo", u.password_hash) for u in users.values())
        assert not check_password("Demo", users["officer"].password_hash)

    # an expired permit cannot be confirmed; a waiting valid one can, by the bureau
    if exp:
        with pytest.raises(DomainError) as e:
            alloc.confirm_rights(platform.uow(), permit=exp[0][0], pollutant=exp[0][1],
                                 year=2026, actor="officer")
        assert e.value.code == "permit_expired"

    before = _snapshot(platform)
    # idempotent: the same seed and size again writes nothing
    again = load_demo(platform, seed=SEED, enterprises=N)
    assert again.already_loaded
    assert (again.permits, again.orders, again.traders) == (s.permits, s.orders, s.traders)
    assert _snapshot(platform) == before
    # another seed or size is refused, nothing written
    refused: list[dict[str, Any]] = [{"seed": SEED + 1, "enterprises": N},
                                     {"seed": SEED, "enterprises": N + 1}]
    for kwargs in refused:
        with pytest.raises(DemoAlreadyLoaded) as e2:
            load_demo(platform, **kwargs)
        assert isinstance(e2.value, Conflict) and e2.value.code == "demo_already_loaded"
        assert "empty database" in e2.value.message
    assert _snapshot(platform) == before

    # the same seed elsewhere: interrupted in the second batch of confirmations (which
    # rolls back whole), then during the deposits, resumed one call per transaction, and
    # the result is identical to the first load down to the journal hash
    path = tmp_path / "second.sqlite3"
    shutil.copy(sqlite_template, path)
    from app.settings import Settings
    from app.wiring import build

    other = build(Settings(DATABASE_URL=f"sqlite:///{path}"))  # type: ignore[call-arg]
    try:
        real = alloc.deposit_cash
        calls = {"n": 0}

        def flaky(*args: Any, **kwargs: Any) -> None:
            calls["n"] += 1
            if calls["n"] > N // 2:
                raise RuntimeError("power cut")
            real(*args, **kwargs)

        real_batch = alloc.confirm_rights_batch
        batches = {"n": 0}

        def flaky_batch(*args: Any, **kwargs: Any) -> Any:
            batches["n"] += 1
            if batches["n"] == 2:
                kwargs["items"] = [*kwargs["items"][:-1], alloc.ConfirmItem(
                    kwargs["items"][-1].permit, "SO2", 1999)]  # a bad last item
            return real_batch(*args, **kwargs)

        monkeypatch.setattr(alloc, "confirm_rights_batch", flaky_batch)
        with pytest.raises(DomainError) as bad:
            load_demo(other, seed=SEED, enterprises=N, chunk=1)
        assert str(bad.value.field).startswith(f"items[{demo.CONFIRM_BATCH - 1}]")
        with other.uow() as uow:  # the first batch is in, nothing of the second
            done = uow.session.scalar(select(func.count()).select_from(PermitQuantityRow)
                                      .where(PermitQuantityRow.confirmed.is_(True)))
        assert done == demo.CONFIRM_BATCH
        monkeypatch.setattr(alloc, "confirm_rights_batch", real_batch)
        monkeypatch.setattr(alloc, "deposit_cash", flaky)
        with pytest.raises(RuntimeError):
            load_demo(other, seed=SEED, enterprises=N, chunk=1)
        monkeypatch.setattr(alloc, "deposit_cash", real)
        resumed = load_demo(other, seed=SEED, enterprises=N, chunk=1)
        assert not resumed.already_loaded
        assert _snapshot(other) == before
    finally:
        other.close()


def test_demo_refuses_a_database_with_other_data(platform) -> None:  # type: ignore[no-untyped-def]
    build_spine(platform)
    with pytest.raises(DemoAlreadyLoaded) as e:
        load_demo(platform, seed=SEED, enterprises=N)
    assert e.value.code == "demo_already_loaded"
    assert "not empty" in e.value.message


@pytest.mark.parametrize("kwargs", [{"enterprises": 5}, {"seed": -1},
                                    {"today": date(2030, 1, 1)}, {"chunk": 0}])
def test_demo_rejects_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(DomainError) as e:
        load_demo(None, **kwargs)  # type: ignore[arg-type]  # rejected before any database use
    assert e.value.code == "invalid_input"


def test_default_plan_is_a_plausible_municipality() -> None:
    """The full-size plan (no database): sizes, sectors, capacities, codes, the book."""
    plan = plan_demo(2025, 1200, date(2026, 11, 27))
    assert plan_demo(2025, 1200, date(2026, 11, 27)).orders == plan.orders  # deterministic
    assert plan_demo(2026, 1200, date(2026, 11, 27)).enterprises[0] != plan.enterprises[0]
    assert len(plan.enterprises) == 1200
    assert len({e.code for e in plan.enterprises}) == 1200
    assert len({e.name for e in plan.enterprises}) == 1200
    sectors = Counter(e.sector for e in plan.enterprises)
    assert set(sectors) == set(SECTORS) and min(sectors.values()) >= 10
    for p in plan.permits:
        validate_permit_code(p.code)
        lo, hi = {"thermal_power": (600, 1320), "steel": (100, 800), "cement": (2500, 12000),
                  "industrial_boiler": (10, 75), "sewage": (1, 50), "chemicals": (1, 100),
                  "paper": (1, 60)}[p.sector]
        assert lo <= p.capacity <= hi or p.site_seq == 2, (p.sector, p.capacity)
        assert all(v > 0 for v in p.spec.values())
    assert 1 <= sum(p.site_seq == 2 for p in plan.permits) <= 100
    expired = sum(p.expired for p in plan.permits)
    assert 5 <= expired <= 60
    valid = len(plan.permits) - expired
    assert 0.9 * valid <= len({c for c, _p in plan.confirmations}) <= 0.99 * valid
    verified_ents = {c[:18] for c, _p, _q in plan.verifications}
    assert 0.10 * 1200 <= len(verified_ents) <= 0.20 * 1200
    assert all(50_000_000 <= fen <= 2_000_000_000 for _e, fen, _r in plan.deposits)
    assert len(plan.indicators) >= 32 and plan.trades >= 6 and len(plan.resting) >= 20
    # the resting book does not cross
    best: dict[tuple[str, str], list[int]] = defaultdict(list)
    for o in plan.resting:
        best[(o.market, o.side)].append(o.price)
    for (m, side), prices in best.items():
        if side == "buy" and (m, "sell") in best:
            assert max(prices) < min(best[(m, "sell")])


def test_password_hash_format() -> None:
    h = hash_password("demo")
    scheme, salt, digest = h.split("$")
    assert scheme == "scrypt" and len(bytes.fromhex(salt)) == 16 and len(digest) == 64
    assert check_password("demo", h) and not check_password("demo2", h)
    assert hash_password("demo") != h  # salted
    assert hash_password("demo", salt=b"s" * 16) == hash_password("demo", salt=b"s" * 16)
    assert not check_password("demo", "argon2$x") and not check_password("demo", "garbage")
