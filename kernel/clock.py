"""Time: one injectable clock so that tests and replays are deterministic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def trading_day(ts: datetime) -> date:
    """The trading day of an instant, in China Standard Time."""
    return ts.astimezone(CST).date()
