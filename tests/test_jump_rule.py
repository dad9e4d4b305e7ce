"""The two jump rules: `press` (the Mario AI Framework's and Super Mario Bros') and `hold` (this project's
first), played frame by frame, and the rule carried by settings, replays and runs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tilerunner.envs import physics as P
from tilerunner.envs.level import parse_level
from tilerunner.evolve.core.fitness import EpisodeSettings


def flat(width: int = 60):
    return parse_level("\n".join(["-" * width] * 14 + ["X" * width] * 2) + "\n", "flat.txt")


def run(level, buttons: list[int], rule: int):
    tiles, state, enemies = P.new_world(level, rule)
    states = []
    for b in buttons:
        P.step(tiles, state, enemies, b)
        states.append(state.copy())
    return np.array(states)


def takeoffs(states: np.ndarray) -> int:
    """How many jumps were taken (the physics counts each take-off)."""
    return int(states[-1, P.S_JUMPS])


def apex(states: np.ndarray) -> int:
    return int(states[0, P.S_Y] - states[:, P.S_Y].min())


def test_under_press_holding_a_jumps_once_and_under_hold_again_on_every_landing():
    level = flat()
    held = [P.A] * 300
    assert (takeoffs(run(level, held, P.PRESS))) == 1
    assert (takeoffs(run(level, held, P.HOLD))) >= 3


def test_under_press_a_fresh_press_on_the_ground_jumps_again():
    level = flat()
    hop = [P.A] * 40 + [0] * 30  # a jump, then A let go on the ground
    states = run(level, hop * 3, P.PRESS)
    assert (takeoffs(states)) == 3
    # Releasing A in the air and pressing it again on the frame of landing is not enough: A must be
    # seen released on the ground first (the framework's mayJump = onGround && !jump).
    landing = int(np.argmax(run(level, [P.A] * 20 + [0] * 80, P.PRESS)[20:, P.S_GROUND])) + 20  # its frame
    again = [P.A] * 20 + [0] * (landing - 20) + [P.A] * 40
    assert (takeoffs(run(level, again, P.PRESS))) == 1
    released_on_ground = [P.A] * 20 + [0] * (landing - 20 + 1) + [P.A] * 40
    assert (takeoffs(run(level, released_on_ground, P.PRESS))) == 2


def test_under_press_letting_a_go_ends_the_lift_for_good():
    level = flat()
    full = apex(run(level, [P.A] * 60, P.PRESS))
    tapped = apex(run(level, [P.A] * 6 + [0] * 54, P.PRESS))
    pumped = apex(run(level, [P.A] * 6 + [0] + [P.A] * 53, P.PRESS))  # pressed again while rising
    assert tapped < full and pumped == tapped
    # Under hold, A pressed again while rising gives the lift back.
    assert apex(run(level, [P.A] * 6 + [0] + [P.A] * 53, P.HOLD)) > apex(run(level, [P.A] * 6 + [0] * 54, P.HOLD))


def test_one_jump_is_the_same_jump_under_both_rules():
    level = flat()
    one = [P.A | P.RIGHT] * 30 + [P.RIGHT] * 60
    motion = [P.S_X, P.S_Y, P.S_VX, P.S_VY, P.S_GROUND, P.S_JUMPS]
    assert np.array_equal(run(level, one, P.PRESS)[:, motion], run(level, one, P.HOLD)[:, motion])


def test_the_rule_is_a_setting_recorded_in_files_and_older_files_hold():
    assert EpisodeSettings(jump_rule="press").kernel_settings().jump_rule == P.PRESS
    assert EpisodeSettings.from_dict(EpisodeSettings(jump_rule="press").as_dict()).jump_rule == "press"
    older = json.loads(json.dumps(EpisodeSettings().as_dict()))
    older.pop("jump_rule")
    assert EpisodeSettings.from_dict(older).jump_rule == "hold"
    for bad in ("jump", "", 1, None):
        with pytest.raises(ValueError, match="jump rule|jump_rule"):
            EpisodeSettings(jump_rule=bad)
