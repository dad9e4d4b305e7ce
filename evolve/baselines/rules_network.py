"""`rules` as a network: fit one linear unit per button to the `rules` baseline's decisions over its senses.

`--seed-rules` with the foresight sense starts evolution from a genome that already decides as `rules`
does: it takes the best foreseen move. `rules` is a decision list; a network of neat-python's kind
reacts at once only through direct input-to-output links (a hidden node answers a decision late), so
the seed is one linear unit per button over the senses `rules` reads (jump, probes, foresight): Right,
Left and A pressed while their unit is above 0, B always. Its weights are fitted, not hand-set, by
logistic regression with DAgger (Ross et al. 2011): `rules` plays and labels every decision, then the
fitted units play and `rules` labels the states they reach, and the units are fitted again on all of
it. `fit` does that; `tilerunner.evolve.core.seeding` keeps the weights it gave on the public training
levels (see there), and a test holds them to agreeing with `rules` on levels it never saw.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from tilerunner.envs import physics as P
from tilerunner.envs.level import Level
from tilerunner.envs.observe import input_names, observe_inputs
from tilerunner.evolve.baselines.play import start_episode
from tilerunner.evolve.baselines.rules import rules_buttons
from tilerunner.evolve.baselines.senses import RADIUS, SENSES
from tilerunner.evolve.core.rollout import KernelSettings, LevelPack, pack_levels

FEATURES = ("jump", "probes", "foresight")  # what the seed reads
BUTTONS = ("Right", "Left", "A")  # fitted; B is always pressed
_MASKS = np.array([P.RIGHT, P.LEFT, P.A], np.int64)


def sense_names() -> list[str]:
    """The names of the inputs the units read, in order (those of `FEATURES` after the grid)."""
    return [n for n in input_names(RADIUS, FEATURES) if not n.startswith("grid")]


def _sense_index() -> np.ndarray:
    """Where each of `sense_names` is in the senses `rules` observes (`senses.SENSES`)."""
    ours = input_names(RADIUS, ("speed", *FEATURES))
    return np.array([ours.index(n) for n in sense_names()], np.int64)


@njit(cache=True)
def _unit_buttons(weights: np.ndarray, bias: np.ndarray, x: np.ndarray) -> int:
    """The buttons the units press on senses `x`: B, and each of `BUTTONS` whose unit is above 0."""
    buttons = P.B
    for k in range(weights.shape[0]):
        z = bias[k]
        for i in range(x.size):
            z += weights[k, i] * x[i]
        if z > 0.0:
            buttons |= _MASKS[k]
    return buttons


@njit(cache=True)
def _play_and_label(
    levels: LevelPack,
    li: int,
    s: KernelSettings,
    index: np.ndarray,
    weights: np.ndarray,
    bias: np.ndarray,
    units_play: bool,
    xs: np.ndarray,
    labels: np.ndarray,
) -> tuple[int, bool]:
    """One episode on level li played by `rules` or by the units; every decision's senses and what `rules` would
    press are written to `xs` and `labels` (as many as fit). Returns (decisions written, finished)."""
    tiles, state, enemies, senses, sight = start_episode(levels, li, s)
    n = 0
    status = P.RUNNING
    while status == P.RUNNING:
        observe_inputs(tiles, state, enemies, RADIUS, SENSES, senses, sight)
        x = senses[index]
        label = rules_buttons(senses)
        if n < xs.shape[0]:
            xs[n] = x
            labels[n] = label
            n += 1
        buttons = _unit_buttons(weights, bias, x) if units_play else label
        status = P.advance(tiles, state, enemies, buttons, s.frame_skip, s.max_frames, s.stall_frames)
    return n, status == P.FINISHED


def _logistic(x: np.ndarray, y: np.ndarray, l2: float, steps: int = 30) -> tuple[np.ndarray, float]:
    """Weights and bias of a logistic regression of 0/1 `y` on `x` (Newton's method, L2 penalty)."""
    a = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(a.shape[1])
    penalty = l2 * np.eye(a.shape[1])
    penalty[-1, -1] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(a @ w, -30, 30)))
        grad = a.T @ (p - y) + penalty @ w
        hess = (a * (p * (1 - p))[:, None]).T @ a + penalty + 1e-9 * np.eye(a.shape[1])
        w -= np.linalg.solve(hess, grad)
    return w[:-1], float(w[-1])


def play(
    levels: Sequence[Level], settings, weights: np.ndarray, bias: np.ndarray, units_play: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Play every level (the units, or `rules`): (senses, `rules`' buttons, finished per level)."""
    s = settings.kernel_settings()
    pack = pack_levels(levels)
    index = _sense_index()
    cap = s.max_frames // s.frame_skip + 2
    xs_all, labels_all, finished = [], [], []
    for li in range(len(levels)):
        xs = np.zeros((cap, index.size))
        labels = np.zeros(cap, np.int64)
        n, done = _play_and_label(pack, li, s, index, weights, bias, units_play, xs, labels)
        xs_all.append(xs[:n])
        labels_all.append(labels[:n])
        finished.append(done)
    return np.concatenate(xs_all), np.concatenate(labels_all), np.array(finished)


def fit(levels: Sequence[Level], settings, rounds: int = 4, l2: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Units imitating `rules` on `levels` (DAgger, `rounds` rounds after the first fit): (weights (3, senses), bias).

    The units' z = weights @ senses + bias; a button is pressed while its z is above 0.
    """
    n = len(sense_names())
    weights, bias = np.zeros((len(BUTTONS), n)), np.zeros(len(BUTTONS))
    xs, labels, _ = play(levels, settings, weights, bias, units_play=False)
    for _ in range(rounds + 1):
        for k, mask in enumerate(_MASKS):
            weights[k], bias[k] = _logistic(xs, ((labels & mask) != 0).astype(float), l2)
        more_x, more_labels, _ = play(levels, settings, weights, bias)
        xs = np.concatenate([xs, more_x])
        labels = np.concatenate([labels, more_labels])
    return weights, bias


def seed_file(weights: np.ndarray, bias: np.ndarray, fitted_on: str, limit: float = 30.0) -> dict:
    """The units as `tilerunner/evolve/core/configs/foresight_seed.json` holds them, each scaled to fit
    neat-python's weight and bias limits (`limit`; scaling a unit does not change when it is above 0)."""
    units = {}
    names = sense_names()
    for k, button in enumerate(BUTTONS):
        scale = min(1.0, limit / max(np.max(np.abs(weights[k])), abs(bias[k]), 1e-12))
        units[button] = {
            "bias": round(float(bias[k] * scale), 6),
            "weights": {n: round(float(w * scale), 6) for n, w in zip(names, weights[k])},
        }
    return {"fitted_on": fitted_on, "features": list(FEATURES), "view_radius": RADIUS, "units": units}
