"""The command-line reference as Markdown, made from the argparse parser itself, so the docs cannot drift from --help.

`cli_reference()` walks `build_parser()`: every command and subcommand gets a heading, its description,
its usage line and a table of its arguments (name, what it takes, help). The docs site's build inserts it
into its reference page (`evolve/docs/hooks.py`). `commands_table()` is the short table of commands the README
and the getting-started page show, from the same parser.
"""

from __future__ import annotations

import argparse

from tilerunner.evolve.commands.cli import build_parser


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser, str]]:
    """(name, parser, one-line help) of a parser's subcommands, in the order they were added."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            return [(name, sub, helps.get(name, "")) for name, sub in action.choices.items()]
    return []


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _arguments(parser: argparse.ArgumentParser) -> list[str]:
    """A Markdown table of a parser's arguments (positionals first, as --help lists them)."""
    rows = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)) or action.help == argparse.SUPPRESS:
            continue
        if action.option_strings:
            name = ", ".join(f"`{s}`" for s in action.option_strings)
            if action.nargs == 0:
                takes = ""
            elif action.choices:
                takes = "`" + "|".join(str(c) for c in action.choices) + "`"
            else:
                takes = f"`{action.metavar or action.dest.upper()}`"
        else:
            name, takes = f"`{action.metavar or action.dest}`", ""
        text = (action.help or "") % {"default": action.default, "prog": parser.prog} if action.help else ""
        # Python-Markdown keeps a pipe inside a code span in its cell (and would show an escaped one as `\|`).
        rows.append(f"| {' '.join(name.split())} | {' '.join(takes.split())} | {_cell(text)} |")
    if not rows:
        return []
    return ["| argument | takes | what it does |", "|---|---|---|", *rows, ""]


def _section(name: str, parser: argparse.ArgumentParser, summary: str, depth: int) -> list[str]:
    lines = [f"{'#' * depth} `{parser.prog}`", ""]
    text = parser.description or summary
    if text:
        lines += [" ".join(text.split()), ""]
    usage = parser.format_usage().strip().removeprefix("usage: ")
    lines += ["```text", usage, "```", "", *_arguments(parser)]
    for sub_name, sub, sub_summary in _subcommands(parser):
        lines += _section(sub_name, sub, sub_summary, min(depth + 1, 4))
    return lines


def cli_reference() -> str:
    """Every `tilerunner` command as Markdown: headings, descriptions, usage and argument tables."""
    parser = build_parser()
    lines = [" ".join((parser.description or "").split()), ""]
    for name, sub, summary in _subcommands(parser):
        lines += _section(name, sub, summary, 2)
    return "\n".join(lines)


def _positionals(parser: argparse.ArgumentParser) -> str:
    """A command's positional arguments as its usage line writes them (` FILE [FILE ...]`), or a subcommand's."""
    words = []
    for action in parser._actions:
        if action.option_strings or action.help == argparse.SUPPRESS:
            continue
        name = action.metavar or ("COMMAND" if isinstance(action, argparse._SubParsersAction) else action.dest)
        shape = {"*": f"[{name} ...]", "+": f"{name} ...", "?": f"[{name}]"}
        words.append(shape.get(action.nargs, name) if not isinstance(action, argparse._SubParsersAction) else name)
    return "".join(f" {w}" for w in words)


def commands_table(nested: bool = True, escape_pipes: bool = False) -> str:
    """A Markdown table of the commands and their one-line help: with `nested`, every subcommand of `levels` and
    `bench` gets its row. `escape_pipes` writes `|` inside code as `\\|`, as GitHub's tables need (the README's);
    Python-Markdown's keep a pipe inside code as it is (the docs site's)."""
    rows = ["| command | what it does |", "|---|---|"]

    def add(prefix: str, parser: argparse.ArgumentParser) -> None:
        for name, sub, summary in _subcommands(parser):
            if nested and _subcommands(sub):
                add(f"{prefix} {name}", sub)
                continue
            command = f"{prefix} {name}{_positionals(sub)}"
            if escape_pipes:
                command = command.replace("|", "\\|")
            rows.append(f"| `{command}` | {_cell(summary)} |")

    add("tilerunner", build_parser())
    return "\n".join(rows)
