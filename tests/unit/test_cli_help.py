"""Every `erts` option and positional says what it takes, and every option that reads a file
names the section of `docs/` that describes the file's format (issue 20).

The test walks the whole argparse tree (`app.cli.build_parser()`, every subcommand at every
depth). An option reads a file when its name is `--input`, `--csv` or `--file`, or when its
metavar contains `FILE` (`erts scenario compare --a FILE|ID`); its help must contain a link
`docs/<name>.md#<anchor>` whose file exists and has a heading with that anchor (GitHub's rule:
lower case, punctuation dropped but `-` and `_`, spaces to `-`, repeats numbered `-1`, `-2`).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
FILE_OPTIONS = {"--input", "--csv", "--file"}
DOC_LINK = re.compile(r"docs/([\w./-]+\.md)#([\w-]+)")


def parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ("erts",)
            ) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield " ".join(path), parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from parsers(sub, (*path, name))


def arguments_of(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions
            if not isinstance(a, argparse._HelpAction | argparse._SubParsersAction)]


def arguments() -> list[tuple[str, argparse.Action]]:
    """(command, action) of every option and positional but --help and subcommand slots."""
    return [(command, action) for command, parser in parsers(build_parser())
            for action in arguments_of(parser)]


def reads_a_file(action: argparse.Action) -> bool:
    metavar = action.metavar if isinstance(action.metavar, str) else ""
    return bool(FILE_OPTIONS & set(action.option_strings)) or "FILE" in metavar


def slug(heading: str) -> str:
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """The anchors of a Markdown file's headings (fenced code blocks skipped)."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if fenced or not match:
            continue
        base = slug(match.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def name(command: str, action: argparse.Action) -> str:
    return f"{command} {'/'.join(action.option_strings) or action.dest}"


def test_the_walk_reaches_every_command() -> None:
    commands = {c for c, _ in parsers(build_parser())}
    assert {"erts demo", "erts serve", "erts auction clear", "erts reserve optimise",
            "erts ledger resolve", "erts permits import", "erts sweep"} <= commands
    assert len(arguments()) > 50


def test_every_option_and_positional_has_help() -> None:
    missing = [name(c, a) for c, a in arguments()
               if not (a.help and a.help.strip()) or a.help == argparse.SUPPRESS]
    assert not missing, "options without help text:\n" + "\n".join(missing)


def test_the_file_options_are_the_ones_expected() -> None:
    """The rule above finds every input file the CLI reads (a new one must be named so)."""
    found = {name(c, a) for c, a in arguments() if reads_a_file(a)}
    assert found == {
        "erts permitted-quantity --input", "erts replay --input", "erts auction clear --input",
        "erts reserve optimise --input", "erts tax compute --input",
        "erts permits import --input", "erts scenario run --input", "erts scenario compare --a",
        "erts ledger verify --checkpoints",
        "erts scenario compare --b", "erts sweep --input"}


def test_every_file_option_names_its_format_section() -> None:
    problems = []
    for command, action in arguments():
        if not reads_a_file(action):
            continue
        links = DOC_LINK.findall(action.help or "")
        if not links:
            problems.append(f"{name(command, action)}: no docs/...md#section in its help")
        for file, anchor in links:
            path = ROOT / "docs" / file
            if not path.is_file():
                problems.append(f"{name(command, action)}: docs/{file} does not exist")
            elif anchor not in anchors(path.read_text(encoding="utf-8")):
                problems.append(f"{name(command, action)}: docs/{file} has no #{anchor}")
    assert not problems, "\n".join(problems)


def test_links_stay_whole_in_help_on_a_narrow_terminal(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    """argparse wraps help at hyphens; a link cut in two cannot be copied."""
    monkeypatch.setenv("COLUMNS", "50")
    checked = 0
    for command, parser in parsers(build_parser()):
        text = parser.format_help()
        for action in arguments_of(parser):
            for file, anchor in DOC_LINK.findall(action.help or ""):
                assert f"docs/{file}#{anchor}" in text, f"{command} --help:\n{text}"
                checked += 1
    assert checked >= 10


@pytest.mark.parametrize("heading, anchor", [
    ("Worked sheets (`erts permitted-quantity`)", "worked-sheets-erts-permitted-quantity"),
    ("Input format", "input-format"),
    ("`erts sweep --input`: sweep.json", "erts-sweep---input-sweepjson"),
    ("Orders, one a line (orders.jsonl)", "orders-one-a-line-ordersjsonl"),
])
def test_anchor_rule(heading: str, anchor: str) -> None:
    assert anchor in anchors(f"# Title\n\n## {heading}\n")


def test_repeated_headings_are_numbered_and_code_is_skipped() -> None:
    text = "## Example\n\n```sh\n# not a heading\n```\n\n### Example\n"
    assert anchors(text) == {"example", "example-1"}
