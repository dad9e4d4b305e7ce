"""Batch breeding (`breeding = batch`): valid genomes, close in distribution to neat-python's, repeatable."""

from __future__ import annotations

import random
from itertools import count

import numpy as np
import pytest
from genome_invariants import check_genome
from test_fast_neat import MEMORY, SETTINGS, SPECIES, evolve, snapshot

from tilerunner.agent import compile_arrays, compile_genomes
from tilerunner.agent.distance import pack_genes
from tilerunner.envs.level import load_level
from tilerunner.evolve.bench.evolve import _breed, grown_evolution
from tilerunner.evolve.core.evolution import Evolution
from tilerunner.evolve.core.neat_config import ConfigError, load_config
from tilerunner.evolve.core.reproduction import BatchReproduction, breeds_in_batches
from tilerunner.evolve.runs.checkpoint import checkpoint_to_dict, decode, encode, evolution_from_dict

BATCH = {"breeding": "batch"}


def check_genomes(population: dict, config) -> None:
    """Every genome keeps the genome invariants (`check_genome`) and sits under its own key."""
    for key, genome in population.items():
        assert genome.key == key
        check_genome(genome, config.genome_config)


def test_batch_breeding_is_opt_in_and_checked():
    assert not breeds_in_batches(load_config())
    config = load_config(genome_overrides=BATCH)
    assert breeds_in_batches(config) and config.reproduction_type is BatchReproduction
    assert not breeds_in_batches(load_config(genome_overrides=BATCH, stock_neat=True))  # stock is neat-python's
    with pytest.raises(ConfigError, match="breeding must be one of exact, batch"):
        load_config(genome_overrides={"breeding": "fast"})


@pytest.mark.parametrize("memory", [False, True])
def test_batch_runs_are_repeatable_and_differ_from_exact_ones(memory):
    extra = {**BATCH, **(MEMORY if memory else {})}
    # 50 genomes: at 30-40 some runs, exact or batch, split into so many species that neat-python 2.0's
    # `_adjust_spawn_exact` gives up ("could not match pop_size"), which is neat-python's, not breeding's
    first, log = evolve(False, 20, extra, pop=50)
    again, log_again = evolve(False, 20, extra, pop=50)
    assert first == again and log == log_again
    exact, _ = evolve(False, 20, MEMORY if memory else None, pop=50)
    assert first[-1] != exact[-1]  # not the exact path under another name
    genomes = first[-1][0]
    assert max(len(species) for _, species, _, _ in first) > 3  # and it did speciate
    assert max(len(g["connections"]) for _, g in genomes) > 15  # and grow (from none; exact reaches 20 here)
    if memory:
        assert any(n["memory"] for _, g in genomes for n in g["nodes"])
        assert len({c["port"] for _, g in genomes for c in g["connections"]}) > 1


def test_batch_genomes_are_whole_and_their_packed_genes_are_theirs():
    config = load_config(neat_overrides={"pop_size": 60}, genome_overrides={**BATCH, **SPECIES, **MEMORY})
    # seed 4: some seeds (3 here, 6 and 8 the exact way) split into so many species by generation 5 that
    # neat-python 2.0's `_adjust_spawn_exact` gives up, whichever way they breed
    evolution = Evolution(config, [load_level("1-1")], SETTINGS, seed=4)
    for _ in range(12):
        evolution.reproduce(evolution.play_generation())
        population = evolution.population.population
        check_genomes(population, config)
        # what speciation (and the next breeding) reads instead of the genes must be the genes
        genomes = [population[k] for k in sorted(population)]
        pool = evolution.population.species.pool
        kept, fresh = pool.pack(genomes), pack_genes(genomes)
        for name in fresh._fields:
            if name in ("node_act", "node_agg", "conn_port"):
                continue  # name codes are handed out as names are first seen; compare the names
            assert np.array_equal(getattr(kept, name), getattr(fresh, name)), name


def test_a_batch_checkpoint_resumes_exactly():
    def config():
        return load_config(neat_overrides={"pop_size": 30}, genome_overrides=BATCH)

    straight = Evolution(config(), [load_level("1-1")], SETTINGS, seed=9)
    for _ in range(6):
        straight.reproduce(straight.play_generation())
    first = Evolution(config(), [load_level("1-1")], SETTINGS, seed=9)
    for _ in range(3):
        first.reproduce(first.play_generation())
    data = decode(encode(checkpoint_to_dict(first, [], [])), "test")
    resumed, _, _, _ = evolution_from_dict(data, config())
    assert resumed.population.species.pool is None  # the packed genes are not saved: they are packed again
    for _ in range(3):
        resumed.reproduce(resumed.play_generation())
    assert snapshot(resumed) == snapshot(straight)


def test_one_generation_bred_both_ways_is_the_same_in_distribution():
    """From the same parents, exact and batch children agree in every statistic within a few standard errors."""
    evolution = grown_evolution(load_level("1-1"), 600, 40, seed=4)
    p = evolution.population
    evolution.play_generation()
    state = (p.species, p.reproduction, next(evolution.config.genome_config.node_indexer), random.getstate())
    stats = {}
    for mode in ("exact", "batch"):
        population, species, _ = _breed(evolution, mode, state)
        kids = [g for key, g in population.items() if key not in p.population]
        conns = [c for g in kids for c in g.connections.values()]
        nodes = [n for g in kids for n in g.nodes.values()]
        stats[mode] = {
            "connections": np.array([len(g.connections) for g in kids], float),
            "hidden nodes": np.array([len(g.nodes) for g in kids], float),
            "enabled": np.array([c.enabled for c in conns], float),
            "weight": np.array([c.weight for c in conns]),
            "|weight|": np.abs([c.weight for c in conns]),
            "bias": np.array([n.bias for n in nodes]),
        }
        check_genomes(population, evolution.config)
    for name, exact in stats["exact"].items():
        batch = stats["batch"][name]
        se = np.sqrt(exact.var() / exact.size + batch.var() / batch.size)
        assert abs(exact.mean() - batch.mean()) < 4 * se + 1e-9, name
    assert len(stats["batch"]["connections"]) == len(stats["exact"]["connections"])


def test_the_node_indexer_moves_on_past_batch_nodes():
    config = load_config(neat_overrides={"pop_size": 40}, genome_overrides={**BATCH, "node_add_prob": 0.9})
    evolution = Evolution(config, [load_level("1-1")], SETTINGS, seed=1)
    for _ in range(4):
        evolution.reproduce(evolution.play_generation())
    gc = config.genome_config
    highest = max(k for g in evolution.population.population.values() for k in g.nodes)
    nxt = next(gc.node_indexer)
    assert nxt > highest
    gc.node_indexer = count(nxt)


@pytest.mark.parametrize("memory", [False, True])
def test_packed_children_compile_to_the_networks_of_their_gene_objects(memory):
    import pickle

    config = load_config(
        neat_overrides={"pop_size": 60}, genome_overrides={**BATCH, **SPECIES, **(MEMORY if memory else {})}
    )
    evolution = Evolution(config, [load_level("1-1")], SETTINGS, seed=4)
    for _ in range(6):
        evolution.reproduce(evolution.play_generation())
    genomes = list(evolution.population.population.values())
    packed = [g for g in genomes if g.packed_genes() is not None]
    assert len(packed) > 30
    from_arrays = compile_genomes(genomes, config.genome_config)
    assert all(g.packed_genes() is not None for g in packed)  # compiled without making gene objects
    for genome, net in zip(genomes, from_arrays):
        expected = compile_arrays(pickle.loads(pickle.dumps(genome)), config.genome_config)  # from gene objects
        for name, value in expected._asdict().items():
            got = getattr(net, name)
            if isinstance(value, np.ndarray):
                assert got.dtype == value.dtype and np.array_equal(got, value), name
            else:
                assert got == value, name


def test_a_batch_child_makes_its_gene_objects_only_when_asked():
    import pickle

    from tilerunner.evolve.runs.genome_json import genome_to_dict

    config = load_config(neat_overrides={"pop_size": 30}, genome_overrides=BATCH)
    evolution = Evolution(config, [load_level("1-1")], SETTINGS, seed=2)
    for _ in range(6):
        evolution.reproduce(evolution.play_generation())
        arrays = {id(g.packed_genes()[0]) for g in evolution.population.population.values() if g.packed_genes()}
        assert len(arrays) <= 2  # this generation's and its parents': elites do not hold old generations alive
    children = [g for g in evolution.population.population.values() if g.packed_genes() is not None]
    assert len(children) > 20  # all but the elites (and the champion, copied for the record)
    child = children[0]
    copied = pickle.loads(pickle.dumps(child))  # a pickle carries gene objects, not the generation's arrays
    assert "_packed" not in vars(copied) and child.packed_genes() is None  # pickling made them
    assert genome_to_dict(copied, keep_order=True) == genome_to_dict(child, keep_order=True)
    other = children[1]
    assert other.packed_genes() is not None
    assert len(other.connections) > 0 and other.packed_genes() is None  # asking made them
    with pytest.raises(AttributeError, match="no attribute 'colour'"):
        other.colour  # noqa: B018


@pytest.mark.parametrize("memory", [False, True])
def test_new_genes_are_made_as_neat_python_makes_them_draw_for_draw(memory):
    from tilerunner.agent import breeding
    from tilerunner.agent.batch_breeding import _new_connection, _new_node

    config = load_config(genome_overrides={**BATCH, **(MEMORY if memory else {}), "enabled_default": "random"})
    gc = config.genome_config
    settings = breeding.GeneSettings(gc)
    for seed in range(20):
        random.seed(seed)
        ours = [
            _new_connection(settings, gc.connection_gene_type, (-3, 7), 11),
            _new_node(settings, gc.node_gene_type, 9, memory and seed % 2 == 0),
        ]
        after = random.random()
        random.seed(seed)
        conn = gc.connection_gene_type((-3, 7), innovation=11)
        conn.init_attributes(gc)
        node = gc.node_gene_type(9, memory=memory and seed % 2 == 0)
        node.init_attributes(gc)
        assert random.random() == after
        assert [vars(g) for g in ours] == [vars(conn), vars(node)]


def _split_statistics(mode: str, seeds: range) -> dict[str, np.ndarray]:
    """After one generation in which every child splits a connection (add-node only, `enabled` mutating often):
    per child, whether the split connection stayed disabled, whether the new outgoing one is enabled, and whether
    the outgoing one still has the split one's weight."""
    import neat

    config = load_config(
        neat_overrides={"pop_size": 100},
        genome_overrides={
            "num_inputs": 3,
            "initial_connection": "full_direct",
            "node_add_prob": 1.0,
            "node_delete_prob": 0.0,
            "conn_add_prob": 0.0,
            "conn_delete_prob": 0.0,
            "enabled_mutate_rate": 0.5,
            "breeding": mode,
        },
    )
    stats: dict[str, list[float]] = {"split disabled": [], "out enabled": [], "out weight = split weight": []}
    for seed in seeds:
        population = neat.Population(config, seed=seed)
        parents = population.population
        for genome in parents.values():
            genome.fitness = random.random()
        old_nodes = {k for g in parents.values() for k in g.nodes}
        children = population.reproduction.reproduce(config, population.species, config.pop_size, 0)
        for key, child in children.items():
            if key in parents:
                continue
            (new,) = [k for k in child.nodes if k not in old_nodes]
            ((i, _),) = [k for k in child.connections if k[1] == new]
            ((_, o),) = [k for k in child.connections if k[0] == new]
            split, out = child.connections[(i, o)], child.connections[(new, o)]
            stats["split disabled"].append(not split.enabled)
            stats["out enabled"].append(out.enabled)
            stats["out weight = split weight"].append(out.weight == split.weight)
    return {name: np.array(values, float) for name, values in stats.items()}


def test_batch_mutates_structure_before_attributes_as_neat_python():
    """neat-python splits a connection and then mutates every gene: the disabled connection may be enabled again,
    the new outgoing one disabled, and the two copies of the weight mutate separately. Batch breeding did it the
    other way round (attributes first), which these three statistics tell apart at once."""
    exact, batch = _split_statistics("exact", range(3)), _split_statistics("batch", range(3))
    assert exact["split disabled"].mean() < 0.85 and exact["out weight = split weight"].mean() < 0.1  # the rule
    for name, e in exact.items():
        b = batch[name]
        assert b.size == e.size > 250
        se = np.sqrt(e.var() / e.size + b.var() / b.size)
        assert abs(e.mean() - b.mean()) < 4 * se + 0.02, (name, e.mean(), b.mean())
