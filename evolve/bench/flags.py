"""The flags of the benchmarks: whole numbers whose help reads alike, and the flags several benchmarks take.

Every numeric flag's help reads `what, RANGE (default X)` (`add_whole`); its ranges are big enough for any
measurement and small enough to finish. Each benchmark declares its flags in its own module (`add_arguments`).
"""

from __future__ import annotations

import argparse

from tilerunner.evolve.core.neat_config import POP_SIZE_RANGE
from tilerunner.evolve.flags.types import int_in, int_list, span
from tilerunner.evolve.runs.run_options import GENERATIONS_RANGE, SEED_RANGE, WORKERS_RANGE

REPEATS_RANGE = (1, 1000)
COUNT_RANGE = (1, 100_000)  # genomes, networks, hidden nodes, seeds, trial pairs, runs
POP_RANGE = POP_SIZE_RANGE  # as --pop of evolve
STEPS_RANGE = (1, 10**8)
WARMUP_RANGE = (0, 10_000)
COUNT = int_in(*COUNT_RANGE)
pop_sizes = int_list("population sizes", *POP_RANGE, most=20)  # bench evolve --sizes, bench cuda --sizes


def add_whole(
    p: argparse.ArgumentParser,
    flag: str,
    what: str,
    limits: tuple[int, int],
    default: int | None,
    default_text: str | None = None,
) -> None:
    """`flag N`: a whole number within `limits`, its help `what, RANGE (default X)`; `default_text` says what
    a default of None means (`(default: the whole last generation)`)."""
    shown = f": {default_text}" if default_text else f" {default:,}"
    p.add_argument(
        flag, type=int_in(*limits), default=default, metavar="N", help=f"{what}, {span(*limits)} (default{shown})"
    )


def seeds_help(default: int, what: str = "one run each") -> str:
    """--seeds means the same on every bench: a count N, the seeds 0 to N-1."""
    return f"seeds 0 to N-1, {what}; N from {span(*COUNT_RANGE)} (default {default})"


def add_seeds(p: argparse.ArgumentParser, default: int, what: str = "one run each") -> None:
    """`--seeds N`: run from the seeds 0 to N-1."""
    p.add_argument("--seeds", type=COUNT, default=default, metavar="N", help=seeds_help(default, what))


def add_level(p: argparse.ArgumentParser, default: str, about: str = "") -> None:
    """`--level ID`: the one level the bench plays (`about` says why the default, after a colon)."""
    shown = f"{default}: {about}" if about else default
    p.add_argument("--level", default=default, metavar="ID", help=f"the level, an id or a file (default {shown})")


def add_level_set(p: argparse.ArgumentParser, default: str) -> None:
    """`--level SET` (repeatable): the levels every genome plays, as evolve takes them."""
    p.add_argument(
        "--level",
        action="append",
        metavar="SET",
        help=f"the levels every genome plays, as evolve --level takes (repeat for several; default {default})",
    )


def add_seed(p: argparse.ArgumentParser, what: str = "seed") -> None:
    """`--seed N`: the seed of the bench's evolution."""
    add_whole(p, "--seed", what, SEED_RANGE, 0)


def add_pop(
    p: argparse.ArgumentParser,
    default: int | None = 300,
    default_text: str | None = None,
    what: str = "population size",
) -> None:
    """`--pop N`: the population size, in evolve's range."""
    add_whole(p, "--pop", what, POP_RANGE, default, default_text)


def add_generations(p: argparse.ArgumentParser, what: str, default: int) -> None:
    """`--generations N`: `what` the bench does with them."""
    add_whole(p, "--generations", what, GENERATIONS_RANGE, default)


def add_repeats(p: argparse.ArgumentParser, what: str, default: int) -> None:
    """`--repeats N`: how many timings of each thing the bench compares; it prints their median."""
    add_whole(p, "--repeats", f"{what}, whose median is reported", REPEATS_RANGE, default)


def add_warmup(p: argparse.ArgumentParser, default: int) -> None:
    """`--warmup N`: generations evolved before the timing, so that the episodes timed are as long as a run's."""
    what = "generations evolved first, so that episodes are as long as in a run"
    add_whole(p, "--warmup", what, WARMUP_RANGE, default)


def add_workers(p: argparse.ArgumentParser, what: str = "threads for evaluation") -> None:
    """`--workers N`: CPU threads, all cores by default."""
    add_whole(p, "--workers", what, WORKERS_RANGE, None, "all cores")
