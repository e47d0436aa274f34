"""The administrative penalty procedure (pure): steps, their order, and the legal periods.

A penalty case follows the general procedure of the Administrative Penalty Law
(《中华人民共和国行政处罚法》, revised 2021-01-22, in force 2021-07-15) as dated steps:

1. advance notice (事先告知, Art. 44): facts, legal basis, the proposed penalty and the
   enterprise's rights (statement and defence, and a hearing where Art. 63 gives one);
2. the enterprise's statement and defence (陈述申辩, Art. 45) and, where the proposed
   penalty gives the right, its hearing request (听证, Art. 63-64), each within its period and
   refused after it;
3. a requested hearing: the bureau fixes its day and place and notifies the enterprise at
   least 7 days before it (Art. 64(2), "行政机关应当在举行听证的七日前，通知当事人及有关人员
   听证的时间、地点"); a day fixed less than `HEARING_NOTICE_WORKING_DAYS` working days after the
   notice is refused (422 `penalty_hearing_notice_too_short`), and the hearing is recorded on
   the day notified (a new day needs a new notice). It is held and recorded before a decision;
4. the decision (决定书, Art. 57, 59): never heavier than the notice proposed, because the
   bureau "shall not impose a heavier penalty because the party stated or defended itself"
   (Art. 45 para. 2); a heavier penalty needs a new notice on new facts;
5. service of the decision (送达, Art. 61: handed over on the spot, else within 7 days by
   the methods of the Civil Procedure Law); only a served decision is published
   (Art. 48: decisions of some public effect are published);
6. payment (Art. 67: within 15 days of receiving the decision); a fine not paid by then
   accrues the late-payment surcharge (加处罚款, Art. 72(1)): "到期不缴纳罚款的，每日按罚款
   数额的百分之三加处罚款，加处罚款的数额不得超出罚款的数额" (the same cap as the
   Administrative Compulsion Law Art. 45 para. 2). Art. 72 says the bureau "may" (可以) take
   the measure: a payment records the surcharge paid, at most the accrued one (`surcharge_fen`).

Periods (version `PERIODS_VERSION`; sources checked with the project's search tool, public
legal pages quoting the texts, not the official gazette):
- hearing request: within 5 days of the notice (Art. 64(1), "当事人要求听证的，应当在行政机关
  告知后五日内提出", with item (2) on the hearing notice, quoted at
  laweer.com/question/bf75ba6393e8e.html and btdsss.gov.cn/c/2025-05-14/913041.shtml; the
  3 days of pages quoting the 1996 Law's Art. 42 are superseded). Working days: Art. 85
  ("本法中'二日''三日''五日''七日'的规定是指工作日，不含法定节假日"; the search corpus did
  not return the article itself: its text and number are unverified). Chongqing's rule
  (below) says the same 5 days, counted "自收到听证告知书之日起": the notice's day is the day
  it reaches the enterprise;
- hearing notice: at least 7 working days before the hearing (Art. 64(2) with Art. 85);
- statement and defence: the Law sets no period (Art. 45); the notice sets one. 3 working
  days (`STATEMENT_WORKING_DAYS`) is the practice of ecology-environment notices; no article
  of 《生态环境行政处罚办法》 (MEE Order 30, 2023) fixing it was found: unverified;
- service: within 7 working days of the decision (Art. 61, Art. 85);
- payment: 15 calendar days from receipt of the decision (Art. 67; Art. 85 names only the
  2/3/5/7-day periods), counted from the day of service;
- a hearing is offered for a "larger amount" fine (较大数额罚款, Art. 63(1)); the amount is
  set below the Law. Chongqing: 《重庆市行政处罚听证程序规定》 (重庆市人民政府令第354号,
  2023-01-02, in force 2023-03-01): fines "达5万元以上" on a legal person or other organisation
  (5 000 yuan on a citizen) give the right (reported by the city's justice bureau's press
  conference of 2023-01-31: chongqing.163.com/23/0201/11/HSG585M5042199EE.html; the article
  number is unverified). The 2023 MEE Order 30 sets 200 000 yuan for legal persons (its
  Art. 89 as reported at m.lhj.jjjnews.top/jujiao/2023/0620/11428.html; the wording that
  local rules prevail is unverified); the platform follows Chongqing's rule, so
  `HEARING_THRESHOLD_FEN` stays 50 000 yuan, inclusive.

Periods begin the day after the event (the event's day is not counted) and end at the end of
their last day (Beijing date). Working days: Monday-Friday, minus the statutory holidays and
plus the make-up working days of the State Council's annual notice (`HOLIDAYS`, `WORKDAYS`;
2025 and 2026 from 国办发明电 of those years, 2026's checked at politics.gmw.cn/2025-11/04/
content_38391083.htm). A year without a published schedule counts Monday-Friday only.

The surcharge is computed in integer fen: `fine × 3 % × days late`, rounded down to the fen
(in the enterprise's favour; never a fraction of a fen more than the Law allows) and capped
at the fine. Days late are the calendar days after the payment's last day up to and including
the day of payment (paid on the last day: none; the day after: one day, 3 %); the cap is
reached on the 34th day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from compliance.errors import (
    BadPenaltyCase,
    HearingNoticeTooShort,
    HeavierThanNotice,
    PenaltyPeriodOpen,
    PenaltyPeriodOver,
    PenaltyStepRefused,
)

PERIODS_VERSION = "apl2021-2"
#: the notice's period for a statement (no legal source found: unverified)
STATEMENT_WORKING_DAYS = 3
#: Art. 64(1) with Art. 85
HEARING_WORKING_DAYS = 5
#: Art. 64(2) with Art. 85: the hearing notice precedes the hearing by at least this
HEARING_NOTICE_WORKING_DAYS = 7
#: Art. 61 with Art. 85
SERVICE_WORKING_DAYS = 7
#: Art. 67 (calendar days)
PAYMENT_DAYS = 15
#: Art. 72(1): per day late, percent of the fine; the total never exceeds the fine
SURCHARGE_PERCENT_PER_DAY = 3
#: fines from this amount (fen, inclusive) give a hearing right (较大数额罚款: Chongqing,
#: 渝府令第354号 "达5万元以上" for a legal person)
HEARING_THRESHOLD_FEN = 50_000 * 100
#: hearing place: the longest text kept
PLACE_MAX = 200

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
EV_HEARING_NOTICE = "hearing_notice"   # the bureau fixed the hearing's day and place

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


def earliest_hearing(notified_on: date) -> date:
    """The first day a hearing notified on `notified_on` may be held (Art. 64(2), Art. 85)."""
    return add_working_days(notified_on, HEARING_NOTICE_WORKING_DAYS)


def check_hearing_notice(status: str, requested_on: date | None, notified_on: date,
                         hearing_on: date, today: date) -> None:
    """The bureau fixes the hearing's day and place and notifies the enterprise: after the
    request, by today, at least 7 working days before the hearing. A new notice (a new day)
    may replace the last one while the hearing has not been held."""
    if status != HEARING_REQUESTED or requested_on is None:
        raise _refuse("hearing_notice", status, "a hearing is fixed after the enterprise "
                      "requested one and before it is held")
    if notified_on > today or notified_on < requested_on:
        raise BadPenaltyCase("notified_on must lie between the request and today",
                             field="notified_on")
    first = earliest_hearing(notified_on)
    if hearing_on < first:
        raise HearingNoticeTooShort(
            f"a hearing notified on {notified_on.isoformat()} is held on "
            f"{first.isoformat()} at the earliest (7 working days' notice)",
            field="hearing_on", earliest=first.isoformat())


def check_hearing(status: str, requested_on: date | None, held_on: date, today: date, *,
                  fixed_on: date | None = None, notified_on: date | None = None) -> None:
    """A hearing is recorded on the day its notice fixed, once that day has come, and never
    earlier than 7 working days after the notice."""
    if status != HEARING_REQUESTED or requested_on is None:
        raise _refuse("hearing", status, "a hearing is recorded after the enterprise "
                      "requested one")
    if fixed_on is None or notified_on is None:
        raise _refuse("hearing", status, "the hearing's day and place must be notified to "
                      "the enterprise first (Administrative Penalty Law Art. 64)")
    first = earliest_hearing(notified_on)
    if held_on < first:
        raise HearingNoticeTooShort(
            f"a hearing notified on {notified_on.isoformat()} is held on "
            f"{first.isoformat()} at the earliest (7 working days' notice)",
            field="held_on", earliest=first.isoformat())
    if held_on != fixed_on:
        raise BadPenaltyCase(f"the hearing was notified for {fixed_on.isoformat()}: record "
                             "it on that day or notify a new day", field="held_on")
    if held_on > today:
        raise BadPenaltyCase("held_on must not lie after today", field="held_on")


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


def days_late(payment_due_on: date, on: date) -> int:
    """Calendar days after the payment's last day, up to and including `on` (0 if not late)."""
    return max(0, (on - payment_due_on).days)


def surcharge_fen(fine_fen: int, payment_due_on: date, on: date) -> int:
    """The late-payment surcharge accrued by `on` (Art. 72(1)): 3 % of the fine a day late,
    rounded down to the fen, never more than the fine."""
    if fine_fen <= 0:
        return 0
    accrued = fine_fen * SURCHARGE_PERCENT_PER_DAY * days_late(payment_due_on, on) // 100
    return min(accrued, fine_fen)


def check_surcharge(paid_surcharge: int, accrued: int) -> None:
    """The surcharge recorded with a payment: none, or up to the one accrued (Art. 72 lets the
    bureau impose it; never more than accrued, which never exceeds the fine)."""
    if paid_surcharge < 0 or paid_surcharge > accrued:
        raise BadPenaltyCase(f"the surcharge must lie between 0 and the {accrued} fen accrued "
                             "by the day of payment", field="surcharge_fen", accrued=accrued)


def next_steps(status: str, *, side: str, deadlines: Deadlines, statement_filed: bool,
               today: date, hearing_fixed_on: date | None = None) -> list[str]:
    """What a side ("enterprise" | "bureau") can do now. The bureau fixes (or moves) a
    requested hearing, and records it once its notified day has come."""
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
        out.append(EV_HEARING_NOTICE)
        if hearing_fixed_on is not None and today >= hearing_fixed_on:
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
