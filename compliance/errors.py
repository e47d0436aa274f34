"""Errors of the compliance context. Each names the broken rule and carries a stable `code`."""

from __future__ import annotations

from kernel.errors import Conflict, InvalidInput, NotFound


class BadReport(InvalidInput):
    """An execution report (or one row of an import) is incomplete or out of range."""

    code = "bad_report"


class ImportRejected(InvalidInput):
    """A CSV import had invalid rows and the caller did not ask for a partial import.
    `details["errors"]` lists `{line, field, detail}` per broken row; nothing was stored."""

    code = "report_import_rejected"


class DuplicateReport(Conflict):
    code = "duplicate_report"


class OutletExists(Conflict):
    code = "outlet_exists"


class ReportNotFound(NotFound):
    code = "report_not_found"


class TrueUpAlreadyRun(Conflict):
    """A permit's compliance true-up for a year runs once; corrections are new transactions."""

    code = "true_up_already_run"


class RateOutOfBounds(InvalidInput):
    """A provincial tax rate outside the statutory band (air 1.2-12, water 1.4-14 yuan)."""

    code = "tax_rate_out_of_bounds"


class NotTaxable(InvalidInput):
    code = "pollutant_not_taxable"


# --- supervision (monitoring imports, screening): errors below this line

# --- alerts and problem clues: errors below this line

# --- true-up, deduction, vintages and recovery: errors below this line

# --- disclosure and penalty decisions: errors below this line
