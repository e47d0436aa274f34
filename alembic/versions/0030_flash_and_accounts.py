"""flash notices held server-side

Issue 18 ("Flash messages held server-side"): pages showed `?msg=` / `?err=` of any URL as an
official notice, so a link could put any text on any page (a phishing aid). From this revision
a notice after a form post is kept in `flash_message` for the browser that posted (its holder
is a SHA-256 digest of the session id or anonymous nonce), shown once on that browser's next
full page and deleted; URLs are no longer read for notices.

`flash_message`: id, holder String(64) (indexed), kind String(3) (msg | err), text
String(1000), created_at (indexed; notices older than an hour are pruned unseen).

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "flash_message",
        sa.Column("id", BigInt, nullable=False, autoincrement=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(3), nullable=False),
        sa.Column("text", sa.String(1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flash_message")),
    )
    op.create_index(op.f("ix_flash_message_holder"), "flash_message", ["holder"])
    op.create_index(op.f("ix_flash_message_created_at"), "flash_message", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_flash_message_created_at"), table_name="flash_message")
    op.drop_index(op.f("ix_flash_message_holder"), table_name="flash_message")
    op.drop_table("flash_message")
