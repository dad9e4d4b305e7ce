"""Built-in controllers that play like a genome, for baselines: `hold-right` and `rules`, as Numba kernels.

A figure for evolved networks means little without what no learning at all gets on the same
levels. These controllers play episodes exactly as `rollout.play_episode` plays a network: the same
`reset_level`, a decision every `frame_skip` frames read from `observe_inputs`, the buttons held
in between through `physics.advance` (so the same stall and time limits), and the same
`score_episode`; so their result rows sit beside genomes' and mean the same. Both are
deterministic functions of what they see: no randomness, no memory between decisions.

- `hold-right`: Right + B held; A pressed whenever it may start a jump or the player is in the air
  (the Mario AI Framework's ForwardJumpingAgent, `jump = isMarioAbleToJump || !isMarioOnGround`).
  Under `hold` that is A held all the time; under `press` A is let go for one decision after each
  landing, so that the next decision can jump again.
- `rules`: the hand-written reactive controller of `rules_buttons` (its docstring says what it does).

`play_controller_ids` plays controllers on packed levels in one `@njit(parallel=True)` call, as
`play_networks` plays networks; `play_controllers` is the same from Python, with level
objects and `EpisodeSettings`. The planner baseline (the solver) is not a kernel here: see
`tilerunner.evolve.runs.evaluation.baseline_results`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit, prange

from tilerunner.envs import foresight as F
from tilerunner.envs import physics as P
from tilerunner.envs.foresight import sight_buffers
from tilerunner.envs.level import Level
from tilerunner.envs.observe import FORESIGHT, JUMP, PROBES, SPEED, observe_inputs
from tilerunner.evolve.core.outcome import FIELDS, Outcome
from tilerunner.evolve.core.rollout import KernelSettings, LevelPack, pack_levels, reset_level, score_episode

# The built-in controllers, by name; a controller's id is its index.
CONTROLLERS = ("hold-right", "rules")
HOLD_RIGHT, RULES = 0, 1

# What the controllers see, at this view radius whatever a genome's settings say: speed, the jump
# senses, the probes and foresight (the grid comes first in every input vector; they do not read it).
RADIUS = 6
_CELLS = (2 * RADIUS + 1) ** 2
SENSES = SPEED | JUMP | PROBES | FORESIGHT
N_SENSES = _CELLS + 3 + 3 + 7 + F.N_INPUTS
# Where each input is in the vector `observe_inputs` fills (see `tilerunner.envs.observe`).
_SPEED = _CELLS  # vx, vy, on ground
_JUMP = _SPEED + 3  # on ground, may jump, can jump higher
_PROBES = _JUMP + 3  # gap distance, gap width, wall distance, wall height, enemy dx, dy, kind
_FORESIGHT = _PROBES + 7  # each move's progress, dies, stomps, away, frames


def controller_id(name: str) -> int:
    """A controller's id for its name; `ValueError` in one line naming the controllers for anything else."""
    if name not in CONTROLLERS:
        raise ValueError(f"unknown controller {name!r:.40}; the controllers are {', '.join(CONTROLLERS)}")
    return CONTROLLERS.index(name)


@njit(cache=True)
def _hold_right(senses: np.ndarray) -> int:
    """Right + B, and A when a jump may start or in the air (see the module docstring)."""
    buttons = P.RIGHT | P.B
    if senses[_JUMP + 1] > 0.0 or senses[_JUMP] == 0.0:
        buttons |= P.A
    return buttons


_RUN_UP = 4  # tiles of run-up taken before a jump that needs speed


@njit(cache=True, inline="always")
def _safe(senses: np.ndarray, move: int) -> bool:
    """Whether foresight says `move` does not die (see `tilerunner.envs.foresight`)."""
    return senses[_FORESIGHT + move * F.N_PARTS + 1] == 0.0


@njit(cache=True, inline="always")
def _score(senses: np.ndarray, move: int) -> float:
    """What a foreseen move comes to for `rules`: `foresight.score` of its progress, dies and away."""
    o = _FORESIGHT + move * F.N_PARTS
    return F.score(senses[o], senses[o + 1], senses[o + 3], RADIUS)


@njit(cache=True)
def rules_buttons(senses: np.ndarray) -> int:
    """Run right with B, and at each decision take the safest of the foreseen moves that goes furthest right.

    Reactive: it decides on what it senses now, with no memory: speed, jump state, the probes, and
    foresight (`tilerunner.envs.foresight`: each candidate move played forward by the physics over what
    is in view; a move is safe if it does not die, nor land where the player cannot go on).

    On the ground: run while one more decision of running is safe and no wall is in the next column;
    else jump (A held while rising); if no jump is safe, back off for a run-up (moving right, or closer
    than `_RUN_UP` tiles to the gap or wall), else wait, else jump anyway. In the air: keep A held
    (while it still lifts), let go, let go and stop steering, or let go and steer back, whichever scores
    best. A is never held falling, nor on the ground when a jump cannot start (may-jump 0), so that under
    `press` the next decision can always jump.
    """
    run = P.RIGHT | P.B
    if senses[_JUMP] > 0.0:
        wall_next = senses[_PROBES + 2] * RADIUS <= 1.0
        if _safe(senses, F.RUN) and not wall_next:
            return run
        if senses[_JUMP + 1] == 0.0:
            return run  # let go of A, so that the next decision can jump
        if _safe(senses, F.JUMP):
            return run | P.A
        ahead = min(senses[_PROBES], senses[_PROBES + 2]) * RADIUS
        back = _safe(senses, F.BACK)
        if back and (senses[_SPEED] > 0.0 or ahead < _RUN_UP):
            return P.LEFT | P.B
        if _safe(senses, F.WAIT):
            return P.B
        if back:
            return P.LEFT | P.B
        return run | P.A
    best = run
    best_score = -np.inf
    for move in (F.KEEP_A, F.LET_GO, F.DRIFT, F.STEER_BACK):
        if move == F.KEEP_A and senses[_JUMP + 2] == 0.0:
            continue
        value = _score(senses, move)
        if value > best_score:
            best_score = value
            direction = P.LEFT if move == F.STEER_BACK else (0 if move == F.DRIFT else P.RIGHT)
            best = direction | P.B | (P.A if move == F.KEEP_A else 0)
    return best


@njit(cache=True)
def _decide(controller: int, senses: np.ndarray) -> int:
    """The buttons `controller` presses on what it senses."""
    if controller == HOLD_RIGHT:
        return _hold_right(senses)
    return rules_buttons(senses)


@njit(cache=True)
def _play_controller(
    controller: int, levels: LevelPack, li: int, s: KernelSettings, result: np.ndarray, record_buttons: np.ndarray
) -> int:
    """One episode of `controller` on level li, as `rollout.play_episode` plays a network; fills `result`.

    With a non-empty `record_buttons`, also writes each decision's buttons there. Returns the decisions made.
    """
    tiles = np.empty((levels.rows[li], levels.cols[li]), np.int8)
    state = np.empty(P.STATE_SIZE, np.int64)
    enemies = np.empty((levels.enemy_off[li + 1] - levels.enemy_off[li], P.ENEMY_FIELDS), np.int64)
    reset_level(levels, li, tiles, state, enemies, s.jump_rule)
    senses = np.empty(N_SENSES)
    sight = sight_buffers(RADIUS, s.frame_skip)
    senses_mask = SENSES if controller == RULES else SENSES & ~FORESIGHT  # hold-right foresees nothing
    decisions = 0
    status = P.RUNNING
    while status == P.RUNNING:
        observe_inputs(tiles, state, enemies, RADIUS, senses_mask, senses, sight)
        buttons = _decide(controller, senses)
        if decisions < record_buttons.size:
            record_buttons[decisions] = buttons
        status = P.advance(tiles, state, enemies, buttons, s.frame_skip, s.max_frames, s.stall_frames)
        decisions += 1
    score_episode(state, s, result)
    return decisions


@njit(cache=True, parallel=True)
def play_controller_ids(controllers: np.ndarray, levels: LevelPack, s: KernelSettings) -> np.ndarray:
    """Play every controller (ids, `CONTROLLERS`) on every level; results (n_controllers, n_levels, FIELDS).

    Episodes are independent and deterministic, so the results do not depend on the number of threads.
    """
    n_ctrl = controllers.size
    n_levels = levels.rows.size
    results = np.zeros((n_ctrl, n_levels, FIELDS))
    no_buttons = np.empty(0, np.int64)
    for job in prange(n_ctrl * n_levels):
        c = job // n_levels
        li = job % n_levels
        _play_controller(controllers[c], levels, li, s, results[c, li], no_buttons)
    return results


def play_controllers(names: Sequence[str], levels: Sequence[Level], settings) -> list[list[Outcome]]:
    """Each named controller on every level under `settings` (`EpisodeSettings`): outcomes per controller.

    `settings` supply the frame skip, the limits, the fitness terms and the jump rule; the
    controllers see through their own senses (`SENSES` at `RADIUS`), whatever its view and features.
    """
    if not levels:
        raise ValueError("no levels to play")
    ids = np.array([controller_id(n) for n in names], dtype=np.int64)
    table = play_controller_ids(ids, pack_levels(levels), settings.kernel_settings())
    return [[Outcome.from_row(row) for row in rows] for rows in table]


def controller_buttons(name: str, level: Level, settings) -> tuple[Outcome, np.ndarray]:
    """One episode of the named controller on `level`: its outcome and the buttons of each decision."""
    s = settings.kernel_settings()
    record = np.zeros(s.max_frames // s.frame_skip + 2 if s.max_frames else 1_000_000, np.int64)
    result = np.zeros(FIELDS)
    n = _play_controller(controller_id(name), pack_levels([level]), 0, s, result, record)
    return Outcome.from_row(result), record[: min(n, record.size)].copy()
