"""How well genomes play a set of levels: finished share, progress and deaths, per group of levels.

`evaluate_on(replays, levels)` plays every genome on every level in the parallel rollout kernel
(genomes that share episode settings in one call) and returns a `LevelResult` per (genome,
level). `summarize` adds them up per group of levels, a group being what a person would compare:
the generator of a public level (`notch-lvl` for `notch-lvl-201.txt`), the folder of other
files, the difficulty of generated ones (`gen:*:3`), or the built-in levels. Progress is the
share of the way from the start column to the exit column reached at the furthest (1 when
finished), so levels of different lengths count alike. `with_solvable` marks which levels can be
finished at all (see `evolve.runs.solvable`), so that the tallies also give the finished share
of the solvable levels, the share of what was there to win.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from tilerunner.agent import compile_population
from tilerunner.envs.level import BUILTIN_LEVELS, Level
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.outcome import Outcome
from tilerunner.evolve.core.rollout import evaluate_population, pack_levels
from tilerunner.evolve.runs.replay import Replay

_NUMBERED = re.compile(r"^(.*?)[-_]?\d+$")  # `notch-lvl-201` -> `notch-lvl`


def level_group(level: Level) -> str:
    """The group a level is reported in (see the module docstring)."""
    if level.id in BUILTIN_LEVELS:
        return "built-in"
    if level.id.startswith("gen:"):
        return "gen:*:" + level.id.split(":")[2]
    stem = Path(level.id).stem
    match = _NUMBERED.match(stem)
    if match and match.group(1):
        return match.group(1)
    return str(Path(level.id).parent) or stem


def progress(level: Level, outcome: Outcome) -> float:
    """The share of the way to the exit reached at the furthest: 0 to 1, and 1 when finished."""
    if outcome.finished:
        return 1.0
    return max(0.0, min(1.0, outcome.distance / level.exit_px))


@dataclass(frozen=True)
class LevelResult:
    """One genome on one level."""

    level: Level
    group: str
    outcome: Outcome
    progress: float
    solvable: bool | None = None  # whether the level can be finished; None when nobody asked

    def as_dict(self) -> dict:
        solvable = {} if self.solvable is None else {"solvable": self.solvable}
        return {"level": self.level.id, "group": self.group, "progress": self.progress, **solvable,
                **self.outcome.as_dict()}


@dataclass
class Tally:
    """Results added up: levels, finished, summed progress, how episodes ended and why.

    `solvable` counts the levels that can be finished, once results say so (`with_solvable`).
    """

    levels: int = 0
    finished: int = 0
    progress: float = 0.0
    ended: dict[str, int] = field(default_factory=dict)  # dead (pit), dead (enemy), stalled, timeout ...
    solvable: int | None = None

    def add(self, result: LevelResult) -> None:
        self.levels += 1
        self.finished += result.outcome.finished
        self.progress += result.progress
        if result.solvable is not None:
            self.solvable = (self.solvable or 0) + result.solvable
        if not result.outcome.finished:
            o = result.outcome
            how = f"{o.status} ({o.cause})" if o.cause else o.status
            self.ended[how] = self.ended.get(how, 0) + 1

    @property
    def finished_share(self) -> float:
        return self.finished / self.levels if self.levels else 0.0

    @property
    def mean_progress(self) -> float:
        return self.progress / self.levels if self.levels else 0.0

    @property
    def finished_share_of_solvable(self) -> float | None:
        """Finished levels over solvable ones (0 when none is solvable); None without solvable counts."""
        if self.solvable is None:
            return None
        return self.finished / self.solvable if self.solvable else 0.0

    def as_dict(self) -> dict:
        d = {**asdict(self), "finished_share": self.finished_share, "mean_progress": self.mean_progress}
        if self.solvable is None:
            del d["solvable"]
        else:
            d["finished_share_of_solvable"] = self.finished_share_of_solvable
        return d


def evaluate_genomes(genomes: Sequence, network, settings: EpisodeSettings,
                     levels: Sequence[Level]) -> list[list[LevelResult]]:
    """Genomes of one network shape on every level, in one parallel kernel call: results per genome."""
    if not levels:
        raise ValueError("no levels to evaluate on")
    groups = [level_group(lv) for lv in levels]
    table = evaluate_population(compile_population(list(genomes), network), pack_levels(levels),
                                settings.kernel_settings())
    return [[LevelResult(lv, g, o, progress(lv, o)) for lv, g, o in zip(levels, groups, map(Outcome.from_row, row))]
            for row in table]


def evaluate_on(replays: Sequence[Replay], levels: Sequence[Level]) -> list[list[LevelResult]]:
    """Every replay's genome on every level (with the replay's own episode settings): results per replay."""
    results: list[list[LevelResult] | None] = [None] * len(replays)
    by_settings: dict[tuple, list[int]] = {}
    for i, replay in enumerate(replays):  # one kernel call per (settings, network shape)
        by_settings.setdefault((replay.settings, replay.network), []).append(i)
    for (settings, network), members in by_settings.items():
        rows = evaluate_genomes([replays[i].genome for i in members], network, settings, levels)
        for i, row in zip(members, rows):
            results[i] = row
    return results  # type: ignore[return-value]


def solvable_levels(found: Sequence[bool], results: Sequence[Sequence[LevelResult]]) -> list[bool]:
    """Per level, whether it can be finished: the solver found a way (`found`), or some genome finished it.

    `results` are every genome's results on the same levels (as `evaluate_on` returns them), so
    all genomes are measured against the same solvable levels.
    """
    solvable = list(found)
    for rows in results:
        if len(rows) != len(solvable):
            raise ValueError(f"results for {len(rows)} levels, solver results for {len(solvable)}")
        for i, result in enumerate(rows):
            solvable[i] = solvable[i] or result.outcome.finished
    return solvable


def with_solvable(results: Sequence[LevelResult], solvable: Sequence[bool]) -> list[LevelResult]:
    """The results with each level marked solvable or not (one flag per result, in order)."""
    if len(results) != len(solvable):
        raise ValueError(f"{len(results)} results but {len(solvable)} solvable flags")
    return [replace(r, solvable=bool(s)) for r, s in zip(results, solvable)]


def summarize(results: Sequence[LevelResult]) -> tuple[dict[str, Tally], Tally]:
    """Tallies per group (in the order groups first appear) and in total."""
    groups: dict[str, Tally] = {}
    total = Tally()
    for result in results:
        groups.setdefault(result.group, Tally()).add(result)
        total.add(result)
    return groups, total
