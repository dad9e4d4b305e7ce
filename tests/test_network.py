"""Compiled networks: equal to neat-python's RecurrentNetwork, memory cells equal to their equations."""

from __future__ import annotations

import math
import pickle
import types

import neat
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neat.innovation import InnovationTracker
from neatcfg import grow, make_config

from tilerunner.agent import ACTIVATIONS, AGGREGATIONS, CompiledNetwork, TileGenome, compile, compile_population
from tilerunner.agent import exact_math as xm
from tilerunner.agent import kernels as K
from tilerunner.agent.compiler import new_state

EVERYTHING = {
    "activation_default": "random",
    "activation_options": " ".join(ACTIVATIONS),
    "activation_mutate_rate": "0.3",
    "aggregation_default": "random",
    "aggregation_options": " ".join(AGGREGATIONS),
    "aggregation_mutate_rate": "0.2",
    "node_add_prob": "0.4",
    "node_delete_prob": "0.15",
    "conn_delete_prob": "0.2",
    "enabled_mutate_rate": "0.1",
    "response_mutate_rate": "0.3",
    "response_mutate_power": "0.3",
}
MEMORY = {"memory_cells": "true", "memory_cell_prob": "0.6", "node_add_prob": "0.5"}


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(a - b) / np.maximum(1.0, np.abs(b))
    return float(np.where(same, 0.0, np.nan_to_num(err, nan=np.inf)).max())


def test_equal_to_neat_recurrent_network_for_hundreds_of_grown_genomes(tmp_path, monkeypatch):
    # neat-python's own activation functions, with the elementary functions the kernels use (the same bits on
    # a GPU; within an ulp or two of math's, see test_exact_math): over 200 recurrent steps a chaotic network
    # would turn that last bit into any difference at all, and this test is about everything else.
    monkeypatch.setattr(
        neat.activations, "math", types.SimpleNamespace(exp=xm.exp, tanh=xm.tanh, sin=xm.sin, log=xm.log)
    )
    config = make_config(tmp_path, **EVERYTHING)
    genomes = grow(config, 300, seed=11)
    rng = np.random.default_rng(0)
    compared = 0
    seen_acts, seen_aggs = set(), set()
    features = {"disabled": 0, "self_loop": 0, "cycle_or_loop": 0}
    for g in genomes:
        ref = neat.nn.RecurrentNetwork.create(g, config)
        net = compile(g, config)
        x = rng.uniform(-1.0, 1.0, size=(200, config.genome_config.num_inputs))
        try:
            expected = np.array([ref.activate(row) for row in x.tolist()])
        except (OverflowError, ZeroDivisionError):
            continue  # neat-python itself cannot run this one (e.g. square of a huge value)
        got = net.activate_steps(x)
        assert rel_err(got, expected) <= 1e-9, f"genome {g.key} differs"
        compared += 1
        seen_acts |= {n.activation for n in g.nodes.values()}
        seen_aggs |= {n.aggregation for n in g.nodes.values()}
        features["disabled"] += any(not c.enabled for c in g.connections.values())
        features["self_loop"] += any(i == o for i, o in g.connections)
        features["cycle_or_loop"] += any((o, i) in g.connections for i, o in g.connections)
    assert compared >= 280
    assert seen_acts == set(ACTIVATIONS) and seen_aggs == set(AGGREGATIONS)
    assert all(count > 10 for count in features.values()), features


def reference(genome, config, inputs: np.ndarray) -> np.ndarray:
    """A plain NumPy/Python interpreter of the network equations (ordinary nodes as neat, cells as LSTM)."""
    gc = config.genome_config
    enabled = [c for c in genome.connections.values() if c.enabled]
    incoming = {}
    for c in enabled:
        incoming.setdefault(c.key[1], []).append(c)
    prev = {k: 0.0 for k in list(gc.input_keys) + list(genome.nodes)}
    cell = {k: 0.0 for k in genome.nodes}
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    outputs = []
    for row in inputs:
        for key, v in zip(gc.input_keys, row):
            prev[key] = v
        nxt = dict(prev)
        for key, links in incoming.items():
            node = genome.nodes[key]
            if node.memory:
                s = np.zeros(4)
                for c in links:
                    s[["cell", "input_gate", "forget_gate", "output_gate"].index(c.port)] += prev[c.key[0]] * c.weight
                i = sig(node.input_gate_bias + s[1])
                f = sig(node.forget_gate_bias + s[2])
                o = sig(node.output_gate_bias + s[3])
                g = np.tanh(node.bias + node.response * s[0])
                cell[key] = f * cell[key] + i * g
                nxt[key] = o * np.tanh(cell[key])
            else:
                agg = gc.aggregation_function_defs.get(node.aggregation)
                act = gc.activation_defs.get(node.activation)
                nxt[key] = act(node.bias + node.response * agg([prev[c.key[0]] * c.weight for c in links]))
        prev = nxt
        outputs.append([prev[k] for k in gc.output_keys])
    return np.array(outputs)


def test_memory_cells_follow_the_lstm_equations(tmp_path):
    config = make_config(tmp_path, **MEMORY)
    genomes = [g for g in grow(config, 80, seed=4) if g.memory_nodes()]
    assert len(genomes) > 40
    rng = np.random.default_rng(1)
    for g in genomes:
        x = rng.uniform(-1.0, 1.0, size=(100, config.genome_config.num_inputs))
        assert rel_err(compile(g, config).activate_steps(x), reference(g, config, x)) <= 1e-9


def test_a_memory_cell_holds_a_bit_for_a_hundred_steps(tmp_path):
    # Hand-wired: input 1 writes the cell (input gate opens only when it is nonzero), forget gate shut tight.
    config = make_config(tmp_path, num_inputs="2", num_outputs="1", initial_connection="unconnected", **MEMORY)
    gc = config.genome_config
    gc.innovation_tracker = InnovationTracker()
    g = TileGenome(0)
    g.configure_new(gc)
    g.nodes[0].activation, g.nodes[0].bias, g.nodes[0].response = "identity", 0.0, 1.0
    cell = g.create_node(gc, 5)
    cell.memory, cell.bias, cell.response = True, 0.0, 1.0
    cell.input_gate_bias, cell.forget_gate_bias, cell.output_gate_bias = -10.0, 10.0, 10.0
    g.nodes[5] = cell
    for (i, o), w, port in [((-1, 5), 5.0, "cell"), ((-2, 5), 20.0, "input_gate"), ((5, 0), 1.0, "cell")]:
        g.add_connection(gc, i, o, w, True)
        g.connections[(i, o)].port = port
    net = compile(g, config)
    for bit in (1.0, -1.0):
        net.reset()
        x = np.zeros((103, 2))
        x[0] = [bit, 1.0]  # write
        x[1:101, 0] = np.random.default_rng(2).uniform(-1, 1, 100)  # distractors, not written
        out = net.activate_steps(x)[:, 0]
        assert np.sign(out[-1]) == bit and abs(out[-1]) > 0.5


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    weight=st.sampled_from([1e3, 1e30, 1e300, -1e300, 1e-300]),
    value=st.sampled_from([0.0, 1.0, -1e300, 1e300, math.inf, -math.inf, math.nan]),
)
def test_memory_cells_never_produce_nan_or_inf(tmp_path, seed, weight, value):
    config = make_config(tmp_path, **MEMORY)
    for g in grow(config, 3, seed=seed, max_mutations=30):
        for k, c in enumerate(g.connections.values()):
            c.weight = weight * (-1) ** k
        net = compile(g, config)
        net.activate_steps(np.full((20, config.genome_config.num_inputs), value))
        a = net.arrays
        cell_slots = a.node_slot[a.node_memory]
        assert np.isfinite(net.values[:, cell_slots]).all() and np.isfinite(net.cells).all()


def test_only_nodes_that_reach_an_output_are_compiled(tmp_path):
    config = make_config(tmp_path, **EVERYTHING)
    outputs = config.genome_config.output_keys
    pruned_some = 0
    for g in grow(config, 50, seed=2):
        net = compile(g, config)
        enabled = [c.key for c in g.connections.values() if c.enabled]
        # The nodes with a path of enabled links to an output (outputs included), worked out here by hand ...
        reaching = set(outputs)
        while True:
            more = {i for i, o in enabled if o in reaching and i >= 0} - reaching
            if not more:
                break
            reaching |= more
        # ... of which those fed by an enabled link are evaluated, with exactly the links into them.
        evaluated = {o for _, o in enabled if o in reaching}
        assert net.n_nodes == len(evaluated)
        assert net.n_links == sum(o in reaching for _, o in enabled)
        # neat-python's RecurrentNetwork evaluates these too; the few more it does (nodes behind disabled links
        # count for it) reach no output, so leaving them out cannot change one.
        reference = {node for node, *_ in neat.nn.RecurrentNetwork.create(g, config).node_evals}
        assert evaluated <= reference and not (reference - evaluated) & reaching
        pruned_some += net.n_nodes < len(g.nodes) or net.n_links < len(enabled)
    assert pruned_some >= 5  # the genomes grown had parts that reach no output, and they were left out


def test_compiled_networks_pickle_and_reset(tmp_path):
    config = make_config(tmp_path, **MEMORY)
    g = next(g for g in grow(config, 20, seed=9) if g.memory_nodes())
    net = compile(g, config)
    x = np.random.default_rng(3).uniform(-1, 1, (50, config.genome_config.num_inputs))
    first = net.activate_steps(x)
    clone = pickle.loads(pickle.dumps(net))
    clone.reset()
    assert np.array_equal(clone.activate_steps(x), first)
    net.reset()
    stepped = np.array([net.activate(row) for row in x])
    assert np.array_equal(stepped, first)


def test_population_kernel_equals_one_network_at_a_time(tmp_path):
    config = make_config(tmp_path, **dict(EVERYTHING, **MEMORY))
    genomes = grow(config, 64, seed=6)
    packed = compile_population(genomes, config)
    values, cells, active = new_state(packed)
    x = np.random.default_rng(4).uniform(-1, 1, (len(genomes), 30, config.genome_config.num_inputs))
    out = np.empty((len(genomes), 30, config.genome_config.num_outputs))
    K.activate_population(packed, values, cells, active, x, out)
    for k, g in enumerate(genomes):
        expected = compile(g, config).activate_steps(x[k])
        assert rel_err(out[k], expected) == 0.0  # bit for bit (NaN where both are NaN)


def test_wrong_input_sizes_are_refused(tmp_path):
    config = make_config(tmp_path)
    net = CompiledNetwork.create(grow(config, 1, seed=0)[0], config)
    with pytest.raises(ValueError, match="expected 5 inputs"):
        net.activate([1.0, 2.0])
    with pytest.raises(ValueError, match=r"expected inputs of shape \(T, 5\)"):
        net.activate_steps(np.zeros((3, 4)))
