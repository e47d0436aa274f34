"""The problem clue lifecycle: every legal path works, every illegal step is refused with a
stable code, the wrong side is refused, inputs are checked; a Hypothesis state machine walks
random sequences against a tiny reference model."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from compliance.alerting import clues as C
from compliance.errors import BadClue, ClueActionNotAllowed, ClueTransitionRefused

AT = datetime(2026, 6, 1, 2, tzinfo=UTC)
TODAY = date(2026, 6, 1)
NOTES = {"send": "fix the analyser", "rectify": "replaced the probe", "reject": "no proof",
         "verify": None, "close": None}

#: the reference: (state, action) → next state, written out by hand from the brief.
LEGAL = {("found", "send"): "sent", ("sent", "rectify"): "rectified",
         ("rectified", "verify"): "verified", ("rectified", "reject"): "sent",
         ("verified", "close"): "closed"}


def _do(state: str, action: str, side: str | None = None) -> C.Outcome:
    side = side or C.TRANSITIONS[action][0]
    return C.step(state, action, side=side, actor="u", at=AT, today=TODAY,
                  note=NOTES[action], due=date(2026, 6, 10))


def test_the_happy_path_and_the_rejection_loop() -> None:
    s = "found"
    for a in ("send", "rectify", "reject", "rectify", "verify", "close"):
        out = _do(s, a)
        assert out.event.from_state == s and out.event.to_state == out.state
        s = out.state
    assert s == "closed"
    out = _do("found", "send")
    assert out.due == date(2026, 6, 10) and out.message == "fix the analyser"


@pytest.mark.parametrize("state", C.STATES)
@pytest.mark.parametrize("action", C.ACTIONS)
def test_every_illegal_transition_is_refused_with_409(state: str, action: str) -> None:
    if (state, action) in LEGAL:
        assert _do(state, action).state == LEGAL[(state, action)]
        return
    with pytest.raises(ClueTransitionRefused) as exc:
        _do(state, action)
    assert exc.value.code == "clue_transition_refused" and exc.value.kind == "conflict"


@pytest.mark.parametrize("action", C.ACTIONS)
def test_the_wrong_side_is_refused_before_the_state_is_looked_at(action: str) -> None:
    who = C.TRANSITIONS[action][0]
    other = C.ENTERPRISE if who == C.BUREAU else C.BUREAU
    for state in C.STATES:
        with pytest.raises(ClueActionNotAllowed) as exc:
            _do(state, action, side=other)
        assert exc.value.kind == "forbidden"


def test_inputs_are_checked() -> None:
    with pytest.raises(BadClue) as e1:
        C.step("found", "send", side="bureau", actor="u", at=AT, today=TODAY, note="m")
    assert e1.value.field == "due"
    with pytest.raises(BadClue) as e2:
        C.step("found", "send", side="bureau", actor="u", at=AT, today=TODAY, note="m",
               due=date(2026, 5, 31))
    assert e2.value.field == "due"
    with pytest.raises(BadClue) as e3:
        C.step("found", "send", side="bureau", actor="u", at=AT, today=TODAY, note="  ",
               due=TODAY)
    assert e3.value.field == "message"
    with pytest.raises(BadClue) as e4:
        C.step("sent", "rectify", side="enterprise", actor="u", at=AT, today=TODAY)
    assert e4.value.field == "note"
    with pytest.raises(BadClue) as e5:
        C.step("rectified", "reject", side="bureau", actor="u", at=AT, today=TODAY)
    assert e5.value.field == "reason"
    with pytest.raises(BadClue):
        C.step("found", "explode", side="bureau", actor="u", at=AT, today=TODAY)
    with pytest.raises(BadClue):
        C.step("sent", "rectify", side="enterprise", actor="u", at=AT, today=TODAY,
               note="x" * (C.MAX_NOTE + 1))
    # verify and close take an optional remark
    assert C.step("rectified", "verify", side="bureau", actor="u", at=AT,
                  today=TODAY).event.note is None


def test_allowed_actions_and_overdue() -> None:
    assert C.allowed_actions("found", C.BUREAU) == ["send"]
    assert C.allowed_actions("rectified", C.BUREAU) == ["verify", "reject"]
    assert C.allowed_actions("sent", C.ENTERPRISE) == ["rectify"]
    assert C.allowed_actions("closed", C.BUREAU) == []
    assert C.overdue("sent", date(2026, 5, 31), TODAY)
    assert not C.overdue("sent", TODAY, TODAY)
    assert not C.overdue("rectified", date(2026, 5, 31), TODAY)


@given(st.lists(st.tuples(st.sampled_from(C.ACTIONS), st.sampled_from(C.SIDES)),
                max_size=30))
def test_random_sequences_follow_the_reference(seq) -> None:  # type: ignore[no-untyped-def]
    state, history = "found", []
    for action, side in seq:
        try:
            out = C.step(state, action, side=side, actor="u", at=AT, today=TODAY,
                         note=NOTES[action], due=TODAY)
        except ClueActionNotAllowed:
            assert side != C.TRANSITIONS[action][0]
            continue
        except ClueTransitionRefused:
            assert (state, action) not in LEGAL
            continue
        assert LEGAL[(state, action)] == out.state
        history.append(out.event)
        state = out.state
    # the events chain: each starts where the previous ended
    prev = "found"
    for e in history:
        assert e.from_state == prev
        prev = e.to_state
    assert prev == state


class ClueMachine(RuleBasedStateMachine):
    """Random steps on one clue: the state always matches the reference and the history
    only grows, each event chaining on the last."""

    def __init__(self) -> None:
        super().__init__()
        self.state = "found"
        self.events: list[C.Event] = []

    @rule(action=st.sampled_from(C.ACTIONS))
    def take(self, action: str) -> None:
        before = list(self.events)
        if (self.state, action) in LEGAL:
            out = _do(self.state, action)
            assert out.state == LEGAL[(self.state, action)]
            self.events.append(out.event)
            self.state = out.state
        else:
            with pytest.raises(ClueTransitionRefused):
                _do(self.state, action)
        assert self.events[:len(before)] == before

    @invariant()
    def chained(self) -> None:
        s = "found"
        for e in self.events:
            assert e.from_state == s
            s = e.to_state
        assert s == self.state


TestClueMachine = ClueMachine.TestCase
