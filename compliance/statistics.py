"""Environmental statistics export (pure): "one enterprise, one scope, one data set" — the
CSV carries the execution-report figures as stored, in kg, with no re-keying."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

HEADER = ("enterprise", "permit", "year", "period", "outlet", "pollutant", "actual_kg")


def statistics_csv(rows: Iterable[tuple[str, str, int, str, str, str, int]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    for r in sorted(rows):
        w.writerow(r)
    return buf.getvalue()
