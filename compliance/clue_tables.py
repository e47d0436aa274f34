"""Placeholder: problem clues tables (filled by the alerts and clues work)."""

from __future__ import annotations
