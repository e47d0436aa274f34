"""Storage: engine, metadata naming convention, unit of work.

Used only by `*/store.py` modules and the composition root (`app/`).
"""
