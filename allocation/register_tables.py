"""Tables of the permit register (issue 17)."""

from __future__ import annotations

from storage.metadata import Base  # noqa: F401
