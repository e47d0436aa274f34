"""The gettext message catalogue of the pages (Babel), and its command line.

English is the msgid; `web/translations/zh/LC_MESSAGES/messages.po` holds the Chinese and is
the source a translator edits (plural forms: zh has one). No compiled `.mo` is kept in git: the
`.po` is compiled in memory once per process (`translations()`).

    .venv/bin/python -m web.catalogue extract   # refresh web/translations/messages.pot (Babel)
    .venv/bin/python -m web.catalogue check     # list extracted messages without Chinese (or
                                                # whose Chinese has other placeholders)
    .venv/bin/python -m web.catalogue absorb    # fold a leftover web/i18n_*.py dict into the .po

docs/i18n.md describes the workflow.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from string import Formatter
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import Translations

WEB = Path(__file__).resolve().parent
ROOT = WEB.parent
TRANSLATIONS = WEB / "translations"
PO = TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po"
POT = TRANSLATIONS / "messages.pot"
BABEL_CFG = ROOT / "babel.cfg"
LOCALE = "zh"
PROJECT = "ERTS"

#: what templates and code call; `ngettext` takes singular and plural, `pgettext` a context
#: (msgctxt: one English text that needs two Chinese ones) and the text; `N_` marks a text
#: kept in a table, `N_(context, text)` one with a context (web/labels.py: the kind)
KEYWORDS: dict[str, Any] = {"_": None, "gettext": None, "ngettext": (1, 2),
                            "N_": {1: None, 2: ((1, "c"), 2)}, "pgettext": ((1, "c"), 2)}


def read_catalogue(path: Path = PO) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=LOCALE)


def write_catalogue(catalog: Catalog, path: Path = PO) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = BytesIO()
    write_po(buf, catalog, width=100, sort_output=True, ignore_obsolete=True,
             include_previous=False)
    path.write_bytes(buf.getvalue())


def singular_texts(catalog: Catalog) -> dict[str, str]:
    """msgid → Chinese of every translated, non-fuzzy singular message without a context."""
    out: dict[str, str] = {}
    for m in catalog:
        if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string \
                and not m.fuzzy and not m.context:
            out[m.id] = m.string
    return out


def overlay(catalog: Catalog, texts: Mapping[str, str]) -> list[str]:
    """Put `texts` (msgid → Chinese) into the catalogue; the msgids whose Chinese changed."""
    changed = []
    for msgid, zh in texts.items():
        have = catalog.get(msgid)
        if have is None:
            catalog.add(msgid, zh)
        elif have.string != zh or have.fuzzy:
            if have.string:
                changed.append(msgid)
            have.string = zh
            have.flags.discard("fuzzy")
    return changed


def compile_translations(catalog: Catalog) -> Translations:
    """The catalogue compiled in memory (no .mo on disk)."""
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


@lru_cache(maxsize=1)
def catalogue() -> Catalog:
    """The .po as read once per process (treat as read-only; `read_catalogue` for a copy)."""
    return read_catalogue()


@lru_cache(maxsize=1)
def translations() -> Translations:
    """Chinese: the .po compiled once per process (no .mo on disk)."""
    return compile_translations(catalogue())


# --- extraction --------------------------------------------------------------------------


@dataclass
class Extracted:
    msgid: str | tuple[str, ...]
    context: str | None = None
    locations: list[str] = field(default_factory=list)


def extract(root: Path = ROOT, cfg: Path = BABEL_CFG) -> list[Extracted]:
    """Every message Babel's extractors find under `root` as babel.cfg maps it (templates via
    Jinja2's extractor, code via Babel's Python extractor), with its places."""
    from babel.messages.extract import extract_from_dir  # the tools, not the pages' path
    from babel.messages.frontend import parse_mapping_cfg

    with cfg.open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, str(cfg))
    found: dict[tuple[str | None, str | tuple[str, ...]], Extracted] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(root), method_map, options_map, keywords=KEYWORDS):
        if not message or (isinstance(message, tuple) and not all(message)):
            continue
        msgid = message if isinstance(message, str) else tuple(message)
        found.setdefault((context, msgid), Extracted(msgid, context)).locations.append(
            f"{filename}:{lineno}")
    return list(found.values())


def untranslated(found: Iterable[Extracted], catalog: Catalog) -> list[Extracted]:
    """Extracted messages without Chinese in the catalogue (a plural message needs its
    plural form, a singular one a singular message)."""
    missing = []
    for e in found:
        if isinstance(e.msgid, tuple):
            m = catalog.get(e.msgid[0], e.context)
            ok = (m is not None and not m.fuzzy and isinstance(m.string, tuple | list)
                  and all(m.string))
        else:
            m = catalog.get(e.msgid, e.context)
            ok = m is not None and not m.fuzzy and isinstance(m.string, str) and bool(m.string)
        if not ok:
            missing.append(e)
    return missing


_PERCENT_NAME = re.compile(r"%\((\w+)\)")


def placeholders(text: str) -> set[str]:
    """The named placeholders of a text: `{name}` (str.format) and `%(name)s`."""
    names = set(_PERCENT_NAME.findall(text))
    with suppress(ValueError):  # a lone brace: not a str.format text
        names |= {f for _lit, f, _spec, _conv in Formatter().parse(text) if f}
    return names


def misplaced(found: Iterable[Extracted], catalog: Catalog) -> list[tuple[Extracted, str]]:
    """Extracted messages whose Chinese names other placeholders than the English (a value
    the Chinese drops, or one `format` cannot fill), with the Chinese."""
    out = []
    for e in found:
        english = e.msgid if isinstance(e.msgid, tuple) else (e.msgid,)
        m = catalog.get(english[0], e.context)
        if m is None or not m.string:
            continue
        names = set().union(*(placeholders(t) for t in english))
        for zh in (m.string if isinstance(m.string, tuple | list) else (m.string,)):
            if zh and placeholders(zh) != names:
                out.append((e, zh))
    return out


def write_template(found: Iterable[Extracted], path: Path = POT) -> int:
    """messages.pot: every extracted message, with its places."""
    pot = Catalog(project=PROJECT, version="0.1.0", copyright_holder=PROJECT, fuzzy=False,
                  header_comment="# Every message Babel's extraction finds in the ERTS templates "
                  "and code\n# (python -m web.catalogue extract). Generated: edit the .po.")
    n = 0
    for e in found:
        locs = [(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])) for p in e.locations]
        pot.add(e.msgid, None, locations=locs, context=e.context)
        n += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = BytesIO()
    write_po(buf, pot, width=100, sort_output=True)
    path.write_bytes(buf.getvalue())
    return n


# --- the per-subject dicts (issue 18: folded into the .po) ----------------------------------
# The pages once kept texts in `web/i18n_<subject>.py` modules (`ZH: dict[str, str]`) merged
# over the .po at start-up. They are gone; nothing merges such a module any more, so `check`
# fails while one exists, and `absorb` folds its entries into the .po (then delete it).


def subject_modules() -> Iterator[tuple[str, dict[str, str]]]:
    """Each `web/i18n_<subject>.py` left over, and its ZH dict."""
    for path in sorted(WEB.glob("i18n_*.py")):
        name = f"web.{path.stem}"
        zh = getattr(importlib.import_module(name), "ZH", None)
        if isinstance(zh, dict):
            yield name, zh


def absorb(path: Path = PO) -> tuple[int, list[str], list[str]]:
    """Move the entries of every web/i18n_*.py dict into the .po; (entries, modules, msgids
    whose Chinese a module changed, with the module)."""
    catalog = read_catalogue(path)
    n, names, changed = 0, [], []
    for name, zh in subject_modules():  # in the order of their names: the last one wins
        changed += [f"{msgid} ({name})" for msgid in overlay(catalog, zh)]
        n += len(zh)
        names.append(name)
    write_catalogue(catalog, path)
    return n, names, changed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m web.catalogue", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["extract", "check", "absorb"])
    args = ap.parse_args(argv)
    if args.command == "absorb":
        n, names, changed = absorb()
        print(f"{n} entries of {len(names)} modules now in {PO.relative_to(ROOT)}")
        for msgid in changed:
            print(f"  changed by a module: {msgid!r}")
        if names:
            print("delete these modules (their texts are in the .po now):")
            print("  " + " ".join(n.replace(".", "/") + ".py" for n in names))
        return 0
    found = extract()
    if args.command == "extract":
        n = write_template(found)
        print(f"{n} messages in {POT.relative_to(ROOT)}")
        return 0
    catalog = read_catalogue(PO)
    missing = untranslated(found, catalog)
    for e in missing:
        where = f" (msgctxt {e.context!r})" if e.context else ""
        print(f"{e.msgid!r}{where}: {', '.join(e.locations)}")
    wrong = misplaced(found, catalog)
    for e, zh in wrong:
        print(f"{e.msgid!r}: the Chinese {zh!r} has other placeholders; "
              f"{', '.join(e.locations)}")
    leftovers = [name for name, _zh in subject_modules()]
    for name in leftovers:
        print(f"{name.replace('.', '/')}.py: nothing reads it; run `absorb`, then delete it")
    print(f"{len(found)} messages, {len(missing)} without Chinese"
          + (f", {len(wrong)} with other placeholders in Chinese" if wrong else ""))
    return 1 if missing or wrong or leftovers else 0


if __name__ == "__main__":
    sys.exit(main())
