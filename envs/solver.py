"""Find a button sequence that finishes a level, by beam search over the real physics.

This is how the project proves levels finishable: built-in levels ship with a
button sequence found here (`envs/levels/<id>.buttons`) that a test replays to the
exit, and generated levels are solved in tests over many seeds. Users get it as
`tilerunner levels solve`, to check a level they wrote.

The search runs in Numba, a few depths per call: Python gets control back about
every `CALL_SECONDS`, so Ctrl-C stops even the search of a huge level at once, and
where the calls split never changes the result. Each step of the beam holds every
surviving world for `hold` frames under each of a small set of button combinations,
throws away deaths, keeps one world per coarse (position, velocity) cell, and
carries the `width` best forward, ranked by how far right they are plus how fast
they are going right.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numba import njit

from tilerunner.envs import physics as P
from tilerunner.envs.level import Level

# Button combinations the search tries; enough to walk, run, jump, back up and wait.
SEARCH_ACTIONS = np.array([
    P.RIGHT, P.RIGHT | P.B, P.RIGHT | P.A, P.RIGHT | P.A | P.B, P.A, 0,
    P.LEFT, P.LEFT | P.B, P.LEFT | P.A, P.LEFT | P.A | P.B,
], dtype=np.int64)

_LOOKAHEAD = 24  # frames of current speed counted as progress when ranking worlds
CALL_SECONDS = 0.05  # the search returns to Python about this often, so that Ctrl-C is felt at once


@njit(cache=True, inline="always")
def _cell_key(state: np.ndarray) -> int:
    # Worlds in the same 4 px cell, moving at about the same speed, are the same for planning.
    k = (state[P.S_X] >> 10) * 1_000_003 + (state[P.S_Y] >> 10)
    k = k * 131 + (state[P.S_VX] >> 6)
    k = k * 131 + (state[P.S_VY] >> 7)
    k = k * 2 + state[P.S_GROUND]
    return k


@njit(cache=True, nogil=True)
def _search_depths(
    actions: np.ndarray, hold: int, width: int,
    beam_t: np.ndarray, beam_s: np.ndarray, beam_e: np.ndarray,
    cand_t: np.ndarray, cand_s: np.ndarray, cand_e: np.ndarray, score: np.ndarray,
    parent: np.ndarray, chosen: np.ndarray, table: np.ndarray, keep_src: np.ndarray,
    n_beam: int, depth: int, end: int,
) -> tuple[int, int, int, int]:
    """Grow the beam from `depth` up to `end`; (beam size, depth reached, finishing beam entry, its action).

    The finishing entry is -1 unless a world finished at the depth reached; a beam size of 0
    means every world died. All search state lives in the arrays, so calls can be chained.
    """
    n_act = actions.shape[0]
    table_size = table.shape[0]
    while depth < end:
        n = 0
        for b in range(n_beam):
            for a in range(n_act):
                cand_t[n] = beam_t[b]
                cand_s[n] = beam_s[b]
                cand_e[n] = beam_e[b]
                status = P.advance(cand_t[n], cand_s[n], cand_e[n], actions[a], hold, 0, 0)
                if status == P.FINISHED:
                    return n_beam, depth, b, a
                if status == P.DEAD:
                    score[n] = -np.inf
                else:
                    # Ties (common on long run-ups) go to worlds standing on the ground: free to jump.
                    score[n] = cand_s[n, P.S_X] + _LOOKAHEAD * cand_s[n, P.S_VX] + cand_s[n, P.S_GROUND]
                n += 1
        order = np.argsort(-score[:n])
        table[:] = -1
        kept = 0
        for idx in order:
            if score[idx] == -np.inf or kept == width:
                break
            key = _cell_key(cand_s[idx])
            h = (key * 0x9E3779B97F4A7C15) & (table_size - 1)
            dup = False
            while table[h] != -1:
                if _cell_key(cand_s[table[h]]) == key:
                    dup = True
                    break
                h = (h + 1) & (table_size - 1)
            if dup:
                continue
            table[h] = idx
            keep_src[kept] = idx
            kept += 1
        if kept == 0:
            return 0, depth, -1, -1
        for j in range(kept):
            idx = keep_src[j]
            beam_t[j] = cand_t[idx]
            beam_s[j] = cand_s[idx]
            beam_e[j] = cand_e[idx]
            parent[depth, j] = idx // n_act
            chosen[depth, j] = idx % n_act
        n_beam = kept
        depth += 1
    return n_beam, depth, -1, -1


def beam_search(
    level_tiles: np.ndarray, level_enemies: np.ndarray, start_col: int, start_row: int,
    exit_col: int, actions: np.ndarray, hold: int, width: int, max_frames: int,
    depths_per_call: int | None = None,
) -> np.ndarray:
    """Action indices (one per `hold` frames) that finish the level, or an empty array.

    The search runs in Numba a few depths per call and comes back to Python in between, about
    every `CALL_SECONDS` (or every `depths_per_call` depths), so that Ctrl-C stops it at once;
    where the calls split does not change the result.
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
    parent = np.zeros((max_depth, width), np.int64)
    chosen = np.zeros((max_depth, width), np.int64)
    table_size = 1
    while table_size < 4 * n_cand:
        table_size *= 2
    table = np.empty(table_size, np.int64)
    keep_src = np.empty(width, np.int64)
    P.reset_world(level_tiles, level_enemies, start_col, start_row, exit_col, beam_t[0], beam_s[0], beam_e[0])

    n_beam, depth = 1, 0
    step = depths_per_call or 1
    while depth < max_depth:
        started = time.perf_counter()
        n_beam, depth, b, a = _search_depths(actions, hold, width, beam_t, beam_s, beam_e, cand_t, cand_s, cand_e,
                                             score, parent, chosen, table, keep_src, n_beam, depth,
                                             min(max_depth, depth + step))
        if b >= 0:
            path = np.empty(depth + 1, np.int64)
            path[depth] = a
            for d in range(depth - 1, -1, -1):
                path[d] = chosen[d, b]
                b = parent[d, b]
            return path
        if n_beam == 0:
            break
        if depths_per_call is None:  # aim each call at CALL_SECONDS, whatever the level's size
            took = time.perf_counter() - started
            if took < CALL_SECONDS / 2:
                step *= 2
            elif took > CALL_SECONDS and step > 1:
                step //= 2
    return np.empty(0, np.int64)


@dataclass(frozen=True)
class Solution:
    """A per-frame button sequence that finishes a level, and what it did there."""

    buttons: np.ndarray  # int64 button masks, one per frame
    frames: int
    coins: int
    kills: int


def play(level: Level, buttons: np.ndarray) -> np.ndarray:
    """Play per-frame button masks from the start of `level`; return the final state array."""
    tiles, state, enemies = P.new_world(level)
    for mask in buttons:
        if P.step(tiles, state, enemies, int(mask)) != P.RUNNING:
            break
    return state


def solve(level: Level, width: int = 96, hold: int = 4, max_frames: int = 20_000) -> Solution | None:
    """Search for buttons that finish `level`; None if the beam finds none."""
    col, row = level.start
    path = beam_search(level.tiles, level.enemies, col, row, level.exit_col,
                       SEARCH_ACTIONS, hold, width, max_frames)
    if path.size == 0:
        return None
    buttons = np.repeat(SEARCH_ACTIONS[path], hold)
    state = play(level, buttons)
    if state[P.S_STATUS] != P.FINISHED:  # cannot happen unless the physics is not deterministic
        raise AssertionError("solver's sequence did not finish the level when replayed")
    frames = int(state[P.S_FRAMES])
    return Solution(buttons[:frames], frames, int(state[P.S_COINS]), int(state[P.S_KILLS]))


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
    lines = [" ".join(tokens[k:k + 12]) for k in range(0, len(tokens), 12)]
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
