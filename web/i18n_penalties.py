"""Chinese texts of the pages for penalties (merged into `web.i18n.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {
    "Each violation carries its kind, the article of the Regulation on Pollutant Discharge "
    "Permits and its statutory range. A decision is published when it is made; corrections "
    "and withdrawals are recorded, never deleted.":
        "每项违法行为载明其类型、《排污许可管理条例》的条款及法定罚款幅度。处罚决定作出即公开；"
        "更正和撤回均留痕，绝不删除。",
    "Violation kind": "违法类型",
    "All kinds": "全部类型",
    "Art.": "条款",
    "range to verify": "幅度待核实",
    "Transferred to enforcement": "已移送执法",
    "Receiving department": "接收部门",
    "Transfer date": "移送日期",
    "Result": "处理结果",
    "awaiting result": "待反馈结果",
    "No violations transferred": "暂无移送案件",
    "Open a violation": "立案登记违法行为",
    "per instance": "每次",
    "Date of the violation": "违法行为发生日期",
    "Pollutant (optional)": "污染物（可选）",
    "Instances (per-instance kinds)": "次数（按次处罚的类型）",
    "Facts": "违法事实",
    "Open violation": "登记违法行为",
    "Confirm a problem clue as a violation": "将问题线索认定为违法行为",
    "Clue": "线索",
    "The clue kind's default": "按线索类型默认",
    "Confirm as violation": "认定为违法行为",
    "Transfer to enforcement": "移送执法",
    "Transfer": "移送",
    "Record the enforcement result": "登记执法处理结果",
    "Result date": "结果日期",
    "Record result": "登记结果",
}
