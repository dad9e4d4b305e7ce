"""What the hand-written controllers see: one sense vector at a fixed view radius, whatever a genome's settings.

`hold-right` and `rules` decide on speed, the jump senses, the probes and foresight
(`tilerunner.envs.observe`), read from the vector `observe_inputs` fills with `SENSES` at `RADIUS`.
The grid comes first in every input vector; they do not read it. The `*_AT` numbers say where each
part starts in the vector.
"""

from __future__ import annotations

from tilerunner.envs import foresight as F
from tilerunner.envs.observe import FORESIGHT, JUMP, PROBES, SPEED

RADIUS = 6
_CELLS = (2 * RADIUS + 1) ** 2
SENSES = SPEED | JUMP | PROBES | FORESIGHT
N_SENSES = _CELLS + 3 + 3 + 7 + F.N_INPUTS

SPEED_AT = _CELLS  # vx, vy, on ground
JUMP_AT = SPEED_AT + 3  # on ground, may jump, can jump higher
PROBES_AT = JUMP_AT + 3  # gap distance, gap width, wall distance, wall height, enemy dx, dy, kind
FORESIGHT_AT = PROBES_AT + 7  # each move's progress, dies, stomps, away, frames (`foresight.N_PARTS` a move)
