"""approval requests keep the district whose officers may decide them

A district officer's list of approval requests took every request whose target was a permit
of its district. A bulk confirmation's target is its first permit, so a batch spanning two
districts showed in the list of its first permit's district, whose officer may neither see
nor decide it (`web.approvals.in_scope`: 404). The district is now decided once, when the
request is made (`identity.service._deciding_district`), kept in `approval_request.district`
(None: the city's officers only), and the list, the detail and the notices all read it.

Upgrade: the column and its index; every existing request's district filled as the request
would have been given it. Downgrade: the column dropped.

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-07
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("approval_request") as b:
        b.add_column(sa.Column("district", sa.String(20), nullable=True))
        b.create_index("ix_approval_request_district", ["district"])
    bind = op.get_bind()
    of_permit = dict(bind.execute(sa.text(
        "SELECT p.code, e.district FROM permit AS p "
        "JOIN enterprise AS e ON e.credit_code = p.enterprise")).all())
    rows = bind.execute(sa.text(
        "SELECT id, action, target, payload FROM approval_request")).all()
    out = []
    for rid, action, target, payload in rows:
        district = _deciding(of_permit, str(action), str(target), json.loads(payload or "{}"))
        if district is not None:
            out.append(dict(i=rid, d=district))
    if out:
        bind.execute(sa.text("UPDATE approval_request SET district = :d WHERE id = :i"), out)


def _deciding(of_permit: dict[str, str], action: str, target: str,
              payload: dict[str, object]) -> str | None:
    """`identity.service._deciding_district` as this revision made it."""
    if action != "confirm_permits":
        return of_permit.get(target)
    if payload.get("district"):
        return str(payload["district"])
    permits = payload.get("permits")
    districts = {of_permit.get(str(p)) for p in (permits if isinstance(permits, list) else [])}
    return next(iter(districts)) if len(districts) == 1 else None


def downgrade() -> None:
    with op.batch_alter_table("approval_request") as b:
        b.drop_index("ix_approval_request_district")
        b.drop_column("district")
