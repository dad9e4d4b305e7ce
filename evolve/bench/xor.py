"""XOR with this project's compiled networks, scored as in the NEAT paper (Stanley and Miikkulainen 2002, 4.1).

Fitness: (4 - sum of |output - target| over the four patterns)^2, at most 16; solved when
every output is on the right side of 0.5.

Our networks update synchronously (each step reads the previous step's values), so a signal
needs one step per link to reach the output. XOR is evolved feed-forward (as in neat-python's
XOR example), so for each pattern the network is reset and stepped once per node it
evaluates: a path through a feed-forward network has at most that many links, so the output
is then exactly what a feed-forward pass would give, and constant.
"""

from __future__ import annotations

import numpy as np

from tilerunner.agent.kernels import NetArrays
from tilerunner.evolve.bench.trials import final_outputs

N_INPUTS = 2
N_OUTPUTS = 1
PATTERNS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
TARGETS = np.array([0.0, 1.0, 1.0, 0.0])
MAX_FITNESS = 16.0


def evaluate(net: NetArrays, patterns: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fitness, solved) for every packed network: (n - sum of errors)^2, and all outputs on the right side."""
    depth = np.maximum(np.diff(net.net_node_off), 1)  # steps: one per node a network evaluates
    y = final_outputs(net, patterns[:, None, :], depth)
    y[np.isnan(y)] = 0.5
    error = np.zeros(y.shape[0])
    for p in range(len(patterns)):  # summed pattern by pattern, in order
        error += np.abs(y[:, p] - targets[p])
    fitness = (len(patterns) - error) ** 2
    solved = ((y > 0.5) == (targets > 0.5)).all(axis=1)
    return fitness, solved
