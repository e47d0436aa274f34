"""Pages of disclosure (filled by the disclosure work)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from web.auth import csrf_protect

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
