"""The flash table: one-time notices ("bill 12 paid") held on the server for the browser that
caused them, until its next full page shows them. The holder is a SHA-256 digest of the
browser's log-in session id or anonymous nonce, so a notice can neither be read by another
browser nor be written by a link (pages never read notices from the URL)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.metadata import Base

BigInt = BigInteger().with_variant(Integer(), "sqlite")


class FlashRow(Base):
    __tablename__ = "flash_message"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    holder: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(3))  # msg | err
    text: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
