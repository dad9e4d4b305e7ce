"""`tilerunner bench memory`: delayed recall evolved with and without memory cells, over seeds and delays."""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass

import neat

from tilerunner.agent import compile_population
from tilerunner.evolve.bench.flags import COUNT_RANGE, add_generations, add_pop, add_seeds, add_whole
from tilerunner.evolve.bench.recall import evaluate, make_trials
from tilerunner.evolve.core.neat_config import builtin_config_path, load_config
from tilerunner.evolve.core.plural import plural
from tilerunner.evolve.flags.types import int_list, span

HELD_OUT_PAIRS = 100
MAX_DELAY = 100_000
delays = int_list("delays", 1, MAX_DELAY, most=100)  # --delays
HELP = "delayed recall evolved with and without memory cells"
DESCRIPTION = (
    "Evolve networks to recall a cue after a delay, with and without LSTM memory cells, for each delay and"
    " seed; print how often and how fast each setting solves it, and how it does on held-out trials."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of `tilerunner bench memory`."""
    add_seeds(p, 5, "one run per setting")
    p.add_argument(
        "--delays",
        type=delays,
        default="10,30,100",
        metavar="N,N,...",
        help=f"comma-separated delays, each {span(1, MAX_DELAY)} (default 10,30,100)",
    )
    add_generations(p, "limit per run", 200)
    add_pop(p, 150)
    add_whole(p, "--pairs", "training trial pairs (cue +1 and -1 with the same distractors)", COUNT_RANGE, 16)


@dataclass(frozen=True)
class RecallRun:
    """One evolution run on the delayed-recall task."""

    delay: int
    memory: bool
    seed: int
    solved: bool
    generations: int  # evaluated until solved (or the limit)
    held_out: float  # the champion's accuracy on fresh trials
    seconds: float


def evolve_recall(delay: int, memory: bool, seed: int, generations: int, pop: int, pairs: int) -> RecallRun:
    """Evolve until a genome gets every training trial right, or `generations` run out."""
    t0 = time.perf_counter()
    n_trials = 2 * pairs
    config = load_config(
        builtin_config_path("recall"),
        neat_overrides={"pop_size": pop, "fitness_threshold": n_trials},
        genome_overrides={"memory_cells": memory},
    )
    inputs, targets = make_trials(delay, pairs, seed)

    def fitness(genomes, config):
        packed = compile_population([g for _, g in genomes], config)
        scores, _ = evaluate(packed, inputs, targets)
        for (_, g), score in zip(genomes, scores):
            g.fitness = float(score)

    population = neat.Population(config, seed=seed)
    champion = population.run(fitness, generations)
    solved = champion.fitness >= n_trials
    test_inputs, test_targets = make_trials(delay, HELD_OUT_PAIRS, seed + 1_000_003)
    _, right = evaluate(compile_population([champion], config), test_inputs, test_targets)
    held_out = float(right[0]) / (2 * HELD_OUT_PAIRS)
    return RecallRun(delay, memory, seed, solved, population.generation + 1, held_out, time.perf_counter() - t0)


def run(args: argparse.Namespace) -> int:
    """Print one row per delay and setting (without, then with memory cells); `args.delays` is a list of ints."""
    delays: list[int] = args.delays
    print(
        f"tilerunner bench memory: delayed recall, {plural(args.seeds, 'seed')}, population {args.pop},"
        f" at most {plural(args.generations, 'generation')}, {2 * args.pairs} training trials"
        f" (held-out check: {2 * HELD_OUT_PAIRS} fresh trials)"
    )
    print(
        f"{'delay':>5}  {'memory cells':<12}  {'solved':>7}  {'generations (median, worst)':>27}"
        f"  {'held-out accuracy':>17}  {'s/run':>6}"
    )
    for delay in delays:
        for memory in (False, True):
            runs = [
                evolve_recall(delay, memory, seed, args.generations, args.pop, args.pairs) for seed in range(args.seeds)
            ]
            won = [r for r in runs if r.solved]
            gens = (
                f"{statistics.median(r.generations for r in won):.0f}, {max(r.generations for r in won)}"
                if won
                else "-"
            )
            accuracy = statistics.mean(r.held_out for r in runs)
            seconds = statistics.mean(r.seconds for r in runs)
            print(
                f"{delay:>5}  {'yes' if memory else 'no':<12}  {len(won):>3}/{len(runs):<3}  {gens:>27}"
                f"  {accuracy:>16.0%}  {seconds:>6.1f}",
                flush=True,
            )
    return 0
