"""The `tilerunner` command's entry point: Ctrl-C at any moment of start-up is one line and exit code 130.

Ctrl-C becomes a KeyboardInterrupt wherever Python is, and the first half second of a command is spent
importing numpy, gymnasium, Numba and the commands' modules, before `cli.main` and its handlers exist (it
used to end in a traceback of those imports and exit code -2). So this module imports nothing at the
top but `sys` (and `import tilerunner` imports nothing heavy), and everything else happens inside its
`try`. `pyproject.toml` names `main` as the console script; `python -m tilerunner` runs it too.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C (128 + SIGINT)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `tilerunner` with `argv` (default: the process arguments); return the exit code."""
    try:
        from tilerunner.evolve.commands.cli import main as run_command

        return run_command(argv)
    except KeyboardInterrupt:
        print("tilerunner: interrupted", file=sys.stderr)
        return INTERRUPTED
