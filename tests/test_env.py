"""The gymnasium environment: registered, checker-clean, and the same world as the physics kernels."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import tilerunner.envs as envs
from tilerunner.envs import physics as P
from tilerunner.envs.buttons import mask_from_pressed
from tilerunner.envs.level import parse_level

RIGHT_RUN = np.array([0, 1, 0, 0, 0, 1], dtype=np.int8)
NOTHING = np.zeros(6, dtype=np.int8)

GAP_LEVEL = parse_level(
    "\n".join(
        ["-" * 40] * 13
        + ["--------------------------g-------------", "X" * 12 + "---" + "X" * 25, "X" * 12 + "---" + "X" * 25]
    )
    + "\n",
    "gap.txt",
)
SHORT_LEVEL = parse_level("--------\n-------F\nXXXXXXXX\n", "short.txt")


def test_make_by_id_after_install():
    env = gym.make("tilerunner/TileRunner-v0", level="1-1")
    assert env.observation_space == gym.spaces.Box(-1, 1, (13, 13), np.float32)
    assert env.action_space == gym.spaces.MultiBinary(6)
    obs, info = env.reset(seed=0)
    assert obs.shape == (13, 13) and obs.dtype == np.float32
    assert set(info) >= {"x", "rightmost", "frames", "coins", "kills", "status"}
    assert info["status"] == "running" and info["frames"] == 0
    env.close()


def test_env_checker_passes_without_warnings():
    env = gym.make("tilerunner/TileRunner-v0", level="1-1", render_mode="rgb_array").unwrapped
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, skip_render_check=False)
    assert [str(w.message) for w in caught] == []


def test_view_radius_sets_the_observation_size():
    env = gym.make("tilerunner/TileRunner-v0", level=GAP_LEVEL, view_radius=3)
    obs, _ = env.reset()
    assert obs.shape == (7, 7) and env.observation_space.shape == (7, 7)


def test_rewards_add_up_to_the_distance_reached():
    env = gym.make("tilerunner/TileRunner-v0", level=GAP_LEVEL, frame_skip=4)
    _, info = env.reset()
    start = info["rightmost"]
    total = 0.0
    for _ in range(300):
        _, reward, terminated, truncated, info = env.step(RIGHT_RUN)
        assert reward >= 0
        total += reward
        if terminated or truncated:
            break
    assert total == pytest.approx(info["rightmost"] - start)
    assert terminated and not truncated
    assert info["status"] == "dead" and info["cause"] in ("pit", "enemy")


def test_finishing_terminates():
    env = gym.make("tilerunner/TileRunner-v0", level=SHORT_LEVEL)
    env.reset()
    for _ in range(100):
        _, _, terminated, truncated, info = env.step(RIGHT_RUN)
        if terminated or truncated:
            break
    assert terminated and info["status"] == "finished"


def test_standing_still_is_truncated_as_stalled():
    env = gym.make("tilerunner/TileRunner-v0", level=GAP_LEVEL, frame_skip=5, stall_frames=60)
    env.reset()
    steps = 0
    while True:
        _, _, terminated, truncated, info = env.step(NOTHING)
        steps += 1
        if terminated or truncated:
            break
    assert truncated and not terminated and info["status"] == "stalled"
    assert info["frames"] == 60 and steps == 12


def test_max_frames_truncates_as_timeout():
    env = gym.make("tilerunner/TileRunner-v0", level=GAP_LEVEL, frame_skip=3, max_frames=30, stall_frames=0)
    env.reset()
    for _ in range(10):
        _, _, terminated, truncated, info = env.step(NOTHING)
    assert truncated and not terminated and info["status"] == "timeout" and info["frames"] == 30


def test_env_steps_give_the_same_trajectory_as_the_kernel():
    rng = np.random.default_rng(3)
    actions = rng.integers(0, 2, size=(200, 6)).astype(np.int8)
    actions[:, 1] |= rng.random(200) < 0.7  # mostly going right
    env = gym.make("tilerunner/TileRunner-v0", level="1-2", frame_skip=5, stall_frames=0)
    env.reset()
    tiles, state, enemies = P.new_world(env.unwrapped.level)
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        for _ in range(5):
            P.step(tiles, state, enemies, mask_from_pressed(action))
        e_tiles, e_state, e_enemies = env.unwrapped.world
        assert np.array_equal(e_state, state)
        assert np.array_equal(e_enemies, enemies) and np.array_equal(e_tiles, tiles)
        if terminated or truncated:
            break


def test_same_actions_same_episode():
    def episode():
        env = gym.make("tilerunner/TileRunner-v0", level="gen:4:5")
        obs, _ = env.reset(seed=123)
        out = [obs]
        for i in range(150):
            obs, r, term, trunc, info = env.step(RIGHT_RUN | np.int8(i % 7 == 0) * np.eye(6, dtype=np.int8)[4])
            out.append(obs)
            if term or trunc:
                break
        return np.array(out), info

    a, info_a = episode()
    b, info_b = episode()
    assert np.array_equal(a, b) and info_a == info_b


def test_reset_can_switch_level():
    env = gym.make("tilerunner/TileRunner-v0", level="1-1")
    env.reset(options={"level": SHORT_LEVEL})
    assert env.unwrapped.level is SHORT_LEVEL


def test_rgb_array_render_is_an_image():
    env = gym.make("tilerunner/TileRunner-v0", level="1-1", render_mode="rgb_array")
    env.reset()
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert frame.shape[0] == env.unwrapped.level.height * 16


def test_human_render_shows_the_game_in_a_window_and_closes_it(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    import pygame

    def on_screen() -> np.ndarray:
        return pygame.surfarray.array3d(pygame.display.get_surface()).swapaxes(0, 1)

    env = gym.make("tilerunner/TileRunner-v0", level=GAP_LEVEL, render_mode="human", frame_skip=10)
    env.reset()  # opens the window on the first frame
    assert pygame.display.get_caption()[0] == "tilerunner gap.txt"
    start = on_screen()
    env.step(RIGHT_RUN)
    moved = on_screen()
    # What the window shows is the game, scaled up 3x: the same picture rgb_array mode gives.
    twin = gym.make("tilerunner/TileRunner-v0", level=GAP_LEVEL, render_mode="rgb_array", frame_skip=10)
    twin.reset()
    first = twin.render()
    twin.step(RIGHT_RUN)
    second = twin.render()
    assert start.shape == (first.shape[0] * 3, first.shape[1] * 3, 3)
    assert np.array_equal(start[::3, ::3], first) and np.array_equal(moved[::3, ::3], second)
    assert not np.array_equal(start, moved)  # the player ran right: the window changed
    assert len(np.unique(start.reshape(-1, 3), axis=0)) > 5  # sky, ground, player: not a blank window
    env.close()
    assert not pygame.display.get_init()  # closing the env closes its window
    env.close()  # and closing twice is fine


@pytest.mark.parametrize(
    "kwargs", [{"frame_skip": 0}, {"view_radius": -1}, {"max_frames": -5}, {"render_mode": "ansi"}]
)
def test_bad_arguments_are_rejected(kwargs):
    with pytest.raises(ValueError):
        envs.TileRunnerEnv(level="1-1", **kwargs)
