"""Platformer physics as Numba kernels over plain numpy state arrays.

The world is three arrays, so that a whole episode (or thousands of them in
parallel) can run inside Numba without Python objects:

- `tiles`: int8 (rows, cols) tile ids, a per-episode copy of the level grid (coins
  and question blocks change it);
- `state`: int64 (STATE_SIZE,) player and episode scalars, indexed by the `S_*` constants;
- `enemies`: int64 (n, ENEMY_FIELDS) one row per enemy, indexed by the `E_*` constants.

Positions and velocities are integers in sub-pixels (`SUB` per pixel), so a run is
bit-for-bit the same on every machine. One call of `step` is one frame at 60 frames
per second. The motion constants follow Super Mario Bros closely enough that a
standing jump reaches more than 4 tiles up and a running jump clears more than 6
tiles (tests check both).

Two jump rules (`JUMP_RULES`; an episode's rule is set by `reset_world` and kept in its state):

- `press`, the Mario AI Framework's and Super Mario Bros': a jump starts only on the ground, and
  only if A was released on the ground since the last one (the framework's `mayJump =
  onGround && !jump`); releasing A while rising ends the lift for good.
- `hold`, this project's first rule: holding A jumps again on every landing, and A held while
  rising keeps the lift. Replays and runs made before the rule existed played by it, and still do.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tilerunner.envs import tiles as T
from tilerunner.envs.buttons import BUTTON_NAMES, DOWN, LEFT, N_BUTTONS, RIGHT, UP, A, B  # noqa: F401
from tilerunner.envs.level import TILE_PX, Level

FPS = 60
SUB = 256  # sub-pixels per pixel
TILE = TILE_PX * SUB  # sub-pixels per tile
TILE_SHIFT = 12  # TILE == 1 << TILE_SHIFT
assert TILE == 1 << TILE_SHIFT

# Buttons (see `tilerunner.envs.buttons`), re-exported because every caller of the physics needs them.

# Player body: 12 px wide, 16 px tall; (x, y) is its top-left corner.
PLAYER_W = 12 * SUB
PLAYER_H = 16 * SUB
# Horizontal motion (sub-pixels per frame, and per frame squared).
WALK_MAX = 384  # 1.5 px/frame
RUN_MAX = 640  # 2.5 px/frame, holding B
WALK_ACCEL = 10
RUN_ACCEL = 14
FRICTION = 12  # on the ground with no direction held
SKID_DECEL = 26  # on the ground, pushing against the motion
OVERSPEED_DECEL = 8  # faster than allowed (B released while running)
AIR_ACCEL = 10
AIR_TURN = 18
# Vertical motion.
JUMP_V = 1100  # 4.3 px/frame take-off speed
RUN_JUMP_V = 1280  # 5 px/frame when already moving at RUN_JUMP_SPEED or faster
RUN_JUMP_SPEED = 512
GRAVITY_HOLD = 32  # rising with A held: the jump goes higher the longer A is held
GRAVITY = 112
MAX_FALL = 1152  # terminal velocity, 4.5 px/frame
STOMP_BOUNCE = 1024
# Enemies: 14 px wide, 16 px tall, slow walkers; winged ones hop.
ENEMY_W = 14 * SUB
ENEMY_H = 16 * SUB
ENEMY_SPEED = 128  # 0.5 px/frame
ENEMY_GRAVITY = 112
WINGED_GRAVITY = 40
HOP_V = 1024
ACTIVATE_DIST = 12 * TILE  # enemies wake up when the player is this close (horizontally)
SQUASH_FRAMES = 30  # a stomped enemy stays on screen, flattened, this long

# state[] layout.
S_X, S_Y, S_VX, S_VY = 0, 1, 2, 3
S_GROUND = 4  # standing on something
S_JUMPING = 5  # rising from a jump or a stomp (A held keeps gravity low)
S_FACING = 6  # +1 right, -1 left
S_STATUS = 7
S_CAUSE = 8  # cause of death
S_COINS = 9
S_KILLS = 10
S_FRAMES = 11
S_RIGHTMOST = 12  # largest x reached
S_LAST_PROGRESS = 13  # frame at which S_RIGHTMOST last grew
S_EXIT_X = 14  # the player's centre reaching this x finishes the level
S_START_X = 15
S_BUTTONS = 16  # buttons held in the last frame
S_JUMPS = 17  # jumps taken (each take-off, from the ground)
S_RULE = 18  # the jump rule: HOLD or PRESS
S_MAY_JUMP = 19  # on the ground with A released at the end of the last frame (what `press` needs to jump)
STATE_SIZE = 20

# Jump rules (S_RULE), by name (see the module docstring).
HOLD, PRESS = 0, 1
JUMP_RULES = ("hold", "press")
LIFT_FRAMES = -(-RUN_JUMP_V // GRAVITY_HOLD)  # the longest lift: a running jump with A held, in frames

# Episode status (S_STATUS) and its names, as reported in `info["status"]`.
RUNNING, DEAD, FINISHED, STALLED, TIMEOUT = 0, 1, 2, 3, 4
STATUS_NAMES = ("running", "dead", "finished", "stalled", "timeout")
# Cause of death (S_CAUSE).
CAUSE_NONE, CAUSE_PIT, CAUSE_ENEMY, CAUSE_SPIKY = 0, 1, 2, 3
CAUSE_NAMES = ("", "pit", "enemy", "spiky")

# enemies[] layout.
E_X, E_Y, E_VX, E_VY = 0, 1, 2, 3
E_KIND = 4
E_WINGED = 5
E_STATE = 6
E_GROUND = 7
E_TIMER = 8
ENEMY_FIELDS = 9
# Enemy states.
DORMANT, ACTIVE, SQUASHED, GONE = 0, 1, 2, 3

_SOLID = T.SOLID.copy()
_FLOOR = T.FLOOR.copy()
_COIN_BLOCK = T.COIN_BLOCK.copy()


@njit(cache=True, inline="always")
def tile_at(tiles: np.ndarray, row: int, col: int) -> int:
    """The tile at (row, col); outside the left and right edges is a wall, above and below is empty."""
    if col < 0 or col >= tiles.shape[1]:
        return T.GROUND
    if row < 0 or row >= tiles.shape[0]:
        return T.EMPTY
    return tiles[row, col]


@njit(cache=True)
def reset_world(
    level_tiles: np.ndarray,
    level_enemies: np.ndarray,
    start_col: int,
    start_row: int,
    exit_col: int,
    tiles: np.ndarray,
    state: np.ndarray,
    enemies: np.ndarray,
    rule: int = HOLD,
) -> None:
    """Fill (tiles, state, enemies) with the level's starting position, reusing the arrays; `rule` is the
    jump rule the episode plays by (HOLD or PRESS)."""
    for r in range(level_tiles.shape[0]):  # loops, not slice copies: a GPU thread runs this too
        for c in range(level_tiles.shape[1]):
            tiles[r, c] = level_tiles[r, c]
    for i in range(STATE_SIZE):
        state[i] = 0
    x = start_col * TILE + (TILE - PLAYER_W) // 2
    state[S_X] = x
    state[S_Y] = start_row * TILE
    state[S_FACING] = 1
    state[S_GROUND] = _FLOOR[tile_at(level_tiles, start_row + 1, start_col)]
    state[S_STATUS] = RUNNING
    state[S_RIGHTMOST] = x
    state[S_EXIT_X] = exit_col * TILE
    state[S_START_X] = x
    state[S_RULE] = rule
    state[S_MAY_JUMP] = state[S_GROUND]  # A is not held before the first frame
    for i in range(level_enemies.shape[0]):
        for f in range(ENEMY_FIELDS):
            enemies[i, f] = 0
        enemies[i, E_KIND] = level_enemies[i, 0]
        enemies[i, E_WINGED] = level_enemies[i, 1]
        enemies[i, E_X] = level_enemies[i, 2] * TILE + (TILE - ENEMY_W) // 2
        enemies[i, E_Y] = level_enemies[i, 3] * TILE
        enemies[i, E_STATE] = DORMANT


def new_world(level: Level, rule: int = HOLD) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fresh (tiles, state, enemies) arrays for the start of an episode on `level` under jump rule `rule`."""
    tiles = np.empty_like(level.tiles)
    state = np.empty(STATE_SIZE, dtype=np.int64)
    enemies = np.empty((level.enemies.shape[0], ENEMY_FIELDS), dtype=np.int64)
    col, row = level.start
    reset_world(level.tiles, level.enemies, col, row, level.exit_col, tiles, state, enemies, rule)
    return tiles, state, enemies


def jump_rule_id(name: str) -> int:
    """HOLD or PRESS for a rule's name; `ValueError` in one line naming the rules for anything else."""
    if name not in JUMP_RULES:
        raise ValueError(f"unknown jump rule {name!r:.40}; the rules are {', '.join(JUMP_RULES)}")
    return JUMP_RULES.index(name)


@njit(cache=True, inline="always")
def _wall_in_column(tiles: np.ndarray, col: int, y: int, h: int) -> bool:
    """Whether a body at heights [y, y+h) touches a solid tile in column `col`."""
    for r in range(y >> TILE_SHIFT, ((y + h - 1) >> TILE_SHIFT) + 1):
        if _SOLID[tile_at(tiles, r, col)]:
            return True
    return False


@njit(cache=True, inline="always")
def _lands(tiles: np.ndarray, x: int, w: int, h: int, y_prev: int, y_new: int) -> bool:
    """Whether a body falling from y_prev to y_new meets a floor (a jump-through one only from above)."""
    row = (y_new + h - 1) >> TILE_SHIFT
    from_above = y_prev + h <= row * TILE
    for c in range(x >> TILE_SHIFT, ((x + w - 1) >> TILE_SHIFT) + 1):
        t = tile_at(tiles, row, c)
        if _SOLID[t] or (t == T.PLATFORM and from_above):
            return True
    return False


@njit(cache=True, inline="always")
def _move_player_x(tiles: np.ndarray, state: np.ndarray) -> None:
    vx = state[S_VX]
    if vx == 0:
        return
    x = state[S_X] + vx
    col = (x + PLAYER_W - 1) >> TILE_SHIFT if vx > 0 else x >> TILE_SHIFT
    if _wall_in_column(tiles, col, state[S_Y], PLAYER_H):
        x = col * TILE - PLAYER_W if vx > 0 else (col + 1) * TILE
        state[S_VX] = 0
    state[S_X] = x


@njit(cache=True, inline="always")
def _move_player_y(tiles: np.ndarray, state: np.ndarray) -> None:
    vy = state[S_VY]
    x = state[S_X]
    y_prev = state[S_Y]
    y = y_prev + vy
    c0 = x >> TILE_SHIFT
    c1 = (x + PLAYER_W - 1) >> TILE_SHIFT
    state[S_GROUND] = 0
    if vy > 0:
        if _lands(tiles, x, PLAYER_W, PLAYER_H, y_prev, y):
            y = ((y + PLAYER_H - 1) >> TILE_SHIFT) * TILE - PLAYER_H
            state[S_VY] = 0
            state[S_GROUND] = 1
            state[S_JUMPING] = 0
    elif vy < 0:
        row = y >> TILE_SHIFT
        below = y_prev >= (row + 1) * TILE
        # Bump the tile over the head's centre first, as in Super Mario Bros.
        cm = (x + PLAYER_W // 2) >> TILE_SHIFT
        hit_col = -1
        for k in range(3):
            c = cm if k == 0 else (c0 if k == 1 else c1)
            t = tile_at(tiles, row, c)
            if _SOLID[t] or (t == T.HIDDEN and below):
                hit_col = c
                break
        if hit_col != -1:
            y = (row + 1) * TILE
            state[S_VY] = 0
            state[S_JUMPING] = 0
            if row >= 0 and 0 <= hit_col < tiles.shape[1] and _COIN_BLOCK[tiles[row, hit_col]]:
                tiles[row, hit_col] = T.USED
                state[S_COINS] += 1
    state[S_Y] = y


@njit(cache=True, inline="always")
def _collect_coins(tiles: np.ndarray, state: np.ndarray) -> None:
    x = state[S_X]
    y = state[S_Y]
    r0 = max(y >> TILE_SHIFT, 0)
    r1 = min((y + PLAYER_H - 1) >> TILE_SHIFT, tiles.shape[0] - 1)
    c0 = max(x >> TILE_SHIFT, 0)
    c1 = min((x + PLAYER_W - 1) >> TILE_SHIFT, tiles.shape[1] - 1)
    for r in range(r0, r1 + 1):
        for c in range(c0, c1 + 1):
            if tiles[r, c] == T.COIN:
                tiles[r, c] = T.EMPTY
                state[S_COINS] += 1


@njit(cache=True, inline="always")
def _player_controls(state: np.ndarray, buttons: int) -> None:
    direction = 0
    if buttons & RIGHT:
        direction += 1
    if buttons & LEFT:
        direction -= 1
    run = (buttons & B) != 0
    vx = state[S_VX]
    speed = abs(vx)
    limit = RUN_MAX if run else WALK_MAX
    if state[S_GROUND]:
        if direction != 0:
            state[S_FACING] = direction
            if vx * direction < 0:
                vx += direction * SKID_DECEL
            elif speed < limit:
                vx += direction * (RUN_ACCEL if run else WALK_ACCEL)
                if abs(vx) > limit:
                    vx = direction * limit
            elif speed > limit:
                vx -= direction * OVERSPEED_DECEL
                if abs(vx) < limit:
                    vx = direction * limit
        elif vx > 0:
            vx = max(vx - FRICTION, 0)
        elif vx < 0:
            vx = min(vx + FRICTION, 0)
    elif direction != 0:
        if vx * direction < 0:
            vx += direction * AIR_TURN
        elif speed < limit:
            vx += direction * AIR_ACCEL
            if abs(vx) > limit:
                vx = direction * limit
    state[S_VX] = vx

    # Under `hold`, holding A jumps again on landing: no fresh press is needed (a network that sees
    # nothing change, stuck at a wall, cannot toggle a button; the `jump` sense's may-jump is the Mario AI
    # Framework's answer to that under `press`). Under `press`, a jump needs A released on the ground
    # since the last one, and letting A go while rising ends the lift.
    a = (buttons & A) != 0
    press = state[S_RULE] == PRESS
    if press and not a:
        state[S_JUMPING] = 0
    if a and state[S_GROUND] and (not press or state[S_MAY_JUMP]):
        state[S_VY] = -(RUN_JUMP_V if speed >= RUN_JUMP_SPEED else JUMP_V)
        state[S_GROUND] = 0
        state[S_JUMPING] = 1
        state[S_JUMPS] += 1
    vy = state[S_VY]
    vy += GRAVITY_HOLD if (vy < 0 and a and state[S_JUMPING]) else GRAVITY
    state[S_VY] = min(vy, MAX_FALL)


@njit(cache=True, inline="always")
def _move_enemy(tiles: np.ndarray, enemies: np.ndarray, i: int) -> None:
    vx = enemies[i, E_VX]
    winged = enemies[i, E_WINGED] != 0
    # Ledge-turners look at the floor just ahead of their leading foot before stepping.
    if enemies[i, E_KIND] == T.LEDGE_TURNER and enemies[i, E_GROUND] and not winged:
        probe = enemies[i, E_X] + ENEMY_W + vx - 1 if vx > 0 else enemies[i, E_X] + vx
        below = (enemies[i, E_Y] + ENEMY_H) >> TILE_SHIFT
        if not _FLOOR[tile_at(tiles, below, probe >> TILE_SHIFT)]:
            vx = -vx
    x = enemies[i, E_X] + vx
    y = enemies[i, E_Y]
    col = (x + ENEMY_W - 1) >> TILE_SHIFT if vx > 0 else x >> TILE_SHIFT
    if _wall_in_column(tiles, col, y, ENEMY_H):
        x = col * TILE - ENEMY_W if vx > 0 else (col + 1) * TILE
        vx = -vx
    enemies[i, E_X] = x
    enemies[i, E_VX] = vx

    vy = min(enemies[i, E_VY] + (WINGED_GRAVITY if winged else ENEMY_GRAVITY), MAX_FALL)
    y_new = y + vy
    c0 = x >> TILE_SHIFT
    c1 = (x + ENEMY_W - 1) >> TILE_SHIFT
    enemies[i, E_GROUND] = 0
    if vy > 0:
        if _lands(tiles, x, ENEMY_W, ENEMY_H, y, y_new):
            y_new = ((y_new + ENEMY_H - 1) >> TILE_SHIFT) * TILE - ENEMY_H
            vy = -HOP_V if winged else 0
            enemies[i, E_GROUND] = 1
    elif vy < 0:
        row = y_new >> TILE_SHIFT
        for c in range(c0, c1 + 1):
            if _SOLID[tile_at(tiles, row, c)]:
                y_new = (row + 1) * TILE
                vy = 0
                break
    enemies[i, E_Y] = y_new
    enemies[i, E_VY] = vy
    if y_new >= tiles.shape[0] * TILE:
        enemies[i, E_STATE] = GONE


@njit(cache=True, inline="always")
def _update_enemies(tiles: np.ndarray, state: np.ndarray, enemies: np.ndarray) -> None:
    px = state[S_X]
    for i in range(enemies.shape[0]):
        s = enemies[i, E_STATE]
        if s == DORMANT:
            if abs(enemies[i, E_X] - px) > ACTIVATE_DIST:
                continue
            enemies[i, E_STATE] = ACTIVE
            enemies[i, E_VX] = -ENEMY_SPEED
            s = ACTIVE
        if s == ACTIVE:
            _move_enemy(tiles, enemies, i)
        elif s == SQUASHED:
            enemies[i, E_TIMER] -= 1
            if enemies[i, E_TIMER] <= 0:
                enemies[i, E_STATE] = GONE


@njit(cache=True, inline="always")
def _touch_enemies(state: np.ndarray, enemies: np.ndarray) -> None:
    px0 = state[S_X]
    px1 = px0 + PLAYER_W
    py0 = state[S_Y]
    py1 = py0 + PLAYER_H
    vy = state[S_VY]
    stomped = False
    for i in range(enemies.shape[0]):
        if enemies[i, E_STATE] != ACTIVE:
            continue
        # The harmful box is a little smaller than the enemy's body, as in the original games.
        ex0 = enemies[i, E_X] + SUB
        ex1 = enemies[i, E_X] + ENEMY_W - SUB
        ey0 = enemies[i, E_Y] + 2 * SUB
        ey1 = enemies[i, E_Y] + ENEMY_H
        if px1 <= ex0 or px0 >= ex1 or py1 <= ey0 or py0 >= ey1:
            continue
        # A stomp: falling, with the feet in the enemy's top half.
        if stomped or (vy > 0 and py1 <= ey0 + ENEMY_H // 2):
            if enemies[i, E_KIND] == T.SPIKY:
                state[S_STATUS] = DEAD
                state[S_CAUSE] = CAUSE_SPIKY
                return
            if not stomped:
                state[S_VY] = -STOMP_BOUNCE
                state[S_JUMPING] = 1
                state[S_GROUND] = 0
                stomped = True
            if enemies[i, E_WINGED]:
                enemies[i, E_WINGED] = 0
                enemies[i, E_VY] = 0
            else:
                enemies[i, E_STATE] = SQUASHED
                enemies[i, E_TIMER] = SQUASH_FRAMES
                state[S_KILLS] += 1
        else:
            state[S_STATUS] = DEAD
            state[S_CAUSE] = CAUSE_ENEMY
            return


@njit(cache=True)
def step(tiles: np.ndarray, state: np.ndarray, enemies: np.ndarray, buttons: int) -> int:
    """Advance the world one frame with `buttons` held; return the status (RUNNING, DEAD, FINISHED)."""
    if state[S_STATUS] != RUNNING:
        return state[S_STATUS]
    state[S_BUTTONS] = buttons
    _player_controls(state, buttons)
    _move_player_x(tiles, state)
    _move_player_y(tiles, state)
    _collect_coins(tiles, state)
    _update_enemies(tiles, state, enemies)
    _touch_enemies(state, enemies)
    state[S_MAY_JUMP] = 1 if state[S_GROUND] and not (buttons & A) else 0
    frames = state[S_FRAMES] + 1
    state[S_FRAMES] = frames
    if state[S_X] > state[S_RIGHTMOST]:
        state[S_RIGHTMOST] = state[S_X]
        state[S_LAST_PROGRESS] = frames
    if state[S_STATUS] == RUNNING:
        if state[S_Y] >= tiles.shape[0] * TILE:
            state[S_STATUS] = DEAD
            state[S_CAUSE] = CAUSE_PIT
        elif state[S_X] + PLAYER_W // 2 >= state[S_EXIT_X]:
            state[S_STATUS] = FINISHED
    return state[S_STATUS]


@njit(cache=True)
def advance(
    tiles: np.ndarray,
    state: np.ndarray,
    enemies: np.ndarray,
    buttons: int,
    n_frames: int,
    max_frames: int,
    stall_frames: int,
) -> int:
    """Hold `buttons` for up to `n_frames` frames, stopping when the episode ends.

    Besides death and finishing, the episode ends STALLED when the player has not
    gone further right for `stall_frames` frames, and TIMEOUT after `max_frames`
    (either limit is off when <= 0). Returns the status.
    """
    status = state[S_STATUS]
    for _ in range(n_frames):
        if status != RUNNING:
            break
        status = step(tiles, state, enemies, buttons)
        if status == RUNNING:
            frames = state[S_FRAMES]
            if stall_frames > 0 and frames - state[S_LAST_PROGRESS] >= stall_frames:
                status = STALLED
            elif max_frames > 0 and frames >= max_frames:
                status = TIMEOUT
            state[S_STATUS] = status
    return status
