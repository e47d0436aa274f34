"""permit register: permit content, outlets, intake batches, permit life

Also, on PostgreSQL only, permit_quantity loses its row-level foreign keys (to permit and
zone), for the reason migration 0014 gave for the other hot append tables: an import of
100 000 permit rows writes 500 000 quantity rows, and the two per-row key checks were about
40 % of that COPY (bench/bench_permit_import.py). The rows they point at are written or read
by the same transaction before (the import checks districts and creates the permits first);
that a referenced row cannot be deleted is kept by the statement triggers of 0014 (permit)
and one more here (zone). SQLite keeps its keys.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "permit_content",
        sa.Column("permit", sa.String(22), sa.ForeignKey("permit.code"), primary_key=True),
        sa.Column("management_class", sa.String(16), nullable=False),
        sa.Column("industry_code", sa.String(8), nullable=False),
        sa.Column("eia_number", sa.String(100), nullable=True),
        sa.Column("eia_date", sa.Date(), nullable=True),
        sa.Column("eia_kg", sa.JSON(), nullable=False),
        sa.Column("eia_requirements", sa.Text(), nullable=True),
        sa.Column("noise", sa.JSON(), nullable=False),
        sa.Column("solid_waste", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("term_from", sa.Date(), nullable=False),
        sa.Column("renewal_applied_on", sa.Date(), nullable=True),
        sa.Column("renewal_late", sa.Boolean(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "permit_outlet",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("permit", sa.String(22), nullable=False),
        sa.Column("outlet_id", sa.String(20), nullable=False),
        sa.Column("outlet_type", sa.String(10), nullable=False),
        sa.Column("medium", sa.String(5), nullable=False),
        sa.Column("pollutant", sa.String(30), nullable=False),
        sa.Column("limit_text", sa.String(30), nullable=False),
        sa.Column("unit", sa.String(12), nullable=False),
        sa.Column("quantities", sa.JSON(), nullable=False),
        sa.UniqueConstraint("permit", "outlet_id", "pollutant"),
    )
    op.create_table(
        "permit_life_event",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("permit", sa.String(22), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_table(
        "permit_import",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("permits_new", sa.Integer(), nullable=False),
        sa.Column("permits_changed", sa.Integer(), nullable=False),
        sa.Column("permits_unchanged", sa.Integer(), nullable=False),
        sa.Column("permits_rejected", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
    )


    if op.get_bind().dialect.name == "postgresql":
        for name in _QUANTITY_KEYS:
            op.drop_constraint(name, "permit_quantity", type_="foreignkey")
        op.execute("CREATE TRIGGER zone_no_delete BEFORE DELETE ON zone "
                   "FOR EACH STATEMENT EXECUTE FUNCTION erts_refuse_delete()")
        op.execute("CREATE TRIGGER zone_no_truncate BEFORE TRUNCATE ON zone "
                   "FOR EACH STATEMENT EXECUTE FUNCTION erts_refuse_delete()")


_QUANTITY_KEYS = ("fk_permit_quantity_permit_permit", "fk_permit_quantity_zone_zone")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS zone_no_delete ON zone")
        op.execute("DROP TRIGGER IF EXISTS zone_no_truncate ON zone")
        op.create_foreign_key("fk_permit_quantity_permit_permit", "permit_quantity",
                              "permit", ["permit"], ["code"])
        op.create_foreign_key("fk_permit_quantity_zone_zone", "permit_quantity", "zone",
                              ["zone"], ["code"])
    op.drop_table("permit_import")
    op.drop_table("permit_life_event")
    op.drop_table("permit_outlet")
    op.drop_table("permit_content")
