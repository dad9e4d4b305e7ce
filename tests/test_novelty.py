"""The behaviour-diversity bonus: who played unlike the rest scores more, and replays keep the setting."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tilerunner.envs.level import parse_level
from tilerunner.evolve.core.fitness import EpisodeSettings, novelty_scores
from tilerunner.evolve.core.outcome import FIELDS, R_DISTANCE, R_FINISHED, R_FITNESS, OutcomeTable
from tilerunner.evolve.runs.replay import load_replay
from tilerunner.evolve.runs.run import evolve_agents

LEVEL = parse_level("-" * 22 + "\nM" + "-" * 20 + "F\n" + "X" * 22 + "\n", "flat.txt")
SPAN = (LEVEL.exit_col - LEVEL.start[0]) * 16  # pixels from the start to the exit, as tiles are 16 px


def table(distances: list[list[float]]) -> OutcomeTable:
    array = np.zeros((len(distances), len(distances[0]), FIELDS))
    array[:, :, R_DISTANCE] = distances
    array[:, :, R_FITNESS] = distances
    return OutcomeTable(array, [LEVEL] * len(distances[0]))


def test_the_genome_that_played_unlike_the_rest_is_the_most_novel():
    crowd = [[100.0, 100.0]] * 20
    scores = novelty_scores(table([*crowd, [300.0, 20.0]]))
    assert scores[-1] == scores.max() and scores[-1] > 0
    assert np.all(scores[:-1] == scores[0])
    assert np.all(novelty_scores(table(crowd)) == 0)  # all alike: nobody is novel
    # Progress, not pixels: reaching the exit and beyond count alike, finishing counts as 1.
    t = table([[SPAN], [5000.0], [0.0]])
    t.array[2, 0, R_FINISHED] = 1.0
    assert novelty_scores(t, k=1)[0] == novelty_scores(t, k=1)[1] == 0.0


def test_more_levels_do_not_inflate_novelty():
    one = novelty_scores(table([[0.0], [SPAN / 2], [SPAN]]))
    four = novelty_scores(table([[0.0] * 4, [SPAN / 2] * 4, [SPAN] * 4]))
    assert np.allclose(one, four)


def test_the_bonus_adds_to_fitness_only_when_asked():
    t = table([[100.0, 100.0]] * 5 + [[300.0, 20.0]])
    plain = EpisodeSettings().combine(t)
    assert np.array_equal(plain, t.fitness.mean(axis=1))
    bonus = EpisodeSettings(novelty=500.0).combine(t)
    assert np.allclose(bonus - plain, 500.0 * novelty_scores(t))
    with pytest.raises(ValueError, match="novelty"):
        EpisodeSettings(novelty=-1.0)


def test_a_run_with_novelty_keeps_it_in_its_replays_and_old_replays_still_load(tmp_path):
    result = evolve_agents(
        ["1-1"], generations=3, pop=30, seed=1, settings=EpisodeSettings(novelty=200.0), out=tmp_path / "run"
    )
    path = sorted((tmp_path / "run" / "champions").glob("gen-*.json"))[-1]
    assert load_replay(path).settings.novelty == 200.0
    assert json.loads((tmp_path / "run" / "args.json").read_text())["settings"]["novelty"] == 200.0
    assert result.stats[0]["best_fitness"] > max(o["fitness"] for o in result.stats[0]["best"]) - 1e-9
    data = json.loads(path.read_text())
    del data["settings"]["novelty"]
    del data["settings"]["features"]
    (tmp_path / "old.json").write_text(json.dumps(data))
    old = load_replay(tmp_path / "old.json")
    assert old.settings.novelty == 0.0 and old.settings.features == ()
