"""Every command's --help reads alike: positionals say what they take, required flags are listed as required."""

from __future__ import annotations

import argparse

import pytest

from tilerunner.evolve.commands.cli import build_parser


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
