"""Fused rollouts: whole episodes of observe -> activate -> buttons -> physics, inside Numba.

`play_networks` plays every packed network on every level in one
`@njit(parallel=True)` call (`prange` over networks), and returns one row of
numbers per (network, level): fitness and what a person wants to know (finished,
distance, frames, coins, kills, cause of death). `play_recorded` plays one network
on one level and also records each decision's buttons and each frame's position,
for replays and for the test that holds this path equal to the gymnasium env.

Every step here is the same code the env runs (`envs.physics.advance`,
`envs.observe.observe`), so the same network and level give the same trajectory
either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numba
import numpy as np
from numba import njit, prange

from tilerunner.agent.kernels import NetArrays, NetState, population_state, reset_network, step_network
from tilerunner.envs import physics as P
from tilerunner.envs.buttons import mask_from_outputs
from tilerunner.envs.foresight import Sight, no_sight, sight_buffers
from tilerunner.envs.level import Level
from tilerunner.envs.observe import FORESIGHT, observe_inputs
from tilerunner.evolve.core.outcome import (
    FIELDS,
    R_CAUSE,
    R_COINS,
    R_DISTANCE,
    R_FINISHED,
    R_FITNESS,
    R_FRAMES,
    R_KILLS,
    R_STATUS,
    Outcome,
)


class LevelPack(NamedTuple):
    """Several levels as flat arrays (tile grids of different sizes, enemy lists), for kernels."""

    tiles: np.ndarray  # int8, every level's grid flattened and concatenated
    tile_off: np.ndarray  # int64 (L+1)
    rows: np.ndarray  # int64 (L)
    cols: np.ndarray  # int64 (L)
    enemies: np.ndarray  # int64 (E, 4): kind, winged, col, row
    enemy_off: np.ndarray  # int64 (L+1)
    start_col: np.ndarray  # int64 (L)
    start_row: np.ndarray  # int64 (L)
    exit_col: np.ndarray  # int64 (L)


class KernelSettings(NamedTuple):
    """`EpisodeSettings` as the kernels take them (`EpisodeSettings.kernel_settings()`): how an episode is played and
    scored, as numbers only."""

    frame_skip: int
    view_radius: int
    max_frames: int
    stall_frames: int
    threshold: float  # an output above this presses its button
    time_penalty: float  # fitness lost per frame
    finish_bonus: float
    death_penalty: float
    coin_bonus: float
    kill_bonus: float
    jump_penalty: float  # fitness lost per jump
    features: int  # bit mask of opt-in observation features (`tilerunner.envs.observe`)
    jump_rule: int  # `tilerunner.envs.physics.HOLD` or `PRESS`


class EpisodeBuffers(NamedTuple):
    """What `play_episode` plays in, allocated once and reused (a GPU thread allocates nothing)."""

    tiles: np.ndarray  # int8, 1-D, at least the level's rows * cols
    state: np.ndarray  # int64 (STATE_SIZE): the world's state
    enemies: np.ndarray  # int64 (at least the level's enemies, ENEMY_FIELDS)
    obs: np.ndarray  # float64 (1, inputs)
    out: np.ndarray  # float64 (1, outputs)
    scratch: np.ndarray  # float64, at least 1 and `net.max_in`
    sight: Sight  # foresight's (`tilerunner.envs.foresight.sight_buffers`); empty buffers without the sense


def pack_levels(levels: Sequence[Level]) -> LevelPack:
    """Pack levels for the kernels."""
    sizes = [lv.tiles.size for lv in levels]
    counts = [len(lv.enemies) for lv in levels]
    return LevelPack(
        tiles=np.concatenate([lv.tiles.ravel() for lv in levels]).astype(np.int8),
        tile_off=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        rows=np.array([lv.height for lv in levels], dtype=np.int64),
        cols=np.array([lv.width for lv in levels], dtype=np.int64),
        enemies=np.concatenate([lv.enemies for lv in levels]).reshape(-1, 4).astype(np.int64),
        enemy_off=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        start_col=np.array([lv.start[0] for lv in levels], dtype=np.int64),
        start_row=np.array([lv.start[1] for lv in levels], dtype=np.int64),
        exit_col=np.array([lv.exit_col for lv in levels], dtype=np.int64),
    )


def subset_levels(levels: LevelPack, indices: np.ndarray) -> LevelPack:
    """The levels `indices` of a pack, in that order, as a pack of their own (what `pack_levels` of them gives)."""
    idx = np.asarray(indices, dtype=np.int64)
    tile_parts = [levels.tiles[levels.tile_off[i] : levels.tile_off[i + 1]] for i in idx]
    enemy_parts = [levels.enemies[levels.enemy_off[i] : levels.enemy_off[i + 1]] for i in idx]
    return LevelPack(
        tiles=np.concatenate(tile_parts) if tile_parts else np.zeros(0, np.int8),
        tile_off=np.concatenate([[0], np.cumsum([p.size for p in tile_parts])]).astype(np.int64),
        rows=levels.rows[idx].copy(),
        cols=levels.cols[idx].copy(),
        enemies=np.concatenate(enemy_parts).reshape(-1, 4) if enemy_parts else np.zeros((0, 4), np.int64),
        enemy_off=np.concatenate([[0], np.cumsum([len(p) for p in enemy_parts])]).astype(np.int64),
        start_col=levels.start_col[idx].copy(),
        start_row=levels.start_row[idx].copy(),
        exit_col=levels.exit_col[idx].copy(),
    )


@njit(cache=True)
def score_episode(state: np.ndarray, s: KernelSettings, result: np.ndarray) -> None:
    """Fill a result row from an ended episode's state: fitness (see `core.fitness`) and what happened."""
    status = state[P.S_STATUS]
    finished = status == P.FINISHED
    distance = (state[P.S_RIGHTMOST] - state[P.S_START_X]) / P.SUB
    frames = state[P.S_FRAMES]
    fitness = (
        distance
        - s.time_penalty * frames
        + s.coin_bonus * state[P.S_COINS]
        + s.kill_bonus * state[P.S_KILLS]
        - s.jump_penalty * state[P.S_JUMPS]
    )
    if finished:
        fitness += s.finish_bonus
    elif status == P.DEAD:
        fitness -= s.death_penalty
    result[R_FITNESS] = fitness
    result[R_FINISHED] = 1.0 if finished else 0.0
    result[R_DISTANCE] = distance
    result[R_FRAMES] = frames
    result[R_COINS] = state[P.S_COINS]
    result[R_KILLS] = state[P.S_KILLS]
    result[R_STATUS] = status
    result[R_CAUSE] = state[P.S_CAUSE]


@njit(cache=True)
def reset_level(
    levels: LevelPack, li: int, tiles: np.ndarray, state: np.ndarray, enemies: np.ndarray, jump_rule: int
) -> None:
    """Start an episode of level li of the pack: the world buffers, `tiles` (rows, cols) and `enemies`
    (the level's enemies, ENEMY_FIELDS), and `state` as `physics.reset_world` sets them. Allocates nothing.

    Networks (`play_episode`) and the baseline controllers (`baselines.play`) start every episode here.
    """
    rows = levels.rows[li]
    cols = levels.cols[li]
    P.reset_world(
        levels.tiles[levels.tile_off[li] : levels.tile_off[li + 1]].reshape((rows, cols)),
        levels.enemies[levels.enemy_off[li] : levels.enemy_off[li + 1]],
        levels.start_col[li],
        levels.start_row[li],
        levels.exit_col[li],
        tiles,
        state,
        enemies,
        jump_rule,
    )


@njit(cache=True)
def play_episode(
    net: NetArrays,
    k: int,
    net_state: NetState,
    levels: LevelPack,
    li: int,
    s: KernelSettings,
    result: np.ndarray,
    buffers: EpisodeBuffers,
    record_buttons: np.ndarray,
    record_xy: np.ndarray,
) -> int:
    """One episode of network k on level li; fills `result` and returns the number of decisions.

    Allocates nothing, so that a GPU thread runs the same code: the network's state is where `net_state` says
    and the world lives in `buffers`. With non-empty record arrays, also writes each decision's buttons and each
    frame's (x, y); frames are then stepped one at a time (the same per-frame code `advance` runs).
    """
    rows = levels.rows[li]
    cols = levels.cols[li]
    tiles = buffers.tiles[: rows * cols].reshape((rows, cols))
    enemies = buffers.enemies[: levels.enemy_off[li + 1] - levels.enemy_off[li]]
    state, obs, out, scratch, sight = buffers.state, buffers.obs, buffers.out, buffers.scratch, buffers.sight
    reset_level(levels, li, tiles, state, enemies, s.jump_rule)
    reset_network(net, k, net_state)
    inputs = obs[0]
    recording = record_buttons.size > 0
    decisions = 0
    frame = 0
    status = P.RUNNING
    while status == P.RUNNING:
        observe_inputs(tiles, state, enemies, s.view_radius, s.features, inputs, sight)
        step_network(net, k, net_state, obs, 0, out, 0, scratch)
        buttons = mask_from_outputs(out[0], s.threshold)
        if recording:
            if decisions < record_buttons.size:
                record_buttons[decisions] = buttons
            for _ in range(s.frame_skip):
                status = P.advance(tiles, state, enemies, buttons, 1, s.max_frames, s.stall_frames)
                if frame < record_xy.shape[0]:
                    record_xy[frame, 0] = state[P.S_X]
                    record_xy[frame, 1] = state[P.S_Y]
                frame += 1
                if status != P.RUNNING:
                    break
        else:
            status = P.advance(tiles, state, enemies, buttons, s.frame_skip, s.max_frames, s.stall_frames)
        decisions += 1
    score_episode(state, s, result)
    return decisions


@njit(cache=True)
def _play(
    net: NetArrays,
    k: int,
    net_state: NetState,
    levels: LevelPack,
    li: int,
    s: KernelSettings,
    result: np.ndarray,
    record_buttons: np.ndarray,
    record_xy: np.ndarray,
) -> int:
    """`play_episode` with world buffers of its own."""
    buffers = EpisodeBuffers(
        np.empty(levels.rows[li] * levels.cols[li], np.int8),
        np.empty(P.STATE_SIZE, np.int64),
        np.empty((levels.enemy_off[li + 1] - levels.enemy_off[li], P.ENEMY_FIELDS), np.int64),
        np.empty((1, net.n_inputs)),
        np.empty((1, net.n_outputs)),
        np.empty(max(net.max_in, 1)),
        sight_buffers(s.view_radius, s.frame_skip) if s.features & FORESIGHT else no_sight(s.frame_skip),
    )
    return play_episode(net, k, net_state, levels, li, s, result, buffers, record_buttons, record_xy)


@njit(cache=True, parallel=True)
def play_networks(net: NetArrays, levels: LevelPack, s: KernelSettings) -> np.ndarray:
    """Play every packed network on every level; results (n_networks, n_levels, FIELDS)."""
    n_nets = net.net_node_off.size - 1
    n_levels = levels.rows.size
    results = np.zeros((n_nets, n_levels, FIELDS))
    values = np.zeros((2, int(net.net_slot_off[-1])))
    cells = np.zeros(net.node_slot.size)
    active = np.zeros(n_nets, dtype=np.int64)
    no_buttons = np.empty(0, np.int64)
    no_xy = np.empty((0, 2), np.int64)
    for k in prange(n_nets):
        net_state = population_state(net, k, values, cells, active)
        for li in range(n_levels):
            _play(net, k, net_state, levels, li, s, results[k, li], no_buttons, no_xy)
    return results


@njit(cache=True)
def play_recorded(
    net: NetArrays, levels: LevelPack, li: int, s: KernelSettings, record_buttons: np.ndarray, record_xy: np.ndarray
) -> tuple[np.ndarray, int]:
    """Play network 0 on level li, recording buttons per decision and (x, y) per frame.

    The record arrays must be large enough (decisions and frames); returns (result row, decisions).
    """
    values = np.zeros((2, int(net.net_slot_off[-1])))
    cells = np.zeros(net.node_slot.size)
    active = np.zeros(1, dtype=np.int64)
    result = np.zeros(FIELDS)
    n = _play(net, 0, population_state(net, 0, values, cells, active), levels, li, s, result, record_buttons, record_xy)
    return result, n


def episode_outcome(state: np.ndarray, settings: KernelSettings) -> Outcome:
    """An episode's outcome so far (or at its end), scored as the rollout kernels score it."""
    row = np.zeros(FIELDS)
    score_episode(state, settings, row)
    return Outcome.from_row(row)


def use_threads(workers: int | None) -> int:
    """Play populations on `workers` threads (None: all cores, Numba's default); the number used."""
    if workers is not None:
        numba.set_num_threads(max(1, min(workers, numba.config.NUMBA_NUM_THREADS)))
    return numba.get_num_threads()
