"""Find a button sequence that finishes a level, by beam search over the real physics.

This is how the project proves levels finishable: built-in levels ship with a
button sequence found here (`envs/levels/<id>.buttons`) that a test replays to the
exit, and generated levels are solved in tests over many seeds. Users get it as
`tilerunner levels solve` and `levels check --solve`, and `tilerunner eval --solve`
counts the levels it can finish.

Each step of a beam holds every surviving world for `hold` frames under each of a
small set of button combinations, throws away deaths, keeps one world per coarse
(position, velocity) cell, and carries the `width` best forward, ranked by how far
right they are plus how fast they are going right. A beam that fails proves nothing,
so `search` retries a failed beam with others (`ATTEMPTS`: beams that keep a few worlds
of every tile first, so that climbs, detours and waits are not crowded out by worlds
rushing into a pit; beams that keep half their room for worlds on the ground, one per
tile and speed, so that a run-up survives; finer holds for precise jumps; wider beams),
until one finishes or a budget of simulated worlds is spent. Only one thing counts as
proof that a level cannot be finished: walls and one-way tiles that shut the start off
from the exit (`walled_in`).

Everything is counted in depths and worlds, never in seconds, so the same level always
gets the same answer. The search runs in Numba a few depths per call: Python gets
control back about every `CALL_SECONDS`, so Ctrl-C (or a `stop` event, for searches on
threads) stops even the search of a huge level at once, and where the calls split never
changes the result. The kernel lets go of the GIL, so searches on threads run in parallel.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np
from numba import njit

from tilerunner.envs import physics as P
from tilerunner.envs import tiles as T
from tilerunner.envs.level import Level

# Button combinations the search tries; enough to walk, run, jump, back up and wait. (Up and
# Down do nothing in this engine, and A or B without a direction do what A or nothing do.)
SEARCH_ACTIONS = np.array(
    [
        P.RIGHT,
        P.RIGHT | P.B,
        P.RIGHT | P.A,
        P.RIGHT | P.A | P.B,
        P.A,
        0,
        P.LEFT,
        P.LEFT | P.B,
        P.LEFT | P.A,
        P.LEFT | P.A | P.B,
    ],
    dtype=np.int64,
)

_LOOKAHEAD = 24  # frames of current speed counted as progress when ranking worlds
CALL_SECONDS = 0.05  # the search returns to Python about this often, so that Ctrl-C is felt at once

# A beam whose furthest world has not got further right for this many frames is stuck; it stops.
STALL_FRAMES = 1200
# Worlds (each simulated for `hold` frames) one `search` may spend over all its beams, per 96 of
# beam width; the first beam alone never reaches it at the default frame limit.
BUDGET = 6_000_000


@dataclass(frozen=True)
class Beam:
    """One way to run the beam: its width and hold relative to the search's, and how it spreads out.

    Ranked by progress alone, a beam fills up with worlds rushing into a pit and loses the few
    that back up for a run-up, wait for an enemy or climb round another way. With `cap` > 0 a
    first pass keeps the best `cap` worlds of each tile (with `on_ground`: of each tile and
    speed, among worlds standing on something, in up to half the beam), and ranking fills the rest.
    """

    width_factor: int = 1
    hold_divisor: int = 1
    cap: int = 0
    on_ground: bool = False


# The beams `search` tries, in order, until one finishes. The first is the plain beam that found
# the built-in levels' `.buttons`; each of the others finished levels of the public levels'
# training set, or pits that need a run-up, that the ones before it missed.
ATTEMPTS = (
    Beam(),
    Beam(cap=2),
    Beam(cap=1, on_ground=True),
    Beam(hold_divisor=2),
    Beam(width_factor=2, cap=2),
    Beam(width_factor=2, cap=1, on_ground=True),
)

# What a call of the kernel ended on.
_RUNNING, _FINISHED, _DIED, _STALLED, _SPENT = 0, 1, 2, 3, 4
# The kernel's counters: furthest x of any kept world, the depth it was reached, worlds simulated.
_C_BEST, _C_BEST_DEPTH, _C_WORLDS = 0, 1, 2
_SPEEDS = 11  # speed classes of a spread-out beam's buckets: vx in steps of 128 sub-pixels a frame


@njit(cache=True, inline="always")
def _cell_key(state: np.ndarray) -> int:
    # Worlds in the same 4 px cell, moving at about the same speed, are the same for planning.
    k = (state[P.S_X] >> 10) * 1_000_003 + (state[P.S_Y] >> 10)
    k = k * 131 + (state[P.S_VX] >> 6)
    k = k * 131 + (state[P.S_VY] >> 7)
    k = k * 2 + state[P.S_GROUND]
    if state[P.S_RULE] == P.PRESS:  # whether A can jump or lift next matters only under `press`
        k = k * 4 + state[P.S_MAY_JUMP] * 2 + state[P.S_JUMPING]
    return k


@njit(cache=True, inline="always")
def _free_slot(cand_s: np.ndarray, table: np.ndarray, idx: int) -> int:
    """The hash-table slot for world `idx`'s cell, or -1 if a kept world already holds that cell."""
    size = table.shape[0]
    key = _cell_key(cand_s[idx])
    h = (key * 0x9E3779B97F4A7C15) & (size - 1)
    while table[h] != -1:
        if _cell_key(cand_s[table[h]]) == key:
            return -1
        h = (h + 1) & (size - 1)
    return h


@njit(cache=True, inline="always")
def _bucket(state: np.ndarray, rows: int, cols: int, by_speed: bool) -> int:
    """The tile the player's centre is in (rows above and below the level clamped), with its speed class."""
    c = min(max((state[P.S_X] + P.PLAYER_W // 2) >> P.TILE_SHIFT, 0), cols - 1)
    r = min(max((state[P.S_Y] + P.PLAYER_H // 2) >> P.TILE_SHIFT, -1), rows) + 1
    speed = min(max((state[P.S_VX] >> 7) + _SPEEDS // 2, 0), _SPEEDS - 1) if by_speed else 0
    return (r * cols + c) * _SPEEDS + speed


@njit(cache=True, nogil=True)
def _search_depths(
    actions: np.ndarray,
    hold: int,
    width: int,
    cap: int,
    on_ground: bool,
    stall_depths: int,
    budget: int,
    beam_t: np.ndarray,
    beam_s: np.ndarray,
    beam_e: np.ndarray,
    cand_t: np.ndarray,
    cand_s: np.ndarray,
    cand_e: np.ndarray,
    score: np.ndarray,
    parent: np.ndarray,
    chosen: np.ndarray,
    table: np.ndarray,
    keep_src: np.ndarray,
    bucket_count: np.ndarray,
    counters: np.ndarray,
    n_beam: int,
    depth: int,
    end: int,
) -> tuple[int, int, int, int, int]:
    """Grow the beam from `depth` up to `end`: (what it ended on, beam size, depth, finishing entry, its action).

    The finishing entry and action are -1 unless a world finished at the depth reached. `cap` and
    `on_ground` spread the beam out (see `Beam`). The beam stops once its furthest
    world has not got further for `stall_depths` depths, or before a depth that would start with
    `budget` worlds simulated (either limit is off when 0). All search state lives in the
    arrays, so calls can be chained.
    """
    n_act = actions.shape[0]
    rows = beam_t.shape[1]
    cols = beam_t.shape[2]
    while depth < end:
        if budget > 0 and counters[_C_WORLDS] >= budget:
            return _SPENT, n_beam, depth, -1, -1
        n = 0
        for b in range(n_beam):
            for a in range(n_act):
                cand_t[n] = beam_t[b]
                cand_s[n] = beam_s[b]
                cand_e[n] = beam_e[b]
                status = P.advance(cand_t[n], cand_s[n], cand_e[n], actions[a], hold, 0, 0)
                if status == P.FINISHED:
                    counters[_C_WORLDS] += n + 1
                    return _FINISHED, n_beam, depth, b, a
                if status == P.DEAD:
                    score[n] = -np.inf
                else:
                    # Ties (common on long run-ups) go to worlds standing on the ground: free to jump.
                    score[n] = cand_s[n, P.S_X] + _LOOKAHEAD * cand_s[n, P.S_VX] + cand_s[n, P.S_GROUND]
                n += 1
        counters[_C_WORLDS] += n
        order = np.argsort(-score[:n])
        table[:] = -1
        kept = 0
        if cap > 0:  # spread out first: the best few worlds of each bucket
            bucket_count[:] = 0
            limit = width // 2 if on_ground else width
            for idx in order:
                if score[idx] == -np.inf or kept == limit:
                    break
                if on_ground and cand_s[idx, P.S_GROUND] == 0:
                    continue
                k = _bucket(cand_s[idx], rows, cols, on_ground)
                if bucket_count[k] >= cap:
                    continue
                h = _free_slot(cand_s, table, idx)
                if h == -1:
                    continue
                bucket_count[k] += 1
                table[h] = idx
                keep_src[kept] = idx
                kept += 1
        for idx in order:  # then the best of the rest, one world per cell
            if score[idx] == -np.inf or kept == width:
                break
            h = _free_slot(cand_s, table, idx)
            if h == -1:
                continue
            table[h] = idx
            keep_src[kept] = idx
            kept += 1
        if kept == 0:
            return _DIED, 0, depth, -1, -1
        best = counters[_C_BEST]
        for j in range(kept):
            idx = keep_src[j]
            beam_t[j] = cand_t[idx]
            beam_s[j] = cand_s[idx]
            beam_e[j] = cand_e[idx]
            parent[depth, j] = idx // n_act
            chosen[depth, j] = idx % n_act
            best = max(best, beam_s[j, P.S_X])
        n_beam = kept
        depth += 1
        if best > counters[_C_BEST]:
            counters[_C_BEST] = best
            counters[_C_BEST_DEPTH] = depth
        elif stall_depths > 0 and depth - counters[_C_BEST_DEPTH] >= stall_depths:
            return _STALLED, n_beam, depth, -1, -1
    return _RUNNING, n_beam, depth, -1, -1


class Stopped(Exception):
    """A search was stopped from outside (its `stop` event was set) before it ended."""


def beam_search(
    level_tiles: np.ndarray,
    level_enemies: np.ndarray,
    start_col: int,
    start_row: int,
    exit_col: int,
    actions: np.ndarray,
    hold: int,
    width: int,
    max_frames: int,
    depths_per_call: int | None = None,
    spread: Beam = ATTEMPTS[0],
    stall_frames: int = 0,
    budget: int = 0,
    stop: threading.Event | None = None,
    rule: int = P.HOLD,
) -> tuple[np.ndarray, int]:
    """One beam under jump rule `rule`: (action indices, one per `hold` frames, that finish the level, or an
    empty array; worlds simulated).

    `spread` says how the beam spreads out (its width and hold factors are not used here);
    `stall_frames` and `budget` (worlds) are off at 0, see `_search_depths`. The search runs in
    Numba a few depths per call and comes back to Python in between, about every `CALL_SECONDS`
    (or every `depths_per_call` depths), so that Ctrl-C stops it at once, and raises `Stopped`
    there once `stop` is set; where the calls split does not change the result.
    """
    n_act = actions.shape[0]
    n_cand = width * n_act
    rows, cols = level_tiles.shape
    n_en = level_enemies.shape[0]
    beam_t = np.empty((width, rows, cols), np.int8)
    beam_s = np.empty((width, P.STATE_SIZE), np.int64)
    beam_e = np.empty((width, n_en, P.ENEMY_FIELDS), np.int64)
    cand_t = np.empty((n_cand, rows, cols), np.int8)
    cand_s = np.empty((n_cand, P.STATE_SIZE), np.int64)
    cand_e = np.empty((n_cand, n_en, P.ENEMY_FIELDS), np.int64)
    score = np.empty(n_cand, np.float64)
    max_depth = max_frames // hold + 1
    parent = np.zeros((max_depth, width), np.int32)
    chosen = np.zeros((max_depth, width), np.int8)
    table_size = 1
    while table_size < 4 * n_cand:
        table_size *= 2
    table = np.empty(table_size, np.int64)
    keep_src = np.empty(width, np.int64)
    bucket_count = np.zeros((rows + 2) * cols * _SPEEDS if spread.cap > 0 else 0, np.int64)
    counters = np.zeros(3, np.int64)
    P.reset_world(level_tiles, level_enemies, start_col, start_row, exit_col, beam_t[0], beam_s[0], beam_e[0], rule)
    counters[_C_BEST] = beam_s[0, P.S_X]
    stall_depths = -(-stall_frames // hold) if stall_frames > 0 else 0

    n_beam, depth = 1, 0
    step = depths_per_call or 1
    while depth < max_depth:
        if stop is not None and stop.is_set():
            raise Stopped
        started = time.perf_counter()
        ended, n_beam, depth, b, a = _search_depths(
            actions,
            hold,
            width,
            spread.cap,
            spread.on_ground,
            stall_depths,
            budget,
            beam_t,
            beam_s,
            beam_e,
            cand_t,
            cand_s,
            cand_e,
            score,
            parent,
            chosen,
            table,
            keep_src,
            bucket_count,
            counters,
            n_beam,
            depth,
            min(max_depth, depth + step),
        )
        if ended == _FINISHED:
            path = np.empty(depth + 1, np.int64)
            path[depth] = a
            for d in range(depth - 1, -1, -1):
                path[d] = chosen[d, b]
                b = parent[d, b]
            return path, int(counters[_C_WORLDS])
        if ended != _RUNNING:
            break
        if depths_per_call is None:  # aim each call at CALL_SECONDS, whatever the level's size
            took = time.perf_counter() - started
            if took < CALL_SECONDS / 2:
                step *= 2
            elif took > CALL_SECONDS and step > 1:
                step //= 2
    return np.empty(0, np.int64), int(counters[_C_WORLDS])


def walled_in(level: Level) -> bool:
    """Whether walls and one-way platforms shut the start off from the exit: proof the level cannot be finished.

    The player's box never overlaps a solid tile and moves less than a tile a frame, so the tiles
    it overlaps always form a path of open tiles, stepping to a neighbour at a time; it cannot
    step down into a jump-through platform (it lands on it) nor up into a hidden block (it bumps
    it). Blocks only ever become more solid, the sky above the level is open, and finishing needs
    the box in the exit's column. So if no such path leads from the start to that column, nothing
    finishes the level.
    """
    rows, cols = level.tiles.shape
    kind = np.vstack([np.full((1, cols), T.EMPTY, level.tiles.dtype), level.tiles])  # row 0: the sky
    open_ = ~T.SOLID[kind]
    col, row = level.start
    seen = np.zeros(kind.shape, np.bool_)
    seen[row + 1, col] = True
    todo = deque([(row + 1, col)])
    while todo:
        r, c = todo.popleft()
        if c >= level.exit_col:
            return False
        for nr, nc in ((r, c + 1), (r, c - 1), (r - 1, c), (r + 1, c)):
            if not (0 <= nr <= rows and 0 <= nc < cols) or seen[nr, nc] or not open_[nr, nc]:
                continue
            if (nr > r and kind[nr, nc] == T.PLATFORM) or (nr < r and kind[nr, nc] == T.HIDDEN):
                continue
            seen[nr, nc] = True
            todo.append((nr, nc))
    return True


@dataclass(frozen=True)
class Solution:
    """A per-frame button sequence that finishes a level, and what it did there."""

    buttons: np.ndarray  # int64 button masks, one per frame
    frames: int
    coins: int
    kills: int


@dataclass(frozen=True)
class Search:
    """What one `search` found: a solution, a proof that there is none, or neither (the budget ran out)."""

    level_id: str
    solution: Solution | None
    walled_in: bool  # proved unfinishable: no open path leads from the start to the exit
    beams: int  # beams tried
    widest: int  # the widest beam tried
    worlds: int  # worlds simulated, `hold` frames each, over all beams

    @property
    def found(self) -> bool:
        return self.solution is not None

    def verdict(self) -> str:
        """One line: `finishable in N frames`, `NOT finishable: ...` (proved) or `no solution found (...)`."""
        if self.solution is not None:
            return f"finishable in {self.solution.frames} frames"
        if self.walled_in:
            return "NOT finishable: walled in (no open path leads from the start to the exit)"
        return (
            f"no solution found (searched {self.beams} beam{'s' if self.beams != 1 else ''} up to"
            f" {self.widest} wide, {self.worlds:,} worlds; that does not prove there is none)"
        )


def final_state(level: Level, buttons: np.ndarray, rule: int = P.HOLD) -> np.ndarray:
    """Play per-frame button masks from the start of `level` under jump rule `rule`; return the final state."""
    tiles, state, enemies = P.new_world(level, rule)
    for mask in buttons:
        if P.step(tiles, state, enemies, int(mask)) != P.RUNNING:
            break
    return state


def search(
    level: Level,
    width: int = 96,
    hold: int = 4,
    max_frames: int = 20_000,
    budget: int | None = None,
    stop: threading.Event | None = None,
    rule: int = P.HOLD,
) -> Search:
    """Search for buttons that finish `level` under jump rule `rule`, trying the beams of `ATTEMPTS` in turn.

    Deterministic: the same level and arguments give the same result, however fast the machine.
    `width` and `hold` are the first beam's; the others scale from them. `budget` counts worlds
    over all beams (default: `BUDGET` per 96 of width). Raises `Stopped` soon after `stop` is set
    (for searches run on threads; Ctrl-C stops a search on the main thread).
    """
    if budget is None:
        budget = BUDGET * max(1, -(-width // 96))
    if walled_in(level):
        return Search(level.id, None, True, 0, 0, 0)
    col, row = level.start
    worlds = beams = widest = 0
    for beam in ATTEMPTS:
        if worlds >= budget:
            break
        beam_width, beam_hold = width * beam.width_factor, max(1, hold // beam.hold_divisor)
        path, spent = beam_search(
            level.tiles,
            level.enemies,
            col,
            row,
            level.exit_col,
            SEARCH_ACTIONS,
            beam_hold,
            beam_width,
            max_frames,
            spread=beam,
            stall_frames=STALL_FRAMES,
            budget=budget - worlds,
            stop=stop,
            rule=rule,
        )
        worlds += spent
        beams += 1
        widest = max(widest, beam_width)
        if path.size:
            return Search(
                level.id,
                _solution(level, np.repeat(SEARCH_ACTIONS[path], beam_hold), rule),
                False,
                beams,
                widest,
                worlds,
            )
    return Search(level.id, None, False, beams, widest, worlds)


def _solution(level: Level, buttons: np.ndarray, rule: int = P.HOLD) -> Solution:
    state = final_state(level, buttons, rule)
    if state[P.S_STATUS] != P.FINISHED:  # cannot happen unless the physics is not deterministic
        raise AssertionError("solver's sequence did not finish the level when replayed")
    frames = int(state[P.S_FRAMES])
    return Solution(buttons[:frames], frames, int(state[P.S_COINS]), int(state[P.S_KILLS]))


def solve(
    level: Level, width: int = 96, hold: int = 4, max_frames: int = 20_000, rule: int = P.HOLD
) -> Solution | None:
    """Search for buttons that finish `level`; None if none was found (`search` says whether that is proof)."""
    return search(level, width, hold, max_frames, rule=rule).solution


_LETTERS = "LRUDAB"


def format_buttons(buttons: np.ndarray) -> str:
    """Run-length text for a button sequence: `RB*30 RAB*12 -*5`, one token per run."""
    tokens = []
    i = 0
    n = len(buttons)
    while i < n:
        j = i
        while j < n and buttons[j] == buttons[i]:
            j += 1
        mask = int(buttons[i])
        name = "".join(ch for k, ch in enumerate(_LETTERS) if mask >> k & 1) or "-"
        tokens.append(f"{name}*{j - i}")
        i = j
    lines = [" ".join(tokens[k : k + 12]) for k in range(0, len(tokens), 12)]
    return "\n".join(lines) + "\n"


def parse_buttons(text: str) -> np.ndarray:
    """Inverse of `format_buttons`; raises ValueError on a malformed token."""
    out: list[int] = []
    for token in text.split():
        name, sep, count = token.partition("*")
        if not sep or not count.isdigit() or not name or any(ch not in _LETTERS + "-" for ch in name):
            raise ValueError(f"bad button token {token!r}: expected e.g. RB*30")
        mask = 0
        for ch in name:
            if ch != "-":
                mask |= 1 << _LETTERS.index(ch)
        out.extend([mask] * int(count))
    return np.array(out, dtype=np.int64)
