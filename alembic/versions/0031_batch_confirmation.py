"""approval requests keep their preview (bulk confirmation, approvals in words)

Issue 18 ("Approvals that show what is approved", "Bulk confirmation"): a second officer saw
"confirm allocated kg PM 2026 on <code>", without the quantity or the enterprise. Every
request is checked by a dry run when it is made (web.approvals); from this revision the dry
run's outcome (the quantities, the permitted quantity before and after, the enterprise, each
permit and pollutant of a bulk confirmation) is kept with the request, so the approvals list
states in words what the second officer approves.

`approval_request.preview`: Text (JSON), nullable (requests made before this revision have
none and are described from their payload).

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("approval_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preview", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("approval_request", schema=None) as batch_op:
        batch_op.drop_column("preview")
