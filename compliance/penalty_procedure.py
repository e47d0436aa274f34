"""The administrative penalty procedure (pure): steps, their order, and the legal periods.

A penalty case follows the general procedure of the Administrative Penalty Law
(《中华人民共和国行政处罚法》, revised 2021-01-22, in force 2021-07-15) as dated steps:

1. advance notice (事先告知, Art. 44): facts, legal basis, the proposed penalty and the
   enterprise's rights (statement and defence, and a hearing where Art. 63 gives one);
2. the enterprise's statement and defence (陈述申辩, Art. 45) and, where the proposed
   penalty gives the right, its hearing request (听证, Art. 63-64), each within its period and
   refused after it; a requested hearing is held and recorded before a decision;
3. the decision (决定书, Art. 57, 59): never heavier than the notice proposed, because the
   bureau "shall not impose a heavier penalty because the party stated or defended itself"
   (Art. 45 para. 2); a heavier penalty needs a new notice on new facts;
4. service of the decision (送达, Art. 61: handed over on the spot, else within 7 days by
   the methods of the Civil Procedure Law); only a served decision is published
   (Art. 48: decisions of some public effect are published);
5. payment (Art. 67: within 15 days of receiving the decision).

Periods (version `PERIODS_VERSION`; sources checked with the project's search tool):
- hearing request: within 5 days of the notice (Art. 64(1), "当事人要求听证的，应当在行政机关
  告知后五日内提出", quoted on public legal pages, e.g. eaola.com/dictionary/1554459.html and
  btdsss.gov.cn/c/2025-05-14/913041.shtml); the law's 2/3/5/7-day periods are working days,
  statutory holidays excluded (Art. 85);
- statement and defence: the Law sets no period (Art. 45); the notice sets one. 3 working days
  is the common practice of ecology-environment notices and the brief of issue 18: verify
  against 《生态环境行政处罚办法》 (MEE Order 30, 2023) and the bureau's notice template;
- service: within 7 working days of the decision (Art. 61, Art. 85);
- payment: 15 calendar days from receipt of the decision (Art. 67; Art. 85 names only the
  2/3/5/7-day periods), counted from the day of service;
- a hearing is offered for a "larger amount" fine (较大数额罚款, Art. 63(1)); the amount is
  set by provincial rules. 50 000 yuan for a legal person is the figure of the former MEP
  hearing rules (环境行政处罚听证程序规定 2010, Art. 5): verify against Chongqing's rule.

Periods begin the day after the event (the event's day is not counted) and end at the end of
their last day (Beijing date). Working days: Monday-Friday, minus the statutory holidays and
plus the make-up working days of the State Council's annual notice (`HOLIDAYS`, `WORKDAYS`;
2025 and 2026 from 国办发明电 of those years, 2026's checked at politics.gmw.cn/2025-11/04/
content_38391083.htm). A year without a published schedule counts Monday-Friday only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from compliance.errors import (
    BadPenaltyCase,
    HeavierThanNotice,
    PenaltyPeriodOpen,
    PenaltyPeriodOver,
    PenaltyStepRefused,
)

PERIODS_VERSION = "apl2021-1"
STATEMENT_WORKING_DAYS = 3
HEARING_WORKING_DAYS = 5
SERVICE_WORKING_DAYS = 7
PAYMENT_DAYS = 15
#: fines from this amount (fen) give a hearing right (较大数额罚款; provincial: verify)
HEARING_THRESHOLD_FEN = 50_000 * 100

# case statuses, in order
NOTICED = "noticed"                  # advance notice given; periods running
HEARING_REQUESTED = "hearing_requested"
HEARD = "heard"                      # hearing held and recorded
DECIDED = "decided"                  # decision made, not yet served (not public)
SERVED = "served"                    # served: published; payment due
PAID = "paid"
STATUSES = (NOTICED, HEARING_REQUESTED, HEARD, DECIDED, SERVED, PAID)
ACTIVE = (NOTICED, HEARING_REQUESTED, HEARD, DECIDED, SERVED)

# event kinds of a case's history
EV_NOTICE, EV_STATEMENT, EV_HEARING_REQUEST = "notice", "statement", "hearing_request"
EV_HEARING, EV_DECISION, EV_SERVICE, EV_PAYMENT = "hearing", "decision", "service", "payment"

#: methods of service (Civil Procedure Law ch. 7; Art. 61: electronic with consent)
SERVICE_METHODS = ("direct", "post", "electronic", "left_at_premises", "announcement")

NUMBER_MAX = 60
TEXT_MAX = 2000

_HOLIDAY_RANGES: dict[int, tuple[tuple[str, str], ...]] = {
    2025: (("2025-01-01", "2025-01-01"), ("2025-01-28", "2025-02-04"),
           ("2025-04-04", "2025-04-06"), ("2025-05-01", "2025-05-05"),
           ("2025-05-31", "2025-06-02"), ("2025-10-01", "2025-10-08")),
    2026: (("2026-01-01", "2026-01-03"), ("2026-02-15", "2026-02-23"),
           ("2026-04-04", "2026-04-06"), ("2026-05-01", "2026-05-05"),
           ("2026-06-19", "2026-06-21"), ("2026-09-25", "2026-09-27"),
           ("2026-10-01", "2026-10-07")),
}
_WORKDAYS: dict[int, tuple[str, ...]] = {
    2025: ("2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"),
    2026: ("2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20",
           "2026-10-10"),
}


def _expand(ranges: tuple[tuple[str, str], ...]) -> set[date]:
    out: set[date] = set()
    for a, b in ranges:
        d, end = date.fromisoformat(a), date.fromisoformat(b)
        while d <= end:
            out.add(d)
            d += timedelta(days=1)
    return out


HOLIDAYS: frozenset[date] = frozenset(d for r in _HOLIDAY_RANGES.values() for d in _expand(r))
WORKDAYS: frozenset[date] = frozenset(date.fromisoformat(d) for ds in _WORKDAYS.values()
                                      for d in ds)


def is_working_day(d: date) -> bool:
    if d in WORKDAYS:
        return True
    return d.weekday() < 5 and d not in HOLIDAYS


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after `start` (start itself not counted)."""
    d, left = start, n
    while left > 0:
        d += timedelta(days=1)
        if is_working_day(d):
            left -= 1
    return d


def hearing_right(proposed_fen: int) -> bool:
    """Does a proposed fine give the right to ask for a hearing (Art. 63(1))?"""
    return proposed_fen >= HEARING_THRESHOLD_FEN


@dataclass(frozen=True)
class Deadlines:
    statement_due: date
    hearing_due: date | None


def notice_deadlines(noticed_on: date, proposed_fen: int) -> Deadlines:
    return Deadlines(add_working_days(noticed_on, STATEMENT_WORKING_DAYS),
                     add_working_days(noticed_on, HEARING_WORKING_DAYS)
                     if hearing_right(proposed_fen) else None)


def service_due(decided_on: date) -> date:
    return add_working_days(decided_on, SERVICE_WORKING_DAYS)


def payment_due(served_on: date) -> date:
    return served_on + timedelta(days=PAYMENT_DAYS)


def _refuse(step: str, status: str, why: str) -> PenaltyStepRefused:
    return PenaltyStepRefused(f"{step}: the case is {status}; {why}", field="case",
                              status=status, step=step)


def check_statement(status: str, due: date, today: date, already: bool) -> None:
    """The enterprise states and defends itself once, while the case awaits a decision and
    within the period."""
    if status not in (NOTICED, HEARING_REQUESTED):
        raise _refuse("statement", status, "a statement is made before the decision")
    if already:
        raise _refuse("statement", status, "the statement was already filed")
    if today > due:
        raise PenaltyPeriodOver(f"the period for a statement ended on {due.isoformat()}",
                                field="statement", due=due.isoformat())


def check_hearing_request(status: str, due: date | None, today: date) -> None:
    if status != NOTICED:
        raise _refuse("hearing_request", status, "a hearing is requested once, after the "
                      "notice and before the decision")
    if due is None:
        raise _refuse("hearing_request", status, "the proposed penalty gives no hearing "
                      "right (Administrative Penalty Law Art. 63)")
    if today > due:
        raise PenaltyPeriodOver(f"the period for a hearing request ended on {due.isoformat()}",
                                field="hearing", due=due.isoformat())


def check_hearing(status: str, requested_on: date | None, held_on: date, today: date) -> None:
    if status != HEARING_REQUESTED or requested_on is None:
        raise _refuse("hearing", status, "a hearing is recorded after the enterprise "
                      "requested one")
    if held_on > today or held_on < requested_on:
        raise BadPenaltyCase("held_on must lie between the request and today",
                             field="held_on")


def check_decision_step(status: str, deadlines: Deadlines, statement_filed: bool,
                        today: date) -> None:
    """A decision is made after a requested hearing was held, or once the enterprise's
    periods are over (or it has stated its case and no hearing period is still running)."""
    if status == HEARD:
        return
    if status == HEARING_REQUESTED:
        raise _refuse("decision", status, "the requested hearing must be held first")
    if status != NOTICED:
        raise _refuse("decision", status, "the case was already decided")
    hearing_running = deadlines.hearing_due is not None and today <= deadlines.hearing_due
    statement_running = today <= deadlines.statement_due and not statement_filed
    if hearing_running or statement_running:
        last = max(d for d in (deadlines.statement_due, deadlines.hearing_due) if d)
        raise PenaltyPeriodOpen(
            f"the enterprise's periods run until {last.isoformat()}: decide after them",
            field="case", due=last.isoformat())


def check_not_heavier(amount_fen: int, proposed_fen: int) -> None:
    """Art. 45 para. 2: never heavier than the notice proposed."""
    if amount_fen > proposed_fen:
        raise HeavierThanNotice(
            "the decision may not be heavier than the penalty the advance notice proposed "
            f"({proposed_fen // 100:,} yuan): a heavier penalty needs a new notice",
            field="amount_fen", proposed_fen=proposed_fen)


def check_service(status: str, decided_on: date, served_on: date, method: str,
                  today: date) -> None:
    if status != DECIDED:
        raise _refuse("service", status, "a decision is served once, after it is made")
    if method not in SERVICE_METHODS:
        raise BadPenaltyCase(f"method must be one of {', '.join(SERVICE_METHODS)}",
                             field="method")
    if served_on > today or served_on < decided_on:
        raise BadPenaltyCase("served_on must lie between the decision and today",
                             field="served_on")


def check_payment(status: str, served_on: date | None, paid_on: date, today: date) -> None:
    if status != SERVED or served_on is None:
        raise _refuse("payment", status, "a payment is recorded once the decision is served")
    if paid_on > today or paid_on < served_on:
        raise BadPenaltyCase("paid_on must lie between the service and today",
                             field="paid_on")


def next_steps(status: str, *, side: str, deadlines: Deadlines, statement_filed: bool,
               today: date) -> list[str]:
    """What a side ("enterprise" | "bureau") can do now."""
    out: list[str] = []
    if side == "enterprise":
        if status in (NOTICED, HEARING_REQUESTED) and not statement_filed \
                and today <= deadlines.statement_due:
            out.append(EV_STATEMENT)
        if status == NOTICED and deadlines.hearing_due is not None \
                and today <= deadlines.hearing_due:
            out.append(EV_HEARING_REQUEST)
        return out
    if status == HEARING_REQUESTED:
        out.append(EV_HEARING)
    if status in (NOTICED, HEARD):
        try:
            check_decision_step(status, deadlines, statement_filed, today)
            out.append(EV_DECISION)
        except PenaltyPeriodOpen:
            pass
    if status == DECIDED:
        out.append(EV_SERVICE)
    if status == SERVED:
        out.append(EV_PAYMENT)
    return out
