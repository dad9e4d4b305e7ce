"""Replay files: a genome plus everything needed to play it again and prove it still does the same.

One JSON file (never pickle), validated completely on load:

    {"schema": "tilerunner-replay", "version": 1,
     "genome": {... agent.genome_to_dict ...},
     "network": {"num_inputs": 169, "num_outputs": 6, "memory_cells": false, "feed_forward": false,
                 "activation_options": ["sigmoid"], "aggregation_options": ["sum"]},
     "settings": {"frame_skip": 5, "view_radius": 6, "max_frames": 6000, "stall_frames": 120,
                  "threshold": 0.5, "time_penalty": 0.5, "finish_bonus": 1000.0, ...},
     "episodes": [{"level": {"id": "1-1", "sha256": "...", "text": "... (for files and gen: levels)"},
                   "outcome": {"fitness": 2474.7, "finished": true, "distance": 1897.0, "frames": 844,
                               "coins": 5, "kills": 0, "status": "finished", "cause": ""},
                   "buttons_sha256": "... (sha256 of the button mask held in every frame)"}],
     "seed": 0, "generation": 2, "run": "runs/1-1-20261125-s0", "created": "2026-11-25T19:40:00"}

`verify` plays every episode again (in the same Numba kernel evolution used) and
compares the outcome and the button sequence's hash with the recorded ones.

Limits: a replay file is a regular file of at most `MAX_REPLAY_BYTES` (16 MiB); its settings
are within `EpisodeSettings.LIMITS`; whole numbers fit 64 bits (and counts are >= 0), other
numbers are finite floats; ids, names and dates are one line of printable text; an outcome's
`status` and `cause` are names the engine uses; level text obeys the level-file limits
(`tilerunner.envs.level`). Anything else is a `ReplayError` in one line.
"""

from __future__ import annotations

import datetime as _dt
import errno
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from tilerunner.agent import TileGenome, compile_population
from tilerunner.agent.functions import ACTIVATIONS, AGGREGATIONS
from tilerunner.envs.arguments import ArgumentTypeError, instance, path_text
from tilerunner.envs.atomic import write_atomic
from tilerunner.envs.bounded_read import read_regular_file
from tilerunner.envs.buttons import N_BUTTONS
from tilerunner.envs.level import BUILTIN_LEVELS, Level, LevelError, level_specs, load_level, parse_level
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.outcome import Outcome
from tilerunner.evolve.core.rollout import pack_levels, play_recorded
from tilerunner.evolve.runs.genome_json import GenomeFormatError, genome_from_dict, genome_to_dict
from tilerunner.evolve.runs.json_fields import FieldReader, FormatError, parse_json, shown
from tilerunner.evolve.runs.stats import check_outcome_names

SCHEMA = "tilerunner-replay"
VERSION = 1
MAX_REPLAY_BYTES = 16 * 1024 * 1024


class ReplayError(FormatError):
    """A replay file that cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class NetworkShape:
    """The parts of a neat config that shape a network; enough to compile and check a genome."""

    num_inputs: int
    num_outputs: int
    memory_cells: bool = False
    feed_forward: bool = False
    activation_options: tuple[str, ...] = ("sigmoid",)
    aggregation_options: tuple[str, ...] = ("sum",)

    @property
    def input_keys(self) -> list[int]:
        return [-i - 1 for i in range(self.num_inputs)]

    @property
    def output_keys(self) -> list[int]:
        return list(range(self.num_outputs))

    @classmethod
    def from_genome_config(cls, gc) -> NetworkShape:
        return cls(
            gc.num_inputs,
            gc.num_outputs,
            bool(gc.memory_cells),
            bool(gc.feed_forward),
            tuple(gc.activation_options),
            tuple(gc.aggregation_options),
        )

    def as_dict(self) -> dict[str, Any]:
        return {name: list(v) if isinstance(v, tuple) else v for name, v in asdict(self).items()}


@dataclass(frozen=True)
class Episode:
    """One level played: the level and what happened there."""

    level: Level
    outcome: Outcome
    buttons_sha256: str

    def as_dict(self) -> dict[str, Any]:
        level = {"id": self.level.id, "sha256": self.level.sha256}
        if self.level.id not in BUILTIN_LEVELS:  # files and generated levels travel with the replay
            level["text"] = self.level.text
        return {"level": level, "outcome": self.outcome.as_dict(), "buttons_sha256": self.buttons_sha256}


@dataclass
class Replay:
    """A genome, how it was played, and what it did on each level."""

    genome: TileGenome
    network: NetworkShape
    settings: EpisodeSettings
    episodes: list[Episode]
    seed: int | None = None
    generation: int | None = None
    run: str | None = None
    created: str = field(default_factory=lambda: _dt.datetime.now().replace(microsecond=0).isoformat())

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "version": VERSION,
            "genome": genome_to_dict(self.genome),
            "network": self.network.as_dict(),
            "settings": self.settings.as_dict(),
            "episodes": [e.as_dict() for e in self.episodes],
            "seed": self.seed,
            "generation": self.generation,
            "run": self.run,
            "created": self.created,
        }

    def save(self, path: str | os.PathLike, dir_fd: int | None = None) -> None:
        """Write the replay as JSON, atomically; with `dir_fd`, `path` is a file name in that open folder. Into
        a folder that is not there nothing is written: a `FileNotFoundError` names `path` and says so."""
        if dir_fd is None:
            _check_folder_of(path_text("path", path, "a replay file's path"))
        write_atomic(path, json.dumps(self.as_dict(), indent=1) + "\n", dir_fd=dir_fd)


def _check_folder_of(path: str) -> None:
    """A `FileNotFoundError` naming `path` if the folder it would be written into is not there (rather than one
    naming the temporary file the write would have made there)."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, f"no such folder {folder} to save the replay in", path)


def trace_episode(
    genome: TileGenome, network: NetworkShape, level: Level, settings: EpisodeSettings
) -> tuple[Outcome, np.ndarray]:
    """Play `genome` on `level` in the rollout kernel, its arguments already checked: the outcome and the button
    mask of every frame, what a replay records and `verify` compares (`tilerunner.trace` checks them first)."""
    nets = compile_population([genome], network)
    limit = settings.max_frames if settings.max_frames > 0 else 10_000_000
    decisions = np.zeros(limit // settings.frame_skip + 2, np.int64)
    row, n = play_recorded(
        nets, pack_levels([level]), 0, settings.kernel_settings(), decisions, np.zeros((0, 2), np.int64)
    )
    outcome = Outcome.from_row(row)
    per_frame = np.repeat(decisions[:n], settings.frame_skip)[: outcome.frames]
    return outcome, per_frame


def as_network_shape(network: Any) -> NetworkShape:
    """`network` as a `NetworkShape`: one already, a neat `Config`, or its `genome_config`; else a TypeError."""
    if isinstance(network, NetworkShape):
        return network
    gc = getattr(network, "genome_config", network)  # a whole neat Config carries its genome_config
    if not all(hasattr(gc, f.name) for f in fields(NetworkShape)):
        raise TypeError(
            f"network must be a NetworkShape, a neat Config or its genome_config, not {type(network).__name__}"
        )
    return NetworkShape.from_genome_config(gc)


def as_level_list(levels: Any, name: str = "levels") -> list[Level]:
    """`levels` (a list of `Level` objects or ids: "1-1", "gen:7", paths) as levels; one clear error naming the
    parameter `name` if not."""
    return [lv if isinstance(lv, Level) else load_level(lv) for lv in level_specs(name, levels)]


def as_settings(settings: Any) -> EpisodeSettings:
    """`settings`, or the default `EpisodeSettings()` for None; anything else is a `TypeError` naming it."""
    return EpisodeSettings() if settings is None else instance("settings", settings, EpisodeSettings, "EpisodeSettings")


def as_genome(genome: Any, function: str) -> TileGenome:
    """`genome` if it is a `TileGenome`; else a `TypeError` saying what `function` needs (and where a replay's is)."""
    if not isinstance(genome, TileGenome):
        hint = " (a Replay: use replay.genome)" if isinstance(genome, Replay) else ""
        raise ArgumentTypeError(f"{function} needs a TileGenome, not {type(genome).__name__}{hint}")
    return genome


def shipped_replays() -> Path:
    """The folder of the champions shipped with tilerunner (installed as `tilerunner.replays`)."""
    return Path(str(resources.files("tilerunner.replays")))


def buttons_hash(per_frame: np.ndarray) -> str:
    """sha256 of a per-frame button sequence (one byte per frame)."""
    return hashlib.sha256(np.asarray(per_frame, dtype=np.uint8).tobytes()).hexdigest()


def make_replay(
    genome: TileGenome,
    network: NetworkShape | Any,
    levels: list[Level | str],
    settings: EpisodeSettings | None = None,
    **info: Any,
) -> Replay:
    """Play `genome` on each level and record what it did; takes what `tilerunner.evaluate` takes.

    `network`: a `NetworkShape`, a neat `Config` or its `genome_config`; `levels`: `Level` objects or
    ids ("1-1", "gen:7", a path); `settings`: the episode rules (default: the defaults). Anything
    else is refused at once, in one line, rather than as a broken replay later.
    """
    genome = as_genome(genome, "make_replay")
    shape = as_network_shape(network)
    settings = as_settings(settings)
    if shape.num_inputs != settings.n_inputs:
        raise ValueError(
            f"the network has {shape.num_inputs} inputs but the settings' view radius and features"
            f" give {settings.n_inputs}"
        )
    if shape.num_outputs != N_BUTTONS:
        raise ValueError(f"the network has {shape.num_outputs} outputs; the player has {N_BUTTONS} buttons")
    played = as_level_list(levels)
    if not played:
        raise ValueError("make_replay needs at least one level to play")
    episodes = []
    for level in played:
        outcome, per_frame = trace_episode(genome, shape, level, settings)
        episodes.append(Episode(level, outcome, buttons_hash(per_frame)))
    return Replay(genome, shape, settings, episodes, **info)


@dataclass(frozen=True)
class Check:
    """One episode played again: is it what the file says?"""

    episode: Episode
    outcome: Outcome
    buttons_sha256: str

    @property
    def identical(self) -> bool:
        return self.outcome == self.episode.outcome and self.buttons_sha256 == self.episode.buttons_sha256


def verify(replay: Replay) -> list[Check]:
    """Play every episode again and compare with the record."""
    checks = []
    genome = as_genome(replay.genome, "verify")
    for episode in replay.episodes:
        outcome, per_frame = trace_episode(genome, replay.network, episode.level, replay.settings)
        checks.append(Check(episode, outcome, buttons_hash(per_frame)))
    return checks


# Loading ---------------------------------------------------------------------------------------

_read = FieldReader(ReplayError)


def _network(d: Any) -> NetworkShape:
    d = _read.object(d, "network")
    n_in = _read.get(d, "num_inputs", "int", "network")
    n_out = _read.get(d, "num_outputs", "int", "network")
    if not 1 <= n_in <= 100_000 or not 1 <= n_out <= 1000:
        raise ReplayError(f"network: implausible sizes ({n_in} inputs, {n_out} outputs)")
    acts = _read.get(d, "activation_options", "list", "network")
    aggs = _read.get(d, "aggregation_options", "list", "network")
    for name, known, kind in [(a, ACTIVATIONS, "activation") for a in acts] + [
        (a, AGGREGATIONS, "aggregation") for a in aggs
    ]:
        if not isinstance(name, str) or name not in known:
            raise ReplayError(f"network: unknown {kind} function {shown(name)}")
    return NetworkShape(
        n_in,
        n_out,
        _read.get(d, "memory_cells", "bool", "network"),
        _read.get(d, "feed_forward", "bool", "network"),
        tuple(acts),
        tuple(aggs),
    )


_ADDED_LATER = frozenset({"features", "novelty", "jump_penalty", "relative_to"})  # settings older replays lack
_BEFORE_RULES = "hold"  # the jump rule every replay made before rules existed played by


def _settings(d: Any) -> EpisodeSettings:
    d = _read.object(d, "settings")
    values: dict[str, Any] = {}
    for f in fields(EpisodeSettings):
        if f.name in _ADDED_LATER and f.name not in d:  # an older replay: the setting's default
            continue
        if f.name == "jump_rule" and f.name not in d:  # whatever the default is now, older replays held A
            values["jump_rule"] = _BEFORE_RULES
            continue
        if f.name == "features":
            names = _read.get(d, "features", "list", "settings")
            values["features"] = tuple(_read.check(n, "str", f"settings.features[{i}]") for i, n in enumerate(names))
            continue
        kind = {"int": "int", "float": "number", "str": "str"}[f.type if isinstance(f.type, str) else f.type.__name__]
        values[f.name] = _read.get(d, f.name, kind, "settings")
    try:
        return EpisodeSettings(**values)
    except ValueError as exc:
        raise ReplayError(f"settings: {exc}") from None


def _outcome(d: Any, where: str) -> Outcome:
    d = _read.object(d, where)
    outcome = Outcome(
        fitness=float(_read.get(d, "fitness", "number", where)),
        finished=_read.get(d, "finished", "bool", where),
        distance=float(_read.get(d, "distance", "number", where)),
        frames=_count(d, "frames", where),
        coins=_count(d, "coins", where),
        kills=_count(d, "kills", where),
        status=_read.get(d, "status", "str", where),
        cause=_read.get(d, "cause", "str", where),
    )
    check_outcome_names(d, where, ReplayError)
    return outcome


def _count(d: dict, key: str, where: str) -> int:
    value = _read.get(d, key, "int", where)
    if value < 0:
        raise ReplayError(f"{where}.{key}: expected a whole number >= 0, got {value}")
    return value


def _level(d: Any, where: str, path: str) -> Level:
    d = _read.object(d, where)
    level_id = _read.get(d, "id", "str", where)
    sha = _read.get(d, "sha256", "str", where)
    if "text" in d:
        text = _read.get(d, "text", "text", where)
        try:
            level = parse_level(text, source=f"{path} (level {level_id})", level_id=level_id)
        except LevelError as exc:
            raise ReplayError(str(exc)) from None
        if level.sha256 != sha:
            raise ReplayError(f"{where}: the level text does not match its sha256 (the file was edited?)")
        return level
    if level_id not in BUILTIN_LEVELS:
        raise ReplayError(f"{where}: level {level_id!r} is not built in and the replay has no level text")
    level = load_level(level_id)
    if level.sha256 != sha:
        raise ReplayError(
            f"{where}: built-in level {level_id} has changed since this replay was made (sha256 mismatch)"
        )
    return level


def replay_from_dict(data: Any, path: str = "<replay>") -> Replay:
    """Validate and build a `Replay` from parsed JSON; `ReplayError` (one line, no path prefix) if invalid."""
    data = _read.object(data, "replay")
    schema = data.get("schema")
    if schema != SCHEMA:
        raise ReplayError(f"not a tilerunner replay (schema is {shown(schema)}, expected {shown(SCHEMA)})")
    version = data.get("version")
    if version != VERSION or isinstance(version, bool):
        raise ReplayError(f"replay version {shown(version)} is not supported (this tilerunner reads version {VERSION})")
    network = _network(_read.get(data, "network", "object", "replay"))
    settings = _settings(_read.get(data, "settings", "object", "replay"))
    if network.num_inputs != settings.n_inputs:
        raise ReplayError(
            f"network has {network.num_inputs} inputs but the view radius and features give {settings.n_inputs}"
        )
    if network.num_outputs != N_BUTTONS:
        raise ReplayError(f"network has {network.num_outputs} outputs; the player has {N_BUTTONS} buttons")
    try:
        genome = genome_from_dict(_read.get(data, "genome", "object", "replay"), network)
    except GenomeFormatError as exc:
        raise ReplayError(str(exc)) from None
    raw_episodes = _read.get(data, "episodes", "list", "replay")
    if not raw_episodes:
        raise ReplayError("replay.episodes: no episodes")
    episodes = []
    for n, raw in enumerate(raw_episodes):
        where = f"episodes[{n}]"
        raw = _read.object(raw, where)
        level = _level(_read.get(raw, "level", "object", where), f"{where}.level", path)
        outcome = _outcome(_read.get(raw, "outcome", "object", where), f"{where}.outcome")
        digest = _read.get(raw, "buttons_sha256", "str", where)
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ReplayError(f"{where}.buttons_sha256: not a sha256 hex digest")
        episodes.append(Episode(level, outcome, digest))
    seed = _read.get(data, "seed", "int|null", "replay")
    generation = _read.get(data, "generation", "count|null", "replay")
    run = _read.get(data, "run", "str|null", "replay")
    created = _read.get(data, "created", "str", "replay")
    return Replay(genome, network, settings, episodes, seed, generation, run, created)


def load_replay(path: str | os.PathLike) -> Replay:
    """Read and validate a replay file, or a shipped one by name (`"1-1-f2475"`) as `tilerunner replay`
    finds it (a file at `path` wins); `ReplayError` with `path: problem` for anything wrong."""
    path = resolve_replay(os.fspath(path))
    if _names_a_shipped_replay(path) and not os.path.lexists(path):
        raise ReplayError(
            f"{path}: no such replay file, nor a shipped replay of that name (tilerunner replay --list names them)"
        )
    raw = read_regular_file(path, MAX_REPLAY_BYTES, ReplayError, what="replay file")
    data = parse_json(raw, path, ReplayError)
    try:
        return replay_from_dict(data, path)
    except ReplayError as exc:
        raise ReplayError(f"{path}: {exc}") from None


def resolve_replay(name: str) -> str:
    """A path as given, or, when nothing is there and it names no folder, the shipped replay of that name.

    `2-3-f3311` and `2-3-f3311.json` both find the shipped champion, as `tilerunner replay NAME` does.
    """
    if Path(name).exists() or not _names_a_shipped_replay(name):
        return name
    shipped = shipped_replays() / (name if name.endswith(".json") else f"{name}.json")
    return str(shipped) if shipped.is_file() else name


def _names_a_shipped_replay(name: str) -> bool:
    """Could `name` be a shipped replay's name: a bare file name, no folder in it?"""
    return bool(name) and os.sep not in name and not (os.altsep and os.altsep in name) and "\0" not in name
