"""Which levels each generation plays: a whole set, a draw from it, fresh generated levels, in stages.

A run trains on one of two kinds of set:

- a fixed list of levels (files, folders, globs, built-in ids, `gen:A-B` ranges): every
  generation plays all of them, or with `per_gen` a draw of that many;
- fresh generated levels, `gen:*` (any difficulty) or `gen:*:D` (repeat for several
  difficulties): every generation plays `per_gen` levels never seen before, with seeds drawn
  from `FRESH_SEEDS`, so held-out generated sets below 1,000,000 (`gen:101-130:3`) are never
  trained on.

Draws come from `numpy.random.default_rng([seed, generation])` alone, not from `random`, so a
run draws the same levels whatever happened before it, resumed or not.

With a curriculum the set is played in stages, and the run moves to the next stage when the
generation's champion finishes at least `curriculum` (a share, say 0.8) of the levels it played:
fresh levels rise through their difficulties, lowest first; a fixed list is taken in the order
given, stage s playing (a draw from) its first (s + 1) x `per_gen` levels (one more level a stage
without `per_gen`), so the last stage plays the whole list.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tilerunner.envs.generator import MAX_DIFFICULTY
from tilerunner.envs.level import Level, LevelError, load_level

FRESH_SEEDS = (1_000_000, 2**31)  # fresh generated levels take seeds from this range (lowest included)
DEFAULT_FRESH_PER_GEN = 10  # levels a generation plays from gen:* when no number is given


def fresh_difficulties(spec: str) -> tuple[int, ...] | None:
    """The difficulties `gen:*` (all) or `gen:*:D` names; None for any other spec; `LevelError` if malformed."""
    if not spec.startswith("gen:*"):
        return None
    if spec == "gen:*":
        return tuple(range(1, MAX_DIFFICULTY + 1))
    tail = spec[len("gen:*"):]
    if tail.startswith(":") and tail[1:].isdigit() and tail[1:].isascii() and 1 <= int(tail[1:]) <= MAX_DIFFICULTY:
        return (int(tail[1:]),)
    raise LevelError(f"{spec}: bad fresh-level set: expected gen:* or gen:*:DIFFICULTY (DIFFICULTY 1-{MAX_DIFFICULTY})")


@dataclass(frozen=True)
class LevelPlan:
    """The training set and how generations draw from it (see the module docstring)."""

    levels: tuple[Level, ...] = ()  # the fixed set; empty for fresh levels
    per_gen: int | None = None  # levels a generation plays; None: all of them (fixed sets only)
    fresh: tuple[int, ...] = ()  # difficulties of fresh generated levels, ascending; empty for a fixed set
    curriculum: float | None = None  # the share of its levels the champion must finish to go up a stage

    def __post_init__(self) -> None:
        if bool(self.levels) == bool(self.fresh):
            raise ValueError("a run trains on a set of levels or on fresh generated levels (gen:*), not both"
                             if self.levels else "evolution needs at least one level")
        if self.fresh:
            object.__setattr__(self, "fresh", tuple(sorted(set(self.fresh))))
            if not all(1 <= d <= MAX_DIFFICULTY for d in self.fresh):
                raise ValueError(f"fresh level difficulties must be from 1 to {MAX_DIFFICULTY}")
            if self.per_gen is None:
                object.__setattr__(self, "per_gen", DEFAULT_FRESH_PER_GEN)
        elif self.per_gen is not None and not 1 <= self.per_gen <= len(self.levels):
            raise ValueError(f"levels per generation must be from 1 to the {len(self.levels)} levels of the set,"
                             f" got {self.per_gen}")
        if self.per_gen is not None and self.per_gen < 1:
            raise ValueError(f"levels per generation must be at least 1, got {self.per_gen}")
        if self.curriculum is not None and not 0.0 < self.curriculum <= 1.0:
            raise ValueError(f"the curriculum's share must be above 0 and at most 1, got {self.curriculum}")

    @classmethod
    def from_specs(cls, specs: Sequence[Level | str], per_gen: int | None = None,
                   curriculum: float | None = None) -> LevelPlan:
        """A plan from what `--level` takes: level sets, or only `gen:*` / `gen:*:D` fresh levels."""
        from tilerunner.envs.level import level_set

        fresh: list[int] = []
        levels: list[Level] = []
        for spec in specs:
            difficulties = fresh_difficulties(spec) if isinstance(spec, str) else None
            if difficulties is not None:
                fresh += difficulties
            elif isinstance(spec, Level):
                levels.append(spec)
            else:
                levels += [load_level(s) for s in level_set(spec)]
        if fresh and levels:
            raise ValueError("fresh generated levels (gen:*) cannot be mixed with other levels in one training set")
        return cls(tuple(levels), per_gen, tuple(fresh), curriculum)

    @property
    def stages(self) -> int:
        """How many curriculum stages there are (1 without a curriculum)."""
        if self.curriculum is None:
            return 1
        if self.fresh:
            return len(self.fresh)
        return math.ceil(len(self.levels) / (self.per_gen or 1))

    def play(self, seed: int, generation: int, stage: int = 0) -> tuple[list[Level], list[int]]:
        """The levels generation `generation` plays at curriculum stage `stage`, and their indices in the fixed
        set (empty for fresh levels)."""
        rng = np.random.default_rng([seed, generation])
        if self.fresh:
            seeds = rng.integers(*FRESH_SEEDS, size=self.per_gen)
            if self.curriculum is not None:
                difficulties = [self.fresh[stage]] * self.per_gen
            else:
                difficulties = [self.fresh[i] for i in rng.integers(0, len(self.fresh), size=self.per_gen)]
            return [load_level(f"gen:{s}:{d}") for s, d in zip(seeds, difficulties)], []
        pool = self.pool_size(stage)
        if self.per_gen is None or self.per_gen >= pool:
            indices = list(range(pool))
        else:
            indices = sorted(int(i) for i in rng.choice(pool, self.per_gen, replace=False))
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

    def stage_name(self, stage: int) -> str:
        """What stage `stage` plays, for people: `difficulty 3` or `the first 40 levels`."""
        if self.fresh:
            return f"difficulty {self.fresh[stage]}"
        return f"the first {self.pool_size(stage)} levels"
