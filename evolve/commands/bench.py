"""`tilerunner bench`: measurements that print their figures beside baselines timed in the same run.

Each benchmark's module in `tilerunner.evolve.bench` declares its flags (`add_arguments`) and its --help
(`HELP`, `DESCRIPTION`) next to the `run(args)` that reads them; this command lists them (`BENCHES`) and runs
the one asked for, its errors (`BenchError`) as one line.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from types import ModuleType

from tilerunner.evolve.bench import (
    cuda,
    env,
    evolve,
    foresight,
    generalize,
    learn,
    memory,
    neat_paper,
    net,
    ray_overhead,
    watch,
)
from tilerunner.evolve.bench.errors import BenchError
from tilerunner.evolve.commands import bench_generalize
from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.commands.flags import check_not_an_input, check_output_file, level_files

# `tilerunner bench NAME` -> the module that declares its flags and runs it, in the order --help lists them.
BENCHES = {
    "env": env,
    "net": net,
    "memory": memory,
    "neat": neat_paper,
    "learn": learn,
    "evolve": evolve,
    "watch": watch,
    "foresight": foresight,
    "ray": ray_overhead,
    "cuda": cuda,
}


def declare(p: argparse.ArgumentParser) -> None:
    """`tilerunner bench` and a subcommand for each benchmark."""
    p.description = (
        "Measurements that print their figures beside baselines measured in the same"
        " run: speed (env, net, evolve, watch, foresight, ray, cuda), learning (memory, learn, neat)"
        " and levels never seen (generalize). tilerunner bench WHAT --help says what"
        " each measures and takes."
    )
    bsub = p.add_subparsers(dest="bench_command", metavar="WHAT", required=True)
    for name, bench in BENCHES.items():
        parser = bsub.add_parser(name, help=bench.HELP, description=bench.DESCRIPTION)
        bench.add_arguments(parser)
        parser.set_defaults(run=_runner(bench))
    bench_generalize.register(bsub, _runner(generalize))


def _inputs(args: argparse.Namespace) -> list[str]:
    """The files a benchmark reads: its levels (--level, one or several), --config, the --public folder."""
    levels = getattr(args, "level", None)
    files = level_files([levels] if isinstance(levels, str) else levels)
    return files + [path for path in (getattr(args, "config", None), getattr(args, "public", None)) if path]


def _runner(bench: ModuleType) -> Callable[[argparse.Namespace], int]:
    """The command that runs the benchmark `bench`: an output it cannot write, or one of its inputs, is refused
    before the work, and its `BenchError` is one line."""

    def run(args: argparse.Namespace) -> int:
        if getattr(args, "json", None):  # an output path that cannot be written fails before the work
            check_output_file(args.json, "--json")
            check_not_an_input(args.json, "--json", _inputs(args))
        try:
            return bench.run(args)
        except BenchError as exc:
            raise UserError(str(exc)) from None

    return run
