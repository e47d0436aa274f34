"""The server signs the ledger's checkpoints (issue 16): every
`Settings.ledger_checkpoint_seconds` the web app's lifespan task signs the Merkle tree's size
and root (`ledger.transparency.checkpoint`; nothing new when the tree has not grown). Off with
0; then run `erts ledger checkpoint` from cron. Outside development the signing key must be
set, or the server refuses to start (`erts serve` checks it before binding); in development
the key is generated into the data directory on first use."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kernel.clock import system_clock
from ledger import transparency

log = logging.getLogger(__name__)


def sign_now(platform: Any) -> dict[str, object] | None:
    settings = platform.settings
    cp = transparency.checkpoint(platform.uow(), settings.ledger_signer(),
                                 origin=settings.ledger_origin, now=system_clock())
    if cp is not None:
        log.info("ledger checkpoint: tree size %s, root %s", cp["tree_size"], cp["root_hash"])
    return cp


async def run_forever(platform: Any, interval: float) -> None:
    """Sign every `interval` seconds until cancelled; a failure is logged, not fatal."""
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(sign_now, platform)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the next interval tries again
            log.exception("ledger checkpoint failed")
