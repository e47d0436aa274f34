"""Benchmark: reading uploaded .xlsx files (issue 19: "a 1.5 KB .xlsx costs 87 s of CPU").

Usage:
    .venv/bin/python bench/bench_xlsx.py [--rows 1000] [--repeat 5]

Figures, one JSON line each ({"bench", "case", "bytes", "seconds", "rows", "outcome"};
seconds is the best of `repeat` runs):
- `bomb`: a hand-written sheet whose `dimension` claims A1:XFD100001 (16,384 columns ×
  100,001 rows) holding three cells, read by `compliance.reporting.workbook.rows_of`;
- `bomb_far_cell`: the same with one more value at XFD100001 (refused: beyond the caps);
- `normal`: an openpyxl-written report workbook of `rows` lines (header + data);
- `normal_openpyxl_bounded`: the same read by openpyxl read_only with iter_rows bounded
  (max_row, max_col): the alternative the streaming reader was chosen against;
- `bomb_openpyxl_bounded`: the bomb through that alternative (its declared dimension is
  reset first, else openpyxl pads every row to 16,384 cells).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compliance.errors import BadWorkbook  # noqa: E402
from compliance.reporting.workbook import MAX_COLUMNS, MAX_ROWS, rows_of  # noqa: E402

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RNS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def bomb(far_cell: bool = False) -> bytes:
    """A tiny workbook whose sheet claims 16,384 × 100,001 cells."""
    cells = ('<row r="1"><c r="A1" t="inlineStr"><is><t>permit</t></is></c>'
             '<c r="B1" t="inlineStr"><is><t>year</t></is></c></row>'
             '<row r="2"><c r="A2"><v>1</v></c></row>')
    if far_cell:
        cells += '<row r="100001"><c r="XFD100001"><v>1</v></c></row>'
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}">'
             '<dimension ref="A1:XFD100001"/><sheetData>' + cells + '</sheetData></worksheet>')
    parts = {
        "[Content_Types].xml":
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            'org/package/2006/content-types"><Default Extension="rels" ContentType="applicati'
            'on/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" Conte'
            'ntType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="app'
            'lication/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Overr'
            'ide PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlfor'
            'mats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels":
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship'
            ' Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relations'
            'hips/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml":
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="{RNS}">'
            '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels":
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship'
            ' Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relations'
            'hips/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return buf.getvalue()


def normal(rows: int) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["permit", "year", "period", "outlet", "pollutant", "quantity", "unit",
               "facility_abnormal_hours", "monitoring_samples", "monitoring_exceedances"])
    for i in range(rows - 1):
        ws.append([f"91500000AAAA{i:04d}1Y001U", 2026, "Q1", f"DA{i % 900:03d}",
                   ("SO2", "NOx", "PM")[i % 3], 1000 + i, "kg", 0, 13, 0])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def openpyxl_bounded(data: bytes) -> list[list[object]]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        ws.reset_dimensions()  # type: ignore[union-attr]
        return [list(r) for r in ws.iter_rows(max_row=MAX_ROWS, max_col=MAX_COLUMNS,
                                             values_only=True)]
    finally:
        wb.close()


def timed(fn: Callable[[bytes], list[list[object]] | list[list[str]]], data: bytes,
          repeat: int) -> tuple[float, int, str]:
    best, n, outcome = float("inf"), 0, "read"
    for _ in range(repeat):
        t0 = time.perf_counter()
        try:
            n = len(fn(data))
            outcome = "read"
        except BadWorkbook as exc:
            n, outcome = 0, f"refused: {exc.message}"
        best = min(best, time.perf_counter() - t0)
    return best, n, outcome


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    cases: list[tuple[str, Callable[[bytes], list[list[object]] | list[list[str]]],
                      bytes]] = [
        ("bomb", rows_of, bomb()),
        ("bomb_far_cell", rows_of, bomb(far_cell=True)),
        ("normal", rows_of, normal(args.rows)),
        ("normal_openpyxl_bounded", openpyxl_bounded, normal(args.rows)),
        ("bomb_openpyxl_bounded", openpyxl_bounded, bomb()),
    ]
    for case, fn, data in cases:
        seconds, n, outcome = timed(fn, data, args.repeat)
        print(json.dumps({"bench": "xlsx_read", "case": case, "bytes": len(data),
                          "seconds": round(seconds, 5), "rows": n, "outcome": outcome}))


if __name__ == "__main__":
    main()
