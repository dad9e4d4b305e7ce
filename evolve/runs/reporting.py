"""What a run tells its reporters: neat-python's hooks, plus what a tilerunner run knows beyond them.

A `Run` calls every reporter attached to it (`Run.add_reporter`) through neat-python's own
`ReporterSet`, at the points `neat.Population.run` does (`start_generation`, `post_evaluate`,
`found_solution`, `species_stagnant`, `complete_extinction`, `end_generation`), so
`neat.StdOutReporter`, `neat.StatisticsReporter` and any `neat.reporting.BaseReporter` work
unchanged. A `RunReporter` also hears the hooks below, which carry tilerunner's richer view of a
generation (per-level outcomes, frames, timings, first finishes). The `tilerunner evolve`
output and TensorBoard logging are RunReporters, and so is the keeping of the run's own files
(`folder_reporter.RunFolderReporter`), which the run tells first: by the time the others hear
`generation_done`, the generation is saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import neat

if TYPE_CHECKING:
    from tilerunner.envs.level import Level
    from tilerunner.evolve.core.evolution import Generation
    from tilerunner.evolve.runs.run import Run, RunResult


class RunReporter(neat.reporting.BaseReporter):
    """neat-python's reporter interface plus tilerunner's hooks; override what you need."""

    def run_started(self, run: Run) -> None:
        """Before the first generation of this call to `Run.run` (also when resuming)."""

    def evaluation_progress(self, generation: int, done: int, total: int) -> None:
        """`done` of `total` genomes played so far this generation (see `Run.progress_chunks`)."""

    def notice(self, message: str) -> None:
        """One line of news from the run's backend: Ray's actors started, an actor lost and its work redone.
        (Reporters that are not RunReporters hear it through neat-python's `info`.)"""

    def generation_done(self, summary: Generation) -> None:
        """A generation is evaluated, bred and saved: its summary (stats, outcomes, timings)."""

    def first_finish(self, level: Level, generation: int, path: Path | None) -> None:
        """The champion finished `level` for the first time in the run; its replay is at `path`."""

    def run_ended(self, result: RunResult) -> None:
        """After the last generation, or after a stop was requested (`result.interrupted`)."""


def run_reporters(reporters: neat.reporting.ReporterSet) -> list[RunReporter]:
    """The RunReporters among a run's reporters, in the order they were attached."""
    return [r for r in reporters.reporters if isinstance(r, RunReporter)]
