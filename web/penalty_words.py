"""The English labels of the administrative penalty procedure's codes (statuses, events, steps,
methods of service). They are msgids of the gettext catalogue (marked with `N_` so that Babel's
extraction, and `python -m web.catalogue check`, see them); templates translate them with
`_()`: no code is shown to people."""

from __future__ import annotations

from web.i18n import N_

STATUS_LABELS: dict[str, str] = {
    "noticed": N_("Advance notice given"),
    "hearing_requested": N_("Hearing requested"),
    "heard": N_("Hearing held"),
    "decided": N_("Decided, not yet served"),
    "served": N_("Decision served"),
    "paid": N_("Fine paid"),
}
EVENT_LABELS: dict[str, str] = {
    "notice": N_("Advance notice"),
    "statement": N_("Statement and defence"),
    "hearing_request": N_("Hearing request"),
    "hearing_notice": N_("Hearing notified"),
    "hearing": N_("Hearing held"),
    "decision": N_("Decision made"),
    "service": N_("Decision served"),
    "payment": N_("Fine paid"),
}
STEP_LABELS: dict[str, str] = {
    "statement": N_("File a statement and defence"),
    "hearing_request": N_("Request a hearing"),
    "hearing_notice": N_("Fix and notify the hearing"),
    "hearing": N_("Record the hearing"),
    "decision": N_("Decide"),
    "service": N_("Serve the decision"),
    "payment": N_("Record the payment"),
}
METHOD_LABELS: dict[str, str] = {
    "direct": N_("Handed over directly"),
    "post": N_("By post"),
    "electronic": N_("Electronically (with consent)"),
    "left_at_premises": N_("Left at the premises"),
    "announcement": N_("By public announcement"),
}
