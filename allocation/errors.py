"""Errors of the allocation context. Each names the broken rule and carries a stable `code`.

All are rejections of the caller's input (`kernel.errors.InvalidInput`): the web layer maps
them to 4xx, the CLI to exit code 2. `field` is a JSON path into the submitted document, e.g.
``outlets[0].fuel`` or ``applicants[3].demand_kg.SO2``.
"""

from __future__ import annotations

from kernel.errors import InvalidInput


class SheetError(InvalidInput):
    """A calculation sheet cannot be computed: missing, malformed or out-of-range input."""

    code = "bad_sheet"


class UnknownParameterVersion(InvalidInput):
    """No parameter table has the requested version, or none is in force on the date."""

    code = "unknown_parameter_version"


class ApportionmentError(InvalidInput):
    """An apportionment request is malformed (negative weights, duplicate ids, ...)."""

    code = "bad_apportionment"


class ReserveInputError(InvalidInput):
    """A reserve-release problem is malformed."""

    code = "bad_reserve_problem"
