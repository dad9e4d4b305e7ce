"""The compiler: the same arrays as ever for every genome, however it was bred or stored."""

from __future__ import annotations

import hashlib
import json
import pathlib
import pickle
import random
import types

import neat
import numpy as np
import pytest
from neatcfg import grow, make_config
from test_network import EVERYTHING, MEMORY, rel_err

from tilerunner.agent import (
    UnsupportedFunctionError,
    compile,
    compile_arrays,
    compile_genomes,
    compile_population,
    pack,
)
from tilerunner.agent import exact_math as xm
from tilerunner.agent.compiler import node_slots

EXPECTED = pathlib.Path(__file__).with_name("data") / "compiled_digests.json"
# Grown with neat-python's own operators: every activation and aggregation, memory cells and their ports,
# disabled links, self-loops, cycles, dead ends; feed-forward ones too.
GROWN = {
    "everything+memory": ({**EVERYTHING, **MEMORY}, 200, 11),
    "memory": (MEMORY, 200, 13),
    "feed_forward": ({"feed_forward": "true", "node_add_prob": "0.4"}, 100, 12),
}


def digest(net, slots) -> str:
    """A short fingerprint of a compiled network's arrays (values, dtypes, shapes) and of its `node_slots`."""
    h = hashlib.sha256()
    for name, value in net._asdict().items():
        if isinstance(value, np.ndarray):
            h.update(f"{name}:{value.dtype.str}:{value.shape}:".encode() + np.ascontiguousarray(value).tobytes())
        else:
            h.update(f"{name}={value!r};".encode())
    h.update(repr([sorted(s.items()) for s in slots]).encode())
    return h.hexdigest()[:16]


def grown(tmp_path, name: str) -> tuple[list, neat.Config]:
    settings, n, seed = GROWN[name]
    config = make_config(tmp_path, **settings)
    return grow(config, n, seed=seed), config


@pytest.mark.parametrize("name", sorted(GROWN))
def test_grown_genomes_compile_to_the_stored_arrays(tmp_path, name):
    """The digests were made by the two compilers this one replaced (from gene objects, and from packed genes,
    which agreed on all of them): node order, value slots, links and every parameter stay exactly as they were."""
    genomes, config = grown(tmp_path, name)
    gc = config.genome_config
    expected = json.loads(EXPECTED.read_text())[name]
    got = [digest(compile_arrays(g, gc), node_slots(g, gc)) for g in genomes]
    differs = [g.key for g, a, b in zip(genomes, got, expected) if a != b]
    assert not differs, f"genomes {differs[:5]} compile differently"


def test_one_call_for_many_genomes_equals_one_call_each(tmp_path):
    genomes, config = grown(tmp_path, "everything+memory")
    gc = config.genome_config
    one_each = [compile_arrays(g, gc) for g in genomes]
    for a, b in zip(one_each, compile_genomes(genomes, gc)):
        assert_same(a, b)
    assert_same(pack(one_each), compile_population(genomes, config))
    assert compile_genomes([], gc) == []
    with pytest.raises(ValueError, match="empty"):
        compile_population([], config)


def assert_same(a, b) -> None:
    for name, value in a._asdict().items():
        got = getattr(b, name)
        if isinstance(value, np.ndarray):
            assert got.dtype == value.dtype and np.array_equal(got, value), name
            assert got.flags.c_contiguous, name  # kernels are typed for contiguous arrays (and the GPU needs them)
        else:
            assert got == value, name


def test_a_neat_python_default_genome_compiles_as_one_without_memory_cells(tmp_path, monkeypatch):
    monkeypatch.setattr(
        neat.activations, "math", types.SimpleNamespace(exp=xm.exp, tanh=xm.tanh, sin=xm.sin, log=xm.log)
    )
    config = make_config(tmp_path, neat.DefaultGenome, **EVERYTHING)
    gc = config.genome_config
    gc.innovation_tracker = neat.innovation.InnovationTracker()
    random.seed(5)
    rng = np.random.default_rng(1)
    compared = 0
    for key in range(40):
        g = neat.DefaultGenome(key)
        g.configure_new(gc)
        for _ in range(random.randint(1, 40)):
            g.mutate(gc)
        x = rng.uniform(-1.0, 1.0, size=(50, gc.num_inputs))
        ref = neat.nn.RecurrentNetwork.create(g, config)
        try:
            expected = np.array([ref.activate(row) for row in x.tolist()])
        except (OverflowError, ZeroDivisionError):
            continue
        net = compile(g, config)
        assert not net.arrays.node_memory.any()
        assert rel_err(net.activate_steps(x), expected) <= 1e-9, f"genome {key} differs"
        compared += 1
    assert compared >= 30


def test_an_unsupported_function_is_named(tmp_path):
    genomes, config = grown(tmp_path, "memory")
    evaluates = next(g for g in genomes if compile_arrays(g, config.genome_config).node_slot.size)
    genome = pickle.loads(pickle.dumps(evaluates))
    for node in genome.nodes.values():
        node.aggregation = "softmax"
    with pytest.raises(UnsupportedFunctionError, match="aggregation function 'softmax' is not supported"):
        compile(genome, config)
