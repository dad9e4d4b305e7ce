"""Which levels each generation plays: a whole set, a draw from it, fresh generated levels, in stages.

A run trains on one of two kinds of set:

- a fixed list of levels (files, folders, globs, built-in ids, `gen:A-B` ranges): every
  generation plays all of them, or with `per_gen` a draw of that many;
- fresh generated levels, `gen:*` (any difficulty) or `gen:*:D` (repeat for several
  difficulties): every generation plays `per_gen` levels never seen before, with seeds drawn
  from `FRESH_SEEDS`, so held-out generated sets below 1,000,000 (`gen:101-130:3`) are never
  trained on.

A fixed list may be huge (`gen:0-99999`): its generated levels are made when a generation draws
them (`LevelList`), not when the run starts, and a set of more than `RESIDENT_LEVELS` levels that
are not all made yet is packed for the kernels a draw at a time rather than once.

With `recheck` N, the generation's best genomes (`RECHECK_SHARE` of the population) also play N
more levels before their fitness is kept: a second draw from the set, none of them in the first
(or N fresh generated levels), from `default_rng([seed, generation, 1])`; a fixed set must leave N
levels beside a draw (`OptionError` naming `recheck` otherwise). A draw of 20 levels is a
noisy judge, and the genome it ranks first is often the one that drew easy levels; on 20 + N levels
luck counts for less (issue 21's second search lever; see `Evolution.play_generation`).

Draws come from `numpy.random.default_rng([seed, generation])` alone, not from `random`, so a
run draws the same levels whatever happened before it, resumed or not.

With a curriculum the set is played in stages, and the run moves to the next stage when the
generation's champion finishes at least `curriculum` (a share, say 0.8) of the levels it played:
fresh levels rise through their difficulties, lowest first; a fixed list is taken in the order
given, stage s playing (a draw from) its first (s + 1) x `per_gen` levels (one more level a stage
without `per_gen`), so the last stage plays the whole list.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from tilerunner.envs.env import FRESH_SEEDS, fresh_difficulties
from tilerunner.envs.generator import MAX_DIFFICULTY
from tilerunner.envs.level import Level, LevelError, level_set, level_specs, load_level, parse_gen_id
from tilerunner.evolve.core.option_error import OptionError
from tilerunner.evolve.core.plural import plural

RESIDENT_LEVELS = 2_000  # a set with unmade levels and more than this is packed a draw at a time
_MADE_KEPT = 1_024  # generated levels kept made (a draw, a champion's levels), the least recently used dropped
DEFAULT_FRESH_PER_GEN = 10  # levels a generation plays from gen:* when no number is given
RECHECK_SHARE = 0.1  # with `recheck`, the share of the population (at least one genome) that plays more levels
RECHECK_RANGE = (1, 10_000)  # levels a recheck may add


@functools.lru_cache(maxsize=_MADE_KEPT)
def _generated(level_id: str) -> Level:
    return load_level(level_id)


class LevelList(Sequence[Level]):
    """A fixed set of levels whose generated ones (`gen:SEED:D` ids) are made when first asked for.

    Made levels are the same for the same id on every machine, so a level made again is the same
    level; `ids()` names them all without making any.
    """

    def __init__(self, items: Iterable[Level | str] = ()) -> None:
        entries: list[Level | str] = []
        for item in items:
            if isinstance(item, str):
                seed, difficulty = parse_gen_id(item)  # only generated levels can be made later
                item = f"gen:{seed}:{difficulty}"
            entries.append(item)
        self._items = tuple(entries)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        item = self._items[i]
        return _generated(item) if isinstance(item, str) else item

    def __iter__(self) -> Iterator[Level]:
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        return f"LevelList({plural(len(self), 'level')}, {self.unmade} not made yet)"

    @property
    def items(self) -> tuple[Level | str, ...]:
        """The levels as given: `Level` objects, and the ids of generated levels not made yet."""
        return self._items

    @property
    def unmade(self) -> int:
        """How many levels are ids to be made when drawn."""
        return sum(isinstance(item, str) for item in self._items)

    def ids(self) -> list[str]:
        """Every level's id, without making any."""
        return [item if isinstance(item, str) else item.id for item in self._items]


def compact_ids(ids: Sequence[str]) -> list[str]:
    """Level ids with runs of consecutive generated seeds of one difficulty written as `gen:A-B:D` ranges."""
    out: list[str] = []
    run: list[int] = []  # [first seed, last seed, difficulty] of the range being gathered

    def close() -> None:
        if run:
            a, b, d = run
            out.append(f"gen:{a}:{d}" if a == b else f"gen:{a}-{b}:{d}")
            run.clear()

    for level_id in ids:
        try:
            seed, difficulty = parse_gen_id(level_id) if level_id.startswith("gen:") else (None, None)
        except LevelError:
            seed = difficulty = None
        if seed is not None and run and run[2] == difficulty and seed == run[1] + 1:
            run[1] = seed
            continue
        close()
        if seed is None:
            out.append(level_id)
        else:
            run[:] = [seed, seed, difficulty]
    close()
    return out


@dataclass(frozen=True)
class LevelPlan:
    """The training set and how generations draw from it (see the module docstring)."""

    levels: Sequence[Level] = ()  # the fixed set (a `LevelList`, made lazily); empty for fresh levels
    per_gen: int | None = None  # levels a generation plays; None: all of them (fixed sets only)
    fresh: tuple[int, ...] = ()  # difficulties of fresh generated levels, ascending; empty for a fixed set
    curriculum: float | None = None  # the share of its levels the champion must finish to go up a stage
    recheck: int | None = None  # more levels the generation's best genomes play before their fitness is kept

    def __post_init__(self) -> None:
        if not isinstance(self.levels, LevelList):
            object.__setattr__(self, "levels", LevelList(self.levels))
        if bool(self.levels) == bool(self.fresh):
            raise ValueError(
                "a run trains on a set of levels or on fresh generated levels (gen:*), not both"
                if self.levels
                else "evolution needs at least one level"
            )
        if self.fresh:
            object.__setattr__(self, "fresh", tuple(sorted(set(self.fresh))))
            if not all(1 <= d <= MAX_DIFFICULTY for d in self.fresh):
                raise ValueError(f"fresh level difficulties must be from 1 to {MAX_DIFFICULTY}")
            if self.per_gen is None:
                object.__setattr__(self, "per_gen", DEFAULT_FRESH_PER_GEN)
        elif self.per_gen is not None and not 1 <= self.per_gen <= len(self.levels):
            raise ValueError(
                f"levels per generation must be from 1 to the {plural(len(self.levels), 'level')}"
                f" of the set, got {self.per_gen}"
            )
        if self.per_gen is not None and self.per_gen < 1:
            raise ValueError(f"levels per generation must be at least 1, got {self.per_gen}")
        if self.curriculum is not None and not 0.0 < self.curriculum <= 1.0:
            raise ValueError(f"the curriculum's share must be above 0 and at most 1, got {self.curriculum}")
        if self.recheck is not None:
            lo, hi = RECHECK_RANGE
            if isinstance(self.recheck, bool) or not isinstance(self.recheck, int) or not lo <= self.recheck <= hi:
                raise ValueError(f"recheck must be a number of levels from {lo} to {hi:,}, got {self.recheck!r:.40}")
            if not self.fresh and self.per_gen is None:
                raise OptionError(
                    "{recheck} needs a draw ({levels_per_gen}): every generation already plays the whole set"
                )

    def _check_recheck_fits(self) -> None:
        """`OptionError` unless a fixed set leaves `recheck` levels beside a draw: more could never be played (a
        curriculum's early stages leave fewer still, and recheck on what they have). New plans (`from_specs`) only:
        a run begun before this check resumes as it began."""
        if self.recheck is None or self.fresh:
            return  # fresh levels never run out
        left = len(self.levels) - self.per_gen
        if self.recheck > left:
            given = f"{{recheck}} {self.recheck}: the set has {plural(len(self.levels), 'level')} and"
            raise OptionError(
                f"{given} a generation plays all of them ({{levels_per_gen}} {self.per_gen}): none is left to recheck"
                " the best on"
                if left == 0
                else f"{given} a generation draws {self.per_gen} ({{levels_per_gen}}): at most {left} are left to"
                " recheck the best on"
            )

    @classmethod
    def from_specs(
        cls,
        specs: Sequence[Level | str | os.PathLike],
        per_gen: int | None = None,
        curriculum: float | None = None,
        recheck: int | None = None,
    ) -> LevelPlan:
        """A plan from what `--level` takes: level sets, or only `gen:*` / `gen:*:D` fresh levels (texts or
        `pathlib.Path`s; anything else is a `TypeError`)."""
        fresh: list[int] = []
        levels: list[Level | str] = []
        for spec in level_specs("levels", specs):
            difficulties = fresh_difficulties(spec) if isinstance(spec, str) else None
            if difficulties is not None:
                fresh += difficulties
            elif isinstance(spec, Level):
                levels.append(spec)
            elif spec.startswith("gen:"):
                levels += level_set(spec)  # ids, checked; made when drawn
            else:
                levels += [load_level(s) for s in level_set(spec)]
        if fresh and levels:
            raise ValueError("fresh generated levels (gen:*) cannot be mixed with other levels in one training set")
        plan = cls(LevelList(levels), per_gen, tuple(fresh), curriculum, recheck)
        plan._check_recheck_fits()
        return plan

    @property
    def resident(self) -> bool:
        """Whether the fixed set is packed for the kernels once (else a generation packs its own draw)."""
        return bool(self.levels) and (self.levels.unmade == 0 or len(self.levels) <= RESIDENT_LEVELS)

    @property
    def stages(self) -> int:
        """How many curriculum stages there are (1 without a curriculum)."""
        if self.curriculum is None:
            return 1
        if self.fresh:
            return len(self.fresh)
        return math.ceil(len(self.levels) / (self.per_gen or 1))

    def draw(self, seed: int, generation: int, stage: int = 0) -> tuple[list[Level], list[int]]:
        """The levels generation `generation` plays at curriculum stage `stage`, and their indices in the fixed
        set (empty for fresh levels)."""
        if self.fresh:
            return self._fresh_levels(np.random.default_rng([seed, generation]), self.per_gen, stage), []
        indices = self.drawn_indices(seed, generation, stage)
        return [self.levels[i] for i in indices], indices

    def _fresh_levels(self, rng: np.random.Generator, n: int, stage: int) -> list[Level]:
        """`n` fresh generated levels, seeds then difficulties drawn from `rng`: the stage's difficulty with a
        curriculum, else any of `fresh`."""
        seeds = rng.integers(*FRESH_SEEDS, size=n)
        if self.curriculum is not None:
            difficulties = [self.fresh[stage]] * n
        else:
            difficulties = [self.fresh[i] for i in rng.integers(0, len(self.fresh), size=n)]
        return [load_level(f"gen:{s}:{d}") for s, d in zip(seeds, difficulties)]

    def drawn_indices(self, seed: int, generation: int, stage: int = 0) -> list[int]:
        """The indices in the fixed set of the levels `draw` gives (empty for fresh levels), without making any:
        what a checkpoint's recorded outcomes are checked against."""
        if self.fresh:
            return []
        pool = self.pool_size(stage)
        if self.per_gen is None or self.per_gen >= pool:
            return list(range(pool))
        rng = np.random.default_rng([seed, generation])
        return sorted(int(i) for i in rng.choice(pool, self.per_gen, replace=False))

    def recheck_levels(
        self, seed: int, generation: int, stage: int, drawn: Sequence[int]
    ) -> tuple[list[Level], list[int]]:
        """The `recheck` more levels generation `generation` plays with its best genomes, and their indices in the
        fixed set: levels of the stage's pool not in `drawn` (fewer if fewer are left), or fresh ones."""
        if not self.recheck:
            return [], []
        rng = np.random.default_rng([seed, generation, 1])
        if self.fresh:
            return self._fresh_levels(rng, self.recheck, stage), []
        taken = set(drawn)
        left = np.array([i for i in range(self.pool_size(stage)) if i not in taken], dtype=np.int64)
        if left.size > self.recheck:
            left = np.sort(rng.choice(left, self.recheck, replace=False))
        indices = [int(i) for i in left]
        return [self.levels[i] for i in indices], indices

    def pool_size(self, stage: int) -> int:
        """How many levels of the fixed set stage `stage` draws from."""
        if self.curriculum is None:
            return len(self.levels)
        return min(len(self.levels), (stage + 1) * (self.per_gen or 1))

    def whole_set(self, stage: int) -> bool:
        """Whether a generation at `stage` plays every level of the set (so finishing them all solves the run)."""
        if self.fresh:
            return False
        return self.pool_size(stage) == len(self.levels) and (self.per_gen is None or self.per_gen >= len(self.levels))
