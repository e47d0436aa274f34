"""Heavy-pollution caps and breaches (pure): the arithmetic per level by hand, month splits,
exact integer rounding down, breach detection in grams, declaration checks."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compliance.alerting import alerts as AL
from compliance.errors import BadAlert


@pytest.mark.parametrize(("level", "daily"), [("yellow", 246), ("orange", 219),
                                              ("red", 191)])
def test_caps_per_level_by_hand(level: str, daily: int) -> None:
    # 100 000 kg in 2026 (365 days): baseline 273.97 kg/d;
    # yellow ×0.9 = 246.57 → 246; orange ×0.8 = 219.18 → 219; red ×0.7 = 191.78 → 191
    cut = AL.LEVELS[level]
    caps = AL.fallback_caps({("P", "SO2", 2026): 100_000}, cut, date(2026, 1, 30), date(2026, 2, 2))
    assert [(c.month, c.days, c.daily_cap_kg, c.monthly_cap_kg) for c in caps] == [
        (date(2026, 1, 1), 2, daily, 2 * daily), (date(2026, 2, 1), 2, daily, 2 * daily)]
    assert all(c.days_in_year == 365 and c.permitted_kg == 100_000 for c in caps)


def test_levels_and_leap_years() -> None:
    assert AL.LEVELS == {"yellow": 10, "orange": 20, "red": 30}
    # 366 000 kg in the leap year 2028: 1000 kg/d baseline, red → 700 exactly
    assert AL.daily_cap_kg(366_000, 30, 2028) == 700
    assert AL.daily_cap_kg(365_000, 30, 2026) == 700
    assert AL.daily_cap_kg(300, 10, 2026) == 0  # under 1 kg/d: rounds down to nothing


def test_an_alert_across_new_year_uses_each_years_permitted_quantity() -> None:
    caps = AL.fallback_caps({("P", "NOx", 2026): 36_500, ("P", "NOx", 2027): 73_000}, 20,
                   date(2026, 12, 30), date(2027, 1, 2))
    assert [(c.month.year, c.days, c.daily_cap_kg, c.monthly_cap_kg) for c in caps] == [
        (2026, 2, 80, 160), (2027, 2, 160, 320)]
    # a year without a permitted quantity gets no cap
    only = AL.fallback_caps({("P", "NOx", 2026): 36_500}, 20, date(2026, 12, 30), date(2027, 1, 2))
    assert [c.month for c in only] == [date(2026, 12, 1)]


@given(kg=st.integers(0, 10**10), cut=st.integers(10, 90), year=st.integers(2000, 2100))
def test_daily_cap_is_the_exact_floor(kg: int, cut: int, year: int) -> None:
    cap = AL.daily_cap_kg(kg, cut, year)
    exact = Fraction(kg, AL.days_in_year(year)) * Fraction(100 - cut, 100)
    assert cap <= exact < cap + 1


@given(kg=st.integers(0, 10**9), first=st.dates(date(2024, 1, 1), date(2030, 12, 31)),
       n=st.integers(1, AL.MAX_DAYS))
def test_monthly_caps_cover_every_alert_day_and_deeper_cuts_are_stricter(
        kg: int, first: date, n: int) -> None:
    last = first + timedelta(days=n - 1)
    years = range(first.year, last.year + 1)
    permitted = {("P", "SO2", y): kg for y in years}
    by_level = {lv: AL.fallback_caps(permitted, cut, first, last) for lv, cut in AL.LEVELS.items()}
    for caps in by_level.values():
        assert sum(c.days for c in caps) == n
        assert all(c.monthly_cap_kg == c.daily_cap_kg * c.days for c in caps)
        assert all(1 <= c.days <= 31 and c.month.day == 1 for c in caps)
    for y, o, r in zip(by_level["yellow"], by_level["orange"], by_level["red"], strict=True):
        assert y.daily_cap_kg >= o.daily_cap_kg >= r.daily_cap_kg


def test_breaches_by_day_and_by_month_in_grams() -> None:
    caps = AL.fallback_caps({("P", "SO2", 2026): 36_500}, 30, date(2026, 3, 30), date(2026, 4, 2))
    # daily cap = ⌊36 500 × 0.7 / 365⌋ = 70 kg; March has 2 days → 140 kg
    assert {c.daily_cap_kg for c in caps} == {70}
    emitted = {("P", "SO2", date(2026, 3, 29)): 999_000_000,  # before the alert: ignored
               ("P", "SO2", date(2026, 3, 30)): 70_000,  # exactly the cap: no breach
               ("P", "SO2", date(2026, 3, 31)): 70_001,  # one gram over
               ("P", "SO2", date(2026, 4, 1)): 1_000,
               ("P", "NOx", date(2026, 4, 1)): 9_000_000}  # no cap for NOx: ignored
    out = AL.breaches(caps, emitted, date(2026, 3, 30), date(2026, 4, 2))
    assert [(b.period, b.day, b.emitted_g, b.cap_kg) for b in out] == [
        ("day", date(2026, 3, 31), 70_001, 70),
        ("month", date(2026, 3, 1), 140_001, 140)]


def test_a_month_breaches_without_any_day_breaching() -> None:
    caps = AL.fallback_caps({("P", "COD", 2026): 365_000}, 10, date(2026, 5, 1), date(2026, 5, 3))
    assert caps[0].daily_cap_kg == 900 and caps[0].monthly_cap_kg == 2700
    emitted = {("P", "COD", date(2026, 5, d)): 900_000 for d in (1, 2, 3)}
    assert AL.breaches(caps, emitted, date(2026, 5, 1), date(2026, 5, 3)) == []
    # a lifted alert (last day 2 May): the month cap is recomputed for 2 days
    short = AL.fallback_caps({("P", "COD", 2026): 365_000}, 10, date(2026, 5, 1),
                    AL.effective_last_day(date(2026, 5, 3), date(2026, 5, 2)))
    assert short[0].monthly_cap_kg == 1800


def test_declaration_checks() -> None:
    d = AL.declaration("orange", [" ZA1", "D01", "ZA1", ""], date(2026, 6, 1),
                       date(2026, 6, 3))
    assert d.zones == ("D01", "ZA1") and d.cut_pct == 20
    assert AL.declaration("yellow", ["ZA1"], date(2026, 6, 1), date(2026, 6, 1),
                          cut_pct=35).cut_pct == 35
    bad = [(("purple", ["ZA1"], date(2026, 6, 1), date(2026, 6, 2)), "level"),
           (("red", ["ZA1"], date(2026, 6, 1), date(2026, 6, 2), 20), "cut_pct"),
           (("red", ["ZA1"], date(2026, 6, 1), date(2026, 6, 2), 95), "cut_pct"),
           (("red", [], date(2026, 6, 1), date(2026, 6, 2)), "zones"),
           (("red", ["Z" * 21], date(2026, 6, 1), date(2026, 6, 2)), "zones"),
           (("red", ["ZA1"], date(2026, 6, 2), date(2026, 6, 1)), "last_day"),
           (("red", ["ZA1"], date(2026, 1, 1), date(2026, 6, 1)), "last_day")]
    for args, field in bad:
        with pytest.raises(BadAlert) as exc:
            AL.declaration(*args)  # type: ignore[arg-type]
        assert exc.value.field == field


def test_days_by_month_and_lifting() -> None:
    assert AL.days_by_month(date(2028, 2, 27), date(2028, 3, 1)) == {
        date(2028, 2, 1): 3, date(2028, 3, 1): 1}
    assert AL.days_by_month(date(2026, 6, 2), date(2026, 6, 1)) == {}
    assert AL.effective_last_day(date(2026, 6, 9), None) == date(2026, 6, 9)
    assert AL.effective_last_day(date(2026, 6, 9), date(2026, 6, 4)) == date(2026, 6, 4)


# baselines, measures, region totals (issue 15) ---------------------------------------------
P26 = AL.alert_parameters(date(2026, 6, 1))


def _input(permit: str, baseline: AL.Baseline, cut: int, *, zone: str = "ZA1",
           source: str = AL.FROM_ALERT, year: int = 2026) -> AL.CapInput:
    return AL.CapInput(permit, "SO2", year, zone, 365_000, baseline, cut, source)


def test_a_monitored_baseline_binds_where_permitted_over_365_would_not() -> None:
    # 365 000 kg permitted: the old red cap was ⌊1000 × 0.7⌋ = 700 kg/d. Monitored: 4 days
    # with data, 100/120/90/90 kg → mean 100 kg/d → red cap 70 kg/d.
    days = {date(2026, 5, d): g for d, g in ((20, 100_000), (21, 120_000), (25, 90_000),
                                             (31, 90_000))}
    base = AL.monitored_baseline(days, P26)
    assert base == AL.Baseline("monitoring", 400_000, 4)
    (cap,) = AL.caps([_input("P", base, 30)], date(2026, 6, 1), date(2026, 6, 3))
    assert (cap.daily_cap_kg, cap.monthly_cap_kg, cap.basis, cap.baseline_days) == (
        70, 210, "monitoring", 4)
    assert AL.daily_cap_kg(365_000, 30, 2026) == 700
    # 90 kg on an alert day breaches the new cap (the old 700 would not)
    out = AL.breaches([cap], {("P", "SO2", date(2026, 6, 1)): 90_000}, date(2026, 6, 1),
                      date(2026, 6, 3))
    assert [(b.period, b.cap_kg) for b in out] == [("day", 70)]
    # no data in the window: the permitted fallback over the days of the year
    assert AL.monitored_baseline({}, P26) is None
    fb = AL.permitted_baseline(365_000, 2028, "steel", P26)
    assert fb == AL.Baseline("permitted", 365_000_000, 366)
    assert AL.cap_from_baseline(fb, 30) == 365_000 * 70 // (366 * 100)


def test_the_baseline_window_is_the_30_days_before_the_first_day() -> None:
    assert P26.baseline_days == 30
    assert AL.baseline_window(date(2026, 6, 1), P26) == (date(2026, 5, 2), date(2026, 5, 31))


def test_operating_days_from_the_sector_parameter() -> None:
    from dataclasses import replace

    params = replace(P26, operating_days={"cement": 300})
    assert AL.permitted_baseline(300_000, 2026, "cement", params).days == 300
    assert AL.permitted_baseline(300_000, 2026, "steel", params).days == 365


@given(grams=st.integers(0, 10**13), days=st.integers(1, 400), cut=st.integers(0, 100))
def test_the_cap_is_the_exact_floor_of_the_baseline(grams: int, days: int, cut: int) -> None:
    cap = AL.cap_from_baseline(AL.Baseline("monitoring", grams, days), cut)
    exact = Fraction(grams, days * 1000) * Fraction(100 - cut, 100)
    assert cap <= exact < cap + 1


def test_the_cut_comes_from_the_measure_then_the_grade_then_the_alert() -> None:
    plan = AL.plan("C", {"red": (50, " stop sinter line 2 "), "yellow": (15, None)})
    assert AL.permit_cut(plan, "red", 30, P26) == (50, "measure", "stop sinter line 2")
    assert AL.permit_cut(plan, "yellow", 10, P26) == (15, "measure", None)
    # C names no orange measure: the grade's default is the alert's cut (verify)
    assert AL.permit_cut(plan, "orange", 25, P26) == (25, "grade", None)
    # grade A reduces of its own accord: 0 % unless its list says otherwise
    assert AL.permit_cut(AL.plan("A", {}), "red", 30, P26) == (0, "grade", None)
    assert AL.permit_cut(None, "red", 35, P26) == (35, "alert", None)
    base = AL.Baseline("monitoring", 1_000_000, 10)  # 100 kg/d
    caps = AL.caps([_input("P", base, 50, source="measure"),
                    _input("Q", base, 0, source="grade")], date(2026, 6, 1),
                   date(2026, 6, 1))
    assert [(c.permit, c.daily_cap_kg, c.cut_source) for c in caps] == [
        ("P", 50, "measure"), ("Q", 100, "grade")]


@pytest.mark.parametrize(("grade", "levels", "field"), [
    ("E", {}, "grade"),
    ("a", {}, "grade"),
    ("B", {"purple": (10, None)}, "levels"),
    ("B", {"red": (101, None)}, "levels.red.cut_pct"),
    ("B", {"red": (-1, None)}, "levels.red.cut_pct"),
    ("B", {"red": (True, None)}, "levels.red.cut_pct"),
    ("B", {"red": ("30", None)}, "levels.red.cut_pct"),
    ("B", {"red": (None, "stop line 1")}, "levels.red.cut_pct"),
    ("B", {"red": (30, "x" * 501)}, "levels.red.measure"),
    ("B", {"yellow": (40, None), "orange": (30, None)}, "levels.orange.cut_pct"),
    ("B", {"yellow": (40, None), "red": (20, None)}, "levels.red.cut_pct"),
])
def test_bad_measures_name_the_field(grade: str, levels: dict[str, tuple[object, str | None]],
                                     field: str) -> None:
    from compliance.errors import BadEmergencyMeasure

    with pytest.raises(BadEmergencyMeasure) as exc:
        AL.plan(grade, levels)
    assert exc.value.field == field and exc.value.code == "bad_emergency_measure"


def test_region_totals_against_the_levels_target() -> None:
    first, last = date(2026, 6, 1), date(2026, 6, 2)
    caps = AL.caps([
        _input("P", AL.Baseline("monitoring", 1_000_000, 10), 30),  # 100 kg/d → 70
        _input("Q", AL.Baseline("monitoring", 600_000, 3), 30),  # 200 kg/d → 140
        _input("R", AL.Baseline("monitoring", 500_000, 5), 0, zone="ZA2",
               source="grade"),  # grade A: 100 kg/d, no cut
        _input("S", AL.Baseline("monitoring", 100_000, 1), 40, zone="ZA2"),  # 100 → 60
    ], first, last)
    za1, za2 = AL.region_totals(caps, 30)
    # ZA1: baseline 2 days × 300 kg = 600 kg, caps 2 × 210 = 420 kg: a 30.0 % cut, met
    assert (za1.zone, za1.permits, za1.baseline_g, za1.cap_kg, za1.achieved_pct,
            za1.meets) == ("ZA1", 2, 600_000, 420, Decimal("30.0"), True)
    # ZA2: 400 kg against 320 kg: 20.0 %, short of the red target
    assert (za2.baseline_g, za2.cap_kg, za2.achieved_pct, za2.meets) == (
        400_000, 320, Decimal("20.0"), False)
    # rounding the daily cap down only deepens the cut; the baseline stays an exact fraction
    thirds = AL.caps([_input("T", AL.Baseline("monitoring", 1_000_000, 3), 30)], first, first)
    (t,) = AL.region_totals(thirds, 30)
    # 1 − 233 / 333.333… = 30.1 % (rounded down from 30.10…)
    assert t.baseline_g == 333_333 and t.cap_kg == 233 and t.achieved_pct == Decimal("30.1")
    assert t.meets
    empty = AL.caps([_input("U", AL.Baseline("monitoring", 0, 5), 30)], first, first)
    assert AL.region_totals(empty, 10)[0].achieved_pct is None
