"""TileGenome: exactly DefaultGenome with memory off; memory cells evolve through neat-python's machinery."""

from __future__ import annotations

import copy
import json
import random

import neat
import pytest
from genome_invariants import check_genome
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neatcfg import grow, json_slots, make_config

from tilerunner.agent import TileGenome, UnsupportedFunctionError
from tilerunner.evolve.runs.genome_json import GenomeFormatError, genome_from_dict, genome_to_dict

MEMORY = {"memory_cells": "true", "memory_cell_prob": "0.6", "node_add_prob": "0.5"}


def toy_fitness(genomes, config):
    # Deterministic and structure-dependent, so selection really happens.
    for _, g in genomes:
        g.fitness = sum(c.weight for c in g.connections.values() if c.enabled) + 0.1 * len(g.nodes)


def fingerprint(population):
    return sorted(
        (
            key,
            sorted((k, n.bias, n.response, n.activation, n.aggregation) for k, n in g.nodes.items()),
            sorted((k, c.weight, c.enabled, c.innovation) for k, c in g.connections.items()),
        )
        for key, g in population.items()
    )


def test_with_memory_off_it_evolves_exactly_like_default_genome(tmp_path):
    runs = []
    for genome_type in (neat.DefaultGenome, TileGenome):
        population = neat.Population(make_config(tmp_path, genome_type), seed=7)
        population.run(toy_fitness, 12)
        runs.append(fingerprint(population.population))
    assert runs[0] == runs[1]


def grown_genomes(config, n=40, mutations=30, seed=3):
    genomes = grow(config, n, seed, mutations=mutations)
    for genome in genomes:
        check_genome(genome, config.genome_config)
    return genomes


def test_add_node_makes_memory_cells_with_ports(tmp_path):
    config = make_config(tmp_path, **MEMORY)
    genomes = grown_genomes(config)
    cells = [k for g in genomes for k in g.memory_nodes()]
    hidden = [k for g in genomes for k in g.nodes if k >= config.genome_config.num_outputs]
    assert 0.4 < len(cells) / len(hidden) < 0.8  # memory_cell_prob = 0.6
    ports = {c.port for g in genomes for c in g.connections.values()}
    assert ports == {"cell", "input_gate", "forget_gate", "output_gate"}
    gates = {n.forget_gate_bias for g in genomes for n in g.nodes.values() if n.memory}
    assert len(gates) > 10  # initialised and mutated, not constant


def test_memory_off_never_makes_cells_or_ports(tmp_path):
    genomes = grown_genomes(make_config(tmp_path, node_add_prob="0.5"))
    assert not any(g.memory_nodes() for g in genomes)
    assert {c.port for g in genomes for c in g.connections.values()} == {"cell"}


def test_crossover_keeps_cells_and_mixes_their_gate_biases(tmp_path):
    config = make_config(tmp_path, **MEMORY)
    gc = config.genome_config
    parent = next(g for g in grown_genomes(config) if g.memory_nodes())
    other = copy.deepcopy(parent)
    for node in other.nodes.values():
        if node.memory:
            node.forget_gate_bias += 5.0
    parent.fitness, other.fitness = 1.0, 0.5
    random.seed(0)
    children = []
    for key in range(30):
        child = TileGenome(key)
        child.configure_crossover(parent, other, gc)
        children.append(child)
    cell = parent.memory_nodes()[0]
    assert all(c.nodes[cell].memory for c in children)
    values = {c.nodes[cell].forget_gate_bias for c in children}
    assert values == {parent.nodes[cell].forget_gate_bias, other.nodes[cell].forget_gate_bias}


def test_distance_counts_gate_biases_cell_type_and_ports(tmp_path):
    config = make_config(tmp_path, **MEMORY)
    gc = config.genome_config
    g = next(g for g in grown_genomes(config) if g.memory_nodes())
    h = copy.deepcopy(g)
    assert g.distance(h, gc) == 0.0
    cell = g.memory_nodes()[0]
    h.nodes[cell].output_gate_bias += 2.0
    d_gate = g.distance(h, gc)
    assert d_gate > 0
    h.nodes[cell].memory = False
    assert g.distance(h, gc) > d_gate
    k = copy.deepcopy(g)
    conn = next(iter(k.connections.values()))
    conn.port = "forget_gate" if conn.port != "forget_gate" else "cell"
    assert g.distance(k, gc) > 0


def test_pruned_copy_keeps_memory_cells(tmp_path):
    config = make_config(tmp_path, **MEMORY)
    gc = config.genome_config
    g = next(g for g in grown_genomes(config) if g.get_pruned_copy(gc).memory_nodes())  # a cell the outputs use
    pruned = g.get_pruned_copy(gc)
    assert isinstance(pruned, TileGenome)
    kept = pruned.memory_nodes()
    assert kept and set(kept) <= set(g.memory_nodes())
    for key in kept:
        for gate in ("input_gate_bias", "forget_gate_bias", "output_gate_bias", "bias", "memory"):
            assert getattr(pruned.nodes[key], gate) == getattr(g.nodes[key], gate), (key, gate)


def test_a_population_with_memory_evolves(tmp_path):
    population = neat.Population(make_config(tmp_path, **MEMORY), seed=1)
    population.run(toy_fitness, 8)
    assert any(g.memory_nodes() for g in population.population.values())


@pytest.mark.parametrize(
    "setting, message",
    [
        ({"memory_cels": "true"}, "unknown item in [TileGenome]: memory_cels"),
        ({"activation_options": "sigmoid swish"}, "activation function 'swish' is not supported"),
        ({"aggregation_default": "softmax"}, "aggregation function 'softmax' is not supported"),
        ({"memory_cell_prob": "1.5"}, "memory_cell_prob must be between 0 and 1"),
        ({"port_options": "cell gate"}, "port_options: unknown port 'gate'"),
        ({"breeding": "quick"}, "breeding must be one of exact, batch, got 'quick'"),
    ],
)
def test_bad_genome_settings_name_the_problem(tmp_path, setting, message):
    with pytest.raises((RuntimeError, UnsupportedFunctionError)) as info:
        make_config(tmp_path, **setting)
    assert message in str(info.value)
    if "activation function" in message:
        assert "supported: sigmoid, tanh, sin" in str(info.value)
    if "aggregation function" in message:
        assert "supported: sum, product, max" in str(info.value)


def test_json_round_trip_is_exact(tmp_path):
    config = make_config(tmp_path, **MEMORY)
    for g in grown_genomes(config, n=20):
        g.fitness = random.random() * 1000
        data = json.loads(json.dumps(genome_to_dict(g)))
        back = genome_from_dict(data, config.genome_config)
        assert genome_to_dict(back) == genome_to_dict(g)
        assert str(back) == str(g)


def test_genome_dict_must_fit_its_config(tmp_path):
    config = make_config(tmp_path, **MEMORY)
    data = genome_to_dict(grown_genomes(config, n=1)[0])
    small = make_config(tmp_path, num_inputs="2", **MEMORY).genome_config
    with pytest.raises(GenomeFormatError, match="does not fit its config"):
        genome_from_dict(data, small)
    no_outputs = dict(data, nodes=[n for n in data["nodes"] if n["key"] != 0])
    no_outputs["connections"] = [c for c in data["connections"] if 0 not in (c["in"], c["out"])]
    with pytest.raises(GenomeFormatError, match="output node 0 is missing"):
        genome_from_dict(no_outputs, config.genome_config)


def _mutations():
    leaf = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-10, 10),
        st.floats(allow_nan=True),
        st.text(max_size=5),
        st.just("sigmoid"),
        st.just([]),
        st.just({}),
    )
    return st.lists(st.tuples(st.integers(0, 10_000), leaf), min_size=1, max_size=4)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=_mutations(), drop=st.booleans())
def test_damaged_genome_dicts_load_or_raise_genome_format_error(tmp_path_factory, edits, drop):
    config = make_config(tmp_path_factory.mktemp("cfg"), **MEMORY)
    data = genome_to_dict(grown_genomes(config, n=1, seed=5)[0])
    slots = json_slots(data)  # every place in the dict; damage some of them
    for where, value in edits:
        container, key = slots[where % len(slots)]
        if drop and isinstance(container, dict):
            container.pop(key, None)
        else:
            container[key] = value
    try:
        genome = genome_from_dict(data, config.genome_config)
    except GenomeFormatError as exc:
        assert "\n" not in str(exc)
        return
    from tilerunner.agent import compile

    compile(genome, config)  # whatever loads, compiles


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda g: g.nodes.pop(0), "output node 0 is missing"),
        (lambda g: setattr(next(iter(g.connections.values())), "innovation", 0), "innovation 0"),
        (lambda g: setattr(next(iter(g.connections.values())), "port", "gate"), "port='gate'"),
        (lambda g: setattr(next(iter(g.connections.values())), "weight", 1e9), "outside its configured range"),
        (lambda g: setattr(next(iter(g.connections.values())), "enabled", 1), "enabled=1"),
        (lambda g: setattr(g.nodes[0], "input_gate_bias", 0.5), "input_gate_bias=0.5"),
        (lambda g: g.connections.update({(-1, 99): copy.copy(next(iter(g.connections.values())))}), "(-1, 99)"),
    ],
)
def test_check_genome_names_the_broken_invariant(tmp_path, damage, message):
    config = make_config(tmp_path, **MEMORY)
    genome = copy.deepcopy(grown_genomes(config, n=1)[0])
    check_genome(genome, config.genome_config)
    damage(genome)
    with pytest.raises(ValueError) as info:
        check_genome(genome, config.genome_config)
    assert message in str(info.value)
