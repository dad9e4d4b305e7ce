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
- `rules`: the hand-written reactive controller of `_rules` (its docstring says what it does).

`play_controller_ids` plays controllers on packed levels in one `@njit(parallel=True)` call, as
`play_networks` plays networks; `play_controllers` is the same from Python, with level
objects and `EpisodeSettings`. The planner baseline (the solver) is not a kernel here: see
`tilerunner.evolve.runs.evaluation.baseline_results`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit, prange

from tilerunner.envs import physics as P
from tilerunner.envs.level import Level
from tilerunner.envs.observe import ENEMY_GRID, ENEMY_KINDS, JUMP, POSITION, PROBES, SPEED, observe_inputs
from tilerunner.evolve.core.outcome import FIELDS, Outcome
from tilerunner.evolve.core.rollout import KernelSettings, LevelPack, pack_levels, reset_level, score_episode

# The built-in controllers, by name; a controller's id is its index.
CONTROLLERS = ("hold-right", "rules")
HOLD_RIGHT, RULES = 0, 1

# What the controllers see: every sense but the MarI/O grid's mixed enemies (enemies get a grid of
# their own, with kinds), at this view radius, whatever a genome's settings say.
RADIUS = 6
_SIZE = 2 * RADIUS + 1
_CELLS = _SIZE * _SIZE
SENSES = SPEED | ENEMY_KINDS | JUMP | ENEMY_GRID | POSITION | PROBES
N_SENSES = 2 * _CELLS + 3 + 3 + 2 + 7
# Where each input is in the vector `observe_inputs` fills (see `tilerunner.envs.observe`).
_TILES = 0
_SPEED = _CELLS  # vx, vy, on ground
_JUMP = _SPEED + 3  # on ground, may jump, can jump higher
_ENEMIES = _JUMP + 3
_POSITION = _ENEMIES + _CELLS  # x, y within the tile
_PROBES = _POSITION + 2  # gap distance, gap width, wall distance, wall height, enemy dx, dy, kind


def controller_id(name: str) -> int:
    """A controller's id for its name; `ValueError` in one line naming the controllers for anything else."""
    if name not in CONTROLLERS:
        raise ValueError(f"unknown controller {name!r:.40}; the controllers are {', '.join(CONTROLLERS)}")
    return CONTROLLERS.index(name)


@njit(cache=True, inline="always")
def _tile(senses: np.ndarray, dx: int, dy: int) -> float:
    """The tile grid's cell `dx` tiles right and `dy` tiles down of the player's centre (0 outside the view)."""
    if abs(dx) > RADIUS or abs(dy) > RADIUS:
        return 0.0
    return senses[_TILES + (dy + RADIUS) * _SIZE + dx + RADIUS]


@njit(cache=True, inline="always")
def _enemy(senses: np.ndarray, dx: int, dy: int) -> float:
    """The enemy grid's cell: -0.5 a stompable enemy, -1 a spiky one, 0 none (or outside the view)."""
    if abs(dx) > RADIUS or abs(dy) > RADIUS:
        return 0.0
    return senses[_ENEMIES + (dy + RADIUS) * _SIZE + dx + RADIUS]


@njit(cache=True)
def _hold_right(senses: np.ndarray) -> int:
    """Right + B, and A when a jump may start or in the air (see the module docstring)."""
    buttons = P.RIGHT | P.B
    if senses[_JUMP + 1] > 0.0 or senses[_JUMP] == 0.0:
        buttons |= P.A
    return buttons


# What `_simulate` says a plan comes to.
_LANDS, _DIES, _AWAY, _STOMPS = 0, 1, 2, 3
_SIM_FRAMES = 120  # the longest plan foreseen, in frames (a full running jump lasts about 80)
_TRACK_FRAMES = 2 * _SIM_FRAMES + 64  # how far ahead enemies are foreseen (a plan and the one after it)
_MAX_TRACKS = 24  # enemies foreseen (one in the air is foreseen twice: going up, and coming down)
_GUESS = P.TILE // 2  # how far off across an enemy's place in the grid may be (the grid rounds to tiles)
_RUN_UP = 4  # tiles of run-up taken before a jump that needs speed
_DEATH = 1 << 40  # what a plan that dies scores below where it ends
_AWAY_DROP = 2 * P.TILE  # leaving the view lower than this below the start is taken for a fall


@njit(cache=True, inline="always")
def _floor_cell(senses: np.ndarray, col: int, row: int) -> bool:
    return _tile(senses, col, row) > 0.0


@njit(cache=True, inline="always")
def _wall_cell(senses: np.ndarray, col: int, row: int) -> bool:
    """Whether the tile is taken for a wall: a floor tile with another above or below it.

    The grid does not tell solid tiles from jump-through platforms (one tile thick, and passable
    from the side), so single floor tiles count as platforms.
    """
    return _floor_cell(senses, col, row) and (_floor_cell(senses, col, row - 1) or _floor_cell(senses, col, row + 1))


@njit(cache=True)
def _track(senses: np.ndarray, x: int, y: int, vy: int, gravity: int, hop: int, tracks: np.ndarray, k: int) -> None:
    """Foresee an enemy from top-left (x, y) falling at `vy`: `tracks[k, t]` is where it is after t frames.

    It walks left, turns at walls, falls with `gravity` and lands on floors, hopping off again at
    `hop` if winged (0: a walker), as the physics moves enemies, over the tiles in view.
    """
    vx = -P.ENEMY_SPEED
    tracks[k, 0, 0] = x
    tracks[k, 0, 1] = y
    for t in range(1, _TRACK_FRAMES):
        nx = x + vx
        col = (nx + P.ENEMY_W - 1) >> P.TILE_SHIFT if vx > 0 else nx >> P.TILE_SHIFT
        for r in range(y >> P.TILE_SHIFT, ((y + P.ENEMY_H - 1) >> P.TILE_SHIFT) + 1):
            if _wall_cell(senses, col, r):
                nx = col * P.TILE - P.ENEMY_W if vx > 0 else (col + 1) * P.TILE
                vx = -vx
                break
        x = nx
        vy = min(vy + gravity, P.MAX_FALL)
        ny = y + vy
        if vy > 0:
            row = (ny + P.ENEMY_H - 1) >> P.TILE_SHIFT
            if y + P.ENEMY_H <= row * P.TILE:
                for c in range(x >> P.TILE_SHIFT, ((x + P.ENEMY_W - 1) >> P.TILE_SHIFT) + 1):
                    if _floor_cell(senses, c, row):
                        ny = row * P.TILE - P.ENEMY_H
                        vy = -hop
                        break
        y = ny
        tracks[k, t, 0] = x
        tracks[k, t, 1] = y


@njit(cache=True)
def _foresee_enemies(senses: np.ndarray, cx: int, cy: int, tracks: np.ndarray, kinds: np.ndarray) -> int:
    """Fill `tracks` with where each enemy in view will be (see `_track`); `kinds[k]` is [spiky, margin]. Returns
    how many tracks there are.

    The enemy grid gives an enemy's centre to the nearest tile from the player's centre, the probes
    the nearest one ahead exactly. One seen on a floor walks; one in the air is either a winged
    hopper, going up or coming down (two tracks, both feared), or a walker falling.
    """
    n = 0
    exact = senses[_PROBES + 6] != 0.0
    ex_exact = cx + int(round(senses[_PROBES + 4] * RADIUS * P.TILE)) - P.ENEMY_W // 2
    ey_exact = cy + int(round(senses[_PROBES + 5] * RADIUS * P.TILE)) - P.ENEMY_H // 2
    for i in range(-RADIUS, RADIUS + 1):
        for j in range(-RADIUS, RADIUS + 1):
            e = _enemy(senses, j, i)
            if e == 0.0 or n + 2 > _MAX_TRACKS:
                continue
            ex = cx + j * P.TILE - P.ENEMY_W // 2
            ey = cy + i * P.TILE - P.ENEMY_H // 2
            margin = _GUESS
            if exact and abs(ex - ex_exact) <= P.TILE // 2 and abs(ey - ey_exact) <= P.TILE // 2:
                ex, ey, margin = ex_exact, ey_exact, 0
                exact = False
            col = (ex + P.ENEMY_W // 2) >> P.TILE_SHIFT
            # On a floor (within the grid's rounding)? Then it walks from there.
            feet = ey + P.ENEMY_H
            row = (feet + margin) >> P.TILE_SHIFT
            if margin > 0 and _floor_cell(senses, col, row) and row * P.TILE - feet >= -margin:
                ey = row * P.TILE - P.ENEMY_H
                feet = ey + P.ENEMY_H
            row = (feet + P.TILE - 1) >> P.TILE_SHIFT
            standing = feet == row * P.TILE and _floor_cell(senses, col, row)
            spiky = 1 if e == -1.0 else 0
            if standing:
                _track(senses, ex, ey, 0, P.ENEMY_GRAVITY, 0, tracks, n)
                kinds[n, 0] = spiky
                kinds[n, 1] = margin
                n += 1
                continue
            height = -1
            for r in range(row, RADIUS + 1):
                if _floor_cell(senses, col, r):
                    height = r * P.TILE - feet
                    break
            energy = P.HOP_V * P.HOP_V - 2 * P.WINGED_GRAVITY * height
            if height >= 0 and energy > 0:
                v = int(np.sqrt(energy))
                for sign in (-1, 1):
                    _track(senses, ex, ey, sign * v, P.WINGED_GRAVITY, P.HOP_V, tracks, n)
                    kinds[n, 0] = spiky
                    kinds[n, 1] = margin
                    n += 1
            else:
                _track(senses, ex, ey, 0, P.ENEMY_GRAVITY, 0, tracks, n)
                kinds[n, 0] = spiky
                kinds[n, 1] = margin
                n += 1
    return n


@njit(cache=True)
def _simulate(
    senses: np.ndarray,
    tracks: np.ndarray,
    kinds: np.ndarray,
    n_tracks: int,
    wall_col: int,
    wall_top: int,
    wall_bottom: int,
    x: int,
    y: int,
    vx: int,
    vy: int,
    ground: bool,
    lift: bool,
    a_frames: int,
    direction: int,
    walk_frames: int,
    frame_skip: int,
    t0: int,
) -> tuple[int, int, int, int, int]:
    """Where a plan takes the player over the tiles in view: (`_LANDS`, `_DIES`, `_AWAY` or `_STOMPS`, x, y, vx,
    frames).

    Positions are sub-pixels from the top-left of the tile holding the player's centre; the plan
    is `direction` held with B, A held for the first `a_frames` frames (a jump starts at once if on
    the ground), starting `t0` frames from now. It lands when standing as a decision comes, after a
    fall or `walk_frames` frames on; it dies touching an enemy other than by stomping it, or falling
    out of view; it is away when it leaves the view on the right. Walls are the one the probes see
    ahead (`wall_col`, rows `wall_top` to `wall_bottom`) and `_wall_cell`s; every floor tile is a
    ceiling (the grid cannot tell a jump-through platform from a brick; bumping is the safer guess).
    """
    airborne = not ground
    for f in range(_SIM_FRAMES):
        a = f < a_frames
        speed = abs(vx)
        if ground:
            if direction != 0:
                if vx * direction < 0:
                    vx += direction * P.SKID_DECEL
                elif speed < P.RUN_MAX:
                    vx = (
                        min(vx + direction * P.RUN_ACCEL, P.RUN_MAX)
                        if direction > 0
                        else max(vx + direction * P.RUN_ACCEL, -P.RUN_MAX)
                    )
            elif vx > 0:
                vx = max(vx - P.FRICTION, 0)
            elif vx < 0:
                vx = min(vx + P.FRICTION, 0)
        elif direction != 0:
            if vx * direction < 0:
                vx += direction * P.AIR_TURN
            elif speed < P.RUN_MAX:
                vx = (
                    min(vx + direction * P.AIR_ACCEL, P.RUN_MAX)
                    if direction > 0
                    else max(vx + direction * P.AIR_ACCEL, -P.RUN_MAX)
                )
        if not a:
            lift = False
        if a and ground:
            vy = -(P.RUN_JUMP_V if speed >= P.RUN_JUMP_SPEED else P.JUMP_V)
            ground = False
            lift = True
        vy = min(vy + (P.GRAVITY_HOLD if (vy < 0 and a and lift) else P.GRAVITY), P.MAX_FALL)
        # Across: the probed wall, and floor tiles stacked two high, stop the player.
        nx = x + vx
        if vx != 0:
            col = (nx + P.PLAYER_W - 1) >> P.TILE_SHIFT if vx > 0 else nx >> P.TILE_SHIFT
            for r in range(y >> P.TILE_SHIFT, ((y + P.PLAYER_H - 1) >> P.TILE_SHIFT) + 1):
                if (col == wall_col and wall_top <= r <= wall_bottom) or _wall_cell(senses, col, r):
                    nx = col * P.TILE - P.PLAYER_W if vx > 0 else (col + 1) * P.TILE
                    vx = 0
                    break
        x = nx
        # Down: land on any floor met from above.
        ny = y + vy
        ground = False
        if vy > 0:
            row = (ny + P.PLAYER_H - 1) >> P.TILE_SHIFT
            if y + P.PLAYER_H <= row * P.TILE:
                for c in range(x >> P.TILE_SHIFT, ((x + P.PLAYER_W - 1) >> P.TILE_SHIFT) + 1):
                    if _floor_cell(senses, c, row):
                        ground = True
                        break
            if ground:
                ny = row * P.TILE - P.PLAYER_H
                vy = 0
                lift = False
        elif vy < 0:
            row = ny >> P.TILE_SHIFT
            for c in range(x >> P.TILE_SHIFT, ((x + P.PLAYER_W - 1) >> P.TILE_SHIFT) + 1):
                if _floor_cell(senses, c, row):
                    ny = (row + 1) * P.TILE
                    vy = 0
                    lift = False
                    break
        y = ny
        if not ground:
            airborne = True
        # Enemies: a stomp (falling, feet in the enemy's top half) ends the plan well, a touch badly.
        t = min(t0 + f + 1, _TRACK_FRAMES - 1)
        stomped = False
        for k in range(n_tracks):
            ex = tracks[k, t, 0]
            ey = tracks[k, t, 1]
            m = kinds[k, 1]
            if x + P.PLAYER_W <= ex + P.SUB - m or x >= ex + P.ENEMY_W - P.SUB + m:
                continue
            if y + P.PLAYER_H <= ey + 2 * P.SUB or y >= ey + P.ENEMY_H:
                continue
            if vy > 0 and y + P.PLAYER_H <= ey + 2 * P.SUB + P.ENEMY_H // 2 and kinds[k, 0] == 0:
                stomped = True
                continue
            return _DIES, x, y, vx, f + 1
        if stomped:
            return _STOMPS, x, y, vx, f + 1
        if y > (RADIUS + 1) * P.TILE:  # below the view: taken for a pit
            return _DIES, x, y, vx, f + 1
        if x > (RADIUS + 1) * P.TILE:  # out of view: a guess, and a bad one if falling far below
            return (_AWAY if y <= _AWAY_DROP else _DIES), x, y, vx, f + 1
        # Safe once standing when the next decision comes (after a fall, or `walk_frames` on).
        if ground and (f + 1) % frame_skip == 0 and (airborne or f + 1 >= walk_frames):
            return _LANDS, x, y, vx, f + 1
    return _AWAY, x, y, vx, _SIM_FRAMES


@njit(cache=True)
def _plan(
    senses: np.ndarray,
    tracks: np.ndarray,
    kinds: np.ndarray,
    n_tracks: int,
    wall_col: int,
    wall_top: int,
    wall_bottom: int,
    x: int,
    y: int,
    vx: int,
    vy: int,
    ground: bool,
    lift: bool,
    a_frames: int,
    direction: int,
    walk_frames: int,
    frame_skip: int,
) -> int:
    """A plan's score: how far right it takes the player, very low if it dies (see `_simulate`).

    A landing counts only if the player can go on from there, running or jumping, without dying
    (else it is a trap); leaving the view on the right counts two tiles less than landing there.
    """
    kind, x1, y1, vx1, t = _simulate(
        senses,
        tracks,
        kinds,
        n_tracks,
        wall_col,
        wall_top,
        wall_bottom,
        x,
        y,
        vx,
        vy,
        ground,
        lift,
        a_frames,
        direction,
        walk_frames,
        frame_skip,
        0,
    )
    if kind == _LANDS:
        kind = _DIES
        for option in range(2):
            k2, _, _, _, _ = _simulate(
                senses,
                tracks,
                kinds,
                n_tracks,
                wall_col,
                wall_top,
                wall_bottom,
                x1,
                y1,
                vx1,
                0,
                True,
                False,
                0 if option == 0 else _SIM_FRAMES,
                1,
                frame_skip,
                frame_skip,
                t,
            )
            if k2 != _DIES:
                kind = _LANDS
                break
    if kind == _LANDS or kind == _STOMPS:
        return x1
    if kind == _AWAY:
        return x1 - 2 * P.TILE
    return x1 - _DEATH


@njit(cache=True)
def _rules(senses: np.ndarray, frame_skip: int, tracks: np.ndarray, kinds: np.ndarray) -> int:
    """Run right with B, and at each decision foresee where the few things worth doing now would take
    the player, over the tiles and enemies in view, and do the safest that goes furthest right.

    Reactive: it decides on what it senses now (the tile and enemy grids, speed, jump state, place
    in the tile, probes), with no memory; it foresees with the physics' own rules of motion
    (`_simulate`: walls as the probes and the grid show them, every floor tile overhead a ceiling)
    and each enemy walking left, turning at walls, falling, and, if in the air, hopping up or down
    (`_foresee_enemies`). A plan is safe if it lands or stomps without touching an enemy or falling
    out of view, and the player can go on from where it lands, running or jumping (`_plan`).

    On the ground: run while one more decision of running is safe and no wall is in the next
    column; else jump (A held, to be let go of in the air); if no jump is safe, back off for a
    run-up (moving right, or closer than `_RUN_UP` tiles to the gap or wall), else wait, else jump
    anyway. In the air: keep A held (while it still lifts: foreseen let go of at the next decision, or
    held to the top, whichever goes further), let go, let go and stop steering, or let go and steer
    back, whichever scores best. A is never held falling, nor on the ground when
    a jump cannot start (may-jump 0), so that under `press` the next decision can always jump.
    """
    ground = senses[_JUMP] > 0.0
    may_jump = senses[_JUMP + 1] > 0.0
    lift = senses[_JUMP + 2] > 0.0
    vx = int(round(senses[_SPEED] * P.RUN_MAX))
    vy = int(round(senses[_SPEED + 1] * P.MAX_FALL))
    cx = int(round(senses[_POSITION] * P.TILE))
    cy = int(round(senses[_POSITION + 1] * P.TILE))
    x = cx - P.PLAYER_W // 2
    y = cy - P.PLAYER_H // 2
    # The probed wall ahead (in tile columns and rows relative to the centre's tile).
    wall_col = 99
    wall_top = 0
    wall_bottom = 0
    if senses[_PROBES + 2] < 1.0:
        wall_col = int(round(senses[_PROBES + 2] * RADIUS))
        wall_bottom = ((y + P.PLAYER_H) >> P.TILE_SHIFT) - 1
        wall_top = wall_bottom - int(round(senses[_PROBES + 3] * RADIUS)) + 1
    n = _foresee_enemies(senses, cx, cy, tracks, kinds)
    run = P.RIGHT | P.B
    if ground:
        if (
            _plan(
                senses,
                tracks,
                kinds,
                n,
                wall_col,
                wall_top,
                wall_bottom,
                x,
                y,
                vx,
                vy,
                True,
                False,
                0,
                1,
                frame_skip,
                frame_skip,
            )
            > -_DEATH // 2
            and wall_col > 1
        ):
            return run
        if not may_jump:
            return run  # let go of A, so that the next decision can jump
        if (
            _plan(
                senses,
                tracks,
                kinds,
                n,
                wall_col,
                wall_top,
                wall_bottom,
                x,
                y,
                vx,
                vy,
                True,
                False,
                _SIM_FRAMES,
                1,
                0,
                frame_skip,
            )
            > -_DEATH // 2
        ):
            return run | P.A
        # No safe jump from here: back off for a run-up (or to let an enemy come), else wait.
        ahead = min(senses[_PROBES], senses[_PROBES + 2]) * RADIUS
        back = (
            _plan(
                senses,
                tracks,
                kinds,
                n,
                wall_col,
                wall_top,
                wall_bottom,
                x,
                y,
                vx,
                vy,
                True,
                False,
                0,
                -1,
                frame_skip,
                frame_skip,
            )
            > -_DEATH // 2
        )
        if back and (vx > 0 or ahead < _RUN_UP):
            return P.LEFT | P.B
        if (
            _plan(
                senses,
                tracks,
                kinds,
                n,
                wall_col,
                wall_top,
                wall_bottom,
                x,
                y,
                vx,
                vy,
                True,
                False,
                0,
                0,
                frame_skip,
                frame_skip,
            )
            > -_DEATH // 2
        ):
            return P.B
        if back:
            return P.LEFT | P.B
        return run | P.A
    # In the air: keep A (while it still lifts; to be let go of at the next decision, or held to the top), let
    # go, let go and stop steering, or steer back.
    best_buttons = run
    best_score = -(1 << 62)
    for option in range(4):
        if option == 0 and not (lift and vy < 0):
            continue
        direction = 1 if option <= 1 else (0 if option == 2 else -1)
        score = _plan(
            senses,
            tracks,
            kinds,
            n,
            wall_col,
            wall_top,
            wall_bottom,
            x,
            y,
            vx,
            vy,
            False,
            lift,
            frame_skip if option == 0 else 0,
            direction,
            0,
            frame_skip,
        )
        if option == 0:
            score = max(
                score,
                _plan(
                    senses,
                    tracks,
                    kinds,
                    n,
                    wall_col,
                    wall_top,
                    wall_bottom,
                    x,
                    y,
                    vx,
                    vy,
                    False,
                    lift,
                    _SIM_FRAMES,
                    direction,
                    0,
                    frame_skip,
                ),
            )
        if score > best_score:
            best_score = score
            best_buttons = (
                (P.RIGHT if direction > 0 else (P.LEFT if direction < 0 else 0)) | P.B | (P.A if option == 0 else 0)
            )
    return best_buttons


@njit(cache=True)
def _decide(controller: int, senses: np.ndarray, frame_skip: int, tracks: np.ndarray, kinds: np.ndarray) -> int:
    """The buttons `controller` presses on what it senses (`tracks` and `kinds` are scratch for `_rules`)."""
    if controller == HOLD_RIGHT:
        return _hold_right(senses)
    return _rules(senses, frame_skip, tracks, kinds)


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
    tracks = np.empty((_MAX_TRACKS, _TRACK_FRAMES, 2), np.int64)
    kinds = np.empty((_MAX_TRACKS, 2), np.int64)
    decisions = 0
    status = P.RUNNING
    while status == P.RUNNING:
        observe_inputs(tiles, state, enemies, RADIUS, SENSES, senses)
        buttons = _decide(controller, senses, s.frame_skip, tracks, kinds)
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
