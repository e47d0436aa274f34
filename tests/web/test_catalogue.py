"""The gettext catalogue (Babel): every message Babel's extraction finds in the templates and
the code has Chinese (`python -m web.catalogue check`); no per-subject dict module is left and
`absorb` folds one into the .po; the .po compiles in memory and agrees with `web.i18n`; the
Jinja2 callables and Babel's locale filters."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from markupsafe import Markup

from web import catalogue
from web.i18n import ZH, plural_translator, translator


def test_every_extracted_message_has_chinese() -> None:
    found = catalogue.extract()
    texts = {e.msgid for e in found}
    # the extraction really covers templates and code
    assert "Public disclosure: permits" in texts  # a template
    assert "Permitted kg by zone" in texts  # web/pages/analyst.py
    missing = catalogue.untranslated(found, catalogue.read_catalogue())
    assert not missing, "messages without Chinese (add them to " \
        f"{catalogue.PO.relative_to(catalogue.ROOT)}):\n" + "\n".join(
            f"  {e.msgid!r} ({e.context or 'no context'}) at {', '.join(e.locations)}"
            for e in missing)


def test_the_check_command_passes(capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m web.catalogue check` as the test command runs it: no message without
    Chinese, and no web/i18n_*.py dict left that nothing reads any more."""
    assert list(catalogue.subject_modules()) == [], "fold these into the .po: " \
        "python -m web.catalogue absorb, then delete them"
    assert catalogue.main(["check"]) == 0, capsys.readouterr().out
    assert " 0 without Chinese" in capsys.readouterr().out


def test_gettext_tools_accept_the_po(tmp_path: Path) -> None:
    """The .po is a valid gettext catalogue for a translator's tools too: GNU msgfmt's checks
    (header, plural forms, the placeholders of every `python-format` message) pass."""
    import shutil
    import subprocess

    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext's msgfmt is not installed")
    out = subprocess.run([msgfmt, "-c", "-o", str(tmp_path / "messages.mo"), str(catalogue.PO)],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr


def test_moved_texts_keep_their_chinese() -> None:
    """Texts once kept in the per-subject dicts and in code, now msgids of the .po."""
    from web.messages import login_message
    from web.penalty_words import EVENT_LABELS, METHOD_LABELS, STATUS_LABELS, STEP_LABELS

    zh = translator("zh")
    assert zh("Overdue") == "已逾期" and zh("Decision") == "决定"
    assert _render('{{ pgettext("penalty", "Decision") }}', "zh") == "处罚决定"
    marked = ("%(n)s notification marked read", "%(n)s notifications marked read")
    assert plural_translator("zh")(*marked, 3) == "已将 %(n)s 条通知标为已读"
    assert [plural_translator("en")(*marked, n) % {"n": n} for n in (1, 2)] == [
        "1 notification marked read", "2 notifications marked read"]
    for table in (STATUS_LABELS, EVENT_LABELS, STEP_LABELS, METHOD_LABELS):
        assert all(zh(v) != v for v in table.values()), table
    from identity.errors import InvalidCredentials

    assert login_message(InvalidCredentials("wrong"), "zh") == "用户名或密码错误。"
    assert login_message(InvalidCredentials("wrong"), "en") == "Wrong username or password."


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_counted_messages_take_their_plural_form(lang: str) -> None:
    """A message with a count is an ngettext: English singular for one, plural otherwise;
    Chinese has one form."""
    from web.approval_words import Names, Speaker
    from web.monitoring_words import import_message

    def imported(clues: int, breaches: int) -> str:
        out = {"id": 7, "accepted": 3, "rejected": 0, "daily_rows": 1,
               "clues": list(range(1, clues + 1)), "alert_breaches": breaches}
        return import_message(out, translator(lang), lang, {})

    one, two = imported(1, 1), imported(2, 2)
    batch = [Speaker(translator(lang), lang, Names()).asked({
        "action": "confirm_permits", "payload": {"permits": ["P1", "P2"][:n], "year": 2026},
        "preview": {}}).text for n in (1, 2)]
    if lang == "en":
        assert "1 problem clue opened from anomalies" in one
        assert "2 problem clues opened from anomalies" in two
        assert "1 heavy-pollution alert breach found" in imported(0, 1)
        assert "2 heavy-pollution alert breaches found" in imported(0, 2)
        assert batch == ["confirm every waiting pollutant of 1 permit for 2026 in one batch",
                         "confirm every waiting pollutant of 2 permits for 2026 in one batch"]
    else:
        assert "异常生成问题线索 1 条" in one and "异常生成问题线索 2 条" in two
        assert "发现重污染天气预警超限 2 项" in imported(0, 2)
        assert batch == ["一次确认 1 张许可证全部待确权污染物（2026 年度）",
                         "一次确认 2 张许可证全部待确权污染物（2026 年度）"]
    assert _render('{{ ngettext("%(num)d permit", "%(num)d permits", 1) }}', lang) == \
        ("1 permit" if lang == "en" else "共 1 张许可证")
    assert _render('{{ ngettext("%(num)d permit", "%(num)d permits", 4) }}', lang) == \
        ("4 permits" if lang == "en" else "共 4 张许可证")


def test_untranslated_names_the_message_and_its_place(tmp_path: Path) -> None:
    (tmp_path / "web" / "templates").mkdir(parents=True)
    (tmp_path / "web" / "templates" / "x.html").write_text(
        '<p>{{ _("Halt") }} {{ _("A text nobody translated") }} '
        '{{ ngettext("%(num)d day", "%(num)d days", n) }}\n'
        '{{ pgettext("clue", "Rejected") }} {{ pgettext("nowhere", "Rejected") }}</p>',
        encoding="utf-8")
    found = catalogue.extract(tmp_path)
    assert {(e.context, e.msgid) for e in found} >= {
        (None, ("%(num)d day", "%(num)d days")), ("clue", "Rejected"), ("nowhere", "Rejected")}
    missing = catalogue.untranslated(found, catalogue.read_catalogue())
    assert [(e.context, e.msgid, e.locations) for e in missing] == [
        (None, "A text nobody translated", ["web/templates/x.html:1"]),
        ("nowhere", "Rejected", ["web/templates/x.html:2"])]


def test_the_catalogue_compiles_and_agrees_with_the_dict() -> None:
    cat = catalogue.read_catalogue()
    assert cat.num_plurals == 1 and cat.plural_expr == "0"  # Chinese: one plural form
    t = catalogue.translations()
    assert len(ZH) > 800 and all(t.gettext(k) == v for k, v in ZH.items())
    zh, en = translator("zh"), translator("en")
    assert zh("Halt") == "暂停交易" and en("Halt") == "Halt"
    assert zh("not in the catalogue") == "not in the catalogue"
    assert zh("") == "" and zh(None) is None  # type: ignore[arg-type]  # not the .po header
    assert plural_translator("zh")("%(num)d day", "%(num)d days", 5) == "%(num)d 天"
    assert plural_translator("en")("%(num)d day", "%(num)d days", 1) == "%(num)d day"
    assert plural_translator("en")("%(num)d day", "%(num)d days", 2) == "%(num)d days"


def test_absorb_folds_a_leftover_subject_dict_into_the_po(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    web = tmp_path / "web"
    web.mkdir()
    (web / "i18n_zz_leftover.py").write_text(
        'ZH = {"A leftover text": "遗留文本", "Halt": "停牌"}\n', encoding="utf-8")
    monkeypatch.setattr(catalogue, "WEB", web)
    monkeypatch.delitem(sys.modules, "web.i18n_zz_leftover", raising=False)
    monkeypatch.setattr(sys.modules["web"], "__path__",
                        [*sys.modules["web"].__path__, str(web)])
    po = tmp_path / "messages.po"
    catalogue.write_catalogue(catalogue.read_catalogue(), po)
    # a module left over fails the check: nothing reads it any more
    monkeypatch.setattr(catalogue, "extract", lambda *a, **k: [])
    assert catalogue.main(["check"]) == 1
    assert "web/i18n_zz_leftover.py: nothing reads it" in capsys.readouterr().out
    n, modules, changed = catalogue.absorb(po)
    assert (n, modules, changed) == (2, ["web.i18n_zz_leftover"],
                                     ["Halt (web.i18n_zz_leftover)"])
    after = catalogue.singular_texts(catalogue.read_catalogue(po))
    assert after["A leftover text"] == "遗留文本" and after["Halt"] == "停牌"
    # entries of the .po the module does not hold stay as they were
    before = catalogue.singular_texts(catalogue.read_catalogue())
    assert before["Halt"] == "暂停交易"
    assert {k: v for k, v in after.items() if k not in ("A leftover text", "Halt")} == \
        {k: v for k, v in before.items() if k != "Halt"}


def _render(source: str, lang: str, **ctx: object) -> str:
    from web.pages.render import templates

    return templates().env.from_string(source).render(lang=lang, **ctx)


def test_jinja_gettext_newstyle_escapes_and_plurals() -> None:
    assert _render('{{ _("Halt") }}', "zh") == "暂停交易"
    assert _render('{{ _("Halt") }}', "en") == "Halt"
    assert _render('{{ gettext("Halt") }}', "zh") == "暂停交易"
    # a % without variables is text; variables are formatted (newstyle)
    assert _render('{{ _("Band %") }}', "zh") == "涨跌幅 %"
    assert _render('{{ _("%(n)s of %(m)s", n=1, m="<b>") }}', "en") == "1 of &lt;b&gt;"
    # a value that is not a catalogue text is escaped, not marked safe
    assert _render("{{ _(x) }}", "zh", x="<script>") == "&lt;script&gt;"
    assert _render("{{ _(x) }}", "zh", x="thermal_power") == "火电"
    assert _render('{{ ngettext("%(num)d day", "%(num)d days", 3) }}', "zh") == "3 天"
    assert _render('{{ ngettext("%(num)d day", "%(num)d days", 1) }}', "en") == "1 day"
    assert _render('{{ ngettext("%(num)d day", "%(num)d days", 3) }}', "en") == "3 days"
    assert _render("{% trans %}Halt{% endtrans %}", "zh") == "暂停交易"
    # one English text, two Chinese ones: the context (msgctxt) tells them apart
    assert _render('{{ _("Rejected") }}|{{ pgettext("clue", "Rejected") }}', "zh") == \
        "拒绝|核查不通过"
    assert _render('{{ pgettext("clue", "Rejected") }}', "en") == "Rejected"
    # an unknown language falls back to Chinese
    assert _render('{{ _("Halt") }}', "fr") == "暂停交易"
    assert isinstance(translator("zh")("Halt"), str) and not isinstance(
        translator("zh")("Halt"), Markup)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_locale_number_filters(lang: str) -> None:
    out = _render("{{ a|kg }} {{ a|t }} {{ f|yuan }} {{ f|price }} {{ n|kg }} {{ n|yuan }} "
                  "{{ neg|yuan }} {{ small|t }}", lang, a=1234567, f=123456789, n=None,
                  neg=-5, small=1500)
    assert out == "1,234,567 1,234.567 1,234,567.89 1,234,567.89 — — -0.05 1.500"


def test_beijing_time_filters() -> None:
    from datetime import UTC, date, datetime

    at = datetime(2026, 1, 1, 20, 30, tzinfo=UTC)
    for lang in ("zh", "en"):
        src = "{{ a|bjtime }}|{{ s|bjtime }}|{{ naive|bjtime }}|{{ a|bjdate }}|{{ d|bjdate }}"
        assert _render(src, lang, a=at, s="2026-01-01T20:30:00+00:00",
                       naive=datetime(2026, 1, 1, 20, 30), d=date(2026, 1, 1)) == \
            "2026-01-02 04:30|2026-01-02 04:30|2026-01-02 04:30|2026-01-02|2026-01-01"
    assert _render("[{{ x|bjtime }}][{{ x|bjdate }}][{{ y|bjtime }}]", "zh", x=None,
                   y="not a time") == "[][][not a time]"
