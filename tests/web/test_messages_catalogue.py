"""The refusals and confirmations are msgids of the gettext catalogue (issue 18): web/messages.py
keeps the English (marked for Babel's extraction), the .po the Chinese. `python -m
web.catalogue check` fails on an error or confirmation message without Chinese, or whose
Chinese names other placeholders (proved on a temporary copy of the .po); every `confirm(...)`
of the pages is a known confirmation; numbers keep their units in both languages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from kernel.errors import DomainError
from web import catalogue
from web.i18n import translator
from web.messages import CONFIRMATIONS, ERRORS, MESSAGES, PATTERNS, confirm, error_text

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def found() -> list[catalogue.Extracted]:
    return catalogue.extract()


def test_no_chinese_is_kept_in_the_messages_module() -> None:
    source = (catalogue.WEB / "messages.py").read_text(encoding="utf-8")
    assert not CJK.search(source), CJK.findall(source)[:10]


def test_the_extraction_sees_every_error_pattern_and_confirmation(
        found: list[catalogue.Extracted]) -> None:
    places = {e.msgid: e.locations for e in found if e.context is None}
    texts = [*MESSAGES.values(), *(p.text for ps in PATTERNS.values() for p in ps),
             *CONFIRMATIONS]
    assert len(texts) > 270
    unseen = [t for t in texts if not any(p.startswith("web/messages.py:")
                                          for p in places.get(t, ()))]
    assert unseen == []
    zh = translator("zh")
    assert all(CJK.search(zh(t)) for t in texts), [t for t in texts if not CJK.search(zh(t))]


def _count(out: str, what: str) -> int:
    """The number `check` printed before `what` ("N without Chinese")."""
    m = re.search(rf"(\d+) {what}", out)
    return int(m.group(1)) if m else 0


def _mangle(po: Path, msgid: str, chinese: str | None) -> None:
    """In the copy `po`, give `msgid` other Chinese (None: none at all)."""
    cat = catalogue.read_catalogue(po)
    m = cat.get(msgid)
    assert m is not None, msgid
    m.string = chinese or ""
    catalogue.write_catalogue(cat, po)


@pytest.mark.parametrize("which", ["error", "pattern", "confirmation"])
def test_check_fails_on_a_message_without_chinese(
        which: str, found: list[catalogue.Extracted], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    msgid = {"error": MESSAGES["insufficient_balance"],
             "pattern": PATTERNS["insufficient_tradable_rights"][0].text,
             "confirmation": "Bill {id} paid."}[which]
    real = catalogue.PO
    po = tmp_path / "messages.po"
    po.write_bytes(real.read_bytes())
    monkeypatch.setattr(catalogue, "PO", po)
    monkeypatch.setattr(catalogue, "extract", lambda *a, **k: found)
    catalogue.main(["check"])  # the copy as it is (test_catalogue.py: it passes)
    before = capsys.readouterr().out
    assert f"{msgid!r}: " not in before
    _mangle(po, msgid, None)
    assert catalogue.main(["check"]) == 1
    out = capsys.readouterr().out
    assert f"{msgid!r}: web/messages.py:" in out, out
    assert _count(out, "without Chinese") == _count(before, "without Chinese") + 1
    assert msgid in catalogue.singular_texts(catalogue.read_catalogue(real))  # untouched


def test_check_fails_on_chinese_with_other_placeholders(
        found: list[catalogue.Extracted], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    po = tmp_path / "messages.po"
    po.write_bytes(catalogue.PO.read_bytes())
    monkeypatch.setattr(catalogue, "PO", po)
    monkeypatch.setattr(catalogue, "extract", lambda *a, **k: found)
    # the Chinese drops the quantity and names a value confirm() is not given
    catalogue.main(["check"])
    before = capsys.readouterr().out
    _mangle(po, "Bid {id} placed: {qty} t at {price} yuan/t.", "已出价 {id}：{tonnes} 吨。")
    assert catalogue.main(["check"]) == 1
    out = capsys.readouterr().out
    assert "'Bid {id} placed: {qty} t at {price} yuan/t.': the Chinese" in out, out
    assert _count(out, "with other placeholders") == \
        _count(before, "with other placeholders") + 1


def test_placeholders() -> None:
    assert catalogue.placeholders("{qty} t at {price} yuan/t") == {"qty", "price"}
    assert catalogue.placeholders("%(count)s bills, %(n)d days, 5 %") == {"count", "n"}
    assert catalogue.placeholders("a lone { brace") == set()


def _confirm_texts(tree: ast.AST) -> tuple[list[str], list[str]]:
    """The English texts given to `confirm(...)` in a module, and the calls whose text this
    cannot tell (not a literal, a conditional of literals, or a name assigned one)."""
    assigned: dict[str, list[str]] = {}

    def literals(node: ast.expr) -> list[str] | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.IfExp):
            a, b = literals(node.body), literals(node.orelse)
            return None if a is None or b is None else a + b
        if isinstance(node, ast.Name):
            return assigned.get(node.id)
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            found = literals(node.value)
            if found is not None:
                assigned.setdefault(node.targets[0].id, []).extend(found)
    texts, unknown = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "confirm" and node.args:
            found = literals(node.args[0])
            if found is None:
                unknown.append(f"line {node.lineno}")
            else:
                texts += found
    return texts, unknown


def test_every_confirm_of_the_pages_is_a_known_confirmation() -> None:
    """`confirm(text)` translates `text` through the catalogue: a text that is not one of
    `CONFIRMATIONS` (whose Chinese the check requires) would show in English."""
    used: dict[str, list[str]] = {}
    unknown: list[str] = []
    for path in sorted(catalogue.WEB.rglob("*.py")):
        if path.name == "messages.py":
            continue
        texts, unclear = _confirm_texts(ast.parse(path.read_text(encoding="utf-8")))
        rel = str(path.relative_to(catalogue.ROOT))
        unknown += [f"{rel} {where}" for where in unclear]
        for t in texts:
            used.setdefault(t, []).append(rel)
    assert unknown == [], "confirm() of a text the test cannot read"
    assert len(used) > 40
    assert sorted(set(used) - set(CONFIRMATIONS)) == [], "add these to CONFIRMATIONS and .po"
    assert sorted(set(CONFIRMATIONS) - set(used)) == [], "no page confirms these any more"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_numbers_keep_their_units_in_both_languages(lang: str) -> None:
    from trading.market import OrderRejected

    e = OrderRejected("below_min_lot", "quantity 1500 is not a whole number of lots of 1000")
    text = error_text(e, lang)
    assert text.code == "below_min_lot"
    assert "1.500" in text and "1.000" in text and "1500" not in text
    shown = confirm("Bill {id} paid.", lang, id=7)
    assert "7" in shown and (("缴费单" in shown) if lang == "zh" else shown == "Bill 7 paid.")
    fine = confirm("Decision {number} published: a fine of {amount} yuan.", lang,
                   number="D-1", amount_fen=12_345_678)
    assert "123,456.78" in fine and "12345678" not in fine
    order = confirm("Order {order}: {status}, {filled} t filled.", lang, order="ab",
                    status=("status", "filled"), filled_kg=2500)
    assert order == ("委托 ab：已成交，成交 2.500 吨。" if lang == "zh"
                     else "Order ab: Filled, 2.500 t filled.")


def test_details_retry_and_unknown_codes_in_both_languages() -> None:
    from identity.errors import TooManyAttempts

    bad = DomainError("line 3: no permit")
    bad.code = "bad_sheet"
    zh, en = ERRORS["bad_sheet"]
    assert error_text(bad, "zh") == f"{zh}（line 3: no permit）"
    assert error_text(bad, "en") == f"{en} (line 3: no permit)"
    plain = DomainError("insufficient: 5 < 7")
    plain.code = "insufficient_balance"
    assert error_text(plain, "zh") == ERRORS["insufficient_balance"][0] == "余额不足。"
    assert error_text(plain, "en") == "The balance is not enough."
    locked = TooManyAttempts("locked", retry_after=61)
    assert error_text(locked, "zh") == "登录失败次数过多，请 2 分钟后再试。"
    assert error_text(locked, "en") == "Too many failed log-ins; try again in 2 min."
    odd = DomainError("something new")
    odd.code = "brand_new_code"
    assert error_text(odd, "zh") == "请求被拒绝（brand_new_code）：something new"
    assert len(ERRORS) == len(MESSAGES) and set(ERRORS) == set(MESSAGES)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_paid_use_bill_notices_take_their_plural_form(lang: str) -> None:
    from web.notice_words import text

    def said(kind: str, count: int) -> str:
        return text({"kind": kind, "ref": "r1", "params": {
            "count": count, "amount_fen": 97_600, "due": "2026-07-01"}}, lang)

    if lang == "en":
        assert said("bill_issued", 1) == "1 paid-use bill issued: 976.00 yuan, due 2026-07-01."
        assert said("bill_issued", 3) == "3 paid-use bills issued: 976.00 yuan, due 2026-07-01."
        assert said("bill_due", 1) == "1 paid-use bill falls due on 2026-07-01: 976.00 yuan."
        assert said("bill_due", 2) == "2 paid-use bills fall due on 2026-07-01: 976.00 yuan."
    else:
        assert said("bill_issued", 3) == \
            "已开具 3 张有偿使用缴费单：共 976.00 元，缴费期限 2026-07-01。"
        assert said("bill_due", 1) == "1 张有偿使用缴费单将于 2026-07-01 到期：共 976.00 元。"
    assert "(s)" not in said("bill_due", 2)
