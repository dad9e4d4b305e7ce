"""`tilerunner bench evolve`: where a generation's time goes, and the fused kernel against the naive way."""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium as gym
import neat
import numpy as np

import tilerunner.envs  # noqa: F401  (registers TileRunner-v0)
from tilerunner.agent import pack
from tilerunner.envs.level import load_level
from tilerunner.evolve.commands.bench import fmt_rate
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.neat_config import load_config
from tilerunner.evolve.core.rollout import R_FRAMES, evaluate_population
from tilerunner.evolve.core.evolution import Evolution

FRAMES_TARGET = 4_000_000
GENERATION_TARGET = 0.5
NAIVE_TARGET = 100


def naive_fitness(env, genome, config, fit: EpisodeSettings) -> tuple[float, int]:
    """One genome the way one would without this project: gymnasium env + neat-python RecurrentNetwork."""
    net = neat.nn.RecurrentNetwork.create(genome, config)
    obs, info = env.reset()
    start = info["rightmost"]
    while True:
        outputs = net.activate(obs.ravel().tolist())
        obs, _, terminated, truncated, info = env.step([o > fit.threshold for o in outputs])
        if terminated or truncated:
            break
    fitness = info["rightmost"] - start - fit.time_penalty * info["frames"]
    if info["status"] == "finished":
        fitness += fit.finish_bonus
    return fitness, info["frames"]


def run(args: argparse.Namespace) -> int:
    level = load_level(args.level)
    fit = EpisodeSettings()
    config = load_config(neat_overrides={"pop_size": args.pop})
    evolution = Evolution(config, [level], fit, args.seed)
    evolution.evaluate()  # compile (or load) the kernels before timing
    evolution = Evolution(config, [level], fit, args.seed)
    for _ in range(args.warmup):  # untimed generations first, for bigger networks and longer episodes
        evolution.evaluate()
        evolution.reproduce()
    print(f"tilerunner bench evolve: level {level.id}, population {args.pop}, seed {args.seed},"
          f" generations {args.warmup}-{args.warmup + args.generations - 1} (medians over them)")
    rows = []
    p = evolution.population
    for _ in range(args.generations):
        genomes = list(p.population.values())
        t0 = time.perf_counter()
        nets = evolution._compile(genomes)
        t1 = time.perf_counter()
        packed = pack(nets)
        t2 = time.perf_counter()
        results = evaluate_population(packed, evolution._levels, evolution._settings)
        t3 = time.perf_counter()
        fitness = fit.combine(results)
        for g, f in zip(genomes, fitness):
            g.fitness = float(f)
        if evolution.best_ever is None or max(fitness) > evolution.best_ever.fitness:
            evolution.best_ever = genomes[int(np.argmax(fitness))]
        p.best_genome = evolution.best_ever
        t4 = time.perf_counter()
        p.population = p.reproduction.reproduce(config, p.species, config.pop_size, p.generation)
        t5 = time.perf_counter()
        p.species.speciate(config, p.population, p.generation)
        t6 = time.perf_counter()
        p.generation += 1
        rows.append({"compile": t1 - t0, "pack": t2 - t1, "kernel": t3 - t2, "reproduce": t5 - t4,
                     "speciate": t6 - t5, "total": t6 - t0, "frames": int(results[:, :, R_FRAMES].sum()),
                     "genomes": genomes, "fitness": fitness})
    med = {k: statistics.median(r[k] for r in rows) for k in ("compile", "pack", "kernel", "reproduce",
                                                              "speciate", "total")}
    fps = statistics.median(r["frames"] / r["kernel"] for r in rows)
    print(f"population kernel: {fmt_rate(fps)} frames/s on {evolution_threads()} threads"
          f" (median frames per generation {statistics.median(r['frames'] for r in rows):,.0f})")
    print(f"seconds per generation: {med['total']:.3f}  =  compile {med['compile']:.3f} + pack {med['pack']:.3f}"
          f" + kernel {med['kernel']:.3f} + neat reproduce {med['reproduce']:.3f} + neat speciate"
          f" {med['speciate']:.3f}")
    share = (med["reproduce"] + med["speciate"]) / med["total"]
    print(f"neat-python's reproduction and speciation: {share:.0%} of a generation")

    last = rows[-1]
    sample = last["genomes"][:args.naive] if args.naive else last["genomes"]
    env = gym.make("tilerunner/TileRunner-v0", level=level, frame_skip=fit.frame_skip, view_radius=fit.view_radius,
                   max_frames=fit.max_frames, stall_frames=fit.stall_frames)
    t0 = time.perf_counter()
    naive = [naive_fitness(env, g, config, fit) for g in sample]
    naive_seconds = time.perf_counter() - t0
    per_genome_naive = naive_seconds / len(sample)
    fused = (last["kernel"] + last["compile"] + last["pack"]) / len(last["genomes"])
    agree = np.allclose([f for f, _ in naive], last["fitness"][:len(sample)])
    links = statistics.mean(sum(c.enabled for c in g.connections.values()) for g in last["genomes"])
    print(f"networks: {links:.0f} enabled connections on average")
    print(f"naive (gymnasium env + neat-python RecurrentNetwork, one genome at a time): {len(sample)} genomes"
          f" in {naive_seconds:.2f} s = {per_genome_naive * 1000:.2f} ms/genome; fused: {fused * 1000:.3f}"
          f" ms/genome; ratio {per_genome_naive / fused:.0f}x; same fitness both ways: {'yes' if agree else 'NO'}")
    verdict = {True: "met", False: "MISSED"}
    print(f"targets: >= {fmt_rate(FRAMES_TARGET)} frames/s: {verdict[fps >= FRAMES_TARGET]};"
          f" generation < {GENERATION_TARGET} s: {verdict[med['total'] < GENERATION_TARGET]};"
          f" >= {NAIVE_TARGET}x naive: {verdict[per_genome_naive / fused >= NAIVE_TARGET]}")
    return 0


def evolution_threads() -> int:
    import numba

    return numba.get_num_threads()

