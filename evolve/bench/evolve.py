"""`tilerunner bench evolve`: where a generation's time goes, and the fused kernel against the naive way.

The fused way is the library's own, timed through its public API: `Evolution.play_generation` returns
a `Generation` that says how long compiling and packing, and the rollout kernel, took;
`Evolution.reproduce(summary)` adds neat-python's reproduction and speciation. The naive way is
what one would write without this project: the gymnasium env and neat-python's
`RecurrentNetwork`, one genome at a time, scored by the same formula.

Then the bookkeeping table (`--sizes`): for each population size, a population grown to about
`--links` connections a genome (`grown_evolution`) is evaluated on the level, and the same
generation is bred and speciated twice from the same state, by stock neat-python
(`load_config(stock_neat=True)`) and by the fast path, which must give the identical population.
"""

from __future__ import annotations

import argparse
import copy
import random
import statistics
import time
from itertools import count

import gymnasium as gym
import neat
import numpy as np

from tilerunner.agent import TileGenome
from tilerunner.envs import ENV_ID
from tilerunner.envs.buttons import mask_from_outputs, pressed
from tilerunner.envs.level import load_level
from tilerunner.evolve.bench.flags import (
    COUNT_RANGE,
    POP_RANGE,
    WARMUP_RANGE,
    add_generations,
    add_level,
    add_pop,
    add_seed,
    add_whole,
    pop_sizes,
)
from tilerunner.evolve.bench.net import mario_sized_genomes
from tilerunner.evolve.bench.timing import fmt_rate, verdict
from tilerunner.evolve.core.evolution import Evolution, Generation, paused_gc
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.neat_config import load_config, use_neat_classes
from tilerunner.evolve.core.plural import plural
from tilerunner.evolve.core.rollout import use_threads
from tilerunner.evolve.flags.types import add_jump_rule_flag, span

FRAMES_TARGET = 4_000_000
GENERATION_TARGET = 0.5
NAIVE_TARGET = 100
BOOKKEEPING_TARGETS = {300: 0.05, 3000: 0.5}  # seconds of reproduction + speciation a generation (issue 14)
LINEAGES = 10  # families the grown population descends from (about as many species)
LINKS_RANGE = (1, 10_000)  # --links: connections a genome of the table's populations is grown to
BOOK_GENERATIONS_RANGE = (1, 100)
HELP = "a generation's time, split; fused kernel vs the naive way"
DESCRIPTION = (
    "Time generations of evolution split into their parts (compile, rollouts, breeding, speciation), the fused"
    " rollout kernel against the naive way (one gymnasium episode per genome), and a table of NEAT's"
    " bookkeeping, stock neat-python against this project's, per population size."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of `tilerunner bench evolve`."""
    add_level(p, "1-1")
    add_pop(p)
    add_generations(p, "generations timed", 10)
    add_seed(p)
    add_whole(p, "--warmup", "untimed generations before timing", WARMUP_RANGE, 0)
    add_whole(p, "--naive", "time the naive way on N genomes", COUNT_RANGE, None, "the whole last generation")
    p.add_argument(
        "--sizes",
        type=pop_sizes,
        default="300,1000,3000,10000",
        metavar="N,N,...",
        help="population sizes of the bookkeeping table, stock neat-python vs fast, comma-separated,"
        f" each {span(*POP_RANGE)} (default 300,1000,3000,10000)",
    )
    add_whole(p, "--links", "connections per genome the table's populations are grown to", LINKS_RANGE, 80)
    what = "generations timed per size in the table, whose median is reported"
    add_whole(p, "--book-generations", what, BOOK_GENERATIONS_RANGE, 3)
    add_jump_rule_flag(p)


def naive_fitness(
    env: gym.Env, genome: TileGenome, config: neat.Config, settings: EpisodeSettings
) -> tuple[float, int]:
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
    fitness = (
        info["rightmost"]
        - start
        - settings.time_penalty * info["frames"]
        + settings.coin_bonus * info["coins"]
        + settings.kill_bonus * info["kills"]
    )
    if info["status"] == "finished":
        fitness += settings.finish_bonus
    elif info["status"] == "dead":
        fitness -= settings.death_penalty
    return fitness, info["frames"]


def run(args: argparse.Namespace) -> int:
    """The generation split (`generation_split`), then the bookkeeping table for `--sizes`."""
    generation_split(args)
    if args.sizes:
        bookkeeping_table(args)
    return 0


def generation_split(args: argparse.Namespace) -> None:
    """Time `--generations` generations split into their parts, then the last one again the naive way."""
    level = load_level(args.level)
    settings = EpisodeSettings(jump_rule=args.jump_rule)
    config = load_config(neat_overrides={"pop_size": args.pop})
    Evolution(config, [level], settings, args.seed).play_generation()  # compile (or load) the kernels before timing
    evolution = Evolution(config, [level], settings, args.seed)
    for _ in range(args.warmup):  # untimed generations first, for bigger networks and longer episodes
        evolution.reproduce(evolution.play_generation())
    print(
        f"tilerunner bench evolve: level {level.id}, jump rule {args.jump_rule}, population {args.pop},"
        f" seed {args.seed}, generations {args.warmup}-{args.warmup + args.generations - 1} (medians over them)"
    )
    rows: list[tuple[Generation, float]] = []  # each generation's summary and its wall seconds
    last: list[tuple[TileGenome, float]] = []  # the last generation's genomes and their fitness
    for _ in range(args.generations):
        genomes = list(evolution.population.population.values())
        t0 = time.perf_counter()
        summary = evolution.play_generation()
        last = [(g, g.fitness) for g in genomes]
        evolution.reproduce(summary)
        rows.append((summary, time.perf_counter() - t0))

    def median(part: str) -> float:
        return statistics.median(getattr(s, part) for s, _ in rows)

    total = statistics.median(seconds for _, seconds in rows)
    compile_pack, kernel = median("compile_seconds"), median("kernel_seconds")
    reproduce, speciate = median("reproduce_seconds"), median("speciate_seconds")
    fps = statistics.median(s.frames / s.kernel_seconds for s, _ in rows)
    print(
        f"population kernel: {fmt_rate(fps)} frames/s on {use_threads(None)} threads"
        f" (median frames per generation {statistics.median(s.frames for s, _ in rows):,.0f})"
    )
    print(
        f"seconds per generation: {total:.3f}  =  compile+pack {compile_pack:.3f} + kernel {kernel:.3f}"
        f" + neat reproduce {reproduce:.3f} + neat speciate {speciate:.3f}"
    )
    print(f"neat-python's reproduction and speciation: {(reproduce + speciate) / total:.0%} of a generation")

    sample = last[: args.naive] if args.naive else last
    env = gym.make(
        ENV_ID,
        level=level,
        frame_skip=settings.frame_skip,
        view_radius=settings.view_radius,
        max_frames=settings.max_frames,
        stall_frames=settings.stall_frames,
        jump_rule=settings.jump_rule,
    )
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
    print(
        f"naive (gymnasium env + neat-python RecurrentNetwork, one genome at a time): {plural(len(sample), 'genome')}"
        f" in {naive_seconds:.2f} s = {per_genome_naive * 1000:.2f} ms/genome; fused: {fused * 1000:.3f}"
        f" ms/genome; ratio {per_genome_naive / fused:.0f}x; same fitness both ways: {'yes' if agree else 'NO'}"
    )
    print(
        f"targets: >= {fmt_rate(FRAMES_TARGET)} frames/s: {verdict(fps >= FRAMES_TARGET)};"
        f" generation < {GENERATION_TARGET} s: {verdict(total < GENERATION_TARGET)};"
        f" >= {NAIVE_TARGET}x naive: {verdict(per_genome_naive / fused >= NAIVE_TARGET)}"
    )


def grown_evolution(level, pop: int, links: int, seed: int, jump_rule: str = "hold") -> Evolution:
    """A run whose population of `pop` has genomes of ~`links` connections (and ~0.2 `links` hidden nodes).

    `LINEAGES` ancestors are grown with neat-python's own mutations (`mario_sized_genomes`); each genome is
    a copy of one with every gene mutated once, so the population splits into about `LINEAGES` species.
    """
    config = load_config(neat_overrides={"pop_size": pop})
    evolution = Evolution(config, [level], EpisodeSettings(jump_rule=jump_rule), seed)
    gc = config.genome_config
    # Growth adds connections until `links`, and nodes until `hidden`; every node added also adds connections,
    # so more nodes overshoot: (links - 20) / 5 hidden nodes lands on `links` (80 gives 82 and 12 hidden nodes,
    # measured; 18 hidden nodes gave 105 connections).
    hidden = max((links - 20) // 5, 1)
    ancestors = mario_sized_genomes(config, LINEAGES, hidden, links, seed)
    population = {}
    for key in range(1, pop + 1):
        genome = config.genome_type(key)
        ancestor = ancestors[key % LINEAGES]
        genome.nodes = {k: n.copy() for k, n in ancestor.nodes.items()}
        genome.connections = {k: c.copy() for k, c in ancestor.connections.items()}
        for gene in (*genome.connections.values(), *genome.nodes.values()):
            gene.mutate(gc)
        population[key] = genome
    p = evolution.population
    p.population = population
    p.reproduction.innovation_tracker = gc.innovation_tracker
    p.reproduction.genome_indexer = count(pop + 1)
    p.reproduction.ancestors = {}
    p.species = config.species_set_type(config.species_set_config, p.reporters)
    p.species.speciate(config, population, 0)
    return evolution


def _breed(evolution: Evolution, mode: str, state: tuple) -> tuple[dict, object, float]:
    """Breed and speciate the evaluated generation from `state` the `mode` way: "stock" (neat-python's own
    code), "exact" (tilerunner's, bit for bit) or "batch" (a generation at once); (population, species set,
    seconds), timed as `Evolution.reproduce` times them."""
    p, config = evolution.population, evolution.config
    species, reproduction, next_node, random_state = state
    memo = {id(g): g for g in p.population.values()}  # genomes are shared: breeding never changes them
    species, reproduction = copy.deepcopy((species, reproduction), memo)
    gc = config.genome_config
    use_neat_classes(config, stock=mode == "stock")
    if mode == "batch":
        species.pool = getattr(state[0], "pool", None)  # the packed parents (copies leave it out)
    gc.breeding = "batch" if mode == "batch" else "exact"
    gc.node_indexer = count(next_node)
    random.setstate(random_state)
    t0 = time.perf_counter()
    with paused_gc():
        population = reproduction.reproduce(config, species, config.pop_size, p.generation)
        config.species_set_type.speciate(species, config, population, p.generation)
    seconds = time.perf_counter() - t0
    use_neat_classes(config, stock=False)
    gc.breeding = "exact"
    p.reproduction = reproduction
    return population, species, seconds


def _links(genome) -> int:
    """A genome's connections, counted without making gene objects of packed genes."""
    packed = genome.packed_genes()
    if packed is None:
        return len(genome.connections)
    genes, i = packed
    return int(genes.conn_off[i + 1] - genes.conn_off[i])


def _same(a: dict, b: dict) -> bool:
    return list(a) == list(b) and all(str(a[k]) == str(b[k]) for k in a)


def bookkeeping_table(args: argparse.Namespace) -> None:
    """Reproduction + speciation seconds a generation, stock neat-python vs exact vs batch, per population size.

    Each generation is bred three times from the same state; the run goes on with the batch breeder's
    children, so its parents come packed from the previous speciation, as in a batch run.
    """
    level = load_level(args.level)
    print(
        f"\nbookkeeping (reproduction + speciation) per generation, level {level.id}, genomes grown to"
        f" ~{args.links} connections, median of {plural(args.book_generations, 'generation')} (after one untimed)"
    )
    print(
        "stock: neat-python's own code; exact: tilerunner's, the same population bit for bit; batch: a generation"
        " at a time in Numba (breeding = batch), by neat-python's rules, not draw for draw"
    )
    print(
        f"{'population':>10} {'links':>6} {'species':>7} {'eval 1-1 s':>11} {'stock s':>8} {'exact s':>8}"
        f" {'batch s':>8} {'exact x':>7} {'batch x':>7} {'batch < eval':>12} {'identical':>9}  target (batch)"
    )
    for pop in args.sizes:
        evolution = grown_evolution(level, pop, args.links, args.seed, args.jump_rule)
        rows = []
        for n in range(args.book_generations + 1):
            p = evolution.population
            links = statistics.mean(_links(g) for g in p.population.values())
            summary = evolution.play_generation()
            gc = evolution.config.genome_config
            next_node = next(gc.node_indexer)
            state = (p.species, p.reproduction, next_node, random.getstate())
            stock_pop, _, stock_s = _breed(evolution, "stock", state)
            exact_pop, _, exact_s = _breed(evolution, "exact", state)
            batch_pop, batch_species, batch_s = _breed(evolution, "batch", state)
            p.population, p.species = batch_pop, batch_species
            p.generation += 1
            if n:  # the first generation's parents were not packed by a batch speciation
                rows.append(
                    (
                        summary.eval_seconds,
                        stock_s,
                        exact_s,
                        batch_s,
                        _same(stock_pop, exact_pop),
                        links,
                        len(batch_species.species),
                    )
                )
        eval_s, stock_s, exact_s, batch_s = (statistics.median(r[i] for r in rows) for i in range(4))
        target = BOOKKEEPING_TARGETS.get(pop)
        verdicts = [f"<= {target} s: {verdict(batch_s <= target)}"] if target else []
        identical = "yes" if all(r[4] for r in rows) else "NO"
        print(
            f"{pop:>10,} {statistics.mean(r[5] for r in rows):>6.0f} {rows[-1][6]:>7} {eval_s:>11.3f}"
            f" {stock_s:>8.3f} {exact_s:>8.3f} {batch_s:>8.3f} {stock_s / exact_s:>6.1f}x {stock_s / batch_s:>6.1f}x"
            f" {verdict(batch_s < eval_s):>12} {identical:>9}  {'; '.join(verdicts)}"
        )
