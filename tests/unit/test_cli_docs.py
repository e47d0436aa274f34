"""docs/cli.md describes every `erts` command and every option of it (issue 20).

The walk is the one of `test_cli_help` (`app.cli.build_parser()`, every subcommand at every
depth). Each command that runs something (a parser without subcommands) must have a heading
in docs/cli.md naming it in code (`` #### `erts ledger verify` ``), and the section under
that heading (up to the next heading of the same or a higher level) must name each of its
options (`--seed`) and positionals (`ACCOUNT`) in code. A command added to the CLI without
its documentation, or an option added to a command but not to its section, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.cli import build_parser
from tests.unit.test_cli_help import arguments_of, parsers

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")


def sections(markdown: str) -> dict[str, str]:
    """Heading text -> the text under it, up to the next heading of its level or higher
    (fenced code blocks are not scanned for headings)."""
    lines = markdown.splitlines()
    heads: list[tuple[int, int, str]] = []  # line index, level, text
    fenced = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        m = HEADING.match(line)
        if m and not fenced:
            heads.append((i, len(m.group(1)), m.group(2)))
    out: dict[str, str] = {}
    for k, (i, level, text) in enumerate(heads):
        end = next((j for j, lv, _t in heads[k + 1:] if lv <= level), len(lines))
        out[text] = "\n".join(lines[i + 1:end])
    return out


def leaf_commands() -> list[tuple[str, list[str]]]:
    """(command, the names its section must show) of every command that runs something."""
    out = []
    for command, parser in parsers(build_parser()):
        if parser._subparsers is not None:
            continue
        names = []
        for action in arguments_of(parser):
            names.append(action.option_strings[0] if action.option_strings
                         else (action.metavar if isinstance(action.metavar, str)
                               else action.dest.upper()))
        out.append((command, names))
    return out


def documented(markdown: str, command: str, names: list[str]) -> list[str]:
    """What docs/cli.md lacks for `command`: its heading, or options its section omits."""
    found = sections(markdown)
    section = found.get(f"`{command}`")
    if section is None:
        return [f"{command}: no heading `{command}`"]
    return [f"{command}: its section does not name {n}" for n in names
            if not re.search(rf"`{re.escape(n)}(?![\w-])", section)]


def test_every_command_and_option_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    problems = [p for command, names in leaf_commands()
                for p in documented(text, command, names)]
    assert not problems, "docs/cli.md lacks:\n" + "\n".join(problems)


def test_the_walk_finds_the_commands_that_run() -> None:
    leaves = dict(leaf_commands())
    assert "erts db" not in leaves and "erts db upgrade" in leaves  # groups are skipped
    assert leaves["erts demo"] == ["--seed", "--enterprises"]
    assert "ACCOUNT" in leaves["erts ledger resolve"]


@pytest.mark.parametrize("doc, problem", [
    ("# CLI\n\n## `erts demo`\n\n- `--seed N`\n", "erts demo: its section does not name "
                                                  "--enterprises"),
    ("## `erts demo`\n\n- `--seed N`\n\n## `erts serve`\n\n`--enterprises`\n",
     "erts demo: its section does not name --enterprises"),  # another command's section
    ("## `erts serve`\n\n`--seed` `--enterprises`\n", "erts demo: no heading `erts demo`"),
    ("## `erts demo`\n\n```\n## `erts x`\n```\n\n`--seed-file` `--enterprises`\n",
     "erts demo: its section does not name --seed"),  # a longer option is not the option
])
def test_a_missing_heading_or_option_is_named(doc: str, problem: str) -> None:
    assert problem in documented(doc, "erts demo", ["--seed", "--enterprises"])


def test_a_complete_section_passes() -> None:
    doc = ("## `erts demo`\n\nLoads.\n\n### Options\n\n- `--seed N`: the seed.\n"
           "- `--enterprises N`: how many.\n\n## `erts serve`\n")
    assert documented(doc, "erts demo", ["--seed", "--enterprises"]) == []
