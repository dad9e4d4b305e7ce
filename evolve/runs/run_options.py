"""`RunOptions`: everything a new run can be told, in one object that `Run.create` and `evolve_agents` take.

    options = RunOptions(seed=1, pop=500, generations=200, out="runs/mine")
    run = Run.create(["1-1", "1-2"], options)              # or: Run.create(levels, seed=1, pop=500, ...)
    faster = options.but(backend="ray")                     # a copy with some fields changed

Keyword arguments given to `Run.create` or `evolve_agents` beside (or instead of) an options object are its
fields; a name that is not one is a `TypeError` naming the fields there are.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tilerunner.envs.level import Level
    from tilerunner.evolve.core.backend import Backend
    from tilerunner.evolve.core.evolution import FitnessFunction
    from tilerunner.evolve.core.fitness import EpisodeSettings

DEFAULT_GENERATIONS = 300
CHECKPOINT_EVERY = 10


@dataclass(frozen=True)
class RunOptions:
    """How a new run evolves, what it plays and where it is kept; every field has the default a plain
    `tilerunner evolve` uses."""

    generations: int = DEFAULT_GENERATIONS
    """Generation limit (a run also ends when its champion finishes every level, unless `keep_going`)."""
    seed: int = 0
    """0 to 2**63-1: the same seed gives the same run, on every backend and any number of threads."""
    config: str | os.PathLike | None = None
    """A neat-python config file (default: the shipped one)."""
    settings: EpisodeSettings | None = None
    """The episode rules and fitness terms (default `EpisodeSettings()`)."""
    pop: int | None = None
    """Population size, overriding the config's."""
    memory: bool = False
    """Let add-node mutations make LSTM memory cells."""
    batch_breeding: bool = False
    """Breed each generation at once in Numba (`breeding = batch`): faster, by neat-python's rules, not draw
    for draw."""
    fitness: FitnessFunction | None = None
    """A custom fitness function of the generation's `OutcomeTable` (one value per genome)."""
    keep_going: bool = False
    """Go on after a champion finishes every level, until `generations`."""
    out: str | os.PathLike | None = None
    """The run folder to keep the run in (it must not hold a run already); None writes nothing."""
    checkpoint_every: int = CHECKPOINT_EVERY
    """Generations between checkpoints of the run folder."""
    replays_dir: str | os.PathLike | None = None
    """Also copy each new champion's replay into this folder."""
    validate: Iterable[Level | str] = ()
    """Held-out levels the best genome of each species plays every `validate_every` generations."""
    validate_every: int = 10
    """Generations between plays of the `validate` levels."""
    levels_per_gen: int | None = None
    """Play a draw of this many of the levels each generation (from the seed and the generation)."""
    curriculum: float | None = None
    """A share: play the level set in stages of difficulty, moving on when the champion finishes this share."""
    time_limit: float | None = None
    """Minutes (as `tilerunner evolve --time-limit`) after which the run ends at the end of a generation."""
    backend: Backend | str | None = None
    """Where generations are played: `"local"` threads (default), `"ray"`, `"cuda"`, or a backend object."""
    seed_rules: float | None = None
    """A share of the first population started as the hand-written reactive controller (needs the `jump`
    and `probes` senses)."""
    recheck: int | None = None
    """The best tenth of each generation also plays this many more training levels before its fitness is kept."""

    @classmethod
    def of(cls, options: RunOptions | None = None, **fields: Any) -> RunOptions:
        """`options` (default: all defaults) with `fields` changed; `TypeError` for a field there is not."""
        if options is not None and not isinstance(options, RunOptions):
            raise TypeError(f"options must be a RunOptions, not {type(options).__name__}")
        return (options or cls()).but(**fields)

    def but(self, **fields: Any) -> RunOptions:
        """A copy with `fields` changed; `TypeError` naming the fields there are for any other name."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise TypeError(f"unknown run option {unknown[0]!r}; the options are {', '.join(sorted(known))}")
        return dataclasses.replace(self, **fields)
