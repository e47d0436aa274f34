"""`erts` never prints a traceback: every failure is one line `erts: code: message` on stderr
with exit 2 (bad input), 3 (environment) or 1 (an unexpected error), through `main` and
through a real process (issue 19, "The CLI")."""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app import cli
from app.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
LINE = re.compile(r"^erts: [a-z_]+: \S.*$")
DEEP = "[" * 200_000 + "]" * 200_000
UNREACHABLE_DB = "postgresql://nobody@127.0.0.1:1/none"


def one_error_line(err: str, code: str) -> None:
    lines = [x for x in err.splitlines() if x.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert LINE.match(lines[0]), lines[0]
    assert lines[0].startswith(f"erts: {code}: "), lines[0]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    binary = tmp_path / "binary.json"
    binary.write_bytes(bytes(range(256)) * 4)
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP)
    deep_lines = tmp_path / "deep.jsonl"
    deep_lines.write_text('{"op": "limit", "x": ' + DEEP + "}\n")
    return {"binary": str(binary), "deep": str(deep), "deep_lines": str(deep_lines),
            "missing": str(tmp_path / "no" / "such.json")}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A development environment on a throw-away SQLite file; no debug re-raise."""
    monkeypatch.setenv("ERTS_ENV", "development")
    monkeypatch.delenv("ERTS_SECRET_KEY", raising=False)
    monkeypatch.delenv("ERTS_DEBUG", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")


FILE_COMMANDS = [["permitted-quantity"], ["auction", "clear"], ["reserve", "optimise"],
                 ["tax", "compute"], ["replay"]]


@pytest.mark.parametrize("command", FILE_COMMANDS, ids=" ".join)
def test_binary_input_is_bad_input(command: list[str], files: dict[str, str], env: None,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--input", files["binary"]]) == 2
    one_error_line(capsys.readouterr().err, "not_text")


@pytest.mark.parametrize("command", FILE_COMMANDS[:4], ids=" ".join)
def test_deeply_nested_json_is_bad_input(command: list[str], files: dict[str, str], env: None,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--input", files["deep"]]) == 2
    one_error_line(capsys.readouterr().err, "input_too_deep")


def test_deeply_nested_order_line_is_bad_input(files: dict[str, str], env: None,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "--input", files["deep_lines"]]) == 2
    one_error_line(capsys.readouterr().err, "input_too_deep")


@pytest.mark.parametrize("command", FILE_COMMANDS, ids=" ".join)
def test_missing_input_file_is_the_environment(command: list[str], files: dict[str, str],
                                               env: None,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--input", files["missing"]]) == 3
    err = capsys.readouterr().err
    one_error_line(err, "file_unreadable")
    assert files["missing"] in err


@pytest.mark.parametrize("argv", [
    ["replay", "--input", "-", "--min-lot", "-3"],
    ["replay", "--input", "-", "--min-lot", "0"],
    ["replay", "--input", "-", "--min-lot", "ten"],
    ["serve", "--port", "99999"],
    ["serve", "--port", "0"],
    ["serve", "--port", "-1"],
    ["serve", "--workers", "0"],
    ["demo", "--enterprises", "-5"],
    ["sweep", "--input", "-", "--batch", "0"],
    ["scenario", "run", "--id", "0"],
    ["compute", "--years", "20260"],
    ["no-such-command"],
    [],
], ids=lambda a: " ".join(a) or "nothing")
def test_argument_errors_exit_2_in_the_shape(argv: list[str], env: None,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    one_error_line(capsys.readouterr().err, "bad_argument")


def test_bad_price_band_is_bad_input(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "--input", "-", "--price-band", "5:-1"]) == 2
    one_error_line(capsys.readouterr().err, "bad_argument")


def test_refused_production_secret_is_the_environment(
        env: None, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ERTS_ENV", "production")
    monkeypatch.setenv("ERTS_SECRET_KEY", "tiny-secret-xyz")
    assert main(["serve", "--port", "8000"]) == 3
    err = capsys.readouterr().err
    one_error_line(err, "settings_refused")
    assert "ERTS_SECRET_KEY" in err and "tiny-secret-xyz" not in err
    assert main(["db", "upgrade"]) == 3
    one_error_line(capsys.readouterr().err, "settings_refused")


def test_port_in_use_is_the_environment(env: None,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        assert main(["serve", "--port", str(taken.getsockname()[1])]) == 3
        one_error_line(capsys.readouterr().err, "address_unavailable")
    finally:
        taken.close()


def test_unreachable_database_is_the_environment(env: None, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE_DB)
    assert main(["ledger", "verify"]) == 3
    one_error_line(capsys.readouterr().err, "database_unavailable")
    monkeypatch.setenv("DATABASE_URL", "nosuchdialect://x")
    assert main(["ledger", "verify"]) == 3
    one_error_line(capsys.readouterr().err, "settings_refused")


def test_an_unexpected_error_is_one_line_exit_1_unless_debugging(
        env: None, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def boom(_args: argparse.Namespace) -> int:
        raise ZeroDivisionError("the unforeseen")

    monkeypatch.setattr(cli, "cmd_permitted_quantity", boom)
    assert main(["permitted-quantity", "--input", "-"]) == 1
    err = capsys.readouterr().err
    one_error_line(err, "internal_error")
    assert "ZeroDivisionError: the unforeseen" in err
    monkeypatch.setenv("ERTS_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main(["permitted-quantity", "--input", "-"])


def _all_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
                 ) -> list[tuple[tuple[str, ...], str | None, argparse.ArgumentParser]]:
    out = []
    for name, help_, sp in cli._subcommands(parser):
        out.append(((*path, name), help_, sp))
        out += _all_parsers(sp, (*path, name))
    return out


def test_every_command_says_in_one_line_what_it_does(
        capsys: pytest.CaptureFixture[str]) -> None:
    parsers = _all_parsers(build_parser())
    assert len(parsers) > 20
    for path, help_, _sp in parsers:
        assert help_ and help_.strip(), f"erts {' '.join(path)} has no help"
        with pytest.raises(SystemExit) as exc:
            main([*path, "--help"])
        assert exc.value.code == 0
        out = capsys.readouterr().out
        body = out.split("\n\n")
        assert len(body) > 1 and body[1].strip(), f"erts {' '.join(path)} --help: {out}"
        # the description is the one-line help (argparse may wrap it)
        assert " ".join(body[1].split()) == " ".join(help_.split())
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "ERTS" in capsys.readouterr().out


# through a real process: what a person at a terminal sees -----------------------------------

def _run(argv: list[str], environ: dict[str, str], stdin: bytes = b""
         ) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "app.cli", *argv], cwd=ROOT,
                          input=stdin.decode("latin-1"), capture_output=True, text=True,
                          env=environ, timeout=120, check=False)
    return proc


@pytest.fixture
def proc_env(tmp_path: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("ERTS_DEBUG", "ERTS_SECRET_KEY", "ERTS_ENV", "DATABASE_URL")}
    environ["DATABASE_URL"] = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    return environ


@pytest.mark.parametrize(("argv", "environ", "code", "exit_code"), [
    (["permitted-quantity", "--input", "{binary}"], {}, "not_text", 2),
    (["tax", "compute", "--input", "{deep}"], {}, "input_too_deep", 2),
    (["replay", "--input", "{binary}"], {}, "not_text", 2),
    (["replay", "--input", "-", "--min-lot", "-3"], {}, "bad_argument", 2),
    (["serve", "--port", "99999"], {}, "bad_argument", 2),
    (["serve"], {"ERTS_ENV": "production"}, "settings_refused", 3),
    (["auction", "clear", "--input", "{missing}"], {}, "file_unreadable", 3),
    (["ledger", "verify"], {"DATABASE_URL": UNREACHABLE_DB}, "database_unavailable", 3),
], ids=lambda v: v if isinstance(v, str) else None)
def test_a_real_process_prints_no_traceback(argv: list[str], environ: dict[str, str],
                                            code: str, exit_code: int,
                                            files: dict[str, str],
                                            proc_env: dict[str, str]) -> None:
    proc = _run([a.format(**files) for a in argv], {**proc_env, **environ})
    assert proc.returncode == exit_code, proc.stderr
    one_error_line(proc.stderr, code)


def test_a_real_process_help(proc_env: dict[str, Any]) -> None:
    proc = _run(["--help"], proc_env)
    assert proc.returncode == 0 and "usage: erts" in proc.stdout and not proc.stderr
