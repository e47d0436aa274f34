"""The allocation context's use cases, by the name callers use
(`from allocation import service as alloc`; `alloc.confirm_rights(...)`).

The use cases live by subject; this module only names them in one place (about ninety
callers in web/, app/, bench/ and tests/ reach them as `alloc.<name>`, and tests replace some
of them here with `monkeypatch.setattr(alloc, ...)`):

- `allocation.confirmation_service`: issue an indicator, confirm rights (one or a batch),
  verify a surplus, reverse a transfer (rights movements that keep each permit in step with
  the ledger, in the same transaction);
- `allocation.permits_service`: zones, districts, enterprises, permits, indicators, cash
  deposits, the registry's views, and `PermitRegistry` (what trading asks of permits);
- `allocation.computation_service`: whole-municipality computation and apportionment;
- `allocation.standards_service`: new standards, their flags and the recovery decisions;
- `allocation.scenario_service`: scenarios stored, run and compared;
- `allocation.reserve_service`: reserve requests, plans and their release.

Each use case runs in one unit of work: `with uow: ...; uow.commit()`.
"""

from __future__ import annotations

from allocation.computation_service import (
    apportion_indicator,
    computation_summary,
    computation_view,
    compute_permitted_quantities,
)
from allocation.confirmation_service import (
    ConfirmItem,
    RightsChange,
    confirm_rights,
    confirm_rights_batch,
    issue_indicator,
    permitted_after_confirmation,
    reverse_rights,
    verify_surplus,
)
from allocation.permits_service import (
    PermitRegistry,
    QuantityBasis,
    deposit_cash,
    enterprise_view,
    issue_permit,
    permit_view,
    register_area,
    register_enterprise,
    registry_summary,
    search_enterprises,
    set_indicator,
)
from allocation.reserve_service import (
    build_reserve_problem,
    plan_reserve_release,
    release_reserve_plan,
    request_reserve,
    reserve_plan_view,
)
from allocation.scenario_service import (
    compare_scenarios,
    create_scenario,
    delete_scenario,
    list_scenarios,
    load_baseline,
    run_scenario,
    scenario_run_view,
    scenario_view,
)
from allocation.standards_service import (
    FLAG_FIELDS,
    RECOVERY_DECISIONS,
    apply_standard,
    check_recovery_decision,
    decide_standard_flag,
    register_standard,
    standard_flags,
)

__all__ = [
    "ConfirmItem",
    "FLAG_FIELDS",
    "PermitRegistry",
    "QuantityBasis",
    "RECOVERY_DECISIONS",
    "RightsChange",
    "apply_standard",
    "apportion_indicator",
    "build_reserve_problem",
    "check_recovery_decision",
    "compare_scenarios",
    "computation_summary",
    "computation_view",
    "compute_permitted_quantities",
    "confirm_rights",
    "confirm_rights_batch",
    "create_scenario",
    "decide_standard_flag",
    "delete_scenario",
    "deposit_cash",
    "enterprise_view",
    "issue_indicator",
    "issue_permit",
    "list_scenarios",
    "load_baseline",
    "permit_view",
    "permitted_after_confirmation",
    "plan_reserve_release",
    "register_area",
    "register_enterprise",
    "register_standard",
    "registry_summary",
    "release_reserve_plan",
    "request_reserve",
    "reserve_plan_view",
    "reverse_rights",
    "run_scenario",
    "scenario_run_view",
    "scenario_view",
    "search_enterprises",
    "set_indicator",
    "standard_flags",
    "verify_surplus",
]
