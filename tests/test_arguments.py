"""Issue 29 item 6: the Python API and the gymnasium env say what is wrong with an argument, in one line that names
it, its value and what is allowed, instead of crashing deep inside; a `Path` is a level wherever a string is; numpy
integers are whole numbers (bool is not); the env, the library and the flags share one table of limits."""

from __future__ import annotations

import random
from pathlib import Path

import gymnasium as gym
import neat
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tilerunner
from tilerunner import EpisodeSettings, RunOptions
from tilerunner.envs import episode_defaults
from tilerunner.envs.arguments import finite_number, whole_number
from tilerunner.envs.env import TileRunnerEnv
from tilerunner.evolve.flags.types import setting_type

ROOT = Path(__file__).resolve().parents[1]
ENV_ID = "tilerunner/TileRunner-v0"
LEVEL_FILE = ROOT / "envs" / "levels" / "1-2.txt"
NOTHING = np.zeros(6, dtype=np.int8)


@pytest.fixture(scope="module")
def config() -> neat.Config:
    return tilerunner.load_config(neat_overrides={"pop_size": 2})


@pytest.fixture(scope="module")
def genome(config):
    """A freshly made genome of the shipped config (random, from a fixed seed)."""
    random.seed(5)
    return next(iter(neat.Population(config).population.values()))


@pytest.fixture(scope="module")
def replay():
    return tilerunner.load_replay("1-1-f2475")


def _env_step(**kwargs) -> None:
    """Make the env as a gymnasium user does, reset it and take a step (where a bad number used to crash)."""
    env = gym.make(ENV_ID, **kwargs)
    env.reset(seed=0)
    env.step(NOTHING)


def _reset_to(level) -> None:
    env = TileRunnerEnv()
    env.reset(options={"level": level})


# Every bad argument the issue names: (what is called, the exception, the parameter its message names) ----------

BAD = {
    "env stall_frames=2**70": (lambda a: _env_step(stall_frames=2**70), ValueError, "stall_frames"),
    "env max_frames=2**70": (lambda a: _env_step(max_frames=2**70), ValueError, "max_frames"),
    "env max_frames=10**12": (lambda a: _env_step(max_frames=10**12), ValueError, "max_frames"),
    "env view_radius=1000": (lambda a: _env_step(view_radius=1000), ValueError, "view_radius"),
    "env frame_skip=10**9": (lambda a: _env_step(frame_skip=10**9), ValueError, "frame_skip"),
    "env view_radius=2.5": (lambda a: _env_step(view_radius=2.5), TypeError, "view_radius"),
    "env view_radius=True": (lambda a: _env_step(view_radius=True), TypeError, "view_radius"),
    "env level=None": (lambda a: _env_step(level=None), TypeError, "level"),
    "env level=5": (lambda a: _env_step(level=5), TypeError, "level"),
    "env features='jump'": (lambda a: _env_step(features="jump"), TypeError, "features"),
    "env reset level 5": (lambda a: _reset_to(5), TypeError, "level"),
    "env reset level None": (lambda a: _reset_to(None), TypeError, "level"),
    "load_level(None)": (lambda a: tilerunner.load_level(None), TypeError, "spec"),
    "load_level(5)": (lambda a: tilerunner.load_level(5), TypeError, "spec"),
    "record frame_step=-1": (lambda a: a.record(frame_step=-1), ValueError, "frame_step"),
    "record frame_step=1.5": (lambda a: a.record(frame_step=1.5), TypeError, "frame_step"),
    "record hold_last=-5": (lambda a: a.record(hold_last=-5), ValueError, "hold_last"),
    "record hold_last=1e12": (lambda a: a.record(hold_last=1e12), ValueError, "hold_last"),
    "record hold_last=nan": (lambda a: a.record(hold_last=float("nan")), ValueError, "hold_last"),
    "record scale=0": (lambda a: a.record(scale=0), ValueError, "scale"),
    "record levels='1-1'": (lambda a: a.record(levels="1-1"), TypeError, "levels"),
    "record replay=path": (lambda a: a.record(replay="1-1-f2475"), TypeError, "replay"),
    "evaluate settings=5": (lambda a: a.evaluate(settings=5), TypeError, "settings"),
    "evaluate levels=[None]": (lambda a: a.evaluate(levels=[None]), TypeError, "levels"),
    "trace settings=5": (lambda a: tilerunner.trace(a.genome, a.config, "1-1", 5), TypeError, "settings"),
    "trace level=None": (lambda a: tilerunner.trace(a.genome, a.config, None, EpisodeSettings()), TypeError, "level"),
    "evolve_agents('1-1')": (lambda a: tilerunner.evolve_agents("1-1", generations=1), TypeError, "levels"),
    "evolve_agents([5])": (lambda a: tilerunner.evolve_agents([5], generations=1), TypeError, "levels"),
    "generations=1.5": (lambda a: tilerunner.evolve_agents(["1-1"], generations=1.5), TypeError, "generations"),
    "generations=True": (lambda a: tilerunner.evolve_agents(["1-1"], generations=True), TypeError, "generations"),
    "generations=0": (lambda a: tilerunner.evolve_agents(["1-1"], generations=0), ValueError, "generations"),
    "seed=-1": (lambda a: tilerunner.evolve_agents(["1-1"], seed=-1), ValueError, "seed"),
    "seed=2**64": (lambda a: tilerunner.evolve_agents(["1-1"], seed=2**64), ValueError, "seed"),
    "seed='3'": (lambda a: tilerunner.evolve_agents(["1-1"], seed="3"), TypeError, "seed"),
    "pop=1": (lambda a: tilerunner.evolve_agents(["1-1"], pop=1), ValueError, "pop"),
    "pop=0": (lambda a: tilerunner.evolve_agents(["1-1"], pop=0), ValueError, "pop"),
    "fitness=3": (lambda a: tilerunner.evolve_agents(["1-1"], fitness=3), TypeError, "fitness"),
    "keep_going='no'": (lambda a: tilerunner.evolve_agents(["1-1"], keep_going="no"), TypeError, "keep_going"),
    "settings=5": (lambda a: tilerunner.evolve_agents(["1-1"], settings=5), TypeError, "settings"),
    "checkpoint_every=0": (lambda a: RunOptions(checkpoint_every=0), ValueError, "checkpoint_every"),
    "validate='1-2'": (lambda a: tilerunner.Run.create(["1-1"], validate="1-2"), TypeError, "validate"),
    "levels_per_gen=1.0": (lambda a: RunOptions(levels_per_gen=1.0), TypeError, "levels_per_gen"),
    "curriculum=2": (lambda a: RunOptions(curriculum=2), ValueError, "curriculum"),
    "out=5": (lambda a: RunOptions(out=5), TypeError, "out"),
    "workers=0": (lambda a: tilerunner.evolve_agents(["1-1"], workers=0), ValueError, "workers"),
}


class _Api:
    """The fixtures the cases call, with the calls that need them (each with one argument made bad)."""

    def __init__(self, replay, genome, config, tmp_path) -> None:
        self.replay, self.genome, self.config, self.tmp_path = replay, genome, config, tmp_path

    def record(self, **bad):
        given = {"replay": self.replay, "levels": [self.replay.episodes[0].level], "gif": self.tmp_path / "r.gif"}
        return tilerunner.record(**{**given, **bad})

    def evaluate(self, **bad):
        return tilerunner.evaluate(self.genome, **{"levels": ["1-1"], "network": self.config, **bad})


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_bad_argument_is_one_line_naming_it(case, replay, genome, config, tmp_path):
    call, error, name = BAD[case]
    with pytest.raises(error) as caught:
        call(_Api(replay, genome, config, tmp_path))
    message = str(caught.value)
    assert name in message and "\n" not in message
    assert not isinstance(caught.value, (AttributeError, OverflowError))
    assert list(tmp_path.iterdir()) == []  # refused before anything was written


def test_the_message_says_the_value_and_what_is_allowed():
    with pytest.raises(ValueError, match=r"^view_radius must be from 0 to 20, got 1000$"):
        TileRunnerEnv(view_radius=1000)
    with pytest.raises(TypeError, match=r"^view_radius must be a whole number from 0 to 20, got 2\.5$"):
        TileRunnerEnv(view_radius=2.5)
    with pytest.raises(TypeError, match=r"^generations must be a whole number from 1 to 1,000,000, got True$"):
        RunOptions(generations=True)
    with pytest.raises(ValueError, match=r"^seed must be from 0 to 2\*\*63-1, got -1$"):
        RunOptions(seed=-1)
    with pytest.raises(TypeError, match=r"^settings must be EpisodeSettings, not int \(5\)$"):
        tilerunner.evaluate(tilerunner.load_replay("1-1-f2475"), ["1-1"], settings=5)
    with pytest.raises(TypeError, match=r"^spec must be a level id \(1-1 \.\.\. 2-4, gen:SEED\[:DIFFICULTY\]\) or a"):
        tilerunner.load_level(None)
    # A wrong type is a ValueError too, so that code that caught the settings' ValueError still does.
    with pytest.raises(ValueError, match="frame_skip"):
        EpisodeSettings(frame_skip=1.5)


# A Path is a level wherever a string is --------------------------------------------------------------------


def test_a_path_is_a_level_wherever_a_string_is(genome, config, replay, tmp_path):
    by_text = tilerunner.load_level(str(LEVEL_FILE))
    by_path = tilerunner.load_level(LEVEL_FILE)
    assert (by_path.id, by_path.sha256) == (by_text.id, by_text.sha256)
    env = gym.make(ENV_ID, level=LEVEL_FILE)
    assert env.reset()[1]["level"] == str(LEVEL_FILE)
    assert env.unwrapped.reset(options={"level": LEVEL_FILE})[1]["level"] == str(LEVEL_FILE)
    assert tilerunner.evaluate(genome, [LEVEL_FILE], network=config) == tilerunner.evaluate(
        genome, [str(LEVEL_FILE)], network=config
    )
    assert (
        tilerunner.trace(genome, config, LEVEL_FILE, EpisodeSettings())[0]
        == tilerunner.evaluate(genome, [by_text], network=config)[0]
    )
    result = tilerunner.evolve_agents([LEVEL_FILE], generations=1, pop=10, validate=[LEVEL_FILE])
    assert [lv.id for lv in result.levels] == [str(LEVEL_FILE)]
    done = tilerunner.record(replay, [ROOT / "envs" / "levels" / "1-1.txt"], png_folder=tmp_path / "f", frame_step=60)
    assert done.frames == len(done.png_files) > 1


def test_record_takes_level_ids_as_evaluate_does(replay, tmp_path):
    by_id = tilerunner.record(replay, ["1-1"], gif=tmp_path / "a.gif", frame_step=60)
    by_level = tilerunner.record(replay, [tilerunner.load_level("1-1")], gif=tmp_path / "b.gif", frame_step=60)
    assert by_id.outcomes == by_level.outcomes and by_id.outcomes[0].finished
    assert (tmp_path / "a.gif").read_bytes() == (tmp_path / "b.gif").read_bytes()


# numpy integers are whole numbers; the values are kept as Python ints ----------------------------------------


def test_numpy_integers_are_whole_numbers():
    plain = tilerunner.evolve_agents(["1-1"], generations=2, pop=10, seed=3)
    numpy = tilerunner.evolve_agents(["1-1"], generations=np.int32(2), pop=np.int64(10), seed=np.int64(3))
    assert numpy.stats == plain.stats and type(numpy.seed) is int
    options = RunOptions(seed=np.uint16(7), checkpoint_every=np.int8(3))
    assert (options.seed, options.checkpoint_every) == (7, 3) and type(options.seed) is int
    env = TileRunnerEnv(view_radius=np.int64(3), frame_skip=np.int16(4))
    obs, _ = env.reset()
    assert obs.shape == (7, 7) and type(env.frame_skip) is int and env.step(NOTHING)[4]["frames"] == 4
    assert type(EpisodeSettings(max_frames=np.int64(600)).max_frames) is int


# One table of limits, for the env, the library and the flags -------------------------------------------------


def test_the_env_the_library_and_the_flags_share_one_table():
    for name, (lo, hi) in episode_defaults.LIMITS.items():
        assert EpisodeSettings.LIMITS[name] == (lo, hi) and name in EpisodeSettings.WHOLE
        assert setting_type(name).range == (lo, hi)  # the flags' type (`--frame-skip` ...)
        TileRunnerEnv(**{name: hi})  # both ends allowed
        TileRunnerEnv(**{name: lo})
        for outside in (lo - 1, hi + 1):
            with pytest.raises(ValueError, match=name):
                TileRunnerEnv(**{name: outside})
            with pytest.raises(ValueError, match=name):
                EpisodeSettings(**{name: outside})


def test_the_largest_limits_play_without_a_numba_error():
    env = TileRunnerEnv(view_radius=20, frame_skip=600, max_frames=1_000_000, stall_frames=1_000_000)
    obs, _ = env.reset()
    assert obs.shape == (41, 41)
    _, _, terminated, truncated, info = env.step(NOTHING)
    assert info["frames"] == 600 and not truncated and not terminated


WHOLE_VALUES = st.one_of(
    st.integers(), st.sampled_from([2**63 - 1, 2**63, 2**64, 2**70, -(2**63) - 1, 10**400]), st.integers(-5, 1_000_005)
)
NOT_WHOLE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=5),
    st.just(np.float64(3.0)),
    st.just(np.bool_(True)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(episode_defaults.LIMITS)), value=WHOLE_VALUES)
def test_any_whole_number_builds_an_env_that_steps_or_is_refused_naming_it(name, value):
    lo, hi = episode_defaults.LIMITS[name]
    if not lo <= value <= hi:
        with pytest.raises(ValueError, match=f"^{name} must be from "):
            TileRunnerEnv(**{name: value})
        return
    env = TileRunnerEnv(**{name: value})
    obs, _ = env.reset()
    env.step(NOTHING)
    assert getattr(env, name) == value and obs.shape[0] == 2 * env.view_radius + 1


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(episode_defaults.LIMITS)), value=NOT_WHOLE)
def test_anything_but_a_whole_number_is_a_type_error_naming_it(name, value):
    with pytest.raises(TypeError, match=f"^{name} must be a whole number from "):
        TileRunnerEnv(**{name: value})


@settings(max_examples=100, deadline=None)
@given(value=st.one_of(WHOLE_VALUES, NOT_WHOLE, st.just(np.int64(7))), lo=st.integers(-10, 10))
def test_the_checking_helpers_take_exactly_their_range(value, lo):
    hi = lo + 20
    whole = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if whole and lo <= value <= hi:
        assert whole_number("n", value, lo, hi) == value
    else:
        with pytest.raises((TypeError, ValueError), match="^n must be "):
            whole_number("n", value, lo, hi)
    real = whole or (isinstance(value, float) and not isinstance(value, bool))
    if real and lo <= value <= hi:  # nan compares False: refused
        assert finite_number("x", value, lo, hi) == float(value)
    else:
        with pytest.raises((TypeError, ValueError), match="^x must be "):
            finite_number("x", value, lo, hi)
