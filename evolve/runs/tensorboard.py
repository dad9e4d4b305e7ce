"""TensorBoard logging for a run (`tilerunner evolve --tensorboard`): one scalar of each kind per generation.

Writes, at step = generation: `fitness/best`, `fitness/mean`, `fitness/best_ever`, `species`,
`finished` (genomes that finished every level) and `levels_finished` (of the generation's
champion), with tensorboardX (the optional extra `tilerunner[tensorboard]`, which needs neither
TensorFlow nor PyTorch). View with `tensorboard --logdir RUN/tensorboard`. A resumed run
purges the events of generations it plays again, so the curves have no doubled stretches.
"""

from __future__ import annotations

import os
from typing import Any

from tilerunner.evolve.runs.reporting import RunReporter

EXTRA = "pip install 'tilerunner[tensorboard]'"


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message names the extra that brings it."""


def _summary_writer() -> Any:
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise MissingExtraError(f"TensorBoard logging needs tensorboardX: {EXTRA}") from None
    return SummaryWriter


class TensorBoardReporter(RunReporter):
    """Logs each generation's fitness, species and finishers to TensorBoard event files in `logdir`."""

    def __init__(self, logdir: str | os.PathLike, purge_step: int | None = None) -> None:
        self.writer = _summary_writer()(logdir=os.fspath(logdir), purge_step=purge_step or None, flush_secs=10)

    @staticmethod
    def check_available() -> None:
        """Raise `MissingExtraError` (naming the extra) unless tensorboardX can be imported."""
        _summary_writer()

    def generation_done(self, summary) -> None:
        step = summary.generation
        self.writer.add_scalar("fitness/best", summary.best_fitness, step)
        self.writer.add_scalar("fitness/mean", summary.mean_fitness, step)
        self.writer.add_scalar("fitness/best_ever", summary.best_ever, step)
        self.writer.add_scalar("species", summary.species, step)
        self.writer.add_scalar("finished", summary.finished, step)
        self.writer.add_scalar("levels_finished", sum(o.finished for o in summary.best_outcomes), step)

    def run_ended(self, result) -> None:
        self.writer.close()
