"""Excel exports of the officer lists: one declaration per list, one writer.

A list page declares its export as an `Export`: the page's path and, per table on the page,
a `Sheet` that says where the rows are in the page's template context and which `Column`s
to write. `install(app)` adds `<path>.xlsx` beside each declared page: the export route calls
the page's own handler (same query parameters, validation, log-in, role, department and
district scope, since it is the same function behind the same dependencies) and writes the
rows the page would show, across all of the page's pages (at most `MAX_PAGES` per sheet).

What a person reads: headers in the user's language (Chinese by default), quantities in
tonnes (numbers, 3 decimals), money in yuan (numbers, 2 decimals), times in Beijing time
(`2026-12-06 09:00`), codes of enums by their label. Every text cell is written as text,
never as a formula; one a spreadsheet would run or reinterpret (beginning with
`kernel.csvout.FORMULA_PREFIXES`: = + - @, a tab or a carriage return; an enterprise name is
typed by a person) also carries Excel's quote prefix, the flag of text typed after an
apostrophe: the text is kept exactly, and editing the cell does not turn it into a formula
either.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.responses import Response
from fastapi.routing import APIRoute
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from kernel.beijing import beijing_date, beijing_time, beijing_today
from kernel.csvout import FORMULA_PREFIXES
from kernel.pollutants import Pollutant
from web import labels
from web.i18n import translator

MAX_PAGES = 200
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_YUAN = Decimal("0.01")
_T = Decimal("0.001")

Row = Mapping[str, Any]
Getter = Callable[[Row], Any]


@dataclass(frozen=True)
class Column:
    """`header` is English (translated for the reader); `value` a key of the row or a
    function of it; `kind` how the value is written:

    text, label (an enum code shown by its label in the catalogue), label:<table> (by
    its label in `web.labels.LABELS[table]`, else the catalogue), int, t (kg → tonnes),
    yuan (fen → yuan),
    price (fen per tonne → yuan per tonne), time (Beijing time), date (Beijing date),
    pollutant (its Chinese name in Chinese), bool (yes / no), pair (the value is a pair of
    texts, Chinese and English)."""

    header: str
    value: str | Getter
    kind: str = "text"

    def get(self, row: Row) -> Any:
        return self.value(row) if callable(self.value) else row.get(self.value)


@dataclass(frozen=True)
class Sheet:
    title: str
    rows: Callable[[Mapping[str, Any]], Iterable[Row]]
    columns: Sequence[Column]
    #: the page handler's query parameter of this table's page, and the context key of its
    #: page count; None: the page shows the whole table at once
    pager: str | None = None
    pages: str = "pages"


@dataclass(frozen=True)
class Export:
    path: str
    filename: str
    sheets: Sequence[Sheet] = field(default_factory=tuple)


def items(key: str) -> Callable[[Mapping[str, Any]], list[Row]]:
    """The rows of a list the page has as `ctx[key]` or `ctx[key]["items"]`."""

    def rows(ctx: Mapping[str, Any]) -> list[Row]:
        v = ctx.get(key)
        if isinstance(v, Mapping):
            v = v.get("items")
        return list(v or [])

    return rows


def _pollutant(code: object, lang: str) -> str:
    if lang != "zh" or not isinstance(code, str):
        return "" if code is None else str(code)
    try:
        return Pollutant(code).label_zh
    except ValueError:
        return code


def cell_value(kind: str, v: Any, lang: str) -> Any:
    """The value as a person reads it (see `Column`)."""
    if v is None or v == "":
        return None
    if kind == "t":
        return (Decimal(int(v)) / 1000).quantize(_T)
    if kind in ("yuan", "price"):
        return (Decimal(int(v)) / 100).quantize(_YUAN)
    if kind == "int":
        return int(v)
    if kind == "time":
        return beijing_time(v)
    if kind == "date":
        return beijing_date(v)
    if kind.startswith("label"):
        text = str(v)
        if kind.startswith("label:"):  # a table of web.labels, then the catalogue
            shown = labels.label(kind[6:], text, lang)
            if shown != text:
                return shown
        return translator(lang)(text)
    if kind == "pair":
        zh, en = v
        return (zh if lang == "zh" else en) or zh or en
    if kind == "pollutant":
        return _pollutant(v, lang)
    if kind == "bool":
        return translator(lang)("yes" if v else "no")
    if isinstance(v, list | tuple):
        return ", ".join(str(x) for x in v)
    return str(v)


_FORMATS = {"t": "#,##0.000", "yuan": "#,##0.00", "price": "#,##0.00", "int": "0"}
_WIDTHS = {"t": 14, "yuan": 16, "price": 14, "int": 10, "time": 18, "date": 12}


def _sheet(wb: Workbook, sheet: Sheet, rows: Iterable[Row], lang: str) -> None:
    _ = translator(lang)
    ws: WriteOnlyWorksheet = wb.create_sheet(_(sheet.title)[:31])
    ws.freeze_panes = "A2"
    for i, c in enumerate(sheet.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = _WIDTHS.get(
            c.kind, max(12, min(40, len(_(c.header)) * 2)))
    bold = Font(bold=True)
    head = []
    for c in sheet.columns:
        cell = WriteOnlyCell(ws, value=_(c.header))
        cell.font = bold
        head.append(cell)
    ws.append(head)
    for row in rows:
        out = []
        for c in sheet.columns:
            v = cell_value(c.kind, c.get(row), lang)
            cell = WriteOnlyCell(ws, value=v)
            if isinstance(v, str):
                cell.data_type = "s"  # text, never a formula
                if v.startswith(FORMULA_PREFIXES):
                    cell.quotePrefix = True  # and stays text when edited
            elif c.kind in _FORMATS:
                cell.number_format = _FORMATS[c.kind]
            out.append(cell)
        ws.append(out)


def workbook(sheets: Sequence[tuple[Sheet, Iterable[Row]]], lang: str) -> bytes:
    wb = Workbook(write_only=True)
    for sheet, rows in sheets:
        _sheet(wb, sheet, rows, lang)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_response(data: bytes, filename: str) -> Response:
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "no-store"})


def _lang(request: Any) -> str:
    from web.pages.render import lang_of

    return lang_of(request)


def _export_endpoint(endpoint: Callable[..., Any], export: Export) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    def xlsx(*args: Any, **kwargs: Any) -> Any:
        first = endpoint(*args, **kwargs)
        ctx = getattr(first, "context", None)
        if ctx is None or getattr(first, "status_code", 200) != 200:
            return first  # an error page or a redirect: as the page answers
        request = kwargs.get("request", ctx.get("request"))
        lang = _lang(request)
        out = []
        for sheet in export.sheets:
            if sheet.pager is None or sheet.pager not in kwargs:
                out.append((sheet, sheet.rows(ctx)))
                continue
            rows: list[Row] = []
            pages = min(int(ctx.get(sheet.pages) or 1), MAX_PAGES)
            for n in range(1, pages + 1):
                resp = first if kwargs[sheet.pager] == n else endpoint(
                    *args, **{**kwargs, sheet.pager: n})
                rows += sheet.rows(resp.context)
            out.append((sheet, rows))
        name = f"{export.filename}-{beijing_today().isoformat()}.xlsx"
        return xlsx_response(workbook(out, lang), name)

    return xlsx


def _get_routes(routes: Iterable[Any], prefix: str = "", deps: Sequence[Any] = ()
                ) -> Iterator[tuple[str, APIRoute, list[Any]]]:
    """(full path, route, every dependency) of each GET route, in included routers too."""
    for r in routes:
        if isinstance(r, APIRoute):
            if "GET" in (r.methods or ()):
                yield prefix + r.path, r, [*deps, *r.dependencies]
            continue
        inner = getattr(r, "original_router", None)  # a router included in the app
        ctx = getattr(r, "include_context", None)
        if inner is not None:
            yield from _get_routes(inner.routes, prefix + (getattr(ctx, "prefix", "") or ""),
                                   [*deps, *(getattr(ctx, "dependencies", None) or [])])


def install(app: FastAPI, exports: Sequence[Export]) -> list[str]:
    """Add `<path>.xlsx` for each export whose page the app serves (GET); the paths added.
    A page the app does not serve is skipped, not fatal (tests/web/test_documents.py
    checks that every declared export is served)."""
    routes = {path: (r, deps) for path, r, deps in _get_routes(app.router.routes)}
    added = []
    for export in exports:
        if export.path not in routes:
            continue
        page, deps = routes[export.path]
        added.append(export.path + ".xlsx")
        app.state.export_paths = frozenset([*getattr(app.state, "export_paths", ()),
                                            export.path])
        app.router.add_api_route(export.path + ".xlsx", _export_endpoint(page.endpoint, export),
                                 methods=["GET"], dependencies=deps,
                                 response_class=Response, response_model=None,
                                 include_in_schema=False, name=f"{page.name}_xlsx")
    return added
