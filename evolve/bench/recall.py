"""Delayed recall: a small task that needs memory, to show what memory cells are worth.

Three inputs: a value channel, a "store" marker and a "recall" marker. At step 0
the value is the cue (+1 or -1) and the store marker is 1. For the next `delay`
steps the same value channel carries random +1/-1 distractors and the markers are
0. Then the recall marker is 1, and the network's output must say the cue: above
0.5 for +1, below for -1. Because distractors arrive on the cue's own channel, a
plain self-exciting latch gets overwritten; the network must store only when told
to, which is what an LSTM input gate does. Trials come in pairs with the same
distractors and opposite cues, so nothing but the stored cue tells a pair apart.

Fitness of a network over a set of trials: the number it gets right, plus the
mean of 1 - (output - target)^2 (a smooth term below 1 that rewards confidence).
So fitness >= the number of trials exactly when every trial is right.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from tilerunner.agent.kernels import NetArrays, reset_network, step_network

N_INPUTS = 3
N_OUTPUTS = 1


def make_trials(delay: int, n_pairs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (2*n_pairs, delay+2, 3) and targets (2*n_pairs,) in {0, 1}, reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    inputs = np.zeros((2 * n_pairs, delay + 2, N_INPUTS))
    targets = np.zeros(2 * n_pairs)
    for p in range(n_pairs):
        distractors = rng.choice([-1.0, 1.0], size=delay)
        for k, cue in enumerate((1.0, -1.0)):
            trial = inputs[2 * p + k]
            trial[0, 0] = cue
            trial[0, 1] = 1.0
            trial[1 : delay + 1, 0] = distractors
            trial[delay + 1, 2] = 1.0
            targets[2 * p + k] = 1.0 if cue > 0 else 0.0
    return inputs, targets


@njit(cache=True, parallel=True)
def evaluate(net: NetArrays, inputs: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fitness, trials right) for every packed network; each trial starts from a reset network."""
    n_nets = net.net_node_off.size - 1
    n_slots = int(net.net_slot_off[-1])
    values = np.zeros((2, n_slots))
    cells = np.zeros(net.node_slot.size)
    active = np.zeros(n_nets, dtype=np.int64)
    fitness = np.zeros(n_nets)
    right = np.zeros(n_nets, dtype=np.int64)
    n_trials = inputs.shape[0]
    for k in prange(n_nets):
        scratch = np.empty(max(net.max_in, 1))
        out = np.empty((1, net.n_outputs))
        closeness = 0.0
        for trial in range(n_trials):
            reset_network(net, k, values, cells, active)
            trial_inputs = inputs[trial]
            for t in range(inputs.shape[1]):
                step_network(net, k, values, cells, active, trial_inputs, t, out, 0, scratch)
            y = out[0, 0]
            if y != y:  # NaN says nothing
                continue
            target = targets[trial]
            if (y > 0.5) == (target > 0.5):
                right[k] += 1
            err = min(max(y, 0.0), 1.0) - target
            closeness += 1.0 - err * err
        fitness[k] = right[k] + closeness / n_trials
    return fitness, right
