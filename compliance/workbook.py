"""Uploaded execution-report files (pure): an Excel workbook (.xlsx) becomes the CSV text the
CSV importer takes, and CSV bytes become text.

Guarantees: row n of the workbook's first sheet is line n of the CSV, so the importer's line
numbers point at the spreadsheet's rows; cell values are written as the importer reads them
(whole numbers without ".0", other numbers by their shortest exact decimal form, dates as
YYYY-MM-DD); a line break inside a cell becomes a space (it could only be an error, and it
would shift every later line number). A file that is not a readable workbook, or that
unpacks beyond `MAX_UNPACKED_BYTES` or holds more than `MAX_ROWS` rows, is refused with
`BadWorkbook`, never a crash.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, time
from decimal import Decimal

from compliance.errors import BadWorkbook

MAX_UNPACKED_BYTES = 64 * 1024 * 1024
MAX_ROWS = 100_000
XLSX_MAGIC = b"PK\x03\x04"


def is_xlsx(data: bytes, filename: str | None = None) -> bool:
    name = (filename or "").lower()
    return data.startswith(XLSX_MAGIC) or name.endswith((".xlsx", ".xlsm"))


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
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


def rows_of(data: bytes) -> list[list[str]]:
    """The first sheet's rows as text cells (trailing empty cells dropped)."""
    from openpyxl import load_workbook

    if not data.startswith(XLSX_MAGIC):
        raise BadWorkbook("not an Excel workbook (.xlsx)", field="file")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unpacked = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise BadWorkbook(f"not a readable .xlsx file: {exc}", field="file") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise BadWorkbook(f"workbook unpacks to more than {MAX_UNPACKED_BYTES} bytes",
                          field="file")
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken package
        raise BadWorkbook(f"not a readable .xlsx file: {type(exc).__name__}",
                          field="file") from None
    try:
        if not wb.worksheets:
            raise BadWorkbook("the workbook has no sheet", field="file")
        out: list[list[str]] = []
        try:
            for n, row in enumerate(wb.worksheets[0].iter_rows(values_only=True), start=1):
                if n > MAX_ROWS:
                    raise BadWorkbook(f"more than {MAX_ROWS} rows", field="file")
                cells = [_cell(v) for v in row]
                while cells and cells[-1] == "":
                    cells.pop()
                out.append(cells)
        except BadWorkbook:
            raise
        except Exception as exc:  # a damaged sheet part
            raise BadWorkbook(f"the first sheet cannot be read: {type(exc).__name__}",
                              field="file") from None
        return out
    finally:
        wb.close()


def xlsx_to_csv(data: bytes) -> str:
    """The workbook's first sheet as CSV text for `compliance.service.import_reports`."""
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
