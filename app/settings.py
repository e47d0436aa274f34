"""One `Settings` object (pydantic-settings). Nothing is built at import time."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE = "sqlite:///" + str(Path("var") / "erts.sqlite3")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str = Field(default=DEFAULT_SQLITE, alias="DATABASE_URL")
    environment: str = Field(default="development", alias="ERTS_ENV")
    secret_key: str = Field(default="dev-insecure-secret", alias="ERTS_SECRET_KEY")
    #: trading fee, basis points of trade value, charged to each side
    fee_bps: int = Field(default=0, alias="ERTS_FEE_BPS")
    #: directory with static assets installed at set-up (htmx from npm)
    vendor_dir: str = Field(default="node_modules", alias="ERTS_VENDOR_DIR")
