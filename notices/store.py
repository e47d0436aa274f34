"""Notification repository: all SQL of the notices context. Recipients are looked up in the
identity tables by name (`app_user`), the way identity names the registry's tables: the
contexts stay independent in code, one schema underneath."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, column, func, insert, or_, select, table, true, update
from sqlalchemy.orm import Session

from notices.tables import NotificationRow

_user = table("app_user", column("username"), column("role"), column("enterprise"),
              column("active"), column("district"), column("department"))
BUREAU_ROLES = ("bureau_officer", "bureau_admin")
# named for the read-time scope of officers' notices (approval requests and their permits)
_approval = table("approval_request", column("id"), column("target"))
_permit = table("permit", column("code"), column("enterprise"))
_enterprise = table("enterprise", column("credit_code"), column("district"))
#: kinds addressed to officers by the scope they had when the event happened
OFFICER_KINDS = ("approval_waiting", "transfer_accepted")


class NoticeStore:
    def __init__(self, session: Session) -> None:
        self.s = session

    # recipients
    def users_of(self, enterprises: Iterable[str]) -> list[tuple[str, str]]:
        """(username, enterprise) of the active users of these enterprises, one query."""
        codes = sorted(set(enterprises))
        if not codes:
            return []
        q = (select(_user.c.username, _user.c.enterprise)
             .where(_user.c.enterprise.in_(codes), _user.c.active == true())
             .order_by(_user.c.username))
        return [(str(u), str(e)) for u, e in self.s.execute(q)]

    def officers(self, *, exclude: str | None, district: str | None,
                 department: str | None) -> list[str]:
        """Active bureau users who may act: the city's officers, and with `district` also
        that district's; of every department or of `department`; never `exclude`."""
        q = select(_user.c.username).where(_user.c.role.in_(BUREAU_ROLES),
                                           _user.c.active == true())
        if exclude is not None:
            q = q.where(_user.c.username != exclude)
        if district is None:
            q = q.where(_user.c.district.is_(None))
        else:
            q = q.where((_user.c.district.is_(None)) | (_user.c.district == district))
        if department is not None:
            q = q.where((_user.c.department.is_(None)) | (_user.c.department == department))
        return [str(u) for u in self.s.scalars(q.order_by(_user.c.username))]

    # writes
    def add(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.s.execute(insert(NotificationRow), list(rows))

    def mark_read(self, recipient: str, ids: Sequence[int] | None, now: datetime) -> int:
        q = update(NotificationRow).where(NotificationRow.recipient == recipient,
                                          NotificationRow.read_at.is_(None))
        if ids is not None:
            q = q.where(NotificationRow.id.in_(list(ids)))
        res = self.s.execute(q.values(read_at=now).execution_options(
            synchronize_session=False))
        return int(res.rowcount or 0)  # type: ignore[attr-defined]

    # reads
    def _in_scope(self, q: Any, recipient: str) -> Any:
        """Officers' notices as the recipient's current scope allows: a district officer
        keeps a waiting approval about a permit of its district (as its approvals list shows
        it) and none addressed to the city's officers, whatever its scope was when told."""
        district = self.s.scalar(select(_user.c.district).where(
            _user.c.username == recipient, _user.c.role.in_(BUREAU_ROLES)))
        if district is None:
            return q
        of_district = (select(cast(_approval.c.id, String))
                       .join(_permit, _permit.c.code == _approval.c.target)
                       .join(_enterprise, _enterprise.c.credit_code == _permit.c.enterprise)
                       .where(_enterprise.c.district == district))
        return q.where(or_(NotificationRow.kind.not_in(OFFICER_KINDS),
                           (NotificationRow.kind == "approval_waiting")
                           & NotificationRow.ref.in_(of_district)))

    def unread_count(self, recipient: str) -> int:
        return int(self.s.scalar(self._in_scope(
            select(func.count()).select_from(NotificationRow)
            .where(NotificationRow.recipient == recipient, NotificationRow.read_at.is_(None)),
            recipient)) or 0)

    def page(self, recipient: str, *, unread_only: bool, offset: int, limit: int
             ) -> tuple[list[NotificationRow], int]:
        q = self._in_scope(select(NotificationRow).where(NotificationRow.recipient == recipient),
                           recipient)
        if unread_only:
            q = q.where(NotificationRow.read_at.is_(None))
        total = int(self.s.scalar(select(func.count()).select_from(q.subquery())) or 0)
        rows = self.s.scalars(q.order_by(NotificationRow.id.desc()).offset(offset).limit(limit))
        return list(rows), total

    def by_ref(self, kind: str, ref: str) -> list[NotificationRow]:
        return list(self.s.scalars(select(NotificationRow).where(
            NotificationRow.kind == kind, NotificationRow.ref == ref)
            .order_by(NotificationRow.recipient)))
