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
    jump         3 extra inputs, the Mario AI Framework's jump senses: on the ground (0 or 1); may
                 jump (1 when pressing A now would start a jump: on the ground, and under the
                 `press` rule with A released there since the last jump; the framework's
                 `mayMarioJump`); can jump higher (the frames of lift left if A stays held, over
                 the longest lift, 0 to 1; the framework's `getMarioCanJumpHigher`).
    enemy-grid   (2r+1)^2 extra inputs: the enemies in a second grid of their own, the same cells
                 (-1, or -0.5 and -1 with enemy-kinds), and the first grid then shows tiles only, as
                 the framework's separate scene and enemy observations.
    position     2 extra inputs: where the player's centre is within its tile, x and y, 0 to 1
                 (0 the tile's left or top edge): the grid's cells are whole tiles, a jump's take-off
                 point is not.
    probes       7 extra inputs, what the 2009 competition's reactive entrants computed, ahead
                 meaning to the right, everything within the view (r tiles) and scaled by it:
                 distance to the next gap (a column with no floor at or below the feet, 1 if none in
                 view) and its width (counted on past the view, up to r; 0 if none); distance to the
                 next wall (a solid tile at the body's height, 1 if none) and its height in tiles (0
                 if none); the nearest live
                 enemy ahead: dx (0 to 1, 1 if none), dy (-1 to 1, down positive, 0 if none) and its
                 kind (1 stompable, -1 spiky, 0 none).
    foresight    45 extra inputs: where each of nine candidate moves (run, jump, hop, wait, back off on
                 the ground; keep A, let go, drift, steer back in the air) would take the player, played
                 forward by the physics over what is in view: progress, dies, stomps, away, frames for
                 each (`tilerunner.envs.foresight` says exactly what each is). What `rules` decides on.
    no-grid      takes MarI/O's grid away: the network sees only the other features' inputs (with
                 enemy-grid, the enemies' grid stays). Foresight alone is `foresight,no-grid`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tilerunner.envs import foresight as F
from tilerunner.envs import tiles as T
from tilerunner.envs.foresight import Sight
from tilerunner.envs.physics import (
    ACTIVE,
    E_KIND,
    E_STATE,
    E_X,
    E_Y,
    ENEMY_H,
    ENEMY_W,
    GRAVITY_HOLD,
    HOLD,
    LIFT_FRAMES,
    MAX_FALL,
    PLAYER_H,
    PLAYER_W,
    RUN_MAX,
    S_GROUND,
    S_JUMPING,
    S_MAY_JUMP,
    S_RULE,
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
FEATURES = ("speed", "enemy-kinds", "jump", "enemy-grid", "position", "probes", "foresight", "no-grid")
SPEED = 1
ENEMY_KINDS = 2
JUMP = 4
ENEMY_GRID = 8
POSITION = 16
PROBES = 32
FORESIGHT = 64
NO_GRID = 128
EXTRA_INPUTS = {  # -1: a grid; -2: the grid taken away
    "speed": 3,
    "enemy-kinds": 0,
    "jump": 3,
    "enemy-grid": -1,
    "position": 2,
    "probes": 7,
    "foresight": F.N_INPUTS,
    "no-grid": -2,
}

_FLOOR = T.FLOOR.copy()
_SOLID = T.SOLID.copy()


def feature_mask(names: tuple[str, ...] | list[str]) -> int:
    """The bit mask of feature names (see the module docstring); `ValueError` names an unknown one."""
    mask = 0
    for name in names:
        if name not in FEATURES:
            raise ValueError(f"unknown observation feature {name!r}; the features are {', '.join(FEATURES)}")
        mask |= 1 << FEATURES.index(name)
    return mask


def extra_inputs(name: str, radius: int) -> int:
    """How many inputs feature `name` adds at view radius `radius` (`no-grid` takes the grid's away)."""
    n = EXTRA_INPUTS[name]
    return n if n >= 0 else (2 * radius + 1) ** 2 * (1 if n == -1 else -1)


def n_inputs(radius: int, features: tuple[str, ...] | list[str] = ()) -> int:
    """How many inputs a network gets: the grid's cells plus the features' extra inputs; `ValueError` for no inputs
    at all (`no-grid` alone)."""
    feature_mask(features)  # an unknown name is a ValueError, not a KeyError
    n = (2 * radius + 1) ** 2 + sum(extra_inputs(name, radius) for name in set(features))
    if n == 0:
        raise ValueError("no-grid leaves no inputs: add a feature that has some (foresight, jump, probes, ...)")
    return n


def input_slices(radius: int, features: tuple[str, ...] | list[str]) -> dict[str, slice]:
    """Where the grid and each feature that adds inputs sit in a network's input vector (in FEATURES order)."""
    k = 0 if "no-grid" in features else (2 * radius + 1) ** 2
    slices = {"grid": slice(0, k)} if k else {}
    for name in FEATURES:
        n = extra_inputs(name, radius) if name in features else 0
        if n > 0:  # (no-grid's is negative: it takes the grid's inputs away)
            slices[name] = slice(k, k + n)
            k += n
    return slices


def input_names(radius: int, features: tuple[str, ...] | list[str] = ()) -> list[str]:
    """A name for each of a network's inputs, in order: `grid[i,j]`, then each feature's (`jump.may_jump`)."""
    size = 2 * radius + 1
    cells = [f"[{i},{j}]" for i in range(size) for j in range(size)]
    names = [] if "no-grid" in features else [f"grid{cell}" for cell in cells]
    for name in FEATURES:
        if name in features:
            names += (
                [f"enemy-grid{cell}" for cell in cells]
                if name == "enemy-grid"
                else [f"{name}.{part}" for part in _PARTS.get(name, ())]
            )
    return names


_PARTS = {
    "speed": ("vx", "vy", "on_ground"),
    "jump": ("on_ground", "may_jump", "can_jump_higher"),
    "position": ("x_in_tile", "y_in_tile"),
    "probes": ("gap_distance", "gap_width", "wall_distance", "wall_height", "enemy_dx", "enemy_dy", "enemy_kind"),
    "foresight": F.INPUT_PARTS,
}


@njit(cache=True)
def observe(tiles: np.ndarray, state: np.ndarray, enemies: np.ndarray, radius: int, out: np.ndarray) -> None:
    """Write the (2*radius+1, 2*radius+1) view around the player into `out` (float32 or float64)."""
    _grid(tiles, state, enemies, radius, False, False, out)


@njit(cache=True)
def observe_inputs(
    tiles: np.ndarray, state: np.ndarray, enemies: np.ndarray, radius: int, features: int, out: np.ndarray, sight: Sight
) -> None:
    """Write a network's whole input vector (the grid, then the features' extra inputs) into 1-D `out`.

    `sight` is foresight's scratch (`foresight.sight_buffers`; `foresight.no_sight(frame_skip)` without the sense)."""
    size = 2 * radius + 1
    cells = size * size
    kinds = (features & ENEMY_KINDS) != 0
    separate = (features & ENEMY_GRID) != 0
    k = 0
    if not features & NO_GRID:
        _grid(tiles, state, enemies, radius, kinds, separate, out[:cells].reshape((size, size)))
        k = cells
    if features & SPEED:
        out[k] = min(1.0, max(-1.0, state[S_VX] / RUN_MAX))
        out[k + 1] = min(1.0, max(-1.0, state[S_VY] / MAX_FALL))
        out[k + 2] = 1.0 if state[S_GROUND] else 0.0
        k += 3
    if features & JUMP:
        ground = state[S_GROUND] != 0
        out[k] = 1.0 if ground else 0.0
        out[k + 1] = 1.0 if ground and (state[S_RULE] == HOLD or state[S_MAY_JUMP] != 0) else 0.0
        lift = 0.0
        if state[S_JUMPING] != 0 and state[S_VY] < 0:
            lift = min(1.0, ((-state[S_VY] + GRAVITY_HOLD - 1) // GRAVITY_HOLD) / LIFT_FRAMES)
        out[k + 2] = lift
        k += 3
    if separate:
        grid = out[k : k + cells].reshape((size, size))
        grid[:, :] = 0.0
        _enemies(state, enemies, radius, kinds, grid)
        k += cells
    if features & POSITION:
        out[k] = ((state[S_X] + PLAYER_W // 2) % TILE) / TILE
        out[k + 1] = ((state[S_Y] + PLAYER_H // 2) % TILE) / TILE
        k += 2
    if features & PROBES:
        _probes(tiles, state, enemies, radius, out[k : k + 7])
        k += 7
    if features & FORESIGHT:
        F.observe_foresight(tiles, state, enemies, radius, sight, out[k : k + F.N_INPUTS])


@njit(cache=True)
def _grid(
    tiles: np.ndarray,
    state: np.ndarray,
    enemies: np.ndarray,
    radius: int,
    kinds: bool,
    tiles_only: bool,
    out: np.ndarray,
) -> None:
    cx = state[S_X] + PLAYER_W // 2
    cy = state[S_Y] + PLAYER_H // 2
    size = 2 * radius + 1
    for i in range(size):
        row = (cy + (i - radius) * TILE) >> TILE_SHIFT
        for j in range(size):
            col = (cx + (j - radius) * TILE) >> TILE_SHIFT
            out[i, j] = 1.0 if _FLOOR[tile_at(tiles, row, col)] else 0.0
    if not tiles_only:
        _enemies(state, enemies, radius, kinds, out)


@njit(cache=True, inline="always")
def _enemies(state: np.ndarray, enemies: np.ndarray, radius: int, kinds: bool, out: np.ndarray) -> None:
    """Mark live enemies in the grid `out`: -1, or with `kinds` -0.5 for a stompable one and -1 for a spiky one."""
    cx = state[S_X] + PLAYER_W // 2
    cy = state[S_Y] + PLAYER_H // 2
    size = 2 * radius + 1
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


@njit(cache=True, inline="always")
def _pit(tiles: np.ndarray, feet: int, col: int) -> bool:
    """Whether column `col` has no floor at or below row `feet` (inside the level: its edges are walls)."""
    if col >= tiles.shape[1]:
        return False
    for r in range(max(feet, 0), tiles.shape[0]):
        if _FLOOR[tile_at(tiles, r, col)]:
            return False
    return True


@njit(cache=True)
def _probes(tiles: np.ndarray, state: np.ndarray, enemies: np.ndarray, radius: int, out: np.ndarray) -> None:
    """The `probes` feature's 7 inputs (see the module docstring) into `out`."""
    reach = max(radius, 1)
    col = (state[S_X] + PLAYER_W // 2) >> TILE_SHIFT
    feet = (state[S_Y] + PLAYER_H) >> TILE_SHIFT  # the row under the feet when standing
    body = feet - 1
    gap_at = 0
    gap_width = 0
    wall_at = 0
    wall_height = 0
    for d in range(1, reach + 1):
        c = col + d
        if gap_at == 0 and _pit(tiles, feet, c):
            gap_at = d
            while gap_width < reach and _pit(tiles, feet, c + gap_width):  # its width, also past the view
                gap_width += 1
        if wall_at == 0 and _SOLID[tile_at(tiles, body, c)]:
            wall_at = d
            r = body
            while wall_height < reach and _SOLID[tile_at(tiles, r, c)]:
                wall_height += 1
                r -= 1
    out[0] = gap_at / reach if gap_at else 1.0
    out[1] = gap_width / reach
    out[2] = wall_at / reach if wall_at else 1.0
    out[3] = wall_height / reach
    cx = state[S_X] + PLAYER_W // 2
    cy = state[S_Y] + PLAYER_H // 2
    span = reach * TILE
    best = -1
    best_dx = span + 1
    for k in range(enemies.shape[0]):
        if enemies[k, E_STATE] != ACTIVE:
            continue
        dx = enemies[k, E_X] + ENEMY_W // 2 - cx
        dy = enemies[k, E_Y] + ENEMY_H // 2 - cy
        if 0 <= dx <= span and -span <= dy <= span and dx < best_dx:
            best = k
            best_dx = dx
    if best < 0:
        out[4] = 1.0
        out[5] = 0.0
        out[6] = 0.0
    else:
        out[4] = best_dx / span
        out[5] = (enemies[best, E_Y] + ENEMY_H // 2 - cy) / span
        out[6] = -1.0 if enemies[best, E_KIND] == T.SPIKY else 1.0


def observation(tiles: np.ndarray, state: np.ndarray, enemies: np.ndarray, radius: int = DEFAULT_RADIUS) -> np.ndarray:
    """A new float32 observation grid (convenience wrapper around `observe`)."""
    out = np.empty((2 * radius + 1, 2 * radius + 1), dtype=np.float32)
    observe(tiles, state, enemies, radius, out)
    return out
