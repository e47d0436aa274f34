"""Composition root: settings, CLI, demo data; wires storage into the contexts."""
