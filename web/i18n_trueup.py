"""Chinese texts of the pages for the true-up against the permit (merged into `web.i18n.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {
    "Each year's emissions are judged against the permit's permitted quantity for that year, "
    "after every trade, release, recovery and deduction, whether or not its rights are "
    "confirmed. Emissions above it are an exceedance, a violation under Regulation Art. 34, "
    "whatever rights of other years the enterprise holds; it can also be deducted from next "
    "year's rights. The year's confirmed rights are surrendered; the permit keeps the limit "
    "that applied. A true-up runs after the year and its report deadline, or earlier with a "
    "recorded reason.":
        "每年的实际排放量以排污许可证载明的当年许可排放量（计入全部交易、出让、收回和扣减后）"
        "为准进行核定，无论其排污权是否已确权。超过许可排放量即为超许可排放量排放，依《排污许可"
        "管理条例》第三十四条认定违法，不论企业是否持有其他年度的排污权；超出部分也可从下一年度"
        "排污权中扣减。当年已确权的排污权予以注销，许可证仍载明当年适用的许可排放量。核定在当年"
        "结束且执行报告截止日过后进行，提前核定须记录理由。",
    "Deduct the exceedance from next year": "超出部分从下一年度扣减",
    "Reason to run before the deadline": "提前核定理由",
    "Actual t": "实际排放量 吨",
    "Surrendered t": "注销 吨",
    "Exceedance t": "超许可量 吨",
    "Deducted t": "扣减 吨",
    "Outstanding t": "未扣减 吨",
    "banked": "结转",
    "no quantity limit": "未设许可排放量",
    "Regulation Art. 34(1)": "《排污许可管理条例》第三十四条第一项",
}
