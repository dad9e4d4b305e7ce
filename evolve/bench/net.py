"""`tilerunner bench net`: activations per second of neat-python's RecurrentNetwork vs the Numba kernels."""

from __future__ import annotations

import argparse
import random

import neat
import numpy as np
from neat.innovation import InnovationTracker

from tilerunner.agent import TileGenome, compile, compile_population
from tilerunner.agent import kernels as K
from tilerunner.agent.compiler import new_state
from tilerunner.evolve.bench.flags import COUNT_RANGE, STEPS_RANGE, add_pop, add_repeats, add_whole
from tilerunner.evolve.bench.timing import fmt_rate, median_rate, verdict
from tilerunner.evolve.core.neat_config import load_config
from tilerunner.evolve.core.plural import plural

MANY_STEPS_TARGET = 50  # x neat-python, issue #3
POPULATION_TARGET = 80
LINKS_RANGE = (1, 10**6)
HELP = "network activations/s: neat-python vs the Numba kernels"
DESCRIPTION = (
    "Time the same MarI/O-sized networks in neat-python's RecurrentNetwork, in CompiledNetwork from Python, in"
    " the one-network kernel and in the population kernel on all cores; print each rate and its ratio to"
    " neat-python's."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of `tilerunner bench net`."""
    add_whole(p, "--genomes", "different networks", COUNT_RANGE, 20)
    add_whole(p, "--hidden", "hidden nodes per network", COUNT_RANGE, 30)
    add_whole(p, "--links", "connections per network", LINKS_RANGE, 100)
    add_whole(p, "--steps", "steps per kernel run", STEPS_RANGE, 10_000)
    add_pop(p, 300, what="networks in the population kernel (copies of the --genomes networks)")
    add_repeats(p, "runs of each", 5)


def mario_sized_genomes(config: neat.Config, n: int, hidden: int, links: int, seed: int) -> list[TileGenome]:
    """Genomes shaped like an evolved MarI/O network: the config's inputs and outputs, `hidden` nodes, ~`links` links.

    Grown with neat-python's own add-node and add-connection mutations, from a fixed seed.
    """
    gc = config.genome_config
    gc.innovation_tracker = InnovationTracker()
    random.seed(seed)
    genomes = []
    for key in range(n):
        g = TileGenome(key)
        g.configure_new(gc)
        while len(g.nodes) - gc.num_outputs < hidden or len(g.connections) < links:
            if len(g.nodes) - gc.num_outputs < hidden and random.random() < 0.3:
                g.mutate_add_node(gc)
            else:
                g.mutate_add_connection(gc)
        genomes.append(g)
    return genomes


def run(args: argparse.Namespace) -> int:
    """Time the same networks four ways (neat-python, from Python, one-network kernel, population kernel)."""
    config = load_config(genome_overrides={"initial_connection": "unconnected"})
    genomes = mario_sized_genomes(config, args.genomes, args.hidden, args.links, seed=1)
    rng = np.random.default_rng(0)
    n_in = config.genome_config.num_inputs
    n_out = config.genome_config.num_outputs
    steps = args.steps
    inputs = rng.choice([-1.0, 0.0, 1.0], size=(steps, n_in), p=[0.1, 0.6, 0.3])
    input_lists = inputs.tolist()
    neat_nets = [neat.nn.RecurrentNetwork.create(g, config) for g in genomes]
    nets = [compile(g, config) for g in genomes]
    sizes = [(n.n_nodes, n.n_links) for n in nets]
    print(
        f"tilerunner bench net: {plural(len(genomes), 'genome')}, {n_in} inputs, {n_out} outputs,"
        f" {np.mean([len(g.nodes) - n_out for g in genomes]):.0f} hidden nodes and"
        f" {np.mean([len(g.connections) for g in genomes]):.0f} connections on average"
        f" ({np.mean([s[0] for s in sizes]):.0f} nodes, {np.mean([s[1] for s in sizes]):.0f} links compiled);"
        f" median of {plural(args.repeats, 'run')}"
    )

    neat_steps = max(steps // 10, 1)

    def neat_work() -> int:
        for net in neat_nets:
            net.reset()
            for x in input_lists[:neat_steps]:
                net.activate(x)
        return len(neat_nets) * neat_steps

    def python_work() -> int:
        for net in nets:
            net.reset()
            for x in inputs[:neat_steps]:
                net.activate(x)
        return len(nets) * neat_steps

    def steps_work() -> int:
        for net in nets:
            net.reset()
            net.activate_steps(inputs)
        return len(nets) * steps

    copies = max(args.pop // len(genomes), 1)
    packed = compile_population(genomes * copies, config)
    n_pop = len(genomes) * copies
    pop_steps = max(steps // 100, 1)  # keeps the population's input array small (N x T x 169)
    pop_inputs = np.ascontiguousarray(np.broadcast_to(inputs[:pop_steps], (n_pop, pop_steps, n_in)))
    pop_out = np.empty((n_pop, pop_steps, n_out))

    def population_work() -> int:
        values, cells, active = new_state(packed)
        K.activate_population(packed, values, cells, active, pop_inputs, pop_out)
        return n_pop * pop_steps

    for work in (python_work, steps_work, population_work):  # compile or load kernels before timing
        work()
    rows = [
        ("neat-python RecurrentNetwork.activate", median_rate(neat_work, args.repeats)[0]),
        ("CompiledNetwork.activate (from Python)", median_rate(python_work, args.repeats)[0]),
        ("activate_steps kernel (1 core)", median_rate(steps_work, args.repeats)[0]),
        (f"activate_population kernel ({n_pop} nets, all cores)", median_rate(population_work, args.repeats)[0]),
    ]
    base = rows[0][1]
    width = max(len(r[0]) for r in rows)
    for name, rate in rows:
        print(f"{name:<{width}}  {fmt_rate(rate):>12} activations/s  {rate / base:8.1f}x neat-python")
    print(
        f"targets: many-steps >= {MANY_STEPS_TARGET}x: {verdict(rows[2][1] / base >= MANY_STEPS_TARGET)};"
        f" population >= {POPULATION_TARGET}x: {verdict(rows[3][1] / base >= POPULATION_TARGET)}"
    )
    return 0
