"""Repository of the flash table: all its SQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from identity.flash_tables import FlashRow


class FlashStore:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, row: FlashRow) -> None:
        self.s.add(row)

    def of(self, holder: str) -> list[FlashRow]:
        return list(self.s.scalars(select(FlashRow).where(FlashRow.holder == holder)
                                   .order_by(FlashRow.id)))

    def delete(self, ids: list[int]) -> None:
        self.s.execute(delete(FlashRow).where(FlashRow.id.in_(ids)))

    def prune(self, before: datetime) -> None:
        self.s.execute(delete(FlashRow).where(FlashRow.created_at < before))
