"""Physics: the movement a player relies on, checked by playing it, plus invariants under random play."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tilerunner.envs import physics as P
from tilerunner.envs import tiles as T
from tilerunner.envs.level import load_level, parse_level
from tilerunner.envs.observe import observation


def level_from_rows(*rows: str):
    return parse_level("\n".join(rows) + "\n", "test.txt")


def flat(width: int = 40, top: str = "") -> list[str]:
    """Rows of an empty level `width` wide over two ground rows; `top` rows are prepended."""
    return ["-" * width] * (14 - (1 if top else 0)) + ([top] if top else []) + ["X" * width] * 2


def run(level, buttons, frames=None):
    """Step a fresh world; buttons is a mask or a list of masks; return (tiles, state, enemies, states)."""
    tiles, state, enemies = P.new_world(level)
    seq = [buttons] * frames if isinstance(buttons, int) else list(buttons)
    states = []
    for b in seq:
        P.step(tiles, state, enemies, b)
        states.append(state.copy())
    return tiles, state, enemies, np.array(states)


def px(v) -> float:
    return v / P.SUB


def test_standing_on_ground_does_not_move():
    level = level_from_rows(*flat())
    _, state, _, states = run(level, 0, 120)
    assert np.all(states[:, P.S_Y] == states[0, P.S_Y])
    assert state[P.S_GROUND] == 1 and state[P.S_STATUS] == P.RUNNING


def test_walking_and_running_speeds():
    level = level_from_rows(*flat(200))
    _, _, _, walk = run(level, P.RIGHT, 200)
    _, _, _, runs = run(level, P.RIGHT | P.B, 200)
    assert walk[:, P.S_VX].max() == P.WALK_MAX
    assert runs[:, P.S_VX].max() == P.RUN_MAX > P.WALK_MAX
    # Acceleration is gradual: top speed takes many frames to reach.
    assert np.argmax(walk[:, P.S_VX] == P.WALK_MAX) > 20
    assert runs[-1, P.S_X] > walk[-1, P.S_X]


def test_skidding_stops_faster_than_letting_go():
    level = level_from_rows(*flat(200))
    speed_up = [P.RIGHT | P.B] * 80
    _, _, _, coast = run(level, speed_up + [0] * 80)
    _, _, _, skid = run(level, speed_up + [P.LEFT] * 80)
    stop_coast = np.argmax(coast[80:, P.S_VX] <= 0)
    stop_skid = np.argmax(skid[80:, P.S_VX] <= 0)
    assert 0 < stop_skid < stop_coast


def test_left_and_right_together_cancel():
    level = level_from_rows(*flat())
    _, state, _, _ = run(level, P.LEFT | P.RIGHT | P.B, 60)
    assert state[P.S_VX] == 0


def apex_height(level, a_frames: int, run_up: int = 0) -> float:
    seq = [P.RIGHT | P.B] * run_up + [P.A | (P.RIGHT | P.B if run_up else 0)] * a_frames + [0] * 120
    _, _, _, states = run(level, seq)
    ground_y = states[0, P.S_Y]
    return px(ground_y - states[:, P.S_Y].min())


def test_holding_a_longer_jumps_higher():
    level = level_from_rows(*flat(300))
    heights = [apex_height(level, n) for n in (1, 6, 12, 24, 60)]
    assert heights == sorted(heights) and len(set(heights)) == len(heights)
    assert heights[0] < 2 * 16 and heights[-1] > 4 * 16


def test_holding_a_keeps_jumping_on_every_landing():
    level = level_from_rows(*flat(60))
    _, _, _, states = run(level, P.A, 300)  # held down the whole time
    takeoffs = np.flatnonzero((states[1:, P.S_VY] < 0) & (states[:-1, P.S_VY] >= 0))
    assert len(takeoffs) >= 3
    gaps = np.diff(takeoffs)
    assert np.all(gaps == gaps[0])  # the same full-height hop each time
    _, _, _, released = run(level, [P.A] * 30 + [0] * 270)
    assert np.all(released[120:, P.S_GROUND] == 1)  # letting go stops hopping


def test_standing_jump_gets_on_top_of_a_four_tile_wall():
    rows = ["-" * 20] * 10 + ["-----####-----------"] * 4 + ["X" * 20] * 2
    level = level_from_rows(*rows)
    # From a standstill right next to the wall: jump, then steer right.
    tiles, state, enemies = P.new_world(level)
    state[P.S_X] = 5 * P.TILE - P.PLAYER_W - 1 * P.SUB
    for b in [P.A] * 12 + [P.A | P.RIGHT] * 24 + [P.RIGHT] * 14:
        P.step(tiles, state, enemies, b)
    assert state[P.S_GROUND] == 1
    assert state[P.S_Y] == 10 * P.TILE - P.PLAYER_H  # standing on the wall's top row (row 10)
    assert 5 * P.TILE <= state[P.S_X] < 9 * P.TILE


def gap_level(gap: int, run_up: int = 20):
    width = run_up + gap + 20
    ground = "X" * run_up + "-" * gap + "X" * (width - run_up - gap)
    return level_from_rows(*(["-" * width] * 14 + [ground] * 2)), run_up * P.TILE


def cross_gap(gap: int, buttons: int) -> bool:
    """Run at the gap with `buttons`, jumping (A held) at the best take-off point; True if it lands beyond."""
    level, edge = gap_level(gap)
    for early_px in range(0, 40, 2):
        tiles, state, enemies = P.new_world(level)
        jump_at = None
        for f in range(900):
            b = buttons
            if jump_at is None and state[P.S_X] + P.PLAYER_W >= edge - early_px * P.SUB:
                jump_at = f
            if jump_at is not None and f - jump_at < 60:
                b |= P.A
            if P.step(tiles, state, enemies, b) != P.RUNNING:
                break
            if state[P.S_GROUND] and state[P.S_X] > edge + gap * P.TILE:
                return True
    return False


def test_running_jump_clears_a_six_tile_gap_and_walking_does_not():
    assert cross_gap(6, P.RIGHT | P.B)
    assert cross_gap(8, P.RIGHT | P.B)
    assert not cross_gap(6, P.RIGHT)
    assert cross_gap(4, P.RIGHT)


def test_falling_speed_is_capped():
    rows = ["M" + "-" * 9] + ["-" * 10] * 59 + ["X" * 10]
    level = level_from_rows(*rows)
    _, _, _, states = run(level, 0, 200)
    assert states[:, P.S_VY].max() == P.MAX_FALL


def test_falling_into_a_pit_kills():
    level, edge = gap_level(3)
    _, state, _, _ = run(level, P.RIGHT, 600)
    assert state[P.S_STATUS] == P.DEAD and state[P.S_CAUSE] == P.CAUSE_PIT


def test_reaching_the_exit_column_finishes():
    level = level_from_rows("-" * 12, "----------F-", "X" * 12)
    _, state, _, states = run(level, P.RIGHT, 400)
    assert state[P.S_STATUS] == P.FINISHED
    assert state[P.S_X] + P.PLAYER_W // 2 >= 10 * P.TILE
    assert len(states) == 400 and states[-1, P.S_FRAMES] < 400  # stepping after the end does nothing


def test_walls_stop_the_player():
    level = level_from_rows("-" * 12, "------X-----", "X" * 12)
    _, state, _, _ = run(level, P.RIGHT | P.B, 300)
    assert state[P.S_X] == 6 * P.TILE - P.PLAYER_W and state[P.S_VX] == 0
    level = level_from_rows("----M-------", "X" * 12)
    _, state, _, _ = run(level, P.LEFT | P.B, 300)
    assert state[P.S_X] == 0  # the left edge of the level is a wall


def bump_level(block: str):
    # The block is 3 rows above the player's head: a standing jump reaches it.
    return level_from_rows("-" * 8, "-" * 8, f"--{block}-----", "-" * 8, "-" * 8, "--M-----", "X" * 8)


@pytest.mark.parametrize("block, coins", [("Q", 1), ("?", 1), ("C", 1), ("2", 1), ("S", 0), ("D", 0)])
def test_head_bumps_open_coin_blocks(block, coins):
    level = bump_level(block)
    tiles, state, _, states = run(level, [P.A] * 30 + [0] * 60)
    assert state[P.S_COINS] == coins
    assert tiles[2, 2] == (T.USED if coins else level.tiles[2, 2])
    assert states[:, P.S_Y].min() == 3 * P.TILE  # the head stopped at the block's underside


def test_hidden_blocks_are_invisible_and_can_be_walked_through():
    level = level_from_rows("-" * 8, "--2-----", "M-------", "X" * 8)
    obs = observation(*P.new_world(level), radius=1)
    assert obs[0, 2] == 0  # up-right of the player: the hidden block does not show
    tiles, state, _, _ = run(level, P.RIGHT, 60)
    assert state[P.S_X] > 3 * P.TILE and tiles[1, 2] == T.HIDDEN


def test_coins_are_collected_on_touch():
    level = level_from_rows("-" * 12, "M-ooo-------", "X" * 12)
    tiles, state, _, _ = run(level, P.RIGHT, 120)
    assert state[P.S_COINS] == 3 and not (tiles == T.COIN).any()


def test_jump_through_platforms_are_solid_only_from_above():
    rows = ["-" * 10] * 4 + ["--%%%%----", "--||||----", "--||||----", "M-||||----", "X" * 10]
    level = level_from_rows(*rows)
    # Walk right under/through the supports: not solid from the side.
    _, state, _, _ = run(level, P.RIGHT, 120)
    assert state[P.S_X] > 6 * P.TILE
    # Jump straight up from beneath the platform: pass through it, land on top.
    tiles, state, enemies = P.new_world(level)
    state[P.S_X] = 3 * P.TILE
    for b in [P.A] * 40 + [0] * 60:
        P.step(tiles, state, enemies, b)
    assert state[P.S_GROUND] == 1 and state[P.S_Y] == 4 * P.TILE - P.PLAYER_H


def enemy_world(rows, player_col=None):
    level = level_from_rows(*rows)
    tiles, state, enemies = P.new_world(level)
    if player_col is not None:
        state[P.S_X] = player_col * P.TILE
    return level, tiles, state, enemies


def test_enemies_sleep_until_the_player_is_near():
    rows = flat(60, "-" * 40 + "g" + "-" * 19)
    _, tiles, state, enemies = enemy_world(rows)
    for _ in range(60):
        P.step(tiles, state, enemies, 0)
    assert enemies[0, P.E_STATE] == P.DORMANT and enemies[0, P.E_X] == 40 * P.TILE + P.SUB
    state[P.S_X] = 30 * P.TILE
    P.step(tiles, state, enemies, 0)
    assert enemies[0, P.E_STATE] == P.ACTIVE


def test_walkers_turn_at_walls_and_walk_off_ledges():
    # A walker at column 10 between a block at column 4 and the end of the ground after column 14.
    rows = ["-" * 20] * 12 + ["----#-----g---------", "XXXXXXXXXXXXXXX-----", "-" * 20]
    _, tiles, state, enemies = enemy_world(rows)
    spawn_x, ground_y = enemies[0, P.E_X], enemies[0, P.E_Y]
    xs, ys = [], []
    for _ in range(700):
        P.step(tiles, state, enemies, 0)
        xs.append(enemies[0, P.E_X])
        ys.append(enemies[0, P.E_Y])
    xs, ys = np.array(xs), np.array(ys)
    # It walks left at its speed, all the way to the block, and stops against the block's right side.
    at_wall = int(np.argmin(xs))
    assert xs.min() == 5 * P.TILE
    assert at_wall + 1 == (spawn_x - 5 * P.TILE) // P.ENEMY_SPEED  # 81 px at 0.5 px/frame: 162 frames
    assert (np.diff(xs[: at_wall + 1]) == -P.ENEMY_SPEED).all() and (ys[: at_wall + 1] == ground_y).all()
    # Then it turns and walks right at the same speed, along the ground, to its end ...
    off = int(np.argmax(ys > ground_y))
    assert (np.diff(xs[at_wall + 1 : off]) == P.ENEMY_SPEED).all()
    assert xs[off] >= 15 * P.TILE - P.ENEMY_W // 2  # its centre had passed the last ground column
    # ... and walks off it: it falls, out of the level.
    assert (np.diff(ys[off : off + 10]) > 0).all() and ys.max() > 15 * P.TILE
    assert enemies[0, P.E_STATE] == P.GONE


def test_ledge_turners_stay_on_their_ledge():
    rows = ["-" * 20] * 12 + ["--------r-----------", "------XXXXXX--------", "-" * 20, "-" * 20]
    rows[-1] = "X" * 20
    _, tiles, state, enemies = enemy_world(rows, player_col=1)
    xs = []
    for _ in range(600):
        P.step(tiles, state, enemies, 0)
        xs.append(enemies[0, P.E_X])
    assert min(xs) >= 6 * P.TILE and max(xs) + P.ENEMY_W <= 12 * P.TILE
    assert len(set(np.sign(np.diff(xs)))) == 2  # it turned both ways
    assert enemies[0, P.E_Y] == 12 * P.TILE


def test_winged_enemies_hop():
    rows = flat(30, "---------G" + "-" * 20)
    _, tiles, state, enemies = enemy_world(rows)
    ys = []
    for _ in range(300):
        P.step(tiles, state, enemies, 0)
        ys.append(enemies[0, P.E_Y])
    assert max(ys) - min(ys) > 2 * P.TILE
    assert sum(1 for a, b in zip(ys, ys[1:]) if a < b) > 50  # repeatedly falls


def stomp_world(enemy: str):
    # The player drops from above onto an enemy standing still under it.
    rows = flat(30, "-" * 10 + enemy + "-" * 19)
    rows[5] = "-" * 10 + "M" + "-" * 19
    _, tiles, state, enemies = enemy_world(rows)
    enemies[0, P.E_STATE] = P.ACTIVE  # already awake, standing still
    state[P.S_X] = enemies[0, P.E_X] + P.SUB
    return tiles, state, enemies


def test_stomping_a_walker_kills_it_and_bounces():
    tiles, state, enemies = stomp_world("g")
    vys = []
    for _ in range(120):
        P.step(tiles, state, enemies, 0)
        vys.append(state[P.S_VY])
    assert state[P.S_STATUS] == P.RUNNING and state[P.S_KILLS] == 1
    assert enemies[0, P.E_STATE] in (P.SQUASHED, P.GONE)
    assert min(vys) == -P.STOMP_BOUNCE


def test_stomping_a_winged_walker_clips_its_wings():
    tiles, state, enemies = stomp_world("G")
    enemies[0, P.E_VX] = 0
    for _ in range(120):
        if P.step(tiles, state, enemies, 0) != P.RUNNING or enemies[0, P.E_WINGED] == 0:
            break
    assert state[P.S_STATUS] == P.RUNNING
    assert enemies[0, P.E_WINGED] == 0 and enemies[0, P.E_STATE] == P.ACTIVE and state[P.S_KILLS] == 0


def test_stomping_a_spiky_enemy_kills_the_player():
    tiles, state, enemies = stomp_world("y")
    for _ in range(120):
        P.step(tiles, state, enemies, 0)
    assert state[P.S_STATUS] == P.DEAD and state[P.S_CAUSE] == P.CAUSE_SPIKY


def test_walking_into_an_enemy_kills_the_player():
    level = level_from_rows(*flat(30, "-" * 10 + "g" + "-" * 19))
    _, state, enemies, _ = run(level, P.RIGHT, 300)
    assert state[P.S_STATUS] == P.DEAD and state[P.S_CAUSE] == P.CAUSE_ENEMY
    assert enemies[0, P.E_STATE] == P.ACTIVE


def test_the_observation_shows_ground_enemies_and_the_level_edge():
    level = level_from_rows(*flat(30, "--M---g" + "-" * 23))
    tiles, state, enemies = P.new_world(level)
    P.step(tiles, state, enemies, 0)
    obs = observation(tiles, state, enemies)
    assert obs.shape == (13, 13) and obs.dtype == np.float32
    assert np.all(obs[7:9, :] == 1)  # the two ground rows below the player (and the wall left of 0)
    assert np.all(obs[:6, 4:] == 0)  # open sky above and ahead
    assert list(obs[6, 4:]) == [0, 0, 0, 0, 0, 0, -1, 0, 0]
    assert obs[6, 6 + 4] == -1  # the walker, four tiles to the right, on the player's row
    assert np.all(obs[:, :4] == 1)  # columns left of the level edge read as solid


def overlaps_solid(tiles, x, y, w, h) -> bool:
    rows, cols = tiles.shape
    for r in range(y >> P.TILE_SHIFT, ((y + h - 1) >> P.TILE_SHIFT) + 1):
        for c in range(x >> P.TILE_SHIFT, ((x + w - 1) >> P.TILE_SHIFT) + 1):
            if c < 0 or c >= cols:
                return True
            if 0 <= r < rows and T.SOLID[tiles[r, c]]:
                return True
    return False


button_runs = st.lists(st.tuples(st.integers(0, 63), st.integers(1, 40)), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), difficulty=st.integers(1, 10), runs=button_runs)
def test_random_play_keeps_every_invariant(seed, difficulty, runs):
    level = load_level(f"gen:{seed}:{difficulty}")
    tiles, state, enemies = P.new_world(level)
    buttons = [b for b, n in runs for _ in range(n)]
    trace = []
    for b in buttons:
        status = P.step(tiles, state, enemies, b)
        trace.append((state.copy(), enemies.copy()))
        assert not overlaps_solid(tiles, state[P.S_X], state[P.S_Y], P.PLAYER_W, P.PLAYER_H)
        for e in enemies:
            if e[P.E_STATE] == P.ACTIVE:
                assert not overlaps_solid(tiles, e[P.E_X], e[P.E_Y], P.ENEMY_W, P.ENEMY_H)
        assert abs(state[P.S_VX]) <= P.RUN_MAX and state[P.S_VY] <= P.MAX_FALL
        obs = observation(tiles, state, enemies)
        assert np.isfinite(obs).all() and set(np.unique(obs)) <= {-1.0, 0.0, 1.0}
        if status != P.RUNNING:
            break
    # Determinism: the same buttons give the same trajectory, frame for frame.
    tiles2, state2, enemies2 = P.new_world(level)
    for (s, e), b in zip(trace, buttons):
        P.step(tiles2, state2, enemies2, b)
        assert np.array_equal(s, state2) and np.array_equal(e, enemies2)


def test_advance_stops_on_stall_and_timeout():
    level = level_from_rows(*flat(200))
    tiles, state, enemies = P.new_world(level)
    assert P.advance(tiles, state, enemies, 0, 500, 0, 90) == P.STALLED
    assert state[P.S_FRAMES] == 90
    tiles, state, enemies = P.new_world(level)
    assert P.advance(tiles, state, enemies, P.RIGHT, 500, 100, 90) == P.TIMEOUT
    assert state[P.S_FRAMES] == 100
    # Once ended, further frames change nothing.
    before = state.copy()
    assert P.advance(tiles, state, enemies, P.RIGHT, 50, 0, 0) == P.TIMEOUT
    assert np.array_equal(before, state)
