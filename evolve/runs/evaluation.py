"""How well genomes play a set of levels: finished share, progress and deaths, per group of levels.

`evaluate(genome, levels)` (`tilerunner.evaluate`) is what one genome (or a replay's) does on each
level, and `trace` (`tilerunner.trace`) one episode's outcome with the button mask of every frame,
their arguments checked so that a wrong one is one clear error rather than one from deep inside
the kernel.

`replay_results(replays, levels)` plays every genome on every level in the parallel rollout kernel
(genomes that share episode settings in one call) and returns a `LevelResult` per (genome,
level). `summarize` adds them up per group of levels, a group being what a person would compare:
the generator of a public level (`notch-lvl` for `notch-lvl-201.txt`), the folder of other
files, the difficulty of generated ones (`gen:*:3`), or the built-in levels. Progress is the
share of the way from the start column to the exit column reached at the furthest (1 when
finished), so levels of different lengths count alike. `with_solvable` marks which levels can be
finished at all (see `evolve.runs.solvable`), so that the tallies also give the finished share
of the solvable levels, the share of what was there to win.

Baselines are measured beside genomes on the same levels, in the same `LevelResult` rows, so a
figure never stands alone (`BASELINES`, `baseline_results`): `hold-right` and `rules` are the
built-in controllers of `evolve.baselines`, played as the rollout kernel plays a genome;
`planner` is the solver (`envs.solver.search`), its solution played back under the same episode
rules. A level the solver finds no way through is not finished, `no plan found` (or `walled in`
when it proved there is none), at progress 0: the search does not say how far it got.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from tilerunner.agent import TileGenome, compile_population
from tilerunner.envs import physics as P
from tilerunner.envs.arguments import instance
from tilerunner.envs.level import BUILTIN_LEVELS, Level, level_spec, load_level
from tilerunner.envs.solver import Search
from tilerunner.evolve.baselines.play import CONTROLLERS, play_controllers
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.outcome import Outcome
from tilerunner.evolve.core.plural import plural
from tilerunner.evolve.core.rollout import episode_outcome, pack_levels, play_networks
from tilerunner.evolve.runs.replay import (
    NetworkShape,
    Replay,
    as_genome,
    as_level_list,
    as_network_shape,
    as_settings,
    trace_episode,
)

_NUMBERED = re.compile(r"^(.*?)[-_]?\d+$")  # `notch-lvl-201` -> `notch-lvl`

# Built-in players measured beside genomes: the controllers of `evolve.baselines`, then the solver.
BASELINES = (*CONTROLLERS, "planner")
BASELINE_WHAT = {  # what each is, in a few words
    "hold-right": "no network: Right+B, A whenever a jump can start or in the air",
    "rules": "the hand-written reactive controller",
    "planner": "the solver's solutions",
}
PROGRESS_CHUNKS = 8  # kernel calls an evaluation is split into when someone follows its progress
NO_PLAN = "no plan found"  # how a planner episode ends where the solver found no way to the exit
WALLED_IN = "walled in"  # ... and where it proved there is none


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


_level_progress = progress  # for the functions whose `progress` argument is a callback


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
        return {
            "level": self.level.id,
            "group": self.group,
            "progress": self.progress,
            **solvable,
            **self.outcome.as_dict(),
        }


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
        """The tally as JSON: `progress` is the mean share of the way to the exit (0 to 1), as `tilerunner eval`
        prints it, and `mean_progress` the same number under the name stats.jsonl's validation rows give it."""
        d = {
            "levels": self.levels,
            "finished": self.finished,
            "finished_share": self.finished_share,
            "progress": self.mean_progress,
            "mean_progress": self.mean_progress,
            "ended": dict(self.ended),
        }
        if self.solvable is not None:
            d["solvable"] = self.solvable
            d["finished_share_of_solvable"] = self.finished_share_of_solvable
        return d


def genome_results(
    genomes: Sequence,
    network,
    settings: EpisodeSettings,
    levels: Sequence[Level],
    progress: Callable[[int], None] | None = None,
) -> list[list[LevelResult]]:
    """Genomes of one network shape on every level, in one parallel kernel call: results per genome.

    With `progress`, the levels are played in `PROGRESS_CHUNKS` kernel calls instead, and `progress(episodes)`
    hears the episodes (genome x level) played after each; the results are the same either way.
    """
    if not levels:
        raise ValueError("no levels to evaluate on")
    groups = [level_group(lv) for lv in levels]
    nets = compile_population(list(genomes), network)
    kernel = settings.kernel_settings()
    if progress is None:
        table = play_networks(nets, pack_levels(levels), kernel)
    else:
        step = -(-len(levels) // PROGRESS_CHUNKS)
        parts = []
        for start in range(0, len(levels), step):
            parts.append(play_networks(nets, pack_levels(levels[start : start + step]), kernel))
            progress(len(genomes) * (start + parts[-1].shape[1]))
        table = np.concatenate(parts, axis=1)
    return [
        [LevelResult(lv, g, o, _level_progress(lv, o)) for lv, g, o in zip(levels, groups, map(Outcome.from_row, row))]
        for row in table
    ]


def replay_results(
    replays: Sequence[Replay],
    levels: Sequence[Level],
    jump_rule: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[list[LevelResult]]:
    """Every replay's genome on every level (with the replay's own episode settings, and its own jump rule
    unless `jump_rule` is given): results per replay.

    `progress(done, total)`, if given, hears the episodes (genome x level) played so far, several times
    per kernel call (for a progress bar); it does not change the results.
    """
    results: list[list[LevelResult] | None] = [None] * len(replays)
    by_settings: dict[tuple, list[int]] = {}
    for i, replay in enumerate(replays):  # one kernel call per (settings, network shape)
        settings = replay.settings if jump_rule is None else replace(replay.settings, jump_rule=jump_rule)
        by_settings.setdefault((settings, replay.network), []).append(i)
    total = len(replays) * len(levels)
    before = 0
    for (settings, network), members in by_settings.items():
        heard = None if progress is None else (lambda done, before=before: progress(before + done, total))
        rows = genome_results([replays[i].genome for i in members], network, settings, levels, heard)
        before += len(members) * len(levels)
        for i, row in zip(members, rows):
            results[i] = row
    return results  # type: ignore[return-value]


def trace(
    genome: TileGenome, network: NetworkShape | Any, level: Level | str | os.PathLike, settings: EpisodeSettings
) -> tuple[Outcome, np.ndarray]:
    """Play `genome` on `level` in the rollout kernel: the outcome and the button mask of every frame.

    Takes what `evaluate` takes (one level: a `Level`, an id or a path), checked, so that a wrong argument
    is one clear error rather than one from deep inside the kernel."""
    genome = as_genome(genome, "trace")
    network = as_network_shape(network)
    level = level if isinstance(level, Level) else load_level(level_spec("level", level))
    settings = instance("settings", settings, EpisodeSettings, "EpisodeSettings")
    return trace_episode(genome, network, level, settings)


def evaluate(
    genome: TileGenome | Replay,
    levels: list[Level | str],
    settings: EpisodeSettings | None = None,
    network: NetworkShape | Any = None,
) -> list[Outcome]:
    """What `genome` (or a replay's genome) does on each of `levels` (Level objects or ids).

    A replay brings its own network shape and settings; a bare genome needs `network` (a
    `NetworkShape`, a neat `Config` or its `genome_config`) and uses `settings` (default: the defaults).
    """
    if isinstance(genome, Replay):
        network = network or genome.network
        settings = settings or genome.settings
        genome = genome.genome
    genome = as_genome(genome, "evaluate")
    if network is None:
        raise ValueError("a bare genome needs its network shape: network=NetworkShape.from_genome_config(...)")
    shape = as_network_shape(network)
    settings = as_settings(settings)
    return [trace_episode(genome, shape, level, settings)[0] for level in as_level_list(levels)]


def baseline_results(
    names: Sequence[str], levels: Sequence[Level], settings: EpisodeSettings, searches: Sequence[Search] | None = None
) -> list[list[LevelResult]]:
    """Each named baseline (`BASELINES`) on every level under `settings` (its jump rule, frame skip,
    limits and fitness terms): results per baseline, as `replay_results` gives them for genomes.

    The controllers play in one parallel kernel call. `planner` needs `searches`, the solver's
    results on the same levels under the same jump rule (`evolve.runs.solvable.search_levels`),
    and plays each solution back (`planner_outcome`). `ValueError` names an unknown baseline.
    """
    if not levels:
        raise ValueError("no levels to evaluate on")
    for name in names:
        if name not in BASELINES:
            raise ValueError(f"unknown baseline {name!r:.40}; the baselines are {', '.join(BASELINES)}")
    controllers = [n for n in names if n in CONTROLLERS]
    played = dict(zip(controllers, play_controllers(controllers, levels, settings))) if controllers else {}
    if "planner" in names:
        if searches is None or len(searches) != len(levels):
            raise ValueError("the planner baseline needs the solver's search of every level")
        played["planner"] = [planner_outcome(lv, s, settings) for lv, s in zip(levels, searches)]
    return [
        [LevelResult(lv, level_group(lv), o, progress(lv, o)) for lv, o in zip(levels, played[name])] for name in names
    ]


def planner_outcome(level: Level, found: Search, settings: EpisodeSettings) -> Outcome:
    """What the planner did on `level`: the solver's solution played back frame by frame under `settings`
    (their limits and fitness terms; the search itself runs by its own), scored as the kernels score
    a genome; or, without a solution, an unfinished episode ended `no plan found` (`walled in` when
    the solver proved there is none) at distance 0: how far a failed search got is not known.
    """
    if found.solution is None:
        return Outcome(0.0, False, 0.0, 0, 0, 0, WALLED_IN if found.walled_in else NO_PLAN, "")
    s = settings.kernel_settings()
    tiles, state, enemies = P.new_world(level, s.jump_rule)
    for mask in found.solution.buttons:
        if P.advance(tiles, state, enemies, int(mask), 1, s.max_frames, s.stall_frames) != P.RUNNING:
            break
    return episode_outcome(state, s)


def solvable_levels(found: Sequence[bool], results: Sequence[Sequence[LevelResult]]) -> list[bool]:
    """Per level, whether it can be finished: the solver found a way (`found`), or some genome finished it.

    `results` are every genome's results on the same levels (as `replay_results` returns them), so
    all genomes are measured against the same solvable levels.
    """
    solvable = list(found)
    for rows in results:
        if len(rows) != len(solvable):
            raise ValueError(f"results for {plural(len(rows), 'level')}, solver results for {len(solvable)}")
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
