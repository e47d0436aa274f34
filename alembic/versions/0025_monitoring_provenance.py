"""monitoring imports: source, authority and voiding

`monitoring_import` gains `source` (automatic | bureau | enterprise), `district` (the
importer's district: a district officer's, a trader's enterprise's; None for the city
bureau) and the void record (`voided_at`, `voided_by`, `void_reason`). A file (SHA-256) is
refused again only while a live import of the same source holds it (partial unique index
instead of the plain unique constraint), so a trader's copy cannot block the bureau's.

`monitoring_daily` gains `source`, `authority` (2: bureau or automatic, 1: enterprise),
`superseded_by` (the bureau import whose rows replace these) and `voided`; `import_id`
becomes part of the primary key (0 for rows written without an import), so an enterprise's
rows and the bureau's for the same outlet-day are both kept. Two partial unique indexes hold
the rules under concurrency: at most one live row per authority, and at most one effective
row (live, not superseded), per permit, outlet, pollutant and day.

Existing rows: imports with an enterprise were made by a trader (`enterprise`); the others
by a bureau officer uploading (`bureau`: nothing recorded says they came from the automatic
monitoring system). Their daily rows take the import's source; rows without an import are
`bureau`. Existing rows never clash (the old primary key had one row per outlet-day).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

LIVE = sa.text("NOT voided")
EFFECTIVE = sa.text("NOT voided AND superseded_by IS NULL")
LIVE_IMPORT = sa.text("voided_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("monitoring_import") as batch:
        batch.add_column(sa.Column("source", sa.String(12), nullable=False,
                                   server_default="bureau"))
        batch.add_column(sa.Column("district", sa.String(12), nullable=True))
        batch.add_column(sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("voided_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("void_reason", sa.String(500), nullable=True))
        batch.drop_constraint("uq_monitoring_import_sha256", type_="unique")
    op.execute("UPDATE monitoring_import SET source = 'enterprise' WHERE enterprise IS NOT NULL")
    op.execute("UPDATE monitoring_import SET district = (SELECT e.district FROM enterprise e "
               "WHERE e.credit_code = monitoring_import.enterprise) "
               "WHERE enterprise IS NOT NULL")
    op.create_index("uq_monitoring_import_live_sha256", "monitoring_import",
                    ["sha256", "source"], unique=True, sqlite_where=LIVE_IMPORT,
                    postgresql_where=LIVE_IMPORT)

    op.execute("UPDATE monitoring_daily SET import_id = 0 WHERE import_id IS NULL")
    with op.batch_alter_table("monitoring_daily") as batch:
        batch.add_column(sa.Column("source", sa.String(12), nullable=False,
                                   server_default="bureau"))
        batch.add_column(sa.Column("authority", sa.Integer(), nullable=False,
                                   server_default="2"))
        batch.add_column(sa.Column("superseded_by", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("voided", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.alter_column("import_id", existing_type=sa.BigInteger(), nullable=False,
                           server_default="0")
        batch.drop_constraint("pk_monitoring_daily", type_="primary")
        batch.create_primary_key("pk_monitoring_daily",
                                 ["permit", "outlet", "pollutant", "day", "import_id"])
    op.execute("UPDATE monitoring_daily SET source = 'enterprise', authority = 1 "
               "WHERE import_id IN (SELECT id FROM monitoring_import "
               "WHERE source = 'enterprise')")
    op.create_index("ix_monitoring_daily_import_id", "monitoring_daily", ["import_id"])
    op.create_index("uq_monitoring_daily_live", "monitoring_daily",
                    ["permit", "outlet", "pollutant", "day", "authority"], unique=True,
                    sqlite_where=LIVE, postgresql_where=LIVE)
    op.create_index("uq_monitoring_daily_effective", "monitoring_daily",
                    ["permit", "outlet", "pollutant", "day"], unique=True,
                    sqlite_where=EFFECTIVE, postgresql_where=EFFECTIVE)


def downgrade() -> None:
    # superseded and voided rows cannot live under the old one-row-per-outlet-day key:
    # only the effective rows are kept
    op.drop_index("uq_monitoring_daily_effective", table_name="monitoring_daily")
    op.drop_index("uq_monitoring_daily_live", table_name="monitoring_daily")
    op.drop_index("ix_monitoring_daily_import_id", table_name="monitoring_daily")
    op.execute("DELETE FROM monitoring_daily WHERE voided OR superseded_by IS NOT NULL")
    with op.batch_alter_table("monitoring_daily") as batch:
        batch.drop_constraint("pk_monitoring_daily", type_="primary")
        batch.create_primary_key("pk_monitoring_daily",
                                 ["permit", "outlet", "pollutant", "day"])
        batch.alter_column("import_id", existing_type=sa.BigInteger(), nullable=True,
                           server_default=None)
        batch.drop_column("voided")
        batch.drop_column("superseded_by")
        batch.drop_column("authority")
        batch.drop_column("source")
    op.execute("UPDATE monitoring_daily SET import_id = NULL WHERE import_id = 0")
    op.drop_index("uq_monitoring_import_live_sha256", table_name="monitoring_import")
    op.execute("DELETE FROM monitoring_import WHERE voided_at IS NOT NULL")
    op.execute("DELETE FROM monitoring_import WHERE id NOT IN (SELECT min(id) FROM "
               "monitoring_import GROUP BY sha256)")
    with op.batch_alter_table("monitoring_import") as batch:
        batch.create_unique_constraint("uq_monitoring_import_sha256", ["sha256"])
        batch.drop_column("void_reason")
        batch.drop_column("voided_by")
        batch.drop_column("voided_at")
        batch.drop_column("district")
        batch.drop_column("source")
