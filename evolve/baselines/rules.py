"""`rules`: the best reactive controller we could write by hand, deciding on what foresight says of each move.

Reactive: it decides on what it senses now (`senses`), with no memory and no randomness: speed, jump
state, the probes, and foresight (`tilerunner.envs.foresight`: each candidate move played forward by
the physics' own `advance` over what is in view; a move is safe if it does not die, nor land where
the player cannot go on). It keeps no copy of the player's motion.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tilerunner.envs import foresight as F
from tilerunner.envs import physics as P
from tilerunner.evolve.baselines.senses import FORESIGHT_AT, JUMP_AT, PROBES_AT, RADIUS, SPEED_AT

_RUN_UP = 4  # tiles of run-up taken before a jump that needs speed


@njit(cache=True, inline="always")
def _safe(senses: np.ndarray, move: int) -> bool:
    """Whether foresight says `move` does not die (see `tilerunner.envs.foresight`)."""
    return senses[FORESIGHT_AT + move * F.N_PARTS + 1] == 0.0


@njit(cache=True, inline="always")
def _score(senses: np.ndarray, move: int) -> float:
    """What a foreseen move comes to for `rules`: `foresight.score` of its progress, dies and away."""
    o = FORESIGHT_AT + move * F.N_PARTS
    return F.score(senses[o], senses[o + 1], senses[o + 3], RADIUS)


@njit(cache=True)
def rules_buttons(senses: np.ndarray) -> int:
    """Run right with B, and at each decision take the safest of the foreseen moves that goes furthest right.

    On the ground: run while one more decision of running is safe and no wall is in the next column;
    else jump (A held while rising); if no jump is safe, back off for a run-up (moving right, or closer
    than `_RUN_UP` tiles to the gap or wall), else wait, else jump anyway. In the air: keep A held
    (while it still lifts), let go, let go and stop steering, or let go and steer back, whichever scores
    best. A is never held falling, nor on the ground when a jump cannot start (may-jump 0), so that under
    `press` the next decision can always jump.
    """
    run = P.RIGHT | P.B
    if senses[JUMP_AT] > 0.0:
        wall_next = senses[PROBES_AT + 2] * RADIUS <= 1.0
        if _safe(senses, F.RUN) and not wall_next:
            return run
        if senses[JUMP_AT + 1] == 0.0:
            return run  # let go of A, so that the next decision can jump
        if _safe(senses, F.JUMP):
            return run | P.A
        ahead = min(senses[PROBES_AT], senses[PROBES_AT + 2]) * RADIUS
        back = _safe(senses, F.BACK)
        if back and (senses[SPEED_AT] > 0.0 or ahead < _RUN_UP):
            return P.LEFT | P.B
        if _safe(senses, F.WAIT):
            return P.B
        if back:
            return P.LEFT | P.B
        return run | P.A
    best = run
    best_score = -np.inf
    for move in (F.KEEP_A, F.LET_GO, F.DRIFT, F.STEER_BACK):
        if move == F.KEEP_A and senses[JUMP_AT + 2] == 0.0:
            continue
        value = _score(senses, move)
        if value > best_score:
            best_score = value
            direction = P.LEFT if move == F.STEER_BACK else (0 if move == F.DRIFT else P.RIGHT)
            best = direction | P.B | (P.A if move == F.KEEP_A else 0)
    return best
