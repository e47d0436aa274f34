"""in-app notifications

Issue 18: a person learns in the application that something waits for them. One table,
`notification`: one row per recipient (a user) and event, written in the transaction of the
event itself (a clue sent to an enterprise, a penalty notice or decision issued, a negotiated
transfer proposed, a paid-use bill issued or due, an approval waiting for a second officer).

- `recipient` references `app_user.username`;
- `kind` names the event (`notices.service.KINDS`), `ref` the object it is about (a clue id,
  a decision number, a transfer id, a bill id, an approval id), `enterprise` the enterprise
  concerned (NULL for bureau-wide events); `params` is a small JSON object of the figures the
  message shows; the text is rendered when read, in the reader's language;
- `read_at` is NULL while unread. The index (recipient, read_at) serves the unread count in
  every page header and the list.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False,
                  autoincrement=True),
        sa.Column("recipient", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("ref", sa.String(120), nullable=False),
        sa.Column("enterprise", sa.String(18), nullable=True),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["recipient"], ["app_user.username"],
                                name="fk_notification_recipient_app_user"),
        sa.PrimaryKeyConstraint("id", name="pk_notification"),
    )
    op.create_index("ix_notification_recipient_read_at", "notification",
                    ["recipient", "read_at"])
    op.create_index("ix_notification_kind_ref", "notification", ["kind", "ref"])


def downgrade() -> None:
    op.drop_index("ix_notification_kind_ref", table_name="notification")
    op.drop_index("ix_notification_recipient_read_at", table_name="notification")
    op.drop_table("notification")
