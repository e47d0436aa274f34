"""Errors of the compliance context. Each names the broken rule and carries a stable `code`."""

from __future__ import annotations

from kernel.errors import Conflict, Forbidden, InvalidInput, NotFound


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


class TrueUpTooEarly(Conflict):
    """A true-up runs after the year and its annual report's deadline have passed, unless
    the bureau records an override reason."""

    code = "true_up_too_early"


class RateOutOfBounds(InvalidInput):
    """A provincial tax rate outside the statutory band (air 1.2-12, water 1.4-14 yuan)."""

    code = "tax_rate_out_of_bounds"


class NotTaxable(InvalidInput):
    code = "pollutant_not_taxable"


# --- supervision (monitoring imports, screening): errors below this line

class MonitoringImportRejected(InvalidInput):
    """A monitoring CSV had invalid rows (or a bad header) and the caller did not ask for a
    partial import. `details["errors"]` lists `{line, field, detail}` (the first 1,000),
    `details["error_count"]` counts them all; nothing was stored."""

    code = "monitoring_import_rejected"


class DuplicateMonitoringImport(Conflict):
    """The same file (by SHA-256) was imported before."""

    code = "duplicate_monitoring_import"


class BadMonitoringQuery(InvalidInput):
    """A monitoring or report-check request is out of range (period, tolerance, dates)."""

    code = "bad_monitoring_query"


class MonitoringImportTooLarge(InvalidInput):
    """A monitoring import has more bytes or rows than the importer's role may send in one
    request (`details`: `limit`, `rows` or `bytes`)."""

    code = "monitoring_import_too_large"


class MonitoringSourceNotAllowed(Forbidden):
    """The importer may not claim this source (a trader's import is always `enterprise`; the
    bureau's `bureau` or `automatic`)."""

    code = "monitoring_source_not_allowed"


class MonitoringImportNotFound(NotFound):
    code = "monitoring_import_not_found"


class MonitoringImportVoided(Conflict):
    """The import was voided already (voiding is recorded once, never undone)."""

    code = "monitoring_import_voided"


# --- alerts and problem clues: errors below this line

class ClueUnknownPermit(InvalidInput):
    """A finding names a permit the registry does not know."""

    code = "clue_unknown_permit"


class ClueNotFound(NotFound):
    """No such clue, or (for an enterprise) a clue of another enterprise."""

    code = "clue_not_found"


class ClueTransitionRefused(Conflict):
    """The clue's lifecycle does not allow this step from its current state
    (found → sent → rectified → verified → closed; verify may instead reject back to sent)."""

    code = "clue_transition_refused"


class ClueActionNotAllowed(Forbidden):
    """This role may not take this step (the bureau sends, verifies, rejects and closes; the
    enterprise rectifies)."""

    code = "clue_action_not_allowed"


class BadClue(InvalidInput):
    """A clue action's input is missing or out of range (due date, message, note, reason)."""

    code = "bad_clue"


class BadAlert(InvalidInput):
    """An alert declaration is incomplete or out of range (level, zones, days)."""

    code = "bad_alert"


class AlertNotFound(NotFound):
    code = "alert_not_found"


class AlertNotActive(Conflict):
    """The alert was already lifted or has ended: it cannot be lifted again."""

    code = "alert_not_active"


# --- true-up, deduction, vintages and recovery: errors below this line

# --- disclosure and penalty decisions: errors below this line

class BadPenaltyDecision(InvalidInput):
    """A penalty decision's number, date, legal basis, summary or reason is missing or out of
    range."""

    code = "bad_penalty_decision"


class PenaltyOutOfRange(InvalidInput):
    """The amount lies outside the violation's statutory range (Regulation Art. 34)."""

    code = "penalty_out_of_range"


class DuplicateDecisionNumber(Conflict):
    """Decision numbers are unique: another decision already carries this one."""

    code = "duplicate_decision_number"


class ViolationNotFound(NotFound):
    code = "violation_not_found"


class ViolationNotOpen(Conflict):
    """Only an open violation (no decision in force) can be decided."""

    code = "violation_not_open"


class DecisionNotFound(NotFound):
    code = "penalty_decision_not_found"


class DecisionWithdrawn(Conflict):
    """A withdrawn decision is final: it cannot be corrected or withdrawn again."""

    code = "penalty_decision_withdrawn"


class BadWorkbook(InvalidInput):
    """An uploaded Excel workbook (or CSV file) cannot be read."""

    code = "bad_workbook"


# --- violations by article (kinds, hand-over to enforcement): errors below this line

class UnknownViolationKind(InvalidInput):
    """The violation kind is not in the table of kinds (compliance/enforcement/violations.py)."""

    code = "unknown_violation_kind"


class BadViolation(InvalidInput):
    """A violation's permit, date, facts, instances, department or result is missing or out
    of range."""

    code = "bad_violation"


class ViolationStepRefused(Conflict):
    """The violation's status does not allow this step (only an open violation is
    transferred; only a transferred one gets a result, once; a transferred one is not
    decided by the bureau)."""

    code = "violation_step_refused"


class ClueAlreadyConfirmed(Conflict):
    """The clue was already confirmed as a violation."""

    code = "clue_already_confirmed"


# --- emergency measures (heavy-pollution alerts): errors below this line

class BadEmergencyMeasure(InvalidInput):
    """A permit's emergency measures are out of range: unknown grade or level, a cut outside
    0-100 %, a measure text too long, or a higher level cutting less than a lower one."""

    code = "bad_emergency_measure"


class EmergencyPermitNotFound(NotFound):
    """Emergency measures name a permit the registry does not know."""

    code = "emergency_permit_not_found"


# --- environmental protection tax (compliance/reporting/tax.py): errors below this line

class BadTaxInput(InvalidInput):
    """A tax return input is incomplete or out of range (year, quarter, kg, concentration,
    limit, duplicate outlet, month or pollutant, unknown field)."""

    code = "bad_tax_input"


class UnknownTaxPollutant(InvalidInput):
    """The pollutant is neither in the law's annex 2 nor a platform pollutant."""

    code = "unknown_tax_pollutant"


class UnknownSourceKind(InvalidInput):
    """The outlet's source kind is not combustion, process, municipal_sewage or
    municipal_waste."""

    code = "unknown_source_kind"


class MonthOutsideQuarter(InvalidInput):
    """A month of a quarterly return lies outside the quarter."""

    code = "month_outside_quarter"


class OutletNotFound(NotFound):
    """No such outlet on the permit."""

    code = "outlet_not_found"


# --- penalty procedure (issue 18, compliance/enforcement/penalty_procedure.py): errors below this
# line

class BadPenaltyCase(InvalidInput):
    """A step of a penalty case has a missing or out-of-range field."""

    code = "bad_penalty_case"


class PenaltyCaseNotFound(NotFound):
    code = "penalty_case_not_found"


class PenaltyStepRefused(Conflict):
    """The case's status does not allow this step (wrong order, or done already)."""

    code = "penalty_step_refused"


class PenaltyPeriodOver(Conflict):
    """The enterprise's period for a statement or a hearing request has ended."""

    code = "penalty_period_over"


class PenaltyPeriodOpen(Conflict):
    """The enterprise's periods are still running: no decision yet."""

    code = "penalty_period_open"


class HearingNoticeTooShort(InvalidInput):
    """A hearing fixed or held less than 7 working days after its notice to the enterprise
    (Administrative Penalty Law Art. 64(2), Art. 85)."""

    code = "penalty_hearing_notice_too_short"


class HeavierThanNotice(InvalidInput):
    """A decision heavier than the advance notice proposed (Administrative Penalty Law
    Art. 45 para. 2)."""

    code = "penalty_heavier_than_notice"


class PenaltyProcedureOpen(Conflict):
    """The violation has a penalty procedure under way: decide it through the procedure."""

    code = "penalty_procedure_open"
