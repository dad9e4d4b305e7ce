"""The Python API: evolve on a custom level, neat-python reporters, custom fitness, evaluating genomes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import neat
import numpy as np
import pytest

import tilerunner
from tilerunner import EpisodeSettings, OutcomeTable, Run, RunReporter

# A short level of our own: walk right, jump one gap, reach the exit.
CUSTOM = (
    "\n".join(["-" * 40, "-" * 40, "M" + "-" * 38 + "F", "X" * 18 + "--" + "X" * 20, "X" * 18 + "--" + "X" * 20]) + "\n"
)


@pytest.fixture(scope="module")
def custom_run():
    """The README's example: evolve on a level of one's own, from Python, writing nothing."""
    level = tilerunner.parse_level(CUSTOM, level_id="mine")
    stats = neat.StatisticsReporter()
    result = tilerunner.evolve_agents([level], generations=30, pop=60, seed=1, reporters=[stats])
    return result, stats


def test_evolving_on_a_custom_level_returns_the_champion_and_its_stats(custom_run, tmp_path, monkeypatch):
    result, _ = custom_run
    assert result.solved and result.champion_outcomes[0].finished
    assert result.levels[0].id == "mine" and result.folder is None
    assert len(result.stats) == result.generations_run == result.solved_at + 1
    assert result.stats[-1]["best"][0]["finished"] and result.champion.fitness == result.stats[-1]["best_ever"]
    replay = result.replay()
    assert all(check.identical for check in tilerunner.verify(replay))
    replay.save(tmp_path / "mine.json")
    assert tilerunner.load_replay(tmp_path / "mine.json").episodes[0].level.text == CUSTOM


def test_neat_statistics_reporter_sees_every_generation_with_its_best(custom_run):
    result, stats = custom_run
    assert len(stats.most_fit_genomes) == result.generations_run
    assert [g.fitness for g in stats.most_fit_genomes] == [row["best_fitness"] for row in result.stats]
    assert len(stats.get_fitness_mean()) == result.generations_run
    assert np.allclose(stats.get_fitness_mean(), [row["mean_fitness"] for row in result.stats])


class Hooks(RunReporter):
    """Records which hooks a run calls, in order."""

    def __init__(self):
        self.calls = []

    def start_generation(self, generation):
        self.calls.append(("start_generation", generation))

    def post_evaluate(self, config, population, species, best_genome):
        self.calls.append(("post_evaluate", best_genome.fitness))

    def found_solution(self, config, generation, best):
        self.calls.append(("found_solution", generation))

    def end_generation(self, config, population, species_set):
        self.calls.append(("end_generation", len(population)))

    def run_started(self, run):
        self.calls.append(("run_started", run.generation))

    def generation_done(self, summary):
        self.calls.append(("generation_done", summary.generation))

    def first_finish(self, level, generation, path):
        self.calls.append(("first_finish", level.id, generation, path))

    def run_ended(self, result):
        self.calls.append(("run_ended", result.generations_run))


def test_hooks_are_called_where_neat_python_calls_them(capsys):
    hooks = Hooks()
    result = tilerunner.evolve_agents(["1-1"], generations=10, seed=0, reporters=[hooks, neat.StdOutReporter(False)])
    solved = result.solved_at
    assert solved is not None and solved < 9
    calls = hooks.calls
    assert calls[0] == ("run_started", 0) and calls[-1] == ("run_ended", solved + 1)
    for g in range(solved + 1):
        start = calls.index(("start_generation", g))
        assert calls[start + 1][0] == "post_evaluate" and calls[start + 1][1] == result.stats[g]["best_fitness"]
    assert calls.count(("found_solution", solved)) == 1 and ("first_finish", "1-1", solved, None) in calls
    assert sum(c[0] == "end_generation" for c in calls) == solved + 1
    assert "Running generation 0" in capsys.readouterr().out  # neat-python's own StdOutReporter


def test_a_custom_fitness_function_sets_every_genome_fitness(tmp_path):
    seen = []

    def furthest_on_the_worst_level(table: OutcomeTable) -> np.ndarray:
        seen.append(table)
        return table.distance.min(axis=1) + 100.0 * table.finished.sum(axis=1)

    run = Run.create(["1-1", "1-2"], pop=40, seed=3, generations=3, fitness=furthest_on_the_worst_level)
    result = run.run()
    assert len(seen) == 3 and all(t.array.shape[:2] == (40, 2) for t in seen)
    assert [lv.id for lv in seen[0].levels] == ["1-1", "1-2"]
    last = seen[-1]
    expected = last.distance.min(axis=1) + 100.0 * last.finished.sum(axis=1)
    assert result.stats[-1]["best_fitness"] == pytest.approx(expected.max())
    assert result.stats[-1]["mean_fitness"] == pytest.approx(expected.mean())


def test_a_custom_fitness_function_must_give_one_finite_value_per_genome():
    run = Run.create(["1-1"], pop=10, seed=0, generations=1, fitness=lambda table: table.distance)
    with pytest.raises(ValueError, match=r"returned shape \(10, 1\); expected \(10,\)"):
        run.run()
    run = Run.create(["1-1"], pop=10, seed=0, generations=1, fitness=lambda table: table.distance[:, 0] * np.nan)
    with pytest.raises(ValueError, match="not a finite number"):
        run.run()


def test_a_run_folder_made_from_python_resumes_from_python(tmp_path):
    whole = tilerunner.evolve_agents(["2-1"], generations=6, pop=40, seed=5, out=tmp_path / "whole")
    first = Run.create(["2-1"], pop=40, seed=5, generations=3, out=tmp_path / "parts").run()
    assert first.generations_run == 3 and (tmp_path / "parts" / "stats.jsonl").exists()
    rest = Run.resume(tmp_path / "parts", generations=6).run()
    assert rest.first_generation == 3 and rest.generations_run == 3
    assert rest.stats == whole.stats


def test_evaluate_plays_a_genome_or_a_replay_on_any_level(custom_run):
    result, _ = custom_run
    replay = result.replay()
    (on_mine,) = tilerunner.evaluate(replay, [replay.episodes[0].level])
    assert on_mine == replay.episodes[0].outcome
    others = tilerunner.evaluate(result.champion, ["1-1", "gen:3"], network=replay.network, settings=EpisodeSettings())
    assert len(others) == 2 and all(o.frames > 0 for o in others)
    with pytest.raises(ValueError, match="needs its network shape"):
        tilerunner.evaluate(result.champion, ["1-1"])


def test_import_tilerunner_is_quick_and_registers_the_env():
    import gymnasium as gym

    # Quick means it loads none of the heavy parts (Numba and its compiled kernels, neat-python, pygame,
    # NumPy's own import aside) until something is used: checked in a fresh interpreter, not timed.
    code = (
        "import sys, tilerunner; heavy = [m for m in ('numba', 'neat', 'pygame', 'ray', 'numba_cuda')"
        " if m in sys.modules]; print(heavy)"
    )
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert fresh.returncode == 0 and fresh.stdout.strip() == "[]", (fresh.stdout, fresh.stderr[-500:])

    assert "tilerunner/TileRunner-v0" in gym.registry
    assert tilerunner.__version__ and tilerunner.__version__ != "0+unknown"
    assert {"evolve_agents", "Run", "evaluate", "load_replay", "OutcomeTable"} <= set(dir(tilerunner))


def test_import_tilerunner_imports_not_even_gymnasium_and_the_env_id_is_there_once_gymnasium_is():
    # The `tilerunner` command imports this package before it can catch a Ctrl-C, so the package imports nothing
    # heavy, gymnasium and numpy included; the id is registered whichever of the two is imported first.
    code = (
        "import sys, tilerunner; print([m for m in ('gymnasium', 'numpy') if m in sys.modules]);"
        " import gymnasium as gym; print('tilerunner/TileRunner-v0' in gym.registry);"
        " print(gym.make('tilerunner/TileRunner-v0', level='1-1').reset(seed=0)[0].shape)"
    )
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert fresh.returncode == 0 and fresh.stdout.split("\n")[:3] == ["[]", "True", "(13, 13)"], fresh.stderr[-500:]
    both = "import gymnasium as gym, tilerunner; print('tilerunner/TileRunner-v0' in gym.registry)"
    assert subprocess.run([sys.executable, "-c", both], capture_output=True, text=True, timeout=120).stdout == "True\n"


def test_the_readme_example_runs_as_written(tmp_path, monkeypatch, capsys):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = readme.split("<!-- api-example -->", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[1:3] == ["finished", "in"]  # solved_at, then "finished in N frames"
    assert tilerunner.load_replay(tmp_path / "mine-champion.json").episodes[0].outcome.finished
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine-champion.json"]  # nothing else
