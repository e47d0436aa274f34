"""CSV statements for enterprises, written by the one export writer (`kernel.csvout`): a text
cell that a spreadsheet would run as a formula is prefixed with an apostrophe, so text fields
stay inert in Excel as well as in HTML; numbers (ints) stay numbers.

What a person reads (issue 18): headers in the reader's language (Chinese by default,
English with `lang="en"`), times in Beijing time (`2026-12-06 09:00`), money in yuan
(on a trade display strings such as "3,050.00", always positive; in holdings numbers
with 2 decimals), quantities in kg with the
unit in the header, and for holdings a unit column (元 for cash, kg for rights). Codes
(trade ids, markets, permits, assets) stay as they are: they identify things."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from fastapi.responses import Response

from kernel import csvout
from kernel.beijing import beijing_time
from kernel.quantities import yuan
from web.i18n import translator
from web.labels import label

CENT = Decimal("0.01")


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
                 ) -> Response:
    buf = io.StringIO()
    w = csvout.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    # BOM: Excel opens UTF-8 Chinese text correctly
    return Response("\ufeff" + buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def trades_csv(enterprise: str, trades: list[dict[str, Any]], lang: str = "zh") -> Response:
    _ = translator(lang)

    def row(t: dict[str, Any]) -> list[Any]:
        buying = t["buyer"] == enterprise
        fee = t.get("fee_buyer" if buying else "fee_seller") or 0
        side = label("side", "buy" if buying else "sell", lang)
        return [t["id"], beijing_time(t["at"]), t["market"], side,
                t["qty"], yuan(t["price"]), yuan(t["value_fen"]), yuan(fee),
                t["buyer_permit"] if buying else t["seller_permit"],
                t["seller_permit"] if buying else t["buyer_permit"]]

    return csv_response(
        f"trades-{enterprise}.csv",
        [_(h) for h in ("Trade ID", "Time (Beijing time)", "Market", "Side", "Quantity kg",
                        "Price yuan/t", "Value yuan", "Fee yuan", "My permit",
                        "Counterparty permit")],
        (row(t) for t in trades))


def holdings_csv(enterprise: str, holdings: list[dict[str, Any]], lang: str = "zh"
                 ) -> Response:
    _ = translator(lang)

    def kind(k: object) -> str:
        return label("account", k, lang)

    def amount(h: dict[str, Any], key: str) -> Any:
        v = h[key]  # cash in yuan as a number (2 decimals), rights in kg
        return (Decimal(v) / 100).quantize(CENT) if h["asset"] == "CNY" and v is not None \
            else v

    return csv_response(
        f"holdings-{enterprise}.csv",
        [_(h) for h in ("Holder", "Account", "Asset", "Balance", "On hold", "Available",
                        "Upper limit", "Unit")],
        ([h["holder"], kind(h["kind"]), h["asset"], amount(h, "balance"),
          amount(h, "on_hold"), amount(h, "available"), amount(h, "upper_limit"),
          ("元" if lang == "zh" else "yuan") if h["asset"] == "CNY" else "kg"]
         for h in holdings))
