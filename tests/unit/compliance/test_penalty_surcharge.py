"""The penalty procedure's remaining law (compliance/enforcement/penalty_procedure.py, pure): the
late-payment surcharge of Administrative Penalty Law Art. 72(1) (3 % of the fine a day, in
whole fen rounded down, never more than the fine) and the hearing notice of Art. 64(2)
(at least 7 working days before the hearing, Art. 85)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compliance.enforcement import penalty_procedure as PP
from compliance.errors import BadPenaltyCase, HearingNoticeTooShort, PenaltyStepRefused

fines = st.integers(min_value=0, max_value=10**13)
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
offsets = st.integers(min_value=-60, max_value=400)


@given(fines, days, offsets)
def test_the_surcharge_never_exceeds_the_fine(fine: int, due: date, off: int) -> None:
    s = PP.surcharge_fen(fine, due, due + timedelta(days=off))
    assert 0 <= s <= fine


@given(fines, days, offsets, st.integers(min_value=0, max_value=100))
def test_the_surcharge_grows_with_the_days_late(fine: int, due: date, off: int,
                                                more: int) -> None:
    early = PP.surcharge_fen(fine, due, due + timedelta(days=off))
    later = PP.surcharge_fen(fine, due, due + timedelta(days=off + more))
    assert early <= later


@given(fines, fines, days, offsets)
def test_the_surcharge_grows_with_the_fine(a: int, b: int, due: date, off: int) -> None:
    lo, hi = sorted((a, b))
    on = due + timedelta(days=off)
    assert PP.surcharge_fen(lo, due, on) <= PP.surcharge_fen(hi, due, on)


@given(fines, days, st.integers(min_value=0, max_value=400))
def test_the_surcharge_is_three_percent_a_day_rounded_down(fine: int, due: date,
                                                           late: int) -> None:
    s = PP.surcharge_fen(fine, due, due + timedelta(days=late))
    exact_hundredths = fine * 3 * late          # 100 × the surcharge in fen, exactly
    if exact_hundredths < 100 * fine:
        assert s * 100 <= exact_hundredths < (s + 1) * 100   # rounded down to the fen
    else:
        assert s == fine                                     # capped


@given(st.integers(min_value=1, max_value=10**13), days, st.integers(min_value=0, max_value=60))
def test_nothing_accrues_up_to_the_last_day(fine: int, due: date, before: int) -> None:
    assert PP.surcharge_fen(fine, due, due - timedelta(days=before)) == 0
    assert PP.days_late(due, due - timedelta(days=before)) == 0


def test_worked_examples() -> None:
    due = date(2026, 12, 16)               # served 2026-12-01: 15 days (Art. 67)
    assert PP.payment_due(date(2026, 12, 1)) == due
    fine = 30_000_000                       # 300 000 yuan
    assert PP.surcharge_fen(fine, due, due) == 0
    assert PP.surcharge_fen(fine, due, due + timedelta(days=1)) == 900_000   # 9 000 yuan
    assert PP.surcharge_fen(fine, due, due + timedelta(days=10)) == 9_000_000
    assert PP.surcharge_fen(fine, due, due + timedelta(days=33)) == 29_700_000
    assert PP.surcharge_fen(fine, due, due + timedelta(days=34)) == fine      # the cap
    assert PP.surcharge_fen(fine, due, due + timedelta(days=365)) == fine
    # rounding: 3 % of 33 fen is 0.99 fen a day: nothing on day 1, 1 fen on day 2
    assert PP.surcharge_fen(33, due, due + timedelta(days=1)) == 0
    assert PP.surcharge_fen(33, due, due + timedelta(days=2)) == 1
    assert PP.days_late(due, due + timedelta(days=3)) == 3


def test_the_surcharge_paid_is_at_most_the_one_accrued() -> None:
    PP.check_surcharge(0, 900_000)
    PP.check_surcharge(900_000, 900_000)
    for bad in (-1, 900_001):
        with pytest.raises(BadPenaltyCase) as exc:
            PP.check_surcharge(bad, 900_000)
        assert exc.value.code == "bad_penalty_case" and exc.value.field == "surcharge_fen"


@given(days)
def test_a_hearing_is_held_seven_working_days_after_its_notice(notified: date) -> None:
    first = PP.earliest_hearing(notified)
    assert PP.is_working_day(first)
    between = [notified + timedelta(days=i) for i in range(1, (first - notified).days + 1)]
    assert sum(PP.is_working_day(d) for d in between) == 7
    requested = notified - timedelta(days=1)
    PP.check_hearing_notice(PP.HEARING_REQUESTED, requested, notified, first, notified)
    with pytest.raises(HearingNoticeTooShort) as exc:
        PP.check_hearing_notice(PP.HEARING_REQUESTED, requested, notified,
                                first - timedelta(days=1), notified)
    assert exc.value.code == "penalty_hearing_notice_too_short"
    assert exc.value.details["earliest"] == first.isoformat()


def test_hearing_notice_over_the_national_day_week() -> None:
    # notified Monday 2026-09-28: 29, 30, then 10-01..07 off, 08, 09, 10 (make-up Saturday),
    # 12, 13 → the 7th working day is Tuesday 2026-10-13
    assert PP.earliest_hearing(date(2026, 9, 28)) == date(2026, 10, 13)


def test_the_hearing_is_recorded_on_its_notified_day_only() -> None:
    req, told, fixed = date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 12)
    assert PP.earliest_hearing(told) == fixed
    with pytest.raises(PenaltyStepRefused):      # not notified yet
        PP.check_hearing(PP.HEARING_REQUESTED, req, fixed, fixed)
    PP.check_hearing(PP.HEARING_REQUESTED, req, fixed, fixed, fixed_on=fixed,
                     notified_on=told)
    with pytest.raises(BadPenaltyCase):          # another day than the notified one
        PP.check_hearing(PP.HEARING_REQUESTED, req, fixed + timedelta(days=1),
                         fixed + timedelta(days=1), fixed_on=fixed, notified_on=told)
    with pytest.raises(HearingNoticeTooShort):   # a day fixed too early (older data)
        PP.check_hearing(PP.HEARING_REQUESTED, req, told + timedelta(days=1), fixed,
                         fixed_on=told + timedelta(days=1), notified_on=told)
    with pytest.raises(BadPenaltyCase):          # notified before the request
        PP.check_hearing_notice(PP.HEARING_REQUESTED, req, req - timedelta(days=1), fixed,
                                fixed)
    with pytest.raises(PenaltyStepRefused):      # no hearing requested
        PP.check_hearing_notice(PP.NOTICED, None, told, fixed, told)


def test_the_bureau_fixes_then_records_the_hearing() -> None:
    dl = PP.Deadlines(date(2026, 11, 5), date(2026, 11, 9))
    fixed = date(2026, 11, 20)
    steps = PP.next_steps(PP.HEARING_REQUESTED, side="bureau", deadlines=dl,
                          statement_filed=False, today=date(2026, 11, 10))
    assert steps == [PP.EV_HEARING_NOTICE]
    steps = PP.next_steps(PP.HEARING_REQUESTED, side="bureau", deadlines=dl,
                          statement_filed=False, today=date(2026, 11, 19),
                          hearing_fixed_on=fixed)
    assert steps == [PP.EV_HEARING_NOTICE]
    steps = PP.next_steps(PP.HEARING_REQUESTED, side="bureau", deadlines=dl,
                          statement_filed=False, today=fixed, hearing_fixed_on=fixed)
    assert steps == [PP.EV_HEARING_NOTICE, PP.EV_HEARING]


def test_the_checked_periods_and_threshold() -> None:
    # Art. 64(1) with Art. 85: 5 working days; Chongqing: from 50 000 yuan, inclusive
    assert PP.HEARING_WORKING_DAYS == 5 and PP.HEARING_NOTICE_WORKING_DAYS == 7
    assert PP.PAYMENT_DAYS == 15 and PP.SURCHARGE_PERCENT_PER_DAY == 3
    assert PP.hearing_right(5_000_000) and not PP.hearing_right(4_999_999)
