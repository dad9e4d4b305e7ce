"""The evolution loop: neat-python's Population, evaluated a generation at a time in Numba.

`Evolution` owns a neat `Population` and steps it one generation at a time, the
way `Population.run` does (evaluate, report, reproduce, speciate), so that it can
stop between any two generations, checkpoint exactly, and resume into the very
same run. Evaluation compiles only genomes it has not seen (a genome never changes
after it is born; elites keep theirs), packs the generation, and plays it in one
parallel kernel call per chunk.
"""

from __future__ import annotations

import itertools
import pickle
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import neat
import numpy as np

from agent import TileGenome, pack
from agent.compile import _single
from agent.kernels import NetArrays
from envs.level import Level
from evolve.fitness import FitnessSettings
from evolve.rollout import R_FINISHED, R_FRAMES, Outcome, evaluate_population, pack_levels

CHECKPOINT_VERSION = 1


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
    eval_seconds: float
    total_seconds: float = 0.0
    reproduce_seconds: float = 0.0

    def stats(self) -> dict:
        return {
            "generation": self.generation, "best_fitness": self.best_fitness,
            "mean_fitness": self.mean_fitness, "best_ever": self.best_ever, "species": self.species,
            "finished": self.finished, "population": self.population, "frames": self.frames,
            "best_genome": self.best_key, "best": [o.as_dict() for o in self.best_outcomes],
        }

    def timing(self) -> dict:
        return {"generation": self.generation, "eval_seconds": round(self.eval_seconds, 4),
                "reproduce_seconds": round(self.reproduce_seconds, 4),
                "total_seconds": round(self.total_seconds, 4),
                "frames_per_second": round(self.frames / max(self.eval_seconds, 1e-9))}


class Evolution:
    """One run: a neat Population, the levels it plays, and how episodes are scored."""

    def __init__(self, config: neat.Config, levels: Sequence[Level], fitness: FitnessSettings, seed: int) -> None:
        gc = config.genome_config
        if gc.num_inputs != fitness.n_inputs:
            raise ValueError(f"the neat config has num_inputs = {gc.num_inputs}, but a view radius of"
                             f" {fitness.view_radius} gives {fitness.n_inputs} inputs")
        if gc.num_outputs != 6:
            raise ValueError(f"the neat config has num_outputs = {gc.num_outputs}; the player has 6 buttons")
        self.config = config
        self.levels = list(levels)
        self.fitness = fitness
        self.seed = seed
        self.population = neat.Population(config, seed=seed)  # seeds `random`, which neat-python uses
        self.best_ever: TileGenome | None = None
        self.best_ever_outcomes: list[Outcome] = []
        self.first_finish: dict[int, int] = {}  # level index -> generation a champion first finished it
        self._compiled: dict[int, NetArrays] = {}
        self._prepare()

    def _prepare(self) -> None:
        self._levels = pack_levels(self.levels)
        self._settings = self.fitness.kernel_settings()

    @property
    def generation(self) -> int:
        return self.population.generation

    def _compile(self, genomes: list[TileGenome]) -> list[NetArrays]:
        """Compiled arrays for each genome, compiling only the ones not seen before."""
        gc = self.config.genome_config
        compiled = {g.key: self._compiled.get(g.key) or _single(g, gc) for g in genomes}
        self._compiled = compiled  # drop the dead, keep the living
        return [compiled[g.key] for g in genomes]

    def evaluate(self, progress: Callable[[int], None] | None = None, chunks: int = 1) -> tuple[Generation, np.ndarray]:
        """Play every genome of this generation on every level and set its fitness.

        Returns the generation's summary and the raw results (genomes, levels, fields).
        `chunks` > 1 evaluates in that many kernel calls, calling `progress(n_done)` after each.
        """
        t0 = time.perf_counter()
        genomes = list(self.population.population.values())
        nets = self._compile(genomes)
        bounds = np.linspace(0, len(nets), max(1, min(chunks, len(nets))) + 1).astype(int)
        parts = []
        for a, b in zip(bounds[:-1], bounds[1:]):
            parts.append(evaluate_population(pack(nets[a:b]), self._levels, self._settings))
            if progress:
                progress(int(b))
        results = np.concatenate(parts)
        fitness = self.fitness.combine(results)
        for g, f in zip(genomes, fitness):
            g.fitness = float(f)
        eval_seconds = time.perf_counter() - t0

        best_i = int(np.argmax(fitness))  # the first of equals, as neat-python's `>` comparison
        best = genomes[best_i]
        new_best = self.best_ever is None or best.fitness > self.best_ever.fitness
        outcomes = [Outcome.from_row(row) for row in results[best_i]]
        if new_best:
            self.best_ever = best
            self.best_ever_outcomes = outcomes
        self.population.best_genome = self.best_ever
        for li, o in enumerate(outcomes):
            if o.finished and li not in self.first_finish:
                self.first_finish[li] = self.generation
        finished_all = int(np.all(results[:, :, R_FINISHED] > 0, axis=1).sum())
        summary = Generation(
            generation=self.generation, best_fitness=float(best.fitness), mean_fitness=float(fitness.mean()),
            best_ever=float(self.best_ever.fitness), species=len(self.population.species.species),
            finished=finished_all, population=len(genomes), frames=int(results[:, :, R_FRAMES].sum()),
            best_key=int(best.key), best_outcomes=outcomes, best_genome=best, new_best=new_best,
            eval_seconds=eval_seconds,
        )
        return summary, results

    def reproduce(self) -> None:
        """Breed the next generation and divide it into species (neat-python's own steps)."""
        p = self.population
        config = self.config
        p.population = p.reproduction.reproduce(config, p.species, config.pop_size, p.generation)
        if not p.species.species:
            if not config.reset_on_extinction:
                raise neat.population.CompleteExtinctionException()
            p.population = p.reproduction.create_new(config.genome_type, config.genome_config, config.pop_size)
        p.species.speciate(config, p.population, p.generation)
        p.generation += 1

    def champion_finished_all(self, summary: Generation) -> bool:
        return all(o.finished for o in summary.best_outcomes)

    # Checkpoints -------------------------------------------------------------------------------

    def checkpoint(self, extra: dict) -> bytes:
        """The whole state of the run (between generations) as bytes, including `random`'s state."""
        gc = self.config.genome_config
        # Pickling neat-python's genome config consumes a node id from its counter; put it back after.
        next_node = next(gc.node_indexer) if gc.node_indexer is not None else None
        gc.node_indexer = itertools.count(next_node) if next_node is not None else None
        state = {
            "version": CHECKPOINT_VERSION,
            "population": self.population,
            "random": random.getstate(),
            "best_ever": self.best_ever,
            "best_ever_outcomes": self.best_ever_outcomes,
            "first_finish": self.first_finish,
            "seed": self.seed,
            "fitness": self.fitness.as_dict(),
            "level_texts": [(lv.id, lv.text) for lv in self.levels],
            **extra,
        }
        blob = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        gc.node_indexer = itertools.count(next_node) if next_node is not None else None
        return blob

    @classmethod
    def restore(cls, state: dict, levels: Sequence[Level]) -> "Evolution":
        """Rebuild a run from `checkpoint` state; the next `evaluate` continues it exactly."""
        self = cls.__new__(cls)
        self.population = state["population"]
        self.config = self.population.config
        self.levels = list(levels)
        self.fitness = FitnessSettings.from_dict(state["fitness"])
        self.seed = state["seed"]
        self.best_ever = state["best_ever"]
        self.best_ever_outcomes = state["best_ever_outcomes"]
        self.first_finish = state["first_finish"]
        self._compiled = {}
        self._prepare()
        random.setstate(state["random"])
        return self

    def champion_replay(self, genome: TileGenome, run: str | None = None):
        """A replay of `genome` on this run's levels (its outcomes re-recorded with button hashes)."""
        from evolve.replay import NetworkShape, make_replay

        return make_replay(genome, NetworkShape.from_genome_config(self.config.genome_config), self.levels,
                           self.fitness, seed=self.seed, generation=self.generation, run=run)
