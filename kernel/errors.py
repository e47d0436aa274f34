"""The one base error of the platform.

A `DomainError` is a rejection: the caller asked for something a rule forbids. It carries a
stable machine-readable `code`, a human message and optional field names. The web layer maps
codes to HTTP statuses in one table (`web/errors.py`); the CLI maps them to exit code 2.
An `IntegrityError` means one of our own invariants broke: it maps to 500 and is a bug.
"""

from __future__ import annotations


class DomainError(Exception):
    """A rejected request. Subclasses set `code` and, where it helps, `status`."""

    code: str = "rejected"
    #: a hint for the web layer; `web/errors.py` holds the table that decides.
    kind: str = "invalid"  # one of: invalid, not_found, conflict, forbidden, unauthorized

    def __init__(self, message: str, *, field: str | None = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"error": self.code, "detail": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


class NotFound(DomainError):
    code = "not_found"
    kind = "not_found"


class InvalidInput(DomainError):
    code = "invalid_input"
    kind = "invalid"


class Conflict(DomainError):
    code = "conflict"
    kind = "conflict"


class Forbidden(DomainError):
    code = "forbidden"
    kind = "forbidden"


class IntegrityFault(Exception):
    """An invariant of ours broke. Never raised for bad input."""
