"""A run evolved with a custom fitness function (`Run.create(..., fitness=f)`): stopped and resumed with the same
function it is the run it would have been; resumed without it, it is refused in one line that says what to do."""

from __future__ import annotations

import numpy as np
import pytest
from neat.reporting import BaseReporter
from run_files import folder_contents

from tilerunner import Run
from tilerunner.evolve.commands.cli import main
from tilerunner.evolve.runs.run_folder import RunFolderError

LEVELS = ["1-1", "1-2"]
SETTINGS = dict(pop=30, seed=5, generations=5, keep_going=True, checkpoint_every=1)


def least_frames_to_the_worst_level(table) -> np.ndarray:
    """Not the built-in fitness: the furthest the genome got on its worst level, less a little per frame played."""
    return table.distance.min(axis=1) - 0.01 * table.frames.sum(axis=1)


class StopAfter(BaseReporter):
    """Asks the run to stop (as Ctrl-C does) once generation `last` has been played."""

    def __init__(self, run: Run, last: int) -> None:
        self.run, self.last = run, last

    def post_evaluate(self, config, population, species, best_genome) -> None:
        if self.run.generation >= self.last:
            self.run.request_stop()


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("whole") / "run"
    Run.create(LEVELS, out=folder, fitness=least_frames_to_the_worst_level, **SETTINGS).run()
    return folder_contents(folder)


@pytest.fixture
def stopped(tmp_path):
    """A run with the custom fitness, stopped after generation 2 (its checkpoint is at generation 3 or before)."""
    folder = tmp_path / "run"
    run = Run.create(LEVELS, out=folder, fitness=least_frames_to_the_worst_level, **SETTINGS)
    run.add_reporter(StopAfter(run, 2))
    result = run.run()
    assert result.interrupted and run.generation < SETTINGS["generations"]
    return folder


def test_resumed_with_the_same_fitness_it_is_the_run_that_was_never_stopped(whole, stopped):
    Run.resume(stopped, fitness=least_frames_to_the_worst_level).run()
    assert folder_contents(stopped) == whole


def test_the_custom_fitness_is_what_the_run_selected_by(whole, tmp_path):
    # The same run under the built-in fitness is another run: a resume that forgot the function would show.
    folder = tmp_path / "builtin"
    Run.create(LEVELS, out=folder, **SETTINGS).run()
    assert folder_contents(folder)["stats.jsonl"] != whole["stats.jsonl"]


def test_resumed_without_it_is_refused_in_one_line_and_the_folder_is_kept(stopped, capsys):
    before = folder_contents(stopped)
    with pytest.raises(RunFolderError, match=r"evolved with a custom fitness function; resume it from Python with"):
        Run.resume(stopped)
    assert main(["evolve", "--resume", str(stopped)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("tilerunner: error: ") and "Run.resume(..., fitness=the same function)" in err
    assert folder_contents(stopped) == before  # nothing written: the run can still be resumed properly
