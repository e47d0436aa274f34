"""Environmental statistics export (pure): "one enterprise, one scope, one data set" — the
CSV carries the execution-report figures as stored, in kg, with no re-keying. Written by the
one export writer (`kernel.csvout`): a text cell a spreadsheet would run is made inert."""

from __future__ import annotations

from collections.abc import Iterable

from kernel import csvout

HEADER = ("enterprise", "permit", "year", "period", "outlet", "pollutant", "actual_kg")


def statistics_csv(rows: Iterable[tuple[str, str, int, str, str, str, int]]) -> str:
    return csvout.to_text(HEADER, sorted(rows))
