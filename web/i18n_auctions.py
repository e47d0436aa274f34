"""Chinese of the texts of order entry, market halts and auctions (issue 18)."""

from __future__ import annotations

ZH: dict[str, str] = {
    # market halts
    "Halting, resuming or closing a market needs a reason and your confirmation. The reason "
    "is shown on the market page and kept in the audit log.":
        "暂停、恢复或关闭市场须说明理由并确认。理由在市场页面公示，并记入审计日志。",
    "Last change": "最近一次变更",
    "I confirm halting this market: new orders are refused until it resumes.":
        "我确认暂停该市场交易：恢复前不再接受新委托。",
    "I confirm resuming trading in this market.": "我确认恢复该市场交易。",
    "I confirm closing this market.": "我确认关闭该市场。",
    "Close market": "关闭市场",
    "State the reason.": "请填写理由。",
    "Tick the box to confirm.": "请勾选确认。",
    "Market halted": "市场已暂停交易",
    "Market resumed": "市场已恢复交易",
    "Market closed": "市场已关闭",
    "Trading halted": "暂停交易",
    "Trading resumed": "已恢复交易",
    # order entry
    "What your permits can trade": "本企业许可证可交易的市场",
    "Sellable (t)": "可卖出量（吨）",
    "Today's price limits (yuan/t)": "当日涨跌停价格（元/吨）",
    "Minimum lot (kg)": "最小交易单位（千克）",
    "no limit set": "未设涨跌幅限制",
    "Trading fee": "交易手续费",
    "of the trade value, charged to each side": "（按成交金额，买卖双方各自承担）",
    "Time in force": "委托有效期",
    "Good till cancelled": "撤单前一直有效",
    "Fill what you can now, cancel the rest": "立即成交，剩余部分撤销",
    "Fill it all now or cancel it": "立即全部成交，否则全部撤销",
    "None of your permits can trade in a market today: a market opens to a permit that is "
    "valid and carries a permitted quantity for its pollutant, zone and year.":
        "本企业的许可证今日不能在任何市场交易：许可证须在有效期内，并载有该污染物、"
        "交易区域和年度的许可排放量。",
    # auctions
    "Schedule (Beijing time)": "时间安排（北京时间）",
    "opens": "开始竞买",
    "closes": "截止竞买",
    "Withdraw bid": "撤回报价",
    "Replace bid": "修改报价",
    "at least the reserve price": "不得低于保留价",
    "Bid withdrawn": "报价已撤回，保证金和额度已释放",
    "Bid replaced": "报价已修改",
    "Announce": "发布公告",
    "Announce at": "公告时间",
    "Open at": "开始竞买时间",
    "Close at": "截止竞买时间",
    "Save schedule": "保存时间安排",
    "Schedule saved": "时间安排已保存",
    "Enter a Beijing time like 2026-12-06 09:00.": "请按北京时间填写，例如 2026-12-06 09:00。",
    "announced": "已公告",
    "replaced": "已改单",
}
