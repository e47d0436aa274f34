"""The notification table (migration 0027): one row per recipient and event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.metadata import Base

BigInt = BigInteger().with_variant(Integer(), "sqlite")


class NotificationRow(Base):
    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(ForeignKey("app_user.username"))
    kind: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str] = mapped_column(String(120))
    enterprise: Mapped[str | None] = mapped_column(String(18), nullable=True)
    params: Mapped[str] = mapped_column(Text)  # JSON object
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (Index("ix_notification_recipient_read_at", "recipient", "read_at"),
                      Index("ix_notification_kind_ref", "kind", "ref"))
