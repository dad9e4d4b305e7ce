"""`tilerunner bench learn`: generations and wall seconds until a champion first finishes, over many seeds."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence

from tilerunner.envs.level import Level, load_level
from tilerunner.evolve.bench.flags import add_generations, add_pop, add_seeds
from tilerunner.evolve.core.evolution import Evolution
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.neat_config import load_config
from tilerunner.evolve.core.plural import plural
from tilerunner.evolve.flags.types import add_jump_rule_flag

HELP = "generations and seconds until a champion first finishes, per seed"
DESCRIPTION = (
    "Evolve from each seed until a champion first finishes every level given; print the generations and seconds"
    " it took per seed, then medians and worst cases."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of `tilerunner bench learn`."""
    p.add_argument(
        "--level",
        action="append",
        metavar="ID",
        help="a level to finish, an id or a file (repeat for several; default 1-1)",
    )
    add_seeds(p, 10)
    add_generations(p, "limit per seed", 300)
    add_pop(p, None, "the config's, 300")
    p.add_argument("--memory", action="store_true", help="with memory cells")
    add_jump_rule_flag(p)


def learn(
    levels: Sequence[Level], seed: int, generations: int, pop: int | None, memory: bool, jump_rule: str = "hold"
) -> tuple[int | None, float, float]:
    """(generations evaluated until a champion finished every level or None, seconds, furthest px).

    "Furthest" is the most any generation's champion got on its worst level, so a miss says how close it came.
    The world plays by `jump_rule` (`"hold"` or `"press"`), so the two rules can be compared by how fast they learn.
    """
    config = load_config(
        neat_overrides={"pop_size": pop} if pop else None, genome_overrides={"memory_cells": True} if memory else None
    )
    t0 = time.perf_counter()
    evolution = Evolution(config, levels, EpisodeSettings(jump_rule=jump_rule), seed)
    furthest = 0.0
    for _ in range(generations):
        summary = evolution.play_generation()
        furthest = max(furthest, min(o.distance for o in summary.best_outcomes))
        if summary.solved:
            return summary.generation + 1, time.perf_counter() - t0, furthest
        evolution.reproduce(summary)
    return None, time.perf_counter() - t0, furthest


def run(args: argparse.Namespace) -> int:
    """One line per seed (generations and seconds to the first finish), then medians and worst cases."""
    levels = [load_level(lid) for lid in args.level or ["1-1"]]
    names = ", ".join(lv.id for lv in levels)
    # Compile (or load) the kernels before any clock starts.
    settings = EpisodeSettings(jump_rule=args.jump_rule)
    Evolution(load_config(neat_overrides={"pop_size": 4}), levels, settings, 0).play_generation()
    print(
        f"tilerunner bench learn: {names}, {plural(args.seeds, 'seed')},"
        f" population {args.pop or 'from config (300)'},"
        f" at most {plural(args.generations, 'generation')}{', memory cells on' if args.memory else ''},"
        f" jump rule {args.jump_rule}"
    )
    rows = []
    for seed in range(args.seeds):
        gens, seconds, furthest = learn(levels, seed, args.generations, args.pop, args.memory, args.jump_rule)
        rows.append((gens, seconds))
        what = f"finished after {gens:3d} generations" if gens else f"not finished (furthest {furthest:.0f} px)"
        print(f"  seed {seed:2d}: {what}, {seconds:6.1f} s", flush=True)
    done = [r for r in rows if r[0] is not None]
    if done:
        gens = [r[0] for r in done]
        secs = [r[1] for r in done]
        print(
            f"finished by {len(done)}/{plural(len(rows), 'seed')}; generations median {statistics.median(gens):.0f},"
            f" worst {max(gens)}; seconds median {statistics.median(secs):.1f}, worst {max(secs):.1f};"
            f" failures {len(rows) - len(done)}"
        )
    else:
        print(f"finished by 0/{plural(len(rows), 'seed')}")
    return 0
