"""`RunOptions`: everything a new run can be told, in one object that `Run.create` and `evolve_agents` take.

    options = RunOptions(seed=1, pop=500, generations=200, out="runs/mine")
    run = Run.create(["1-1", "1-2"], options)              # or: Run.create(levels, seed=1, pop=500, ...)
    faster = options.but(backend="ray")                     # a copy with some fields changed

Keyword arguments given to `Run.create` or `evolve_agents` beside (or instead of) an options object are its
fields; a name that is not one is a `TypeError` naming the fields there are. Every field is checked when the
options are made, against the ranges `tilerunner evolve`'s flags take too: a wrong type is a `TypeError`, a value
out of range a `ValueError`, naming the field, the value and what is allowed. Numpy integers are whole numbers
(kept as Python ints); `True` is not.

The fields are the one list of a run's options. Each is declared with `option`, which says what it is (`Option`):
its help, its range, its flag, and whether it is fixed for the run's life or may change when the run is resumed.
From them come `tilerunner evolve`'s flags and those `tilerunner bench generalize` shares, args.json
(`to_dict`, `from_dict`), the options `Run.resume` takes (`applied_on_resume`), the flags `--resume` refuses,
and the checks of a checkpoint against its run (`fixed_args`). Adding an option is adding its field.
"""

from __future__ import annotations

import dataclasses
import numbers
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tilerunner.envs.arguments import finite_number, flag, function, instance, path_text, whole_number
from tilerunner.envs.level import Level
from tilerunner.evolve.core.backend import BACKENDS
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.level_plan import RECHECK_RANGE
from tilerunner.evolve.core.neat_config import POP_SIZE_RANGE
from tilerunner.evolve.core.option_error import OptionError

if TYPE_CHECKING:
    from tilerunner.evolve.core.backend import Backend
    from tilerunner.evolve.core.evolution import FitnessFunction

DEFAULT_GENERATIONS = 300
CHECKPOINT_EVERY = 10

# The ranges of the fields (and of the flags for them), both ends allowed.
GENERATIONS_RANGE = (1, 1_000_000)
SEED_RANGE = (0, 2**63 - 1)  # a 64-bit seed
CHECKPOINT_EVERY_RANGE = (1, 1_000_000)  # validate_every's too
LEVELS_PER_GEN_RANGE = (1, 100_000)  # levels a generation plays
SEED_SHARE_RANGE = (0.001, 1.0)  # seed_rules: the share of the first population seeded
CURRICULUM_RANGE = (0.01, 1.0)  # curriculum: the share of its levels the champion must finish
MINUTES_RANGE = (0.01, 10_000_000.0)  # time_limit as a flag takes it (the library takes any positive minutes)
WORKERS_RANGE = (1, 4096)  # evolve_agents' workers: threads


@dataclass(frozen=True)
class Option:
    """What a `RunOptions` field is: its words, range and flag, and what becomes of it when the run is resumed.

    `kind` says how a value is checked and shown: `whole` and `number` (within `range`), `switch`, `path`,
    `choice` (one of `choices`), `levels`, or `object` (checked where it is used). `help` is one phrase for
    --help and the docs; `{name}` in it is another option, spelt as a flag or a parameter for whoever reads it.
    A field `fixed` for the run's life is kept in args.json under `kept_as` (None: not kept), refused by
    `tilerunner evolve --resume`, and checked against every checkpoint resumed: the checkpoint records it under
    the same key as the JSON kind `recorded` (from checkpoint version `since`), or (None) `belonging` compares it
    where else it is kept (the config's digest, what config.ini sets, the held-out levels' ids).
    The others are applied on resume: `Run.resume` takes them.
    """

    kind: str
    help: str
    fixed: bool = False
    kept_as: str | None = ""  # "": the field's own name
    range: tuple[float, float] | None = None  # (lo, hi), both ends allowed
    choices: tuple[str, ...] | None = None
    flag: str | None = ""  # "": --the-field-name; None: no flag (given another way)
    metavar: str | None = None
    const: float | None = None  # the value of the flag given bare (it then takes an optional value)
    default_text: str | None = None  # the default as --help says it, where the field's default does not
    group: str = "search"
    what: str = ""  # what a path or object must be, for its TypeError
    recorded: str | None = None
    since: int = 1


def option(default: Any, kind: str, help: str, **about: Any) -> Any:
    """A `RunOptions` field with default `default`, described by `Option(kind, help, **about)`."""
    return dataclasses.field(default=default, metadata={"option": Option(kind, help, **about)})


@dataclass(frozen=True)
class RunOptions:
    """How a new run evolves, what it plays and where it is kept; every field has the default a plain
    `tilerunner evolve` uses (`option_help` says what each is). Fixed fields are fixed for the run's life; the
    others may change when it is resumed (`Run.resume` takes them)."""

    generations: int = option(
        DEFAULT_GENERATIONS,
        "whole",
        "generation limit (a run also ends when its champion finishes every level, unless {keep_going})",
        range=GENERATIONS_RANGE,
        metavar="N",
    )
    seed: int = option(
        0,
        "whole",
        "random seed: the same seed gives the same run, on every backend and any number of threads",
        fixed=True,
        range=SEED_RANGE,
        metavar="N",
        group="population",
        recorded="int",
    )
    config: str | os.PathLike | None = option(
        None,
        "path",
        "neat-python config file",
        fixed=True,
        metavar="FILE",
        default_text="the shipped default.ini",
        group="population",
        what="a neat config file's path",
    )
    settings: EpisodeSettings | None = option(
        None,
        "object",
        "the episode rules and fitness terms (default `EpisodeSettings()`)",
        fixed=True,
        flag=None,
        recorded="object",
    )
    pop: int | None = option(
        None,
        "whole",
        "population size, overriding the config's",
        fixed=True,
        kept_as="pop_size",
        range=POP_SIZE_RANGE,
        metavar="N",
        default_text="the config's, 300",
        group="population",
    )
    memory: bool = option(
        False, "switch", "let add-node mutations make LSTM memory cells", fixed=True, group="population"
    )
    batch_breeding: bool = option(
        False,
        "switch",
        "breed each generation at once in Numba (breeding = batch): faster at large populations, by"
        " neat-python's rules but not draw for draw",
        fixed=True,
        group="population",
    )
    fitness: FitnessFunction | None = option(
        None,
        "object",
        "a custom fitness function of the generation's `OutcomeTable` (one value per genome)",
        fixed=True,
        kept_as="custom_fitness",
        flag=None,
        recorded="bool",
        since=2,
    )
    keep_going: bool = option(
        False, "switch", "keep evolving after a champion finishes every level (until {generations})"
    )
    out: str | os.PathLike | None = option(
        None,
        "path",
        "run folder to keep the run in (it must not hold a run already)",
        fixed=True,
        kept_as=None,  # the folder itself
        metavar="DIR",
        default_text="runs/<level>-<date>-s<seed>",
        group="output",
        what="a run folder's path",
    )
    checkpoint_every: int = option(
        CHECKPOINT_EVERY,
        "whole",
        "generations between checkpoints",
        range=CHECKPOINT_EVERY_RANGE,
        metavar="N",
        group="output",
    )
    replays_dir: str | os.PathLike | None = option(
        None,
        "path",
        "also copy each champion that first finishes a level into DIR (the run folder keeps them anyway); on"
        " resume, give it again: a path outside the run folder is never taken from args.json",
        kept_as="replays",
        flag="--replays",
        metavar="DIR",
        default_text="none",
        group="output",
        what="a folder's path",
    )
    validate: Iterable[Level | str] = option(
        (),
        "levels",
        "held-out levels (a set, as {level} takes; repeat for several): every {validate_every} generations the"
        " best of each species plays them; the best is kept in champions/",
        fixed=True,
        metavar="SET",
        default_text="none",
        group="levels",
    )
    validate_every: int = option(
        10,
        "whole",
        "generations between validations (and the generation whose champion finishes every level)",
        range=CHECKPOINT_EVERY_RANGE,
        metavar="N",
        group="levels",
    )
    levels_per_gen: int | None = option(
        None,
        "whole",
        "each generation every genome plays K levels drawn from the set (by the seed), rather than all",
        fixed=True,
        range=LEVELS_PER_GEN_RANGE,
        metavar="K",
        default_text="all",
        group="levels",
        recorded="count|null",
    )
    curriculum: float | None = option(
        None,
        "number",
        "play the set in stages, up a stage when the champion finishes SHARE of it: gen:* difficulties lowest"
        " first, or the levels in the order given, K ({levels_per_gen}) more a stage",
        fixed=True,
        range=CURRICULUM_RANGE,
        metavar="SHARE",
        const=0.8,
        default_text="off",
        group="levels",
        recorded="number|null",
    )
    time_limit: float | None = option(
        None,
        "number",
        "stop at the end of the first generation after this many minutes, with a checkpoint (resume to go on)",
        kept_as=None,
        range=MINUTES_RANGE,
        metavar="MINUTES",
        default_text="none",
    )
    backend: Backend | str | None = option(
        None,
        "choice",
        "where generations are played: local threads; ray, Ray actors (pip install 'tilerunner[ray]'); cuda,"
        " an NVIDIA GPU (pip install 'tilerunner[cuda]'); the same run on each",
        kept_as=None,
        choices=BACKENDS,
        default_text="local",
        group="backend",
    )
    seed_rules: float | None = option(
        None,
        "number",
        "start SHARE of the first population as the hand-written rules (timed jumps) and mutants of them;"
        " turns on the jump and probes senses they read (with foresight, view radius 6)",
        fixed=True,
        range=SEED_SHARE_RANGE,
        metavar="SHARE",
        const=0.1,
        default_text="off",
        group="population",
        recorded="number|null",
        since=2,
    )
    recheck: int | None = option(
        None,
        "whole",
        "the best tenth of each generation also plays N more training levels, so that a lucky draw makes no"
        " champion; needs {levels_per_gen} or gen:*, and at most the levels a draw leaves",
        fixed=True,
        range=RECHECK_RANGE,
        metavar="N",
        default_text="off",
        recorded="count|null",
    )

    def __post_init__(self) -> None:
        for name in option_fields():  # each field checked; frozen: store the checked values, plain ints and floats
            object.__setattr__(self, name, check_option(name, getattr(self, name)))

    @classmethod
    def of(cls, options: RunOptions | None = None, **fields: Any) -> RunOptions:
        """`options` (default: all defaults) with `fields` changed; `TypeError` for a field there is not."""
        if options is not None and not isinstance(options, RunOptions):
            raise TypeError(f"options must be a RunOptions, not {type(options).__name__}")
        return (options or cls()).but(**fields)

    def but(self, **fields: Any) -> RunOptions:
        """A copy with `fields` changed; `TypeError` naming the fields there are for any other name."""
        known = set(option_fields())
        unknown = sorted(set(fields) - known)
        if unknown:
            raise TypeError(f"unknown run option {unknown[0]!r}; the options are {', '.join(sorted(known))}")
        return dataclasses.replace(self, **fields)

    def to_dict(self, names: Iterable[str] | None = None) -> dict[str, Any]:
        """The fields args.json keeps (of `names`, default all), under their args.json keys, as JSON values.

        `settings` of None is kept as the default settings, `fitness` as whether there is one, `validate` as
        level ids, paths as text."""
        kept = {}
        for name, about in option_fields().items():
            if about.kept_as is None or (names is not None and name not in names):
                continue
            value = getattr(self, name)
            if name == "settings":
                value = (value or EpisodeSettings()).as_dict()
            elif name == "fitness":
                value = value is not None
            elif about.kind == "levels":
                value = [v.id if isinstance(v, Level) else os.fspath(v) for v in value]
            elif about.kind == "path" and value is not None:
                value = os.fspath(value)
            kept[about.kept_as or name] = value
        return kept

    @classmethod
    def from_dict(cls, kept: dict[str, Any]) -> RunOptions:
        """The options an args.json dict keeps (`to_dict`'s); what it lacks (an older run's) takes its default,
        and a custom fitness, which no file holds, is left None. `TypeError`/`ValueError` for a value out of range."""
        fields: dict[str, Any] = {}
        for name, about in option_fields().items():
            key = about.kept_as or name
            if about.kept_as is None or name == "fitness" or kept.get(key) is None:
                continue
            value = kept[key]
            if name == "settings":
                value = EpisodeSettings.from_dict(instance("settings", value, dict, "the settings as a JSON object"))
            elif about.kind == "levels":
                value = tuple(instance("validate", value, list, "a list of level ids"))
            fields[name] = value
        return cls(**fields)


def option_fields() -> dict[str, Option]:
    """Each `RunOptions` field's name -> what it is (`Option`), in the order of the fields."""
    return {f.name: f.metadata["option"] for f in dataclasses.fields(RunOptions)}


def applied_on_resume() -> list[str]:
    """The fields that may change when a run is resumed (`Run.resume` takes them); the rest are fixed."""
    return [name for name, about in option_fields().items() if not about.fixed]


def fixed_args() -> list[str]:
    """The args.json keys of everything fixed for a run's life, which a checkpoint is checked against: its levels
    (`Run.create`'s first argument) and the fixed options that are kept."""
    return ["levels", *(a.kept_as or n for n, a in option_fields().items() if a.fixed and a.kept_as is not None)]


def option_help(name: str, spell: Callable[[str], str] = str) -> str:
    """The help of option `name`, with the options it mentions spelt by `spell` (a flag, say)."""
    return OptionError(option_fields()[name].help).spelled(spell)


def check_option(name: str, value: Any) -> Any:
    """`value` checked as field `name` takes it (see the module docstring); None is left as it is."""
    about = option_fields()[name]
    if value is None:
        return None
    if name == "time_limit":  # any positive number of minutes, up to the flag's most
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
            raise ValueError(f"time_limit must be a positive number of minutes, got {value!r}")
        return finite_number("time_limit", value, 0.0, MINUTES_RANGE[1])
    if about.kind == "whole":
        return whole_number(name, value, *about.range)
    if about.kind == "number":
        return finite_number(name, value, *about.range)
    if about.kind == "switch":
        return flag(name, value)
    if about.kind == "path":
        path_text(name, value, about.what)
        return value  # as given: text or a pathlib.Path
    if name == "settings":
        return instance("settings", value, EpisodeSettings, "EpisodeSettings")
    if name == "fitness":
        return function("fitness", value, "a function of the generation's OutcomeTable giving one fitness per genome")
    return value  # the backend and the levels to validate are checked where they are used


def resume_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """The options `Run.resume` is given that are not None, each checked; a `TypeError` for one fixed for the
    run's life, or for a name that is no option."""
    may_change = applied_on_resume()
    for name in changes:
        if name in option_fields() and name not in may_change:
            raise TypeError(f"{name} is fixed for a run's life; a resumed run may change {', '.join(may_change)}")
        if name not in may_change:
            raise TypeError(f"unknown run option {name!r}; a resumed run may change {', '.join(may_change)}")
    return {name: check_option(name, value) for name, value in changes.items() if value is not None}
