"""Emergency caps from actual emissions and the permit's measures, on a real database
(SQLite and PostgreSQL): a monitored baseline that binds where permitted ÷ 365 would not,
the permitted fallback without data, an unconfirmed permit capped, a grade and a measure's
cut applied, the region's total cut against the level's target, lifting keeps the baselines,
and bad measures refused with nothing stored."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest

from compliance.alerting import alert_service, clue_service
from compliance.errors import BadEmergencyMeasure, EmergencyPermitNotFound
from compliance.supervision.supervision_tables import MonitoringDailyRow
from kernel.ids import make_credit_code
from tests.integration.spine import NOW, build_spine

pytestmark = pytest.mark.db

FIRST, LAST = date(2026, 6, 1), date(2026, 6, 5)


def _spine(platform) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A (8 000 kg) and B (6 000 kg) of SO2 in 2026, confirmed, zone ZA1; C (50 000 kg) in
    zone ZA2 issued but not confirmed."""
    from allocation import service as alloc

    codes = build_spine(platform)
    alloc.register_area(platform.uow(), zones=[("ZA2", "Air zone 2", "air"),
                                               ("ZW2", "Water zone 2", "water")],
                        districts=[("D02", "District 2", "ZA2", "ZW2")])
    C = make_credit_code("91500000CCCCCCCC3")
    alloc.register_enterprise(platform.uow(), credit_code=C, name="Enterprise C",
                              sector="thermal_power", district="D02")
    codes["C"] = alloc.issue_permit(
        platform.uow(), enterprise=C, site_seq=1, site_name="Plant C", district="D02",
        capacity=300, capacity_unit="MW", valid_from=date(2025, 1, 1),
        valid_to=date(2029, 12, 31), parameter_version="test",
        bases=[alloc.QuantityBasis("SO2", 2026, "ZA2", 50_000, None, None)], now=NOW)
    for tag in ("A", "B"):
        alloc.confirm_rights(platform.uow(), permit=codes[tag], pollutant="SO2", year=2026,
                             actor="officer", now=NOW)
    return codes


def _monitor(platform, rows) -> None:  # type: ignore[no-untyped-def]
    with platform.uow() as uow:
        uow.session.add_all([MonitoringDailyRow(permit=p, outlet=o, pollutant="SO2", day=d,
                                                emitted_g=g, hours=24, power_kwh=0)
                             for p, o, d, g in rows])
        uow.commit()


def test_caps_from_baselines_measures_and_the_region_total(platform) -> None:  # type: ignore[no-untyped-def]
    codes = _spine(platform)
    pa, pb, pc = codes["A"], codes["B"], codes["C"]
    # A: 4 days with data in 2-31 May (two outlets on one day), mean 10 kg/d; 1 May is
    # outside the 30-day window and ignored
    _monitor(platform, [(pa, "DA001", date(2026, 5, 1), 900_000),
                        (pa, "DA001", date(2026, 5, 2), 8_000),
                        (pa, "DA002", date(2026, 5, 2), 4_000),
                        (pa, "DA001", date(2026, 5, 20), 9_000),
                        (pa, "DA001", date(2026, 5, 30), 11_000),
                        (pa, "DA001", date(2026, 5, 31), 8_000)])
    # B: grade C, red measure "stop sinter line 2" = 50 %
    m = alert_service.set_measures(platform.uow(), permit=pb, grade="C", levels={
        "red": {"cut_pct": 50, "measure": "stop sinter line 2"},
        "orange": {"cut_pct": 35, "measure": None}}, actor="officer", now=NOW)
    assert m["grade"] == "C" and m["levels"]["red"]["applies_pct"] == 50
    assert m["levels"]["yellow"] == {"cut_pct": None, "measure": None, "applies_pct": 10,
                                     "source": "grade", "measure_text": None}
    out = alert_service.declare_alert(platform.uow(), level="red", zones=["ZA1", "ZA2"],
                                      first_day=FIRST, last_day=LAST, actor="officer",
                                      now=NOW)
    assert out["caps"] == 3
    caps = {c["permit"]: c for c in
            alert_service.alert_caps(platform.uow(), alert_id=out["id"])["items"]}
    # A: mean 10 kg/d × 0.7 = 7 kg/d (permitted ÷ 365 would give ⌊8000 × 0.7 / 365⌋ = 15)
    a = caps[pa]
    assert (a["basis"], a["baseline_g"], a["baseline_days"], a["baseline_daily_kg"],
            a["cut_pct"], a["cut_source"], a["daily_cap_kg"], a["monthly_cap_kg"]) == (
        "monitoring", 40_000, 4, "10.000", 30, "alert", 7, 35)
    # B: no monitoring → 6000 kg ÷ 365 days; its measure cuts 50 %: ⌊6000 × 0.5 / 365⌋ = 8
    b = caps[pb]
    assert (b["basis"], b["baseline_days"], b["cut_pct"], b["cut_source"], b["grade"],
            b["measure"], b["daily_cap_kg"]) == (
        "permitted", 365, 50, "measure", "C", "stop sinter line 2", 8)
    # C: rights not confirmed, still capped on its permit quantity: ⌊50 000 × 0.7 / 365⌋
    c = caps[pc]
    assert (c["zone"], c["basis"], c["daily_cap_kg"]) == ("ZA2", "permitted", 95)

    region = alert_service.alert_region(platform.uow(), alert_id=out["id"])
    assert region["target_pct"] == 30
    za1, za2 = region["items"]
    base1 = Fraction(40_000, 4) * 5 + Fraction(6_000_000, 365) * 5  # grams over 5 days
    assert (za1["zone"], za1["pollutant"], za1["permits"], za1["baseline_g"],
            za1["cap_kg"]) == ("ZA1", "SO2", 2, int(base1), 35 + 40)
    assert za1["achieved_pct"] == "43.2" and za1["meets"] is True  # 1 − 75 / 132.19
    base2 = Fraction(50_000_000, 365) * 5
    assert (za2["baseline_g"], za2["cap_kg"], za2["meets"]) == (int(base2), 475, True)
    assert za2["achieved_pct"] == "30.6"

    # the check uses the new caps: 12 kg for A breaches 7 (the old 15 would not)
    _monitor(platform, [(pa, "DA001", FIRST, 12_000), (pb, "DA001", FIRST, 8_000)])
    res = alert_service.check_alerts(platform.uow(), alert_id=out["id"],
                                     now=NOW + timedelta(days=1))
    assert [(x["permit"], x["period"], x["cap_kg"]) for x in res["breaches"]] == [
        (pa, "day", 7)]
    ev = clue_service.get_clue(platform.uow(), clue_id=res["breaches"][0]["clue"])["evidence"]
    assert (ev["permit_cut_pct"], ev["basis"], ev["baseline_daily_kg"], ev["cap_kg"]) == (
        30, "monitoring", "10.000", 7)

    # data for the baseline window that arrives later, and new measures, do not change the
    # declared caps; lifting shortens the window and keeps each baseline and cut
    _monitor(platform, [(pb, "DA001", date(2026, 5, 29), 1_000)])
    alert_service.set_measures(platform.uow(), permit=pa, grade="A", levels={},
                               actor="officer", now=NOW)
    alert_service.lift_alert(platform.uow(), alert_id=out["id"], actor="officer",
                             now=NOW + timedelta(days=1))
    after = {c["permit"]: c for c in
             alert_service.alert_caps(platform.uow(), alert_id=out["id"])["items"]}
    assert (after[pa]["daily_cap_kg"], after[pa]["days"], after[pa]["cut_source"]) == (
        7, 2, "alert")
    assert (after[pb]["basis"], after[pb]["daily_cap_kg"]) == ("permitted", 8)

    # a new alert uses A's grade (A: voluntary, 0 %) and B's fresh monitoring baseline
    nxt = alert_service.declare_alert(platform.uow(), level="orange", zones=["ZA1"],
                                      first_day=date(2026, 6, 10),
                                      last_day=date(2026, 6, 10), actor="officer", now=NOW)
    new = {c["permit"]: c for c in
           alert_service.alert_caps(platform.uow(), alert_id=nxt["id"])["items"]}
    # A: window 11 May-9 Jun: 20 May 9 kg, 30 May 11 kg, 31 May 8 kg, 1 Jun 12 kg → 10 kg
    assert (new[pa]["cut_pct"], new[pa]["cut_source"], new[pa]["grade"],
            new[pa]["baseline_days"], new[pa]["daily_cap_kg"]) == (0, "grade", "A", 4, 10)
    # B: 29 May 1 kg and 1 Jun 8 kg → 4.5 kg/d; orange measure 35 % → ⌊2.925⌋ = 2
    assert (new[pb]["basis"], new[pb]["cut_pct"], new[pb]["daily_cap_kg"]) == (
        "monitoring", 35, 2)


def test_bad_measures_are_refused_and_nothing_is_stored(platform) -> None:  # type: ignore[no-untyped-def]
    codes = _spine(platform)
    cases = [(dict(grade="E", levels={}), "grade"),
             (dict(grade="B", levels={"purple": {"cut_pct": 10}}), "levels"),
             (dict(grade="B", levels={"red": {"cut_pct": 101}}), "levels.red.cut_pct"),
             (dict(grade="B", levels={"red": {"cut_pct": -5}}), "levels.red.cut_pct"),
             (dict(grade="B", levels={"red": {"measure": "stop line 1"}}),
              "levels.red.cut_pct"),
             (dict(grade="B", levels={"red": 30}), "levels.red"),
             (dict(grade="B", levels={"yellow": {"cut_pct": 30}, "red": {"cut_pct": 20}}),
              "levels.red.cut_pct")]
    for kw, field in cases:
        with pytest.raises(BadEmergencyMeasure) as exc:
            alert_service.set_measures(platform.uow(), permit=codes["A"], actor="officer",
                                       now=NOW, **kw)  # type: ignore[arg-type]
        assert exc.value.field == field
    with pytest.raises(EmergencyPermitNotFound):
        alert_service.set_measures(platform.uow(), permit="X" * 22, grade="B", levels={},
                                   actor="officer", now=NOW)
    assert alert_service.list_measures(platform.uow())["total"] == 0
    with pytest.raises(EmergencyPermitNotFound):
        alert_service.get_measures(platform.uow(), permit=codes["A"], enterprise="nobody")
    # replacing measures replaces the levels
    alert_service.set_measures(platform.uow(), permit=codes["A"], grade="B",
                               levels={"red": {"cut_pct": 40}}, actor="officer", now=NOW)
    alert_service.set_measures(platform.uow(), permit=codes["A"], grade="D",
                               levels={"yellow": {"cut_pct": 20}}, actor="officer", now=NOW)
    got = alert_service.get_measures(platform.uow(), permit=codes["A"])
    assert got["grade"] == "D" and got["levels"]["red"]["cut_pct"] is None
    assert got["levels"]["yellow"]["cut_pct"] == 20
    assert alert_service.list_measures(platform.uow())["total"] == 1
