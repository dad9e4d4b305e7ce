"""The fast NEAT bookkeeping (TileGenome's breeding, FastSpeciesSet) equals stock neat-python, bit for bit."""

from __future__ import annotations

import random

import neat
import pytest
from genome_invariants import check_genome
from neatcfg import grow, make_config

from tilerunner.agent.distance import genome_distance, pack_genes
from tilerunner.agent.genome import StockTileGenome, TileGenome
from tilerunner.envs.level import load_level
from tilerunner.evolve.core.evolution import Evolution
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.neat_config import load_config
from tilerunner.evolve.core.speciation import FastSpeciesSet
from tilerunner.evolve.runs.checkpoint import checkpoint_to_dict, decode, encode, evolution_from_dict
from tilerunner.evolve.runs.genome_json import genome_to_dict

MEMORY = {"memory_cells": True, "memory_cell_prob": 0.6, "node_add_prob": 0.5, "port_mutate_rate": 0.2}
SETTINGS = EpisodeSettings(max_frames=600)
# Networks that grow from nothing and split into several species (3 to 8), so speciation has work to do.
SPECIES = {"initial_connection": "unconnected", "compatibility_disjoint_coefficient": 2.0, "conn_add_prob": 0.8}


class InfoLog(neat.reporting.BaseReporter):
    def __init__(self):
        self.lines = []

    def info(self, msg):
        self.lines.append(msg)


def snapshot(evolution: Evolution) -> tuple:
    """Every genome gene by gene (in its own order) and every species (members in order, representative)."""
    p = evolution.population
    genomes = [(key, genome_to_dict(g, keep_order=True)) for key, g in p.population.items()]
    species = [
        (sid, s.created, list(s.members), genome_to_dict(s.representative, keep_order=True))
        for sid, s in p.species.species.items()
    ]
    return genomes, species, dict(p.species.genome_to_species), p.reproduction.innovation_tracker.global_counter


def evolve(stock: bool, generations: int, genome_overrides: dict | None = None, pop: int = 30) -> tuple[list, list]:
    config = load_config(
        neat_overrides={"pop_size": pop}, genome_overrides={**SPECIES, **(genome_overrides or {})}, stock_neat=stock
    )
    evolution = Evolution(config, [load_level("1-1")], SETTINGS, seed=5)
    log = InfoLog()
    evolution.add_reporter(log)
    states = []
    for _ in range(generations):
        evolution.reproduce(evolution.play_generation())
        states.append(snapshot(evolution))
        for genome in evolution.population.population.values():
            check_genome(genome, config.genome_config)
    return states, log.lines


def test_the_classes_are_chosen_by_load_config():
    fast, stock = load_config(), load_config(stock_neat=True)
    assert (fast.genome_type, fast.species_set_type) == (TileGenome, FastSpeciesSet)
    assert (stock.genome_type, stock.species_set_type) == (StockTileGenome, neat.DefaultSpeciesSet)


def test_fifty_generations_fast_and_stock_are_identical():
    stock, stock_log = evolve(True, 50)
    fast, fast_log = evolve(False, 50)
    for generation, (a, b) in enumerate(zip(stock, fast)):
        assert a == b, f"generation {generation} differs"
    assert stock_log == fast_log  # the "Mean genetic distance" reports too
    assert max(len(species) for _, species, _, _ in fast) > 3  # speciation had work to do
    assert max(len(g["connections"]) for _, g in fast[-1][0]) > 20


def test_with_memory_cells_fast_and_stock_are_identical():
    stock, _ = evolve(True, 20, MEMORY)
    fast, _ = evolve(False, 20, MEMORY)
    assert stock == fast
    genomes = fast[-1][0]
    assert any(n["memory"] for _, g in genomes for n in g["nodes"])
    assert len({c["port"] for _, g in genomes for c in g["connections"]}) > 1


@pytest.mark.parametrize("memory", [False, True])
def test_packed_distance_equals_neat_pythons_exactly(tmp_path, memory):
    config = make_config(tmp_path, **({k: str(v).lower() for k, v in MEMORY.items()} if memory else {}))
    gc = config.genome_config
    genomes = grow(config, 30, seed=11, mutations=None)
    random.seed(2)
    for key, (a, b) in enumerate(zip(genomes, reversed(genomes))):  # children share genes with their parents
        a.fitness, b.fitness = random.random(), random.random()
        child = TileGenome(100 + key)
        child.configure_crossover(a, b, gc)
        child.mutate(gc)
        genomes.append(child)
    packed = pack_genes(genomes)
    dc, wc = gc.compatibility_disjoint_coefficient, gc.compatibility_weight_coefficient
    pairs = [(i, j) for i in range(len(genomes)) for j in range(len(genomes)) if random.random() < 0.2]
    for i, j in pairs:
        assert genome_distance(packed, i, j, dc, wc) == genomes[i].distance(genomes[j], gc)


def test_a_checkpoint_of_the_fast_path_resumes_exactly():
    config = load_config(neat_overrides={"pop_size": 30})
    straight = Evolution(config, [load_level("1-1")], SETTINGS, seed=9)
    for _ in range(6):
        straight.reproduce(straight.play_generation())
    config = load_config(neat_overrides={"pop_size": 30})
    first = Evolution(config, [load_level("1-1")], SETTINGS, seed=9)
    for _ in range(3):
        first.reproduce(first.play_generation())
    data = decode(encode(checkpoint_to_dict(first, [], [])), "test")
    resumed, _, _, _ = evolution_from_dict(data, load_config(neat_overrides={"pop_size": 30}))
    assert isinstance(resumed.population.species, FastSpeciesSet)
    for _ in range(3):
        resumed.reproduce(resumed.play_generation())
    assert snapshot(resumed) == snapshot(straight)
