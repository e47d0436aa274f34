"""Repository of the account use cases (identity.account_service): their SQL."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from identity.tables import SessionRow, UserRow


class AccountStore:
    def __init__(self, session: Session) -> None:
        self.s = session

    def user(self, username: str, *, lock: bool = False) -> UserRow | None:
        if lock:
            from sqlalchemy import select

            return self.s.scalar(select(UserRow).where(UserRow.username == username)
                                 .with_for_update())
        return self.s.get(UserRow, username)

    def revoke_other_sessions(self, username: str, keep: str | None) -> int:
        """Revoke every live session of the user but `keep` (an id digest); how many."""
        q = update(SessionRow).where(SessionRow.username == username,
                                     SessionRow.revoked.is_(False))
        if keep is not None:
            q = q.where(SessionRow.id_hash != keep)
        return int(self.s.execute(q.values(revoked=True)).rowcount or 0)  # type: ignore[attr-defined]
