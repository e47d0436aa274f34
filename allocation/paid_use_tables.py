"""Tables of the permit paid use (issue 17)."""

from __future__ import annotations

from storage.metadata import Base  # noqa: F401
