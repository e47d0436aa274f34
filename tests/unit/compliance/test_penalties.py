"""Penalty decisions (pure): the amount stays inside the violation's range, yuan convert to
fen exactly, texts are checked but kept as written, and the enterprise status rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compliance.enforcement import penalties as P
from compliance.errors import BadPenaltyDecision, DecisionWithdrawn, PenaltyOutOfRange

LO, HI = 200_000_00, 1_000_000_00
DAY = date(2026, 6, 1)


def _check(**kw):  # type: ignore[no-untyped-def]
    args = dict(number="渝环罚〔2026〕1号", amount_fen=LO, decided_on="2026-06-02",
                legal_basis="Art. 34", summary="s", penalty_min_fen=LO, penalty_max_fen=HI,
                violation_day=DAY, today=date(2026, 7, 1))
    return P.check_decision(**(args | kw))


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_amount_is_accepted_exactly_inside_the_range(amount: int) -> None:
    if LO <= amount <= HI:
        assert P.check_amount(amount, LO, HI) == amount
    else:
        with pytest.raises(PenaltyOutOfRange) as exc:
            P.check_amount(amount, LO, HI)
        assert exc.value.details == {"min_fen": LO, "max_fen": HI}


@given(st.integers(min_value=0, max_value=10**14))
def test_yuan_text_to_fen_round_trips(fen: int) -> None:
    text = f"{fen // 100}.{fen % 100:02d}"
    assert P.yuan_to_fen(text) == fen
    assert P.yuan_to_fen(f"{fen // 100:,}.{fen % 100:02d}") == fen
    assert Decimal(text) * 100 == fen


@pytest.mark.parametrize("bad", ["", "abc", "1.001", "NaN", "Infinity", "1e400000", None, 1.5,
                                 True, "1" * 30])
def test_yuan_refuses_what_is_not_whole_fen(bad: object) -> None:
    with pytest.raises(BadPenaltyDecision):
        P.yuan_to_fen(bad)


def test_decision_rules() -> None:
    d = _check(number="  D-1 ", summary=" <b>x</b>'; DROP TABLE violation;-- ")
    assert d.number == "D-1" and d.summary == "<b>x</b>'; DROP TABLE violation;--"
    assert d.decided_on == date(2026, 6, 2)
    with pytest.raises(PenaltyOutOfRange):
        _check(amount_fen=HI + 1)
    for kw, fld in [({"number": " "}, "number"), ({"number": "x" * 61}, "number"),
                    ({"number": "a\x00b"}, "number"), ({"summary": ""}, "summary"),
                    ({"legal_basis": None}, "legal_basis"), ({"decided_on": "2026-13-01"},
                                                             "decided_on"),
                    ({"decided_on": "2026-05-31"}, "decided_on"),
                    ({"decided_on": date(2026, 7, 2)}, "decided_on"),
                    ({"decided_on": 20260602}, "decided_on")]:
        with pytest.raises(BadPenaltyDecision) as exc:
            _check(**kw)
        assert exc.value.field == fld, kw
    assert _check(summary="line 1\nline 2").summary == "line 1\nline 2"
    assert _check(decided_on=DAY).decided_on == DAY  # the day of the violation itself


def test_withdrawal_is_final() -> None:
    P.check_change(P.PUBLISHED)
    with pytest.raises(DecisionWithdrawn):
        P.check_change(P.WITHDRAWN)


@given(st.lists(st.sampled_from(["compliant", "violation", "pending"]), max_size=6))
def test_enterprise_status(statuses: list[str]) -> None:
    got = P.enterprise_status(statuses)
    if "violation" in statuses:
        assert got == "violation"
    elif statuses and set(statuses) == {"compliant"}:
        assert got == "compliant"
    else:
        assert got == "pending"
