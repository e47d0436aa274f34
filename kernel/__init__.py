"""Shared kernel: identifiers, integer quantities, pollutants, periods and the base error.

Standard library only. Every other package may import it; it imports none of them.
"""
