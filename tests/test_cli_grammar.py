"""One grammar across `tilerunner`'s commands (issue 23): every parser walked, every flag held to it.

A set of levels is `--level SET`; numbers say their range in --help and their metavar says what they
are; every command has a description; nothing sends the reader to the README; renamed flags keep
no old spelling (the project was never published).
"""

from __future__ import annotations

import argparse
import contextlib
import io

import pytest

from tilerunner.evolve.commands.cli import build_parser
from tilerunner.evolve.flags.types import number_text

PARSER = build_parser()

# Spellings flags had before they were renamed, which no command takes.
OLD_NAMES = [
    ["bench", "ray", "--levels", "gen:1-3:1"],
    ["bench", "ray", "--levels=gen:1-3:1"],
    ["bench", "generalize", "--train", "gen:*:1"],
    ["bench", "generalize", "--minutes", "0.5"],
    ["bench", "net", "--population", "4"],
]
# Every command that plays levels the user picks, and so has `--level`.
TAKES_LEVELS = [
    ("evolve",),
    ("eval",),
    ("replay",),
    ("bench", "env"),
    ("bench", "learn"),
    ("bench", "evolve"),
    ("bench", "watch"),
    ("bench", "ray"),
    ("bench", "cuda"),
    ("bench", "generalize"),
]


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(path, parser) of `parser` and every subcommand below it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from walk(sub, (*path, name))


def options(parser: argparse.ArgumentParser):
    """The options --help shows (hidden aliases and -h aside)."""
    return [
        a
        for a in parser._actions
        if a.option_strings
        and a.help != argparse.SUPPRESS
        and not isinstance(a, (argparse._HelpAction, argparse._VersionAction))
    ]


EVERYTHING = list(walk(PARSER))
FLAGS = [(" ".join(path), action) for path, parser in EVERYTHING for action in options(parser)]


def parse(argv: list[str]) -> tuple[argparse.Namespace | None, int | None, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            return PARSER.parse_args(argv), None, err.getvalue()
        except SystemExit as exc:
            return None, exc.code, err.getvalue()


def spellings(value: float) -> set[str]:
    """How --help may write a range end: `100,000`, `100000`, `1e9`, `0.01`, `2**63-1`."""
    out = {number_text(value), str(value)}
    if float(value).is_integer():
        out |= {f"{int(value):,}", str(int(value))}
    if value == 2**63 - 1:
        out.add("2**63-1")
    return out


def test_the_walk_sees_every_command():
    paths = {path for path, _ in EVERYTHING}
    assert {("evolve",), ("levels", "solve"), ("bench", "generalize"), ("bench", "cuda"), ("plot",)} <= paths
    assert len(FLAGS) > 100


@pytest.mark.parametrize("path,parser", EVERYTHING[1:], ids=[" ".join(path) for path, _ in EVERYTHING[1:]])
def test_every_command_and_subcommand_has_a_description(path, parser):
    assert parser.description and len(parser.description.split()) >= 5, f"tilerunner {' '.join(path)}"


def test_no_help_text_sends_the_reader_to_the_readme():
    texts = [(p.prog, p.description or "", p.epilog or "") for _, p in EVERYTHING]
    texts += [(where, a.help or "", "") for where, a in FLAGS]
    for _, parser in EVERYTHING:  # the one-line summaries in the parent's list of subcommands
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                texts += [(choice.dest, choice.help or "", "") for choice in action._choices_actions]
    for where, *text in texts:
        assert "readme" not in " ".join(text).lower(), where


def test_metavars_say_what_a_flag_takes():
    # argparse's default metavar is the dest upper-cased (`--frame-skip FRAME_SKIP`): every option that
    # takes a value names it instead (N, SET, MINUTES, N,N,...), unless it lists its choices.
    for where, action in FLAGS:
        if action.nargs == 0:
            continue
        shown = PARSER._get_formatter()._metavar_formatter(action, action.dest.upper())(1)[0]
        assert shown != action.dest.upper(), (where, action.option_strings, shown)
        assert action.metavar is not None or action.choices is not None, (where, action.option_strings)


def test_every_numeric_flag_shows_its_range_in_help():
    numeric = [(where, a) for where, a in FLAGS if hasattr(a.type, "range")]
    assert len(numeric) > 60
    for where, action in numeric:
        lo, hi = action.type.range
        help_text = action.help or ""
        shown = [f"{a} to {b}" for a in spellings(lo) for b in spellings(hi)]
        assert any(text in help_text for text in shown), (where, action.option_strings, help_text, shown[:2])
    # ... and every number type has its range on it (int_in, float_in, the lists of bench).
    for where, action in FLAGS:
        name = getattr(action.type, "__name__", "")
        if name.startswith(("whole number from", "number from")):
            assert hasattr(action.type, "range"), (where, action.option_strings)


def test_playback_lengths_are_seconds_and_budgets_minutes():
    for where, action in FLAGS:
        if action.option_strings[0] == "--duration":
            assert action.metavar == "SECONDS" and "SECONDS" in action.help, where
        if action.option_strings[0] == "--time-limit":
            assert action.metavar == "MINUTES" and "minutes" in action.help, where
        assert action.option_strings[0] not in ("--minutes", "--seconds", "--hours"), where


def test_seeds_is_a_count_everywhere():
    seeds = [(where, a) for where, a in FLAGS if a.option_strings[0] == "--seeds"]
    assert len(seeds) >= 3
    for where, action in seeds:
        assert action.metavar == "N" and "seeds 0 to N-1" in action.help, where
        args, code, _ = parse([*where.split(), "--seeds", "3"])
        assert code is None and args.seeds == 3


def test_a_level_set_is_spelled_level_wherever_a_command_takes_levels():
    by_path = dict(EVERYTHING)
    for path in TAKES_LEVELS:
        flags = {s for a in options(by_path[path]) for s in a.option_strings}
        assert "--level" in flags, path
    for where, action in FLAGS:
        names = set(action.option_strings)
        assert not names & {"--levels", "--train", "--level-set", "--levels-set"}, (where, names)
        if action.metavar in ("SET", "ID") and action.dest != "validate":  # --validate: held-out levels, another job
            assert names == {"--level"} and action.dest == "level", (where, names)


def test_a_list_of_counts_is_a_plural_flag_with_a_list_metavar():
    for where, action in FLAGS:
        if action.metavar == "N,N,...":
            assert action.option_strings[0].endswith("s"), (where, action.option_strings)
    # One count is `--actors N` (evolve); bench ray's list of them is `--actor-counts N,N,...`.
    assert [a.metavar for w, a in FLAGS if a.option_strings[0] == "--actors"] == ["N"]


@pytest.mark.parametrize("argv", OLD_NAMES, ids=" ".join)
def test_old_spellings_are_gone_and_refused_in_one_line(argv):
    # The project was never published: a renamed flag has one name, its new one.
    args, code, err = parse(argv)
    assert args is None and code == 2 and len(err.splitlines()) == 1, err
    assert "unrecognized arguments" in err and argv[2].split("=")[0] in err
    assert argv[2].split("=")[0] + " " not in "\n".join(p.format_help() for _, p in EVERYTHING)
