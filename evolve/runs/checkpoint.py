"""Checkpoints: the whole state of a run between two generations, as gzipped JSON that cannot run code.

A checkpoint holds everything the next generation depends on, so that a resumed run is the
very run that was stopped: every genome (genes in their own order, which neat-python's
mutations depend on), the species (members, representatives, fitness histories, the next
species key), neat-python's counters (next genome key, next node key, the innovation
tracker), the living genomes' parents, `random`'s state, and tilerunner's own (best-ever
champion and its outcomes, first finishes, the stats and timing rows so far). The neat config is not in it:
it is rebuilt from the run folder's config.ini, which never changes.

Unlike a pickle, loading one cannot run code, so resuming a run folder from elsewhere is
safe; every field is checked on load (one line naming the field otherwise), for its type and for its
sense: each level's text against the sha256 kept beside it (and a built-in or generated level's against
the one its id names), the stats rows' types, and the first finishes, the solve and the champion against
the outcomes the stats rows record. `belonging.check_belongs` ties a checkpoint to its folder's run: every setting
fixed for a run's life (`run_options.fixed_args`), and the config.ini digest.

Version 2 added the levels' sha256, `seed_rules` and `custom_fitness`; a version 1 checkpoint (written
before them) is read without those three, and is held to everything else.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any

import neat

from tilerunner.envs.level import BUILTIN_LEVELS, Level, LevelError, load_level, parse_gen_id, parse_level
from tilerunner.evolve.core.evolution import Evolution, FitnessFunction
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.level_plan import LevelList, LevelPlan
from tilerunner.evolve.core.outcome import Outcome
from tilerunner.evolve.runs.genome_json import GenomeFormatError, genome_from_dict, genome_to_dict
from tilerunner.evolve.runs.json_fields import FieldReader, FormatError, parse_json, shown
from tilerunner.evolve.runs.stats import OUTCOME_KINDS, StatsError, check_outcome_names, check_row, check_timing_row

SCHEMA = "tilerunner-checkpoint"
VERSION = 2
READABLE = (1, 2)  # the versions this one loads (see the module docstring)
MAX_BYTES = 512 * 1024 * 1024  # uncompressed; a population of 10,000 large genomes fits
MAX_GENERATIONS = 1_000_000  # the most generations a run may have (evolve --generations takes up to this)


class CheckpointError(FormatError):
    """A checkpoint that cannot be used; one line for the user."""


_read = FieldReader(CheckpointError)


@dataclass
class Validation:
    """Held-out levels a run checks its best genomes on, every `every` generations, and the best so far."""

    levels: list[Level]
    every: int = 10
    best: tuple[float, float] | None = None  # (finished share, mean progress) of the best genome so far
    best_generation: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "levels": [_level_entry(lv) for lv in self.levels],
            "every": self.every,
            "best": list(self.best) if self.best is not None else None,
            "best_generation": self.best_generation,
        }


def checkpoint_to_dict(
    evolution: Evolution,
    stats: Sequence[dict],
    timing: Sequence[dict],
    validation: Validation | None = None,
    config_text: str | None = None,
) -> dict[str, Any]:
    """The run's state between generations as JSON-able data (see the module docstring).

    With `config_text` (the run's config.ini), its digest is recorded, so that the checkpoint can be told
    apart from another run's (`belonging.check_belongs`).
    """
    p = evolution.population
    gc = evolution.config.genome_config
    reproduction = p.reproduction
    # neat-python's counters' next values, each counter put back as a fresh one that starts there
    next_genome = next(reproduction.genome_indexer)
    reproduction.genome_indexer = count(next_genome)
    next_species = next(p.species.indexer)
    p.species.indexer = count(next_species)
    next_node = None
    if gc.node_indexer is not None:
        next_node = next(gc.node_indexer)
        gc.node_indexer = count(next_node)
    tracker = reproduction.innovation_tracker
    version, internal, gauss = random.getstate()
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "generation": p.generation,
        "seed": evolution.seed,
        "config_digest": config_digest(config_text) if config_text is not None else None,
        "settings": evolution.settings.as_dict(),
        "levels": [
            {"id": lv} if isinstance(lv, str) else _level_entry(lv) for lv in evolution.plan.levels.items
        ],  # generated levels not made yet: their ids
        "random": {"version": version, "internal": list(internal), "gauss": gauss},
        "population": [genome_to_dict(g, keep_order=True) for g in p.population.values()],
        "species": {
            "next_key": next_species,
            "list": [
                {
                    "key": s.key,
                    "created": s.created,
                    "last_improved": s.last_improved,
                    "representative": genome_to_dict(s.representative, keep_order=True),
                    "members": list(s.members),
                    "fitness": s.fitness,
                    "adjusted_fitness": s.adjusted_fitness,
                    "fitness_history": list(s.fitness_history),
                }
                for s in p.species.species.values()
            ],
        },
        "reproduction": {
            "next_genome_key": next_genome,
            # Only the living genomes' parents: neat-python never reads ancestry, and all of it grows
            # without bound (300 entries a generation).
            "ancestors": [
                [key, list(reproduction.ancestors[key])] for key in p.population if key in reproduction.ancestors
            ],
            "innovation_counter": tracker.global_counter,
            "innovations": [[i, o, kind, n] for (i, o, kind), n in tracker.generation_innovations.items()],
        },
        "next_node_key": next_node,
        "best_ever": genome_to_dict(evolution.best_ever, keep_order=True) if evolution.best_ever else None,
        "best_ever_outcomes": [o.as_dict() for o in evolution.best_ever_outcomes],
        "best_ever_generation": evolution.best_ever_generation,
        "best_ever_levels": _level_refs(evolution),
        "levels_per_gen": evolution.levels_per_gen,
        "fresh": list(evolution.plan.fresh),
        "curriculum": evolution.plan.curriculum,
        "stage": evolution.stage,
        "recheck": evolution.plan.recheck,
        "seed_rules": evolution.seed_rules,
        "custom_fitness": evolution.fitness is not None,
        "first_finish": [[li, g] for li, g in evolution.first_finish.items()],
        "solved_at": evolution.solved_at,
        "stats": list(stats),
        "timing": list(timing),
        "validation": validation.as_dict() if validation is not None else None,
    }


def _level_entry(level: Level) -> dict[str, str]:
    """A made level as a checkpoint keeps it: its id, text, and the text's sha256 (checked on load)."""
    return {"id": level.id, "sha256": level.sha256, "text": level.text}


def _level_refs(evolution: Evolution) -> list[int | str]:
    """The best-ever champion's levels: indices into the fixed set, or ids of fresh generated levels."""
    index: dict[str, int] = {}
    for i, level_id in enumerate(evolution.plan.levels.ids()):
        index.setdefault(level_id, i)
    return [index.get(lv.id, lv.id) for lv in evolution.best_ever_levels]


def encode(state: dict[str, Any]) -> bytes:
    """A checkpoint dict as the bytes of a checkpoint file (gzipped JSON)."""
    return gzip.compress(json.dumps(state, separators=(",", ":")).encode("utf-8"), compresslevel=1, mtime=0)


def decode(blob: bytes, source: str) -> dict[str, Any]:
    """The bytes of a checkpoint file as JSON data (`CheckpointError` naming `source` if unreadable)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(blob)) as fh:
            raw = fh.read(MAX_BYTES + 1)
    except (OSError, EOFError, ValueError) as exc:
        raise CheckpointError(f"{source}: not a readable checkpoint ({exc})") from None
    if len(raw) > MAX_BYTES:
        raise CheckpointError(f"{source}: larger than {MAX_BYTES // 2**20} MB unpacked; not a checkpoint of ours")
    data = parse_json(raw, source, CheckpointError)
    version = data.get("version") if isinstance(data, dict) else None
    if version not in READABLE or not _is_int(version) or data.get("schema") != SCHEMA:
        raise CheckpointError(f"{source}: not a tilerunner checkpoint of version {' or '.join(map(str, READABLE))}")
    return data


def _genome(data: Any, where: str, genome_config) -> Any:
    try:
        return genome_from_dict(data, genome_config)
    except GenomeFormatError as exc:
        raise CheckpointError(f"{where}: {exc}") from None


def _outcome(data: Any, where: str) -> Outcome:
    values = {k: _read.get(data, k, kind, where) for k, kind in OUTCOME_KINDS.items()}
    check_outcome_names(values, where, CheckpointError)
    return Outcome(**values)


def evolution_from_dict(
    data: dict[str, Any], config: neat.Config, fitness: FitnessFunction | None = None
) -> tuple[Evolution, list[dict], list[dict], Validation | None]:
    """Rebuild the run a checkpoint holds: (evolution, stats rows, timing rows, validation); sets `random`'s state.

    `config` is the run's neat config (from its config.ini). `CheckpointError` for anything wrong.
    """
    try:
        return _rebuild(data, config, fitness)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, FormatError):
            raise
        raise CheckpointError(f"checkpoint: inconsistent ({type(exc).__name__}: {exc})") from None


def _rebuild(
    data: dict[str, Any], config: neat.Config, fitness: FitnessFunction | None
) -> tuple[Evolution, list[dict], list[dict], Validation | None]:
    gc = config.genome_config
    generation = _generation(data)
    seed = _read.get(data, "seed", "int", "checkpoint")
    try:
        settings = EpisodeSettings.from_dict(_read.get(data, "settings", "object", "checkpoint"))
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint.settings: {exc}") from None
    entries = _read.get(data, "levels", "list", "checkpoint")
    levels = LevelList(_levels(entries, "checkpoint.levels", _version(data), made_later=True))
    random_state = _random_state(data)

    population = _population(data, config)

    # neat-python's own objects, built as Population builds them, then given the saved state.
    p = neat.Population(
        config, initial_state=(population, config.species_set_type(config.species_set_config, None), generation)
    )
    _restore_species(p, data, population, generation, gc)
    next_node = _restore_reproduction(p, data, population, gc)

    best = _read.get(data, "best_ever", "object|null", "checkpoint")
    best_ever = _genome(best, "checkpoint.best_ever", gc) if best is not None else None
    p.best_genome = best_ever
    genomes = [
        *population.values(),
        *(s.representative for s in p.species.species.values()),
        *([best_ever] if best_ever is not None else []),
    ]
    _check_counters(genomes, next_node, p.reproduction.innovation_tracker)
    outcomes = [
        _outcome(o, f"checkpoint.best_ever_outcomes[{n}]")
        for n, o in enumerate(_read.get(data, "best_ever_outcomes", "list", "checkpoint"))
    ]
    first_finish = _first_finish(data, len(levels))
    plan, stage = _plan(data, levels)
    best_levels = _best_levels(data, levels)
    if len(best_levels) != len(outcomes):
        raise CheckpointError(
            f"checkpoint.best_ever_levels: {len(best_levels)} levels for the champion's {len(outcomes)} outcomes"
        )
    evolution = Evolution.restore(
        p,
        plan,
        settings,
        seed,
        fitness,
        best_ever=best_ever,
        best_ever_outcomes=outcomes,
        best_ever_generation=_read.get(data, "best_ever_generation", "count|null", "checkpoint"),
        best_ever_levels=best_levels,
        first_finish=first_finish,
        solved_at=_read.get(data, "solved_at", "count|null", "checkpoint"),
        stage=stage,
        seed_rules=_read.get(data, "seed_rules", "number|null", "checkpoint") if _version(data) >= 2 else None,
    )
    stats = _rows(data, "stats", check_row)
    timing = _rows(data, "timing", check_timing_row)
    _check_before(evolution, generation, stats, timing)
    if stats:
        _check_record(evolution, stats, _read.get(data, "best_ever_outcomes", "list", "checkpoint"))
    validation = _validation(data, generation)
    random.setstate(random_state)
    return evolution, stats, timing, validation


def _plan(data: dict[str, Any], levels: LevelList) -> tuple[LevelPlan, int]:
    """The run's level plan (draws, fresh levels, curriculum, recheck) and its curriculum stage, checked."""
    per_gen = _read.get(data, "levels_per_gen", "count|null", "checkpoint")
    fresh = [_read.check(d, "count", "checkpoint.fresh") for d in _read.get(data, "fresh", "list", "checkpoint")]
    curriculum = _read.get(data, "curriculum", "number|null", "checkpoint")
    recheck = _read.get(data, "recheck", "count|null", "checkpoint")
    try:
        plan = LevelPlan(levels, per_gen, tuple(fresh), curriculum, recheck)
    except ValueError as exc:
        raise CheckpointError(f"checkpoint: {exc}") from None
    stage = _read.get(data, "stage", "count", "checkpoint")
    if stage >= plan.stages:
        raise CheckpointError(f"checkpoint.stage: {stage}, but the curriculum has {plan.stages} stages")
    return plan, stage


def _check_before(evolution: Evolution, generation: int, stats: list[dict], timing: list[dict]) -> None:
    """`CheckpointError` unless the rows, the champion and the first finishes all come before `generation`."""
    for name, rows in (("stats", stats), ("timing", timing)):  # none (an Evolution saved without a Run), or all
        if rows and [row["generation"] for row in rows] != list(range(generation)):
            raise CheckpointError(f"checkpoint.{name}: not one row for each of generations 0 to {generation - 1}")
    for name in ("best_ever_generation", "solved_at"):
        at = getattr(evolution, name)
        if at is not None and at >= generation:
            raise CheckpointError(f"checkpoint.{name}: generation {at}, not before the checkpoint's {generation}")
    best_ever = evolution.best_ever
    if (best_ever is None) != (evolution.best_ever_generation is None) or (best_ever is None) != (
        not evolution.best_ever_outcomes
    ):
        raise CheckpointError("checkpoint.best_ever: the champion, its generation and its outcomes do not agree")
    if any(g >= generation for g in evolution.first_finish.values()):
        raise CheckpointError(f"checkpoint.first_finish: a level first finished after generation {generation - 1}")


def _random_state(data: dict[str, Any]) -> tuple:
    """checkpoint.random: the state of Python's random generator, checked."""
    rng = _read.get(data, "random", "object", "checkpoint")
    internal = _read.get(rng, "internal", "list", "checkpoint.random")
    if len(internal) != 625 or not all(_is_int(x) and 0 <= x < 2**32 for x in internal):
        raise CheckpointError("checkpoint.random.internal: not the state of Python's random generator")
    return (
        _read.get(rng, "version", "int", "checkpoint.random"),
        tuple(internal),
        _read.get(rng, "gauss", "number|null", "checkpoint.random"),
    )


def _population(data: dict[str, Any], config: neat.Config) -> dict[int, Any]:
    """checkpoint.population: its genomes by key, at most the config's population of them."""
    raw_population = _read.get(data, "population", "list", "checkpoint")
    if not raw_population:
        raise CheckpointError("checkpoint.population: empty")
    if len(raw_population) > config.pop_size:  # checked before a single genome is built
        raise CheckpointError(
            f"checkpoint.population: {len(raw_population):,} genomes, more than the run's"
            f" population of {config.pop_size:,} (pop_size in its config.ini)"
        )
    population = {}
    for n, raw in enumerate(raw_population):
        where = f"checkpoint.population[{n}]"
        key = _read.get(raw, "key", "int", where)
        if key in population:
            raise CheckpointError(f"{where}.key: genome {key} appears twice")
        population[key] = _genome(raw, where, config.genome_config)
    return population


def _restore_species(p: neat.Population, data: dict[str, Any], population: dict, generation: int, gc) -> None:
    """checkpoint.species: give `p`'s species set the saved species, each member a genome of `population` once."""
    species = _read.get(data, "species", "object", "checkpoint")
    next_species = _read.get(species, "next_key", "count", "checkpoint.species")
    p.species.indexer = count(next_species)
    for n, raw in enumerate(_read.get(species, "list", "list", "checkpoint.species")):
        where = f"checkpoint.species.list[{n}]"
        s = neat.species.Species(_read.get(raw, "key", "int", where), _read.get(raw, "created", "count", where))
        if s.key in p.species.species:
            raise CheckpointError(f"{where}.key: species {s.key} appears twice")
        if not 0 <= s.key < next_species:
            raise CheckpointError(f"{where}.key: species {s.key}, but checkpoint.species.next_key is {next_species}")
        s.last_improved = _read.get(raw, "last_improved", "count", where)
        if max(s.created, s.last_improved) > generation:
            raise CheckpointError(f"{where}: created or improved after generation {generation}, the checkpoint's")
        members = {}
        for key in _read.get(raw, "members", "list", where):
            if key not in population:
                raise CheckpointError(f"{where}.members: genome {key!r} is not in the population")
            if key in p.species.genome_to_species:
                raise CheckpointError(f"{where}.members: genome {key} is in two species")
            members[key] = population[key]
            p.species.genome_to_species[key] = s.key
        if not members:
            raise CheckpointError(f"{where}.members: a species with no members")
        s.update(_genome(_read.get(raw, "representative", "object", where), f"{where}.representative", gc), members)
        s.fitness = _read.get(raw, "fitness", "number|null", where)
        s.adjusted_fitness = _read.get(raw, "adjusted_fitness", "number|null", where)
        s.fitness_history = [
            _read.check(x, "number", f"{where}.fitness_history")
            for x in _read.get(raw, "fitness_history", "list", where)
        ]
        p.species.species[s.key] = s
    unplaced = [key for key in population if key not in p.species.genome_to_species]
    if unplaced:
        raise CheckpointError(f"checkpoint.species: genome {unplaced[0]} of the population is in no species")


def _restore_reproduction(p: neat.Population, data: dict[str, Any], population: dict, gc) -> int | None:
    """checkpoint.reproduction and next_node_key: give neat-python's counters their saved state; the next node key."""
    reproduction = _read.get(data, "reproduction", "object", "checkpoint")
    where = "checkpoint.reproduction"
    next_genome = _read.get(reproduction, "next_genome_key", "count", where)
    if max(population) >= next_genome:
        raise CheckpointError(f"{where}.next_genome_key: {next_genome}, but genome {max(population)} exists already")
    p.reproduction.genome_indexer = count(next_genome)
    p.reproduction.ancestors = {
        _read.check(key, "int", "checkpoint.reproduction.ancestors"): tuple(
            _read.check(x, "int", "checkpoint.reproduction.ancestors") for x in parents
        )
        for key, parents in _read.get(reproduction, "ancestors", "list", "checkpoint.reproduction")
    }
    tracker = p.reproduction.innovation_tracker
    tracker.global_counter = _read.get(reproduction, "innovation_counter", "count", where)
    innovations = {}
    for entry in _read.get(reproduction, "innovations", "list", where):
        if not (isinstance(entry, list) and len(entry) == 4 and isinstance(entry[2], str)) or not all(
            _is_int(x) for x in (entry[0], entry[1], entry[3])
        ):
            raise CheckpointError(f"{where}.innovations: expected [in, out, kind, number] entries, got {entry!r:.60}")
        innovations[(entry[0], entry[1], entry[2])] = entry[3]
    tracker.generation_innovations = innovations
    gc.innovation_tracker = tracker
    next_node = _read.get(data, "next_node_key", "count|null", "checkpoint")
    gc.node_indexer = count(next_node) if next_node is not None else None
    return next_node


def _validation(data: dict[str, Any], generation: int) -> Validation | None:
    """checkpoint.validation: the held-out levels and the best on them so far (None for a run without them)."""
    if data.get("validation") is None:  # absent in checkpoints of runs without --validate
        return None
    raw = _read.get(data, "validation", "object", "checkpoint")
    where = "checkpoint.validation"
    best = _read.get(raw, "best", "list|null", where)
    if best is not None and (len(best) != 2 or not all(_read.check(x, "number", where) is not None for x in best)):
        raise CheckpointError(f"{where}.best: expected [finished share, mean progress]")
    held_out = _levels(_read.get(raw, "levels", "list", where), f"{where}.levels", _version(data))
    if not held_out:
        raise CheckpointError(f"{where}.levels: empty")
    every = _read.get(raw, "every", "count", where)
    if every < 1:
        raise CheckpointError(f"{where}.every: 0; validation needs a number of generations of at least 1")
    best_generation = _read.get(raw, "best_generation", "count|null", where)
    if (best is None) != (best_generation is None) or (best_generation is not None and best_generation >= generation):
        raise CheckpointError(
            f"{where}.best_generation: {best_generation} does not fit its best or the"
            f" checkpoint's generation {generation}"
        )
    return Validation(held_out, every, tuple(best) if best else None, best_generation)


def _generation(data: dict[str, Any]) -> int:
    """checkpoint.generation: the generation the checkpoint starts, at most `MAX_GENERATIONS`."""
    generation = _read.get(data, "generation", "count", "checkpoint")
    if generation > MAX_GENERATIONS:
        raise CheckpointError(
            f"checkpoint.generation: {generation}, past the {MAX_GENERATIONS:,} generations a run may have"
        )
    return generation


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _check_counters(genomes: list, next_node: int | None, tracker) -> None:
    """`CheckpointError` unless neat-python's counters are past every key and number in use.

    neat-python hands out the next node key and innovation number from these counters; a counter behind
    a key in use would give two genes one key (neat-python stops on an assertion).
    """
    for genome in genomes:
        hidden = max((k for k in genome.nodes), default=-1)
        if next_node is not None and hidden >= next_node:
            raise CheckpointError(f"checkpoint.next_node_key: {next_node}, but genome {genome.key} has node {hidden}")
        top = max((gene.innovation for gene in genome.connections.values()), default=0)
        if top > tracker.global_counter:
            raise CheckpointError(
                f"checkpoint.reproduction.innovation_counter: {tracker.global_counter}, but genome"
                f" {genome.key} has innovation number {top}"
            )
    if any(n > tracker.global_counter for n in tracker.generation_innovations.values()):
        raise CheckpointError("checkpoint.reproduction.innovations: a number past innovation_counter")


def config_digest(text: str) -> str:
    """The SHA-256 of a run's config.ini text, which its checkpoints record."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _levels(entries: list, where: str, version: int, made_later: bool = False) -> list[Level | str]:
    """Levels as a checkpoint keeps them; with `made_later`, an entry with an id and no text is a generated level
    made when drawn (its id, checked). Each text must be the one kept under its id: it matches the sha256 beside it
    (version 2 on), and a built-in or generated level's is the text its id names, so that no other level is trained
    on under its name."""
    levels: list[Level | str] = []
    for n, entry in enumerate(entries):
        at = f"{where}[{n}]"
        level_id = _read.get(entry, "id", "str", at)
        if made_later and isinstance(entry, dict) and "text" not in entry:
            try:
                seed, difficulty = parse_gen_id(level_id)
            except LevelError as exc:
                raise CheckpointError(f"{at}: {exc}") from None
            levels.append(f"gen:{seed}:{difficulty}")
            continue
        try:
            level = parse_level(_read.get(entry, "text", "text", at), source=at, level_id=level_id)
        except LevelError as exc:
            raise CheckpointError(str(exc)) from None
        if version >= 2 and _read.get(entry, "sha256", "str", at) != level.sha256:
            raise CheckpointError(f"{at}.text: does not match its sha256 (the checkpoint was edited or damaged)")
        if level.id in BUILTIN_LEVELS or level.id.startswith("gen:"):
            try:
                named = load_level(level.id)
            except LevelError as exc:
                raise CheckpointError(f"{at}.id: {exc}") from None
            if named.sha256 != level.sha256:
                kind = "built-in" if level.id in BUILTIN_LEVELS else "generated"
                raise CheckpointError(f"{at}.text: not the text of {kind} level {level.id}, which its id names")
        levels.append(level)
    return levels


def _version(data: dict[str, Any]) -> int:
    """The checkpoint's version (`decode` checked it is one of `READABLE`)."""
    return data["version"] if data.get("version") in READABLE else VERSION


def _first_finish(data: dict[str, Any], n_levels: int) -> dict[int, int]:
    """checkpoint.first_finish: [level index, generation] pairs, each index a level of the fixed set, once."""
    first_finish: dict[int, int] = {}
    for entry in _read.get(data, "first_finish", "list", "checkpoint"):
        if not (isinstance(entry, list) and len(entry) == 2):
            raise CheckpointError(f"checkpoint.first_finish: expected [level, generation] pairs, got {shown(entry)}")
        li, g = entry
        if not (_is_int(li) and 0 <= li < n_levels) or li in first_finish:
            raise CheckpointError(f"checkpoint.first_finish: no level {shown(li)}, or it is there twice")
        first_finish[li] = _read.check(g, "count", "checkpoint.first_finish")
    return first_finish


def _best_levels(data: dict[str, Any], levels: LevelList) -> list[Level]:
    """The best-ever champion's levels: indices into the fixed set, or ids of fresh generated levels."""
    best_levels = []
    for ref in _read.get(data, "best_ever_levels", "list", "checkpoint"):
        ref = _read.check(ref, "count|str", "checkpoint.best_ever_levels")
        if isinstance(ref, int):
            if ref >= len(levels):
                raise CheckpointError("checkpoint.best_ever_levels: a level index beyond the run's levels")
            best_levels.append(levels[ref])
        else:
            try:
                if not ref.startswith("gen:"):
                    raise LevelError(f"{ref}: not a generated level")
                best_levels.append(load_level(ref))
            except LevelError as exc:
                raise CheckpointError(f"checkpoint.best_ever_levels: {exc}") from None
    return best_levels


def _rows(data: dict[str, Any], name: str, check: Callable[[Any, str], dict]) -> list[dict]:
    """checkpoint.stats or checkpoint.timing: its rows, each checked as a line of stats.jsonl or timing.jsonl is."""
    rows = []
    for n, row in enumerate(_read.get(data, name, "list", "checkpoint")):
        try:
            rows.append(check(row, f"checkpoint.{name}[{n}]"))
        except StatsError as exc:
            raise CheckpointError(str(exc)) from None
    return rows


def _check_record(evolution: Evolution, stats: list[dict], best_outcomes: list) -> None:
    """`CheckpointError` unless the run's first finishes, its solve and its champion are those the stats rows'
    outcomes give: a first finish recorded where no champion finished would hide the real one (no
    first-finishes/ file), a solve recorded too early would end the run.

    Each row's champion played the levels its generation drew (`LevelPlan.drawn_indices`), in that order; a level
    is first finished in the first generation whose champion finished it, and the run is solved in the first whose
    champion finished all of a whole set.
    """
    plan, ids = evolution.plan, evolution.plan.levels.ids()
    first: dict[int, int] = {}
    solved_at = None
    for g, row in enumerate(stats):
        drawn, played = _played(plan, evolution.seed, row, ids, f"checkpoint.stats[{g}]")
        finished = [o["finished"] for o in row["best"]]
        for li, done in zip(drawn, finished):
            if done:
                first.setdefault(li, g)
        if solved_at is None and all(finished) and plan.whole_set(row.get("stage", 0)):
            solved_at = g
    for li in sorted(set(first) | set(evolution.first_finish)):
        if first.get(li) != evolution.first_finish.get(li):
            raise CheckpointError(
                f"checkpoint.first_finish: level {ids[li]} {_finished(evolution.first_finish.get(li))}, but the"
                f" champions' outcomes (checkpoint.stats) say {_finished(first.get(li))}"
            )
    if evolution.solved_at != solved_at:
        raise CheckpointError(
            f"checkpoint.solved_at: {shown(evolution.solved_at)}, but the champions' outcomes (checkpoint.stats) say"
            f" {'never' if solved_at is None else f'generation {solved_at}'}"
        )
    g = evolution.best_ever_generation
    if g is not None:
        champion = [lv.id for lv in evolution.best_ever_levels]
        if stats[g]["best"] != best_outcomes or _played(plan, evolution.seed, stats[g], ids, "")[1] != champion:
            raise CheckpointError(
                f"checkpoint.best_ever_outcomes: not the outcomes and levels of generation {g}'s champion"
                " (checkpoint.stats)"
            )


def _played(plan: LevelPlan, seed: int, row: dict, ids: list[str], where: str) -> tuple[list[int], list[str]]:
    """The levels a stats row's generation played: their indices in the fixed set (none for fresh levels) and
    ids; `CheckpointError` if the row says otherwise or has not one outcome for each."""
    stage = row.get("stage", 0)
    if (plan.curriculum is not None) != ("stage" in row) or stage >= plan.stages:
        raise CheckpointError(f"{where}.stage: {shown(row.get('stage'))}, not a stage of this run's curriculum")
    drawn = plan.drawn_indices(seed, row["generation"], stage)
    listed = not plan.whole_set(stage) or plan.curriculum is not None  # as `Generation.stats` writes them
    if listed != ("levels" in row) or (not plan.fresh and listed and row["levels"] != [ids[i] for i in drawn]):
        raise CheckpointError(f"{where}.levels: not the levels generation {row['generation']} draws")
    played = row["levels"] if listed else [ids[i] for i in drawn]
    if len(row["best"]) != len(played) or (plan.fresh and len(played) != plan.per_gen):
        raise CheckpointError(f"{where}.best: {len(row['best'])} outcomes for {len(played)} levels played")
    return drawn, played


def _finished(generation: int | None) -> str:
    """`first finished in generation 3`, or `never finished`."""
    return "never finished" if generation is None else f"first finished in generation {generation}"
