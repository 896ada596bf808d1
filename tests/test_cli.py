"""The ``consultbot`` command line: every refusal is one line, every option is explained once."""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main, parser
from tests.harness import TOKEN

NOW = "2026-11-01T00:00:00.000000+00:00"
Capture = pytest.CaptureFixture[str]


# ---- the help ------------------------------------------------------------------------------


def _name(action: argparse.Action) -> str:
    return action.option_strings[0] if action.option_strings else action.dest


def undocumented(command: argparse.ArgumentParser, path: str = "consultbot") -> list[str]:
    """Every option, positional or subcommand without help, or whose help repeats another's."""
    command.format_help()  # a broken %(...)s placeholder fails here, not in an operator's face
    problems: list[str] = []
    seen: dict[str, str] = {}

    def check(name: str, help_text: str | None) -> None:
        if not help_text or help_text == argparse.SUPPRESS:
            problems.append(f"{path} {name}: no help")
        elif help_text in seen:
            problems.append(f"{path} {name}: same help as {seen[help_text]}")
        else:
            seen[help_text] = name

    for action in command._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                check(choice.dest, choice.help)
            for name, sub in action.choices.items():
                problems += undocumented(sub, f"{path} {name}")
        else:
            check(_name(action), action.help)
    return problems


def test_every_option_of_every_command_has_its_own_help() -> None:
    assert undocumented(parser()) == []


def test_the_walker_finds_a_missing_and_a_repeated_help() -> None:
    top = argparse.ArgumentParser(prog="consultbot")
    sub = top.add_subparsers(dest="command").add_parser("broadcast", help="queue a notice")
    sub.add_argument("--region", action="append", help="audience filter")
    sub.add_argument("--sector", action="append", help="audience filter")
    sub.add_argument("id")
    assert undocumented(top) == [
        "consultbot broadcast --sector: same help as --region",
        "consultbot broadcast id: no help",
    ]


def _sub(path: str) -> argparse.ArgumentParser:
    command = parser()
    for word in path.split():
        action = next(a for a in command._actions if isinstance(a, argparse._SubParsersAction))
        command = action.choices[word]
    return command


def _option(command: argparse.ArgumentParser, name: str) -> argparse.Action:
    return next(action for action in command._actions if name in action.option_strings)


def test_the_help_describes_the_commands_in_plain_words() -> None:
    description = parser().description or ""
    assert "``" not in description
    for group in ("run", "demo", "broadcast", "meetings", "surveys", "export", "evidence"):
        assert group in description
    broadcast, export = _sub("broadcast"), _sub("export")
    assert _option(broadcast, "--text").required
    assert _option(broadcast, "--country").choices == _option(export, "--country").choices
    assert tuple(_option(export, "--country").choices or ()) == ("CA", "US")
    titles = {group.title for group in broadcast._action_groups}
    assert {"notice", "audience", "when"} <= titles
    assert "output" in {group.title for group in export._action_groups}
    assert "audience" in {group.title for group in _sub("meetings create")._action_groups}


# ---- a database to refuse things on --------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path, capsys: Capture) -> Path:
    path = tmp_path / "cli.toml"
    database = tmp_path / "cli.db"
    path.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\n[storage]\npath = "{database}"\n', encoding="utf-8"
    )
    assert main(["surveys", "list", "--config", str(path)]) == 0  # creates the database
    with sqlite3.connect(database) as connection:
        connection.executemany(
            "INSERT INTO members (pseudonym, telegram_id, language, status, name, country, region,"
            " city, time_zone, themes, created_at, updated_at)"
            " VALUES (?, ?, 'es', 'active', 'P', 'US', ?, 'X', 'America/Chicago', '[]', ?, ?)",
            [("m-tx1", 501, "TX", NOW, NOW), ("m-ca1", 504, "CA", NOW, NOW)],
        )
    capsys.readouterr()
    return path


def query(config: Path, sql: str) -> list[Any]:
    with sqlite3.connect(config.parent / "cli.db") as connection:
        return connection.execute(sql).fetchall()


def run(config: Path, *arguments: str) -> int:
    """main() as the shell calls it; argparse's own refusals exit, so their code is returned."""
    try:
        return main([*arguments, "--config", str(config)])
    except SystemExit as exited:
        return int(exited.code or 0)


def one_line(capsys: Capture, prefix: str) -> str:
    """The refusal: exactly one line on stderr, starting with the command's prefix."""
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(prefix), lines
    return lines[0]


# ---- refusals ------------------------------------------------------------------------------


def test_clauses_load_refuses_as_clauses(config: Path, capsys: Capture) -> None:
    clauses = config.parent / "clauses.md"
    clauses.write_text("## not a clause heading\n", encoding="utf-8")
    assert run(config, "clauses", "load", str(clauses)) == 2
    assert "Malformed heading on line 1" in one_line(capsys, "clauses: ")
    assert run(config, "clauses", "load", str(config.parent / "absent.md")) == 2
    assert "cannot read" in one_line(capsys, "clauses: ")
    # Every problem of a file, one line each (as the chat lists them).
    clauses.write_text("## not a heading\n\n## nor this one\n", encoding="utf-8")
    assert run(config, "clauses", "load", str(clauses)) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and all(line.startswith("clauses: Malformed") for line in lines)
    assert "line 1" in lines[0] and "line 3" in lines[1]


def test_evidence_link_refuses_as_evidence(config: Path, capsys: Capture) -> None:
    assert run(config, "evidence", "link", "C9", "--answer", "3") == 2
    assert one_line(capsys, "evidence: ") == "evidence: There is no clause C9."


def test_broadcast_quiet_hours_are_explained_not_keyed(config: Path, capsys: Capture) -> None:
    assert run(config, "broadcast", "--text", "Hola", "--quiet", "9-21") == 2
    line = one_line(capsys, "broadcast: ")
    assert line == "broadcast: --quiet '9-21': Type the window like this: 09:00-21:00."
    assert query(config, "SELECT count(*) FROM broadcasts") == [(0,)]


def test_a_usage_mistake_is_one_line(config: Path, capsys: Capture) -> None:
    assert run(config, "broadcast", "--region", "US-TX") == 2
    assert "--text" in one_line(capsys, "broadcast: the following arguments are required")


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (
            ("--region", "Texas"),
            "--region 'Texas' is not a province or state (did you mean US-TX?)",
        ),
        (("--region", "Tejas"), "did you mean US-TX?"),
        (("--region", "Qeubec"), "did you mean CA-QC?"),
        (("--region", "ZZ-QQ"), "use the country and the two letters, as US-TX or CA-QC"),
        (("--region", "US-QC"), "not a province or state"),
        (("--region", "US-TX", "--country", "CA"), "--region US-TX is not in --country CA"),
        (("--sector", "acadmia"), "--sector 'acadmia' is not a configured sector"),
        (("--theme", "protections"), "(did you mean protection?)"),
        (("--association", "77"), "--association 77: no approved association has that id"),
    ],
)
def test_an_audience_matching_nothing_is_refused_with_a_hint(
    config: Path, capsys: Capture, option: tuple[str, ...], expected: str
) -> None:
    assert run(config, "broadcast", "--text", "Hola", *option) == 2
    assert expected in one_line(capsys, "broadcast: ")
    assert query(config, "SELECT count(*) FROM broadcasts") == [(0,)]


def test_the_same_audience_checks_hold_for_meetings_and_surveys(
    config: Path, capsys: Capture
) -> None:
    meeting = ("meetings", "create", "--title", "T", "--kind", "local", "--zone", "UTC")
    when = ("--start", "2099-12-05 10:00", "--duration", "1h")
    assert run(config, *meeting, *when, "--region", "Texas") == 2
    assert "did you mean US-TX?" in one_line(capsys, "meetings: ")
    assert query(config, "SELECT count(*) FROM meetings") == [(0,)]
    assert run(config, "surveys", "open", "1", "--sector", "academy") == 2
    assert "did you mean academia?" in one_line(capsys, "surveys: ")


def test_a_valid_region_in_any_case_reaches_its_members(config: Path, capsys: Capture) -> None:
    assert run(config, "broadcast", "--text", "Hola", "--region", "us-tx") == 0
    assert capsys.readouterr().out == "notice #1 queued for 1 member\n"


def test_export_pii_without_as_says_what_is_needed(config: Path, capsys: Capture) -> None:
    out = config.parent / "members.csv"
    assert run(config, "export", "members", "--pii", "--out", str(out)) == 2
    assert "--pii needs --as @user" in one_line(capsys, "export: ")
    assert not out.exists()
    # Still a refusal on the audit log, like one from chat.
    assert query(config, "SELECT action FROM audit_log") == [("export_refused",)]


# ---- what the tables say -------------------------------------------------------------------


def test_meetings_list_has_a_header_over_every_column(config: Path, capsys: Capture) -> None:
    create = (
        *("meetings", "create", "--title", "Reunión de Texas", "--kind", "local"),
        *("--start", "2099-12-05 10:00", "--zone", "America/Chicago", "--duration", "90m"),
        *("--capacity", "20", "--venue", "Houston", "--region", "US-TX", "--region", "CA-QC"),
        *("--sector", "academia"),
    )
    assert run(config, *create) == 0
    meeting_id = capsys.readouterr().out.strip()
    assert run(config, "meetings", "list") == 0
    header, row = capsys.readouterr().out.splitlines()
    headers = ["id", "status", "kind", "start", "zone", "yes", "maybe", "waiting", "title"]
    assert header.split() == headers
    # Each value sits under its header: the title starts where "title" does.
    assert row[header.index("title") :] == "Reunión de Texas"
    assert row[header.index("zone") :].startswith("America/Chicago")
    assert run(config, "meetings", "show", meeting_id) == 0
    shown = capsys.readouterr().out
    assert "  audience: region: Texas (US-TX) or Quebec (CA-QC); sector: academia\n" in shown
    assert "{" not in shown


def test_a_stopped_notice_is_stopped_everywhere(config: Path, capsys: Capture) -> None:
    assert run(config, "broadcast", "--text", "Hola", "--at", "2099-01-01 10:00") == 0
    capsys.readouterr()
    assert run(config, "broadcasts", "stop", "1") == 0
    assert capsys.readouterr().out == "notice #1 stopped\n"
    assert run(config, "broadcasts", "status") == 0
    assert capsys.readouterr().out.splitlines()[1].split()[:2] == ["1", "stopped"]
    assert run(config, "broadcasts", "stop", "1") == 2
    assert one_line(capsys, "broadcasts: ") == (
        "broadcasts: notice #1 is stopped, not being delivered"
    )


# ---- refusals only a separate process shows (tracebacks at exit, signals, pipes) ----------


def consultbot(*arguments: str, **options: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *arguments],
        capture_output="stdout" not in options,
        text=True,
        timeout=120,
        check=False,
        **options,
    )


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.parametrize("command", ["demo", "emulator"])
def test_a_port_in_use_is_one_line(tmp_path: Path, taken_port: int, command: str) -> None:
    database = ("--database", str(tmp_path / "demo.db")) if command == "demo" else ()
    done = consultbot(command, "--port", str(taken_port), *database)
    assert done.returncode == 2
    assert done.stderr == (
        f"{command}: port {taken_port} is already in use (choose another with --port)\n"
    )


def test_a_reader_that_leaves_ends_the_output_quietly(config: Path) -> None:
    # `consultbot broadcasts status | head -0`: the pipe is closed before anything is written.
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = consultbot(
            "broadcasts", "status", "--config", str(config), stdout=writer, stderr=subprocess.PIPE
        )
    finally:
        os.close(writer)
    assert done.stderr == ""
    assert done.returncode == 141  # 128 + SIGPIPE, what a shell shows for `yes | head`


def test_run_without_a_network_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    path = tmp_path / "run.toml"
    path.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "http://127.0.0.1:{closed_port}/bot"\n'
        f'[storage]\npath = "{tmp_path / "run.db"}"\n',
        encoding="utf-8",
    )
    done = consultbot("run", "--config", str(path))
    assert done.returncode == 4
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"run: cannot reach the Bot API at http://127.0.0.1:{closed_port}")
    assert TOKEN not in done.stderr
