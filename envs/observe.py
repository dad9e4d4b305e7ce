"""What the agent sees: a square grid of tiles centred on the player, in MarI/O's encoding.

Cell (i, j) of a (2r+1, 2r+1) grid samples the world at the player's centre plus
((j - r) * 16, (i - r) * 16) pixels: 1 where that point is in a tile the player can
stand on (solid or jump-through), -1 where a live enemy's centre is within half a
tile of it, 0 otherwise. Enemies win over tiles. Outside the level's left and right
edges is solid, above and below is empty, as the physics sees it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tilerunner.envs import tiles as T
from tilerunner.envs.physics import (
    ACTIVE,
    E_STATE,
    E_X,
    E_Y,
    ENEMY_H,
    ENEMY_W,
    PLAYER_H,
    PLAYER_W,
    S_X,
    S_Y,
    TILE,
    TILE_SHIFT,
    tile_at,
)

DEFAULT_RADIUS = 6  # 13x13, as MarI/O

_FLOOR = T.FLOOR.copy()


@njit(cache=True)
def observe(
    tiles: np.ndarray, state: np.ndarray, enemies: np.ndarray, radius: int, out: np.ndarray
) -> None:
    """Write the (2*radius+1, 2*radius+1) view around the player into `out` (float32 or float64)."""
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
            out[i, j] = -1.0


def observation(tiles: np.ndarray, state: np.ndarray, enemies: np.ndarray,
                radius: int = DEFAULT_RADIUS) -> np.ndarray:
    """A new float32 observation grid (convenience wrapper around `observe`)."""
    out = np.empty((2 * radius + 1, 2 * radius + 1), dtype=np.float32)
    observe(tiles, state, enemies, radius, out)
    return out
