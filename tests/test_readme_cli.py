"""README's command-line summary lists every command and every flag of the real parser, and nothing the
parser does not have (``--db``, which every command takes, is said once in the text)."""

from __future__ import annotations

import argparse
import re

from loadwatch.dashboard.cli.main import build_parser
from tests.conftest import REPO_ROOT


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    if not subs[0].required and _flags(parser):
        # a command that runs on its own as well as through its subcommands (`activities` / `activities set`)
        yield path, parser
    for name, child in subs[0].choices.items():
        yield from _leaves(child, (*path, name))


def _readme_lines() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## The command line", 1)[1]
    block = section.split("```", 2)[1]
    return [ln.split("#", 1)[0].rstrip() for ln in block.splitlines() if ln.startswith("loadwatch ")]


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    return {max(a.option_strings, key=len) for a in parser._actions
            if a.option_strings and not isinstance(a, argparse._HelpAction) and "--db" not in a.option_strings}


def test_readme_lists_every_command_and_flag():
    lines = _readme_lines()
    commands = dict(_leaves(build_parser()))
    by_path: dict[tuple[str, ...], str] = {}
    for line in lines:
        words = line.split()[1:]
        path = next((p for p in sorted(commands, key=len, reverse=True) if tuple(words[:len(p)]) == p), None)
        assert path is not None, f"README names a command the parser does not have: {line!r}"
        by_path[path] = line
    missing = [" ".join(p) for p in commands if p not in by_path]
    assert not missing, f"commands missing from README's CLI summary: {missing}"
    for path, parser in commands.items():
        written = set(re.findall(r"--[a-z][a-z-]*", by_path[path]))
        assert written == _flags(parser), (" ".join(path), sorted(_flags(parser) ^ written))
