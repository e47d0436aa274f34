"""Identity tables: users, sessions, API tokens, log-in attempts, the audit log, approval
requests and policy, and idempotency records. Secrets are stored only as SHA-256 digests
(sessions, tokens) or password hashes (argon2id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from storage.metadata import Base

BigInt = BigInteger().with_variant(Integer(), "sqlite")


class UserRow(Base):
    __tablename__ = "app_user"
    username: Mapped[str] = mapped_column(String(40), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(24))  # bureau_officer|bureau_admin|trader|analyst
    enterprise: Mapped[str | None] = mapped_column(ForeignKey("enterprise.credit_code"),
                                                   nullable=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: bureau users only: the district bureau (None = the city) and the department
    #: (approval | monitoring | enforcement; None = every department); identity.roles
    district: Mapped[str | None] = mapped_column(ForeignKey("district.code"), nullable=True)
    department: Mapped[str | None] = mapped_column(String(12), nullable=True)


class SessionRow(Base):
    """A log-in session. The cookie carries the signed raw id; only its digest is stored."""

    __tablename__ = "auth_session"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("app_user.username"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiTokenRow(Base):
    """A bearer token for programmatic clients; it acts with its user's role and scope."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(ForeignKey("app_user.username"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16))  # shown in lists, e.g. "erts_AbC1"
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginAttemptRow(Base):
    """A log-in attempt whose password was checked (a history; refused attempts are not
    checked and leave no row). The limits are kept in `LoginThrottleRow`."""

    __tablename__ = "login_attempt"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(40))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    success: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (Index("ix_login_attempt_username_at", "username", "at"),
                      Index("ix_login_attempt_ip_at", "ip", "at"))


class LoginThrottleRow(Base):
    """One log-in counter: failed attempts in the current window for a user from one address
    (scope "pair", key "<address>/<username>"), for an address (scope "ip"), or for a user
    from everywhere (scope "user"). An attempt locks its rows (FOR UPDATE on PostgreSQL;
    SQLite's BEGIN IMMEDIATE serialises writers) while it claims a slot, so concurrent
    attempts are counted one after another. `last_success` (pair rows) marks an address the
    user logged in from; `last_at` is the last claimed attempt (user rows: the slow-down)."""

    __tablename__ = "login_throttle"
    scope: Mapped[str] = mapped_column(String(4), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    failures: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_login_throttle_window_start", "window_start"),)


class AuditRow(Base):
    """Every state-changing request: who, when, what, from where, and how it ended."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str | None] = mapped_column(String(40), index=True)
    role: Mapped[str | None] = mapped_column(String(24))
    via: Mapped[str | None] = mapped_column(String(10))  # session | token | None
    ip: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(80), index=True)
    target: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)


class ApprovalPolicyRow(Base):
    """Per ledger transaction type: does a bureau action of this type need a second officer?
    Without a row the default is `ledger.transactions.TYPES[type].needs_approval`."""

    __tablename__ = "approval_policy"
    tx_type: Mapped[str] = mapped_column(String(24), primary_key=True)
    required: Mapped[bool] = mapped_column(Boolean)
    updated_by: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApprovalRow(Base):
    """A bureau action waiting for a second officer. status: pending → executing → executed
    (or failed), or pending → rejected. `executing` is claimed and committed before the action
    runs, so an action is carried out at most once."""

    __tablename__ = "approval_request"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    tx_type: Mapped[str] = mapped_column(String(24))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(120))
    payload: Mapped[str] = mapped_column(Text)  # JSON
    summary: Mapped[str] = mapped_column(String(300))
    requested_by: Mapped[str] = mapped_column(String(40))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(10), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    result: Mapped[str | None] = mapped_column(Text)
    #: JSON: the dry run's outcome when the request was made (what is approved, in figures)
    preview: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: the district whose officers may see and decide it besides the city's, decided when it
    #: was made (`identity.service._deciding_district`); None: the city's officers only
    district: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)


class IdempotencyRow(Base):
    """A POST with an Idempotency-Key: the first request's digest and its response.
    `status` is None while the first request is still running."""

    __tablename__ = "idempotency_record"
    principal: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(80))
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
