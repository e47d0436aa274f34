"""Second-officer approval of bureau actions that move rights or money.

Whether an action needs a second officer is configured per ledger transaction type
(`identity.service.approval_policy`, editable by an administrator; defaults from
`ledger.transactions.TYPES`). A route calls `run_or_request(...)`: without the requirement the
action runs at once; with it, an approval request is stored and another bureau officer runs
it with `approve(...)`. The action is carried out at most once (see identity.service).

To make a new action approvable, register its executor once:

    register("release_reserve", lambda platform, payload, actor: {...})

and call `run_or_request(platform, user, tx_type="reserve_release",
action="release_reserve", target=..., payload=..., summary=...)` from the route.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from allocation import service as alloc
from identity import service as identity
from identity.errors import ApprovalNotFound
from identity.roles import Principal
from kernel.errors import DomainError

Executor = Callable[[Any, dict[str, Any], str], dict[str, Any]]
EXECUTORS: dict[str, Executor] = {}


def register(action: str, executor: Executor) -> None:
    EXECUTORS[action] = executor


def _confirm(platform: Any, payload: dict[str, Any], actor: str) -> dict[str, Any]:
    r = alloc.confirm_rights(platform.uow(), permit=payload["permit"],
                             pollutant=payload["pollutant"], year=int(payload["year"]),
                             qty_kg=payload.get("qty_kg"), actor=actor)
    return dict(r.__dict__)


register("confirm_rights", _confirm)


def run_or_request(platform: Any, user: Principal, *, tx_type: str, action: str, target: str,
                   payload: dict[str, Any], summary: str) -> tuple[str, dict[str, Any]]:
    """("done", result) when no second officer is needed, else ("pending", approval)."""
    if identity.approval_required(platform.uow(), tx_type):
        return "pending", identity.request_approval(
            platform.uow(), tx_type=tx_type, action=action, target=target, payload=payload,
            summary=summary, requested_by=user.username)
    return "done", EXECUTORS[action](platform, payload, user.username)


def check_scope(platform: Any, user: Principal, approval_id: int) -> dict[str, Any]:
    """The request, if `user` may see and decide it: a district officer only requests about a
    permit of its district; any other (another district's, or one without a permit: reserve
    plans, standard flags, transfers between enterprises) answers 404 as if missing."""
    a = identity.approval(platform.uow(), approval_id)
    if not user.is_bureau or user.district is None:
        return a
    permit = (a.get("payload") or {}).get("permit")
    if permit is None or identity.district_of_permit(platform.uow(), str(permit)) \
            != user.district:
        raise ApprovalNotFound(f"no approval request {approval_id}", field="approval_id")
    return a


def reject(platform: Any, user: Principal, approval_id: int, reason: str) -> dict[str, Any]:
    check_scope(platform, user, approval_id)
    return identity.reject_approval(platform.uow(), approval_id=approval_id,
                                    decider=user.username, reason=reason)


def approve(platform: Any, user: Principal, approval_id: int) -> dict[str, Any]:
    """A second officer approves and the action runs now. A rejection by the rules marks the
    request failed (with the code) instead of raising."""
    check_scope(platform, user, approval_id)
    a = identity.claim_approval(platform.uow(), approval_id=approval_id,
                                approver=user.username)
    actor = f"{a['requested_by']}+{user.username}"[:64]
    try:
        result = EXECUTORS[a["action"]](platform, a["payload"], actor)
    except DomainError as exc:
        return identity.finish_approval(platform.uow(), approval_id=approval_id, ok=False,
                                        result=f"{exc.code}: {exc.message}")
    except Exception:
        identity.finish_approval(platform.uow(), approval_id=approval_id, ok=False,
                                 result="internal_error: see the server log")
        raise
    return identity.finish_approval(platform.uow(), approval_id=approval_id, ok=True,
                                    result=json.dumps(result, sort_keys=True, default=str))
