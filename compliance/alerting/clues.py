"""The problem clue lifecycle (pure): found → sent → rectified → verified → closed.

- send (bureau): found → sent, with a due date (not in the past) and a message to the
  enterprise;
- rectify (enterprise): sent → rectified, with a note of what was done;
- verify (bureau): rectified → verified; reject (bureau): rectified → sent, with a reason
  (the enterprise must rectify again);
- close (bureau): verified → closed.

Any other step is refused with `ClueTransitionRefused` (409); a step by the wrong side with
`ClueActionNotAllowed` (403). `step` returns the new state and the history event to append:
history is append-only, a step never rewrites an earlier event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from compliance.errors import BadClue, ClueActionNotAllowed, ClueTransitionRefused

STATES = ("found", "sent", "rectified", "verified", "closed")
OPEN_STATES = STATES[:-1]
#: the states in which the enterprise sees a clue: from the bureau's sending on (issue 18)
SENT_STATES = STATES[1:]

#: the clue kinds: screening findings, alert breaches, and the bureau's manual entries.
MANUAL = "manual"
#: an execution report not filed by its due date (`find_missing_reports`)
REPORT_MISSING = "report_missing"

#: clue kind → the violation kind the bureau confirms it as by default (it may name another
#: kind on confirmation; a manual clue has no default). Screens find suspicions, not facts:
#: a clue becomes a violation only when the bureau confirms it (Administrative Penalty Law
#: Art. 40: no penalty where the facts are unclear or the evidence insufficient).
VIOLATION_KIND: dict[str, str | None] = {
    "exceedance": "concentration_exceedance",      # corrected concentration above the limit
    "missing_data": "monitoring_failure",          # automatic monitoring not running: Art. 36
    "flat_line": "monitoring_failure",             # frozen analyser; falsification is 34(2)
    "emission_power_mismatch": "evading_supervision",  # bypass or tampered analyser: 34(2)
    "alert_breach": "special_period_breach",       # heavy-pollution alert caps: Art. 35
    REPORT_MISSING: "report_missing",              # Art. 37
    MANUAL: None,
}

BUREAU = "bureau"
ENTERPRISE = "enterprise"
SIDES = (BUREAU, ENTERPRISE)

#: action → (the side that takes it, the states it may start from, the state it leads to).
TRANSITIONS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "send": (BUREAU, ("found",), "sent"),
    "rectify": (ENTERPRISE, ("sent",), "rectified"),
    "verify": (BUREAU, ("rectified",), "verified"),
    "reject": (BUREAU, ("rectified",), "sent"),
    "close": (BUREAU, ("verified",), "closed"),
}
ACTIONS = tuple(TRANSITIONS)

MAX_NOTE = 2000
MAX_YEAR = 2200


@dataclass(frozen=True)
class Event:
    """One history event: who (actor, side) did what, when, from which state to which."""

    action: str
    from_state: str
    to_state: str
    actor: str
    side: str
    at: datetime
    note: str | None


@dataclass(frozen=True)
class Outcome:
    state: str
    event: Event
    due: date | None = None  # set by "send": the enterprise's deadline
    message: str | None = None  # set by "send": what the bureau asks for


def allowed_actions(state: str, side: str) -> list[str]:
    """The actions `side` may take on a clue in `state` (what the pages offer)."""
    return [a for a, (who, froms, _to) in TRANSITIONS.items() if who == side and state in froms]


def printable(value: str) -> bool:
    """Text a database can store as given: no NUL character, no lone surrogate."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(value: str | None, field: str, *, required: bool) -> str | None:
    v = (value or "").strip()
    if not printable(v):
        raise BadClue(f"{field} contains characters that cannot be stored", field=field)
    if not v:
        if required:
            raise BadClue(f"{field} is required", field=field)
        return None
    if len(v) > MAX_NOTE:
        raise BadClue(f"{field} has more than {MAX_NOTE} characters", field=field)
    return v


def step(state: str, action: str, *, side: str, actor: str, at: datetime, today: date,
         note: str | None = None, due: date | None = None) -> Outcome:
    """Apply one lifecycle step. `note` is the message (send), the rectification note
    (rectify), the reason (reject) or an optional remark (verify, close)."""
    if action not in TRANSITIONS:
        raise BadClue(f"unknown action {action!r}", field="action")
    who, froms, to = TRANSITIONS[action]
    if side != who:
        raise ClueActionNotAllowed(f"only the {who} may {action} a clue", action=action)
    if state not in froms:
        raise ClueTransitionRefused(
            f"a clue that is {state} cannot be {_past(action)} (it must be "
            f"{' or '.join(froms)})", state=state, action=action)
    text = _text(note, _NOTE_FIELD[action], required=action in _NOTE_REQUIRED)
    if action == "send":
        if due is None:
            raise BadClue("a due date is required", field="due")
        if due < today or due.year > MAX_YEAR:
            raise BadClue(f"the due date must be between today and {MAX_YEAR}", field="due")
        return Outcome(to, Event(action, state, to, actor, side, at, text), due, text)
    return Outcome(to, Event(action, state, to, actor, side, at, text))


_NOTE_FIELD = {"send": "message", "rectify": "note", "verify": "note", "reject": "reason",
               "close": "note"}
_NOTE_REQUIRED = frozenset({"send", "rectify", "reject"})


def _past(action: str) -> str:
    return {"send": "sent", "rectify": "rectified", "verify": "verified",
            "reject": "rejected", "close": "closed"}[action]


def overdue(state: str, due: date | None, today: date) -> bool:
    """A sent clue whose due date has passed without a rectification."""
    return state == "sent" and due is not None and today > due


def violation_kind_of(clue_kind: str) -> str | None:
    """The default violation kind of a clue kind (None: the bureau must name one)."""
    return VIOLATION_KIND.get(clue_kind)


