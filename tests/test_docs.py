"""The docs site's generated pages: the command-line reference holds every command and flag --help has."""

from __future__ import annotations

import argparse
import pathlib
import re

from tilerunner.evolve.commands.cli import build_parser
from tilerunner.evolve.commands.cli_reference import cli_reference


def parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from parsers(sub)


def test_the_cli_reference_has_every_command_and_every_flag():
    text = cli_reference()
    everything = list(parsers(build_parser()))
    assert len(everything) > 20
    for parser in everything[1:]:
        assert f"# `{parser.prog}`" in text, parser.prog
        assert parser.format_usage().strip().removeprefix("usage: ") in text, parser.prog
        for action in parser._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help") and action.help != argparse.SUPPRESS:
                    assert f"`{flag}`" in text, (parser.prog, flag)


def test_help_texts_with_pipes_do_not_break_the_tables():
    rows = [line for line in cli_reference().splitlines() if line.startswith("| `")]
    outside_code = [re.sub(r"`[^`]*`", "", line).replace("\\|", "") for line in rows]
    assert rows and all(line.count("|") == 4 for line in outside_code)
    assert any("`local|ray|cuda`" in line for line in rows)  # a pipe in a code span stays as it is


def test_every_link_and_image_in_the_readme_resolves_in_the_checkout():
    """Relative links and images in README.md name files that exist (GitHub and a checkout resolve them;
    PyPI cannot until the project has a public URL: see the architecture page, "Development notes")."""
    root = pathlib.Path(__file__).resolve().parents[1]
    readme = root / "README.md"
    targets = re.findall(r"\]\(([^)\s]+)\)", readme.read_text())
    local = [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]
    assert any(t.endswith(".gif") for t in local)  # the picture is among them
    assert [t for t in local if not (root / t).is_file()] == []


def test_the_readme_and_getting_started_show_the_commands_from_one_source():
    from tilerunner.evolve.commands.cli_reference import commands_table

    root = pathlib.Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- commands-table", 1)[1].split("-->\n", 1)[1].split("\n\n", 1)[0]
    assert block == commands_table(nested=False, escape_pipes=True), "README's table: paste commands_table()'s"
    assert "<!-- commands-table -->" in (root / "evolve/docs/pages/getting-started.md").read_text(encoding="utf-8")
    full = commands_table()
    for sub in ("levels solve ID|FILE", "bench generalize", "replay [FILE|NAME]"):  # every subcommand, its shape
        assert f"`tilerunner {sub}" in full
    assert "\\|" not in full and "`tilerunner eval [FILE\\|DIR ...]`" in block
