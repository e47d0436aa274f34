"""Notification use cases.

Writers (`to_enterprise`, `to_enterprises`, `to_officers`) run inside the caller's unit of
work, in the transaction of the event they report: they never commit, so a notification
exists exactly when its event does. Readers and `mark_read` are use cases of their own.

Kinds and their params (rendered by the web layer in the reader's language):
- `clue_sent` (ref: clue id; due)  - `penalty_notice` (ref: notice number or id; amount_fen)
- `penalty_decided` (ref: decision number; amount_fen)
- `penalty_hearing` (ref: notice number; due: the hearing's day, place)
- `transfer_proposed` (ref: transfer id; market, qty, price, seller)
- `bill_issued`, `bill_due` (ref: bill id or batch; count, amount_fen, due)
- `approval_waiting` (ref: approval id; action, target, by), to the officers who may approve;
  read, a district officer sees it while the request's permit lies in its current district
- `transfer_accepted` (ref: transfer id; market, qty, price, seller, buyer), to the city's
  officers: the bureau approves it next
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol

from kernel.clock import system_clock
from notices.store import NoticeStore
from notices.tables import NotificationRow

KINDS = ("clue_sent", "penalty_notice", "penalty_decided", "transfer_proposed", "bill_issued",
         "bill_due", "approval_waiting", "transfer_accepted", "penalty_hearing")
MAX_LIMIT = 200


class UoW(Protocol):
    """The unit of work (storage.db.UnitOfWork), as ledger.service names it."""

    @property
    def session(self) -> Any: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: object) -> None: ...

    def commit(self) -> None: ...


def _json(params: Mapping[str, Any] | None) -> str:
    def plain(v: Any) -> Any:
        return v.isoformat() if isinstance(v, date | datetime) else v

    return json.dumps({k: plain(v) for k, v in (params or {}).items()}, sort_keys=True,
                      ensure_ascii=False)


def _row(recipient: str, kind: str, ref: object, enterprise: str | None,
         params: Mapping[str, Any] | None, now: datetime) -> dict[str, Any]:
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")  # a programming error
    return dict(recipient=recipient, kind=kind, ref=str(ref)[:120], enterprise=enterprise,
                params=_json(params), created_at=now, read_at=None)


def to_enterprises(uow: UoW, items: Iterable[tuple[str, str, object, Mapping[str, Any] | None]],
                   *, now: datetime | None = None) -> int:
    """Notify the active users of each enterprise: items are (enterprise, kind, ref, params).
    Two statements whatever the number of items (recipients, then one insert)."""
    now = now or system_clock()
    items = list(items)
    store = NoticeStore(uow.session)
    users: dict[str, list[str]] = {}
    for username, ent in store.users_of(e for e, *_ in items):
        users.setdefault(ent, []).append(username)
    rows = [_row(u, kind, ref, ent, params, now)
            for ent, kind, ref, params in items for u in users.get(ent, ())]
    store.add(rows)
    return len(rows)


def to_enterprise(uow: UoW, enterprise: str, kind: str, ref: object,
                  params: Mapping[str, Any] | None = None, *,
                  now: datetime | None = None) -> int:
    return to_enterprises(uow, [(enterprise, kind, ref, params)], now=now)


def to_officers(uow: UoW, kind: str, ref: object, params: Mapping[str, Any] | None = None, *,
                exclude: str | None = None, district: str | None = None,
                department: str | None = None, now: datetime | None = None) -> int:
    """Notify the bureau users who may act (see `NoticeStore.officers`), never `exclude`
    (the requester of an approval does not approve it)."""
    now = now or system_clock()
    store = NoticeStore(uow.session)
    rows = [_row(u, kind, ref, None, params, now)
            for u in store.officers(exclude=exclude, district=district, department=department)]
    store.add(rows)
    return len(rows)


def notice_dict(r: NotificationRow) -> dict[str, Any]:
    return dict(id=r.id, kind=r.kind, ref=r.ref, enterprise=r.enterprise,
                params=json.loads(r.params or "{}"), created_at=_iso(r.created_at),
                read_at=_iso(r.read_at), read=r.read_at is not None)


def _iso(t: datetime | None) -> str | None:
    if t is None:
        return None
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).isoformat()


def unread_count(uow: UoW, username: str) -> int:
    with uow:
        return NoticeStore(uow.session).unread_count(username)


def notifications(uow: UoW, username: str, *, unread_only: bool = False, offset: int = 0,
                  limit: int = 50) -> dict[str, Any]:
    limit = max(1, min(limit, MAX_LIMIT))
    with uow:
        store = NoticeStore(uow.session)
        rows, total = store.page(username, unread_only=unread_only, offset=offset, limit=limit)
        return dict(total=total, offset=offset, limit=limit,
                    unread=store.unread_count(username),
                    items=[notice_dict(r) for r in rows])


def mark_read(uow: UoW, username: str, ids: Sequence[int] | None = None, *,
              now: datetime | None = None) -> int:
    """Mark the user's notifications read (`ids` None: all of them); another user's ids
    are ignored. Returns how many changed."""
    now = now or system_clock()
    with uow:
        n = NoticeStore(uow.session).mark_read(username, ids, now)
        uow.commit()
    return n


def of_event(uow: UoW, kind: str, ref: object) -> list[dict[str, Any]]:
    """Who was told about one event (tests, the audit view)."""
    with uow:
        return [dict(notice_dict(r), recipient=r.recipient)
                for r in NoticeStore(uow.session).by_ref(kind, str(ref))]


def bills_issued(uow: UoW, bills: Sequence[Mapping[str, Any]], *,
                 now: datetime | None = None) -> int:
    """Tell each enterprise of its new unpaid paid-use bills: one notification per
    enterprise and batch (count, total, earliest due date), not one per bill."""
    per: dict[str, dict[str, Any]] = {}
    for b in bills:
        if b.get("status", "unpaid") != "unpaid":
            continue
        p = per.setdefault(str(b["enterprise"]), dict(count=0, amount_fen=0, due=None,
                                                      ref=b.get("reference") or ""))
        p["count"] += 1
        p["amount_fen"] += int(b["amount_fen"])
        due = b.get("due_on")
        if due is not None and (p["due"] is None or due < p["due"]):
            p["due"] = due
    return to_enterprises(uow, [(e, "bill_issued", p.pop("ref"), p) for e, p in per.items()],
                          now=now)
