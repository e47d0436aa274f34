"""User table."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.metadata import Base


class UserRow(Base):
    __tablename__ = "app_user"
    username: Mapped[str] = mapped_column(String(40), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(24))  # bureau_officer|bureau_admin|trader|analyst
    enterprise: Mapped[str | None] = mapped_column(ForeignKey("enterprise.credit_code"),
                                                   nullable=True)
    password_hash: Mapped[str] = mapped_column(String(200))
