"""The one CSV writer of every export (statements, the journal, statistics, lists, templates).

Guarantees:
- a *text* cell a spreadsheet would run as a formula or treat specially -- one that begins
  with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return -- is written with a leading
  apostrophe (``'=HYPERLINK(...)`` shows as text in Excel, LibreOffice and WPS);
- a text cell that already begins with an apostrophe gets one more, so the escape is
  reversible: `unescape` (drop one leading apostrophe, if any) gives back the exact value.
  An auditor recomputing a hash from an export applies `unescape` to every text cell;
- numbers are not text: an ``int`` (not ``bool``), a finite ``Decimal`` or ``float`` is
  written as its decimal digits, so a negative *integer* (a balance, an adjustment) stays
  ``-5``, a number the spreadsheet adds up, never a formula. A *string* ``"-5"`` is text
  and is escaped (``'-5``): whoever wants a number in the file passes a number;
- ``None`` is an empty cell, ``bool`` is ``true``/``false``; anything else is ``str(value)``
  and treated as text.

Pure (stdlib only), so every layer may import it.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

#: first characters that make a spreadsheet evaluate or reinterpret a text cell
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


def cell(value: Any) -> str:
    """The text written for one value (see the module's guarantees)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal) and value.is_finite():
        return format(value, "f")
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    s = str(value)
    if s.startswith(FORMULA_PREFIXES) or s.startswith(ESCAPE):
        return ESCAPE + s
    return s


def unescape(text: str) -> str:
    """The value a text cell of an export held (one leading apostrophe removed)."""
    return text[1:] if text.startswith(ESCAPE) else text


def _quoted(text: str) -> str:
    """RFC 4180 quoting: a field holding a comma, a quote, a CR or an LF is quoted (the csv
    module leaves a bare CR unquoted when lines end in LF: a spreadsheet would start a new
    row there)."""
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


class Writer:
    """Writes rows of `cell` texts, quoted as RFC 4180 says (what `csv.writer` writes)."""

    def __init__(self, out: Any, *, lineterminator: str = "\n") -> None:
        self._out, self._end = out, lineterminator

    def writerow(self, row: Iterable[Any]) -> None:
        cells = [_quoted(cell(v)) for v in row]
        if cells == [""]:  # one empty field is not an empty line
            cells = ['""']
        self._out.write(",".join(cells) + self._end)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for r in rows:
            self.writerow(r)


def writer(out: Any, *, lineterminator: str = "\n") -> Writer:
    return Writer(out, lineterminator=lineterminator)


def to_text(header: Sequence[Any] | None, rows: Iterable[Iterable[Any]], *,
            lineterminator: str = "\n") -> str:
    """A whole CSV document: the header (if any), then the rows."""
    buf = io.StringIO()
    w = Writer(buf, lineterminator=lineterminator)
    if header is not None:
        w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()
