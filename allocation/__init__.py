"""Allocation: permitted quantities, apportionment of indicators, and the reserve optimiser.

Pure modules (`parameters`, `sheet`, `quantities`, `apportionment`, `reserve`) use only the
standard library, `kernel` and numpy. PuLP is imported only by `reserve_lp`.
"""
