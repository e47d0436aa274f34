"""The server runs the auctions' schedules: every `Settings.auction_tick_seconds` the web
app's lifespan task calls `trading.auction_service.run_due_auctions` (announce, open, close
and clear what is due) in a worker thread; `erts auction run-due` does one tick from the
command line (a cron job, when the server runs with the tick off: 0 seconds).

Several server processes may tick at once: each step locks its auction and checks its state,
so a step already taken by another process answers `auction_wrong_state` and is skipped.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from allocation.bill_reminders import remind_due_bills
from trading.auction_service import run_due_auctions

log = logging.getLogger(__name__)


def tick(platform: Any, now: datetime | None = None) -> list[dict[str, Any]]:
    """One pass over the schedules at `now` (default: the clock)."""
    done = run_due_auctions(platform.uow, now)
    remind_due_bills(platform.uow(), now=now)  # the same tick reminds bills due (issue 18)
    for d in done:
        log.info("auction schedule: %s", d)
    return done


async def run_forever(platform: Any, interval: float) -> None:
    """Tick every `interval` seconds until cancelled; a failing tick is logged, not fatal."""
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(tick, platform)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the next tick tries again
            log.exception("auction schedule tick failed")
