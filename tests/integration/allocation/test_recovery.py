"""Standard-change recovery on a real database (SQLite and PostgreSQL): a held-back flag is
marked with the rights above its new cap; the bureau recovers them to the reserve or buys
them back (rights to the reserve, money to the enterprise); the permit takes the new cap in
the same transaction; a flag is decided once; a rejected ledger batch changes nothing; every
asset sums to zero afterwards."""

from __future__ import annotations

from datetime import date

import pytest

from allocation import service as alloc
from allocation.errors import (
    BadRecoveryDecision,
    FlagAlreadyDecided,
    FlagNotHeldBack,
    StandardFlagNotFound,
)
from allocation.store import RegistryStore
from kernel.ids import make_credit_code
from ledger import service as ledger_service
from ledger.errors import LedgerRejection
from ledger.service import BUREAU, MONEY, asset_code
from ledger.store import LedgerStore
from ledger.transactions import AccountKind
from tests.integration.spine import NOW, build_spine

pytestmark = pytest.mark.db
C = make_credit_code("91500000CCCCCCCC3")
D = make_credit_code("91500000DDDDDDDD4")
ASSET = asset_code("SO2", "ZA1", 2026)


def _world(platform) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Two chemical plants (1 万t/a: 800 kg SO2 by the 2025.1 table) with all 800 kg
    confirmed, and a standard (SO2 10 mg/Nm3 from 1 July 2026) that cuts their 2026 cap to
    437 kg: both flags are held back with 363 kg to recover."""
    build_spine(platform)
    permits = {}
    for code, tag in ((C, "C"), (D, "D")):
        alloc.register_enterprise(platform.uow(), credit_code=code, name=f"Chem {tag}",
                                  sector="chemicals", district="D01")
        permits[tag] = alloc.issue_permit(
            platform.uow(), enterprise=code, site_seq=1, site_name=f"Plant {tag}",
            district="D01", capacity=1, capacity_unit="万t/a", valid_from=date(2025, 1, 1),
            valid_to=date(2029, 12, 31), parameter_version="2025.1",
            bases=[alloc.QuantityBasis("SO2", 2026, "ZA1", 800, 9000, None)], now=NOW)
        alloc.confirm_rights(platform.uow(), permit=permits[tag], pollutant="SO2", year=2026,
                             actor="bureau", now=NOW)
    std = alloc.register_standard(
        platform.uow(), name="heater SO2 10", effective="2026-07-01",
        limits={"chemicals_process_heater": {"national": {"SO2": "10"}}}, actor="officer",
        now=NOW)
    assert {(f["permit"], f["old_cap_kg"], f["new_cap_kg"]) for f in std["flags"]} == {
        (permits["C"], 800, 437), (permits["D"], 800, 437)}
    out = alloc.apply_standard(platform.uow(), standard_id=std["id"], actor="officer", now=NOW)
    assert (out["applied"], out["held_back"], out["recovery_kg"]) == (0, 2, 726)
    flags = alloc.standard_flags(platform.uow(), standard=std["id"])["items"]
    by_permit = {f["permit"]: f for f in flags}
    assert all(f["status"] == "held_back" and f["recovery_kg"] == 363 for f in flags)
    return {"permits": permits, "flags": {t: by_permit[permits[t]]["id"] for t in "CD"}}


def _state(platform, permit: str, holder: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    with platform.uow() as uow:
        ls, reg = LedgerStore(uow.session), RegistryStore(uow.session)

        def bal(h: str, kind: str, asset: str) -> int | None:
            aid = ls.account_id(h, kind, asset)
            a = ls.get_account(aid) if aid is not None else None
            return a.balance if a is not None else None

        aid = ls.account_id(permit, AccountKind.CONFIRMED, ASSET)
        q = reg.quantity(permit, "SO2", 2026)
        assert q is not None and aid is not None
        return {"confirmed": bal(permit, "confirmed", ASSET),
                "tradable": bal(permit, "tradable", ASSET),
                "reserve": bal(BUREAU, "reserve", ASSET),
                "cash": bal(holder, "cash", MONEY), "bureau_cash": bal(BUREAU, "cash", MONEY),
                "cap": q.cap_kg, "spec": q.spec_kg, "permitted": q.permitted_kg,
                "upper_limit": ls.get_account(aid).upper_limit,  # type: ignore[union-attr]
                "event": [(e.kind, e.qty_kg, e.price, e.permitted_after_kg)
                          for e in reg.events(permit, limit=1)][0]}


def _sums_zero(platform) -> None:  # type: ignore[no-untyped-def]
    sums = ledger_service.asset_sums(platform.uow())
    assert sums and all(v == 0 for v in sums.values()), sums


def test_recover_moves_the_excess_to_the_reserve_and_the_permit_takes_the_new_cap(platform) -> None:  # type: ignore[no-untyped-def]
    w = _world(platform)
    pc, fc = w["permits"]["C"], w["flags"]["C"]  # type: ignore[index]
    before = _state(platform, pc, C)
    out = alloc.decide_standard_flag(platform.uow(), flag_id=fc, decision="recover",
                                     actor="officer", now=NOW)
    assert (out["status"], out["decision"], out["moved_kg"], out["permitted_after_kg"]) == (
        "recovered", "recover", 363, 437)
    after = _state(platform, pc, C)
    assert after["confirmed"] == 437 and after["reserve"] == before["reserve"] + 363  # type: ignore[operator]
    assert (after["cap"], after["spec"], after["permitted"], after["upper_limit"]) == (
        437, 437, 437, 437)
    assert after["event"] == ("recovery", -363, None, 437)
    assert after["cash"] == before["cash"]
    with pytest.raises(FlagAlreadyDecided) as exc:
        alloc.decide_standard_flag(platform.uow(), flag_id=fc, decision="buy_back", price=0,
                                   actor="officer", now=NOW)
    assert exc.value.code == "flag_already_decided"
    assert _state(platform, pc, C)["confirmed"] == 437
    _sums_zero(platform)


def test_buy_back_pays_the_enterprise_and_a_rejected_payment_changes_nothing(platform) -> None:  # type: ignore[no-untyped-def]
    w = _world(platform)
    pd, fd = w["permits"]["D"], w["flags"]["D"]  # type: ignore[index]
    alloc.deposit_cash(platform.uow(), enterprise=BUREAU, amount_fen=30_000, actor="bureau",
                       reference="bureau-budget", now=NOW)
    before = _state(platform, pd, D)
    # 363 kg × 976 yuan/t = 354.288 yuan = 35 428.8 fen → 35 429: more than the bureau has
    with pytest.raises(LedgerRejection):
        alloc.decide_standard_flag(platform.uow(), flag_id=fd, decision="buy_back",
                                   price=97_600, actor="officer", now=NOW)
    assert _state(platform, pd, D) == before
    assert alloc.standard_flags(platform.uow(), permit=pd)["items"][0]["status"] == "held_back"
    alloc.deposit_cash(platform.uow(), enterprise=BUREAU, amount_fen=10_000, actor="bureau",
                       reference="bureau-budget-2", now=NOW)
    out = alloc.decide_standard_flag(platform.uow(), flag_id=fd, decision="buy_back",
                                     price=97_600, actor="officer", now=NOW)
    assert (out["status"], out["moved_kg"], out["price"], out["amount_fen"]) == (
        "bought_back", 363, 97_600, 35_429)
    after = _state(platform, pd, D)
    assert after["confirmed"] == 437 and after["tradable"] == 0
    assert after["reserve"] == before["reserve"] + 363  # type: ignore[operator]
    assert after["cash"] == (before["cash"] or 0) + 35_429
    assert after["bureau_cash"] == 40_000 - 35_429
    assert (after["cap"], after["permitted"], after["upper_limit"]) == (437, 437, 437)
    assert after["event"] == ("buy_back", -363, 97_600, 437)
    _sums_zero(platform)


def test_bad_decisions_are_rejected(platform) -> None:  # type: ignore[no-untyped-def]
    w = _world(platform)
    fc = w["flags"]["C"]  # type: ignore[index]
    with pytest.raises(BadRecoveryDecision) as exc:
        alloc.decide_standard_flag(platform.uow(), flag_id=fc, decision="cancel",  # type: ignore[arg-type]
                                   actor="officer", now=NOW)
    assert exc.value.field == "decision"
    for price in (None, -1, True):
        with pytest.raises(BadRecoveryDecision) as exc:
            alloc.decide_standard_flag(platform.uow(), flag_id=fc, decision="buy_back",
                                       price=price, actor="officer", now=NOW)  # type: ignore[arg-type]
        assert exc.value.field == "price"
    with pytest.raises(StandardFlagNotFound):
        alloc.decide_standard_flag(platform.uow(), flag_id=10**6, decision="recover",
                                   actor="officer", now=NOW)
    # a flag that was applied (or never applied) does not await a decision
    std = alloc.register_standard(
        platform.uow(), name="heater SO2 20", effective="2026-07-01",
        limits={"chemicals_process_heater": {"national": {"SO2": "20"}}}, actor="officer",
        now=NOW)
    open_flag = alloc.standard_flags(platform.uow(), standard=std["id"])["items"][0]
    with pytest.raises(FlagNotHeldBack):
        alloc.decide_standard_flag(platform.uow(), flag_id=open_flag["id"],
                                   decision="recover", actor="officer", now=NOW)
    assert alloc.check_recovery_decision(platform.uow(), flag_id=fc,
                                         decision="recover")["recovery_kg"] == 363
