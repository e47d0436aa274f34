"""One `Settings` object (pydantic-settings). Nothing is built at import time.

Outside development (ERTS_ENV other than "development" or "test") the secret key must be set
and must not be the development default: `Settings()` refuses to build otherwise.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE = "sqlite:///" + str(Path("var") / "erts.sqlite3")
DEV_SECRET = "dev-insecure-secret"
DEV_ENVIRONMENTS = ("development", "test")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def parse_networks(spec: str) -> tuple[IPNetwork, ...]:
    """'10.0.0.5, 192.168.0.0/16, ::1' → networks (a bare IP is a /32 or /128). Raises
    ValueError naming the entry that is neither an IP nor a CIDR."""
    out: list[IPNetwork] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"ERTS_TRUSTED_PROXIES: {item!r} is not an IP address or a "
                             f"CIDR network") from None
    return tuple(out)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str = Field(default=DEFAULT_SQLITE, alias="DATABASE_URL")
    environment: str = Field(default="development", alias="ERTS_ENV")
    secret_key: str = Field(default=DEV_SECRET, alias="ERTS_SECRET_KEY")
    #: trading fee, basis points of trade value, charged to each side
    fee_bps: int = Field(default=0, alias="ERTS_FEE_BPS")
    #: the server runs the auctions' schedules every this many seconds (0: off; then run
    #: `erts auction run-due` from cron)
    auction_tick_seconds: float = Field(default=30.0, ge=0, le=3600,
                                        alias="ERTS_AUCTION_TICK_SECONDS")
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
    #: log-in throttle (identity.service.LoginLimits), failures within the window: per user
    #: from one address (then refused from that address only), per address over every user
    #: (then the address is refused), and per user from every address (then slowed to one
    #: attempt per `login_slow_seconds` from addresses it has not logged in from; not locked)
    login_max_per_user_address: int = Field(default=5, ge=1,
                                            alias="ERTS_LOGIN_MAX_PER_USER_ADDRESS")
    login_max_per_ip: int = Field(default=20, ge=1, alias="ERTS_LOGIN_MAX_PER_IP")
    login_max_per_user: int = Field(default=30, ge=1, alias="ERTS_LOGIN_MAX_PER_USER")
    login_slow_seconds: int = Field(default=20, ge=1, le=3600, alias="ERTS_LOGIN_SLOW_SECONDS")
    login_window_minutes: int = Field(default=15, ge=1, le=7 * 24 * 60,
                                      alias="ERTS_LOGIN_WINDOW_MINUTES")
    #: reverse proxies whose X-Forwarded-For is believed: comma-separated IPs or CIDRs
    #: ("10.0.0.5, 192.168.0.0/16"). Empty (the default): the client address is the socket
    #: peer, whatever the headers say (web.auth.client_address).
    trusted_proxies: str = Field(default="", alias="ERTS_TRUSTED_PROXIES")
    #: request bodies above this many bytes get 413
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, alias="ERTS_MAX_BODY_BYTES")
    #: cookies carry the Secure flag; default: on outside development
    cookie_secure: bool | None = Field(default=None, alias="ERTS_COOKIE_SECURE")
    #: the Ed25519 key that signs the ledger's checkpoints (docs/ledger-transparency.md):
    #: base64 of its 32-byte seed, or a file holding it (PEM, as `erts ledger keygen`
    #: writes). Never in the database. Outside development one of them is required to sign;
    #: in development a key is generated into the data directory (`ledger_dev_key_file`)
    ledger_signing_key: str = Field(default="", alias="ERTS_LEDGER_SIGNING_KEY", repr=False)
    ledger_signing_key_file: str = Field(default="", alias="ERTS_LEDGER_SIGNING_KEY_FILE")
    #: the log's name in every signed checkpoint
    ledger_origin: str = Field(default="erts.local/ledger", min_length=1, max_length=200,
                               pattern=r"^[^\n]+$", alias="ERTS_LEDGER_ORIGIN")
    #: `erts serve` signs a checkpoint at start and then every this many seconds when the
    #: tree has grown (0: off; then run `erts ledger checkpoint` from cron)
    ledger_checkpoint_seconds: float = Field(default=300.0, ge=0, le=7 * 24 * 3600,
                                             alias="ERTS_LEDGER_CHECKPOINT_SECONDS")

    @property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        """`trusted_proxies` parsed (validated when the settings are built)."""
        return parse_networks(self.trusted_proxies)

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: str) -> str:
        parse_networks(value)
        return value

    @property
    def data_dir(self) -> Path:
        """Where the platform keeps local data: the SQLite database's directory, else var/."""
        url = self.database_url
        if url.startswith("sqlite:///") and not url.endswith(":memory:"):
            return Path(url.removeprefix("sqlite:///")).parent
        return Path("var")

    @property
    def ledger_dev_key_file(self) -> Path:
        return self.data_dir / "ledger-signing.key"

    def ledger_signer(self):  # type: ignore[no-untyped-def]  # noqa: ANN201
        """The checkpoint signer (`ledger.signing.Signer`) from the key or key file; in
        development without either, the development key (made on first use). Raises
        SigningKeyMissing outside development without a key, SigningKeyInvalid for a bad one."""
        from ledger.signing import resolve_signer

        return resolve_signer(self.ledger_signing_key, self.ledger_signing_key_file,
                              dev_file=self.ledger_dev_key_file if self.is_development
                              else None)

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
                f"when ERTS_ENV={self.environment!r} (only development and test may use the "
                f"default; make one with: python -c 'import secrets; "
                f"print(secrets.token_urlsafe(48))')")
        return self
