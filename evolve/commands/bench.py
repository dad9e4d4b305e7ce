"""`tilerunner bench`: speed measurements that print ratios against baselines timed in the same run."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable

from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.commands.flags import positive_int


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `bench` command and its subcommands."""
    p = sub.add_parser("bench", help="measure speed (prints ratios against baselines from the same run)")
    bsub = p.add_subparsers(dest="bench_command", metavar="WHAT")
    bsub.required = True

    env = bsub.add_parser("env", help="physics kernel frames/s vs gymnasium env.step steps/s")
    env.add_argument("--level", default="2-3", help="level to run on (default 2-3: 12 enemies)")
    env.add_argument("--frames", type=positive_int, default=5_000_000, help="frames per kernel run (default 5,000,000)")
    env.add_argument("--steps", type=positive_int, default=60_000, help="env steps per env run (default 60,000)")
    env.add_argument("--repeats", type=positive_int, default=5, help="runs of each; the median is reported (default 5)")
    env.add_argument("--frame-skip", type=positive_int, default=5, help="frames per decision (default 5)")
    env.set_defaults(run=_lazy("tilerunner.evolve.bench.env"))

    net = bsub.add_parser("net", help="network activations/s: neat-python vs the Numba kernels")
    net.add_argument("--genomes", type=positive_int, default=20, help="different networks (default 20)")
    net.add_argument("--hidden", type=positive_int, default=30, help="hidden nodes per network (default 30)")
    net.add_argument("--links", type=positive_int, default=100, help="connections per network (default 100)")
    net.add_argument("--steps", type=positive_int, default=10_000, help="steps per kernel run (default 10,000)")
    net.add_argument("--population", type=positive_int, default=300, help="networks in the population kernel")
    net.add_argument("--repeats", type=positive_int, default=5, help="runs of each; the median is reported")
    net.set_defaults(run=_lazy("tilerunner.evolve.bench.net"))

    memory = bsub.add_parser("memory", help="delayed recall evolved with and without memory cells")
    memory.add_argument("--seeds", type=positive_int, default=5, help="runs per setting (default 5)")
    memory.add_argument("--delays", type=delays, default="10,30,100",
                        help="comma-separated delays, each at least 1 (default 10,30,100)")
    memory.add_argument("--generations", type=positive_int, default=200, help="limit per run (default 200)")
    memory.add_argument("--pop", type=positive_int, default=150, help="population size (default 150)")
    memory.add_argument("--pairs", type=positive_int, default=16,
                        help="training trial pairs (cue +1 and -1 with the same distractors; default 16)")
    memory.set_defaults(run=_lazy("tilerunner.evolve.bench.memory"))

    learn = bsub.add_parser("learn", help="generations and seconds until a champion first finishes, per seed")
    learn.add_argument("--level", action="append", metavar="ID", help="level (repeatable; default 1-1)")
    learn.add_argument("--seeds", type=positive_int, default=10, help="seeds 0..N-1 (default 10)")
    learn.add_argument("--generations", type=positive_int, default=300, help="limit per seed (default 300)")
    learn.add_argument("--pop", type=positive_int, help="population size (default: the config's, 300)")
    learn.add_argument("--memory", action="store_true", help="with memory cells")
    learn.set_defaults(run=_lazy("tilerunner.evolve.bench.learn"))

    evo = bsub.add_parser("evolve", help="a generation's time, split; fused kernel vs the naive way")
    evo.add_argument("--level", default="1-1", help="level (default 1-1)")
    evo.add_argument("--pop", type=positive_int, default=300, help="population size (default 300)")
    evo.add_argument("--generations", type=positive_int, default=10, help="generations timed (default 10)")
    evo.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    evo.add_argument("--warmup", type=int, default=0, help="untimed generations before timing (default 0)")
    evo.add_argument("--naive", type=positive_int,
                     help="time the naive way on this many genomes (default: the whole last generation)")
    evo.set_defaults(run=_lazy("tilerunner.evolve.bench.evolve"))

    watch = bsub.add_parser("watch", help="evolution's speed with and without the live viewer open")
    watch.add_argument("--level", default="2-4", help="level (default 2-4)")
    watch.add_argument("--generations", type=positive_int, default=60, help="generations per run (default 60)")
    watch.add_argument("--repeats", type=positive_int, default=5, help="pairs of runs; medians reported (default 5)")
    watch.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    watch.set_defaults(run=_lazy("tilerunner.evolve.bench.watch"))


def delays(text: str) -> list[int]:
    """argparse type for --delays: comma-separated whole numbers, each at least 1, e.g. `10,30,100`."""
    try:
        values = [int(d) for d in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}") from None
    if any(d < 1 for d in values):
        raise argparse.ArgumentTypeError(f"every delay must be at least 1, got {text!r}")
    return values


def _lazy(module: str) -> Callable[[argparse.Namespace], int]:
    # Benchmarks import Numba kernels; load them only when that benchmark runs.
    def run(args: argparse.Namespace) -> int:
        from tilerunner.evolve.bench.errors import BenchError

        try:
            return importlib.import_module(module).run(args)
        except BenchError as exc:
            raise UserError(str(exc)) from None

    return run

