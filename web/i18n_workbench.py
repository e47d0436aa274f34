"""Chinese of the workbench, the grouped navigation and the notifications (issue 18)."""

from __future__ import annotations

ZH: dict[str, str] = {
    # navigation
    "Main menu": "主菜单", "Workbench": "工作台", "Trading": "交易", "Obligations": "履约事项",
    "Permits and rights": "许可与确权", "Paid use": "有偿使用",
    "Trading and reserve": "交易与储备", "Supervision and enforcement": "监管执法",
    "Public information": "公开信息", "System": "系统", "Notifications": "通知",
    # workbench
    "To do": "待办事项", "holdings, orders and trades": "持有、委托与成交",
    "My scenarios": "我的情景", "No scenarios yet.": "尚无情景。",
    "Create one": "新建情景", "All scenarios": "全部情景",
    "Unread notifications": "未读通知", "No unread notifications.": "没有未读通知。",
    "All notifications": "全部通知",
    "Approvals waiting for me": "待我审批", "Permits awaiting confirmation": "待确权许可证",
    "Transfers awaiting approval": "待审批协议转让", "New problem clues to send": "待下发问题线索",
    "Rectifications to verify": "待核查整改", "Clues overdue": "逾期未整改线索",
    "Heavy-pollution alerts active": "生效中的重污染天气预警",
    "Monitoring imports with errors (30 days)": "有错误的监测数据导入（近 30 天）",
    "Permit imports with errors (30 days)": "有错误的许可证导入（近 30 天）",
    "Paid-use bills overdue": "逾期未缴有偿使用费", "Paid-use bills to pay": "待缴有偿使用费",
    "Problem clues to rectify": "待整改问题线索", "Transfers proposed to you": "向我发起的协议转让",
    "Execution reports overdue": "逾期未交执行报告",
    "Penalty procedures in progress": "进行中的行政处罚程序",
    # notifications
    "Unread": "未读", "Show all": "显示全部", "Unread only": "只看未读",
    "Mark all read": "全部标为已读", "Mark read": "标为已读", "No notifications.": "暂无通知。",
    "%(n)s notification(s) marked read": "已将 %(n)s 条通知标为已读",
    "Problem clue No. %(ref)s was sent to you; rectify by %(due)s.":
        "问题线索第 %(ref)s 号已下发给您，请于 %(due)s 前整改。",
    "Problem clue No. %(ref)s was sent to you.": "问题线索第 %(ref)s 号已下发给您。",
    "Advance notice of an administrative penalty %(ref)s: %(amount)s yuan proposed. "
    "You may state your case by %(due)s.":
        "行政处罚事先告知书 %(ref)s：拟罚款 %(amount)s 元。您可于 %(due)s 前陈述申辩。",
    "Penalty decision %(ref)s was served on you: %(amount)s yuan, to be paid by %(due)s.":
        "行政处罚决定书 %(ref)s 已送达：罚款 %(amount)s 元，请于 %(due)s 前缴纳。",
    "Penalty decision %(ref)s was issued: %(amount)s yuan.":
        "行政处罚决定书 %(ref)s 已作出：罚款 %(amount)s 元。",
    "%(seller)s proposes a negotiated transfer to you: %(qty)s t of %(market)s at "
    "%(price)s yuan/t.":
        "%(seller)s 向您发起协议转让：%(market)s %(qty)s 吨，价格 %(price)s 元/吨。",
    "%(count)s paid-use bill(s) issued: %(amount)s yuan, due %(due)s.":
        "已开具 %(count)s 张有偿使用缴费单：共 %(amount)s 元，缴费期限 %(due)s。",
    "%(count)s paid-use bill(s) fall due on %(due)s: %(amount)s yuan.":
        "%(count)s 张有偿使用缴费单将于 %(due)s 到期：共 %(amount)s 元。",
    "A negotiated transfer of %(qty)s t of %(market)s at %(price)s yuan/t (%(seller)s to "
    "%(buyer)s) was accepted and waits for the bureau's approval.":
        "%(seller)s 向 %(buyer)s 的协议转让（%(market)s %(qty)s 吨，%(price)s 元/吨）"
        "已由受让方接受，等待生态环境局审批。",
    "Approval request No. %(ref)s from %(by)s waits for a second officer (%(target)s).":
        "%(by)s 提交的第 %(ref)s 号审批申请等待第二名经办人审批（%(target)s）。",
}
