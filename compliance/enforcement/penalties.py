"""Penalty decisions (pure): what a decision must carry, and how its publication moves.

A violation carries the statutory range of its kind's article in fen
(compliance/enforcement/violations.py; × its instances where the article fines per instance). The
bureau decides it with a penalty decision: a unique decision number, an amount in whole fen inside
that range, the decision date, the legal basis (by default the kind's article, in Chinese) and a
summary. Guarantees:

- an amount outside [min, max] of the violation is refused (`PenaltyOutOfRange`, its message
  in yuan, its details in fen), never clamped; yuan given as text are converted to fen
  exactly (a third decimal is refused);
- a decision is published when it is made (penalty decisions are public); later changes are
  events, never deletions: a correction replaces the amount, basis or summary and keeps the
  earlier values in its event; a withdrawal (Administrative Penalty Law Art. 48: the
  decision's information is withdrawn and the reason is published) is final and reopens the
  violation for a new decision;
- an enterprise's compliance status for a year is "violation" when any permit's true-up
  found a shortfall, "compliant" when every permit was trued up without one, else "pending"
  (the same rule as `compliance.reporting.service.compliance_status`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from compliance.enforcement.violations import range_text, yuan_text
from compliance.errors import BadPenaltyDecision, DecisionWithdrawn, PenaltyOutOfRange

PUBLISHED = "published"
WITHDRAWN = "withdrawn"
#: event kinds of a decision's history
DECIDED, CORRECTED = "decided", "corrected"

NUMBER_MAX = 60
BASIS_MAX = 200
SUMMARY_MAX = 2000
REASON_MAX = 500
MAX_YUAN = 10**13


def clean_text(value: object, fld: str, *, max_len: int, required: bool = True) -> str:
    """Text stripped of surrounding blanks; control characters (other than line breaks and
    tabs in long texts) are refused. Any other text, markup or SQL included, is kept as
    written: it is stored through bound parameters and shown escaped."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadPenaltyDecision(f"{fld} must be text", field=fld)
    v = value.strip()
    if required and not v:
        raise BadPenaltyDecision(f"{fld} is required", field=fld)
    if len(v) > max_len:
        raise BadPenaltyDecision(f"{fld} has at most {max_len} characters", field=fld)
    allowed = {"\n", "\t", "\r"} if max_len > NUMBER_MAX else set()
    if any(unicodedata.category(c) == "Cc" and c not in allowed for c in v):
        raise BadPenaltyDecision(f"{fld} contains control characters", field=fld)
    return v


def yuan_to_fen(value: object, fld: str = "amount") -> int:
    """An amount in yuan (text or int) to whole fen, exactly."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BadPenaltyDecision(f"{fld} must be a number of yuan", field=fld)
    text = str(value).strip().replace(",", "")
    if not text or len(text) > 20:
        raise BadPenaltyDecision(f"{fld} must be a number of yuan", field=fld)
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise BadPenaltyDecision(f"{fld} must be a number of yuan", field=fld) from None
    if not d.is_finite() or abs(d) > MAX_YUAN:
        raise BadPenaltyDecision(f"{fld} must be a number of yuan up to {MAX_YUAN}",
                                 field=fld)
    fen = d * 100
    if fen != fen.to_integral_value():
        raise BadPenaltyDecision(f"{fld} has at most two decimals (fen)", field=fld)
    return int(fen)


def check_amount(amount_fen: int, lo: int, hi: int, *, basis: str = "") -> int:
    """The amount if it lies in [lo, hi] fen; else `PenaltyOutOfRange` whose message gives
    the amount and the range in yuan for people (and `details` the range in fen). `basis`
    names the article, e.g. "Regulation Art. 37(3), 2 instances"."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise BadPenaltyDecision("amount must be whole fen", field="amount_fen")
    if not lo <= amount_fen <= hi:
        where = f" under {basis}" if basis else ""
        raise PenaltyOutOfRange(
            f"amount {yuan_text(amount_fen)} yuan is outside the range{where}: "
            f"{range_text(lo, hi)}", field="amount_fen", min_fen=lo, max_fen=hi)
    return amount_fen


@dataclass(frozen=True)
class Decision:
    number: str
    amount_fen: int
    decided_on: date
    legal_basis: str
    summary: str


def check_decision(*, number: object, amount_fen: int, decided_on: object, legal_basis: object,
                   summary: object, penalty_min_fen: int, penalty_max_fen: int,
                   violation_day: date, today: date, range_basis: str = "") -> Decision:
    """A valid decision, or the first broken rule as a DomainError naming the field."""
    num = clean_text(number, "number", max_len=NUMBER_MAX)
    amount = check_amount(amount_fen, penalty_min_fen, penalty_max_fen, basis=range_basis)
    if isinstance(decided_on, str):
        try:
            decided_on = date.fromisoformat(decided_on.strip())
        except ValueError:
            raise BadPenaltyDecision("decided_on must be a date (YYYY-MM-DD)",
                                     field="decided_on") from None
    if not isinstance(decided_on, date):
        raise BadPenaltyDecision("decided_on must be a date", field="decided_on")
    if decided_on > today:
        raise BadPenaltyDecision("decided_on may not be in the future", field="decided_on")
    if decided_on < violation_day:
        raise BadPenaltyDecision(f"decided_on may not precede the violation ({violation_day})",
                                 field="decided_on")
    basis = clean_text(legal_basis, "legal_basis", max_len=BASIS_MAX)
    text = clean_text(summary, "summary", max_len=SUMMARY_MAX)
    return Decision(num, amount, decided_on, basis, text)


def check_change(status: str) -> None:
    """Corrections and withdrawals apply to a published decision only."""
    if status == WITHDRAWN:
        raise DecisionWithdrawn("the decision was withdrawn; a withdrawal is final",
                                field="number")


def enterprise_status(per_permit: Iterable[str]) -> str:
    """compliant | violation | pending from the per-permit true-up statuses."""
    statuses = list(per_permit)
    if "violation" in statuses:
        return "violation"
    if statuses and all(s == "compliant" for s in statuses):
        return "compliant"
    return "pending"
