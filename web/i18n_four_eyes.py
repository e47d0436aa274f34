"""Chinese texts of four-eyes approval (merged into `web.i18n.ZH`): the transaction types a
second officer approves and the refusals of the raw ledger routes."""

from __future__ import annotations

ZH: dict[str, str] = {
    "issuance": "指标发放",
    "deposit": "资金存入",
    "withdrawal": "资金提取",
    "reversal": "冲正",
    "ledger_transfers": "账本直接记账",
    "reverse_transfer": "冲正",
    "domain_route_required": "该类交易须通过其业务功能办理",
    "approval_needs_linked_batch": "须经第二人审批的交易只能整批提交",
    "amount_above_limit": "金额超过单笔上限",
    "self_approval": "审批人不能是申请人本人",
}
