"""Fused rollouts: the same trajectory as the gymnasium env, honest outcomes, thread-count independent."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import tilerunner.envs  # noqa: F401  (registers the env)
from tilerunner.agent import compile, compile_population
from tilerunner.envs import physics as P
from tilerunner.envs.buttons import mask_from_outputs, pressed
from tilerunner.envs.level import load_level, parse_level
from tilerunner.evolve.core.evolution import Evolution
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.neat_config import load_config
from tilerunner.evolve.core.outcome import (
    R_COINS,
    R_DISTANCE,
    R_FINISHED,
    R_FITNESS,
    R_FRAMES,
    R_KILLS,
    R_STATUS,
    OutcomeTable,
)
from tilerunner.evolve.core.rollout import pack_levels, play_networks, play_recorded

FIT = EpisodeSettings()


@pytest.fixture(scope="module")
def trained():
    """A few generations on 1-2: a mix of genomes that die, stall and get far."""
    evolution = Evolution(load_config(neat_overrides={"pop_size": 60}), [load_level("1-2")], FIT, seed=3)
    for _ in range(4):
        evolution.reproduce(evolution.play_generation())
    results = evolution.play_generation().table.array
    genomes = list(evolution.population.population.values())
    return evolution, genomes, results


def gym_trajectory(genome, config, level, fit: EpisodeSettings):
    """Drive gymnasium's env one frame per step, deciding every frame_skip frames from its observation."""
    env = gym.make(
        "tilerunner/TileRunner-v0", level=level, frame_skip=1, max_frames=fit.max_frames, stall_frames=fit.stall_frames
    )
    net = compile(genome, config)
    obs, info = env.reset()
    xy = []
    frame = 0
    while True:
        if frame % fit.frame_skip == 0:
            action = pressed(mask_from_outputs(net.activate(obs.ravel()), fit.threshold))
        obs, _, terminated, truncated, info = env.step(action)
        state = env.unwrapped.world[1]
        xy.append((state[P.S_X], state[P.S_Y]))
        frame += 1
        if terminated or truncated:
            return np.array(xy), info


def test_kernel_and_gymnasium_give_the_same_trajectory_frame_by_frame(trained):
    evolution, genomes, results = trained
    level = evolution.levels[0]
    best = int(np.argmax(results[:, 0, R_FITNESS]))
    picks = [best] + list(range(0, len(genomes), 12))
    statuses = set()
    for i in picks:
        g = genomes[i]
        xy_gym, info = gym_trajectory(g, evolution.config, level, FIT)
        n = len(xy_gym)
        buttons = np.zeros(n // FIT.frame_skip + 2, np.int64)
        xy = np.zeros((n + FIT.frame_skip, 2), np.int64)
        row, _ = play_recorded(
            compile_population([g], evolution.config), pack_levels([level]), 0, FIT.kernel_settings(), buttons, xy
        )
        assert int(row[R_FRAMES]) == n == info["frames"]
        assert np.array_equal(xy[:n], xy_gym)
        assert P.STATUS_NAMES[int(row[R_STATUS])] == info["status"]
        assert row[R_COINS] == info["coins"] and row[R_KILLS] == info["kills"]
        # ... and the population kernel agrees with the recorded single play.
        assert np.array_equal(row, results[i, 0])
        statuses.add(info["status"])
    assert len(statuses) >= 2  # the comparison covered different endings


def test_outcome_numbers_follow_the_fitness_formula(trained):
    _, _, results = trained
    r = results[:, 0]
    expected = r[:, R_DISTANCE] - FIT.time_penalty * r[:, R_FRAMES] + FIT.finish_bonus * r[:, R_FINISHED]
    assert np.allclose(r[:, R_FITNESS], expected)
    assert (r[:, R_DISTANCE] >= 0).all() and (r[:, R_FRAMES] > 0).all()


def test_every_fitness_term_counts(trained):
    evolution, genomes, _ = trained
    nets = compile_population(genomes, evolution.config)
    levels = pack_levels(evolution.levels)
    rich = EpisodeSettings(time_penalty=0.0, finish_bonus=0.0, death_penalty=100.0, coin_bonus=10.0, kill_bonus=50.0)
    r = play_networks(nets, levels, rich.kernel_settings())[:, 0]
    dead = r[:, R_STATUS] == P.DEAD
    expected = r[:, R_DISTANCE] - 100.0 * dead + 10.0 * r[:, R_COINS] + 50.0 * r[:, R_KILLS]
    assert np.allclose(r[:, R_FITNESS], expected)
    assert dead.any() and (r[:, R_COINS] > 0).any()


def test_several_levels_combine_by_mean_min_or_sum(trained):
    evolution, genomes, _ = trained
    levels = [load_level("1-1"), load_level("1-2"), load_level("gen:3:2")]
    nets = compile_population(genomes, evolution.config)
    results = play_networks(nets, pack_levels(levels), FIT.kernel_settings())
    assert results.shape == (len(genomes), 3, results.shape[2])
    per_level = results[:, :, R_FITNESS]
    table = OutcomeTable(results, levels)
    assert np.allclose(EpisodeSettings(aggregate="mean").combine(table), per_level.mean(axis=1))
    assert np.allclose(EpisodeSettings(aggregate="min").combine(table), per_level.min(axis=1))
    assert np.allclose(EpisodeSettings(aggregate="sum").combine(table), per_level.sum(axis=1))
    # Each column is that level played alone.
    alone = play_networks(nets, pack_levels([levels[2]]), FIT.kernel_settings())
    assert np.array_equal(alone[:, 0], results[:, 2])


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


def test_results_do_not_depend_on_the_number_of_threads(trained, tmp_path):
    evolution, genomes, results = trained
    nets = compile_population(genomes, evolution.config)
    levels = pack_levels([*evolution.levels, load_level("gen:5:6")])
    with open(tmp_path / "work.pkl", "wb") as fh:
        pickle.dump((nets, levels, FIT.kernel_settings()), fh)
    env = dict(os.environ, NUMBA_NUM_THREADS="2")
    subprocess.run(
        [sys.executable, "-c", ONE_AND_TWO_THREADS, str(tmp_path / "work.pkl"), str(tmp_path / "runs.npy")],
        check=True,
        env=env,
        timeout=300,
    )
    one, two = np.load(tmp_path / "runs.npy")
    assert np.array_equal(one, two)
    assert np.array_equal(one, play_networks(nets, levels, FIT.kernel_settings()))  # and this process agrees
    assert np.array_equal(one[:, :1], results)  # with the evolution's own evaluation too
    assert len(np.unique(one[:, :, R_FITNESS])) > 10  # many different episodes, not one repeated


def test_stall_and_frame_limits_end_episodes():
    level = parse_level("-" * 40 + "\n" + "M" + "-" * 39 + "\n" + "X" * 40 + "\n")  # no pit, no enemy
    config = load_config(neat_overrides={"pop_size": 40})

    def play(settings: EpisodeSettings) -> np.ndarray:
        return Evolution(config, [level], settings, seed=0).play_generation().table.array[:, 0]

    # Stalling alone (no frame limit): whoever makes no progress for 50 frames is stopped there.
    stall = play(EpisodeSettings(stall_frames=50, max_frames=0))
    idle = stall[:, R_DISTANCE] == 0
    assert idle.any() and (stall[idle, R_FRAMES] == 50).all() and (stall[idle, R_STATUS] == P.STALLED).all()
    assert not (stall[:, R_STATUS] == P.TIMEOUT).any()
    # The frame limit alone (no stalling): nobody can die or reach the exit in 90 frames, so all time out there.
    limit = play(EpisodeSettings(stall_frames=0, max_frames=90))
    assert (limit[:, R_FRAMES] == 90).all() and (limit[:, R_STATUS] == P.TIMEOUT).all()
    assert (limit[:, R_DISTANCE] > 0).any() and (limit[:, R_DISTANCE] == 0).any()  # movers and idlers alike
    # Both: the idle stall at 50 as before; the others go on to the limit, or stall later once they stop.
    both = play(EpisodeSettings(stall_frames=50, max_frames=90))
    assert np.array_equal(both[idle], stall[idle])
    ended = both[~idle]
    assert (
        (ended[:, R_STATUS] == P.TIMEOUT) & (ended[:, R_FRAMES] == 90)
        | (ended[:, R_STATUS] == P.STALLED) & (ended[:, R_FRAMES] < 90)
    ).all()
    assert (ended[:, R_STATUS] == P.TIMEOUT).any()


def test_the_jump_penalty_costs_each_take_off(trained):
    from tilerunner.agent import CompiledNetwork
    from tilerunner.evolve.core.playback import Playback

    evolution, genomes, _ = trained
    nets = compile_population(genomes, evolution.config)
    levels = pack_levels(evolution.levels)
    plain = play_networks(nets, levels, FIT.kernel_settings())[:, 0]
    costly = play_networks(nets, levels, EpisodeSettings(jump_penalty=7.0).kernel_settings())[:, 0]
    assert np.array_equal(plain[:, R_FRAMES], costly[:, R_FRAMES])  # the same episodes, scored otherwise
    jumped = 0
    for i in range(0, len(genomes), 6):
        # Count take-offs frame by frame: on the ground, then in the air and rising.
        playback = Playback(CompiledNetwork.create(genomes[i], evolution.config), evolution.levels[0], FIT)
        take_offs = 0
        while True:
            grounded = playback.state[P.S_GROUND]
            going = playback.step()
            take_offs += bool(grounded and not playback.state[P.S_GROUND] and playback.state[P.S_VY] < 0)
            if not going:
                break
        assert plain[i, R_FITNESS] - costly[i, R_FITNESS] == pytest.approx(7.0 * take_offs)
        jumped += take_offs > 0
    assert jumped  # some of them jumped
