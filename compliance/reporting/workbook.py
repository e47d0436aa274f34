"""Uploaded execution-report and permit files (pure): an Excel workbook (.xlsx) becomes the CSV
text the CSV importers take, and CSV bytes become text.

Guarantees: row n of the workbook's first sheet is line n of the CSV, so the importer's line
numbers point at the spreadsheet's rows; cell values are written as the importer reads them
(whole numbers without ".0", other numbers by their shortest exact decimal form, dates as
YYYY-MM-DD); a line break inside a cell becomes a space (it could only be an error, and it
would shift every later line number).

Reading cannot be amplified: the sheet is read by a streaming XML parser (expat), never
through the sheet's declared `dimension` (which a 1.5 KB file can set to 16,384 columns ×
1,048,576 rows), and only the cells the file really holds cost work. Hard limits, each
refused with `BadWorkbook` (422 `bad_workbook`, field `file`), never a crash:

- the package: at most `MAX_MEMBERS` zip members, none declared or found larger than
  `MAX_MEMBER_BYTES` once unpacked (counted while unpacking, not taken from the header),
  at most `MAX_UNPACKED_BYTES` declared in all; a DTD or an entity declaration in any part;
- the sheet: a value beyond row `MAX_ROWS` or column `MAX_COLUMNS`, more than `MAX_CELLS`
  cells written out (gaps included) or more than `MAX_ELEMENTS` XML elements read, more
  than `MAX_SHARED_STRINGS` shared strings;
- the time: a parse still running after `PARSE_SECONDS` seconds is abandoned.

The CSV written here is the importer's input, never an export: it keeps every cell as typed
(no formula escaping, which `kernel.csvout` does for files that leave the platform).
"""

from __future__ import annotations

import contextlib
import csv
import io
import posixpath
import re
import time
import zipfile
import zlib
from collections.abc import Callable
from datetime import date, datetime
from datetime import time as dtime
from decimal import Decimal
from typing import IO, Protocol
from xml.parsers import expat

from compliance.errors import BadWorkbook

MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_MEMBER_BYTES = 64 * 1024 * 1024
MAX_MEMBERS = 1000
MAX_ROWS = 100_000
MAX_COLUMNS = 256
MAX_CELLS = 1_000_000
MAX_ELEMENTS = 4_000_000
MAX_SHARED_STRINGS = 1_000_000
PARSE_SECONDS = 10.0
XLSX_MAGIC = b"PK\x03\x04"
_CHUNK = 64 * 1024
_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})\Z")
_ROWNUM = re.compile(r"[0-9]{1,7}\Z")
_INT = re.compile(r"-?[0-9]{1,400}\Z")
_FLOAT = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")


def is_xlsx(data: bytes, filename: str | None = None) -> bool:
    name = (filename or "").lower()
    return data.startswith(XLSX_MAGIC) or name.endswith((".xlsx", ".xlsm"))


def _bad(msg: str) -> BadWorkbook:
    return BadWorkbook(msg, field="file")


def _flat(text: str) -> str:
    return text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        d = Decimal(repr(value))
        if not d.is_finite():
            return str(value)
        if d == d.to_integral_value():
            return str(int(d))
        return format(d.normalize(), "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == dtime() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return _flat(str(value))


class _Budget:
    """Elements read and the time box, shared by every part of one workbook."""

    def __init__(self, seconds: float, max_elements: int) -> None:
        self.deadline = time.monotonic() + seconds
        self.elements = 0
        self.max_elements = max_elements

    def check(self) -> None:
        if self.elements > self.max_elements:
            raise _bad(f"the workbook holds more than {self.max_elements} XML elements")
        if time.monotonic() > self.deadline:
            raise _bad("the workbook takes too long to read")


def _local(name: str) -> str:
    """An element or attribute name without its prefix ("x:c" -> "c")."""
    return name.rpartition(":")[2]


def _no_dtd(*_args: object) -> None:
    raise _bad("the workbook declares a DTD or entities: refused")


class _Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


def _parse(stream: _Readable, budget: _Budget, start: Callable[[str, dict[str, str]], None],
           end: Callable[[str], None], text: Callable[[str], None] | None = None) -> None:
    """Stream one XML part through expat with the handlers (element names without their
    prefix: the parts of a package use one namespace each). The budget is checked every
    4,096 elements and every 64 KiB of input."""
    p = expat.ParserCreate()
    p.buffer_text = True
    p.StartDoctypeDeclHandler = _no_dtd
    p.EntityDeclHandler = _no_dtd
    p.ExternalEntityRefHandler = _no_dtd  # type: ignore[assignment]
    names: dict[str, str] = {}

    def on_start(name: str, attrs: dict[str, str]) -> None:
        budget.elements += 1
        if not budget.elements & 4095:
            budget.check()
        local = names.get(name)
        if local is None:
            local = names.setdefault(name, _local(name))
        start(local, attrs)

    def on_end(name: str) -> None:
        local = names.get(name)
        end(local if local is not None else _local(name))

    p.StartElementHandler = on_start
    p.EndElementHandler = on_end
    if text is not None:
        p.CharacterDataHandler = text
    try:
        while True:
            chunk = stream.read(_CHUNK)
            budget.check()
            if not chunk:
                p.Parse(b"", True)
                break
            p.Parse(chunk, False)
    except expat.ExpatError as exc:
        raise _bad(f"a part of the workbook is not well-formed XML: {exc}") from None


class _Capped:
    """A zip member's stream that refuses to unpack past `limit` bytes, whatever the
    member's header declares (zipfile also stops at the declared size and then fails the
    CRC: this is the second fence)."""

    def __init__(self, inner: IO[bytes], limit: int, name: str) -> None:
        self.inner, self.limit, self.left, self.name = inner, limit, limit, name

    def read(self, n: int = -1, /) -> bytes:
        want = _CHUNK if n < 0 else n
        data = self.inner.read(min(want, self.left + 1))
        self.left -= len(data)
        if self.left < 0:
            raise _bad(f"the workbook part {self.name} unpacks to more than "
                       f"{self.limit} bytes")
        return data


class _Package:
    def __init__(self, data: bytes, budget: _Budget, member_bytes: int) -> None:
        self.budget, self.member_bytes = budget, member_bytes
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError,
                EOFError, NotImplementedError) as exc:
            raise _bad(f"not a readable .xlsx file: {exc}") from None
        if len(infos) > MAX_MEMBERS:
            raise _bad(f"the workbook has more than {MAX_MEMBERS} parts")
        if any(i.file_size > member_bytes for i in infos):
            raise _bad(f"a part of the workbook unpacks to more than {member_bytes} bytes")
        if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
            raise _bad(f"the workbook unpacks to more than {MAX_UNPACKED_BYTES} bytes")
        self.names = {i.filename for i in infos}

    def has(self, name: str) -> bool:
        return name in self.names

    def parse(self, name: str, start: Callable[[str, dict[str, str]], None],
              end: Callable[[str], None], text: Callable[[str], None] | None = None) -> None:
        try:
            with self.zip.open(name) as raw:
                _parse(_Capped(raw, self.member_bytes, name), self.budget, start, end, text)
        except BadWorkbook:
            raise
        except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError,
                NotImplementedError, RuntimeError, KeyError) as exc:
            # a damaged member: bad CRC, truncated stream, unknown compression, encrypted
            raise _bad(f"the workbook part {name} cannot be unpacked: "
                       f"{type(exc).__name__}") from None


def _target(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _first_sheet(pkg: _Package) -> tuple[str, bool, dict[str, str]]:
    """The first sheet's part name, whether the workbook uses the 1904 date system and the
    parts of the shared strings and styles ("strings", "styles") where the package names
    them."""
    first: list[str] = []
    date1904 = [False]

    def wb_start(name: str, attrs: dict[str, str]) -> None:
        if name == "sheet" and not first:
            rid = next((v for k, v in attrs.items() if _local(k) == "id"), None)
            first.append(rid or "")
        elif name == "workbookPr":
            date1904[0] = attrs.get("date1904", "").lower() in ("1", "true")

    book = "xl/workbook.xml"
    if pkg.has("_rels/.rels"):
        found: list[str] = []

        def root_start(name: str, attrs: dict[str, str]) -> None:
            if name == "Relationship" and attrs.get("Type", "").endswith("/officeDocument"):
                found.append(_target("", attrs.get("Target", "")))

        pkg.parse("_rels/.rels", root_start, lambda _n: None)
        book = found[0] if found and pkg.has(found[0]) else book
    if not pkg.has(book):
        raise _bad(f"not a readable .xlsx file: no {book}")
    pkg.parse(book, wb_start, lambda _n: None)
    if not first:
        raise BadWorkbook("the workbook has no sheet", field="file")
    targets: dict[str, str] = {}
    parts = {"strings": "xl/sharedStrings.xml", "styles": "xl/styles.xml"}

    def rel_start(name: str, attrs: dict[str, str]) -> None:
        if name == "Relationship" and "Id" in attrs and "Target" in attrs:
            targets[attrs["Id"]] = attrs["Target"]
            kind = attrs.get("Type", "").rsplit("/", 1)[-1]
            if kind in ("sharedStrings", "styles"):
                parts["strings" if kind == "sharedStrings" else "styles"] = _target(
                    book, attrs["Target"])

    rels = posixpath.join(posixpath.dirname(book), "_rels",
                          posixpath.basename(book) + ".rels")
    if pkg.has(rels):
        pkg.parse(rels, rel_start, lambda _n: None)
    sheet = (_target(book, targets[first[0]]) if first[0] in targets
             else "xl/worksheets/sheet1.xml")
    if not pkg.has(sheet):
        raise _bad(f"not a readable .xlsx file: the first sheet {sheet} is missing")
    return sheet, date1904[0], parts


def _shared_strings(pkg: _Package, part: str) -> list[str]:
    out: list[str] = []
    if not pkg.has(part):
        return out
    parts: list[str] = []
    state = {"t": 0, "rph": 0, "si": 0}

    def start(name: str, _attrs: dict[str, str]) -> None:
        if name == "si":
            state["si"] += 1
            parts.clear()
        elif name == "t":
            state["t"] += 1
        elif name == "rPh":  # phonetic guide: not part of the value
            state["rph"] += 1

    def end(name: str) -> None:
        if name == "si":
            state["si"] -= 1
            if len(out) >= MAX_SHARED_STRINGS:
                raise _bad(f"the workbook has more than {MAX_SHARED_STRINGS} strings")
            out.append("".join(parts))
        elif name == "t":
            state["t"] -= 1
        elif name == "rPh":
            state["rph"] -= 1

    def text(data: str) -> None:
        if state["si"] and state["t"] and not state["rph"]:
            parts.append(data)

    pkg.parse(part, start, end, text)
    return out


def _date_styles(pkg: _Package, part: str) -> set[int]:
    """The indexes of cell formats (`s` of a cell) that show a number as a date."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    if not pkg.has(part):
        return set()
    custom: dict[int, str] = {}
    xfs: list[int] = []
    where = {"cellXfs": 0}

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == "numFmt":
            with contextlib.suppress(ValueError):
                custom[int(attrs.get("numFmtId", ""))] = attrs.get("formatCode", "")
        elif name == "cellXfs":
            where["cellXfs"] += 1
        elif name == "xf" and where["cellXfs"]:
            try:
                xfs.append(int(attrs.get("numFmtId", "0")))
            except ValueError:
                xfs.append(0)

    def end(name: str) -> None:
        if name == "cellXfs":
            where["cellXfs"] -= 1

    pkg.parse(part, start, end)
    out = set()
    for i, fmt_id in enumerate(xfs):
        code = custom.get(fmt_id, BUILTIN_FORMATS.get(fmt_id, ""))
        if code and is_date_format(code):
            out.add(i)
    return out


def _column(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


class _Sheet:
    """The streaming reader of one sheet part: values by (row, column), bounded."""

    def __init__(self, strings: list[str], dates: set[int], date1904: bool, *,
                 max_rows: int, max_columns: int, max_cells: int) -> None:
        self.strings, self.dates, self.date1904 = strings, dates, date1904
        self.max_rows, self.max_columns, self.max_cells = max_rows, max_columns, max_cells
        self.rows: dict[int, dict[int, str]] = {}
        self.row = 0
        self.col = 0
        self.cell: dict[str, str] | None = None
        self.text: list[str] = []
        self.in_value = 0
        self.in_inline = 0
        self.in_rph = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "row":
            r = attrs.get("r")
            if r is None:
                self.row += 1
            else:
                if not _ROWNUM.match(r) or not 0 < int(r) <= 1_048_576:
                    raise _bad(f"the first sheet has a bad row number {r[:20]!r}")
                self.row = int(r)
            self.col = 0
        elif name == "c":
            ref = attrs.get("r")
            if ref is None:
                self.col += 1
            else:
                m = _REF.match(ref)
                if m is None:
                    raise _bad(f"the first sheet has a bad cell reference {ref[:20]!r}")
                self.col, self.row = _column(m.group(1)), int(m.group(2))
            self.cell = attrs
            self.text = []
        elif name in ("v", "t") and self.cell is not None:
            if name == "v" or self.in_inline:
                self.in_value += 1
        elif name == "is":
            self.in_inline += 1
        elif name == "rPh":
            self.in_rph += 1

    def end(self, name: str) -> None:
        if name in ("v", "t") and self.in_value:
            self.in_value -= 1
        elif name == "is":
            self.in_inline -= 1
        elif name == "rPh":
            self.in_rph -= 1
        elif name == "c" and self.cell is not None:
            value = self._value(self.cell, "".join(self.text))
            self.cell = None
            if value != "":
                self._put(value)

    def on_text(self, data: str) -> None:
        if self.in_value and not self.in_rph:
            self.text.append(data)

    def _put(self, value: str) -> None:
        if not 0 < self.row <= self.max_rows:
            raise _bad(f"the first sheet has values beyond row {self.max_rows}")
        if not 0 < self.col <= self.max_columns:
            raise _bad(f"the first sheet has values beyond column {self.max_columns}")
        self.rows.setdefault(self.row, {})[self.col] = value

    def _value(self, attrs: dict[str, str], raw: str) -> str:
        kind = attrs.get("t", "n")
        if kind == "s":
            try:
                if not _ROWNUM.match(raw.strip()):
                    raise ValueError(raw)
                return _flat(self.strings[int(raw.strip())])
            except (ValueError, IndexError):
                raise _bad(f"the first sheet refers to a missing string {raw[:20]!r}") from None
        if kind in ("inlineStr", "str", "e"):
            return _flat(raw)
        if kind == "b":
            return {"1": "TRUE", "0": "FALSE"}.get(raw.strip(), _flat(raw))
        if kind == "d":
            try:
                return _cell(datetime.fromisoformat(raw.strip()))
            except ValueError:
                return _flat(raw)
        return self._number(attrs, raw.strip())

    def _number(self, attrs: dict[str, str], raw: str) -> str:
        if raw == "":
            return ""
        num: int | float
        if _INT.match(raw):
            num = int(raw)
        elif len(raw) <= 400 and _FLOAT.match(raw):
            num = float(raw)
        else:  # not a number as a workbook writes one: the text as it is
            return _flat(raw)
        style = attrs.get("s")
        if style is not None and _ROWNUM.match(style) and int(style) in self.dates:
            from openpyxl.utils.datetime import CALENDAR_MAC_1904, from_excel

            try:
                when = (from_excel(num, CALENDAR_MAC_1904) if self.date1904
                        else from_excel(num))
            except (ValueError, OverflowError, TypeError):
                return _cell(num)
            return _cell(when)
        return _cell(num)

    def table(self) -> list[list[str]]:
        out: list[list[str]] = []
        cells = 0
        last = max(self.rows, default=0)
        for r in range(1, last + 1):
            row = self.rows.get(r)
            if not row:
                out.append([])
                continue
            width = max(row)
            cells += width
            if cells > self.max_cells:
                raise _bad(f"the first sheet has more than {self.max_cells} cells")
            out.append([row.get(c, "") for c in range(1, width + 1)])
        return out


def rows_of(data: bytes, *, max_rows: int = MAX_ROWS, max_columns: int = MAX_COLUMNS,
            max_cells: int = MAX_CELLS, max_elements: int = MAX_ELEMENTS,
            member_bytes: int = MAX_MEMBER_BYTES, seconds: float = PARSE_SECONDS
            ) -> list[list[str]]:
    """The first sheet's rows as text cells (trailing empty cells dropped; rows without a
    value are empty lists, so row n stays at index n-1). Bounded as the module states."""
    if not data.startswith(XLSX_MAGIC):
        raise _bad("not an Excel workbook (.xlsx)")
    budget = _Budget(seconds, max_elements)
    pkg = _Package(data, budget, member_bytes)
    try:
        sheet, date1904, parts = _first_sheet(pkg)
        reader = _Sheet(_shared_strings(pkg, parts["strings"]),
                        _date_styles(pkg, parts["styles"]), date1904,
                        max_rows=max_rows, max_columns=max_columns, max_cells=max_cells)
        pkg.parse(sheet, reader.start, reader.end, reader.on_text)
        budget.check()
        return reader.table()
    finally:
        pkg.zip.close()


def xlsx_to_csv(data: bytes) -> str:
    """The workbook's first sheet as CSV text for `compliance.reporting.service.import_reports`."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for cells in rows_of(data):
        w.writerow(cells)
    return buf.getvalue()


def csv_text(data: bytes) -> str:
    """CSV bytes as text: UTF-8 (with or without BOM), else GB 18030 (what Chinese Excel
    writes as "CSV")."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise BadWorkbook("the CSV file is neither UTF-8 nor GB 18030 text",
                          field="file") from None


def upload_text(data: bytes, filename: str | None = None) -> str:
    """An uploaded report file (.xlsx or CSV) as the CSV text the importer takes."""
    if not data:
        raise BadWorkbook("the file is empty", field="file")
    return xlsx_to_csv(data) if is_xlsx(data, filename) else csv_text(data)
