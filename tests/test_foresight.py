"""Foresight (`tilerunner.envs.foresight`): each candidate move played forward by the physics over what is in view.

What a user relies on, section by section:

- one physics: a forecast ends where pressing the same buttons in the real world ends, frame for frame;
- fates: a pit, an enemy, a spiky stomp, a wall, the view's edge, a trap and the exit read as the module says,
  and moves that do not apply read "dies";
- inputs: named in order, in range, and the real world left as it was;
- the same bits on every path: the fused rollout, `Playback`, gymnasium and any number of threads (the CUDA
  kernel's check, in Numba's simulator, is in test_cuda_backend.py);
- `rules` decides on foresight and plays no worse than before it did;
- replays of networks that see foresight record it and verify.

Every level is written here (never ../shared), small enough that what matters is in view. The reference
for "the real world" is `press`: the move's buttons pressed in a copy of the whole level, decided every
`frame_skip` frames as an agent decides, with the schedule the module docstring gives each move.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neatcfg import grow, make_config

import tilerunner.envs  # noqa: F401  (registers the env)
from tilerunner.agent import CompiledNetwork, compile, compile_population
from tilerunner.envs import foresight as F
from tilerunner.envs import physics as P
from tilerunner.envs.buttons import mask_from_outputs, pressed
from tilerunner.envs.generator import generate_text
from tilerunner.envs.level import parse_level
from tilerunner.envs.observe import FORESIGHT, input_names, n_inputs, observe_inputs
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.outcome import R_FRAMES, R_STATUS
from tilerunner.evolve.core.playback import Playback
from tilerunner.evolve.core.rollout import pack_levels, play_networks, play_recorded
from tilerunner.evolve.runs.replay import NetworkShape, load_replay, make_replay, verify

FRAME_SKIP = 5


def make_level(*rows: str, name: str = "mine/foresight.txt"):
    """A level from its rows, top first."""
    return parse_level("\n".join(rows) + "\n", name)


def world(level, *pre: tuple[int, int], rule: int = P.HOLD):
    """The level's world after holding each (buttons, frames) of `pre` in turn."""
    tiles, state, enemies = P.new_world(level, rule)
    for buttons, frames in pre:
        P.advance(tiles, state, enemies, buttons, frames, 0, 0)
    assert state[P.S_STATUS] == P.RUNNING
    return tiles, state, enemies


def sense(tiles, state, enemies, radius: int = 6, frame_skip: int = FRAME_SKIP) -> np.ndarray:
    """The foresight inputs `observe_inputs` gives a network, as (move, part) rows."""
    out = np.full(n_inputs(radius, ("foresight",)), np.nan)
    observe_inputs(tiles, state, enemies, radius, FORESIGHT, out, F.sight_buffers(radius, frame_skip))
    return out[(2 * radius + 1) ** 2 :].reshape(len(F.MOVES), len(F.PARTS))


def row(inputs: np.ndarray, move: str) -> dict[str, float]:
    return dict(zip(F.PARTS, inputs[F.MOVES.index(move)]))


# Each move's buttons, as the module docstring gives them: a direction (B always held) and when A is held.
NEVER, ONE, TOP = "never", "one decision", "held rising, let go at the first decision after the top"
MOVE_BUTTONS = {
    "run": (1, NEVER),
    "jump": (1, TOP),
    "hop": (1, ONE),
    "wait": (0, NEVER),
    "back": (-1, NEVER),
    "keep-a": (1, TOP),  # or ONE: foresight keeps the better of the two
    "let-go": (1, NEVER),
    "drift": (0, NEVER),
    "steer-back": (-1, NEVER),
}


@dataclass
class Pressed:
    """What pressing a move's buttons did in the real world."""

    ending: str  # dies, finishes, stomps, lands (standing at a decision after moving), or horizon
    xy: np.ndarray  # the player's (x, y) after each frame, in the level's sub-pixels
    cause: str  # of death
    world: tuple  # (tiles, state, enemies) at the end


def press(tiles, state, enemies, move: str, a: str | None = None, frame_skip: int = FRAME_SKIP) -> Pressed:
    """Press `move`'s buttons in a copy of the whole world, deciding every `frame_skip` frames, until something
    settles: death, the exit, a stomp, or standing on something when a decision comes."""
    tiles, state, enemies = tiles.copy(), state.copy(), enemies.copy()
    direction, schedule = MOVE_BUTTONS[move]
    schedule = a or schedule
    buttons = P.B | {1: P.RIGHT, 0: 0, -1: P.LEFT}[direction]
    holding_a = schedule != NEVER
    kills, wings = state[P.S_KILLS], int(enemies[:, P.E_WINGED].sum())
    xy = []
    for frame in range(F.HORIZON):
        if frame and frame % frame_skip == 0 and holding_a:  # a decision
            rising = state[P.S_VY] < 0 and state[P.S_JUMPING]
            holding_a = schedule == TOP and rising
        status = P.advance(tiles, state, enemies, buttons | (P.A if holding_a else 0), 1, 0, 0)
        xy.append((state[P.S_X], state[P.S_Y]))
        ending = None
        if status == P.DEAD:
            ending = "dies"
        elif status == P.FINISHED:
            ending = "finishes"
        elif state[P.S_KILLS] != kills or enemies[:, P.E_WINGED].sum() != wings:
            ending = "stomps"
        elif state[P.S_GROUND] and (frame + 1) % frame_skip == 0:
            ending = "lands"
        if ending:
            return Pressed(ending, np.array(xy), P.CAUSE_NAMES[state[P.S_CAUSE]], (tiles, state, enemies))
    return Pressed("horizon", np.array(xy), "", (tiles, state, enemies))


# How each real ending reads in foresight: a landing may also read "dies" when it is a trap (tested apart).
FORESEEN = {"dies": {"dies"}, "finishes": {"lands"}, "stomps": {"stomps"}, "lands": {"lands", "dies"}}


def assert_foreseen_as_pressed(tiles, state, enemies, radius: int) -> list[tuple[str, str, Pressed]]:
    """Every move that applies, as foresight plays it (its path frame by frame, and its inputs), is the real
    world's: the same path to the same end, or the start of it when the forecast leaves the view.
    Returns (move, fate, pressed) for each."""
    inputs = sense(tiles, state, enemies, radius)
    span = (radius + 1) * P.TILE
    seen = []
    for m, fate, path in F.foreseen_paths(tiles, state, enemies, radius, FRAME_SKIP):
        move, fate = F.MOVES[m], F.FATE_NAMES[fate]
        tries = [press(tiles, state, enemies, move, a) for a in ((TOP, ONE) if move == "keep-a" else (None,))]
        real = next((p for p in tries if np.array_equal(p.xy[: len(path)], path)), tries[0])
        assert np.array_equal(real.xy[: len(path)], path), (move, fate, real.ending)
        if fate == "away":
            assert len(real.xy) >= len(path)  # the world goes on past the view
        else:
            assert len(real.xy) == len(path) and fate in FORESEEN[real.ending], (move, fate, real.ending)
        frames = len(path)
        ended_x = path[-1, 0] - state[P.S_X]
        got = row(inputs, move)
        assert got["progress"] == ended_x / span and got["frames"] == frames / F.HORIZON, move
        assert (got["dies"], got["stomps"], got["away"]) == (fate == "dies", fate == "stomps", fate == "away"), move
        seen.append((move, fate, real))
    return seen


# ---------------------------------------------------------------------------------------------
# One physics: what foresight plays is what pressing the buttons does

# A gap, a coin block overhead, a step up, a wide pit and a wall: a view of radius 10 holds all of it
# from anywhere, above and below (the level is 6 rows), and most of it left and right.
COURSE = make_level(
    "------------------------------",
    "------------------------------",
    "------?-------------------##--",
    "-M----------------##-----##--F",
    "XXXXXXXX---XXXXXXX----XXXXXXXX",
    "XXXXXXXX---XXXXXXX----XXXXXXXX",
)
BUTTONS = st.sampled_from([P.RIGHT | P.B, P.RIGHT | P.B | P.A, P.RIGHT, P.A, P.LEFT | P.B, P.LEFT | P.A, 0])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(decisions=st.lists(BUTTONS, max_size=40), rule=st.sampled_from([P.HOLD, P.PRESS]))
def test_every_forecast_is_the_real_world_frame_for_frame(decisions, rule):
    tiles, state, enemies = P.new_world(COURSE, rule)
    for buttons in decisions:
        if P.advance(tiles, state, enemies, buttons, FRAME_SKIP, 0, 0) != P.RUNNING:
            return
    assert_foreseen_as_pressed(tiles, state, enemies, radius=10)


def test_a_standing_jump_and_a_running_jump_end_where_the_real_world_does():
    # No enemy, the gap in view: from a standstill and after 20 frames of running, each move ends where pressing
    # its buttons ends, bit for bit (x, y and frames); the same jump lands standing and falls in at a run.
    ends = {}
    for frames in (0, 20):
        tiles, state, enemies = world(COURSE, (P.RIGHT | P.B, frames))
        ends[frames] = {
            move: (fate, real) for move, fate, real in assert_foreseen_as_pressed(tiles, state, enemies, 10)
        }
    standing, running = ends[0], ends[20]
    assert set(standing) == set(running) == set(F.MOVES[: F.N_GROUND])
    assert standing["jump"][0] == "lands" and standing["run"][0] == "lands"
    assert running["jump"][0] == "dies" and running["jump"][1].cause == "pit"
    assert len(running["jump"][1].xy) > len(standing["jump"][1].xy)  # a longer jump, matched frame for frame


# A walker on flat ground, walking at a player who waits; in view (radius 8) from the start.
WALKER = make_level(
    "------------------------",
    "------------------------",
    "------------------------",
    "-M------g--------------F",
    "XXXXXXXXXXXXXXXXXXXXXXXX",
    "XXXXXXXXXXXXXXXXXXXXXXXX",
)


def test_an_enemy_in_view_is_foreseen_as_the_physics_plays_it():
    tiles, state, enemies = world(WALKER)
    endings = set()
    while state[P.S_STATUS] == P.RUNNING:
        for _, _, real in assert_foreseen_as_pressed(tiles, state, enemies, radius=8):
            endings.add((real.ending, real.cause))
        P.advance(tiles, state, enemies, 0, FRAME_SKIP, 0, 0)
    assert {("dies", "enemy"), ("stomps", ""), ("lands", "")} <= endings  # all three seen, each foreseen


def test_an_enemy_falling_into_a_pit_is_not_a_stomp():
    # A walker in the air over a pit falls in (and is gone) while the player jumps on flat ground: the jump
    # stomps nothing and lands where the real one lands.
    level = make_level(
        "---------g--------------",
        "------------------------",
        "------------------------",
        "-M----------------------",
        "XXXXXXX----XXXXXXXXXXXXF",
        "XXXXXXX----XXXXXXXXXXXXX",
    )
    tiles, state, enemies = world(level)
    real = press(tiles, state, enemies, "jump")
    assert real.ending == "lands" and real.world[2][0, P.E_STATE] == P.GONE  # the walker fell in
    jump = row(sense(tiles, state, enemies, radius=8), "jump")
    assert jump["stomps"] == 0.0 and jump["frames"] == len(real.xy) / F.HORIZON
    assert_foreseen_as_pressed(tiles, state, enemies, radius=8)


# ---------------------------------------------------------------------------------------------
# Fates: what each ending reads as


def decide_until(level, buttons: int, until, radius: int = 6, rule: int = P.HOLD, limit: int = 200):
    """Hold `buttons` a decision at a time from the start until `until(inputs, world)` holds; that world."""
    tiles, state, enemies = P.new_world(level, rule)
    for _ in range(limit):
        assert state[P.S_STATUS] == P.RUNNING
        if until(sense(tiles, state, enemies, radius), (tiles, state, enemies)):
            return tiles, state, enemies
        P.advance(tiles, state, enemies, buttons, FRAME_SKIP, 0, 0)
    raise AssertionError("never happened")


def run_up_and_gap(gap: int):
    ground = "X" * 22 + "-" * gap + "X" * 16
    width = len(ground)
    return make_level(*["-" * width] * 4, "-M" + "-" * (width - 3) + "F", ground, ground)


@pytest.mark.parametrize("gap, fate", [(12, "dies"), (5, "lands")])
def test_a_gap_wider_than_a_running_jump_reads_as_a_pit(gap, fate):
    # Running at full speed to the edge (until one more decision of running would fall in), the whole gap in
    # view (radius 12): the jump falls in if the gap is too wide, and clears one a running jump clears.
    level = run_up_and_gap(gap)
    tiles, state, enemies = decide_until(level, P.RIGHT | P.B, lambda o, w: row(o, "run")["dies"], radius=12)
    assert state[P.S_VX] == P.RUN_MAX and state[P.S_X] < 22 * P.TILE  # at full speed, still on the edge
    jump = row(sense(tiles, state, enemies, radius=12), "jump")
    real = press(tiles, state, enemies, "jump")
    assert jump["dies"] == (fate == "dies") and jump["away"] == 0.0
    assert real.ending == fate and real.cause == ("pit" if fate == "dies" else "")
    assert jump["frames"] == len(real.xy) / F.HORIZON


def test_an_enemy_walking_at_the_player_kills_a_run_and_a_jump_clears_or_stomps_it():
    def walker_is_close(o, w):
        return press(*w, "run").cause == "enemy"  # the first decision at which running into it kills

    tiles, state, enemies = decide_until(WALKER, 0, walker_is_close)
    o = sense(tiles, state, enemies)
    assert row(o, "run")["dies"] == 1.0
    over = {F.MOVES[m]: F.FATE_NAMES[fate] for m, fate, _ in F.foreseen_paths(tiles, state, enemies, 6, FRAME_SKIP)}
    assert over["jump"] in ("lands", "stomps") and over["hop"] in ("lands", "stomps")
    assert "stomps" in (over["jump"], over["hop"])
    for move in ("jump", "hop"):
        assert press(tiles, state, enemies, move).ending == over[move]  # as the real world has it


def test_a_wall_ahead_gives_a_run_no_progress():
    level = make_level(
        "-----------------------",
        *["----X------------------"] * 6,
        "-M--X-----------------F",
        "XXXXXXXXXXXXXXXXXXXXXXX",
        "XXXXXXXXXXXXXXXXXXXXXXX",
    )
    start = sense(*world(level))
    assert row(start, "run")["progress"] > 0.0  # room to run at first
    at_wall = sense(*world(level, (P.RIGHT | P.B, 40)))
    for move in ("run", "jump"):  # the wall is taller than a jump
        got = row(at_wall, move)
        assert (got["progress"], got["dies"], got["stomps"], got["away"]) == (0.0, 0.0, 0.0, 0.0), move
    assert row(at_wall, "back")["progress"] < 0.0


def enemy_ahead(char: str, at: int):
    """An enemy `char` `at` tiles right of the start, on flat ground."""
    line = ["-"] * 23
    line[1], line[1 + at], line[-1] = "M", char, "F"
    return make_level(*["-" * 23] * 3, "".join(line), "X" * 23, "X" * 23)


def test_stomping_a_spiky_enemy_dies_where_stomping_a_walker_stomps():
    spiky, walker = enemy_ahead("y", 5), enemy_ahead("g", 5)
    on_spiky = row(sense(*world(spiky)), "jump")
    assert on_spiky["dies"] == 1.0 and on_spiky["stomps"] == 0.0
    assert press(*world(spiky), "jump").cause == "spiky"
    on_walker = row(sense(*world(walker)), "jump")
    assert on_walker["dies"] == 0.0 and on_walker["stomps"] == 1.0
    assert on_walker["frames"] == on_spiky["frames"]  # the same jump, met at the same frame
    assert press(*world(walker), "jump").ending == "stomps"


def test_leaving_the_view_is_away():
    flat = make_level(*["-" * 23] * 3, "-M--------------------F", "X" * 23, "X" * 23)
    narrow = row(sense(*world(flat), radius=2), "jump")
    assert (narrow["away"], narrow["dies"], narrow["stomps"]) == (1.0, 0.0, 0.0) and narrow["progress"] > 0.5
    wide = row(sense(*world(flat), radius=6), "jump")  # the same jump, all in view
    assert (wide["away"], wide["dies"]) == (0.0, 0.0) and wide["frames"] > narrow["frames"]


# A one-tile island between pits, the second beyond any jump: land on it and there is no way on.
ISLAND = make_level(
    *["-" * 29] * 4, "-M--------------------------F", "XXXXXXXX---X----------------X", "XXXXXXXX---X----------------X"
)


def test_landing_where_neither_running_nor_jumping_survives_is_a_trap():
    tiles, state, enemies = world(ISLAND, (P.RIGHT | P.B, 12 * FRAME_SKIP))
    hop = press(tiles, state, enemies, "hop")
    assert hop.ending == "lands" and hop.xy[-1, 0] // P.TILE in (10, 11)  # on the island
    assert press(*hop.world, "run").ending == "dies" and press(*hop.world, "jump").ending == "dies"
    foreseen = row(sense(tiles, state, enemies, radius=16), "hop")
    assert foreseen["dies"] == 1.0 and foreseen["frames"] == len(hop.xy) / F.HORIZON  # dies on landing: a trap


def test_reaching_the_exit_in_view_lands_even_over_a_pit():
    level = make_level(*["-" * 12] * 3, "-M------F---", "XXXXX-------", "XXXXX-------")
    tiles, state, enemies = world(level, (P.RIGHT | P.B, 20))
    real = press(tiles, state, enemies, "jump")
    assert real.ending == "finishes"
    jump = row(sense(tiles, state, enemies), "jump")
    assert (jump["dies"], jump["stomps"], jump["away"]) == (0.0, 0.0, 0.0)
    assert jump["frames"] == len(real.xy) / F.HORIZON
    assert row(sense(tiles, state, enemies), "hop")["dies"] == 1.0  # a hop falls short, into the pit


def test_at_the_top_of_a_running_jump_over_flat_ground_not_every_move_dies():
    # Over flat, empty ground every way of coming down lands. At the top of a full running jump the floor is
    # more than the view's radius (6) below the player's centre; foresight must still not read every move
    # as death there (the real world lands whatever the player does).
    flat = make_level(*["-" * 60] * 12, "-M" + "-" * 57 + "F", "X" * 60, "X" * 60)
    tiles, state, enemies = world(flat, (P.RIGHT | P.B, 60))
    doomed = []
    while True:
        rising = P.A if state[P.S_VY] <= 0 else 0  # A held up to the top, then let go
        P.advance(tiles, state, enemies, P.RIGHT | P.B | rising, FRAME_SKIP, 0, 0)
        if state[P.S_GROUND] or state[P.S_STATUS] != P.RUNNING:
            break
        assert press(tiles, state, enemies, "let-go").ending == "lands"
        if (sense(tiles, state, enemies)[:, 1] == 1.0).all():
            doomed.append(f"feet {13 - (state[P.S_Y] + P.PLAYER_H) / P.TILE:.2f} tiles above the floor")
    assert not doomed, doomed


NOT_APPLICABLE = [0.0, 1.0, 0.0, 0.0, 0.0]


def test_moves_that_do_not_apply_read_no_progress_and_death():
    flat = make_level(*["-" * 23] * 5, "-M--------------------F", "X" * 23, "X" * 23)
    ground = sense(*world(flat))
    assert (ground[F.N_GROUND :] == NOT_APPLICABLE).all() and (ground[: F.N_GROUND, 4] > 0).all()
    rising = sense(*world(flat, (P.RIGHT | P.B | P.A, 6)))
    assert (rising[: F.N_GROUND] == NOT_APPLICABLE).all() and (rising[F.N_GROUND :, 4] > 0).all()  # keep-a too
    falling = sense(*world(flat, (P.RIGHT | P.B | P.A, 6), (P.RIGHT | P.B, 20)))
    keep_a = F.MOVES.index("keep-a")
    assert (falling[keep_a] == NOT_APPLICABLE).all() and (falling[keep_a + 1 :, 4] > 0).all()
    # Under press, letting A go ends the lift: rising without it, keep-a does not apply either.
    let_go = world(flat, (P.RIGHT | P.B | P.A, 3), (P.RIGHT | P.B, 1), rule=P.PRESS)
    assert let_go[1][P.S_VY] < 0
    assert (sense(*let_go)[keep_a] == NOT_APPLICABLE).all()


# ---------------------------------------------------------------------------------------------
# Inputs: named in order, in range, and the real world untouched


def test_the_45_inputs_are_named_after_the_grid_move_by_move_and_hold_those_values():
    grid = input_names(6)
    names = input_names(6, ("foresight",))
    per_move = [f"foresight.{move}.{part}" for move in F.MOVES for part in F.PARTS]
    assert names == grid + per_move and len(per_move) == 45 == F.N_INPUTS
    assert F.input_names() == per_move and len(names) == n_inputs(6, ("foresight",))
    # With other features, foresight's inputs still hold what foresight computes, where their names say.
    features = ("speed", "jump", "probes", "foresight")
    names = input_names(6, features)
    tiles, state, enemies = world(WALKER, (P.RIGHT | P.B, 30))
    out = np.zeros(n_inputs(6, features))
    mask = EpisodeSettings(features=features).kernel_settings().features
    observe_inputs(tiles, state, enemies, 6, mask, out, F.sight_buffers(6, FRAME_SKIP))
    alone = sense(tiles, state, enemies)
    for move in F.MOVES:
        for part in F.PARTS:
            assert out[names.index(f"foresight.{move}.{part}")] == row(alone, move)[part]


@st.composite
def generated_episode(draw):
    """A generated level, a view radius and a few decisions of random buttons."""
    level = parse_level(generate_text(draw(st.integers(0, 10**6)), draw(st.integers(1, 10))), "gen.txt")
    return level, draw(st.sampled_from([1, 2, 4, 6])), draw(st.lists(BUTTONS, min_size=1, max_size=80))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(episode=generated_episode(), rule=st.sampled_from([P.HOLD, P.PRESS]))
def test_inputs_stay_in_range_and_foresight_leaves_the_world_as_it_was(episode, rule):
    level, radius, decisions = episode
    tiles, state, enemies = P.new_world(level, rule)
    sight = F.sight_buffers(radius, FRAME_SKIP)
    cells = (2 * radius + 1) ** 2
    out = np.zeros(cells + F.N_INPUTS)
    for buttons in decisions:
        before = tiles.copy(), state.copy(), enemies.copy()
        observe_inputs(tiles, state, enemies, radius, FORESIGHT, out, sight)
        assert all(np.array_equal(a, b) for a, b in zip(before, (tiles, state, enemies)))
        o = out[cells:].reshape(len(F.MOVES), len(F.PARTS))
        progress, dies, stomps, away, frames = o.T
        assert np.isin(o[:, 1:4], (0.0, 1.0)).all() and (dies + stomps + away <= 1).all()  # at most one fate
        assert ((0 <= frames) & (frames <= 1)).all()
        applies = frames > 0
        assert (o[~applies] == NOT_APPLICABLE).all()
        assert applies[: F.N_GROUND].all() == bool(state[P.S_GROUND]) != applies[F.N_GROUND + 1 :].all()
        assert ((-1 <= progress) & (progress <= 1)).all(), progress
        if P.advance(tiles, state, enemies, buttons, FRAME_SKIP, 0, 0) != P.RUNNING:
            break


def test_the_gymnasium_observation_stays_in_its_space():
    # Running and jumping on flat ground with a small view: foresight's progress is in the Box the env declares.
    flat = make_level(*["-" * 80] * 3, "-M" + "-" * 77 + "F", "X" * 80, "X" * 80)
    env = gym.make("tilerunner/TileRunner-v0", level=flat, view_radius=2, features=("foresight",)).unwrapped
    obs, _ = env.reset()
    assert env.observation_space["foresight"].shape == (9, 5)
    for step in range(60):
        assert env.observation_space.contains(obs), (step, obs["foresight"][:, 0])
        obs, _, terminated, truncated, _ = env.step(np.array([0, 1, 0, 0, step % 8 < 4, 1], np.int8))
        if terminated or truncated:
            break


# ---------------------------------------------------------------------------------------------
# The same bits on every path

SEES = EpisodeSettings(features=("foresight",))
# A walker, a spiky, a gap, a coin block and a block to jump: networks that see only foresight end
# here in different ways (finished, dead, stalled).
PLAYGROUND = make_level(
    "------------------------------------",
    "------------------------------------",
    "------------?-----------------------",
    "-M-------g-------y-------#---------F",
    "XXXXXXXXXXXXX---XXXXXXXXXXXXX--XXXXX",
    "XXXXXXXXXXXXX---XXXXXXXXXXXXX--XXXXX",
)


@pytest.fixture(scope="module")
def seers(tmp_path_factory):
    """(config, genomes): networks wired to foresight's 45 inputs only (their grid links taken out), so that
    every button they press comes from what foresight says."""
    config = make_config(
        tmp_path_factory.mktemp("seers"),
        num_inputs=str(SEES.n_inputs),
        num_outputs="6",
        initial_connection="full_direct",
    )
    genomes = grow(config, 12, seed=1, mutations=2)
    grid = (2 * SEES.view_radius + 1) ** 2
    for g in genomes:
        for key in [k for k in g.connections if -grid <= k[0] <= -1]:
            del g.connections[key]
    return config, genomes


def test_the_kernel_playback_and_gymnasium_see_and_do_the_same_with_foresight(seers):
    config, genomes = seers
    s = SEES
    endings = set()
    for genome in genomes[:8]:
        # The fused kernel: buttons per decision, (x, y) per frame.
        buttons = np.zeros(s.max_frames // s.frame_skip + 2, np.int64)
        xy = np.zeros((s.max_frames + s.frame_skip, 2), np.int64)
        result, n = play_recorded(
            compile_population([genome], config), pack_levels([PLAYGROUND]), 0, s.kernel_settings(), buttons, xy
        )
        frames = int(result[R_FRAMES])
        endings.add(P.STATUS_NAMES[int(result[R_STATUS])])
        # Playback, a frame at a time: the inputs of each decision, the same buttons and path.
        playback = Playback(CompiledNetwork.create(genome, config), PLAYGROUND, s)
        inputs, path = [], []
        while True:
            deciding = playback.frame % s.frame_skip == 0
            going = playback.step()
            if deciding:
                inputs.append(playback.inputs.copy())
            path.append((playback.state[P.S_X], playback.state[P.S_Y]))
            if not going:
                break
        assert playback.decisions == list(buttons[:n]) and np.array_equal(np.array(path), xy[:frames])
        # Gymnasium, a decision a step: the Dict observation, flattened, is the network's input vector.
        env = gym.make(
            "tilerunner/TileRunner-v0",
            level=PLAYGROUND,
            frame_skip=s.frame_skip,
            max_frames=s.max_frames,
            stall_frames=s.stall_frames,
            features=s.features,
        )
        net = compile(genome, config)
        obs, _ = env.reset()
        for k in range(n):
            flat = np.concatenate([obs["grid"].ravel(), obs["foresight"].ravel()])
            assert np.array_equal(flat, inputs[k].astype(np.float32)), k
            obs, _, terminated, truncated, info = env.step(pressed(mask_from_outputs(net.activate(flat), s.threshold)))
            frame = min(frames, (k + 1) * s.frame_skip) - 1
            assert tuple(env.unwrapped.world[1][[P.S_X, P.S_Y]]) == tuple(xy[frame]), k
        assert terminated or truncated
        assert info["frames"] == frames and info["status"] == P.STATUS_NAMES[int(result[R_STATUS])]
    assert {"finished", "dead", "stalled"} <= endings  # the comparison covered different endings


# Plays pickled (networks, levels, settings) on 1 thread and on 2, in a process started with
# NUMBA_NUM_THREADS=2 (so two threads exist even on a one-core machine), and saves both results.
ONE_AND_TWO_THREADS = """
import pickle, sys
import numba
import numpy as np
from tilerunner.evolve.core.rollout import play_networks
with open(sys.argv[1], "rb") as fh:
    nets, levels, settings = pickle.load(fh)
runs = []
for threads in (1, 2):
    numba.set_num_threads(threads)
    assert numba.get_num_threads() == threads
    runs.append(play_networks(nets, levels, settings))
np.save(sys.argv[2], np.stack(runs))
"""


def test_results_with_foresight_do_not_depend_on_the_number_of_threads(seers, tmp_path):
    config, genomes = seers
    nets = compile_population(genomes, config)
    levels = pack_levels([PLAYGROUND, WALKER, ISLAND])
    with open(tmp_path / "work.pkl", "wb") as fh:
        pickle.dump((nets, levels, SEES.kernel_settings()), fh)
    subprocess.run(
        [sys.executable, "-c", ONE_AND_TWO_THREADS, str(tmp_path / "work.pkl"), str(tmp_path / "runs.npy")],
        check=True,
        env=dict(os.environ, NUMBA_NUM_THREADS="2"),
        timeout=600,
    )
    one, two = np.load(tmp_path / "runs.npy")
    assert np.array_equal(one, two)
    assert np.array_equal(one, play_networks(nets, levels, SEES.kernel_settings()))  # and this process agrees
    assert len(np.unique(one[:, :, R_FRAMES])) > 5  # many different episodes, not one repeated


# ---------------------------------------------------------------------------------------------
# Replays (every shipped replay, made before foresight, is checked in test_replay.py)


def test_a_replay_of_a_network_that_sees_foresight_records_it_and_verifies(seers, tmp_path):
    config, genomes = seers
    replay = make_replay(genomes[1], NetworkShape.from_genome_config(config.genome_config), [PLAYGROUND, WALKER], SEES)
    path = tmp_path / "seer.json"
    replay.save(path)
    data = json.loads(path.read_text())
    assert data["settings"]["features"] == ["foresight"] and data["network"]["num_inputs"] == 13 * 13 + 45
    loaded = load_replay(path)
    assert loaded.settings.features == ("foresight",)
    checks = verify(loaded)
    assert len(checks) == 2 and all(c.identical for c in checks)
    assert {c.episode.outcome.status for c in checks} != {"stalled"}  # it did something worth proving
    # Without foresight the genome does not fit its inputs: refused in one line, not played wrongly.
    data["settings"]["features"] = []
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="inputs"):
        load_replay(path)


def test_a_player_above_the_tallest_level_is_foreseen_without_overrunning_the_scratch():
    # 64 rows (the most a level may have), the player standing on the top row and jumping off the top of the level.
    rows = ["-M" + "-" * 28 + "F", "X" * 31] + ["-" * 31] * 61 + ["X" * 31]
    tiles, state, enemies = world(make_level(*rows), (P.RIGHT | P.B | P.A, 30))
    assert state[P.S_Y] < 0  # above the level's top
    inputs = sense(tiles, state, enemies, radius=20)
    assert np.all(np.abs(inputs) <= 1.0) and row(inputs, "let-go")["dies"] == 0.0
