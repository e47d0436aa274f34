"""What of a permit is published (issue 18, docs/public-disclosure.md): the permit view of
`allocation.service.permit_view` without the parties of its trades. Each history event keeps
its kind, pollutant, year, quantity, price, time and the permitted quantity after it; the
counterparty (the other permit of a trade or transfer), the ledger reference (which names the
trade, order or transfer) and the free-text note are dropped, as the anonymised trade tape
does. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: history fields never published
PRIVATE_EVENT_FIELDS = ("counterparty", "reference", "note")


def public_event(event: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (None if k in PRIVATE_EVENT_FIELDS else v) for k, v in event.items()}


def public_permit(view: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a permit view fit for anyone: its history without the trades' parties."""
    out = dict(view)
    out["history"] = [public_event(e) for e in view.get("history", [])]
    return out
