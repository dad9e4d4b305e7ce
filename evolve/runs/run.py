"""A run: evolution from its first generation (or a checkpoint) to its end, optionally in a run folder.

`evolve_agents(levels, ...)` is the one-call API: it evolves, and returns a `RunResult` with the
champion, what it did on each level, and the stats of every generation. `Run` is the same
thing in steps: `Run.create` (a new run, kept in a run folder if `out` is given), `Run.resume`
(continue a run folder from its latest checkpoint), `add_reporter`, then `run()`. The
`tilerunner evolve` command is a thin layer over `Run`.

A generation: play it (every genome on every level, in Numba), validate it on the held-out levels
if due, breed the next generation, and tell the reporters: first a `RunFolderReporter`, which
keeps the run's files (the champion's replay when it is a new best-ever or first finishes a level,
stats.jsonl and timing.jsonl, and every `checkpoint_every` generations, and at the end, a
checkpoint; see `folder_reporter`), then those attached with `add_reporter`. The run ends at its
generation limit, or when the champion finishes every level (unless `keep_going`), at the
first generation's end after `time_limit` minutes, or when a stop is requested (`request_stop`,
or Ctrl-C or SIGTERM with `handle_sigint`): then it checkpoints first, and resuming continues exactly.
If its backend fails for good (`BackendError`: every Ray actor gone), it checkpoints, then raises.
"""

from __future__ import annotations

import _thread
import contextlib
import dataclasses
import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import neat

from tilerunner.agent import TileGenome
from tilerunner.envs.arguments import whole_number
from tilerunner.envs.level import Level, level_set, level_specs, load_level
from tilerunner.evolve.core.backend import BackendError, EvaluationStopped, as_backend
from tilerunner.evolve.core.evolution import Evolution, FitnessFunction, Generation
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.level_plan import LevelPlan, compact_ids
from tilerunner.evolve.core.neat_config import config_from_text, load_config_and_text
from tilerunner.evolve.core.outcome import Outcome
from tilerunner.evolve.core.rollout import use_threads
from tilerunner.evolve.core.seeding import NEEDS as SEED_NEEDS
from tilerunner.evolve.core.seeding import seed_population
from tilerunner.evolve.runs.belonging import check_belongs
from tilerunner.evolve.runs.checkpoint import (
    CheckpointError,
    Validation,
    checkpoint_to_dict,
    decode,
    encode,
    evolution_from_dict,
)
from tilerunner.evolve.runs.evaluation import genome_results, summarize
from tilerunner.evolve.runs.folder_reporter import RunFolderReporter
from tilerunner.evolve.runs.replay import NetworkShape, Replay, make_replay
from tilerunner.evolve.runs.reporting import RunReporter, run_reporters
from tilerunner.evolve.runs.run_folder import RunFolder, RunFolderError
from tilerunner.evolve.runs.run_options import WORKERS_RANGE, RunOptions, applied_on_resume, resume_changes


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


# Why a call of `Run.run` ends (None while it goes on).
_DONE = "done"  # its generation limit, or its champion finished every level (unless keep_going)
_OUT_OF_TIME = "out of time"
_STOPPED = "stopped"  # a stop was requested


@dataclass
class _Call:
    """One call of `Run.run` as it goes: where it began, why it ends, its files' reporter and its reporters."""

    first: int  # the first generation it plays
    files: RunFolderReporter
    others: list[RunReporter]  # the RunReporters attached to the run
    ending: str | None = None
    started: float = 0.0  # time.perf_counter() when it began playing
    stop_signal: int | None = None  # the signal whose stop request it heard, if one
    where: Path | None = None  # where the run folder is when it ends

    @property
    def reporters(self) -> list[RunReporter]:
        """Every reporter, in the order they are told: the files' first, so that the others hear of files written."""
        return [self.files, *self.others]


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


def _in_llvmlite(frame: Any) -> bool:
    """Whether Python runs inside one of llvmlite's callbacks (Numba compiling): an exception raised there is lost."""
    while frame is not None:
        if f"{os.sep}llvmlite{os.sep}" in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False


class Run:
    """One run, generation by generation; see the module docstring."""

    def __init__(
        self,
        evolution: Evolution,
        options: RunOptions | None = None,
        *,
        folder: RunFolder | None = None,
        validation: Validation | None = None,
        config_text: str | None = None,
        stats: Sequence[dict] = (),
        timing: Sequence[dict] = (),
    ) -> None:
        """A run of `evolution` as `options` say (`Run.create` and `Run.resume` make them: `stats` and `timing` are
        the rows a resumed run has played); of the options, those applied on resume are kept here."""
        o = options or RunOptions()
        self.evolution = evolution
        self.generations = o.generations
        self.keep_going = o.keep_going
        self.folder = folder
        self.checkpoint_every = o.checkpoint_every
        self.replays_dir = Path(o.replays_dir) if o.replays_dir is not None else None
        self.stats = list(stats)
        self.timing = list(timing)
        self.validation = validation
        self.time_limit = o.time_limit  # minutes of run() after which it ends at the next generation's end
        self.progress_chunks = 1  # kernel calls per generation; more give reporters `evaluation_progress`
        self.config_text = config_text  # the run's config.ini, whose digest its checkpoints record
        self.unused_replays: str | None = None  # a --replays folder args.json names, which this call does not use
        self.best_on_validation: TileGenome | None = None  # the best on the held-out levels, if found in this process
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
        validation = Validation(held_out, o.validate_every) if held_out else None
        # A first population seeded from the hand-written rules reads the jump and probes senses (and foresight's
        # seed foresight too, when it is on): they are turned on.
        settings = o.settings or EpisodeSettings()
        if o.seed_rules is not None:
            settings = dataclasses.replace(settings, features=(*settings.features, *SEED_NEEDS))
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
                kept = o.but(settings=settings, pop=config_obj.pop_size, validate=held_out, levels_per_gen=plan.per_gen)
                ids = compact_ids(plan.levels.ids()) or [f"gen:*:{d}" for d in plan.fresh]
                folder.create(text, {"levels": ids, **kept.to_dict()})
                # Generation 0's checkpoint before anything else, so that whatever happens next the
                # folder can be resumed.
                folder.write_checkpoint(0, encode(checkpoint_to_dict(evolution, [], [], validation, text)))
        return cls(evolution, o, folder=folder, validation=validation, config_text=text)

    @classmethod
    def resume(cls, path: str | os.PathLike, *, fitness: FitnessFunction | None = None, **changes: Any) -> Run:
        """Continue the run in folder `path` from its latest checkpoint, exactly as if it had not stopped.

        `changes` are the options that may change (`run_options.applied_on_resume`); None keeps the run's own:
        `generations` raises (or lowers) its limit; `backend` may differ from the one the run began on;
        `validate_every` changes how often a run with held-out levels validates from here on; `checkpoint_every`
        how often it checkpoints; `time_limit`: minutes, as `Run.create` takes it (it is not kept in the folder:
        each resume gives its own); `keep_going` True goes on after a solve (a run kept going keeps going). A
        run that stopped because its champion finished every level goes on improving (as with `keep_going`).
        A run evolved with a custom fitness function needs the same `fitness` again. First finishes are copied to
        `replays_dir` only if given here: a path outside the run folder never comes from a file in it (the
        folder may come from elsewhere), so the one args.json names is only kept in `unused_replays`. A field
        fixed for the run's life is a `TypeError`, a value out of range a `ValueError`; `RunFolderError` if the
        folder cannot be resumed.
        """
        changes = resume_changes(changes)
        backend = as_backend(changes.pop("backend", None))
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
            except CheckpointError as exc:
                raise RunFolderError(str(exc)) from None
            try:
                check_belongs(data, saved, config_text, config)
                evolution, stats, timing, validation = evolution_from_dict(data, config, fitness)
                if evolution.generation != folder.checkpoint_generation(file):
                    raise CheckpointError(
                        f"checkpoint.generation: {evolution.generation}, but the file's name says"
                        f" {folder.checkpoint_generation(file)}"
                    )
                if len(stats) != evolution.generation:  # a run keeps one row a generation, to check the checkpoint by
                    raise CheckpointError(
                        f"checkpoint.stats: not one row for each of generations 0 to {evolution.generation - 1}"
                    )
            except CheckpointError as exc:
                raise RunFolderError(f"{file}: {exc}") from None
            evolution.seed_rules = saved["seed_rules"]  # what check_belongs found it to be (version 1 kept none)
            evolution.use_backend(backend)
            try:
                kept = RunOptions.from_dict(saved)
            except (TypeError, ValueError) as exc:
                raise RunFolderError(f"{folder.path / 'args.json'}: {exc}") from None
            if validation is not None:
                validation.every = changes.setdefault("validate_every", validation.every)  # default: the checkpoint's
            elif "validate_every" in changes:
                raise RunFolderError(
                    f"{folder.path} has no held-out levels (it was started without validate),"
                    " so there is nothing to validate every so many generations"
                )
            # A --replays folder only from the caller; a run kept going, or solved, keeps going.
            keep_going = changes.get("keep_going") or kept.keep_going or evolution.solved_at is not None
            o = kept.but(**{**changes, "replays_dir": changes.get("replays_dir"), "keep_going": keep_going})
            unused_replays = saved.get("replays") if o.replays_dir is None else None
            if o.replays_dir is not None:
                _check_writable_folder(Path(o.replays_dir))
            folder.drop_champions_from(evolution.generation)
            folder.write_args({**saved, **o.to_dict(applied_on_resume())})
        run = cls(
            evolution, o, folder=folder, validation=validation, config_text=config_text, stats=stats, timing=timing
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
                if self._stop and _in_llvmlite(frame):  # raised there it would be lost, Numba's compile broken
                    threading.Timer(0.05, _thread.interrupt_main, (signum,)).start()  # so: again, once out of it
                elif self._stop:
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
        """Play generations until the run ends, the folder held; where it ends, or is stopped, a checkpoint."""
        call = _Call(self.generation, RunFolderReporter(), run_reporters(self.evolution.reporters))
        call.ending = _DONE if self.at_limit else None
        with self._held(call):
            for r in call.reporters:
                r.run_started(self)
            call.started = time.perf_counter()
            while call.ending is None:
                call.ending = self._generation(call)
            if self.generation > call.first or call.ending == _STOPPED:
                call.files.checkpoint()  # where this call ends (once, if the generation's own was due)
        result = self._result(call)
        for r in call.reporters:
            r.run_ended(result)
        return result

    def _generation(self, call: _Call) -> str | None:
        """One generation: play it, validate it if due, breed the next, add its stats row (with its validation, if
        it validated) and timing row to the run's, tell the reporters (the files first) of it, then of each level
        its champion finished first in the run; why the run ends after it, or None. A stop requested before it is
        played or while it plays drops it whole."""
        summary = self._play(call.others)
        if summary is None:
            return _STOPPED
        t0 = time.perf_counter()  # when its playing ended
        ending = self._ending(summary, call.started)
        checked = self._validate(summary)
        self.evolution.reproduce(summary)
        row = summary.stats()
        if checked is not None:
            row["validation"] = checked
        self.stats.append(row)
        summary.total_seconds = summary.eval_seconds + time.perf_counter() - t0
        self.timing.append(summary.timing())
        for r in call.reporters:
            r.generation_done(summary)
        for level in (self.levels[li] for li in summary.first_finishes):
            for r in call.reporters:
                r.first_finish(level, summary.generation, call.files.first_finishes.get(level.id))
        return ending

    def _play(self, reporters: list[RunReporter]) -> Generation | None:
        """The next generation played (`reporters` hear its progress), or None if a stop was requested before or
        while it played (nothing of it is kept: it is played again on resume)."""
        if self._stop:
            return None
        try:
            summary = self.evolution.play_generation(progress=self._progress(reporters), chunks=self.progress_chunks)
        except EvaluationStopped:  # the backend gave the generation up at the stop request
            return None
        if self._stop:
            self.evolution.discard()
            return None
        return summary

    def _ending(self, summary: Generation, started: float) -> str | None:
        """Why the run ends after `summary`'s generation: its limit, its solve (unless `keep_going`), its time limit."""
        if summary.generation + 1 >= self.generations or (summary.solved and not self.keep_going):
            return _DONE
        if self.time_limit is not None and time.perf_counter() - started >= self.time_limit * 60:
            return _OUT_OF_TIME
        return None

    @contextlib.contextmanager
    def _held(self, call: _Call) -> Iterator[None]:
        """The run folder locked while the run plays, its backend closed after; a backend failed for good still
        checkpoints, and a file that cannot be written (a full disk, a folder made read-only) is a `RunFolderError`
        naming the newest checkpoint, which is intact."""
        if self.folder is not None:
            self.folder.lock()  # held since create/resume; taken again if this run is run twice
        try:
            yield
        except BackendError:  # every Ray actor gone, or the cluster lost: keep what was done
            self.evolution.discard()
            call.files.checkpoint()
            raise
        except BrokenPipeError:  # a reporter's reader went away (`| head`): no fault of the disk; the last
            raise  # checkpoint is intact, and `tilerunner evolve`'s own printer stops the run before this
        except OSError as exc:
            kept = self.folder.checkpoint_files() if self.folder is not None else []
            at = f"generation {kept[-1].name[4:8].lstrip('0') or '0'}" if kept else "none"
            raise RunFolderError(
                f"cannot write {exc.filename or 'the run folder'}: {exc.strerror or exc}; the"
                f" newest checkpoint is {at}: make room, then tilerunner evolve --resume"
                f" {self.folder.location() if self.folder is not None else ''}".rstrip()
            ) from None
        finally:
            call.stop_signal, self._stop, self._stop_signal = self._stop_signal, False, None
            self.evolution.backend.close()  # a Ray it started stops; the next run() starts it again
            call.where = self.folder.location() if self.folder is not None else None  # moved, maybe, while it ran
            if self.folder is not None:
                self.folder.unlock()

    def _result(self, call: _Call) -> RunResult:
        ev = self.evolution
        return RunResult(
            levels=self.levels,
            champion=ev.best_ever,
            champion_outcomes=list(ev.best_ever_outcomes),
            champion_generation=ev.best_ever_generation,
            stats=list(self.stats),
            timing=list(self.timing),
            first_generation=call.first,
            generations_run=ev.generation - call.first,
            solved_at=ev.solved_at,
            seconds=time.perf_counter() - call.started,
            interrupted=call.ending == _STOPPED,
            folder=call.where,
            network=NetworkShape.from_genome_config(ev.config.genome_config),
            settings=ev.settings,
            seed=ev.seed,
            first_finishes=call.files.first_finishes,
            champion_levels=list(ev.best_ever_levels),
            out_of_time=call.ending == _OUT_OF_TIME,
            stop_signal=call.stop_signal if call.ending == _STOPPED else None,
        )

    def _progress(self, reporters):
        if not reporters or self.progress_chunks <= 1:
            return None
        generation = self.evolution.generation
        total = len(self.evolution.population.population)

        def progress(done: int) -> None:
            for r in reporters:
                r.evaluation_progress(generation, done, total)

        return progress

    def _validate(self, summary: Generation) -> dict[str, Any] | None:
        """Every `validation.every` generations (and in the one whose champion solves the run): the best of each
        species on the held-out levels. The best of them as a stats row; kept as `best_on_validation` (and saved
        as champions/best-validation.json) if best so far."""
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
        if best:
            v.best, v.best_generation = scores[i], summary.generation
            self.best_on_validation = candidates[i]
        return {
            "levels": len(v.levels),
            "finished": round(scores[i][0] * len(v.levels)),
            "finished_share": scores[i][0],
            "mean_progress": scores[i][1],
            "genome": int(candidates[i].key),
            "checked": len(candidates),
            "best": best,
        }


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
