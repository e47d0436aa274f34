"""One Beijing day for the tests whose dates are worked out when their module is imported.

Such a module computes `TODAY` at import and its tests later compare it with what the
services compute from `kernel.clock.system_clock`; a run crossing Beijing midnight between the
two made them disagree. `pinned_clock` (autouse in those modules) makes `system_clock` read
10:00 Beijing time of `TODAY` plus the time elapsed since this module was imported: it moves
on, and stays on `TODAY` for 14 hours.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from kernel import clock as kernel_clock
from kernel.clock import trading_day, wall_clock

TODAY = trading_day(wall_clock())
#: 10:00 Beijing time (02:00 UTC) of `TODAY`
START = datetime(TODAY.year, TODAY.month, TODAY.day, 2, 0, tzinfo=UTC)
_T0 = time.monotonic()


def today_clock() -> datetime:
    return START + timedelta(seconds=time.monotonic() - _T0)


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernel_clock, "source", today_clock)
