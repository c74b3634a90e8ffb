"""Every command and action answers ``--help`` (``cohort --help`` once crashed on a bare ``%`` in a help
line), and the shared wiring of ``loadwatch.dashboard.cli.argtypes`` keeps the contract the command modules rely on:
``--db`` after an action's own arguments, mutually exclusive flags refused together (exit 2), and the one
error-to-exit rule (the runner's input refused: exit 2 and one line naming the command; otherwise the
CLI's own handler: exit 1)."""

from __future__ import annotations

import argparse

import pytest

from loadwatch.dashboard.cli import argtypes
from loadwatch.dashboard.cli.main import build_parser, main


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    yield path
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _commands(child, (*path, name))


COMMANDS = list(_commands(build_parser()))


def test_the_walk_finds_every_group_and_action():
    names = {" ".join(p) for p in COMMANDS}
    for expected in ("cohort", "cohort analyse", "shoes retire", "session delete", "pain assessed", "alerts disable",
                     "outcome psfs list", "programme status", "activities set", "rebuild"):
        assert expected in names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "loadwatch")
def test_every_command_answers_help(capsys, path):
    with pytest.raises(SystemExit) as done:
        main([*path, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: loadwatch" + "".join(f" {p}" for p in path))
    assert "%(" not in out and "%%" not in out


def test_cohort_help_says_95_percent(capsys):
    with pytest.raises(SystemExit):
        main(["cohort", "--help"])
    assert "hazard ratios with 95% intervals" in " ".join(capsys.readouterr().out.split())


def test_db_comes_after_an_actions_own_arguments():
    sub = argparse.ArgumentParser(prog="x").add_subparsers()
    parser = argtypes.add_command(sub, "go", print, (argtypes.id_arg(), argtypes.json_flag()),
                                  db=argtypes.child_db_option, defaults={"extra": 3})
    assert [a.dest for a in parser._actions] == ["help", "id", "json", "db"]
    args = parser.parse_args(["7", "--json"])
    assert (args.id, args.json, args.func, args.extra) == (7, True, print, 3)
    assert not hasattr(args, "db")  # SUPPRESS: a --db given before the action is not overwritten


def test_one_of_refuses_both(capsys):
    with pytest.raises(SystemExit) as done:
        main(["alerts", "add", "--metric", "distance_km", "--above", "30", "--below", "10"])
    assert done.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:
        main(["pain", "assessed", "--date", "2026-12-01", "--cleared", "--return-step", "2"])
    assert done.value.code == 2


def test_refused_input_exits_2_with_the_command_named(capsys):
    assert main(["session", "delete", "999"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("loadwatch session delete: ")
    assert main(["shoes", "retire", "No such pair"]) == 2
    assert capsys.readouterr().err.startswith("loadwatch shoes retire: ")


def test_other_store_errors_reach_the_cli_handler(capsys):
    assert main(["alerts", "remove", "999"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == "loadwatch: no rule with id 999"


def test_store_call_prints_what_it_did(capsys):
    assert main(["session", "add", "--date", "2026-11-30", "--kind", "core", "--minutes", "20"]) == 0
    said = capsys.readouterr().out.strip()
    assert said.startswith("logged session 1: ") and "20" in said and "None" not in said
    assert main(["session", "delete", "1"]) == 0
    assert capsys.readouterr().out.strip() == "deleted session 1"
