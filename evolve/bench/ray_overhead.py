"""`tilerunner bench ray`: the same heavy generation on local threads and on Ray actors, and what Ray costs.

A population is evolved for `--warmup` generations on local threads (so that its networks play
long episodes, as a run's do), then that one generation is evaluated `--repeats` times on each
backend in turn: local threads, Ray with 1 actor (all the CPUs), Ray with 2 actors (the CPUs
split). Every evaluation plays exactly the same episodes, so the times compare like for like,
and the results must be identical. Reported per backend: the median evaluation time, its split
(packing on the driver, shipping the networks, the slowest actor's kernel, gathering the
results), the bytes shipped, and the overhead against local threads. The driver's own work
(compiling new genomes, neat-python's reproduction and speciation) is timed on the warm-up
generations, and the scaling model projects a generation's time on 10 and 100 nodes from it.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from tilerunner.envs.level import level_set, load_level
from tilerunner.evolve.bench.errors import BenchError
from tilerunner.evolve.bench.timing import verdict
from tilerunner.evolve.core.backend import Backend, BackendError, LocalBackend, MissingRayError
from tilerunner.evolve.core.evolution import Evolution, Generation
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.neat_config import load_config
from tilerunner.evolve.core.ray_backend import RayBackend, check_ray
from tilerunner.evolve.core.rollout import use_threads

OVERHEAD_TARGET = 0.10  # Ray's overhead on one machine at most 10% (issue 13)
NODES = (10, 100)  # the scaling model's projections


def _evaluate(evolution: Evolution, backend: Backend, repeats: int) -> tuple[list[Generation], list[float]]:
    """Evaluate the same generation `repeats` times on `backend` (after one untimed start-up evaluation)."""
    evolution.use_backend(backend)
    evolution.evaluate()  # starts the actors, ships the levels: once per run, not per generation
    evolution.discard()
    summaries, walls = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        summaries.append(evolution.evaluate())
        walls.append(time.perf_counter() - t0)
        evolution.discard()
    backend.close()
    return summaries, walls


def _kb(n: float) -> str:
    return f"{n / 1024:,.0f} KB"


def run(args: argparse.Namespace) -> int:
    try:
        check_ray()
        return _bench(args)
    except (MissingRayError, BackendError) as exc:  # no Ray, or a cluster that cannot be reached: one line
        raise BenchError(str(exc)) from None


def _bench(args: argparse.Namespace) -> int:
    levels = [load_level(spec) for spec in level_set(args.levels)]
    threads = use_threads(args.workers)
    config = load_config(neat_overrides={"pop_size": args.pop})
    settings = EpisodeSettings()
    evolution = Evolution(config, levels, settings, args.seed)
    driver: list[Generation] = []
    carried = []  # genomes of each generation that were already in the one before (elites)
    for _ in range(args.warmup):  # untimed for the backends; the driver's own work is timed here
        before = set(evolution.population.population)
        summary = evolution.evaluate()
        evolution.reproduce(summary)
        driver.append(summary)
        carried.append(len(before & set(evolution.population.population)))
    print(f"tilerunner bench ray: population {args.pop} on {len(levels)} levels ({args.levels}), seed {args.seed},"
          f" generation {args.warmup}; each backend evaluates it {args.repeats} times (medians)", flush=True)

    layouts: list[tuple[str, Backend]] = [(f"local threads ({threads})", LocalBackend())]
    for actors in args.actors:
        layouts.append((f"ray, {actors} actor{'s' if actors != 1 else ''}",
                        RayBackend(address=args.address, actors=actors, notify=lambda m: print(f"  {m}", flush=True))))
    rows = []
    reference: np.ndarray | None = None
    same = True
    for name, backend in layouts:  # evaluating (then discarding) changes nothing: each plays the same generation
        summaries, walls = _evaluate(evolution, backend, args.repeats)
        table = summaries[-1].table.array
        if reference is None:
            reference = table
        same = same and np.array_equal(table, reference)
        rows.append((name, summaries, walls))
    frames = rows[0][1][0].frames

    def med(summaries: list[Generation], part: str) -> float:
        return statistics.median(getattr(s.backend, part) for s in summaries)

    print(f"frames per generation: {frames:,} ({frames / (args.pop * len(levels)):,.0f} per episode);"
          f" the same results on every backend: {'yes' if same else 'NO'}")
    if carried:
        print(f"genomes carried over from the generation before (elites): median {statistics.median(carried):.0f}"
              f" of {args.pop}, so shipping only the new networks would save about"
              f" {statistics.median(carried) / args.pop:.0%} of the bytes")
    print(f"{'backend':<24}{'evaluate':>10}{'pack':>8}{'ship':>8}{'kernel':>9}{'gather':>9}{'shipped':>11}"
          f"{'vs local':>10}")
    local = statistics.median(rows[0][2])
    overheads = {}
    for name, summaries, walls in rows:
        wall = statistics.median(walls)
        overhead = wall / local - 1
        if name.startswith("ray"):
            overheads[name] = overhead
        shipped = statistics.median(s.backend.shipped_bytes for s in summaries)
        print(f"{name:<24}{wall:>9.3f}s{med(summaries, 'pack_seconds'):>8.3f}{med(summaries, 'ship_seconds'):>8.3f}"
              f"{med(summaries, 'kernel_seconds'):>9.3f}{med(summaries, 'gather_seconds'):>9.3f}"
              f"{_kb(shipped) if shipped else '-':>11}{overhead:>+10.0%}")

    compile_ = statistics.median(g.compile_seconds for g in driver[-5:]) if driver else 0.0
    reproduce = statistics.median(g.reproduce_seconds for g in driver[-5:]) if driver else 0.0
    speciate = statistics.median(g.speciate_seconds for g in driver[-5:]) if driver else 0.0
    fixed = compile_ + reproduce + speciate
    print(f"driver, per generation (warm-up medians): compile+pack {compile_:.3f} s, neat-python reproduce"
          f" {reproduce:.3f} s, speciate {speciate:.3f} s: {fixed:.3f} s that no number of nodes shortens")
    worst = max(overheads.values()) if overheads else 0.0
    print(f"target: Ray's overhead at most {OVERHEAD_TARGET:.0%} on this machine: {verdict(worst <= OVERHEAD_TARGET)}"
          f" ({', '.join(f'{k}: {v:+.0%}' for k, v in overheads.items())})")

    # The model: a node like this machine plays its share of the episodes in kernel/n; each actor adds what
    # shipping and gathering cost per actor here; the driver's compile and neat-python work stays as it is.
    ray_rows = [r for r in rows if r[0].startswith("ray")]
    if ray_rows:
        _, summaries, _ = max(ray_rows, key=lambda r: int(r[0].split()[1]))
        actors = int(max(ray_rows, key=lambda r: int(r[0].split()[1]))[0].split()[1])
        kernel = statistics.median(s.kernel_seconds for s in rows[0][1])
        per_actor = (med(summaries, "ship_seconds") + med(summaries, "gather_seconds")) / actors
        print(f"scaling model (nodes like this one, {threads} cores each): generation = driver {fixed:.3f} s"
              f" + kernel {kernel:.3f} s / nodes + {per_actor * 1000:.1f} ms x nodes (ship and gather)")
        for n in NODES:
            total = fixed + kernel / n + per_actor * n
            parts = {"the driver's compile and neat-python": fixed, "the kernel": kernel / n,
                     "shipping and gathering": per_actor * n}
            top = max(parts, key=parts.get)
            print(f"  {n:>3} nodes: {total:.3f} s a generation ({kernel + fixed:.3f} s on one node:"
                  f" {(kernel + fixed) / total:.1f}x); {top} {parts[top] / total:.0%} of it")
    return 0 if same else 1
