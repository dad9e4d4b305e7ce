"""Issue 23's Python API papercuts: make_replay takes what evaluate takes, NetworkShape is exported,
shipped replays load by name, time limits are minutes as on the command line, the gym env plays
evolution's episodes (and fresh `gen:*` levels), counts read "1 level", and the license is SPDX."""

from __future__ import annotations

import json
import pathlib
import random
import tomllib
import types
import warnings

import gymnasium as gym
import neat
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import tilerunner
from tilerunner import EpisodeSettings, LevelError, NetworkShape, ReplayError
from tilerunner.envs.env import TileRunnerEnv
from tilerunner.evolve.commands.cli import main
from tilerunner.evolve.core.plural import plural
from tilerunner.evolve.runs import run as run_module
from tilerunner.evolve.runs.replay import load_replay, make_replay, shipped_replays

ROOT = pathlib.Path(__file__).resolve().parents[1]
ENV_ID = "tilerunner/TileRunner-v0"
NOTHING = np.zeros(6, dtype=np.int8)


@pytest.fixture(scope="module")
def config() -> neat.Config:
    return tilerunner.load_config(neat_overrides={"pop_size": 2})


@pytest.fixture(scope="module")
def genome(config):
    """A freshly made genome of the shipped config (random, from a fixed seed)."""
    random.seed(5)
    return next(iter(neat.Population(config).population.values()))


# make_replay takes what evaluate takes --------------------------------------------------------------


@pytest.mark.parametrize("network", ["config", "genome_config", "shape"])
def test_make_replay_takes_a_config_or_a_shape_and_level_ids(genome, config, network, tmp_path):
    given = {
        "config": config,
        "genome_config": config.genome_config,
        "shape": NetworkShape.from_genome_config(config.genome_config),
    }[network]
    replay = make_replay(genome, given, ["1-1", "gen:7"], seed=3)
    assert replay.network == NetworkShape.from_genome_config(config.genome_config)
    assert [e.level.id for e in replay.episodes] == ["1-1", "gen:7:3"]
    assert replay.settings == EpisodeSettings() and replay.seed == 3
    # The same as with Level objects, and the same as evaluate says.
    by_objects = make_replay(
        genome, given, [tilerunner.load_level("1-1"), tilerunner.load_level("gen:7")], EpisodeSettings()
    )
    assert [e.as_dict() for e in replay.episodes] == [e.as_dict() for e in by_objects.episodes]
    assert [e.outcome for e in replay.episodes] == tilerunner.evaluate(genome, ["1-1", "gen:7"], network=given)
    replay.save(tmp_path / "r.json")
    assert all(c.identical for c in tilerunner.verify(load_replay(tmp_path / "r.json")))


@pytest.mark.parametrize(
    "args, error, needle",
    [
        (("not a genome", "CONFIG", ["1-1"]), TypeError, "make_replay needs a TileGenome, not str"),
        (("GENOME", {"num_inputs": 169}, ["1-1"]), TypeError, "network must be a NetworkShape, a neat Config or its"),
        (("GENOME", "CONFIG", "1-1"), TypeError, "levels must be a list of levels or level ids, e.g. ['1-1']"),
        (("GENOME", "CONFIG", [3]), TypeError, "levels must be Level objects or level ids, not int"),
        (("GENOME", "CONFIG", []), ValueError, "make_replay needs at least one level"),
        (("GENOME", "CONFIG", ["nope"]), LevelError, "nope: unknown level"),
        (
            ("GENOME", "CONFIG", ["1-1"], EpisodeSettings(view_radius=3)),
            ValueError,
            "the network has 169 inputs but the settings' view radius and features give 49",
        ),
        (("GENOME", "CONFIG", ["1-1"], {"frame_skip": 5}), TypeError, "settings must be EpisodeSettings, not dict"),
    ],
)
def test_make_replay_refuses_anything_else_at_once_in_one_line(genome, config, args, error, needle):
    args = tuple(genome if a == "GENOME" else config if a == "CONFIG" else a for a in args)
    with pytest.raises(error) as caught:
        make_replay(*args)
    assert needle in str(caught.value) and "\n" not in str(caught.value)


def test_make_replay_refuses_a_replay_and_says_where_its_genome_is(genome, config):
    replay = make_replay(genome, config, ["1-1"])
    with pytest.raises(TypeError, match=r"not Replay \(a Replay: use replay.genome\)"):
        make_replay(replay, config, ["1-1"])


def test_evaluate_refuses_a_single_level_id_rather_than_its_characters(genome, config):
    with pytest.raises(TypeError, match=r"levels must be a list of levels or level ids, e.g. \['1-1'\]"):
        tilerunner.evaluate(genome, "1-1", network=config)


# NetworkShape is part of the API ------------------------------------------------------------------


def test_network_shape_is_exported_and_documented():
    from tilerunner.evolve.runs.replay import NetworkShape as defined

    assert tilerunner.NetworkShape is defined
    assert "NetworkShape" in tilerunner.__all__ and "NetworkShape" in dir(tilerunner)
    assert "`NetworkShape`" in tilerunner.__doc__


# load_replay finds shipped replays by name --------------------------------------------------------


@pytest.mark.parametrize("name", ["1-1-f2475", "1-1-f2475.json"])
def test_load_replay_finds_a_shipped_replay_by_name(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing of that name here
    replay = load_replay(name)
    assert replay.episodes[0].level.id == "1-1" and replay.episodes[0].outcome.finished
    assert replay.as_dict() == load_replay(shipped_replays() / "1-1-f2475.json").as_dict()


def test_a_file_of_that_name_wins_over_the_shipped_replay(tmp_path, monkeypatch):
    data = json.loads((shipped_replays() / "1-1-f2475.json").read_text())
    data["generation"] = 77
    (tmp_path / "1-1-f2475").write_text(json.dumps(data))
    monkeypatch.chdir(tmp_path)
    assert load_replay("1-1-f2475").generation == 77
    assert load_replay("1-1-f2475.json").generation != 77  # no such file here: the shipped one


def test_an_unknown_name_is_one_line_naming_both_places(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ReplayError, match=r"^nope: no such replay file, nor a shipped replay of that name"):
        load_replay("nope")
    with pytest.raises(ReplayError, match=r"/nope.json: no such replay file$"):  # a path is only a path
        load_replay(tmp_path / "nope.json")


# One time unit: minutes, as `tilerunner evolve --time-limit` -------------------------------------


class _Clock(neat.reporting.BaseReporter):
    """A clock for run.py that moves 40 s at the start of every generation."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now

    def start_generation(self, generation: int) -> None:
        self.now += 40.0


def test_time_limit_is_minutes_in_the_python_api(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(run_module, "time", types.SimpleNamespace(perf_counter=clock.perf_counter))
    run = tilerunner.Run.create(["1-1"], pop=10, generations=50, keep_going=True, time_limit=1.0)
    run.add_reporter(clock)
    result = run.run()
    # 40 s after the first generation is under a minute; 80 s after the second is over it.
    assert result.out_of_time and result.generations_run == 2


def test_time_limit_is_minutes_when_resumed_too(tmp_path, monkeypatch):
    tilerunner.Run.create(["1-1"], pop=10, generations=1, out=tmp_path / "run").run()
    before = json.loads((tmp_path / "run" / "args.json").read_text())
    clock = _Clock()
    monkeypatch.setattr(run_module, "time", types.SimpleNamespace(perf_counter=clock.perf_counter))
    run = tilerunner.Run.resume(tmp_path / "run", generations=50, time_limit=1.5)
    run.add_reporter(clock)
    assert run.time_limit == 1.5
    result = run.run()
    assert result.out_of_time and result.generations_run == 3  # 120 s >= 90 s
    after = json.loads((tmp_path / "run" / "args.json").read_text())
    assert "time_limit" not in before and "time_limit" not in after  # a folder keeps no time limit


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), "5", True])
def test_a_bad_time_limit_is_one_line_in_minutes(bad):
    with pytest.raises(ValueError, match=r"^time_limit must be a positive number of minutes, got "):
        tilerunner.Run.create(["1-1"], pop=10, time_limit=bad)


# The gym env plays evolution's episodes, and fresh generated levels --------------------------------


def test_the_env_defaults_are_evolutions():
    env = TileRunnerEnv()
    s = EpisodeSettings()
    assert (env.frame_skip, env.view_radius, env.max_frames, env.stall_frames, env.jump_rule) == (
        s.frame_skip,
        s.view_radius,
        s.max_frames,
        s.stall_frames,
        s.jump_rule,
    )


def test_standing_still_stalls_when_an_evolved_episode_would():
    env = gym.make(ENV_ID, level="1-1")
    env.reset(seed=0)
    steps = 0
    while True:
        _, _, terminated, truncated, info = env.step(NOTHING)
        steps += 1
        if terminated or truncated:
            break
    assert info["status"] == "stalled"
    assert info["frames"] == EpisodeSettings().stall_frames == 120


def _levels(env, seeds) -> list[str]:
    return [env.reset(seed=s)[1]["level"] for s in seeds]


def test_gen_star_gives_a_fresh_level_each_reset_reproducibly():
    env = gym.make(ENV_ID, level="gen:*")
    first = _levels(env, [1, None, None, None])
    assert len(set(first)) == 4 and all(i.startswith("gen:") for i in first)
    assert _levels(gym.make(ENV_ID, level="gen:*"), [1, None, None, None]) == first  # the same seed, the same levels
    assert _levels(env, [2])[0] not in first
    shown = _levels(env, [9])[0]
    assert env.unwrapped.level.id == shown  # info names the level being played
    seed = int(first[0].split(":")[1])
    assert seed >= 1_000_000  # held-out generated sets (below 1,000,000) stay unseen


def test_gen_star_d_keeps_its_difficulty_and_a_level_switch_ends_it():
    env = gym.make(ENV_ID, level="gen:*:2")
    assert {i.split(":")[2] for i in _levels(env, [1, None, None, 4])} == {"2"}
    env.reset(options={"level": "1-1"})
    assert _levels(env, [None, None]) == ["1-1", "1-1"]
    env.reset(options={"level": "gen:*:7"})
    assert {i.split(":")[2] for i in _levels(env, [None, None])} == {"7"}


@pytest.mark.parametrize("spec", ["gen:*:0", "gen:*:11", "gen:*x", "gen:*:"])
def test_a_bad_fresh_level_spec_is_one_line(spec):
    with pytest.raises(LevelError, match=r"bad fresh-level set: expected gen:\* or gen:\*:DIFFICULTY"):
        gym.make(ENV_ID, level=spec)


def test_the_env_checker_passes_with_fresh_levels():
    env = gym.make(ENV_ID, level="gen:*").unwrapped
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, skip_render_check=True)
    assert [str(w.message) for w in caught] == []


# "1 level", not "1 levels" ----------------------------------------------------------------------


def test_plural():
    assert plural(1, "level") == "1 level" and plural(0, "level") == "0 levels" and plural(2, "genome") == "2 genomes"
    assert plural(1, "species", "species") == "1 species" and plural(1024, "genome", sep=",") == "1,024 genomes"


def test_a_draw_larger_than_one_level_says_1_level():
    with pytest.raises(ValueError, match=r"from 1 to the 1 level of the set, got 2$"):
        tilerunner.evolve_agents(["1-1"], generations=1, pop=10, levels_per_gen=2)


def test_the_evolve_header_says_every_frame_and_its_time_limit_in_minutes(tmp_path, capsys):
    assert (
        main(
            [
                "evolve",
                "--level",
                "1-1",
                "--pop",
                "10",
                "--generations",
                "1",
                "--frame-skip",
                "1",
                "--time-limit",
                "1.5",
                "--out",
                str(tmp_path / "run"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "decides every 1 frame," in out and "done: 1 generation (" in out
    assert "stops after 1.5 min" in out


# The license, as PEP 639 has it ------------------------------------------------------------------


def test_the_license_is_an_spdx_expression_with_its_file():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"
    assert project["project"]["license-files"] == ["LICENSE"] and (ROOT / "LICENSE").is_file()
    assert "MIT" in (ROOT / "LICENSE").read_text()
    assert "setuptools>=77" in project["build-system"]["requires"]  # the first to read license-files


# ---------------------------------------------------------------------------------------------
# One options object for a new run


def test_a_run_takes_one_options_object_or_its_fields_as_keywords(tmp_path):
    from tilerunner import RunOptions

    options = RunOptions(seed=3, pop=20, generations=2, keep_going=True)
    by_object = tilerunner.evolve_agents(["1-1"], options, out=tmp_path / "a")
    by_keywords = tilerunner.evolve_agents(["1-1"], seed=3, pop=20, generations=2, keep_going=True, out=tmp_path / "b")
    assert by_object.stats == by_keywords.stats and len(by_object.stats) == 2
    assert options.but(seed=4).seed == 4 and options.seed == 3  # a copy; the object itself never changes
    changed = tilerunner.Run.create(["1-1"], options, seed=4)
    assert changed.evolution.seed == 4


def test_an_unknown_run_option_names_the_ones_there_are():
    with pytest.raises(TypeError, match=r"unknown run option 'generation'; the options are .*generations"):
        tilerunner.evolve_agents(["1-1"], generation=5)
    with pytest.raises(TypeError, match="options must be a RunOptions, not dict"):
        tilerunner.Run.create(["1-1"], {"seed": 1})
