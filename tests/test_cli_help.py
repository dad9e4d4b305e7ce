"""Every command's --help reads alike: positionals say what they take, required flags are listed as required; and
`tilerunner --help` is quick: it lists the commands without loading what they run on (Numba, numpy)."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from tilerunner.evolve.commands.cli import COMMANDS, build_parser


def _parsers(parser: argparse.ArgumentParser, name: str = "tilerunner") -> list[tuple[str, argparse.ArgumentParser]]:
    """`parser` and every subcommand's parser below it, by their command line."""
    found = [(name, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                found += _parsers(sub, f"{name} {sub_name}")
    return found


PARSERS = _parsers(build_parser())


def test_every_command_is_walked():
    names = [name for name, _ in PARSERS]
    assert {"tilerunner evolve", "tilerunner eval", "tilerunner levels solve", "tilerunner bench generalize"} <= set(
        names
    )


@pytest.mark.parametrize(("name", "parser"), PARSERS, ids=[name for name, _ in PARSERS])
def test_positionals_say_what_they_take(name, parser):
    for action in parser._actions:
        if not action.option_strings and not isinstance(action, argparse._SubParsersAction):
            assert action.help, f"{name}: {action.metavar or action.dest} has no help"


@pytest.mark.parametrize(("name", "parser"), PARSERS, ids=[name for name, _ in PARSERS])
def test_required_flags_are_listed_under_required(name, parser):
    for group in parser._action_groups:
        for action in group._group_actions:
            if action.option_strings and action.required:
                assert group.title == "required", f"{name}: {action.option_strings[0]} is listed under {group.title!r}"


def test_help_and_a_missing_or_unknown_command_load_no_numba():
    code = (
        "import sys\n"
        "from tilerunner.evolve.commands.entry import main\n"
        "for argv in (['--help'], [], ['nope'], ['--version']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted({'numba', 'numpy', 'gymnasium'} & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines()[-1] == "[]", done.stdout
    for name, (_, about) in COMMANDS.items():
        assert f"{name}    " in done.stdout and " ".join(about.split()[:3]) in done.stdout


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_command_typed_gets_the_flags_it_would_have_in_the_full_parser(name, capsys):
    # The lazy parser declares a command when it is typed: its --help is the full parser's, word for word.
    helps = []
    for parser in (build_parser(lazy=True), build_parser()):
        with pytest.raises(SystemExit):
            parser.parse_args([name, "--help"])
        helps.append(capsys.readouterr().out)
    assert helps[0] == helps[1] and "usage: tilerunner " + name in helps[0]
