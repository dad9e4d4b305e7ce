"""Foresight: where each of a few candidate moves would take the player, played forward by the physics itself.

A reactive controller that looks ahead beats one that only reacts (the `rules` baseline finishes three
times the held-out levels an evolved grid network does), and networks of NEAT's size cannot learn to look
ahead from what they see. So foresight is a sense: before each decision, each move of `MOVES` is played
forward with `physics.advance`, one frame at a time, and what it leads to becomes inputs. The `rules`
baseline decides on the same numbers, so a network and the baseline foresee with one physics, on the CPU
and on the GPU alike (integer physics: the same bits everywhere).

The world foreseen is made only of what the agent sees (`look`):

- the tiles of the 2r+1 columns in view (the columns of the observation grid around the one holding the
  player's centre), from the view's top row down to the level's bottom, as a screen shows a level's
  whole height (the Mario AI Framework's agents see the whole screen), and as they are: a brick is
  solid, a platform is jump-through, a coin block still holds its coin;
- the live enemies whose centre is in view (the observation grid's rule, at most `MAX_SEEN`, the first
  in the level's order), where they are and moving as they move, by the physics' rules for enemies;
- nothing else. Beside the view there are no tiles and no enemies: enemies leaving it fall away, and a
  forecast ends `AWAY` when the player's centre crosses its left or right edge. A fall below the level
  is a pit, as the physics rules it. Enemies out of view are not foreseen.

Each move holds B and a direction for the whole forecast, and A as its schedule says; buttons change
only at decision times (every `frame_skip` frames), so every forecast is a sequence of decisions the
agent could make itself:

    on the ground  run      Right, for a decision, then as it comes (see "lands" below)
                   jump     Right + A, A held while rising and let go at the first decision after the top
                   hop      Right + A for one decision, then Right (a short jump)
                   wait     no direction
                   back     Left (backing off for a run-up, or to let an enemy come)
    in the air     keep-a   Right + A while the jump still lifts: the better of letting go at the next
                            decision and holding to the top (only while rising with lift)
                   let-go   Right, A let go
                   drift    A let go, no direction
                   steer-back  Left, A let go

A forecast ends, its fate, at the first of (checked each frame, in this order):

    dies      the player dies (an enemy, a spiky one stomped, a pit), or leaves the view on either side
              more than `AWAY_DROP` below where it started (taken for a fall);
    finishes  it reaches the level's exit (in view): counted as landing, with nothing after it to check;
    stomps    it stomps an enemy (kills it, or takes its wings);
    away      its centre leaves the view, or `HORIZON` frames pass;
    lands     it stands on something when a decision comes, after a jump or fall or, moving on the
              ground, after one decision. A landing counts only if the player can go on from there,
              running or jumping, without dying (each foreseen in turn); else the move is a trap and dies.

Inputs, 5 a move (`PARTS`), in the order of `MOVES`; moves that do not apply now (ground moves in the
air, air moves on the ground, keep-a without lift) read progress 0, dies 1, and 0 otherwise:

    progress  where the move ends, in tiles right of where the player is (left negative), over r + 1
    dies      1 if its fate is dying (or a trap), else 0
    stomps    1 if it ends by stomping an enemy
    away      1 if it leaves the view (or runs out of time) before anything is settled
    frames    how long the forecast ran before its fate, over `HORIZON`
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from tilerunner.envs import physics as P
from tilerunner.envs import tiles as T
from tilerunner.envs.level import MAX_ROWS

MOVES = ("run", "jump", "hop", "wait", "back", "keep-a", "let-go", "drift", "steer-back")
RUN, JUMP, HOP, WAIT, BACK, KEEP_A, LET_GO, DRIFT, STEER_BACK = range(len(MOVES))
N_GROUND = 5  # the first five moves are made on the ground, the rest in the air
PARTS = ("progress", "dies", "stomps", "away", "frames")
N_PARTS = len(PARTS)
N_INPUTS = len(MOVES) * N_PARTS
INPUT_PARTS = tuple(f"{move}.{part}" for move in MOVES for part in PARTS)  # each input: `run.progress`, ...
HORIZON = 120  # the longest forecast, in frames (a running jump held to the top lasts about 80)
MAX_SEEN = 16  # enemies foreseen at once (the first in view, in the order the level lists them)
AWAY_DROP = 2 * P.TILE

# Fates, as `forecast` returns them.
LANDS, DIES, AWAY, STOMPS = 0, 1, 2, 3
FATE_NAMES = ("lands", "dies", "away", "stomps")
# A-schedules: never, one decision, or held while rising (let go at the first decision after the top).
A_NEVER, A_ONE, A_TOP = 0, 1, 2
_WORLDS = 3  # the view, a landing saved, and a follow-up played from it
_DIRECTION = np.array([1, 1, 1, 0, -1, 1, 1, 0, -1], np.int64)
_SCHEDULE = np.array([A_NEVER, A_TOP, A_ONE, A_NEVER, A_NEVER, A_TOP, A_NEVER, A_NEVER, A_NEVER], np.int64)


class Sight(NamedTuple):
    """Scratch buffers for foresight (`sight_buffers`), and the frames between decisions; allocation-free kernels
    take it, so that a GPU thread runs the same code."""

    tiles: np.ndarray  # int8 (_WORLDS * view tiles)
    ints: np.ndarray  # int64 (_WORLDS * (STATE_SIZE + MAX_SEEN * ENEMY_FIELDS) + 1)
    frame_skip: int


@njit(cache=True)
def _max_rows(radius: int) -> int:
    """The most rows a foreseen world has: from a view whose top is `radius` rows above the tallest level."""
    return MAX_ROWS + radius


@njit(cache=True)
def sight_sizes(radius: int) -> tuple[int, int]:
    """The lengths of `Sight.tiles` and `Sight.ints` at view radius `radius` (the last int counts the frames
    simulated, `frames_simulated`)."""
    return _WORLDS * _max_rows(radius) * (2 * radius + 3), _WORLDS * (P.STATE_SIZE + MAX_SEEN * P.ENEMY_FIELDS) + 1


@njit(cache=True)
def sight_buffers(radius: int, frame_skip: int) -> Sight:
    """New scratch for foresight at view radius `radius` (allocates: a GPU thread is handed its buffers)."""
    n_tiles, n_ints = sight_sizes(radius)
    return Sight(np.zeros(n_tiles, np.int8), np.zeros(n_ints, np.int64), frame_skip)


@njit(cache=True)
def no_sight(frame_skip: int) -> Sight:
    """Empty scratch, for kernels called without the foresight sense."""
    return Sight(np.zeros(0, np.int8), np.zeros(0, np.int64), frame_skip)


@njit(cache=True)
def frames_simulated(sight: Sight) -> int:
    """Frames foresight has simulated with this scratch since it was made (what foresight costs)."""
    return sight.ints[sight.ints.size - 1]


def input_names() -> list[str]:
    """The names of foresight's inputs, in order: `foresight.run.progress`, ..."""
    return [f"foresight.{part}" for part in INPUT_PARTS]


@njit(cache=True, inline="always")
def _world(sight: Sight, w: int, radius: int, rows: int, seen: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """World buffer `w` of the scratch: (tiles (rows, view columns), state, enemies (seen, ENEMY_FIELDS))."""
    vrows, vcols = _max_rows(radius), 2 * radius + 3
    t0 = w * vrows * vcols
    tiles = sight.tiles[t0 : t0 + rows * vcols].reshape((rows, vcols))
    size = P.STATE_SIZE + MAX_SEEN * P.ENEMY_FIELDS
    i0 = w * size
    state = sight.ints[i0 : i0 + P.STATE_SIZE]
    e0 = i0 + P.STATE_SIZE
    enemies = sight.ints[e0 : e0 + seen * P.ENEMY_FIELDS].reshape((seen, P.ENEMY_FIELDS))
    return tiles, state, enemies


@njit(cache=True)
def _origin(tiles: np.ndarray, state: np.ndarray, radius: int) -> tuple[int, int]:
    """The level's (column, row) at the foreseen world's top-left: one column left of the view, and the view's
    top row (or lower, if that row is so far above the level that the world would not fit its scratch: the
    rows left out are above the level, empty either way)."""
    col = (state[P.S_X] + P.PLAYER_W // 2) >> P.TILE_SHIFT
    row = (state[P.S_Y] + P.PLAYER_H // 2) >> P.TILE_SHIFT
    return col - radius - 1, max(row - radius, tiles.shape[0] - _max_rows(radius))


@njit(cache=True)
def _view_rows(tiles: np.ndarray, state: np.ndarray, radius: int) -> int:
    """How many rows the foreseen world has: from the view's top row to the level's bottom (a screen shows a
    level's whole height; below it is a pit, as the physics rules)."""
    _, r0 = _origin(tiles, state, radius)
    return tiles.shape[0] - r0


@njit(cache=True)
def _in_view(state: np.ndarray, enemies: np.ndarray, k: int, radius: int) -> bool:
    """Whether enemy k is seen: alive (or not yet woken) with its centre in a cell of the view."""
    s = enemies[k, P.E_STATE]
    if s != P.ACTIVE and s != P.DORMANT:
        return False
    half = P.TILE // 2
    j = (enemies[k, P.E_X] + P.ENEMY_W // 2 - state[P.S_X] - P.PLAYER_W // 2 + half) // P.TILE
    i = (enemies[k, P.E_Y] + P.ENEMY_H // 2 - state[P.S_Y] - P.PLAYER_H // 2 + half) // P.TILE
    return abs(i) <= radius and abs(j) <= radius


@njit(cache=True)
def seen_enemies(state: np.ndarray, enemies: np.ndarray, radius: int) -> int:
    """How many enemies the foreseen world holds: those in view, at most `MAX_SEEN`."""
    n = 0
    for k in range(enemies.shape[0]):
        if n < MAX_SEEN and _in_view(state, enemies, k, radius):
            n += 1
    return n


@njit(cache=True)
def look(
    tiles: np.ndarray,
    state: np.ndarray,
    enemies: np.ndarray,
    radius: int,
    w_tiles: np.ndarray,
    w_state: np.ndarray,
    w_enemies: np.ndarray,
) -> None:
    """Fill a world buffer with what the player sees (see the module docstring), in the view's coordinates;
    `w_enemies` has room for exactly the enemies seen (`seen_enemies`)."""
    c0, r0 = _origin(tiles, state, radius)
    rows, cols = w_tiles.shape
    for i in range(rows):
        for j in range(cols):
            w_tiles[i, j] = T.EMPTY if j == 0 or j == cols - 1 else P.tile_at(tiles, r0 + i, c0 + j)
    ox = c0 * P.TILE
    oy = r0 * P.TILE
    for k in range(P.STATE_SIZE):
        w_state[k] = state[k]
    w_state[P.S_X] -= ox
    w_state[P.S_Y] -= oy
    w_state[P.S_RIGHTMOST] = w_state[P.S_X]
    w_state[P.S_START_X] -= ox
    w_state[P.S_EXIT_X] -= ox
    w_state[P.S_LAST_PROGRESS] = w_state[P.S_FRAMES]
    n = 0
    for k in range(enemies.shape[0]):
        if n < w_enemies.shape[0] and _in_view(state, enemies, k, radius):
            for f in range(P.ENEMY_FIELDS):
                w_enemies[n, f] = enemies[k, f]
            w_enemies[n, P.E_X] -= ox
            w_enemies[n, P.E_Y] -= oy
            n += 1


@njit(cache=True, inline="always")
def _stomps(state: np.ndarray, enemies: np.ndarray) -> int:
    """Stomps so far: kills, and wings taken (a winged enemy stomped loses its wings first; nothing else takes
    them, so an enemy falling out of the world changes nothing here)."""
    n = state[P.S_KILLS]
    for k in range(enemies.shape[0]):
        if enemies[k, P.E_WINGED] == 0:
            n += 1
    return n


@njit(cache=True)
def forecast(
    tiles: np.ndarray,
    state: np.ndarray,
    enemies: np.ndarray,
    direction: int,
    schedule: int,
    walk_frames: int,
    frame_skip: int,
    radius: int,
    path: np.ndarray,
) -> tuple[int, int]:
    """Play a move forward in a foreseen world (changing it): (fate, frames). See the module docstring.

    The move holds B and `direction`, A by `schedule`; moving on the ground it lands once standing at a
    decision at least `walk_frames` on. With a non-empty `path` (frames, 2), the player's (x, y) in the
    view's coordinates is written there each frame.
    """
    left = P.TILE  # the view's columns are 1 .. cols - 2 of the world
    right = (tiles.shape[1] - 1) * P.TILE
    y0 = state[P.S_Y]
    base = P.B | (P.RIGHT if direction > 0 else (P.LEFT if direction < 0 else 0))
    stomps0 = _stomps(state, enemies)
    airborne = state[P.S_GROUND] == 0
    a = schedule != A_NEVER
    for f in range(HORIZON):
        if f % frame_skip == 0 and f > 0:
            if schedule == A_ONE:
                a = False
            elif schedule == A_TOP and a and not (state[P.S_VY] < 0 and state[P.S_JUMPING] != 0):
                a = False
        status = P.advance(tiles, state, enemies, base | (P.A if a else 0), 1, 0, 0)
        if f < path.shape[0]:
            path[f, 0] = state[P.S_X]
            path[f, 1] = state[P.S_Y]
        cx = state[P.S_X] + P.PLAYER_W // 2
        if status == P.DEAD:
            return DIES, f + 1
        if status == P.FINISHED:
            return LANDS, -(f + 1)  # negative: finished, no follow-up needed
        if _stomps(state, enemies) != stomps0:
            return STOMPS, f + 1
        if cx < left or cx >= right:
            return (DIES if state[P.S_Y] > y0 + AWAY_DROP else AWAY), f + 1
        if state[P.S_GROUND] == 0:
            airborne = True
        elif (f + 1) % frame_skip == 0 and (airborne or f + 1 >= walk_frames):
            return LANDS, f + 1
    return AWAY, HORIZON


@njit(cache=True)
def _copy_world(
    src_t: np.ndarray, src_s: np.ndarray, src_e: np.ndarray, dst_t: np.ndarray, dst_s: np.ndarray, dst_e: np.ndarray
) -> None:
    for i in range(src_t.shape[0]):
        for j in range(src_t.shape[1]):
            dst_t[i, j] = src_t[i, j]
    for k in range(src_s.shape[0]):
        dst_s[k] = src_s[k]
    for k in range(src_e.shape[0]):
        for f in range(src_e.shape[1]):
            dst_e[k, f] = src_e[k, f]


@njit(cache=True)
def foresee(
    tiles: np.ndarray,
    state: np.ndarray,
    enemies: np.ndarray,
    radius: int,
    sight: Sight,
    move: int,
    schedule: int,
    path: np.ndarray,
) -> tuple[int, int, int]:
    """Move `move` (an index of `MOVES`, A by `schedule`) from the real world: (fate, frames, x where it ends,
    in sub-pixels right of the player's x now). A landing is checked for a way on (else `DIES`)."""
    rows = _view_rows(tiles, state, radius)
    seen = seen_enemies(state, enemies, radius)
    wt, ws, we = _world(sight, 0, radius, rows, seen)
    look(tiles, state, enemies, radius, wt, ws, we)
    x0 = ws[P.S_X]
    walk = sight.frame_skip if move < N_GROUND and schedule == A_NEVER else 0
    fate, frames = forecast(wt, ws, we, _DIRECTION[move], schedule, walk, sight.frame_skip, radius, path)
    sight.ints[sight.ints.size - 1] += abs(frames)
    end = ws[P.S_X] - x0
    if frames < 0:
        return LANDS, -frames, end
    if fate != LANDS:
        return fate, frames, end
    st, ss, se = _world(sight, 1, radius, rows, seen)
    _copy_world(wt, ws, we, st, ss, se)
    ft, fs, fe = _world(sight, 2, radius, rows, seen)
    no_path = path[:0]
    for schedule2 in (A_NEVER, A_TOP):
        _copy_world(st, ss, se, ft, fs, fe)
        walk2 = sight.frame_skip if schedule2 == A_NEVER else 0
        fate2, frames2 = forecast(ft, fs, fe, 1, schedule2, walk2, sight.frame_skip, radius, no_path)
        sight.ints[sight.ints.size - 1] += abs(frames2)
        if fate2 != DIES:
            return LANDS, frames, end
    return DIES, frames, end


@njit(cache=True)
def applies(state: np.ndarray, move: int) -> bool:
    """Whether `move` can be made now: ground moves on the ground, air moves in the air, keep-a only with lift."""
    ground = state[P.S_GROUND] != 0
    if move < N_GROUND:
        return ground
    if move == KEEP_A:
        return not ground and state[P.S_VY] < 0 and state[P.S_JUMPING] != 0
    return not ground


@njit(cache=True)
def score(progress: float, dies: float, away: float, radius: int) -> float:
    """What `rules` makes of a foreseen move: its progress; two tiles less if it leaves the view; far below
    everything if it dies."""
    return progress - 100.0 * dies - away * 2.0 / (radius + 1)


@njit(cache=True)
def foresee_move(
    tiles: np.ndarray,
    state: np.ndarray,
    enemies: np.ndarray,
    radius: int,
    sight: Sight,
    move: int,
    path: np.ndarray,
    other: np.ndarray,
) -> tuple[int, int, int, bool]:
    """`foresee` for `move` by its schedule; for keep-a, the better (`score`) of letting go at the next decision
    (its path in `other`) and holding to the top (in `path`). (fate, frames, end, whether `other` won)."""
    fate, frames, end = foresee(tiles, state, enemies, radius, sight, move, _SCHEDULE[move], path)
    if move != KEEP_A:
        return fate, frames, end, False
    fate1, frames1, end1 = foresee(tiles, state, enemies, radius, sight, move, A_ONE, other)
    span = float((radius + 1) * P.TILE)
    top = score(end / span, 1.0 if fate == DIES else 0.0, 1.0 if fate == AWAY else 0.0, radius)
    one = score(end1 / span, 1.0 if fate1 == DIES else 0.0, 1.0 if fate1 == AWAY else 0.0, radius)
    if one > top:
        return fate1, frames1, end1, True
    return fate, frames, end, False


@njit(cache=True)
def observe_foresight(
    tiles: np.ndarray, state: np.ndarray, enemies: np.ndarray, radius: int, sight: Sight, out: np.ndarray
) -> None:
    """Write foresight's `N_INPUTS` inputs (see the module docstring) into `out`."""
    span = float((radius + 1) * P.TILE)
    no_path = sight.ints[:0].reshape((0, 2))
    for m in range(len(MOVES)):
        o = out[m * N_PARTS : (m + 1) * N_PARTS]
        if not applies(state, m):
            o[0] = 0.0
            o[1] = 1.0
            o[2] = 0.0
            o[3] = 0.0
            o[4] = 0.0
            continue
        fate, frames, end, _ = foresee_move(tiles, state, enemies, radius, sight, m, no_path, no_path)
        o[0] = min(1.0, max(-1.0, end / span))  # a forecast ends within a frame's move past the view's edge
        o[1] = 1.0 if fate == DIES else 0.0
        o[2] = 1.0 if fate == STOMPS else 0.0
        o[3] = 1.0 if fate == AWAY else 0.0
        o[4] = frames / HORIZON


@njit(cache=True)
def _origin_px(tiles: np.ndarray, state: np.ndarray, radius: int) -> tuple[int, int]:
    c0, r0 = _origin(tiles, state, radius)
    return c0 * P.TILE, r0 * P.TILE


def foreseen_paths(
    tiles: np.ndarray, state: np.ndarray, enemies: np.ndarray, radius: int, frame_skip: int
) -> list[tuple[int, int, np.ndarray]]:
    """Each move that applies now, as foresight plays it: (move, fate, path), the path the player's top-left
    (x, y) in the level's sub-pixels, one row a frame until the fate. For the viewer, which draws them."""
    sight = sight_buffers(radius, frame_skip)
    ox, oy = _origin_px(tiles, state, radius)
    paths = []
    for move in range(len(MOVES)):
        if not applies(state, move):
            continue
        path = np.zeros((HORIZON, 2), np.int64)
        other = np.zeros((HORIZON, 2), np.int64)
        fate, frames, _, other_won = foresee_move(tiles, state, enemies, radius, sight, move, path, other)
        if other_won:
            path = other
        xy = path[:frames].copy()
        xy[:, 0] += ox
        xy[:, 1] += oy
        paths.append((move, fate, xy))
    return paths


def move_of(buttons: int, on_ground: bool) -> int:
    """The move of `MOVES` that pressing `buttons` now begins (for marking the chosen path): on the ground A
    is a jump, Right a run, Left backing off, neither waiting; in the air A keeps A, and so on."""
    right = bool(buttons & P.RIGHT) and not buttons & P.LEFT
    left = bool(buttons & P.LEFT) and not buttons & P.RIGHT
    if on_ground:
        return JUMP if buttons & P.A else (RUN if right else (BACK if left else WAIT))
    return KEEP_A if buttons & P.A else (LET_GO if right else (STEER_BACK if left else DRIFT))
