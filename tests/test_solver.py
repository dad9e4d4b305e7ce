"""The solver: finds real finishing sequences, retries where a plain beam fails, claims a level unfinishable
only with proof, always gives the same answer, and its text format round-trips."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tilerunner.envs import physics as P
from tilerunner.envs.level import BUILTIN_LEVELS, load_level, parse_level
from tilerunner.envs.solver import (
    ATTEMPTS,
    SEARCH_ACTIONS,
    Beam,
    beam_search,
    final_state,
    format_buttons,
    parse_buttons,
    search,
    solve,
    walled_in,
)

STAIRS = parse_level(
    "\n".join(
        ["-" * 40] * 10
        + [
            "--------------------###-----------------",
            "-----------------g-####-----------------",
            "------------------#####----o------------",
            "-M---------------######-----------------",
            "XXXXXXXXXXXXXX---XXXXXXXXXX---XXXXXXXXXX",
            "XXXXXXXXXXXXXX---XXXXXXXXXX---XXXXXXXXXX",
        ]
    )
    + "\n",
    "stairs.txt",
)
TOO_WIDE = parse_level("M" + "-" * 59 + "\n" + "X" * 20 + "-" * 20 + "X" * 20 + "\n", "wide.txt")  # a 20-tile pit


def run_up_level(gap: int = 9) -> str:
    """A pit `gap` tiles wide, the start one tile from its edge and room behind to take a run-up."""
    ground = "X" * 14 + "-" * gap + "X" * 8
    return "\n".join(["-" * (22 + gap)] * 13 + ["-" * 13 + "M" + "-" * (gap + 7) + "F", ground, ground]) + "\n"


RUN_UP = parse_level(run_up_level(), "run-up.txt")
# Walled in: a ceiling over the start, a pipe to its right, the level's edge to its left, ground under it.
SHUT_IN = parse_level("SSSS----------\nM--t---------F\nXXXXXXXXXXXXXX\n", "shut-in.txt")


def _plain_beam(level, max_frames: int = 6000, **kwargs) -> np.ndarray:
    col, row = level.start
    path, _ = beam_search(
        level.tiles, level.enemies, col, row, level.exit_col, SEARCH_ACTIONS, 4, 96, max_frames, **kwargs
    )
    return path


def test_solver_finds_a_sequence_that_really_finishes():
    solution = solve(STAIRS)
    assert solution is not None
    state = final_state(STAIRS, solution.buttons)
    assert state[P.S_STATUS] == P.FINISHED and state[P.S_FRAMES] == solution.frames == len(solution.buttons)


def test_a_pit_that_needs_a_run_up_is_solved_where_the_plain_beam_fails():
    # The plain beam (all the solver had before) rushes every world into the pit and finds nothing.
    assert _plain_beam(RUN_UP).size == 0
    result = search(RUN_UP)
    assert result.found and result.beams > 1 and result.verdict() == f"finishable in {result.solution.frames} frames"
    tiles, state, enemies = P.new_world(RUN_UP)
    leftmost = state[P.S_X]
    for mask in result.solution.buttons:
        P.step(tiles, state, enemies, int(mask))
        leftmost = min(leftmost, state[P.S_X])
    assert state[P.S_STATUS] == P.FINISHED and state[P.S_FRAMES] == result.solution.frames
    assert leftmost < state[P.S_START_X] - 2 * P.TILE  # it backed up for its run-up


def test_a_level_no_jump_can_finish_is_no_solution_found_not_a_proof():
    result = search(TOO_WIDE)
    assert result.solution is None and not result.found and not result.walled_in and result.beams == len(ATTEMPTS)
    assert result.verdict().startswith("no solution found (searched 6 beams up to 192 wide, ")
    assert "finishable" not in result.verdict()


def test_a_walled_in_start_is_proved_unfinishable():
    assert walled_in(SHUT_IN)
    result = search(SHUT_IN)
    assert not result.found and result.walled_in and result.beams == 0
    assert result.verdict() == "NOT finishable: walled in (no open path leads from the start to the exit)"


@pytest.mark.parametrize(
    "text, why",
    [
        ("SSSS----------\nM--t---------F\nXX%XXXXXXXXXXX\n--------------\nXXXXXXXXXXXXXX\n", "no way down a platform"),
        ("SS2S----------\nM--t---------F\nXXXXXXXXXXXXXX\n", "no way up through a hidden block"),
    ],
)
def test_one_way_tiles_wall_in_too(text, why):
    assert walled_in(parse_level(text)), why


@pytest.mark.parametrize(
    "text, why",
    [
        ("-SSS----------\nM--t---------F\nXXXXXXXXXXXXXX\n", "a hole in the ceiling"),
        ("---t----------\nM--t---------F\nXXXXXXXXXXXXXX\n", "over the top of the level"),
        ("SS%S----------\nM--t---------F\nXXXXXXXXXXXXXX\n", "up through a platform"),
        ("SSSS----------\nM--2---------F\nXXXXXXXXXXXXXX\n", "through a hidden block from the side"),
    ],
)
def test_only_a_real_wall_counts_as_proof(text, why):
    level = parse_level(text)
    assert not walled_in(level), why
    assert search(level).found, why


def test_walled_in_is_never_claimed_for_a_level_the_solver_finishes():
    ids = list(BUILTIN_LEVELS) + ["gen:3:1", "gen:4:10"]
    assert not any(walled_in(load_level(i)) for i in ids)
    assert not walled_in(STAIRS) and not walled_in(RUN_UP)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="----XXS%2t", min_size=10, max_size=10), min_size=4, max_size=4))
def test_walled_in_is_sound_on_small_random_levels(rows):
    # Whatever the tiles, a level some beam finishes is never proved unfinishable.
    rows = [r[:-1] + "F" if i == 2 else r for i, r in enumerate(rows)]
    rows[2] = "M" + rows[2][1:]
    rows[3] = "X" * 10
    level = parse_level("\n".join(rows) + "\n")
    if not walled_in(level):
        return
    for spread in ATTEMPTS[:3]:
        assert _plain_beam(level, max_frames=400, spread=spread).size == 0


def test_search_is_the_same_however_it_is_split_and_whenever_it_runs():
    spread = ATTEMPTS[2]
    paths = [_plain_beam(RUN_UP, spread=spread, stall_frames=1200, depths_per_call=n) for n in (None, 1, 7, 10**6)]
    assert paths[0].size and all(np.array_equal(p, paths[0]) for p in paths[1:])
    a, b = search(RUN_UP), search(RUN_UP)
    assert np.array_equal(a.solution.buttons, b.solution.buttons) and (a.beams, a.worlds) == (b.beams, b.worlds)


def test_the_budget_counts_worlds_not_seconds():
    small = search(TOO_WIDE, budget=20_000)
    assert not small.found and small.beams < len(ATTEMPTS)
    assert 20_000 <= small.worlds < 20_000 + 96 * 2 * len(SEARCH_ACTIONS)  # the depth that crossed it ends it
    assert search(TOO_WIDE, budget=20_000) == small
    assert Beam() == ATTEMPTS[0]  # the first beam is the plain one that found the built-in levels' buttons


def test_button_text_round_trips():
    buttons = np.array([P.RIGHT] * 30 + [P.RIGHT | P.A | P.B] * 12 + [0] * 5 + [P.LEFT | P.UP | P.DOWN], np.int64)
    text = format_buttons(buttons)
    assert text.split()[:3] == ["R*30", "RAB*12", "-*5"]
    assert np.array_equal(parse_buttons(text), buttons)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 63), max_size=200))
def test_any_button_sequence_round_trips(masks):
    buttons = np.array(masks, dtype=np.int64)
    assert np.array_equal(parse_buttons(format_buttons(buttons)), buttons)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="LRUDAB-*0123456789 \nxZ", max_size=60))
def test_garbage_button_text_parses_or_raises_value_error(text):
    try:
        out = parse_buttons(text)
    except ValueError as exc:
        assert "bad button token" in str(exc)
    else:
        assert out.dtype == np.int64 and ((out >= 0) & (out < 64)).all()
