"""Texts of the administrative penalty procedure's pages (merged into `web.i18n.ZH`), and
the English labels of its codes (statuses, steps, methods of service) that the templates
translate with `_()`: no code is shown to people."""

from __future__ import annotations

STATUS_LABELS: dict[str, str] = {
    "noticed": "Advance notice given",
    "hearing_requested": "Hearing requested",
    "heard": "Hearing held",
    "decided": "Decided, not yet served",
    "served": "Decision served",
    "paid": "Fine paid",
}
EVENT_LABELS: dict[str, str] = {
    "notice": "Advance notice",
    "statement": "Statement and defence",
    "hearing_request": "Hearing request",
    "hearing": "Hearing held",
    "decision": "Decision made",
    "service": "Decision served",
    "payment": "Fine paid",
}
STEP_LABELS: dict[str, str] = {
    "statement": "File a statement and defence",
    "hearing_request": "Request a hearing",
    "hearing": "Record the hearing",
    "decision": "Decide",
    "service": "Serve the decision",
    "payment": "Record the payment",
}
METHOD_LABELS: dict[str, str] = {
    "direct": "Handed over directly",
    "post": "By post",
    "electronic": "Electronically (with consent)",
    "left_at_premises": "Left at the premises",
    "announcement": "By public announcement",
}

ZH: dict[str, str] = {
    # labels
    "Advance notice given": "已事先告知",
    "Hearing requested": "已申请听证",
    "Hearing held": "已举行听证",
    "Decided, not yet served": "已作出决定，待送达",
    "Decision served": "决定书已送达",
    "Fine paid": "罚款已缴纳",
    "Advance notice": "事先告知",
    "Statement and defence": "陈述申辩",
    "Hearing request": "听证申请",
    "Decision made": "作出处罚决定",
    "File a statement and defence": "提出陈述申辩",
    "Request a hearing": "申请听证",
    "Record the hearing": "登记听证",
    "Serve the decision": "送达决定书",
    "Record the payment": "登记缴款",
    "Handed over directly": "直接送达",
    "By post": "邮寄送达",
    "Electronically (with consent)": "电子送达（经同意）",
    "Left at the premises": "留置送达",
    "By public announcement": "公告送达",
    # pages
    "Administrative penalty procedure": "行政处罚程序",
    "Before a penalty is decided the bureau notifies you of the facts, the legal basis and "
    "the proposed penalty. You may state your case and defend yourself within the period, "
    "and ask for a hearing where the proposed fine gives the right. The decision is never "
    "heavier than the notice because you defended yourself. Periods of days are working "
    "days; dates are Beijing dates.":
        "作出处罚决定前，生态环境局告知拟作出处罚的事实、理由、依据及处罚内容。贵单位可在期限内"
        "进行陈述、申辩；拟处罚款数额较大的，可以要求听证。不因陈述、申辩而给予更重的处罚。"
        "以日计的期限为工作日；日期为北京时间。",
    "Advance notice, the enterprise's statement and defence or hearing request within the "
    "legal period, the decision (never heavier than the notice), service and payment, each "
    "a dated step. A decision is published when it is served.":
        "事先告知、企业在法定期限内陈述申辩或申请听证、作出决定（不得重于告知内容）、送达、"
        "缴款，每一步均记录日期。处罚决定送达后公开。",
    "Notice date": "告知日期",
    "Notice number": "告知书编号",
    "Proposed penalty": "拟处罚款",
    "Statement and defence due by": "陈述申辩截止日",
    "Hearing request due by": "听证申请截止日",
    "No hearing right for this penalty": "该处罚不适用听证",
    "Legal basis of the decision": "处罚决定依据",
    "Penalty": "罚款",
    "Served": "送达",
    "Pay by": "缴款截止日",
    "Overdue: a surcharge of 3% of the fine a day may be added (Administrative Penalty Law "
    "Art. 72)": "已逾期：每日可按罚款数额的百分之三加处罚款（《行政处罚法》第七十二条）",
    "Paid": "已缴纳",
    "What you can do now": "当前可办理事项",
    "Nothing is waiting for you on this case.": "本案当前没有待您办理的事项。",
    "Your statement and defence": "陈述申辩意见",
    "by": "截止",
    "File statement and defence": "提交陈述申辩",
    "Reason (optional)": "理由（可选）",
    "Steps": "办理环节",
    "No penalty procedures": "暂无行政处罚案件",
    "Cases": "案件",
    "Next deadline": "下一截止日",
    "Statement": "陈述申辩",
    "Hearing": "听证",
    "Serve by": "送达截止日",
    "Case": "案件",
    "Decision": "处罚决定",
    "recorded": "记录于",
    "The enterprise's periods are still running: decide after them.":
        "企业的陈述申辩或听证申请期限尚未届满，期满后方可作出决定。",
    "Nothing is waiting for the bureau on this case.": "本案当前没有待生态环境局办理的事项。",
    "Hearing date": "听证日期",
    "Hearing record": "听证笔录",
    "at most the notice's": "不超过告知的",
    "Service date": "送达日期",
    "serve by": "送达期限",
    "Method of service": "送达方式",
    "Record service and publish": "登记送达并公开",
    "Payment date": "缴款日期",
    "Record payment in full": "登记全额缴款",
    "Give an advance notice": "发出事先告知书",
    "default: the violation's facts": "默认：违法行为的事实",
    "default: the article of the violation kind": "默认：违法类型对应的条款",
    "Give the advance notice": "发出事先告知书",
    "Overdue": "已逾期",
    "yuan": "元",
    "Decision withdrawn": "处罚决定已撤销",
    "The decision was withdrawn: nothing is due on it.": "该处罚决定已撤销，无需履行。",
    "Penalty procedure": "处罚程序",
    "Start the procedure": "启动处罚程序",
    "Penalty decisions of the bureau under the Regulation on Pollutant Discharge Permits, "
    "published once served on the enterprise. A withdrawn decision shows the reason of its "
    "withdrawal.": "生态环境局依据《排污许可管理条例》作出的行政处罚决定，送达当事人后公开。"
                   "已撤销的决定显示撤销理由。",
    # confirmations
    "Hearing recorded": "已登记听证",
    "Decision made: it is published once served": "已作出处罚决定，送达后公开",
    "Decision served and published": "决定书已送达并公开",
    "Payment recorded": "已登记缴款",
    "Statement and defence filed": "陈述申辩已提交",
}
