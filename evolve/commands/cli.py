"""The `tilerunner` command line: one parser, one subcommand per job, errors as one line and exit 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tilerunner.envs.level import LevelError
from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.core.version import package_version
from tilerunner.evolve.runs.json_fields import FormatError, printable


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad flag gets one line (not usage plus an error) and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The full `tilerunner` parser with every subcommand registered."""
    from tilerunner.evolve.commands import bench, evaluate, evolve, levels, play, plot, replay, watch

    parser = _Parser(
        prog="tilerunner", description="MarI/O-style neuroevolution: NEAT agents learn a tile platformer, fast."
    )
    parser.add_argument("--version", action="version", version=f"tilerunner {package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for command in (evolve, levels, replay, watch, evaluate, play, plot, bench):
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `tilerunner` with `argv` (default: the process arguments); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
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
