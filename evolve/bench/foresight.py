"""`tilerunner bench foresight`: what the foresight sense costs, in frames simulated and in seconds a generation.

Foresight plays each candidate move forward by the physics before every decision (`tilerunner.envs.
foresight`), so a network that sees it simulates many frames for each one the game plays. Two figures:

- frames foresight simulates per decision, and per frame the game itself plays, while `rules` (which sees
  foresight) plays the levels;
- seconds to evaluate one first generation (a population from `--seed`, the levels, on the same threads)
  with the grid alone, with the grid and foresight, and with foresight alone (`no-grid`), medians of
  `--repeats`; their networks differ (their inputs do), so episodes differ in length, and the ratio to
  the grid's is per frame played.
"""

from __future__ import annotations

import argparse
import statistics

from numba import njit

from tilerunner.envs import physics as P
from tilerunner.envs.foresight import frames_simulated
from tilerunner.envs.level import level_set, load_level
from tilerunner.envs.observe import observe_inputs
from tilerunner.evolve.baselines.play import start_episode
from tilerunner.evolve.baselines.rules import rules_buttons
from tilerunner.evolve.baselines.senses import RADIUS, SENSES
from tilerunner.evolve.bench.flags import add_level_set, add_pop, add_repeats, add_seed, add_workers
from tilerunner.evolve.bench.timing import timed_generation
from tilerunner.evolve.core.backend import LocalBackend
from tilerunner.evolve.core.evolution import Evolution
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.neat_config import load_config
from tilerunner.evolve.core.plural import plural
from tilerunner.evolve.core.rollout import KernelSettings, LevelPack, pack_levels, use_threads
from tilerunner.evolve.flags.types import add_jump_rule_flag

DEFAULT_SET = "gen:1-20:3"
HELP = "what the foresight sense costs: frames simulated per decision, seconds a generation with and without"
DESCRIPTION = (
    "Play rules (which sees foresight) on the levels and count the frames foresight simulates per decision;"
    " then time one first generation with the grid, the grid and foresight, and foresight alone, and print the"
    " medians and the cost per frame played against the grid's."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of `tilerunner bench foresight`."""
    add_level_set(p, DEFAULT_SET)
    add_pop(p)
    add_repeats(p, "timed evaluations of each", 3)
    add_seed(p)
    add_workers(p)
    add_jump_rule_flag(p)


VARIANTS = (("grid", ()), ("grid + foresight", ("foresight",)), ("foresight alone", ("foresight", "no-grid")))


@njit(cache=True)
def _rules_cost(levels: LevelPack, s: KernelSettings) -> tuple[int, int, int]:
    """`rules` on every level: (decisions, frames played, frames foresight simulated)."""
    decisions = played = simulated = 0
    for li in range(levels.rows.size):
        tiles, state, enemies, senses, sight = start_episode(levels, li, s)
        status = P.RUNNING
        while status == P.RUNNING:
            observe_inputs(tiles, state, enemies, RADIUS, SENSES, senses, sight)
            status = P.advance(tiles, state, enemies, rules_buttons(senses), s.frame_skip, s.max_frames, s.stall_frames)
            decisions += 1
        played += state[P.S_FRAMES]
        simulated += frames_simulated(sight)
    return decisions, played, simulated


def run(args: argparse.Namespace) -> int:
    """Print foresight's frames per decision and the seconds a generation takes with and without it."""
    threads = use_threads(args.workers)
    levels = [load_level(lv) for spec in args.level or [DEFAULT_SET] for lv in level_set(spec)]
    settings = EpisodeSettings(jump_rule=args.jump_rule)
    print(
        f"tilerunner bench foresight: {plural(len(levels), 'level')}, population {args.pop:,},"
        f" {plural(threads, 'thread')}, jump rule {args.jump_rule}, medians of {plural(args.repeats, 'run')}",
        flush=True,
    )
    decisions, played, simulated = _rules_cost(pack_levels(levels), settings.kernel_settings())
    print(
        f"rules playing them: {decisions:,} decisions, {played:,} frames played; foresight simulated"
        f" {simulated:,} frames: {simulated / decisions:,.0f} a decision, {simulated / played:,.1f} per frame played"
    )
    base = None
    for name, features in VARIANTS:
        variant = EpisodeSettings(jump_rule=args.jump_rule, features=("jump", *features))
        config = load_config(neat_overrides={"pop_size": args.pop}, genome_overrides={"num_inputs": variant.n_inputs})
        evolution = Evolution(config, levels, variant, args.seed, backend=LocalBackend())
        timed_generation(evolution, evolution.backend)  # compile or load from cache, untimed
        runs = [timed_generation(evolution, evolution.backend) for _ in range(args.repeats)]
        walls = [wall for _, wall in runs]
        wall = statistics.median(walls)
        frames = runs[0][0].frames
        base = base or wall / frames
        print(
            f"  {name + ' (and jump)':<30} {variant.n_inputs:>4} inputs  {wall:8.3f} s a generation, {frames:>11,}"
            f" frames played, {wall / frames * 1e6:6.2f} us a frame ({wall / frames / base:5.1f}x the grid's)"
            f"   (runs: {', '.join(f'{w:.3f}' for w in walls)})",
            flush=True,
        )
    return 0
