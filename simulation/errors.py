"""The simulation's refusals (the codes of `kernel.errors`: ``invalid_input`` naming the field,
``not_found``)."""

from __future__ import annotations

from kernel.errors import InvalidInput, NotFound


class SimulationError(InvalidInput):
    """Options of a simulation out of range (seeds, days, strategy, versions)."""


class SimulationRunNotFound(NotFound):
    """No simulation run with that id."""
