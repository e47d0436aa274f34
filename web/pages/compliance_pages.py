"""Pages of compliance_pages (filled by the compliance_pages work)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from web.auth import csrf_protect

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
