"""The gettext catalogue (Babel): every message Babel's extraction finds in the templates and
the code has Chinese; the .po compiles in memory and agrees with `web.i18n`; `absorb` moves the
per-subject dicts into it; the Jinja2 callables and Babel's locale filters."""

from __future__ import annotations

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
    missing = catalogue.untranslated(found, catalogue.read_catalogue(), ZH)
    assert not missing, "messages without Chinese (add them to " \
        f"{catalogue.PO.relative_to(catalogue.ROOT)}):\n" + "\n".join(
            f"  {e.msgid!r} ({e.context or 'no context'}) at {', '.join(e.locations)}"
            for e in missing)


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
    missing = catalogue.untranslated(found, catalogue.read_catalogue(), ZH)
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


def test_absorb_moves_the_subject_dicts_into_the_po(tmp_path: Path) -> None:
    po = tmp_path / "messages.po"
    before = catalogue.read_catalogue()
    del before["Halt"]
    catalogue.write_catalogue(before, po)
    assert catalogue.read_catalogue(po).get("Halt") is None
    n, modules, _changed = catalogue.absorb(po)
    after = catalogue.singular_texts(catalogue.read_catalogue(po))
    assert modules and n >= sum(len(z) for _m, z in catalogue.subject_modules()) > 0
    for _name, zh in catalogue.subject_modules():  # as web.i18n merges them
        assert all(after[k] == ZH[k] for k in zh)
    # entries of the .po the modules do not hold stay as they were
    assert "Halt" not in after and after["Public disclosure"] == "信息公开"


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
