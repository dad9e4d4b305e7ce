"""`tilerunner bench evolve`: where a generation's time goes, and the fused kernel against the naive way.

The fused way is the library's own, timed through its public API: `Evolution.evaluate` returns
a `Generation` that says how long compiling and packing, and the rollout kernel, took;
`Evolution.reproduce(summary)` adds neat-python's reproduction and speciation. The naive way is
what one would write without this project: the gymnasium env and neat-python's
`RecurrentNetwork`, one genome at a time, scored by the same formula.
"""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium as gym
import neat
import numpy as np

from tilerunner.agent import TileGenome
from tilerunner.envs import ENV_ID
from tilerunner.envs.buttons import mask_from_outputs, pressed
from tilerunner.envs.level import load_level
from tilerunner.evolve.bench.timing import fmt_rate, verdict
from tilerunner.evolve.core.evolution import Evolution, Generation
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.neat_config import load_config
from tilerunner.evolve.core.rollout import use_threads

FRAMES_TARGET = 4_000_000
GENERATION_TARGET = 0.5
NAIVE_TARGET = 100


def naive_fitness(env: gym.Env, genome: TileGenome, config: neat.Config,
                  settings: EpisodeSettings) -> tuple[float, int]:
    """(fitness, frames) of one genome the way one would without this project: gymnasium env + neat-python."""
    net = neat.nn.RecurrentNetwork.create(genome, config)
    obs, info = env.reset()
    start = info["rightmost"]
    while True:
        outputs = net.activate(obs.ravel().tolist())
        action = pressed(mask_from_outputs(np.asarray(outputs), settings.threshold))
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    fitness = (info["rightmost"] - start - settings.time_penalty * info["frames"]
               + settings.coin_bonus * info["coins"] + settings.kill_bonus * info["kills"])
    if info["status"] == "finished":
        fitness += settings.finish_bonus
    elif info["status"] == "dead":
        fitness -= settings.death_penalty
    return fitness, info["frames"]


def run(args: argparse.Namespace) -> int:
    """Time `--generations` generations split into their parts, then the last one again the naive way."""
    level = load_level(args.level)
    settings = EpisodeSettings()
    config = load_config(neat_overrides={"pop_size": args.pop})
    Evolution(config, [level], settings, args.seed).evaluate()  # compile (or load) the kernels before timing
    evolution = Evolution(config, [level], settings, args.seed)
    for _ in range(args.warmup):  # untimed generations first, for bigger networks and longer episodes
        evolution.reproduce(evolution.evaluate())
    print(f"tilerunner bench evolve: level {level.id}, population {args.pop}, seed {args.seed},"
          f" generations {args.warmup}-{args.warmup + args.generations - 1} (medians over them)")
    rows: list[tuple[Generation, float]] = []  # each generation's summary and its wall seconds
    last: list[tuple[TileGenome, float]] = []  # the last generation's genomes and their fitness
    for _ in range(args.generations):
        genomes = list(evolution.population.population.values())
        t0 = time.perf_counter()
        summary = evolution.evaluate()
        last = [(g, g.fitness) for g in genomes]
        evolution.reproduce(summary)
        rows.append((summary, time.perf_counter() - t0))

    def median(part: str) -> float:
        return statistics.median(getattr(s, part) for s, _ in rows)

    total = statistics.median(seconds for _, seconds in rows)
    compile_pack, kernel = median("compile_seconds"), median("kernel_seconds")
    reproduce, speciate = median("reproduce_seconds"), median("speciate_seconds")
    fps = statistics.median(s.frames / s.kernel_seconds for s, _ in rows)
    print(f"population kernel: {fmt_rate(fps)} frames/s on {use_threads(None)} threads"
          f" (median frames per generation {statistics.median(s.frames for s, _ in rows):,.0f})")
    print(f"seconds per generation: {total:.3f}  =  compile+pack {compile_pack:.3f} + kernel {kernel:.3f}"
          f" + neat reproduce {reproduce:.3f} + neat speciate {speciate:.3f}")
    print(f"neat-python's reproduction and speciation: {(reproduce + speciate) / total:.0%} of a generation")

    sample = last[:args.naive] if args.naive else last
    env = gym.make(ENV_ID, level=level, frame_skip=settings.frame_skip, view_radius=settings.view_radius,
                   max_frames=settings.max_frames, stall_frames=settings.stall_frames)
    naive_fitness(env, sample[0][0], config, settings)  # load the env's and the button kernels before timing
    t0 = time.perf_counter()
    naive = [naive_fitness(env, g, config, settings) for g, _ in sample]
    naive_seconds = time.perf_counter() - t0
    env.close()
    per_genome_naive = naive_seconds / len(sample)
    final = rows[-1][0]
    fused = (final.compile_seconds + final.kernel_seconds) / final.population
    agree = np.allclose([f for f, _ in naive], [f for _, f in sample])
    links = statistics.mean(sum(c.enabled for c in g.connections.values()) for g, _ in last)
    print(f"networks: {links:.0f} enabled connections on average")
    print(f"naive (gymnasium env + neat-python RecurrentNetwork, one genome at a time): {len(sample)} genomes"
          f" in {naive_seconds:.2f} s = {per_genome_naive * 1000:.2f} ms/genome; fused: {fused * 1000:.3f}"
          f" ms/genome; ratio {per_genome_naive / fused:.0f}x; same fitness both ways: {'yes' if agree else 'NO'}")
    print(f"targets: >= {fmt_rate(FRAMES_TARGET)} frames/s: {verdict(fps >= FRAMES_TARGET)};"
          f" generation < {GENERATION_TARGET} s: {verdict(total < GENERATION_TARGET)};"
          f" >= {NAIVE_TARGET}x naive: {verdict(per_genome_naive / fused >= NAIVE_TARGET)}")
    return 0
