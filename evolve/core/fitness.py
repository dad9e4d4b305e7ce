"""How an episode is played and scored: MarI/O's fitness, every term documented and configurable.

    fitness = distance - time_penalty * frames + finish_bonus (if finished)
              - death_penalty (if died) + coin_bonus * coins + kill_bonus * kills

`distance` is how far right of the start the player got at its furthest, in pixels
(MarI/O's "rightmost"); `frames` is how long the episode lasted. An episode ends on
death, on reaching the exit, when the rightmost position has not grown for
`stall_frames` frames (MarI/O's timeout), or after `max_frames`. The network decides
every `frame_skip` frames from the (2r+1)^2 tiles around the player, r =
`view_radius`; a button is pressed while its output is above `threshold` (outputs
are sigmoids in [0, 1]). On several levels the per-level fitnesses are combined by
`aggregate`: mean (default), min (the worst level counts) or sum.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from tilerunner.evolve.core.outcome import OutcomeTable
from tilerunner.evolve.core.rollout import Settings

AGGREGATES = ("mean", "min", "sum")


@dataclass(frozen=True)
class EpisodeSettings:
    """Episode rules and fitness terms (defaults follow MarI/O where it had one)."""

    frame_skip: int = 5  # MarI/O decided every 5 frames
    view_radius: int = 6  # 13x13 grid, as MarI/O
    max_frames: int = 6000  # 100 s of game time
    stall_frames: int = 120  # 2 s without getting further right
    threshold: float = 0.5
    time_penalty: float = 0.5  # per frame: MarI/O's fitness was rightmost - frames / 2
    finish_bonus: float = 1000.0  # MarI/O's bonus for reaching the end
    death_penalty: float = 0.0
    coin_bonus: float = 0.0
    kill_bonus: float = 0.0
    aggregate: str = "mean"

    def __post_init__(self) -> None:
        if self.frame_skip < 1:
            raise ValueError("frame_skip must be at least 1")
        if self.view_radius < 0:
            raise ValueError("view_radius must be >= 0")
        if self.max_frames < 0 or self.stall_frames < 0:
            raise ValueError("max_frames and stall_frames must be >= 0 (0 turns the limit off)")
        if self.max_frames == 0 and self.stall_frames == 0:
            raise ValueError("max_frames and stall_frames cannot both be 0: an episode could last forever")
        if self.aggregate not in AGGREGATES:
            raise ValueError(f"aggregate must be one of {', '.join(AGGREGATES)}, got {self.aggregate!r}")

    @property
    def n_inputs(self) -> int:
        return (2 * self.view_radius + 1) ** 2

    def kernel_settings(self) -> Settings:
        """The numbers the rollout kernels take."""
        d = asdict(self)
        d.pop("aggregate")
        return Settings(**d)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> EpisodeSettings:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def combine(self, table: OutcomeTable) -> np.ndarray:
        """Per-genome fitness: the per-level fitnesses combined by `aggregate`."""
        per_level = table.fitness
        if self.aggregate == "min":
            return per_level.min(axis=1)
        if self.aggregate == "sum":
            return per_level.sum(axis=1)
        return per_level.mean(axis=1)
