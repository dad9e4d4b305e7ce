"""The delayed-recall task: well-formed trials, and a fitness that only a remembering network can max out."""

from __future__ import annotations

import numpy as np
from neat.innovation import InnovationTracker

from tilerunner.agent import TileGenome, compile_population
from tilerunner.evolve.bench.recall import evaluate, make_trials
from tilerunner.evolve.core.neat_config import builtin_config_path, load_config


def test_trials_differ_only_in_the_cue():
    inputs, targets = make_trials(delay=20, n_pairs=5, seed=3)
    assert inputs.shape == (10, 22, 3) and list(targets) == [1.0, 0.0] * 5
    for p in range(5):
        a, b = inputs[2 * p], inputs[2 * p + 1]
        assert a[0, 0] == 1.0 and b[0, 0] == -1.0
        assert np.array_equal(a[1:], b[1:])  # same distractors, same markers
        assert set(np.unique(a[1:21, 0])) <= {-1.0, 1.0}  # distractors on the cue's channel
        assert a[0, 1] == 1.0 and a[1:, 1].sum() == 0 and a[21, 2] == 1.0 and a[:21, 2].sum() == 0
    again, _ = make_trials(delay=20, n_pairs=5, seed=3)
    assert np.array_equal(inputs, again)


def gated_memory_genome(config):
    """Hand-wired: the store marker opens the cell's input gate; the forget gate stays open."""
    gc = config.genome_config
    gc.innovation_tracker = InnovationTracker()
    g = TileGenome(1)
    g.configure_new(gc)
    g.connections.clear()
    out = g.nodes[0]
    out.bias, out.response, out.activation = 0.0, 1.0, "sigmoid"
    cell = g.create_node(gc, 10)
    cell.memory, cell.bias, cell.response = True, 0.0, 1.0
    cell.input_gate_bias, cell.forget_gate_bias, cell.output_gate_bias = -10.0, 10.0, 10.0
    g.nodes[10] = cell
    for (i, o), w, port in [((-1, 10), 5.0, "cell"), ((-2, 10), 20.0, "input_gate"), ((10, 0), 2.0, "cell")]:
        g.add_connection(gc, i, o, w, True)
        g.connections[(i, o)].port = port
    return g


def test_a_gated_memory_cell_gets_every_trial_right_and_max_fitness():
    config = load_config(builtin_config_path("recall"), genome_overrides={"memory_cells": True})
    inputs, targets = make_trials(delay=100, n_pairs=20, seed=0)
    memory = gated_memory_genome(config)
    forgetful = gated_memory_genome(config)
    forgetful.nodes[10].forget_gate_bias = -10.0  # forgets at once
    fitness, right = evaluate(compile_population([memory, forgetful], config), inputs, targets)
    assert right[0] == 40 and fitness[0] >= 40
    assert right[1] <= 24 and fitness[1] < 40  # about chance
