"""All tables, imported so the metadata is complete (for Alembic autogenerate and checks)."""

from __future__ import annotations

import allocation.paid_use_tables  # noqa: F401
import allocation.register_tables  # noqa: F401
import allocation.tables  # noqa: F401
import compliance.alerting.alert_tables  # noqa: F401
import compliance.alerting.clue_tables  # noqa: F401
import compliance.enforcement.disclosure_tables  # noqa: F401
import compliance.enforcement.penalty_case_tables  # noqa: F401
import compliance.reporting.tables  # noqa: F401
import compliance.supervision.supervision_tables  # noqa: F401
import identity.flash_tables  # noqa: F401
import identity.tables  # noqa: F401
import ledger.tables  # noqa: F401
import notices.tables  # noqa: F401
import simulation.tables  # noqa: F401
import trading.tables  # noqa: F401
from storage.metadata import metadata

target_metadata = metadata
