"""Heavy-pollution caps and breaches (pure): the arithmetic per level by hand, month splits,
exact integer rounding down, breach detection in grams, declaration checks."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compliance import alerts as AL
from compliance.errors import BadAlert


@pytest.mark.parametrize(("level", "daily"), [("yellow", 246), ("orange", 219),
                                              ("red", 191)])
def test_caps_per_level_by_hand(level: str, daily: int) -> None:
    # 100 000 kg in 2026 (365 days): baseline 273.97 kg/d;
    # yellow ×0.9 = 246.57 → 246; orange ×0.8 = 219.18 → 219; red ×0.7 = 191.78 → 191
    cut = AL.LEVELS[level]
    caps = AL.caps({("P", "SO2", 2026): 100_000}, cut, date(2026, 1, 30), date(2026, 2, 2))
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
    caps = AL.caps({("P", "NOx", 2026): 36_500, ("P", "NOx", 2027): 73_000}, 20,
                   date(2026, 12, 30), date(2027, 1, 2))
    assert [(c.month.year, c.days, c.daily_cap_kg, c.monthly_cap_kg) for c in caps] == [
        (2026, 2, 80, 160), (2027, 2, 160, 320)]
    # a year without a permitted quantity gets no cap
    only = AL.caps({("P", "NOx", 2026): 36_500}, 20, date(2026, 12, 30), date(2027, 1, 2))
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
    by_level = {lv: AL.caps(permitted, cut, first, last) for lv, cut in AL.LEVELS.items()}
    for caps in by_level.values():
        assert sum(c.days for c in caps) == n
        assert all(c.monthly_cap_kg == c.daily_cap_kg * c.days for c in caps)
        assert all(1 <= c.days <= 31 and c.month.day == 1 for c in caps)
    for y, o, r in zip(by_level["yellow"], by_level["orange"], by_level["red"], strict=True):
        assert y.daily_cap_kg >= o.daily_cap_kg >= r.daily_cap_kg


def test_breaches_by_day_and_by_month_in_grams() -> None:
    caps = AL.caps({("P", "SO2", 2026): 36_500}, 30, date(2026, 3, 30), date(2026, 4, 2))
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
    caps = AL.caps({("P", "COD", 2026): 365_000}, 10, date(2026, 5, 1), date(2026, 5, 3))
    assert caps[0].daily_cap_kg == 900 and caps[0].monthly_cap_kg == 2700
    emitted = {("P", "COD", date(2026, 5, d)): 900_000 for d in (1, 2, 3)}
    assert AL.breaches(caps, emitted, date(2026, 5, 1), date(2026, 5, 3)) == []
    # a lifted alert (last day 2 May): the month cap is recomputed for 2 days
    short = AL.caps({("P", "COD", 2026): 365_000}, 10, date(2026, 5, 1),
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
