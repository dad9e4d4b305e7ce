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

from tilerunner.agent.kernels import NetArrays
from tilerunner.evolve.bench.trials import final_outputs

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


def evaluate(net: NetArrays, inputs: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fitness, trials right) for every packed network; each trial starts from a reset network."""
    n_trials, n_steps = inputs.shape[0], inputs.shape[1]
    y = final_outputs(net, inputs, np.full(net.net_node_off.size - 1, n_steps))
    said = ~np.isnan(y)  # NaN says nothing
    right = (said & ((y > 0.5) == (targets > 0.5))).sum(axis=1)
    closeness = np.zeros(y.shape[0])
    for trial in range(n_trials):  # summed trial by trial, in order
        err = np.clip(y[:, trial], 0.0, 1.0) - targets[trial]
        closeness += np.where(said[:, trial], 1.0 - err * err, 0.0)
    return right + closeness / n_trials, right
