"""`hold-right`: no network at all, Right + B held, and A whenever a jump may start or the player is in the air.

It is the Mario AI Framework's ForwardJumpingAgent (`jump = isMarioAbleToJump || !isMarioOnGround`).
Under the `hold` jump rule that is A held all the time; under `press` A is let go for one decision
after each landing, so that the next decision can jump again. It reads the jump senses alone.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tilerunner.envs import physics as P
from tilerunner.evolve.baselines.senses import JUMP_AT


@njit(cache=True)
def hold_right_buttons(senses: np.ndarray) -> int:
    """Right + B, and A when a jump may start (may-jump) or the player is off the ground."""
    buttons = P.RIGHT | P.B
    if senses[JUMP_AT + 1] > 0.0 or senses[JUMP_AT] == 0.0:
        buttons |= P.A
    return buttons
