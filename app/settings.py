"""One `Settings` object (pydantic-settings). Nothing is built at import time.

Outside development (ERTS_ENV other than "development" or "test") the secret key must be set
and must not be the development default: `Settings()` refuses to build otherwise.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE = "sqlite:///" + str(Path("var") / "erts.sqlite3")
DEV_SECRET = "dev-insecure-secret"
DEV_ENVIRONMENTS = ("development", "test")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str = Field(default=DEFAULT_SQLITE, alias="DATABASE_URL")
    environment: str = Field(default="development", alias="ERTS_ENV")
    secret_key: str = Field(default=DEV_SECRET, alias="ERTS_SECRET_KEY")
    #: trading fee, basis points of trade value, charged to each side
    fee_bps: int = Field(default=0, alias="ERTS_FEE_BPS")
    #: continuous-market orders from the API and the pages are placed through the order
    #: pipeline (group commit: the orders arriving together share one transaction); off:
    #: one transaction per order (`trading.service.place_order`), with the same rules
    order_pipeline: bool = Field(default=True, alias="ERTS_ORDER_PIPELINE")
    #: linked ledger batches from the API are committed by the ledger's writer (group
    #: commit: the batches arriving together share one transaction, each still all or
    #: nothing); off: one transaction per batch (`ledger.service.submit`)
    ledger_group_commit: bool = Field(default=True, alias="ERTS_LEDGER_GROUP_COMMIT")
    #: directory with static assets installed at set-up (htmx from npm)
    vendor_dir: str = Field(default="node_modules", alias="ERTS_VENDOR_DIR")
    #: a log-in session lasts this long (absolute, not sliding)
    session_hours: float = Field(default=8.0, gt=0, le=24 * 30, alias="ERTS_SESSION_HOURS")
    #: log-in rate limit: failures allowed per username and per IP within the window
    login_max_per_user: int = Field(default=5, ge=1, alias="ERTS_LOGIN_MAX_PER_USER")
    login_max_per_ip: int = Field(default=20, ge=1, alias="ERTS_LOGIN_MAX_PER_IP")
    login_window_minutes: int = Field(default=15, ge=1, alias="ERTS_LOGIN_WINDOW_MINUTES")
    #: request bodies above this many bytes get 413
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, alias="ERTS_MAX_BODY_BYTES")
    #: cookies carry the Secure flag; default: on outside development
    cookie_secure: bool | None = Field(default=None, alias="ERTS_COOKIE_SECURE")

    @property
    def is_development(self) -> bool:
        return self.environment in DEV_ENVIRONMENTS

    @property
    def secure_cookies(self) -> bool:
        return (not self.is_development) if self.cookie_secure is None else self.cookie_secure

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if not self.is_development and (not self.secret_key or self.secret_key == DEV_SECRET
                                        or len(self.secret_key) < 32):
            raise ValueError(
                f"ERTS_SECRET_KEY must be set to a random value of at least 32 characters "
                f"when ERTS_ENV={self.environment!r} (only development may use the default)")
        return self
