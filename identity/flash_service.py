"""Flash notices: `push` keeps a notice for a holder (a digest of a browser's session id or
anonymous nonce, see web.flash), `take` hands its notices over once and forgets them.
Notices older than `KEEP` are dropped unseen (a browser that never came back)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from identity.flash_store import FlashStore
from identity.flash_tables import FlashRow
from kernel.clock import system_clock
from ledger.service import UoW

KINDS = ("msg", "err")
KEEP = timedelta(hours=1)
MAX_TEXT = 1000


def holder_of(secret: str) -> str:
    """The stored key of a browser's notices: never the session id or nonce itself."""
    return hashlib.sha256(f"flash:{secret}".encode()).hexdigest()


def push(uow: UoW, *, holder: str, kind: str, text: str, now: datetime | None = None) -> None:
    if kind not in KINDS:
        raise ValueError(f"flash kind {kind!r}")
    now = now or system_clock()
    with uow:
        store = FlashStore(uow.session)
        store.prune(now - KEEP)
        store.add(FlashRow(holder=holder, kind=kind, text=text[:MAX_TEXT], created_at=now))
        uow.commit()


def take(uow: UoW, *, holder: str) -> list[tuple[str, str]]:
    """The holder's notices as (kind, text), oldest first, deleted as they are read (a read
    that finds none writes nothing)."""
    with uow:
        store = FlashStore(uow.session)
        rows = store.of(holder)
        if not rows:
            return []
        out = [(r.kind, r.text) for r in rows]
        store.delete([r.id for r in rows])
        uow.commit()
        return out
