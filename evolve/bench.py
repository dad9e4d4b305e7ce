"""`tilerunner bench`: speed measurements that print ratios against baselines timed in the same run."""

from __future__ import annotations

import argparse
import importlib
import statistics
import time
from collections.abc import Callable

from evolve.args import positive_int


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
    env.set_defaults(run=_lazy("evolve.bench_env"))


def _lazy(module: str) -> Callable[[argparse.Namespace], int]:
    # Benchmarks import Numba kernels; load them only when that benchmark runs.
    def run(args: argparse.Namespace) -> int:
        return importlib.import_module(module).run(args)

    return run


def median_rate(work: Callable[[], int], repeats: int) -> tuple[float, list[float]]:
    """Run `work` (which returns a count of things done) `repeats` times; median and all rates per second."""
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        count = work()
        rates.append(count / (time.perf_counter() - t0))
    return statistics.median(rates), rates


def fmt_rate(rate: float) -> str:
    """A rate with thousands separators, e.g. 7,950,000."""
    return f"{rate:,.0f}"
