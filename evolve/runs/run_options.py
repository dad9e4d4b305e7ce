"""`RunOptions`: everything a new run can be told, in one object that `Run.create` and `evolve_agents` take.

    options = RunOptions(seed=1, pop=500, generations=200, out="runs/mine")
    run = Run.create(["1-1", "1-2"], options)              # or: Run.create(levels, seed=1, pop=500, ...)
    faster = options.but(backend="ray")                     # a copy with some fields changed

Keyword arguments given to `Run.create` or `evolve_agents` beside (or instead of) an options object are its
fields; a name that is not one is a `TypeError` naming the fields there are. Every field is checked when the
options are made, against the ranges `tilerunner evolve`'s flags take too (below): a wrong type is a `TypeError`,
a value out of range a `ValueError`, naming the field, the value and what is allowed. Numpy integers are whole
numbers (kept as Python ints); `True` is not.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tilerunner.envs.arguments import finite_number, flag, function, instance, path_text, whole_number

if TYPE_CHECKING:
    from tilerunner.envs.level import Level
    from tilerunner.evolve.core.backend import Backend
    from tilerunner.evolve.core.evolution import FitnessFunction
    from tilerunner.evolve.core.fitness import EpisodeSettings

DEFAULT_GENERATIONS = 300
CHECKPOINT_EVERY = 10

# The ranges of the fields (and of `tilerunner evolve`'s flags for them), both ends allowed.
GENERATIONS_RANGE = (1, 1_000_000)
SEED_RANGE = (0, 2**63 - 1)  # a 64-bit seed
CHECKPOINT_EVERY_RANGE = (1, 1_000_000)  # validate_every's too
LEVELS_PER_GEN_RANGE = (1, 100_000)  # levels a generation plays
SEED_SHARE_RANGE = (0.001, 1.0)  # seed_rules: the share of the first population seeded
CURRICULUM_RANGE = (0.01, 1.0)  # curriculum: the share of its levels the champion must finish
WORKERS_RANGE = (1, 4096)  # evolve_agents' workers: threads
_SAME_NAME = "the field's own name"


def fixed(default: Any, kept_as: str | None = _SAME_NAME) -> Any:
    """A `RunOptions` field fixed for the run's life: kept in args.json under `kept_as` (None: not kept, the run
    folder itself), refused by `tilerunner evolve --resume`, and checked against every checkpoint resumed."""
    return dataclasses.field(default=default, metadata={"kept_as": kept_as})


@dataclass(frozen=True)
class RunOptions:
    """How a new run evolves, what it plays and where it is kept; every field has the default a plain
    `tilerunner evolve` uses. Fields made with `fixed` are fixed for the run's life (`fixed_options`); the
    others may change when it is resumed (`Run.resume` takes them)."""

    generations: int = DEFAULT_GENERATIONS
    """Generation limit (a run also ends when its champion finishes every level, unless `keep_going`)."""
    seed: int = fixed(0)
    """0 to 2**63-1: the same seed gives the same run, on every backend and any number of threads."""
    config: str | os.PathLike | None = fixed(None)
    """A neat-python config file (default: the shipped one)."""
    settings: EpisodeSettings | None = fixed(None)
    """The episode rules and fitness terms (default `EpisodeSettings()`)."""
    pop: int | None = fixed(None, kept_as="pop_size")
    """Population size, overriding the config's."""
    memory: bool = fixed(False)
    """Let add-node mutations make LSTM memory cells."""
    batch_breeding: bool = fixed(False)
    """Breed each generation at once in Numba (`breeding = batch`): faster, by neat-python's rules, not draw
    for draw."""
    fitness: FitnessFunction | None = fixed(None, kept_as="custom_fitness")
    """A custom fitness function of the generation's `OutcomeTable` (one value per genome)."""
    keep_going: bool = False
    """Go on after a champion finishes every level, until `generations`."""
    out: str | os.PathLike | None = fixed(None, kept_as=None)  # the folder itself
    """The run folder to keep the run in (it must not hold a run already); None writes nothing."""
    checkpoint_every: int = CHECKPOINT_EVERY
    """Generations between checkpoints of the run folder."""
    replays_dir: str | os.PathLike | None = None
    """Also copy each new champion's replay into this folder."""
    validate: Iterable[Level | str] = fixed(())
    """Held-out levels the best genome of each species plays every `validate_every` generations."""
    validate_every: int = 10
    """Generations between plays of the `validate` levels."""
    levels_per_gen: int | None = fixed(None)
    """Play a draw of this many of the levels each generation (from the seed and the generation)."""
    curriculum: float | None = fixed(None)
    """A share: play the level set in stages of difficulty, moving on when the champion finishes this share."""
    time_limit: float | None = None
    """Minutes (as `tilerunner evolve --time-limit`) after which the run ends at the end of a generation."""
    backend: Backend | str | None = None
    """Where generations are played: `"local"` threads (default), `"ray"`, `"cuda"`, or a backend object."""
    seed_rules: float | None = fixed(None)
    """A share of the first population started as the hand-written reactive controller (needs the `jump`
    and `probes` senses)."""
    recheck: int | None = fixed(None)
    """The best tenth of each generation also plays this many more training levels before its fitness is kept."""

    def __post_init__(self) -> None:
        for name, value in _checked(self).items():  # frozen: store the checked values, plain ints and floats
            object.__setattr__(self, name, value)

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


def fixed_options() -> dict[str, str | None]:
    """Each `RunOptions` field fixed for a run's life -> the args.json key it is kept under (None: not kept); the
    rest may change when a run is resumed. The one list of what is fixed: the commands and checkpoints use it."""
    return {
        f.name: f.name if f.metadata["kept_as"] == _SAME_NAME else f.metadata["kept_as"]
        for f in dataclasses.fields(RunOptions)
        if "kept_as" in f.metadata
    }


def fixed_args() -> list[str]:
    """The args.json keys of everything fixed for a run's life: its levels (`Run.create`'s first argument) and
    the fixed options that are kept (`fixed_options`)."""
    return ["levels", *(key for key in fixed_options().values() if key is not None)]


_FITNESS = "a function of the generation's OutcomeTable giving one fitness per genome"


def _checked(o: RunOptions) -> dict[str, Any]:
    """The fields that are not None, checked (see the module docstring); the rest are checked where they are used
    (the backend, the levels to validate, the time limit, recheck against the level plan)."""
    checks = {
        "generations": lambda v: whole_number("generations", v, *GENERATIONS_RANGE),
        "seed": lambda v: whole_number("seed", v, *SEED_RANGE),
        "config": lambda v: _path("config", v, "a neat config file's path"),
        "settings": _settings,
        "pop": _pop,
        "memory": lambda v: flag("memory", v),
        "batch_breeding": lambda v: flag("batch_breeding", v),
        "fitness": lambda v: function("fitness", v, _FITNESS),
        "keep_going": lambda v: flag("keep_going", v),
        "out": lambda v: _path("out", v, "a run folder's path"),
        "checkpoint_every": lambda v: whole_number("checkpoint_every", v, *CHECKPOINT_EVERY_RANGE),
        "replays_dir": lambda v: _path("replays_dir", v, "a folder's path"),
        "validate_every": lambda v: whole_number("validate_every", v, *CHECKPOINT_EVERY_RANGE),
        "levels_per_gen": lambda v: whole_number("levels_per_gen", v, *LEVELS_PER_GEN_RANGE),
        "curriculum": lambda v: finite_number("curriculum", v, *CURRICULUM_RANGE),
        "seed_rules": lambda v: finite_number("seed_rules", v, *SEED_SHARE_RANGE),
        "recheck": _recheck,
    }
    return {name: check(getattr(o, name)) for name, check in checks.items() if getattr(o, name) is not None}


def _path(name: str, value: Any, what: str) -> Any:
    """`value` as given (text or a `pathlib.Path`) if it is a path; else a `TypeError` saying it must be `what`."""
    path_text(name, value, what)
    return value


def _settings(value: Any) -> EpisodeSettings:
    """`settings` if it is `EpisodeSettings`."""
    from tilerunner.evolve.core.fitness import EpisodeSettings

    return instance("settings", value, EpisodeSettings, "EpisodeSettings")


def _pop(value: Any) -> int:
    """`pop` as an int in the neat config's range for a population."""
    from tilerunner.evolve.core.neat_config import POP_SIZE_RANGE

    return whole_number("pop", value, *POP_SIZE_RANGE)


def _recheck(value: Any) -> int:
    """`recheck` as an int in its range (whether the levels allow one is the level plan's to say)."""
    from tilerunner.evolve.core.level_plan import RECHECK_RANGE

    return whole_number("recheck", value, *RECHECK_RANGE)
