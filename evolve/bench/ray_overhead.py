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

import numpy as np

from tilerunner.envs.level import level_set, load_level
from tilerunner.evolve.bench.errors import BenchError
from tilerunner.evolve.bench.flags import add_level_set, add_pop, add_repeats, add_seed, add_warmup, add_workers
from tilerunner.evolve.bench.timing import timed_generation, verdict
from tilerunner.evolve.core.backend import Backend, BackendError, LocalBackend, MissingRayError
from tilerunner.evolve.core.evolution import Evolution, Generation
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.neat_config import load_config
from tilerunner.evolve.core.option_error import OptionError
from tilerunner.evolve.core.plural import plural
from tilerunner.evolve.core.ray_backend import RayBackend
from tilerunner.evolve.core.ray_cluster import check_ray
from tilerunner.evolve.core.rollout import use_threads
from tilerunner.evolve.flags.types import add_jump_rule_flag, int_list, span

OVERHEAD_TARGET = 0.10  # Ray's overhead on one machine at most 10% (issue 13)
NODES = (10, 100)  # the scaling model's projections
DEFAULT_SET = "gen:1-32:1"  # the levels without --level
MAX_ACTORS = 1000  # --actor-counts: each count from 1 to this
actor_counts = int_list("numbers of actors", 1, MAX_ACTORS, most=20)  # --actor-counts
HELP = "one heavy generation on local threads and on Ray actors: Ray's overhead, bytes shipped, scaling"
DESCRIPTION = (
    "Evolve a population for --warmup generations, then evaluate that generation --repeats times on local"
    " threads and on Ray with each number of actors in --actor-counts; report medians, the split (pack, ship,"
    " kernel, gather), bytes shipped, Ray's overhead, and a scaling model. Needs pip install 'tilerunner[ray]'."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of `tilerunner bench ray`."""
    add_level_set(p, DEFAULT_SET)
    add_pop(p)
    add_warmup(p, 10)
    add_repeats(p, "evaluations per backend", 5)
    p.add_argument(
        "--actor-counts",
        type=actor_counts,
        default="1,2",
        metavar="N,N,...",
        help=f"comma-separated numbers of Ray actors to time, each {span(1, MAX_ACTORS)} (default 1,2)",
    )
    p.add_argument(
        "--address",
        metavar="ADDR",
        help="the Ray cluster to time on (auto, HOST:PORT; default: a local Ray on 127.0.0.1)",
    )
    add_seed(p)
    add_workers(p, "threads for local evaluation")
    add_jump_rule_flag(p)


def _timed(evolution: Evolution, backend: Backend) -> tuple[Generation, float]:
    """Evaluate the generation once on `backend`, untimed first (starting actors, shipping the levels: once
    a run, not each generation), then timed; the generation is left as it was."""
    timed_generation(evolution, backend)
    summary, wall = timed_generation(evolution, backend)
    backend.close()  # frees the CPUs for the next layout (the Ray itself stays up)
    return summary, wall


def run(args: argparse.Namespace) -> int:
    try:
        check_ray()
        return _bench(args)
    except OptionError as exc:  # an --address that cannot be used: one line naming the flag
        raise BenchError(exc.as_flags()) from None
    except (MissingRayError, BackendError) as exc:  # no Ray, or a cluster that cannot be reached: one line
        raise BenchError(str(exc)) from None


def _bench(args: argparse.Namespace) -> int:
    specs = args.level or [DEFAULT_SET]
    levels = [load_level(spec) for given in specs for spec in level_set(given)]
    threads = use_threads(args.workers)
    config = load_config(neat_overrides={"pop_size": args.pop})
    settings = EpisodeSettings(jump_rule=args.jump_rule)
    evolution = Evolution(config, levels, settings, args.seed)
    driver: list[Generation] = []
    carried = []  # genomes of each generation that were already in the one before (elites)
    for _ in range(args.warmup):  # untimed for the backends; the driver's own work is timed here
        before = set(evolution.population.population)
        summary = evolution.play_generation()
        evolution.reproduce(summary)
        driver.append(summary)
        carried.append(len(before & set(evolution.population.population)))
    print(
        f"tilerunner bench ray: population {args.pop} on {plural(len(levels), 'level')} ({', '.join(specs)}),"
        f" seed {args.seed},"
        f" generation {args.warmup}; each backend evaluates it {args.repeats} times (medians)",
        flush=True,
    )

    said = set()

    def say(message: str) -> None:  # each layout's start-up line once, not once a repeat
        if message not in said:
            said.add(message)
            print(f"  {message}", flush=True)

    holder = RayBackend(address=args.address)  # holds the connection: the layouts' actors come and go
    holder.connect()
    layouts: list[tuple[str, Backend]] = [(f"local threads ({threads})", LocalBackend())]
    for actors in args.actor_counts:
        layouts.append((f"ray, {plural(actors, 'actor')}", RayBackend(address=args.address, actors=actors, notify=say)))
    rows = [(name, [], []) for name, _ in layouts]
    reference: np.ndarray | None = None
    same = True
    try:
        # Repeats go round the layouts in turn, so that a busy spell on the machine hits them all alike.
        # Evaluating (then discarding) changes nothing: every evaluation plays the very same episodes.
        for _ in range(args.repeats):
            for (_, backend), (_, summaries, walls) in zip(layouts, rows):
                summary, wall = _timed(evolution, backend)
                summaries.append(summary)
                walls.append(wall)
                if reference is None:
                    reference = summary.table.array
                same = same and np.array_equal(summary.table.array, reference)
    finally:
        holder.close()
    frames = rows[0][1][0].frames

    def med(summaries: list[Generation], part: str) -> float:
        return statistics.median(getattr(s.backend, part) for s in summaries)

    print(
        f"frames per generation: {frames:,} ({frames / (args.pop * len(levels)):,.0f} per episode);"
        f" the same results on every backend: {'yes' if same else 'NO'}"
    )
    if carried:
        print(
            f"genomes carried over from the generation before (elites): median {statistics.median(carried):.0f}"
            f" of {args.pop}, so shipping only the new networks would save about"
            f" {statistics.median(carried) / args.pop:.0%} of the bytes"
        )
    print(
        f"{'backend':<24}{'evaluate':>10}{'pack':>8}{'ship':>8}{'kernel':>9}{'gather':>9}{'shipped':>11}"
        f"{'vs local':>10}"
    )
    local = statistics.median(rows[0][2])
    overheads = {}
    for name, summaries, walls in rows:
        wall = statistics.median(walls)
        overhead = wall / local - 1
        if name.startswith("ray"):
            overheads[name] = overhead
        shipped = statistics.median(s.backend.shipped_bytes for s in summaries)
        print(
            f"{name:<24}{wall:>9.3f}s{med(summaries, 'pack_seconds'):>8.3f}{med(summaries, 'ship_seconds'):>8.3f}"
            f"{med(summaries, 'kernel_seconds'):>9.3f}{med(summaries, 'gather_seconds'):>9.3f}"
            f"{f'{shipped / 1024:,.0f} KB' if shipped else '-':>11}{overhead:>+10.0%}"
        )

    compile_ = statistics.median(g.compile_seconds for g in driver[-5:]) if driver else 0.0
    reproduce = statistics.median(g.reproduce_seconds for g in driver[-5:]) if driver else 0.0
    speciate = statistics.median(g.speciate_seconds for g in driver[-5:]) if driver else 0.0
    fixed = compile_ + reproduce + speciate
    print(
        f"driver, per generation (warm-up medians): compile+pack {compile_:.3f} s, neat-python reproduce"
        f" {reproduce:.3f} s, speciate {speciate:.3f} s: {fixed:.3f} s that no number of nodes shortens"
    )
    added = {
        name: statistics.median(w - s.kernel_seconds for s, w in zip(summaries, walls))
        for name, summaries, walls in rows
        if name.startswith("ray")
    }
    if added:
        print(
            "what Ray adds beyond playing (evaluate - kernel, medians): "
            + ", ".join(f"{name}: {a * 1000:.0f} ms ({a / local:.1%} of local)" for name, a in added.items())
        )
    worst = max(overheads.values()) if overheads else 0.0
    print(
        f"target: Ray's overhead at most {OVERHEAD_TARGET:.0%} on this machine: {verdict(worst <= OVERHEAD_TARGET)}"
        f" ({', '.join(f'{k}: {v:+.0%}' for k, v in overheads.items())})"
    )

    # The model: nodes like this machine play their shares of the episodes in kernel / n; the driver
    # dispatches each actor's chunk and reads each result in turn, so shipping and gathering cost a fixed
    # part plus a part per actor (fitted to the layouts timed here); the driver's compile and neat-python
    # work stays as it is, whatever the number of nodes.
    points = [
        (int(name.split()[1]), med(summaries, "ship_seconds") + med(summaries, "gather_seconds"))
        for name, summaries, _ in rows
        if name.startswith("ray")
    ]
    if points:
        counts = sorted({n for n, _ in points})
        if len(counts) > 1:
            slope, intercept = np.polyfit([n for n, _ in points], [c for _, c in points], 1)
            slope, intercept = max(float(slope), 0.0), max(float(intercept), 0.0)
        else:
            slope, intercept = points[0][1] / points[0][0], 0.0
        kernel = statistics.median(s.kernel_seconds for s in rows[0][1])
        print(
            f"scaling model (nodes like this one, {threads} cores each): a generation = driver {fixed:.3f} s"
            f" + kernel {kernel:.3f} s / nodes + ship and gather {intercept * 1000:.1f} ms"
            f" + {slope * 1000:.1f} ms x nodes"
        )
        for n in NODES:
            parts = {
                "the driver's compile and neat-python": fixed,
                "the kernel": kernel / n,
                "shipping and gathering": intercept + slope * n,
            }
            total = sum(parts.values())
            top = max(parts, key=parts.get)
            driver = "" if top.startswith("the driver") else f"; the driver {fixed / total:.0%}"
            print(
                f"  {n:>3} nodes: {total:.3f} s a generation, {(kernel + fixed) / total:.1f}x one node's"
                f" {kernel + fixed:.3f} s; {top} {parts[top] / total:.0%} of it{driver}"
            )
    return 0 if same else 1
