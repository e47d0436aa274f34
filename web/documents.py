"""Printable documents in Chinese as PDF (A4, reportlab): the transaction confirmation
(成交确认书) of a trade of any venue, the administrative penalty decision (行政处罚决定书) and
the paid-use bill (排污权有偿使用费缴款通知).

Each builder takes the dicts the read functions return (`trading.confirmation`,
`compliance.enforcement.disclosure_service.penalty_decision`,
`allocation.paid_use_service.get_bill`) and returns the PDF's bytes; nothing here reads the database
or checks access (the routes in `web.pages.documents` do, with the record's own rules). What a
person reads is in tonnes (3 decimals), yuan (2 decimals) and Beijing time; codes appear only as
identifiers (permit, trade id, ledger entry). The text is set in Adobe's CID font STSong-Light,
which every PDF reader supplies, so no font file ships or is embedded.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from kernel.beijing import beijing_date, beijing_time
from kernel.pollutants import Pollutant
from kernel.quantities import kg_to_tonnes, yuan

FONT = "STSong-Light"
ISSUER = "生态环境局"
VENUE_TITLE = {"book": "成交确认书", "listing": "挂牌转让成交确认书",
               "negotiated": "协议转让成交确认书", "auction": "竞价（拍卖）成交确认书"}
VENUE_ZH = {"book": "集中竞价（连续交易）", "listing": "挂牌转让", "negotiated": "协议转让",
            "auction": "竞价拍卖（储备排污权出让）"}
DECISION_STATUS_ZH = {"published": "已公开", "corrected": "已更正", "withdrawn": "已撤回"}
EVENT_ZH = {"decided": "作出决定并公开", "corrected": "更正", "withdrawn": "撤回"}
BILL_STATUS_ZH = {"unpaid": "未缴", "paid": "已缴", "cancelled": "已作废"}
SOURCE_ZH = {"confirmation": "确权（定额出让）", "reserve_release": "储备排污权出让"}
#: a penalty decision's payment terms: the period (Administrative Penalty Law Art. 67(3)) and
#: the late-payment surcharge (Art. 72(1)(1)), the rule compliance.enforcement.penalty_procedure
#: applies
PAYMENT_PERIOD = ("当事人应当自收到本决定书之日起十五日内缴纳罚款（《中华人民共和国行政处罚法》"
                  "第六十七条第三款）。")
LATE_SURCHARGE = ("到期不缴纳罚款的，每日按罚款数额的百分之三加处罚款，加处罚款的数额不得超出"
                  "罚款的数额（《中华人民共和国行政处罚法》第七十二条第一款第一项）。")


@lru_cache(maxsize=1)
def _font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def tonnes(kg: int | None) -> str:
    return "—" if kg is None else f"{kg_to_tonnes(int(kg)):,} 吨"


def money(fen: int | None) -> str:
    return "—" if fen is None else f"{yuan(int(fen))} 元"


def unit_price(fen_per_t: int | None) -> str:
    return "—" if fen_per_t is None else f"{yuan(int(fen_per_t))} 元/吨"


def pollutant_zh(code: str | None) -> str:
    if not code:
        return "—"
    try:
        return f"{Pollutant(code).label_zh}（{code}）"
    except ValueError:
        return code


def _styles() -> dict[str, ParagraphStyle]:
    f = _font()
    return {
        "title": ParagraphStyle("title", fontName=f, fontSize=18, leading=26, alignment=1,
                                spaceAfter=4 * mm),
        "sub": ParagraphStyle("sub", fontName=f, fontSize=10, leading=14, alignment=1,
                              textColor=colors.HexColor("#444444"), spaceAfter=5 * mm),
        "cell": ParagraphStyle("cell", fontName=f, fontSize=10.5, leading=15),
        "body": ParagraphStyle("body", fontName=f, fontSize=11, leading=18, wordWrap="CJK",
                               firstLineIndent=22, spaceBefore=2 * mm),
        "small": ParagraphStyle("small", fontName=f, fontSize=8.5, leading=12,
                                textColor=colors.HexColor("#333333"), spaceBefore=3 * mm),
        "sign": ParagraphStyle("sign", fontName=f, fontSize=11, leading=18, alignment=2,
                               spaceBefore=10 * mm),
    }


def _p(text: object, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape("" if text is None else str(text)).replace("\n", "<br/>"), style)


def _table(rows: Sequence[tuple[str, object]], st: dict[str, ParagraphStyle]) -> Table:
    data = [[_p(k, st["cell"]), _p(v, st["cell"])] for k, v in rows]
    t = Table(data, colWidths=[42 * mm, 128 * mm])
    t.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]))
    return t


def _pdf(title: str, subtitle: str, rows: Sequence[tuple[str, object]],
         paragraphs: Sequence[str] = (), footer: Sequence[str] = (), sign: str = ""
         ) -> bytes:
    st = _styles()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm,
                            topMargin=20 * mm, bottomMargin=18 * mm, title=title,
                            author=ISSUER, subject=subtitle, creator="ERTS")
    story: list[Any] = [_p(title, st["title"]), _p(subtitle, st["sub"]), _table(rows, st)]
    story += [_p(text, st["body"]) for text in paragraphs]
    if sign:
        story.append(_p(sign, st["sign"]))
    story.append(Spacer(1, 4 * mm))
    story += [_p(text, st["small"]) for text in footer]
    doc.build(story)
    return buf.getvalue()


def _party(name: str | None, code: str, permit: str) -> str:
    if permit == "RESERVE":
        return f"{ISSUER}（排污权储备）"
    return f"{name or code}\n统一社会信用代码 {code}\n排污许可证编号 {permit}"


def trade_confirmation_pdf(t: dict[str, Any], names: dict[str, str]) -> bytes:
    """`t` as `trading.confirmation.trade_confirmation` returns it; `names` maps credit
    codes to enterprise names."""
    venue = str(t.get("venue") or "book")
    entry = t.get("entry")
    verify = (f"账本分录 {entry['id']}（序号 {entry['seq']}，哈希 {entry['hash']}）"
              if entry else "账本分录：未能唯一对应（请以交易编号向生态环境局核验）")
    rows = [
        ("交易编号", t["id"]),
        ("交易方式", VENUE_ZH.get(venue, venue)),
        ("成交时间", f"{beijing_time(t['at'])}（北京时间）"),
        ("买方", _party(names.get(t["buyer"]), t["buyer"], t["buyer_permit"])),
        ("卖方", _party(names.get(t["seller"]), t["seller"], t["seller_permit"])),
        ("污染物", pollutant_zh(t.get("pollutant"))),
        ("交易区域", t.get("zone") or "—"),
        ("排污权年度", t.get("vintage") or "—"),
        ("成交数量", tonnes(t["qty"])),
        ("成交价格", unit_price(t["price"])),
        ("成交金额", money(t["value_fen"])),
        ("交易手续费", f"买方 {money(t['fee_buyer'])}；卖方 {money(t['fee_seller'])}"),
        ("买方应付合计", money(int(t["value_fen"]) + int(t["fee_buyer"]))),
        ("卖方实收合计", money(int(t["value_fen"]) - int(t["fee_seller"]))),
    ]
    return _pdf(VENUE_TITLE.get(venue, "成交确认书"), f"{ISSUER} 排污权交易平台", rows,
                paragraphs=["上述排污权交易已在平台完成交割：排污权已记入买方排污许可证，"
                            "价款已自买方资金账户划转至卖方，交易结果同时载入双方排污许可证。"],
                footer=[f"核验：{verify}", f"市场 {t['market']}；本确认书由系统生成。"],
                sign=f"{ISSUER} 排污权交易平台\n{beijing_date(t['at'])}")


def penalty_decision_pdf(d: dict[str, Any]) -> bytes:
    """`d` as `compliance.enforcement.disclosure_service.penalty_decision` returns it (the
    procedure's events, when the decision has any, are listed by date)."""
    status = str(d.get("status") or "")
    rows: list[tuple[str, object]] = [
        ("决定书文号", d["number"]),
        ("当事人", d.get("enterprise_name") or d["enterprise"]),
        ("统一社会信用代码", d["enterprise"]),
        ("排污许可证编号", d.get("permit") or "—"),
        ("年度", d.get("year") or "—"),
        ("污染物", pollutant_zh(d.get("pollutant"))),
        ("法律依据", d.get("legal_basis") or "—"),
        ("罚款金额", money(d.get("amount_fen"))),
        ("决定日期", beijing_date(d.get("decided_on"))),
        ("状态", DECISION_STATUS_ZH.get(status, status or "—")),
    ]
    if d.get("withdrawn_reason"):
        rows.append(("撤回理由", d["withdrawn_reason"]))
    paragraphs = []
    if d.get("summary"):
        paragraphs.append(f"违法事实与处罚内容：{d['summary']}")
    if d.get("amount_fen") is not None:
        paragraphs.append(f"依据上述法律规定，本机关决定对当事人处以罚款 {money(d['amount_fen'])}。"
                          f"{PAYMENT_PERIOD}{LATE_SURCHARGE}当事人如不服本决定，"
                          "可在收到本决定书之日起六十日内申请行政复议，或者在六个月内依法"
                          "提起行政诉讼。")
    events = [f"{beijing_time(e.get('at'))} {EVENT_ZH.get(str(e.get('kind')), e.get('kind'))}"
              + (f"：{e['reason']}" if e.get("reason") else "")
              for e in d.get("history") or []]
    footer = ["程序记录（北京时间）：" + "；".join(events)] if events else []
    return _pdf("行政处罚决定书", f"{ISSUER}  {d['number']}", rows, paragraphs=paragraphs,
                footer=footer, sign=f"{ISSUER}\n{beijing_date(d.get('decided_on'))}")


def paid_use_bill_pdf(b: dict[str, Any], enterprise_name: str | None) -> bytes:
    """`b` as `allocation.paid_use_service.get_bill` returns it."""
    status = str(b.get("status") or "")
    rows: list[tuple[str, object]] = [
        ("通知编号", b["id"]),
        ("缴款单位", enterprise_name or b["enterprise"]),
        ("统一社会信用代码", b["enterprise"]),
        ("排污许可证编号", b["permit"]),
        ("污染物", pollutant_zh(b.get("pollutant"))),
        ("年度", b.get("year")),
        ("事由", SOURCE_ZH.get(str(b.get("source")), str(b.get("source") or "—"))),
        ("数量", tonnes(b.get("qty_kg"))),
        ("单价", unit_price(b.get("price"))),
        ("应缴金额", money(b.get("amount_fen"))),
        ("开具时间", f"{beijing_time(b.get('issued_at'))}（北京时间）"),
        ("缴款期限", beijing_date(b.get("due_on"))),
        ("状态", BILL_STATUS_ZH.get(status, status or "—") + ("（已逾期）" if b.get("overdue")
                                                            else "")),
    ]
    if b.get("paid_at"):
        rows.append(("缴款时间", f"{beijing_time(b['paid_at'])}（北京时间）"))
    footer = [f"价格版本 {b.get('price_version') or '—'}；参考 {b.get('reference') or '—'}"]
    if b.get("transfer_id"):
        footer.append(f"核验：账本分录 {b['transfer_id']}")
    return _pdf("排污权有偿使用费缴款通知", f"{ISSUER}", rows,
                paragraphs=["请贵单位在缴款期限前通过平台资金账户缴纳上述排污权有偿使用费。"
                            "未缴清前，相应年度的排污权不得转为可交易。"],
                footer=footer, sign=f"{ISSUER}\n{beijing_date(b.get('issued_at'))}")
