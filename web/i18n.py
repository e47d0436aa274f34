"""Languages of the pages: Chinese by default, English switchable (cookie `erts_lang`).

English is the msgid of a gettext catalogue (Babel): web/translations/zh/LC_MESSAGES/messages.po
holds the Chinese and is compiled in memory at start-up (web.catalogue; docs/i18n.md). Templates
write `{{ _("English text") }}` (Jinja2's i18n extension, newstyle; `ngettext` for plurals);
code calls `translator(lang)`. Codes shown to people (sectors, roles, states, kinds) are
translated through the same catalogue. A text without Chinese shows in English, and the test
command fails on it (tests/web/test_catalogue.py).
"""

from __future__ import annotations

from collections.abc import Callable

from web.catalogue import OVERLAY, read_catalogue, singular_texts

LANGS = ("zh", "en")

#: English → Chinese of every singular text: the catalogue, with the per-subject dicts merged
#: on top by _merge() until `python -m web.catalogue absorb` moves them into it
ZH: dict[str, str] = singular_texts(read_catalogue())


def _merge() -> None:
    """Each subject keeps its texts in a module of its own (web/i18n_<subject>.py)."""
    from web import (
        i18n_accounts,
        i18n_alerts,
        i18n_auctions,
        i18n_batch_confirm,
        i18n_boundary,
        i18n_documents,
        i18n_four_eyes,
        i18n_levels,
        i18n_login,
        i18n_monitoring,
        i18n_monitoring_source,
        i18n_paid_use,
        i18n_penalties,
        i18n_penalty_procedure,
        i18n_quantities,
        i18n_register,
        i18n_reports,
        i18n_roles,
        i18n_tax,
        i18n_trueup,
        i18n_workbench,
        i18n_workbook,
    )

    for mod in (i18n_accounts,
                i18n_alerts, i18n_auctions, i18n_batch_confirm, i18n_boundary, i18n_documents,
                i18n_four_eyes, i18n_levels, i18n_login,
                i18n_monitoring, i18n_monitoring_source, i18n_paid_use, i18n_penalties,
                i18n_penalty_procedure,
                i18n_quantities, i18n_register, i18n_reports, i18n_roles, i18n_tax, i18n_trueup,
                i18n_workbench, i18n_workbook):
        ZH.update(mod.ZH)


_merge()
OVERLAY.update(ZH)  # the compiled catalogue carries the per-subject texts too


def translator(lang: str) -> Callable[[str], str]:
    """`_` of a language: the Chinese of an English text (the text itself without one)."""
    return _english if lang == "en" else _chinese


def plural_translator(lang: str) -> Callable[[str, str, int], str]:
    """`ngettext` of a language: singular or plural by `n` (Chinese has one form)."""
    if lang == "en":
        return lambda singular, plural, n: singular if n == 1 else plural
    from web.catalogue import translations

    return lambda singular, plural, n: str(translations().ngettext(singular, plural, n))


def _english(text: str) -> str:
    return text


def _chinese(text: str) -> str:
    if not isinstance(text, str) or not text:  # gettext("") is the catalogue's header
        return text
    from web.catalogue import translations

    return str(translations().gettext(text))
