"""What the agent sees: a square grid of tiles centred on the player, in MarI/O's encoding.

Cell (i, j) of a (2r+1, 2r+1) grid samples the world at the player's centre plus
((j - r) * 16, (i - r) * 16) pixels: 1 where that point is in a tile the player can
stand on (solid or jump-through), -1 where a live enemy's centre is within half a
tile of it, 0 otherwise. Enemies win over tiles. Outside the level's left and right
edges is solid, above and below is empty, as the physics sees it.

Opt-in features (MarI/O's grid stays the default; a network's inputs are the grid, row by row,
then the extra inputs of the features switched on, in the order of `FEATURES`):

    speed        3 extra inputs: the player's horizontal speed / running speed, vertical speed /
                 falling speed (both clipped to [-1, 1]; down is positive), and 1 when standing on
                 something (free to jump), else 0. The grid alone cannot tell a run-up from a
                 standstill, and a jump's length depends on it.
    enemy-kinds  no extra inputs: in the grid, an enemy that can be stomped is -0.5 and a spiky
                 one (stomping it kills) -1, instead of -1 for both.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tilerunner.envs import tiles as T
from tilerunner.envs.physics import (
    ACTIVE,
    E_KIND,
    E_STATE,
    E_X,
    E_Y,
    ENEMY_H,
    ENEMY_W,
    MAX_FALL,
    PLAYER_H,
    PLAYER_W,
    RUN_MAX,
    S_GROUND,
    S_VX,
    S_VY,
    S_X,
    S_Y,
    TILE,
    TILE_SHIFT,
    tile_at,
)

DEFAULT_RADIUS = 6  # 13x13, as MarI/O

# Opt-in observation features, in the order their inputs follow the grid; each is a bit of a mask.
FEATURES = ("speed", "enemy-kinds")
SPEED = 1
ENEMY_KINDS = 2
EXTRA_INPUTS = {"speed": 3, "enemy-kinds": 0}

_FLOOR = T.FLOOR.copy()


def feature_mask(names: tuple[str, ...] | list[str]) -> int:
    """The bit mask of feature names (see the module docstring); `ValueError` names an unknown one."""
    mask = 0
    for name in names:
        if name not in FEATURES:
            raise ValueError(f"unknown observation feature {name!r}; the features are {', '.join(FEATURES)}")
        mask |= 1 << FEATURES.index(name)
    return mask


def n_inputs(radius: int, features: tuple[str, ...] | list[str] = ()) -> int:
    """How many inputs a network gets: the grid's cells plus the features' extra inputs."""
    return (2 * radius + 1) ** 2 + sum(EXTRA_INPUTS[name] for name in set(features))


@njit(cache=True)
def observe(
    tiles: np.ndarray, state: np.ndarray, enemies: np.ndarray, radius: int, out: np.ndarray
) -> None:
    """Write the (2*radius+1, 2*radius+1) view around the player into `out` (float32 or float64)."""
    _grid(tiles, state, enemies, radius, False, out)


@njit(cache=True)
def observe_inputs(
    tiles: np.ndarray, state: np.ndarray, enemies: np.ndarray, radius: int, features: int, out: np.ndarray
) -> None:
    """Write a network's whole input vector (the grid, then the features' extra inputs) into 1-D `out`."""
    size = 2 * radius + 1
    _grid(tiles, state, enemies, radius, (features & ENEMY_KINDS) != 0, out[:size * size].reshape((size, size)))
    if features & SPEED:
        k = size * size
        out[k] = min(1.0, max(-1.0, state[S_VX] / RUN_MAX))
        out[k + 1] = min(1.0, max(-1.0, state[S_VY] / MAX_FALL))
        out[k + 2] = 1.0 if state[S_GROUND] else 0.0


@njit(cache=True)
def _grid(
    tiles: np.ndarray, state: np.ndarray, enemies: np.ndarray, radius: int, kinds: bool, out: np.ndarray
) -> None:
    cx = state[S_X] + PLAYER_W // 2
    cy = state[S_Y] + PLAYER_H // 2
    size = 2 * radius + 1
    for i in range(size):
        row = (cy + (i - radius) * TILE) >> TILE_SHIFT
        for j in range(size):
            col = (cx + (j - radius) * TILE) >> TILE_SHIFT
            out[i, j] = 1.0 if _FLOOR[tile_at(tiles, row, col)] else 0.0
    half = TILE // 2
    for k in range(enemies.shape[0]):
        if enemies[k, E_STATE] != ACTIVE:
            continue
        # Nearest cell to the enemy's centre; floor division keeps negative offsets right.
        j = (enemies[k, E_X] + ENEMY_W // 2 - cx + half) // TILE + radius
        i = (enemies[k, E_Y] + ENEMY_H // 2 - cy + half) // TILE + radius
        if 0 <= i < size and 0 <= j < size:
            # With kinds, a spiky enemy wins over a stompable one in the same cell.
            if not kinds or enemies[k, E_KIND] == T.SPIKY:
                out[i, j] = -1.0
            elif out[i, j] != -1.0:
                out[i, j] = -0.5


def observation(tiles: np.ndarray, state: np.ndarray, enemies: np.ndarray,
                radius: int = DEFAULT_RADIUS) -> np.ndarray:
    """A new float32 observation grid (convenience wrapper around `observe`)."""
    out = np.empty((2 * radius + 1, 2 * radius + 1), dtype=np.float32)
    observe(tiles, state, enemies, radius, out)
    return out
