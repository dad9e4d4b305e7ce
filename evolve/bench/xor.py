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
from numba import njit, prange

from tilerunner.agent.kernels import NetArrays, reset_network, step_network

N_INPUTS = 2
N_OUTPUTS = 1
PATTERNS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
TARGETS = np.array([0.0, 1.0, 1.0, 0.0])
MAX_FITNESS = 16.0


@njit(cache=True, parallel=True)
def evaluate(net: NetArrays, patterns: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fitness, solved) for every packed network: (n - sum of errors)^2, and all outputs on the right side."""
    n_nets = net.net_node_off.size - 1
    n_slots = int(net.net_slot_off[-1])
    values = np.zeros((2, n_slots))
    cells = np.zeros(net.node_slot.size)
    active = np.zeros(n_nets, dtype=np.int64)
    fitness = np.zeros(n_nets)
    solved = np.zeros(n_nets, dtype=np.bool_)
    n = patterns.shape[0]
    for k in prange(n_nets):
        scratch = np.empty(max(net.max_in, 1))
        out = np.empty((1, net.n_outputs))
        depth = max(int(net.net_node_off[k + 1] - net.net_node_off[k]), 1)
        error = 0.0
        right = 0
        for p in range(n):
            reset_network(net, k, values, cells, active)
            for _ in range(depth):
                step_network(net, k, values, cells, active, patterns, p, out, 0, scratch)
            y = out[0, 0]
            if y != y:
                y = 0.5
            error += abs(y - targets[p])
            if (y > 0.5) == (targets[p] > 0.5):
                right += 1
        fitness[k] = (n - error) ** 2
        solved[k] = right == n
    return fitness, solved
