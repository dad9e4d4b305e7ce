"""Packed networks played through trials, for the small tasks of `bench neat` (XOR) and `bench memory` (recall).

A trial starts from a reset network, feeds it one row of inputs a step and reads its first output after the
last step; the tasks score those outputs each in their own way.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from tilerunner.agent.kernels import NetArrays, population_state, reset_network, step_network


@njit(cache=True, parallel=True)
def final_outputs(net: NetArrays, inputs: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """(networks, trials): each packed network's first output after each trial of `inputs` (trials, rows, inputs).

    Network k takes `steps[k]` steps a trial, step t reading row t of the trial's inputs, or its last row once
    past it (so one row held for many steps plays a feed-forward pass through every layer).
    """
    n_nets = net.net_node_off.size - 1
    n_slots = int(net.net_slot_off[-1])
    values = np.zeros((2, n_slots))
    cells = np.zeros(net.node_slot.size)
    active = np.zeros(n_nets, dtype=np.int64)
    n_trials, n_rows = inputs.shape[0], inputs.shape[1]
    outputs = np.empty((n_nets, n_trials))
    for k in prange(n_nets):
        scratch = np.empty(max(net.max_in, 1))
        out = np.empty((1, net.n_outputs))
        state = population_state(net, k, values, cells, active)
        for trial in range(n_trials):
            reset_network(net, k, state)
            trial_inputs = inputs[trial]
            for t in range(steps[k]):
                step_network(net, k, state, trial_inputs, min(t, n_rows - 1), out, 0, scratch)
            outputs[k, trial] = out[0, 0]
    return outputs
