"""The solver: finds real finishing sequences, says so when there are none, and its text format round-trips."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tilerunner.envs import physics as P
from tilerunner.envs.level import parse_level
from tilerunner.envs.solver import format_buttons, parse_buttons, play, solve

STAIRS = parse_level(
    "\n".join(["-" * 40] * 10 + [
        "--------------------###-----------------",
        "-----------------g-####-----------------",
        "------------------#####----o------------",
        "-M---------------######-----------------",
        "XXXXXXXXXXXXXX---XXXXXXXXXX---XXXXXXXXXX",
        "XXXXXXXXXXXXXX---XXXXXXXXXX---XXXXXXXXXX",
    ]) + "\n", "stairs.txt")
TOO_WIDE = parse_level("\n".join(["-" * 60] * 14 + ["X" * 20 + "-" * 20 + "X" * 20] * 2) + "\n", "wide.txt")


def test_solver_finds_a_sequence_that_really_finishes():
    solution = solve(STAIRS)
    assert solution is not None
    state = play(STAIRS, solution.buttons)
    assert state[P.S_STATUS] == P.FINISHED and state[P.S_FRAMES] == solution.frames == len(solution.buttons)


def test_solver_reports_none_for_an_impossible_level():
    assert solve(TOO_WIDE) is None


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
