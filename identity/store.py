"""Identity repository: all SQL of the identity context."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import column, delete, func, or_, select, table, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from identity.tables import (
    ApiTokenRow,
    ApprovalPolicyRow,
    ApprovalRow,
    AuditRow,
    IdempotencyRow,
    LoginAttemptRow,
    LoginThrottleRow,
    SessionRow,
    UserRow,
)
from storage.bulk import insert_rows

# The registry's tables, named here only for the district look-ups of object-level checks
# (identity may not import allocation: both sit in one layer).
_district = table("district", column("code"))
_enterprise = table("enterprise", column("credit_code"), column("district"))
_permit = table("permit", column("code"), column("enterprise"))


class IdentityStore:
    def __init__(self, session: Session) -> None:
        self.s = session

    @property
    def postgres(self) -> bool:
        return self.s.get_bind().dialect.name == "postgresql"

    def add(self, row: object) -> None:
        self.s.add(row)

    def flush(self) -> None:
        self.s.flush()

    # users
    def user(self, username: str) -> UserRow | None:
        return self.s.get(UserRow, username)

    def add_user(self, row: UserRow) -> bool:
        from sqlalchemy.exc import IntegrityError

        try:
            with self.s.begin_nested():
                self.s.add(row)
                self.s.flush()
        except IntegrityError:
            return False
        return True

    def users(self, offset: int = 0, limit: int = 100) -> tuple[list[UserRow], int]:
        total = int(self.s.scalar(select(func.count()).select_from(UserRow)) or 0)
        rows = self.s.scalars(select(UserRow).order_by(UserRow.username)
                              .offset(offset).limit(limit))
        return list(rows), total

    # districts (levels)
    def district_exists(self, code: str) -> bool:
        return self.s.scalar(select(_district.c.code).where(_district.c.code == code)) \
            is not None

    def enterprise_district(self, credit_code: str) -> str | None:
        return self.s.scalar(select(_enterprise.c.district)
                             .where(_enterprise.c.credit_code == credit_code))

    def permit_district(self, permit: str) -> str | None:
        return self.s.scalar(select(_enterprise.c.district)
                             .join(_permit, _permit.c.enterprise == _enterprise.c.credit_code)
                             .where(_permit.c.code == permit))

    def permits_districts(self, permits: Sequence[str]) -> set[str | None]:
        """The districts of these permits' enterprises (None for a code that is no permit)."""
        codes = sorted(set(permits))
        out: set[str | None] = set()
        for i in range(0, len(codes), 5000):
            part = codes[i:i + 5000]
            found = dict(self.s.execute(
                select(_permit.c.code, _enterprise.c.district)
                .join(_enterprise, _permit.c.enterprise == _enterprise.c.credit_code)
                .where(_permit.c.code.in_(part))).all())
            out |= {found.get(c) for c in part}
        return out

    # sessions
    def session_with_user(self, id_hash: str) -> tuple[SessionRow, UserRow] | None:
        row = self.s.execute(select(SessionRow, UserRow)
                             .join(UserRow, UserRow.username == SessionRow.username)
                             .where(SessionRow.id_hash == id_hash)).first()
        return None if row is None else (row[0], row[1])

    def revoke_session(self, id_hash: str) -> None:
        self.s.execute(update(SessionRow).where(SessionRow.id_hash == id_hash)
                       .values(revoked=True))

    def revoke_sessions_of(self, username: str) -> None:
        self.s.execute(update(SessionRow).where(SessionRow.username == username)
                       .values(revoked=True))

    # tokens
    def token_with_user(self, token_hash: str) -> tuple[ApiTokenRow, UserRow] | None:
        row = self.s.execute(select(ApiTokenRow, UserRow)
                             .join(UserRow, UserRow.username == ApiTokenRow.username)
                             .where(ApiTokenRow.token_hash == token_hash)).first()
        return None if row is None else (row[0], row[1])

    def tokens_with_users(self, token_hashes: Sequence[str]
                          ) -> dict[str, tuple[ApiTokenRow, UserRow]]:
        """`token_with_user` for many tokens in one statement, by token hash (absent ones
        are left out)."""
        rows = self.s.execute(select(ApiTokenRow, UserRow)
                              .join(UserRow, UserRow.username == ApiTokenRow.username)
                              .where(ApiTokenRow.token_hash.in_(list(token_hashes))))
        return {t.token_hash: (t, u) for t, u in rows}

    def token(self, token_id: int) -> ApiTokenRow | None:
        return self.s.get(ApiTokenRow, token_id)

    def tokens(self, username: str | None) -> list[ApiTokenRow]:
        q = select(ApiTokenRow).order_by(ApiTokenRow.id.desc())
        if username is not None:
            q = q.where(ApiTokenRow.username == username)
        return list(self.s.scalars(q.limit(500)))

    # log-in attempts
    def prune_attempts(self, before: datetime) -> None:
        self.s.execute(delete(LoginAttemptRow).where(LoginAttemptRow.at < before))

    # log-in counters
    def lock_counters(self, keys: Sequence[tuple[str, str]], now: datetime
                      ) -> dict[tuple[str, str], LoginThrottleRow]:
        """The log-in counters of `keys` (scope, key), each created when missing (no
        failures, a window from `now`) and locked until the transaction ends. Rows are taken
        in sorted order, so two attempts sharing rows never wait on each other crosswise.
        On SQLite the unit of work's BEGIN IMMEDIATE already serialises writers."""
        mod = postgresql if self.postgres else sqlite
        out: dict[tuple[str, str], LoginThrottleRow] = {}
        for scope, key in sorted(set(keys)):
            q = select(LoginThrottleRow).where(
                LoginThrottleRow.scope == scope, LoginThrottleRow.key == key
            ).execution_options(populate_existing=True)
            if self.postgres:
                q = q.with_for_update()
            row = None
            while row is None:  # again if a concurrent prune deleted it in between
                self.s.execute(mod.insert(LoginThrottleRow).values(  # type: ignore[attr-defined]
                    scope=scope, key=key, window_start=now, failures=0, last_at=None,
                    last_success=None).on_conflict_do_nothing())
                row = self.s.scalar(q)
            out[(scope, key)] = row
        return out

    def undo_claim(self, scope: str, key: str, window_start: datetime) -> None:
        """Take back one claimed failure (the password was right), unless the counter has
        started a new window since (then the claim was already forgotten)."""
        self.s.execute(update(LoginThrottleRow).where(
            LoginThrottleRow.scope == scope, LoginThrottleRow.key == key,
            LoginThrottleRow.window_start == window_start, LoginThrottleRow.failures > 0)
            .values(failures=LoginThrottleRow.failures - 1))

    def record_login_success(self, scope: str, key: str, now: datetime) -> None:
        """A right password: the counter starts again and remembers the success."""
        self.s.execute(update(LoginThrottleRow).where(
            LoginThrottleRow.scope == scope, LoginThrottleRow.key == key)
            .values(failures=0, window_start=now, last_success=now))

    def prune_counters(self, window_before: datetime, known_before: datetime) -> None:
        """Forget counters whose window ended long ago and that mark no recent success."""
        self.s.execute(delete(LoginThrottleRow).where(
            LoginThrottleRow.window_start < window_before,
            or_(LoginThrottleRow.last_at.is_(None), LoginThrottleRow.last_at < window_before),
            or_(LoginThrottleRow.last_success.is_(None),
                LoginThrottleRow.last_success < known_before)))

    # audit
    def audit_page(self, *, actor: str | None, action: str | None, offset: int, limit: int
                   ) -> tuple[list[AuditRow], int]:
        q = select(AuditRow)
        if actor:
            q = q.where(AuditRow.actor == actor)
        if action:
            q = q.where(AuditRow.action == action)
        total = int(self.s.scalar(select(func.count()).select_from(q.subquery())) or 0)
        rows = self.s.scalars(q.order_by(AuditRow.id.desc()).offset(offset).limit(limit))
        return list(rows), total

    # approvals
    def policies(self) -> dict[str, ApprovalPolicyRow]:
        return {r.tx_type: r for r in self.s.scalars(select(ApprovalPolicyRow))}

    def policy(self, tx_type: str) -> ApprovalPolicyRow | None:
        return self.s.get(ApprovalPolicyRow, tx_type)

    def approval(self, approval_id: int, *, lock: bool = False) -> ApprovalRow | None:
        q = select(ApprovalRow).where(ApprovalRow.id == approval_id).execution_options(
            populate_existing=True)
        if lock and self.postgres:
            q = q.with_for_update()
        return self.s.scalar(q)

    def approvals(self, status: str | None, offset: int, limit: int,
                  district: str | None = None) -> tuple[list[ApprovalRow], int]:
        """Approval requests, newest first; with `district`, only those that district's
        officers may decide (a district officer's list: `ApprovalRow.district`, so a batch
        spanning districts is in no district's list)."""
        q = select(ApprovalRow)
        if status:
            q = q.where(ApprovalRow.status == status)
        if district is not None:
            q = q.where(ApprovalRow.district == district)
        total = int(self.s.scalar(select(func.count()).select_from(q.subquery())) or 0)
        rows = self.s.scalars(q.order_by(ApprovalRow.id.desc()).offset(offset).limit(limit))
        return list(rows), total

    # idempotency
    def idempotency(self, principal: str, key: str, *, lock: bool = False
                    ) -> IdempotencyRow | None:
        q = select(IdempotencyRow).where(IdempotencyRow.principal == principal,
                                         IdempotencyRow.key == key)
        if lock and self.postgres:
            q = q.with_for_update()
        return self.s.scalar(q)

    def delete_idempotency(self, principal: str, key: str) -> None:
        self.s.execute(delete(IdempotencyRow).where(IdempotencyRow.principal == principal,
                                                    IdempotencyRow.key == key))

    def add_all(self, rows: Sequence[object]) -> None:
        self.s.add_all(rows)

    def claim_idempotency(self, row: IdempotencyRow) -> bool:
        """Insert the placeholder; False when another request holds the same key."""
        from sqlalchemy.exc import IntegrityError

        try:
            with self.s.begin_nested():
                self.s.add(row)
                self.s.flush()
        except IntegrityError:
            return False
        return True


def audit_sink(uow: Any, rows: list[dict[str, Any]], now: Any) -> None:
    """Write the audit rows of a group's orders in its transaction (`trading.pipeline`), in
    one statement without the ORM (`storage.bulk`: a COPY on PostgreSQL for a full group;
    ids are not read back)."""
    insert_rows(uow.session, AuditRow.__table__, [dict(  # type: ignore[arg-type]
        at=now, actor=a.get("actor"), role=a.get("role"), via=a.get("via"),
        ip=(a.get("ip") or "")[:64] or None, method=str(a.get("method") or "POST"),
        path=str(a.get("path") or "")[:300], action=str(a.get("action") or "")[:80],
        target=str(a["target"])[:120] if a.get("target") else None,
        status=int(a.get("status") or 201),
        detail=str(a["detail"])[:2000] if a.get("detail") else None) for a in rows])
