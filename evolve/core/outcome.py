"""What an episode did: a row of numbers per (genome, level) from the kernels, and `Outcome` in words.

The rollout kernels fill one row of `FIELDS` numbers per episode, in the column order of
`COLUMNS`. `OutcomeTable` is a generation's rows for every genome and level with a named
view per column: it is what a custom fitness function receives. `Outcome` is one row as a
person reads it (and as replay files and stats.jsonl record it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tilerunner.envs import physics as P
from tilerunner.envs.level import Level

# Columns of a result row.
COLUMNS = ("fitness", "finished", "distance", "frames", "coins", "kills", "status", "cause")
R_FITNESS, R_FINISHED, R_DISTANCE, R_FRAMES, R_COINS, R_KILLS, R_STATUS, R_CAUSE = range(len(COLUMNS))
FIELDS = len(COLUMNS)


def _column(index: int) -> property:
    """`OutcomeTable`'s view of one column by name: (genomes, levels) of `array`."""
    return property(lambda table: table.array[:, :, index], doc=f"The {COLUMNS[index]} column, (genomes, levels).")


class OutcomeTable:
    """Every genome's episode on every level: `array` is float64 (genomes, levels, FIELDS).

    Each column is also a (genomes, levels) view by name:

    - `fitness`: the episode's fitness by `EpisodeSettings`' formula (distance, time penalty, bonuses);
    - `finished`: 1.0 if the player reached the exit, else 0.0;
    - `distance`: pixels right of the start at the furthest point reached;
    - `frames`: how long the episode lasted (60 per second of game time);
    - `coins`, `kills`: coins collected and enemies stomped;
    - `status`, `cause`: how it ended, as codes (`envs.physics.STATUS_NAMES`, `CAUSE_NAMES`).

    `levels` are the levels of the second axis, in order.
    """

    def __init__(self, array: np.ndarray, levels: Sequence[Level]) -> None:
        if array.ndim != 3 or array.shape[2] != FIELDS or array.shape[1] != len(levels):
            raise ValueError(f"expected results of shape (genomes, {len(levels)}, {FIELDS}), got {array.shape}")
        self.array = array
        self.levels = list(levels)

    @property
    def n_genomes(self) -> int:
        return int(self.array.shape[0])

    fitness = _column(R_FITNESS)
    finished = _column(R_FINISHED)
    distance = _column(R_DISTANCE)
    frames = _column(R_FRAMES)
    coins = _column(R_COINS)
    kills = _column(R_KILLS)
    status = _column(R_STATUS)
    cause = _column(R_CAUSE)

    def outcomes(self, genome: int) -> list[Outcome]:
        """Genome number `genome`'s episodes, one `Outcome` per level."""
        return [Outcome.from_row(row) for row in self.array[genome]]

    def finished_all(self) -> np.ndarray:
        """Per genome: True where it finished every level."""
        return np.all(self.finished > 0, axis=1)


@dataclass(frozen=True)
class Outcome:
    """What one episode did, in a person's terms."""

    fitness: float
    finished: bool
    distance: float  # pixels right of the start, at the furthest
    frames: int
    coins: int
    kills: int
    status: str  # dead, finished, stalled or timeout
    cause: str  # pit, enemy, spiky, or ""

    @classmethod
    def from_row(cls, row: np.ndarray) -> Outcome:
        return cls(
            float(row[R_FITNESS]),
            bool(row[R_FINISHED]),
            float(row[R_DISTANCE]),
            int(row[R_FRAMES]),
            int(row[R_COINS]),
            int(row[R_KILLS]),
            P.STATUS_NAMES[int(row[R_STATUS])],
            P.CAUSE_NAMES[int(row[R_CAUSE])],
        )

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    def describe(self, fitness: bool = False) -> str:
        """In a few words: `finished in 844 frames` or `dead (pit) at 512 px after 300 frames` (`, fitness X`)."""
        if self.finished:
            what = f"finished in {self.frames} frames"
        else:
            cause = f" ({self.cause})" if self.cause else ""
            what = f"{self.status}{cause} at {self.distance:.0f} px after {self.frames} frames"
        return f"{what}, fitness {self.fitness:.1f}" if fitness else what
