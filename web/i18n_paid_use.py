"""Chinese texts of the pages for the permit paid use (merged into `web.i18n.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {
    "Paid-use bills": "有偿使用费账单",
    "Paid use of rights": "排污权有偿使用",
    "Rights confirmed to an existing unit are charged the paid-use fee at the base price; "
    "they become tradable only once the bill is paid.":
        "现有排污单位确权的排污权按基准价缴纳有偿使用费；缴清后方可转为可交易排污权。",
    "Amount yuan": "金额（元）",
    "Base prices": "基准价",
    "Charged for": "收费事由",
    "Due date": "缴费期限",
    "Issued (Beijing time)": "开具时间（北京时间）",
    "No bills": "暂无账单",
    "Overdue only": "仅显示逾期",
    "Pay": "缴费",
    "Quantity t": "数量（吨）",
    "Unpaid": "未缴",
    "bills": "张账单",
    "not published": "未公布",
    "unpaid": "未缴",
    "paid": "已缴",
    "bill cancelled": "已作废",
}
