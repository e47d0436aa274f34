"""The labels of the codes people read are msgids of the gettext catalogue (issue 18):
web/labels.py keeps the English, marked `N_(kind, "English")` so that Babel's extraction sees
it with the kind as its msgctxt, and the .po the Chinese. `label` and `labels_of` answer
through `pgettext`; `python -m web.catalogue check` fails on a label without Chinese (proved on
a temporary copy of the .po)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from web import catalogue, labels
from web.i18n import N_
from web.labels import LABELS, label, labels_of

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def found() -> list[catalogue.Extracted]:
    return catalogue.extract()


def test_no_chinese_is_kept_in_the_labels_module() -> None:
    source = (catalogue.WEB / "labels.py").read_text(encoding="utf-8")
    assert not CJK.search(source), CJK.findall(source)[:10]


def test_the_extraction_sees_every_label_with_its_kind(found: list[catalogue.Extracted]) -> None:
    places = {(e.context, e.msgid): e.locations for e in found}
    own = [(kind, english) for kind, table in LABELS.items() if kind not in labels._CONTEXT
           for english in table.values()]
    assert len(own) > 300
    unseen = [k for k in own if not any(p.startswith("web/labels.py:")
                                        for p in places.get(k, ()))]
    assert unseen == []
    # a kind is a context, never a msgid of its own
    assert not any(p.startswith("web/labels.py:") for p in places.get((None, "sector"), ()))


def test_every_label_reads_chinese_and_english() -> None:
    for kind, table in LABELS.items():
        zh, en = labels_of(kind, "zh"), labels_of(kind, "en")
        assert zh.keys() == en.keys() == table.keys(), kind
        for code in table:
            assert en[code] == table[code] == label(kind, code, "en"), (kind, code)
            assert zh[code] == label(kind, code, "zh") == label(kind, code), (kind, code)
            assert CJK.search(zh[code]) or kind == "pollutant", (kind, code, zh[code])
            assert zh[code] != en[code] or kind == "pollutant", (kind, code)


def test_the_kind_tells_one_english_word_from_another() -> None:
    # the same English word, another Chinese per kind (msgctxt)
    assert label("order_type", "market", "en") == label("field", "market", "en") == "Market"
    assert label("order_type", "market") == "市价"
    assert label("field", "market") == "市场"
    assert label("account", "issuance") == "发行"
    assert label("tx_type", "issuance") == "指标发放"
    # an approval request's kind is a transaction type, and reads like one
    assert labels_of("approval_kind", "zh") == labels_of("tx_type", "zh")
    assert label("approval_kind", "surrender") == "清缴"
    assert label("sector", None) == "—" and label("sector", "") == "—"
    assert label("sector", "not_a_sector") == "not_a_sector"
    assert label("no_such_kind", "steel") == "steel"
    assert labels_of("no_such_kind") == {}


def test_marking_returns_the_text() -> None:
    assert N_("Steel") == "Steel"
    assert N_("sector", "Steel") == "Steel"
    with pytest.raises(TypeError):
        N_("a", "b", "c")


def test_the_extraction_reads_a_marked_label_with_its_context(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "x.py").write_text(
        'from web.i18n import N_\n'
        'A = {"steel": N_("sector", "Steel"), "z": N_("sector", "A label nobody translated")}\n'
        'B = N_("Permit register")\n', encoding="utf-8")
    found = catalogue.extract(tmp_path)
    assert {(e.context, e.msgid) for e in found} == {
        ("sector", "Steel"), ("sector", "A label nobody translated"), (None, "Permit register")}
    missing = catalogue.untranslated(found, catalogue.read_catalogue())
    assert [(e.context, e.msgid) for e in missing] == [("sector", "A label nobody translated")]


def test_check_fails_on_a_label_without_chinese(
        found: list[catalogue.Extracted], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    real = catalogue.PO
    po = tmp_path / "messages.po"
    po.write_bytes(real.read_bytes())
    monkeypatch.setattr(catalogue, "PO", po)
    monkeypatch.setattr(catalogue, "extract", lambda *a, **k: found)
    assert catalogue.main(["check"]) == 0, capsys.readouterr().out  # the copy as it is
    capsys.readouterr()
    # a small edit, as a translator would make it: the Chinese of one label taken out
    text = po.read_text(encoding="utf-8")
    entry = 'msgctxt "side"\nmsgid "Buy"\nmsgstr "买入"\n'
    assert text.count(entry) == 1
    po.write_text(text.replace(entry, 'msgctxt "side"\nmsgid "Buy"\nmsgstr ""\n'),
                  encoding="utf-8")
    assert catalogue.main(["check"]) == 1
    out = capsys.readouterr().out
    assert "'Buy' (msgctxt 'side'): web/labels.py:" in out, out
    assert " 1 without Chinese" in out, out
    # the page shows the English where the catalogue has no Chinese
    copy = catalogue.compile_translations(catalogue.read_catalogue(po))
    monkeypatch.setattr(labels, "translations", lambda: copy)
    assert label("side", "buy") == "Buy"
    assert label("side", "sell") == "卖出"
    assert catalogue.read_catalogue(real).get("Buy", "side").string == "买入"  # untouched
