"""Allocation use cases on a real database (SQLite, and PostgreSQL when configured):
whole-municipality computation, apportionment, reserve plans and their release, standards
and scenarios."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from allocation import service as alloc
from allocation.errors import (
    ApportionmentError,
    NameTaken,
    PlanNotReleasable,
    ScenarioError,
)
from allocation.store import RegistryStore
from ledger import service as ledger_service
from ledger.service import asset_code
from ledger.store import LedgerStore
from ledger.transactions import AccountKind
from tests.integration.spine import NOW, A, build_spine

pytestmark = pytest.mark.db

DEMO_NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def quantity(platform, permit: str, year: int = 2026):  # type: ignore[no-untyped-def]
    with platform.uow() as uow:
        q = RegistryStore(uow.session).quantity(permit, "SO2", year)
        assert q is not None
        return {k: getattr(q, k) for k in ("spec_kg", "eia_kg", "share_kg", "cap_kg",
                                           "allocated_kg", "permitted_kg", "binding")}


def upper_limit(platform, permit: str) -> int | None:  # type: ignore[no-untyped-def]
    with platform.uow() as uow:
        store = LedgerStore(uow.session)
        aid = store.account_id(permit, AccountKind.CONFIRMED, asset_code("SO2", "ZA1", 2026))
        assert aid is not None
        acct = store.get_account(aid)
        assert acct is not None
        return acct.upper_limit


def test_compute_rewrites_bases_holds_back_caps_below_rights(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    a, b = codes["A"], codes["B"]
    alloc.confirm_rights(platform.uow(), permit=a, pollutant="SO2", year=2026,
                         actor="bureau", now=NOW)  # 8000 kg
    alloc.confirm_rights(platform.uow(), permit=b, pollutant="SO2", year=2026, qty_kg=2000,
                         actor="bureau", now=NOW)
    # 100 h: 300 MW × 100 h × 0.12 g/kWh = 3600 kg, below A's 8000 kg of confirmed rights
    out = alloc.compute_permitted_quantities(
        platform.uow(), actor="officer", changes={"utilisation_hours": {"thermal_power": 100}},
        now=NOW)
    assert (out["changed"], out["held_back"], out["parameter_version"]) == (1, 1, "2025.1")
    assert out["held_back_rows"][0]["permit"] == a
    assert quantity(platform, a)["spec_kg"] == 10_000  # held back: unchanged
    assert quantity(platform, b) | {} == {"spec_kg": 3600, "eia_kg": 9000, "share_kg": 6000,
                                          "cap_kg": 3600, "allocated_kg": 3600,
                                          # its limit, never above the new cap
                                          "permitted_kg": 3600, "binding": "specification"}
    assert upper_limit(platform, b) == 3600
    view = alloc.computation_view(platform.uow(), out["id"])
    assert view["actor"] == "officer" and view["kind"] == "compute"
    assert sorted(c["status"] for c in view["changes"]["items"]) == ["applied", "held_back"]

    # the table's 5000 h: 180 000 kg; caps follow EIA and reach the ledger as upper limits
    out = alloc.compute_permitted_quantities(platform.uow(), actor="officer", now=NOW)
    assert (out["changed"], out["held_back"]) == (2, 0)
    qa = quantity(platform, a)
    assert (qa["spec_kg"], qa["cap_kg"], qa["allocated_kg"], qa["binding"]) == (
        180_000, 11_000, 8000, "indicator_share")
    assert upper_limit(platform, a) == 11_000 and upper_limit(platform, b) == 9000
    again = alloc.compute_permitted_quantities(platform.uow(), actor="officer", now=NOW)
    assert again["changed"] == 0


def test_apportionment_sums_exactly_and_rewrites_allocations(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    a, b = codes["A"], codes["B"]
    out = alloc.apportion_indicator(platform.uow(), zone="ZA1", pollutant="SO2", year=2026,
                                    actor="officer", now=NOW)
    assert (out["indicator_kg"], out["reserve_kg"], out["apportioned_kg"]) == (
        20_000, 2000, 18_000)
    assert {s["permit"]: s["share_kg"] for s in out["shares"]} == {a: 10_000, b: 8000}
    assert quantity(platform, a)["allocated_kg"] == 10_000
    assert quantity(platform, a)["binding"] == "specification"
    out = alloc.apportion_indicator(
        platform.uow(), zone="ZA1", pollutant="SO2", year=2026, method="grandfathering",
        entries=[{"permit": a, "historical_kg": 1}, {"permit": b, "historical_kg": 3}],
        actor="officer", now=NOW)
    assert {s["permit"]: s["share_kg"] for s in out["shares"]} == {a: 4500, b: 13_500}
    assert quantity(platform, b)["allocated_kg"] == 8000
    with pytest.raises(ApportionmentError) as exc:
        alloc.apportion_indicator(platform.uow(), zone="ZA1", pollutant="SO2", year=2026,
                                  method="benchmark", entries=[{"permit": a}],
                                  actor="officer", now=NOW)
    assert exc.value.field == "entries"


def test_reserve_plan_from_the_database_and_its_release(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    a, b = codes["A"], codes["B"]
    alloc.confirm_rights(platform.uow(), permit=a, pollutant="SO2", year=2026,
                         actor="bureau", now=NOW)  # reserve 20 000 - 8000
    req = alloc.request_reserve(platform.uow(), permit=b, pollutant="SO2", year=2026,
                                qty_kg=1000, actor="officer", now=NOW)
    assert req["cap_headroom_kg"] == 2000  # cap 8000 less the permitted 6000 from issuance
    plan = alloc.plan_reserve_release(platform.uow, year=2026, actor="officer", now=NOW)
    assert plan["status"] == "planned"
    assert plan["report"]["reserve"][0]["available_kg"] == 12_000
    assert [(g["permit"], g["granted_kg"]) for g in plan["grants"]] == [(b, 1000)]
    out = alloc.release_reserve_plan(platform.uow(), plan_id=plan["id"], actor="officer2",
                                     now=NOW)
    assert (out["released_kg"], out["grants"]) == (1000, 1)
    qb = quantity(platform, b)
    assert qb["permitted_kg"] == 6000 + 1000
    history = alloc.permit_view(platform.uow(), b)["history"]
    assert history[0]["kind"] == "reserve_release" and history[0]["qty_kg"] == 1000
    assert set(ledger_service.asset_sums(platform.uow()).values()) == {0}
    with pytest.raises(PlanNotReleasable):
        alloc.release_reserve_plan(platform.uow(), plan_id=plan["id"], actor="x", now=NOW)

    # every permit's headroom under its cap: A 10 000 - 8000, B 8000 - 7000
    plan = alloc.plan_reserve_release(platform.uow, year=2026, applicants="headroom",
                                      actor="officer", now=NOW)
    granted = {g["permit"]: g["granted_kg"] for g in plan["grants"]}
    assert granted == {a: 2000, b: 1000}
    # a plan made before another was released is superseded
    stale = alloc.plan_reserve_release(platform.uow, year=2026, applicants="headroom",
                                       actor="officer", now=NOW)
    # reserve rights are sold at the plan's price (the base price): A needs the cash
    alloc.deposit_cash(platform.uow(), enterprise=A, amount_fen=195_200, actor="bureau",
                       reference="A-reserve", now=NOW)
    alloc.release_reserve_plan(platform.uow(), plan_id=plan["id"], actor="officer", now=NOW)
    assert alloc.reserve_plan_view(platform.uow(), stale["id"])["status"] == "superseded"
    assert quantity(platform, a)["permitted_kg"] == quantity(platform, a)["cap_kg"]


def test_an_infeasible_plan_carries_its_diagnosis(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    alloc.request_reserve(platform.uow(), permit=codes["A"], pollutant="SO2", year=2026,
                          qty_kg=30_000, min_pct=100, actor="officer", now=NOW)
    plan = alloc.plan_reserve_release(platform.uow, year=2026, actor="officer", now=NOW)
    assert plan["status"] == "infeasible" and plan["grants"] == []
    assert "exceeds" in plan["report"]["diagnosis"]["summary"]
    with pytest.raises(PlanNotReleasable):
        alloc.release_reserve_plan(platform.uow(), plan_id=plan["id"], actor="x", now=NOW)


@pytest.fixture
def demo(platform):  # type: ignore[no-untyped-def]
    from app.demo import load_demo

    load_demo(platform, enterprises=40)
    return platform


def test_the_demo_recomputes_to_itself_and_standards_flag_permits(demo) -> None:  # type: ignore[no-untyped-def]
    platform = demo
    out = alloc.compute_permitted_quantities(platform.uow(), actor="officer",
                                             parameter_version="2025.1", now=DEMO_NOW)
    assert out["changed"] == 0 and out["skipped"] == 0 and out["quantities"] > 100
    with pytest.raises(ScenarioError) as exc:
        alloc.register_standard(platform.uow(), name="old", effective="2026-01-01",
                                limits={"gas_boiler": {"national": {"NOx": "150"}}},
                                actor="officer", now=DEMO_NOW)
    assert exc.value.field == "effective"
    std = alloc.register_standard(platform.uow(), name="GB 13271-2027", effective="2027-07-01",
                                  limits={"gas_boiler": {"national": {"NOx": "150"}}},
                                  actor="officer", now=DEMO_NOW)
    assert std["flagged"] > 0
    assert all(f["year"] >= 2027 and f["pollutant"] == "NOx" for f in std["flags"])
    assert all(f["new_cap_kg"] < f["old_cap_kg"] for f in std["flags"])
    with pytest.raises(NameTaken):
        alloc.register_standard(platform.uow(), name="GB 13271-2027", effective="2027-07-01",
                                limits={"gas_boiler": {"national": {"NOx": "150"}}},
                                actor="officer", now=DEMO_NOW)
    flags = alloc.standard_flags(platform.uow(), standard=std["id"], limit=1000)
    assert flags["total"] == std["flagged"]
    applied = alloc.apply_standard(platform.uow(), standard_id=std["id"], actor="officer",
                                   now=DEMO_NOW)
    assert applied["applied"] + applied["held_back"] == std["flagged"]
    f0 = std["flags"][0]
    with platform.uow() as uow:
        q = RegistryStore(uow.session).quantity(f0["permit"], "NOx", f0["year"])
        assert q is not None and q.cap_kg == f0["new_cap_kg"]
    assert alloc.standard_flags(platform.uow(), standard=std["id"],
                                status="open")["total"] == 0


def test_scenarios_run_against_the_database_and_compare(demo) -> None:  # type: ignore[no-untyped-def]
    platform = demo
    base = alloc.create_scenario(platform.uow(), doc={"name": "baseline", "year": 2026},
                                 actor="analyst", now=DEMO_NOW)
    tight = alloc.create_scenario(platform.uow(), doc={
        "name": "tight", "year": 2026, "indicators": [{"change_pct": -10}],
        "alert": {"level": "orange", "days": 10}}, actor="analyst", now=DEMO_NOW)
    with pytest.raises(NameTaken):
        alloc.create_scenario(platform.uow(), doc={"name": "tight"}, actor="a", now=DEMO_NOW)
    run = alloc.run_scenario(platform.uow, scenario_id=tight["id"], actor="analyst",
                             permits=True, now=DEMO_NOW)
    assert run["year"] == 2026 and run["reserve_plan"]["check_ok"]
    assert all(r["indicator_kg"] < 0 for r in run["deltas"]["by_pollutant"]
               if "indicator_kg" in r)
    assert run["permits"] and run["by_zone"] and run["by_sector"]
    cmp = alloc.compare_scenarios(platform.uow, a=base["id"], b=tight["id"], actor="analyst",
                                  now=DEMO_NOW)
    assert cmp["runs"]["b"] == run["id"]
    so2 = next(r for r in cmp["by_pollutant"] if r["pollutant"] == "SO2")
    assert so2["share_kg"]["delta"] < 0 and so2["alert_cut_kg"]["b"] > 0
    assert alloc.scenario_view(platform.uow(), tight["id"])["runs"][0]["id"] == run["id"]
    alloc.delete_scenario(platform.uow(), tight["id"])
    assert alloc.list_scenarios(platform.uow())["total"] == 1


def test_permit_registry_batches_check_and_record_as_single_calls_would(platform) -> None:  # type: ignore[no-untyped-def]
    """The order pipeline's batch forms: every (enterprise, permit) gets its own answer, and
    several trades of one permit in one call add up in order."""
    from datetime import date

    from allocation.permits import (
        NotPermitHolder,
        PermitExpired,
        QuantityNotFound,
        ZoneMismatch,
    )
    from kernel.records import PermitAsk, PermitTrade
    from tests.integration.spine import A, B

    codes = build_spine(platform)
    a, b = codes["A"], codes["B"]
    reg = alloc.PermitRegistry()
    today = date(2026, 6, 1)
    with platform.uow() as uow:
        got = reg.check_trading_permits(uow, holders=[(A, a), (A, b), (B, b)], pollutant="SO2",
                                        zone="ZA1", year=2026, today=today)
        assert got[(A, a)] is None and got[(B, b)] is None
        assert isinstance(got[(A, b)], NotPermitHolder)
        wrong_zone = reg.check_trading_permits(uow, holders=[(A, a)], pollutant="SO2",
                                               zone="ZW1", year=2026, today=today)
        assert isinstance(wrong_zone[(A, a)], ZoneMismatch)
        no_year = reg.check_trading_permits(uow, holders=[(A, a)], pollutant="SO2",
                                            zone="ZA1", year=2027, today=today)
        assert isinstance(no_year[(A, a)], QuantityNotFound)
        # several asks at once (the pipeline's markets): each answered as it would be alone
        ok, zone, year, late = reg.check_trading_permits_of(uow, asks=[
            PermitAsk("SO2", "ZA1", 2026, today, ((A, a), (A, b), (B, b))),
            PermitAsk("SO2", "ZW1", 2026, today, ((A, a),)),
            PermitAsk("SO2", "ZA1", 2027, today, ((A, a), (B, b))),
            PermitAsk("SO2", "ZA1", 2026, date(2030, 1, 1), ((B, b),))])
        assert ok[(A, a)] is None and ok[(B, b)] is None
        assert isinstance(ok[(A, b)], NotPermitHolder)
        assert isinstance(zone[(A, a)], ZoneMismatch)
        assert all(isinstance(year[h], QuantityNotFound) for h in ((A, a), (B, b)))
        assert isinstance(late[(B, b)], PermitExpired)
        # the passing permits' rights accounts exist now, the confirmed one capped
        store = LedgerStore(uow.session)
        code = asset_code("SO2", "ZA1", 2026)
        for permit in (a, b):
            for kind in (AccountKind.CONFIRMED, AccountKind.TRADABLE):
                assert store.account_id(permit, kind, code) is not None
        uow.commit()
    assert upper_limit(platform, a) == 10_000  # min(specification, EIA)
    with pytest.raises(NotPermitHolder), platform.uow() as uow:
        reg.check_trading_permit(uow, enterprise=B, permit=a, pollutant="SO2",
                                 zone="ZA1", year=2026, today=today)

    before = quantity(platform, a)["permitted_kg"]
    with platform.uow() as uow:
        reg.record_trades(uow, pollutant="SO2", year=2026, trades=[
            PermitTrade(a, "buy", 300, b, 5000, "trade:1", NOW),
            PermitTrade(b, "sell", 300, a, 5000, "trade:1", NOW),
            PermitTrade(a, "buy", 200, b, 5100, "trade:2", NOW)])
        uow.commit()
    assert quantity(platform, a)["permitted_kg"] == before + 500
    with platform.uow() as uow:
        events = RegistryStore(uow.session).events(a)
        trades = [(e.kind, e.qty_kg, e.counterparty, e.price, e.reference, e.permitted_after_kg)
                  for e in reversed(events) if e.kind.startswith("trade")]
        sold = [(e.kind, e.qty_kg, e.permitted_after_kg)
                for e in RegistryStore(uow.session).events(b) if e.kind.startswith("trade")]
    assert trades == [("trade_in", 300, b, 5000, "trade:1", before + 300),
                      ("trade_in", 200, b, 5100, "trade:2", before + 500)]
    assert sold == [("trade_out", -300, quantity(platform, b)["permitted_kg"])]
