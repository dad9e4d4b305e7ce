"""The hand-written controllers played over levels exactly as a genome plays: result rows that mean the same.

A figure for evolved networks means little without what no learning at all gets on the same levels.
The controllers (`CONTROLLERS`: `hold-right`, `rules`) play episodes exactly as `rollout.play_episode`
plays a network: the same `reset_level`, a decision every `frame_skip` frames read from
`observe_inputs`, the buttons held in between through `physics.advance` (so the same stall and time
limits), and the same `score_episode`; so their result rows sit beside genomes' and mean the same.
Both are deterministic functions of what they see (`senses`).

`play_controller_ids` plays controllers on packed levels in one `@njit(parallel=True)` call, as
`play_networks` plays networks; `play_controllers` is the same from Python, with level objects and
`EpisodeSettings`; `controller_buttons` is one episode with the buttons of every decision. The planner
baseline (the solver) is not a kernel here: see `tilerunner.evolve.runs.evaluation.baseline_results`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit, prange

from tilerunner.envs import physics as P
from tilerunner.envs.foresight import sight_buffers
from tilerunner.envs.level import Level
from tilerunner.envs.observe import FORESIGHT, observe_inputs
from tilerunner.evolve.baselines.hold_right import hold_right_buttons
from tilerunner.evolve.baselines.rules import rules_buttons
from tilerunner.evolve.baselines.senses import N_SENSES, RADIUS, SENSES
from tilerunner.evolve.core.outcome import FIELDS, Outcome
from tilerunner.evolve.core.rollout import KernelSettings, LevelPack, pack_levels, reset_level, score_episode

# The built-in controllers, by name; a controller's id is its index.
CONTROLLERS = ("hold-right", "rules")
HOLD_RIGHT, RULES = 0, 1


def controller_id(name: str) -> int:
    """A controller's id for its name; `ValueError` in one line naming the controllers for anything else."""
    if name not in CONTROLLERS:
        raise ValueError(f"unknown controller {name!r:.40}; the controllers are {', '.join(CONTROLLERS)}")
    return CONTROLLERS.index(name)


@njit(cache=True)
def _decide(controller: int, senses: np.ndarray) -> int:
    """The buttons `controller` presses on what it senses."""
    if controller == HOLD_RIGHT:
        return hold_right_buttons(senses)
    return rules_buttons(senses)


@njit(cache=True)
def start_episode(levels: LevelPack, li: int, s: KernelSettings):
    """A controller's episode of level li, reset: its tiles, state and enemies, and buffers for its senses and
    for the foresight they hold."""
    tiles = np.empty((levels.rows[li], levels.cols[li]), np.int8)
    state = np.empty(P.STATE_SIZE, np.int64)
    enemies = np.empty((levels.enemy_off[li + 1] - levels.enemy_off[li], P.ENEMY_FIELDS), np.int64)
    reset_level(levels, li, tiles, state, enemies, s.jump_rule)
    return tiles, state, enemies, np.empty(N_SENSES), sight_buffers(RADIUS, s.frame_skip)


@njit(cache=True)
def _play_controller(
    controller: int, levels: LevelPack, li: int, s: KernelSettings, result: np.ndarray, record_buttons: np.ndarray
) -> int:
    """One episode of `controller` on level li, as `rollout.play_episode` plays a network; fills `result`.

    With a non-empty `record_buttons`, also writes each decision's buttons there. Returns the decisions made.
    """
    tiles, state, enemies, senses, sight = start_episode(levels, li, s)
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
