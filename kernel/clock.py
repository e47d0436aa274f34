"""Time: one injectable clock so that tests and replays are deterministic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")

Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    return datetime.now(UTC)


#: what `system_clock` reads: the wall clock, or (tests) a clock that keeps one day
#: (`tests.day`), so that every caller of `system_clock` sees the same one
source: Clock = wall_clock


def system_clock() -> datetime:
    return source()


def trading_day(ts: datetime) -> date:
    """The trading day of an instant, in China Standard Time."""
    return ts.astimezone(CST).date()
