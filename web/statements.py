"""CSV statements for enterprises, written by the one export writer (`kernel.csvout`): a text
cell that a spreadsheet would run as a formula is prefixed with an apostrophe, so text fields
stay inert in Excel as well as in HTML; numbers (ints) stay numbers. Yuan amounts are
display strings ("3,050.00", always positive on a trade)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi.responses import Response

from kernel import csvout
from kernel.quantities import yuan


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
                 ) -> Response:
    buf = io.StringIO()
    w = csvout.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    # BOM: Excel opens UTF-8 Chinese text correctly
    return Response("\ufeff" + buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def trades_csv(enterprise: str, trades: list[dict[str, Any]]) -> Response:
    return csv_response(
        f"trades-{enterprise}.csv",
        ["trade_id", "time", "market", "side", "qty_kg", "price_yuan_per_t", "value_yuan",
         "my_permit", "counterparty_permit"],
        ([t["id"], t["at"], t["market"], "buy" if t["buyer"] == enterprise else "sell",
          t["qty"], yuan(t["price"]), yuan(t["value_fen"]),
          t["buyer_permit"] if t["buyer"] == enterprise else t["seller_permit"],
          t["seller_permit"] if t["buyer"] == enterprise else t["buyer_permit"]]
         for t in trades))


def holdings_csv(enterprise: str, holdings: list[dict[str, Any]]) -> Response:
    return csv_response(
        f"holdings-{enterprise}.csv",
        ["holder", "kind", "asset", "balance", "on_hold", "available", "upper_limit", "unit"],
        ([h["holder"], h["kind"], h["asset"], h["balance"], h["on_hold"], h["available"],
          h["upper_limit"], "fen" if h["asset"] == "CNY" else "kg"] for h in holdings))
