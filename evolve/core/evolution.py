"""The population driver: neat-python's Population, evaluated a generation at a time in Numba.

`Evolution` owns a neat `Population` and steps it one generation at a time, the way
`Population.run` does (evaluate, report, reproduce, speciate), and calls neat-python's
reporter hooks at the same points (`start_generation`, `post_evaluate`, `found_solution`,
`species_stagnant` from inside reproduction, `complete_extinction`, `end_generation`), so
`neat.StdOutReporter`, `neat.StatisticsReporter` and your own reporters work unchanged. Unlike
`Population.run` it can stop between any two generations, checkpoint exactly, and resume
into the very same run.

Evaluation compiles only genomes it has not seen (a genome never changes after it is born;
elites keep theirs) and hands the generation to its backend (`tilerunner.evolve.core.backend`):
local threads, one parallel kernel call per chunk, or Ray actors, with the same results.
Fitness is `EpisodeSettings.combine` of the per-level results, or your own function of the
`OutcomeTable`. "Solved" means the generation's champion finished every level.
"""

from __future__ import annotations

import copy
import gc
import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import neat
import numpy as np

from tilerunner.agent import TileGenome, compile_genomes
from tilerunner.agent.kernels import NetArrays
from tilerunner.envs.buttons import N_BUTTONS
from tilerunner.envs.level import Level
from tilerunner.evolve.core.backend import Backend, BackendTiming, LocalBackend
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.level_plan import RECHECK_SHARE, LevelPlan
from tilerunner.evolve.core.outcome import R_FRAMES, Outcome, OutcomeTable
from tilerunner.evolve.core.rollout import pack_levels

FitnessFunction = Callable[[OutcomeTable], np.ndarray]
"""A custom fitness: the generation's `OutcomeTable` -> one finite fitness per genome, shape (genomes,)."""


@contextmanager
def paused_gc() -> Iterator[None]:
    """Python's cyclic garbage collector off for a while (as it was after).

    Breeding makes tens of thousands of gene objects a generation and none of them is garbage yet, but
    every 700 allocations the collector walks the young ones and now and then all of them, the whole
    population's genes: at a population of 300 that was a third of the bookkeeping (measured).
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class EvolutionError(ValueError):
    """neat-python could not go on with this population and config (one line); the run stops there."""


@dataclass
class Generation:
    """What one evaluated generation looked like (deterministic fields go to stats.jsonl)."""

    generation: int
    best_fitness: float
    mean_fitness: float
    best_ever: float
    species: int
    finished: int  # genomes that finished every level
    population: int
    frames: int  # frames simulated
    best_key: int
    best_outcomes: list[Outcome]
    best_genome: TileGenome
    new_best: bool
    solved: bool  # the champion finished every level
    table: OutcomeTable
    first_finishes: list[int] = field(default_factory=list)  # levels (indices) first finished in the run
    level_ids: list[str] | None = None  # the levels played, when a run plays a draw from its set
    levels: list[Level] = field(default_factory=list)  # the levels played
    stage: int | None = None  # the curriculum stage played (None without a curriculum)
    rechecked: list[str] = field(default_factory=list)  # the levels the best genomes also played (`LevelPlan.recheck`)
    compile_seconds: float = 0.0  # compiling new genomes and packing the generation
    kernel_seconds: float = 0.0  # the rollout kernel (on Ray: the slowest actor's)
    backend: BackendTiming = field(default_factory=BackendTiming)  # the backend's split of evaluation
    eval_seconds: float = 0.0  # all of evaluation, fitness included
    reproduce_seconds: float = 0.0  # neat-python's reproduction
    speciate_seconds: float = 0.0  # neat-python's speciation
    total_seconds: float = 0.0

    def stats(self) -> dict:
        return {
            "generation": self.generation,
            "best_fitness": self.best_fitness,
            "mean_fitness": self.mean_fitness,
            "best_ever": self.best_ever,
            "species": self.species,
            "finished": self.finished,
            "population": self.population,
            "frames": self.frames,
            "best_genome": self.best_key,
            "best": [o.as_dict() for o in self.best_outcomes],
            **({"levels": self.level_ids} if self.level_ids is not None else {}),
            **({"stage": self.stage} if self.stage is not None else {}),
            **({"rechecked": self.rechecked} if self.rechecked else {}),
        }

    def timing(self) -> dict:
        return {
            "generation": self.generation,
            "eval_seconds": round(self.eval_seconds, 4),
            "compile_seconds": round(self.compile_seconds, 4),
            "kernel_seconds": round(self.kernel_seconds, 4),
            "reproduce_seconds": round(self.reproduce_seconds, 4),
            "speciate_seconds": round(self.speciate_seconds, 4),
            "total_seconds": round(self.total_seconds, 4),
            "frames_per_second": round(self.frames / max(self.kernel_seconds, 1e-9)),
            **(
                {
                    "ship_seconds": round(self.backend.ship_seconds, 4),
                    "gather_seconds": round(self.backend.gather_seconds, 4),
                    "shipped_bytes": self.backend.shipped_bytes,
                    "retried": self.backend.retried,
                }
                if self.backend.shipped_bytes
                else {}
            ),
        }


class Evolution:
    """One run's population, the levels it plays, and how episodes are scored."""

    def __init__(
        self,
        config: neat.Config,
        levels: Sequence[Level] | LevelPlan,
        settings: EpisodeSettings | None = None,
        seed: int = 0,
        fitness: FitnessFunction | None = None,
        levels_per_gen: int | None = None,
        backend: Backend | None = None,
    ) -> None:
        """`levels`: the levels every generation plays, or a `LevelPlan` (draws, fresh levels, a curriculum);
        `levels_per_gen` with a plain list plays a draw of that many each generation. `backend`: where
        generations are played (default `LocalBackend`, this process's threads)."""
        settings = settings or EpisodeSettings()
        gc = config.genome_config
        if gc.num_inputs != settings.n_inputs:
            raise ValueError(
                f"the neat config has num_inputs = {gc.num_inputs}, but a view radius of"
                f" {settings.view_radius} gives {settings.n_inputs} inputs"
            )
        if gc.num_outputs != N_BUTTONS:
            raise ValueError(f"the neat config has num_outputs = {gc.num_outputs}; the player has {N_BUTTONS} buttons")
        self.plan = levels if isinstance(levels, LevelPlan) else LevelPlan(tuple(levels), levels_per_gen)
        self.stage = 0  # the curriculum stage the next generation plays
        self.config = config
        self.settings = settings
        self.seed = seed
        self.fitness = fitness
        self.population = neat.Population(config, seed=seed)  # seeds `random`, which neat-python uses
        self.best_ever: TileGenome | None = None
        self.best_ever_outcomes: list[Outcome] = []
        self.best_ever_generation: int | None = None
        self.best_ever_levels: list[Level] = []  # the levels the best-ever champion played
        self.first_finish: dict[int, int] = {}  # level index -> generation a champion first finished it
        self.solved_at: int | None = None  # generation whose champion first finished every level
        self.seed_rules: float | None = None  # the share of generation 0 seeded from hand-written rules, if any
        self._compiled: dict[int, NetArrays] = {}
        self._before: list[tuple[TileGenome, float | None]] = []  # fitness before the uncompleted evaluation
        self._prepare(backend)

    def _prepare(self, backend: Backend | None) -> None:
        # The fixed set is packed once and handed to the backend once; a generation names its draw by index.
        self._settings = self.settings.kernel_settings()
        self._set = pack_levels(list(self.plan.levels)) if self.plan.resident else None
        self.use_backend(backend or LocalBackend())

    def use_backend(self, backend: Backend) -> None:
        """Play the following generations on `backend` (results are the same on every backend).

        A backend with no `notify` of its own tells the run's reporters (`notice`).
        """
        if getattr(backend, "notify", None) is None:
            backend.notify = self.notice
        backend.set_levels(self._set)
        self.backend = backend

    @property
    def levels(self) -> Sequence[Level]:
        """The fixed training set (empty when a run plays fresh generated levels); see `LevelList`."""
        return self.plan.levels

    @property
    def levels_per_gen(self) -> int | None:
        return self.plan.per_gen

    @property
    def generation(self) -> int:
        return self.population.generation

    def draw(self, generation: int) -> tuple[list[Level], list[int]]:
        """The levels generation `generation` plays (at the current curriculum stage), the same for every
        genome, and their indices in the fixed set; see `LevelPlan.draw`."""
        return self.plan.draw(self.seed, generation, self.stage)

    @property
    def reporters(self) -> neat.reporting.ReporterSet:
        """neat-python's reporter set: the hooks every reporter of this run receives."""
        return self.population.reporters

    def notice(self, message: str) -> None:
        """Tell every reporter one line of news: a RunReporter's `notice` hook, neat-python's `info` for the rest."""
        for r in self.reporters.reporters:
            getattr(r, "notice", r.info)(message)

    def add_reporter(self, reporter: neat.reporting.BaseReporter) -> None:
        """Attach a neat-python reporter (StdOutReporter, StatisticsReporter, your own)."""
        self.population.add_reporter(reporter)

    def _compile(self, genomes: list[TileGenome]) -> list[NetArrays]:
        """Compiled arrays for each genome, compiling (in one call) only the ones not seen before."""
        compiled = {g.key: self._compiled.get(g.key) for g in genomes}
        new = [g for g in genomes if compiled[g.key] is None]
        compiled.update(zip((g.key for g in new), compile_genomes(new, self.config.genome_config)))
        self._compiled = compiled  # drop the dead, keep the living
        return [compiled[g.key] for g in genomes]

    def score(self, table: OutcomeTable) -> np.ndarray:
        """Per-genome fitness of a table: the custom fitness function's, or `EpisodeSettings.combine`."""
        if self.fitness is None:
            return self.settings.combine(table)
        values = np.asarray(self.fitness(table), dtype=np.float64)
        if values.shape != (table.n_genomes,):
            raise ValueError(
                f"the fitness function returned shape {values.shape}; expected ({table.n_genomes},),"
                " one fitness per genome"
            )
        if not np.all(np.isfinite(values)):
            raise ValueError("the fitness function returned a value that is not a finite number")
        return values

    def _play(self, nets: list[NetArrays], levels: list[Level], indices: np.ndarray | None, **progress) -> tuple:
        """The backend's (rows, timing) of `nets` on `levels`: by `indices` into the resident set (None: all of
        it), or, without one (fresh levels, or a huge set made as drawn), on `levels` themselves."""
        state = random.getstate()  # neat-python breeds from `random`: a backend (Ray starting up) must not touch it
        try:
            if self._set is None:
                return self.backend.play_networks(nets, self._settings, levels=pack_levels(levels), **progress)
            return self.backend.play_networks(nets, self._settings, indices, **progress)
        finally:
            random.setstate(state)

    def play_generation(self, progress: Callable[[int], None] | None = None, chunks: int = 1) -> Generation:
        """Play every genome of this generation on every level, set its fitness, and report it.

        `chunks` > 1 evaluates in that many kernel calls, calling `progress(genomes_done)` after each.
        """
        self.reporters.start_generation(self.generation)
        t0 = time.perf_counter()
        levels, drawn = self.draw(self.generation)
        whole = self.plan.whole_set(self.stage)
        genomes = list(self.population.population.values())
        nets = self._compile(genomes)
        compiled = time.perf_counter()
        indices = None if whole else np.array(drawn, dtype=np.int64)
        rows, timing = self._play(nets, levels, indices, progress=progress, chunks=chunks)
        compile_seconds = compiled - t0 + timing.pack_seconds
        table = OutcomeTable(rows, levels)
        fitness = self.score(table)
        rechecked, recheck_frames, recheck_seconds = self._recheck(nets, fitness, table, drawn)
        self._before = [(g, g.fitness) for g in genomes]  # for `discard`
        for g, f in zip(genomes, fitness):
            g.fitness = float(f)
        eval_seconds = time.perf_counter() - t0

        best_i = int(np.argmax(fitness))  # the first of equals, as neat-python's `>` comparison
        best = genomes[best_i]
        p = self.population
        self.reporters.post_evaluate(self.config, p.population, p.species, best)
        outcomes = table.outcomes(best_i)
        new_best = self.best_ever is None or best.fitness > self.best_ever.fitness
        return Generation(
            generation=self.generation,
            best_fitness=float(best.fitness),
            mean_fitness=float(fitness.mean()),
            best_ever=float(best.fitness if new_best else self.best_ever.fitness),
            species=len(p.species.species),
            finished=int(table.finished_all().sum()),
            population=len(genomes),
            frames=int(table.frames.sum()) + recheck_frames,
            best_key=int(best.key),
            best_outcomes=outcomes,
            best_genome=best,
            new_best=new_best,
            solved=all(o.finished for o in outcomes) and whole,
            first_finishes=[li for li, o in zip(drawn, outcomes) if o.finished and li not in self.first_finish],
            level_ids=None if whole and self.plan.curriculum is None else [lv.id for lv in levels],
            levels=levels,
            stage=self.stage if self.plan.curriculum is not None else None,
            table=table,
            compile_seconds=compile_seconds,
            kernel_seconds=timing.kernel_seconds + recheck_seconds,
            eval_seconds=eval_seconds,
            backend=timing,
            rechecked=rechecked,
        )

    def _recheck(
        self, nets: list[NetArrays], fitness: np.ndarray, table: OutcomeTable, drawn: list[int]
    ) -> tuple[list[str], int, float]:
        """With a plan's `recheck`: the best `RECHECK_SHARE` of the generation (by `fitness`, which is updated in
        place) also play the plan's recheck levels, and their fitness becomes that over the draw and those levels
        together (a novelty bonus is kept as it was; a custom fitness function scores the best genomes' table).

        Returns the recheck levels' ids, the frames played and the kernel's seconds.
        """
        levels, indices = self.plan.recheck_levels(self.seed, self.generation, self.stage, drawn)
        if not levels:
            return [], 0, 0.0
        k = max(1, math.ceil(RECHECK_SHARE * len(nets)))
        top = np.argsort(-fitness, kind="stable")[:k]
        chosen = [nets[i] for i in top]
        rows, timing = self._play(chosen, levels, np.array(indices, dtype=np.int64))
        drawn_part = OutcomeTable(table.array[top], table.levels)
        both = OutcomeTable(np.concatenate([table.array[top], rows], axis=1), [*table.levels, *levels])
        if self.fitness is None:
            bonus = fitness[top] - self.settings.combine_levels(drawn_part)  # novelty, as it was
            fitness[top] = self.settings.combine_levels(both) + bonus
        else:
            fitness[top] = self.score(both)
        return [lv.id for lv in levels], int(rows[:, :, R_FRAMES].sum()), timing.kernel_seconds

    def reproduce(self, summary: Generation) -> None:
        """Complete the evaluated generation `summary`: record its champion, then breed the next one.

        Until this is called, an evaluated generation changes nothing in the run (so a run stopped
        between `play_generation` and `reproduce` checkpoints only completed generations). Then neat-python's
        own steps and hooks: `found_solution` (the first time a champion finishes every level),
        reproduction, `complete_extinction`, speciation, `end_generation`. Fills in the summary's
        reproduce/speciate seconds.
        """
        if summary.generation != self.generation:
            raise ValueError(f"summary of generation {summary.generation}, but the population is at {self.generation}")
        self._before = []
        p = self.population
        config = self.config
        if summary.new_best:
            # A copy: an elite lives on and is scored again, on another draw of levels its fitness changes.
            self.best_ever = copy.deepcopy(summary.best_genome)
            self.best_ever_outcomes = summary.best_outcomes
            self.best_ever_generation = summary.generation
            self.best_ever_levels = list(summary.levels)
        p.best_genome = self.best_ever
        for li in summary.first_finishes:
            self.first_finish[li] = summary.generation
        if self.plan.curriculum is not None and self.stage < self.plan.stages - 1:
            share = sum(o.finished for o in summary.best_outcomes) / len(summary.best_outcomes)
            if share >= self.plan.curriculum:
                self.stage += 1  # the next generation plays the next stage
        if summary.solved and self.solved_at is None:
            self.solved_at = summary.generation
            self.reporters.found_solution(config, summary.generation, summary.best_genome)
        t0 = time.perf_counter()
        try:
            with paused_gc():
                p.population = p.reproduction.reproduce(config, p.species, config.pop_size, p.generation)
                if not p.species.species:
                    self.reporters.complete_extinction()
                    if not config.reset_on_extinction:
                        raise EvolutionError(
                            f"every species died out in generation {p.generation} and the config"
                            " says reset_on_extinction = False"
                        )
                    p.population = p.reproduction.create_new(config.genome_type, config.genome_config, config.pop_size)
                t1 = time.perf_counter()
                p.species.speciate(config, p.population, p.generation)
        except (RuntimeError, ValueError, ZeroDivisionError) as exc:  # neat-python's own failures mid-run
            if isinstance(exc, EvolutionError):
                raise
            message = " ".join(str(exc).split()) or type(exc).__name__
            raise EvolutionError(f"neat-python could not breed generation {p.generation + 1}: {message}") from None
        t2 = time.perf_counter()
        self.reporters.end_generation(config, p.population, p.species)
        p.generation += 1
        summary.reproduce_seconds = t1 - t0
        summary.speciate_seconds = t2 - t1

    def discard(self) -> None:
        """Forget an evaluated generation that will not be completed: its genomes' fitness as it was.

        A run stopped after `play_generation` calls this before its checkpoint, so that the checkpoint is
        exactly the state at the start of the generation, as if it had never been played.
        """
        for genome, fitness in self._before:
            genome.fitness = fitness
        self._before = []

    # Resuming ----------------------------------------------------------------------------------

    @classmethod
    def restore(
        cls,
        population: neat.Population,
        plan: LevelPlan,
        settings: EpisodeSettings,
        seed: int,
        fitness: FitnessFunction | None = None,
        *,
        best_ever: TileGenome | None = None,
        best_ever_outcomes: Sequence[Outcome] = (),
        best_ever_generation: int | None = None,
        best_ever_levels: Sequence[Level] = (),
        first_finish: dict[int, int] | None = None,
        solved_at: int | None = None,
        stage: int = 0,
        backend: Backend | None = None,
        seed_rules: float | None = None,
    ) -> Evolution:
        """A run rebuilt between two generations (see `tilerunner.evolve.runs.checkpoint`).

        The caller restores `random`'s state; the next `play_generation` then continues the run exactly.
        """
        self = cls.__new__(cls)
        self.population = population
        self.config = population.config
        self.plan = plan
        self.stage = stage
        self.settings = settings
        self.seed = seed
        self.fitness = fitness
        self.best_ever = best_ever
        self.best_ever_outcomes = list(best_ever_outcomes)
        self.best_ever_generation = best_ever_generation
        self.best_ever_levels = list(best_ever_levels)
        self.first_finish = dict(first_finish or {})
        self.solved_at = solved_at
        self.seed_rules = seed_rules
        self._compiled = {}
        self._before = []
        self._prepare(backend)
        return self
