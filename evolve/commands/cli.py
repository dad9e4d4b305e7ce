"""The `tilerunner` command line: one parser, one subcommand per job, errors as one line and exit 2.

Each command is a module of this package that declares its flags (`declare(parser)`) and runs them; it is
imported only when its command is typed, so `tilerunner --help` (and a mistyped command) loads no Numba.

Every command speaks one grammar (a test walks the parser to hold it): a set of levels is `--level SET`
(repeatable), one count is `--pop N` / `--actors N`, a list of counts a plural, `--sizes N,N,...`;
`--seeds N` means seeds 0 to N-1; run and bench budgets are `--time-limit MINUTES`, playback lengths
`--duration SECONDS`. Every numeric flag shows its range in --help and is refused outside it in one line
(`tilerunner.evolve.flags.types`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.core.version import package_version
from tilerunner.evolve.runs.json_fields import FormatError, printable

# `tilerunner COMMAND`, in --help's order: the module here that declares and runs it, and its line in --help.
COMMANDS = {
    "evolve": ("evolve", "evolve agents (the main job)"),
    "levels": ("levels", "list, show, check and solve levels"),
    "replay": ("replay", "play, check, or record a saved genome"),
    "watch": ("watch", "watch a run's newest champion play, live"),
    "eval": ("evaluate", "play saved genomes (or baselines) on a set of levels: finished share, progress, deaths"),
    "play": ("play", "play a level yourself, seeing what the agent sees"),
    "plot": ("plot", "draw a run's fitness by generation as a PNG"),
    "bench": ("bench", "measure speed and learning, each against a baseline measured in the same run"),
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad flag gets one line (not usage plus an error) and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _Commands(argparse._SubParsersAction):
    """The commands' parsers, each given its flags by its module on first use: when it is typed, or `declare`d."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.declared: set[str] = set()

    def declare(self, name: str) -> None:
        if name in COMMANDS and name not in self.declared:  # an unknown name is argparse's to refuse
            self.declared.add(name)
            importlib.import_module(f"tilerunner.evolve.commands.{COMMANDS[name][0]}").declare(self.choices[name])

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        self.declare(values[0])
        super().__call__(parser, namespace, values, option_string)


def build_parser(lazy: bool = False) -> argparse.ArgumentParser:
    """The full `tilerunner` parser; with `lazy`, a command's flags are declared only once it is typed."""
    parser = _Parser(
        prog="tilerunner", description="MarI/O-style neuroevolution: NEAT agents learn a tile platformer, fast."
    )
    parser.add_argument("--version", action="version", version=f"tilerunner {package_version()}")
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_Parser, action=_Commands, required=True
    )
    for name, (_, about) in COMMANDS.items():
        sub.add_parser(name, help=about)
        if not lazy:
            sub.declare(name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `tilerunner` with `argv` (default: the process arguments); return the exit code."""
    args = build_parser(lazy=True).parse_args(argv)
    from tilerunner.envs.level import LevelError  # loaded by every command, but not by `tilerunner --help`

    try:
        return int(args.run(args) or 0)
    except (UserError, LevelError, FormatError) as exc:  # every error a user can cause ends here as one line
        print(f"tilerunner: error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tilerunner: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `tilerunner levels show 1-1 | head`: the reader has all it wanted
        from tilerunner.evolve.commands.terminal import discard_stdout

        discard_stdout()  # Python's flush at exit must not fail on the closed pipe again (exit code 120)
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
