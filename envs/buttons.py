"""The six buttons and the button mask: one int with bit i set while button i is held.

Everything that turns something into buttons goes through here: a network's outputs
(`mask_from_outputs`, inside the Numba rollouts and in Python), a gymnasium `MultiBinary(6)`
action or a row of keys (`mask_from_pressed`). The mask keeps every bit it is given; the
physics lets Left with Right, and Up with Down, cancel each other, as MarI/O's controller did.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

# MarI/O's order. Up and Down are kept for the agent's sake, though nothing in this world uses them.
BUTTON_NAMES = ("Left", "Right", "Up", "Down", "A", "B")
N_BUTTONS = len(BUTTON_NAMES)
LEFT, RIGHT, UP, DOWN, A, B = (1 << i for i in range(N_BUTTONS))
_BITS = np.array([1 << i for i in range(N_BUTTONS)], dtype=np.int64)


@njit(cache=True)
def mask_from_outputs(outputs: np.ndarray, threshold: float) -> int:
    """The buttons a network presses: bit i set where `outputs[i] > threshold` (the first N_BUTTONS outputs)."""
    mask = 0
    for b in range(min(N_BUTTONS, outputs.size)):
        if outputs[b] > threshold:
            mask |= 1 << b
    return mask


def mask_from_pressed(pressed: Sequence) -> int:
    """The mask of a row of N_BUTTONS truth values (a MultiBinary action, keys held), Left first."""
    flags = np.asarray(pressed).ravel()
    if flags.size != N_BUTTONS:
        raise ValueError(f"expected {N_BUTTONS} button values, got {flags.size}")
    return int((flags != 0) @ _BITS)


def pressed(mask: int) -> np.ndarray:
    """The mask as N_BUTTONS 0/1 values (int8), Left first: the env's action for these buttons."""
    return np.array([(int(mask) >> b) & 1 for b in range(N_BUTTONS)], dtype=np.int8)
