"""JSON API of the environmental protection tax under /api/v1 (see compliance.reporting.tax).

- ``POST /compliance/tax-return``: compute one quarterly return from the JSON input of
  docs/tax.md (the same input and the same figures as ``erts tax compute``); nothing is
  stored. The bureau computes for any enterprise; a trader for its own enterprise only (the
  body's ``enterprise`` is filled in, another enterprise's answers 404).
- ``PUT /compliance/outlets/{permit}/{outlet}/source-kind``: the bureau records an outlet's
  source kind (combustion, process, municipal_sewage, municipal_waste), which the drafts
  from execution reports use.

Routes never commit; bad input answers 422 naming the field.
"""

from __future__ import annotations

import json
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Request

from compliance.reporting import tax_service
from identity.roles import Principal
from kernel.errors import NotFound
from web.api.common import READ, WRITE, Strict
from web.api.common import audit as _audit
from web.api.common import platform as _p
from web.api.models import JsonObject
from web.auth import csrf_protect, ensure_permit_access, require

router = APIRouter(dependencies=[Depends(csrf_protect)], tags=["compliance"])

_EXAMPLE = FilePath(__file__).resolve().parents[2] / "docs" / "examples" / "tax-return.json"


def _example() -> dict[str, Any]:
    try:
        return json.loads(_EXAMPLE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return {"year": 2026, "quarter": 1, "outlets": []}


@router.post("/compliance/tax-return", responses=READ)
def compute_tax_return(
        body: Annotated[JsonObject, Body(
            description="a quarterly return input (docs/tax.md): year, quarter, outlets with "
                        "medium, source_kind and per month the pollutants' kg and, where "
                        "known, concentration, limit and max_reading",
            examples=[_example()])],
        user: Principal = Depends(require("enterprise:read"))) -> dict[str, Any]:
    """Compute a quarterly environmental protection tax return: per outlet, month and
    pollutant the equivalents, rate, reduction and tax in fen; totals and the due date."""
    if not user.is_bureau:
        own = user.enterprise or ""
        given = body.get("enterprise")
        if given is not None and given != own:
            raise NotFound(f"no enterprise {given}", field="enterprise")
        body = {**body, "enterprise": own}
    return tax_service.compute_return(body)


class SourceKindIn(Strict):
    source_kind: Literal["combustion", "process", "municipal_sewage", "municipal_waste"]


@router.put("/compliance/outlets/{permit}/{outlet}/source-kind", responses=WRITE)
def set_source_kind(request: Request, permit: Annotated[str, Path(max_length=22)],
                    outlet: Annotated[str, Path(max_length=20)], body: SourceKindIn,
                    _user: Principal = Depends(require("rights:confirm"))) -> dict[str, str]:
    """Record an outlet's source kind: PM is smoke dust at combustion sources, general dust
    otherwise; municipal sewage and waste plants may be exempt (Art. 12)."""
    ensure_permit_access(_user, permit)
    _audit(request, "set_outlet_source_kind", f"{permit}/{outlet}", body.source_kind)
    return tax_service.set_outlet_source_kind(_p(request).uow(), permit=permit,
                                              outlet=outlet, source_kind=body.source_kind)
