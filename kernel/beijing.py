"""Beijing time as people read it: `2026-12-06 09:00` and `2026-12-06`.

The platform stores instants in UTC (naive values are UTC); every page, CSV, PDF and message a
person reads shows them in Asia/Shanghai. The API keeps ISO 8601 with an offset.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def to_beijing(value: datetime | str) -> datetime:
    """An instant (aware, naive-as-UTC, or ISO text) as an aware Beijing datetime."""
    dt = datetime.fromisoformat(value) if isinstance(value, str) else value
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(BEIJING)


def beijing_time(value: datetime | str | None) -> str:
    """An instant to the minute in Beijing time; empty for None or empty text."""
    if value is None or value == "":
        return ""
    return to_beijing(value).strftime("%Y-%m-%d %H:%M")


def beijing_date(value: datetime | date | str | None) -> str:
    """The Beijing day of an instant; a plain date (or `YYYY-MM-DD` text) is already a day."""
    if value is None or value == "":
        return ""
    if isinstance(value, str) and len(value) == 10:
        return date.fromisoformat(value).isoformat()
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return to_beijing(value).date().isoformat()


def beijing_today(now: datetime | None = None) -> date:
    """Today's date in Beijing (a UTC `now` of 20:00 is already tomorrow there)."""
    return to_beijing(now or datetime.now(UTC)).date()
