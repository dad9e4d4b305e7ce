"""A run: evolution from its first generation (or a checkpoint) to its end, optionally in a run folder.

`evolve_agents(levels, ...)` is the one-call API: it evolves, and returns a `RunResult` with the
champion, what it did on each level, and the stats of every generation. `Run` is the same
thing in steps: `Run.create` (a new run, kept in a run folder if `out` is given), `Run.resume`
(continue a run folder from its latest checkpoint), `add_reporter`, then `run()`. The
`tilerunner evolve` command is a thin layer over `Run`.

A generation: evaluate (every genome on every level, in Numba), save the champion's replay
when it is a new best-ever, save the champion's replay the first time it finishes a level,
breed the next generation, append to stats.jsonl and timing.jsonl, and every
`checkpoint_every` generations (and at the end) write a checkpoint. The run ends at its
generation limit, or when the champion finishes every level (unless `keep_going`), at the
first generation's end after `time_limit` minutes, or when a stop is requested (`request_stop`,
or Ctrl-C or SIGTERM with `handle_sigint`): then it checkpoints first, and resuming continues exactly.
If its backend fails for good (`BackendError`: every Ray actor gone), it checkpoints, then raises.
"""

from __future__ import annotations

import json
import numbers
import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import neat

from tilerunner.agent import TileGenome
from tilerunner.envs.arguments import whole_number
from tilerunner.envs.level import Level, level_set, level_specs, load_level
from tilerunner.evolve.core.backend import Backend, BackendError, EvaluationStopped, as_backend
from tilerunner.evolve.core.evolution import Evolution, FitnessFunction, Generation
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.level_plan import LevelPlan, compact_ids
from tilerunner.evolve.core.neat_config import config_from_text, load_config_and_text
from tilerunner.evolve.core.outcome import Outcome
from tilerunner.evolve.core.rollout import use_threads
from tilerunner.evolve.core.seeding import seed_population
from tilerunner.evolve.runs.checkpoint import (
    CheckpointError,
    Validation,
    check_belongs,
    checkpoint_to_dict,
    decode,
    encode,
    evolution_from_dict,
)
from tilerunner.evolve.runs.evaluation import genome_results, summarize
from tilerunner.evolve.runs.genome_json import genome_to_dict
from tilerunner.evolve.runs.replay import NetworkShape, Replay, make_replay
from tilerunner.evolve.runs.reporting import run_reporters
from tilerunner.evolve.runs.run_folder import RunFolder, RunFolderError, safe_stem, unique_path
from tilerunner.evolve.runs.run_options import CHECKPOINT_EVERY, DEFAULT_GENERATIONS, WORKERS_RANGE, RunOptions


@dataclass
class RunResult:
    """What a run (or one call of `Run.run`) ended with."""

    levels: list[Level]
    champion: TileGenome | None  # the best genome of the whole run
    champion_outcomes: list[Outcome]  # what it did on each level it played (`champion_levels`)
    champion_generation: int | None
    stats: list[dict[str, Any]]  # one row per generation of the whole run (stats.jsonl)
    timing: list[dict[str, Any]]  # seconds per generation (timing.jsonl)
    first_generation: int  # the first generation this call evaluated
    generations_run: int  # how many this call evaluated
    solved_at: int | None  # the generation whose champion first finished every level
    seconds: float
    interrupted: bool
    folder: Path | None
    network: NetworkShape
    settings: EpisodeSettings
    seed: int
    first_finishes: dict[str, Path] = field(default_factory=dict)  # level id -> replay file, this call
    champion_levels: list[Level] = field(default_factory=list)  # the levels the champion played
    out_of_time: bool = False  # whether the run ended at its time limit
    stop_signal: int | None = None  # the signal (SIGINT, SIGTERM) whose stop request ended this call, if one did

    @property
    def solved(self) -> bool:
        return self.solved_at is not None

    @property
    def levels_finished(self) -> int:
        """How many of the levels the champion finished."""
        return sum(o.finished for o in self.champion_outcomes)

    def replay(self) -> Replay:
        """The champion as a `Replay` (play it again, `save` it, `verify` it)."""
        if self.champion is None:
            raise ValueError("no generation was evaluated, so there is no champion")
        return make_replay(
            self.champion,
            self.network,
            self.champion_levels,
            self.settings,
            seed=self.seed,
            generation=self.champion_generation,
            run=str(self.folder) if self.folder else None,
        )


def _already_copied(path: Path, replay: Replay) -> bool:
    """Whether `path` holds this very replay's genome already (a resumed run copies nothing twice)."""
    try:
        return path.is_file() and json.loads(path.read_text())["genome"] == genome_to_dict(replay.genome)
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _check_writable_folder(path: Path) -> None:
    """`RunFolderError` unless `path` is (or can be made) a folder this process can write into."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise RunFolderError(f"{path}: cannot write replays there: {exc.strerror or exc}") from None


def as_levels(levels: Iterable[Level | str | os.PathLike], name: str = "levels") -> list[Level]:
    """Levels from `Level` objects or specs: built-in `1-1`, `gen:SEED[:DIFFICULTY]`, a file, a folder of
    level files or a glob (see `tilerunner.envs.level.level_set`); anything else is a `TypeError` naming `name`."""
    found: list[Level] = []
    for lv in level_specs(name, levels):
        found += [lv] if isinstance(lv, Level) else [load_level(spec) for spec in level_set(lv)]
    return found


def check_time_limit(time_limit: float | None) -> None:
    """Refuse a `time_limit` that is not a positive number of minutes, in one line."""
    if time_limit is None:
        return
    if isinstance(time_limit, bool) or not isinstance(time_limit, numbers.Real) or not time_limit > 0:
        raise ValueError(f"time_limit must be a positive number of minutes, got {time_limit!r}")


class Run:
    """One run, generation by generation; see the module docstring."""

    def __init__(
        self,
        evolution: Evolution,
        *,
        generations: int = DEFAULT_GENERATIONS,
        keep_going: bool = False,
        folder: RunFolder | None = None,
        checkpoint_every: int = CHECKPOINT_EVERY,
        replays_dir: str | os.PathLike | None = None,
        stats: Sequence[dict] = (),
        timing: Sequence[dict] = (),
        validation: Validation | None = None,
        time_limit: float | None = None,
        config_text: str | None = None,
    ) -> None:
        if generations < 1 or checkpoint_every < 1:
            raise ValueError("generations and checkpoint_every must be at least 1")
        check_time_limit(time_limit)
        self.evolution = evolution
        self.generations = generations
        self.keep_going = keep_going
        self.folder = folder
        self.checkpoint_every = checkpoint_every
        self.replays_dir = Path(replays_dir) if replays_dir is not None else None
        self.stats = list(stats)
        self.timing = list(timing)
        self.validation = validation
        self.time_limit = time_limit  # minutes of run() after which it ends at the next generation's end
        self.progress_chunks = 1  # kernel calls per generation; more give reporters `evaluation_progress`
        self.config_text = config_text  # the run's config.ini, whose digest its checkpoints record
        self.unused_replays: str | None = None  # a --replays folder args.json names, which this call does not use
        self._stop = False
        self._stop_signal: int | None = None

    # Starting ----------------------------------------------------------------------------------

    @classmethod
    def create(cls, levels: Iterable[Level | str], options: RunOptions | None = None, /, **fields: Any) -> Run:
        """A new run on `levels` (`Level` objects or ids: `"1-1"`, `"gen:7"`, a file, `gen:*` fresh levels), as
        `options` (a `RunOptions`; default: a plain `tilerunner evolve`'s) with `fields` (its field names) changed.

        With `options.out`, the run is kept in that run folder; without, nothing is written. The config's
        `num_inputs` is set to what the settings' view radius and observation features give. Bad settings raise
        `ValueError` (a `ConfigError` for the config, a `RunFolderError` for the folder); a field that is not a
        `RunOptions` field, `TypeError`. See `RunOptions` for what each option does.
        """
        o = RunOptions.of(options, **fields)  # every field checked
        backend = as_backend(o.backend)  # a missing Ray fails before anything is made
        plan = LevelPlan.from_specs(level_specs("levels", levels), o.levels_per_gen, o.curriculum, o.recheck)
        held_out = as_levels(o.validate, "validate")
        if o.validate_every < 1:
            raise ValueError("validate_every must be at least 1")
        validation = Validation(held_out, o.validate_every) if held_out else None
        settings = o.settings or EpisodeSettings()
        if not 0 <= o.seed < 2**63:
            raise ValueError(f"seed must be from 0 to 2**63-1, got {o.seed}")
        if o.replays_dir is not None:
            _check_writable_folder(Path(o.replays_dir))
        path = os.fspath(o.config) if o.config is not None else None
        neat_overrides = {"pop_size": o.pop} if o.pop else None
        genome_overrides: dict[str, object] = {"memory_cells": True} if o.memory else {}
        if o.batch_breeding:
            genome_overrides["breeding"] = "batch"
        config_obj, text = load_config_and_text(
            path, neat_overrides=neat_overrides, genome_overrides=genome_overrides or None
        )
        if config_obj.genome_config.num_inputs != settings.n_inputs:  # what the view radius and features give
            genome_overrides["num_inputs"] = settings.n_inputs
            config_obj, text = load_config_and_text(
                path, neat_overrides=neat_overrides, genome_overrides=genome_overrides
            )
        evolution = Evolution(config_obj, plan, settings, o.seed, o.fitness, backend=backend)
        if o.seed_rules is not None:
            seed_population(evolution.population, config_obj, settings.view_radius, settings.features, o.seed_rules)
            evolution.seed_rules = o.seed_rules  # its checkpoints record it
        folder = None
        if o.out is not None:
            folder = RunFolder(o.out)
            with folder.setting_up():
                if folder.holds_a_run():
                    raise RunFolderError(
                        f"{o.out} already holds a run: resume it (tilerunner evolve --resume {o.out}),"
                        " or choose another folder"
                    )
                folder.create(
                    text,
                    {
                        "levels": compact_ids(plan.levels.ids()) or [f"gen:*:{d}" for d in plan.fresh],
                        "seed": o.seed,
                        "generations": o.generations,
                        "keep_going": o.keep_going,
                        "memory": o.memory,
                        "batch_breeding": o.batch_breeding,
                        "config": os.fspath(o.config) if o.config else None,
                        "pop_size": config_obj.pop_size,
                        "settings": settings.as_dict(),
                        "custom_fitness": o.fitness is not None,
                        "replays": os.fspath(o.replays_dir) if o.replays_dir is not None else None,
                        "checkpoint_every": o.checkpoint_every,
                        "validate": [lv.id for lv in held_out],
                        "validate_every": o.validate_every,
                        "levels_per_gen": plan.per_gen,
                        "curriculum": o.curriculum,
                        "seed_rules": o.seed_rules,
                        "recheck": o.recheck,
                    },
                )
                # Generation 0's checkpoint before anything else, so that whatever happens next the
                # folder can be resumed.
                folder.write_checkpoint(0, encode(checkpoint_to_dict(evolution, [], [], validation, text)))
        return cls(
            evolution,
            generations=o.generations,
            keep_going=o.keep_going,
            folder=folder,
            checkpoint_every=o.checkpoint_every,
            replays_dir=o.replays_dir,
            validation=validation,
            time_limit=o.time_limit,
            config_text=text,
        )

    @classmethod
    def resume(
        cls,
        path: str | os.PathLike,
        *,
        generations: int | None = None,
        keep_going: bool = False,
        fitness: FitnessFunction | None = None,
        replays_dir: str | os.PathLike | None = None,
        checkpoint_every: int | None = None,
        time_limit: float | None = None,
        backend: Backend | str | None = None,
        validate_every: int | None = None,
    ) -> Run:
        """Continue the run in folder `path` from its latest checkpoint, exactly as if it had not stopped.

        `generations` raises (or lowers) its limit; `backend` may differ from the one the run began on;
        `validate_every` changes how often a run with held-out levels validates from here on; `time_limit`:
        minutes, as `Run.create` takes it (it is not kept in the folder: each resume gives its own).
        A run that stopped because its champion finished every level goes on improving (as with
        `keep_going`). A run evolved with a custom fitness function needs the same `fitness` again.
        First finishes are copied to `replays_dir` only if given here: a path outside the run folder never comes
        from a file in it (the folder may come from elsewhere), so the one args.json names is only kept in
        `unused_replays`. `RunFolderError` if the folder cannot be resumed.
        """
        backend = as_backend(backend)
        folder = RunFolder(path)
        if not folder.path.is_dir():
            raise RunFolderError(f"{folder.path}: no such run folder")
        with folder.setting_up():
            file, blob = folder.latest_checkpoint()
            saved = folder.read_args()
            if saved.get("custom_fitness") and fitness is None:
                raise RunFolderError(
                    f"{folder.path} was evolved with a custom fitness function;"
                    " resume it from Python with Run.resume(..., fitness=the same function)"
                )
            config_text = folder.read_config()
            config = config_from_text(config_text)
            try:
                data = decode(blob, str(file))  # its messages name the file
                check_belongs(data, saved, config_text, str(file))
            except CheckpointError as exc:
                raise RunFolderError(str(exc)) from None
            try:
                evolution, stats, timing, validation = evolution_from_dict(data, config, fitness)
                if evolution.generation != folder.checkpoint_generation(file):
                    raise CheckpointError(
                        f"checkpoint.generation: {evolution.generation}, but the file's name says"
                        f" {folder.checkpoint_generation(file)}"
                    )
            except CheckpointError as exc:
                raise RunFolderError(f"{file}: {exc}") from None
            evolution.seed_rules = saved["seed_rules"]  # what check_belongs found it to be (version 1 kept none)
            evolution.use_backend(backend)
            if validate_every is not None:
                if validation is None:
                    raise RunFolderError(
                        f"{folder.path} has no held-out levels (it was started without --validate),"
                        " so there is nothing to validate every so many generations"
                    )
                if validate_every < 1:
                    raise ValueError("validate_every must be at least 1")
                validation.every = validate_every
                saved["validate_every"] = validate_every
            generations = generations or saved["generations"]
            keep_going = keep_going or saved["keep_going"] or evolution.solved_at is not None
            checkpoint_every = checkpoint_every or saved.get("checkpoint_every") or CHECKPOINT_EVERY
            unused_replays = saved.get("replays") if replays_dir is None else None
            if replays_dir is not None:
                _check_writable_folder(Path(replays_dir))
            folder.drop_champions_from(evolution.generation)
            saved.update(
                generations=generations,
                keep_going=keep_going,
                checkpoint_every=checkpoint_every,
                replays=os.fspath(replays_dir) if replays_dir is not None else None,
            )
            folder.write_args(saved)
        run = cls(
            evolution,
            generations=generations,
            keep_going=keep_going,
            folder=folder,
            checkpoint_every=checkpoint_every,
            replays_dir=replays_dir,
            stats=stats,
            timing=timing,
            validation=validation,
            time_limit=time_limit,
            config_text=config_text,
        )
        run.unused_replays = unused_replays
        return run

    # Running -----------------------------------------------------------------------------------

    @property
    def levels(self) -> list[Level]:
        return self.evolution.levels

    @property
    def generation(self) -> int:
        """The next generation to evaluate."""
        return self.evolution.generation

    @property
    def at_limit(self) -> bool:
        """Whether the run has reached its generation limit (so `run()` would do nothing)."""
        return self.evolution.generation >= self.generations

    def add_reporter(self, reporter: neat.reporting.BaseReporter) -> None:
        """Attach a neat-python reporter or a `RunReporter`; see `tilerunner.evolve.runs.reporting`."""
        self.evolution.add_reporter(reporter)

    def request_stop(self) -> None:
        """Stop at the next safe point: the current generation is dropped, a checkpoint written."""
        self._stop = True
        stop = getattr(self.evolution.backend, "request_stop", None)
        if stop is not None:  # a backend waiting on other machines gives the generation up at once
            stop()

    def run(self, handle_sigint: bool = False) -> RunResult:
        """Evolve until the run ends (see the module docstring); what it ended with.

        With `handle_sigint`, the first Ctrl-C or SIGTERM (`kill`, systemd, a cluster scheduler) requests a stop
        and a second stops at once (KeyboardInterrupt); only in the main thread. `RunResult.stop_signal` says which.
        """
        previous = {}
        if handle_sigint and threading.current_thread() is threading.main_thread():

            def on_signal(signum, frame):
                if self._stop:
                    raise KeyboardInterrupt  # a second one: stop now
                self._stop_signal = signum
                self.request_stop()

            previous = {signum: signal.signal(signum, on_signal) for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            return self._loop()
        finally:
            for signum, handler in previous.items():
                if handler is not None:
                    signal.signal(signum, handler)

    def _loop(self) -> RunResult:
        if self.folder is not None:
            self.folder.lock()  # held since create/resume; taken again if this run is run twice
        reporters = run_reporters(self.evolution.reporters)
        for r in reporters:
            r.run_started(self)
        t_start = time.perf_counter()
        out_of_time = False
        first = self.evolution.generation
        first_finishes: dict[str, Path] = {}
        interrupted = False
        last = self.at_limit
        try:
            while not last:
                if self._stop:
                    interrupted = True
                    break
                try:
                    summary = self.evolution.play_generation(
                        progress=self._progress(reporters), chunks=self.progress_chunks
                    )
                except EvaluationStopped:  # the backend gave the generation up at the stop request
                    interrupted = True
                    break
                if self._stop:  # nothing of this generation is kept; it is evaluated again on resume
                    self.evolution.discard()
                    interrupted = True
                    break
                t0 = time.perf_counter()
                newly = [self.levels[li] for li in summary.first_finishes]
                replay = self._replay(summary) if newly or (self.folder is not None and summary.new_best) else None
                if self.folder is not None and summary.new_best:
                    self.folder.save_replay(replay, "champions", self.folder.champion_path(summary.generation).name)
                for level in newly:
                    path = self._keep_first_finish(level, summary, replay)
                    if path is not None:
                        first_finishes[level.id] = path
                last = (summary.generation + 1 >= self.generations) or (summary.solved and not self.keep_going)
                if not last and self.time_limit is not None and time.perf_counter() - t_start >= self.time_limit * 60:
                    last = out_of_time = True
                checked = self._validate(summary)
                self.evolution.reproduce(summary)
                row = summary.stats()
                if checked is not None:
                    row["validation"] = checked
                    if checked["best"]:
                        self.validation.best = (checked["finished_share"], checked["mean_progress"])
                        self.validation.best_generation = summary.generation
                self.stats.append(row)
                summary.total_seconds = summary.eval_seconds + time.perf_counter() - t0
                self.timing.append(summary.timing())
                if self.folder is not None:
                    self.folder.write_lines("stats.jsonl", self.stats)
                    self.folder.write_lines("timing.jsonl", self.timing)
                for r in reporters:
                    r.generation_done(summary)
                for level in newly:
                    for r in reporters:
                        r.first_finish(level, summary.generation, first_finishes.get(level.id))
                if last or self.evolution.generation % self.checkpoint_every == 0:
                    self._checkpoint()
            if interrupted:
                self._checkpoint()
        except BackendError:  # every Ray actor gone, or the cluster lost: keep what was done
            self.evolution.discard()
            self._checkpoint()
            raise
        except BrokenPipeError:  # a reporter's reader went away (`| head`): no fault of the disk; the last
            raise  # checkpoint is intact, and `tilerunner evolve`'s own printer stops the run before this
        except OSError as exc:  # a full disk, a folder made read-only: the last checkpoint is intact
            kept = self.folder.checkpoint_files() if self.folder is not None else []
            at = f"generation {kept[-1].name[4:8].lstrip('0') or '0'}" if kept else "none"
            raise RunFolderError(
                f"cannot write {exc.filename or 'the run folder'}: {exc.strerror or exc}; the"
                f" newest checkpoint is {at}: make room, then tilerunner evolve --resume"
                f" {self.folder.location() if self.folder is not None else ''}".rstrip()
            ) from None
        finally:
            stop_signal, self._stop, self._stop_signal = self._stop_signal, False, None
            self.evolution.backend.close()  # a Ray it started stops; the next run() starts it again
            where = self.folder.location() if self.folder is not None else None  # moved, maybe, while it ran
            if self.folder is not None:
                self.folder.unlock()
        ev = self.evolution
        result = RunResult(
            levels=self.levels,
            champion=ev.best_ever,
            champion_outcomes=list(ev.best_ever_outcomes),
            champion_generation=ev.best_ever_generation,
            stats=list(self.stats),
            timing=list(self.timing),
            first_generation=first,
            generations_run=ev.generation - first,
            solved_at=ev.solved_at,
            seconds=time.perf_counter() - t_start,
            interrupted=interrupted,
            folder=where,
            network=NetworkShape.from_genome_config(ev.config.genome_config),
            settings=ev.settings,
            seed=ev.seed,
            first_finishes=first_finishes,
            champion_levels=list(ev.best_ever_levels),
            out_of_time=out_of_time,
            stop_signal=stop_signal if interrupted else None,
        )
        for r in reporters:
            r.run_ended(result)
        return result

    def _progress(self, reporters):
        if not reporters or self.progress_chunks <= 1:
            return None
        generation = self.evolution.generation
        total = len(self.evolution.population.population)

        def progress(done: int) -> None:
            for r in reporters:
                r.evaluation_progress(generation, done, total)

        return progress

    def _replay(self, summary: Generation) -> Replay:
        ev = self.evolution
        network = NetworkShape.from_genome_config(ev.config.genome_config)
        run = str(self.folder.location()) if self.folder is not None else None
        return make_replay(
            summary.best_genome,
            network,
            summary.levels,
            ev.settings,
            seed=ev.seed,
            generation=summary.generation,
            run=run,
        )

    def _keep_first_finish(self, level: Level, summary: Generation, replay: Replay) -> Path | None:
        """Save the champion that first finished `level`: in the run folder, and in `replays_dir` if asked."""
        kept = None
        if self.folder is not None:
            name = self.folder.first_finish_path(level.id, summary.best_fitness).name
            kept = self.folder.save_replay(replay, "first-finishes", name)
        if self.replays_dir is not None:
            stem = f"{safe_stem(level.id)}-f{summary.best_fitness:.0f}"
            copy = self.replays_dir / f"{stem}.json"
            try:
                self.replays_dir.mkdir(parents=True, exist_ok=True)
                if not _already_copied(copy, replay):  # e.g. resumed after a crash
                    copy = unique_path(self.replays_dir, stem, ".json")
                    replay.save(copy)
            except OSError as exc:  # the --replays folder, not the run folder, is what could not be written
                raise OSError(exc.errno, exc.strerror, os.fspath(copy)) from None
            kept = kept or copy
        return kept

    def _validate(self, summary: Generation) -> dict[str, Any] | None:
        """Every `validation.every` generations (and in the one whose champion solves the run): the best of each
        species on the held-out levels. The best of them as a stats row; saved as champions/best-validation.json
        if best so far."""
        v = self.validation
        # Not at the last generation of this call: where a call stops (--generations, a time limit, Ctrl-C)
        # must not change the run, so a run done in two calls validates where a run done in one does.
        ends = summary.solved and not self.keep_going
        if v is None or not (summary.generation % v.every == 0 or ends):
            return None
        ev = self.evolution
        species = list(ev.population.species.species.values())
        candidates = [max(s.members.values(), key=lambda g: g.fitness) for s in species]
        network = NetworkShape.from_genome_config(ev.config.genome_config)
        scores = []
        for rows in genome_results(candidates, network, ev.settings, v.levels):
            _, total = summarize(rows)
            scores.append((total.finished_share, total.mean_progress))
        i = max(range(len(candidates)), key=lambda k: scores[k])  # the first of equals
        best = v.best is None or scores[i] > v.best
        if best and self.folder is not None:
            kept = make_replay(
                candidates[i],
                network,
                v.levels,
                ev.settings,
                seed=ev.seed,
                generation=summary.generation,
                run=str(self.folder.location()),
            )
            self.folder.save_replay(kept, "champions", "best-validation.json")
        return {
            "levels": len(v.levels),
            "finished": round(scores[i][0] * len(v.levels)),
            "finished_share": scores[i][0],
            "mean_progress": scores[i][1],
            "genome": int(candidates[i].key),
            "checked": len(candidates),
            "best": best,
        }

    def _checkpoint(self) -> None:
        if self.folder is not None:
            blob = encode(
                checkpoint_to_dict(self.evolution, self.stats, self.timing, self.validation, self.config_text)
            )
            self.folder.write_checkpoint(self.evolution.generation, blob)


def evolve_agents(
    levels: Iterable[Level | str],
    options: RunOptions | None = None,
    /,
    *,
    reporters: Iterable[neat.reporting.BaseReporter] = (),
    workers: int | None = None,
    **fields: Any,
) -> RunResult:
    """Evolve agents on `levels` until a champion finishes them all (or the generations run out).

    `levels` are `Level` objects or ids (`"1-1"`, `"gen:7"`, a file path, `"gen:*"` fresh levels); `options`
    a `RunOptions`, with `fields` (its field names: `generations=50, seed=1, out="runs/mine"`, ...) changed.
    `reporters`: neat-python reporters or `RunReporter`s. `workers`: threads (default all). Without
    `out`, nothing is written; with it, the run folder is `tilerunner evolve`'s (resumable with `Run.resume`
    or `tilerunner evolve --resume`). The same seed and options give the same run, on every backend. A wrong
    argument is a `TypeError` or `ValueError` naming it, before anything runs (see `RunOptions`).
    """
    use_threads(None if workers is None else whole_number("workers", workers, *WORKERS_RANGE))
    run = Run.create(levels, RunOptions.of(options, **fields))
    for reporter in reporters:
        run.add_reporter(reporter)
    return run.run()
