"""How an episode is played and scored: MarI/O's fitness, every term documented and configurable.

    fitness = distance - time_penalty * frames + finish_bonus (if finished)
              - death_penalty (if died) + coin_bonus * coins + kill_bonus * kills
              - jump_penalty * jumps

`distance` is how far right of the start the player got at its furthest, in pixels
(MarI/O's "rightmost"); `frames` is how long the episode lasted. An episode ends on
death, on reaching the exit, when the rightmost position has not grown for
`stall_frames` frames (MarI/O's timeout), or after `max_frames`. The network decides
every `frame_skip` frames from the (2r+1)^2 tiles around the player, r =
`view_radius` (plus the extra inputs of any opt-in observation `features`, see
`tilerunner.envs.observe`); a button is pressed while its output is above `threshold` (outputs
are sigmoids in [0, 1]). On several levels the per-level fitnesses are combined by
`aggregate`: mean (default), min (the worst level counts) or sum. `jump_rule` is the world's
jump rule, `press` or `hold` (`tilerunner.envs.physics`); settings read from a file written before
the rule existed are `hold`, the rule those runs and replays played by.

With `relative_to = "hold-right"` each level's fitness is measured against what the built-in
`hold-right` controller (Right+B held, A toggled to jump again; `tilerunner.evolve.baselines.hold_right`)
earns on that level under the same settings, as a share of the room it left, before the levels are
combined:

    gain  f >= h:  1000 (f - h) / max(F - h, F / 10)
    loss  f <  h:  1000 (f - h) / max(h, F / 10)

where f is the genome's fitness on the level, h hold-right's and F = the level's length in pixels
plus `finish_bonus` (what finishing at once would earn). So every level counts about -1000 (nothing,
where hold-right finished) to +1000 (finished, where hold-right got nowhere), whatever its length,
and a draw's easy levels, which hold-right already finishes, no longer drown progress on its hard
ones (issue 21's first search lever). hold-right's episodes are played once per level and settings
and kept (`baseline_fitness`).

With `novelty` > 0 a genome also earns `novelty` x how unlike the rest of its generation it
played (`novelty_scores`): a behaviour-diversity bonus against a population that all plays the
same way, in the spirit of Lehman and Stanley's novelty search.

Every number has a documented range, `EpisodeSettings.LIMITS`, checked on construction (so a
replay file, args.json or the Python API cannot smuggle in a value the kernels cannot play) and
used by the `tilerunner evolve` flags (so the two cannot disagree); the whole-number rules' ranges are
`tilerunner.envs.episode_defaults.LIMITS`, which the gymnasium env checks its arguments against too:

    frame_skip     1 - 600          frames per decision (600: one decision per 10 s of game)
    view_radius    0 - 20           a 41x41 grid at most
    max_frames     0 - 1,000,000    0 turns the limit off; 1,000,000 is 4.6 hours of game time
    stall_frames   0 - 1,000,000    0 turns the limit off (not both 0)
    threshold and the fitness terms: finite, -1e9 to 1e9
    novelty        0 - 1e9          fitness per unit of novelty (0: off)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import ClassVar

import numpy as np

from tilerunner.envs import episode_defaults as D
from tilerunner.envs.arguments import finite_number, shown
from tilerunner.envs.episode_defaults import check_rule
from tilerunner.envs.level import Level
from tilerunner.envs.observe import FEATURES, feature_mask, n_inputs
from tilerunner.envs.physics import jump_rule_id
from tilerunner.evolve.core.outcome import R_FITNESS, OutcomeTable
from tilerunner.evolve.core.rollout import KernelSettings, pack_levels

AGGREGATES = ("mean", "min", "sum")
RELATIVE_TO = ("none", "hold-right")  # what each level's fitness is measured against (`relative_fitness`)
RELATIVE_SCALE = 1000.0  # a level's relative fitness when the whole room is gained (or lost)
MAX_TERM = 1e9  # the largest |threshold| or |fitness term|
# The threshold and the fitness terms: any finite number within +-MAX_TERM.
SIGNED = ("threshold", "time_penalty", "finish_bonus", "death_penalty", "coin_bonus", "kill_bonus", "jump_penalty")


@dataclass(frozen=True)
class EpisodeSettings:
    """Episode rules and fitness terms (defaults follow MarI/O where it had one)."""

    frame_skip: int = D.FRAME_SKIP  # 5: MarI/O decided every 5 frames (the gymnasium env's defaults are these)
    view_radius: int = D.VIEW_RADIUS  # 6: a 13x13 grid, as MarI/O
    max_frames: int = D.MAX_FRAMES  # 6000: 100 s of game time
    stall_frames: int = D.STALL_FRAMES  # 120: 2 s without getting further right
    threshold: float = 0.5
    time_penalty: float = 0.5  # per frame: MarI/O's fitness was rightmost - frames / 2
    finish_bonus: float = 1000.0  # MarI/O's bonus for reaching the end
    death_penalty: float = 0.0
    coin_bonus: float = 0.0
    kill_bonus: float = 0.0
    jump_penalty: float = 0.0  # per take-off: makes jumping a choice rather than a habit
    aggregate: str = "mean"
    features: tuple[str, ...] = ()  # opt-in observation features, as `tilerunner.envs.observe.FEATURES` names
    novelty: float = 0.0  # fitness per unit of behavioural novelty (`novelty_scores`); 0 turns it off
    jump_rule: str = D.JUMP_RULE  # `hold`; or `press` (`tilerunner.envs.physics.JUMP_RULES`)
    relative_to: str = "none"  # `hold-right`: each level's fitness measured against that controller's

    # The range of every number: (lowest, highest), both allowed. Ints are whole numbers, the rest finite.
    # The whole-number rules' ranges are the env's (`tilerunner.envs.episode_defaults.LIMITS`).
    LIMITS: ClassVar[dict[str, tuple[int | float, int | float]]] = {
        **D.LIMITS,
        **dict.fromkeys(SIGNED, (-MAX_TERM, MAX_TERM)),
        "novelty": (0.0, MAX_TERM),
    }
    WHOLE: ClassVar[frozenset[str]] = frozenset(D.LIMITS)

    def __post_init__(self) -> None:
        for name in self.LIMITS:  # frozen: store the checked value as a plain int or float
            object.__setattr__(self, name, check_setting(name, getattr(self, name)))
        if self.max_frames == 0 and self.stall_frames == 0:
            raise ValueError("max_frames and stall_frames cannot both be 0: an episode could last forever")
        if self.aggregate not in AGGREGATES:
            raise ValueError(f"aggregate must be one of {', '.join(AGGREGATES)}, got {self.aggregate!r}")
        if isinstance(self.features, str) or not all(isinstance(f, str) for f in self.features):
            raise ValueError(f"features must be a list of feature names, got {shown(self.features)}")
        feature_mask(self.features)  # a ValueError naming an unknown feature
        if not isinstance(self.jump_rule, str):
            raise ValueError(f"jump_rule must be a rule's name, got {shown(self.jump_rule)}")
        jump_rule_id(self.jump_rule)  # a ValueError naming the rules
        if self.relative_to not in RELATIVE_TO:
            raise ValueError(f"relative_to must be one of {', '.join(RELATIVE_TO)}, got {shown(self.relative_to)}")
        # One spelling per choice: the features in their documented order, each once.
        object.__setattr__(self, "features", tuple(f for f in FEATURES if f in self.features))

    @property
    def n_inputs(self) -> int:
        return n_inputs(self.view_radius, self.features)

    def kernel_settings(self) -> KernelSettings:
        """The numbers the rollout kernels take."""
        d = asdict(self)
        d.pop("aggregate")
        d.pop("novelty")
        d.pop("relative_to")
        d["features"] = feature_mask(self.features)
        d["jump_rule"] = jump_rule_id(self.jump_rule)
        return KernelSettings(**d)

    def as_dict(self) -> dict:
        return {**asdict(self), "features": list(self.features)}

    @classmethod
    def from_dict(cls, data: dict) -> EpisodeSettings:
        """Settings as `as_dict` wrote them; a file from before jump rules existed played by `hold` (and, from
        before relative fitness, scored levels as they are)."""
        names = {f.name for f in fields(cls)}
        return cls(**{"jump_rule": "hold", **{k: v for k, v in data.items() if k in names}})

    def combine(self, table: OutcomeTable) -> np.ndarray:
        """Per-genome fitness: the per-level fitnesses combined by `aggregate`, plus the novelty bonus."""
        combined = self.combine_levels(table)
        if self.novelty > 0:
            combined = combined + self.novelty * novelty_scores(table)
        return combined

    def combine_levels(self, table: OutcomeTable) -> np.ndarray:
        """Per-genome fitness over the table's levels alone: (relative) per-level fitnesses, combined by `aggregate`."""
        per_level = table.fitness
        if self.relative_to == "hold-right":
            per_level = relative_fitness(per_level, table.levels, self)
        return getattr(per_level, self.aggregate)(axis=1)  # mean, min or sum


def relative_fitness(per_level: np.ndarray, levels: Sequence[Level], settings: EpisodeSettings) -> np.ndarray:
    """Per-level fitnesses (genomes, levels) measured against hold-right's on the same levels (module docstring)."""
    h = baseline_fitness(levels, settings)[None, :]
    room = np.array([lv.exit_px + max(settings.finish_bonus, 0.0) for lv in levels], dtype=np.float64)[None, :]
    floor = room / 10
    gain = per_level - h
    scale = np.where(gain >= 0, np.maximum(room - h, floor), np.maximum(h, floor))
    return RELATIVE_SCALE * gain / scale


_BASELINES: OrderedDict[tuple, float] = OrderedDict()  # (level sha256, settings) -> hold-right's fitness
_BASELINES_KEPT = 65_536


def baseline_fitness(levels: Sequence[Level], settings: EpisodeSettings) -> np.ndarray:
    """hold-right's fitness on each level under `settings`, played once per level and settings and kept.

    hold-right is a baseline (`tilerunner.evolve.baselines`), played by core's own kernels: it is imported
    here, when a fitness relative to it is first scored, so that core does not need the baselines to load.
    """
    from tilerunner.evolve.baselines.play import HOLD_RIGHT, play_controller_ids

    s = settings.kernel_settings()
    keys = [(lv.sha256, lv.id, s) for lv in levels]
    missing: dict[tuple, Level] = {}
    for k, lv in zip(keys, levels):
        if k not in _BASELINES:
            missing.setdefault(k, lv)
    if missing:
        rows = play_controller_ids(np.array([HOLD_RIGHT], np.int64), pack_levels(list(missing.values())), s)
        for k, row in zip(missing, rows[0]):
            _BASELINES[k] = float(row[R_FITNESS])
    for k in keys:
        _BASELINES.move_to_end(k)
    while len(_BASELINES) > _BASELINES_KEPT:
        _BASELINES.popitem(last=False)
    return np.array([_BASELINES[k] for k in keys], dtype=np.float64)


NOVELTY_NEIGHBOURS = 15  # neighbours a genome's novelty is measured against


def novelty_scores(table: OutcomeTable, k: int = NOVELTY_NEIGHBOURS) -> np.ndarray:
    """Per genome, how unlike its generation it played, from 0 up (about 1 at most).

    A genome's behaviour is its progress on each level (distance reached over the distance to the
    exit, 0 to 1); its novelty is the mean Euclidean distance to the k nearest other genomes'
    behaviours, divided by sqrt(levels) so that it does not grow with the number of levels.
    """
    spans = np.array([lv.exit_px for lv in table.levels], dtype=np.float64)
    behaviour = np.clip(table.distance / spans, 0.0, 1.0)
    behaviour[table.finished > 0] = 1.0
    n = behaviour.shape[0]
    if n < 2:
        return np.zeros(n)
    gaps = np.sqrt(((behaviour[:, None, :] - behaviour[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(gaps, np.inf)
    k = min(k, n - 1)
    nearest = np.partition(gaps, k - 1, axis=1)[:, :k]
    return nearest.mean(axis=1) / np.sqrt(behaviour.shape[1])


def check_setting(name: str, value: object) -> int | float:
    """`value` as an int or float if it is in `EpisodeSettings.LIMITS[name]`; else a `ValueError` in one line
    (an `ArgumentTypeError`, a `TypeError` too, for a value of the wrong type)."""
    if name in EpisodeSettings.WHOLE:
        return check_rule(name, value)
    return finite_number(name, value, *EpisodeSettings.LIMITS[name])
