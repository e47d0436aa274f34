"""Compliance true-up (pure): what is surrendered and what is short.

For each pollutant, rights equal to the actual emissions are surrendered up to what the
permit holds; the rest is a shortfall, a violation carrying the penalty range of Regulation
Art. 34 (`compliance.parameters.PENALTY_FEN`). surrendered + shortfall = actual, always.
"""

from __future__ import annotations

from dataclasses import dataclass

from compliance.parameters import PENALTY_FEN


@dataclass(frozen=True)
class Settlement:
    pollutant: str
    actual_kg: int
    held_kg: int
    surrendered_kg: int
    shortfall_kg: int

    @property
    def penalty_fen(self) -> tuple[int, int] | None:
        return PENALTY_FEN if self.shortfall_kg > 0 else None


def settle(pollutant: str, actual_kg: int, held_kg: int) -> Settlement:
    if actual_kg < 0 or held_kg < 0:
        raise ValueError("actual and held quantities are never negative")
    surrendered = min(actual_kg, held_kg)
    return Settlement(pollutant, actual_kg, held_kg, surrendered, actual_kg - surrendered)
