"""`tilerunner bench cuda`: the same generation on local threads and on the GPU, frames/s and where the time goes.

For each level set (`--level`, each measured on its own) and population size (`--sizes`), a population is
evolved for `--warmup` generations on the GPU (so that its networks play episodes as long as a run's),
then that one generation is evaluated `--repeats` times on local threads (every core, or `--workers`) and
on the GPU in turn. Every evaluation plays the same episodes, so the results must be identical, and the
times compare like for like. Reported per row: frames a generation, each backend's median evaluation
and frames/s, the GPU's speed-up, the GPU's split (packing the networks, sending them, the kernel,
reading the results back), the driver's own work measured on the warm-up generations (compiling new
genomes, neat-python's reproduction and speciation), and a whole generation on the GPU (evaluation plus
the driver). The kernel's compile is once a process, printed on its own. The targets (issue 22) are
judged on population 1,000 and a set of at least 600 levels, where one was measured.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np

from tilerunner.envs.level import level_set, load_level
from tilerunner.evolve.bench.errors import BenchError
from tilerunner.evolve.bench.flags import POP_RANGE, add_repeats, add_seed, add_warmup, add_workers, pop_sizes
from tilerunner.evolve.bench.timing import timed_generation, verdict
from tilerunner.evolve.core.backend import LocalBackend
from tilerunner.evolve.core.cuda_backend import CudaBackend, MissingCudaError, check_cuda
from tilerunner.evolve.core.evolution import Evolution, Generation
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.neat_config import load_config
from tilerunner.evolve.core.rollout import use_threads
from tilerunner.evolve.flags.types import add_jump_rule_flag, features_type, span

SPEEDUP_TARGET, SPEEDUP_MILESTONE = 10.0, 5.0  # GPU evaluation against this machine's CPU threads
GENERATION_TARGET = 2.0  # seconds for a whole generation, population 1,000 on 600 levels
TARGET_POP, TARGET_LEVELS = 1000, 600
DEFAULT_SETS = ("gen:1-32:3", "gen:1-600:3")
DEFAULT_SIZES = "300,1000,3000"
HELP = "one generation on local threads and on the GPU: frames/s, the split, the targets"
DESCRIPTION = (
    "For each level set and population size, evolve --warmup generations on the GPU, then evaluate that"
    " generation --repeats times on local threads and on the GPU: frames/s, the GPU's speed-up, its split (pack,"
    " send, kernel, gather), the driver's compile, reproduction and speciation, and a whole generation on the"
    " GPU. Needs an NVIDIA GPU and pip install 'tilerunner[cuda]'."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of `tilerunner bench cuda`."""
    p.add_argument(
        "--level",
        action="append",
        metavar="SET",
        help="a level set, as evolve --level takes; repeat to measure several sets, each on its own"
        f" (default {' and '.join(DEFAULT_SETS)})",
    )
    p.add_argument(
        "--sizes",
        type=pop_sizes,
        default=DEFAULT_SIZES,
        metavar="N,N,...",
        help=f"comma-separated population sizes, each {span(*POP_RANGE)} (default {DEFAULT_SIZES})",
    )
    add_warmup(p, 3)
    add_repeats(p, "evaluations per backend", 3)
    p.add_argument(
        "--batch-breeding",
        action="store_true",
        help="breed the warm-up generations in batch (the driver's columns then time batch breeding)",
    )
    add_seed(p)
    add_workers(p, "CPU threads to compare with")
    p.add_argument(
        "--observe",
        type=features_type,
        metavar="FEATURE[,FEATURE]",
        help="the networks' opt-in senses, as evolve --observe takes (e.g. jump,foresight,no-grid to time"
        " foresight on the GPU; default none, the grid alone)",
    )
    add_jump_rule_flag(p)


def run(args: argparse.Namespace) -> int:
    try:
        check_cuda()
    except MissingCudaError as exc:
        raise BenchError(str(exc)) from None
    return _bench(args)


def _bench(args: argparse.Namespace) -> int:
    threads = use_threads(args.workers)
    gpu = CudaBackend()
    local = LocalBackend()
    settings = EpisodeSettings(jump_rule=args.jump_rule, features=tuple(args.observe or ()))
    breeding = "batch" if args.batch_breeding else "exact"
    print(
        f"tilerunner bench cuda: {gpu.device}, {gpu.threads:,} GPU threads, against {threads} CPU threads;"
        f" {args.warmup} warm-up generations on the GPU, then each backend evaluates that generation"
        f" {args.repeats} times (medians); {breeding} breeding; seed {args.seed}"
        f"{'; sees ' + ' and '.join(settings.features) if settings.features else ''}",
        flush=True,
    )
    header = (
        f"{'levels':>7}{'pop':>7}{'frames':>13}{'local s':>9}{'Mframe/s':>9}{'gpu s':>8}{'Mframe/s':>9}"
        f"{'speed-up':>9} | {'pack':>6}{'send':>6}{'kernel':>7}{'gather':>7} | {'compile':>7}{'breed':>6}"
        f"{'speciate':>9} | {'generation':>10}"
    )
    same = True
    judged: dict[str, float] = {}
    lines = []
    for spec in args.level or DEFAULT_SETS:
        levels = [load_level(lv) for lv in level_set(spec)]
        for pop in args.sizes:
            overrides = {"num_inputs": settings.n_inputs, **({"breeding": "batch"} if args.batch_breeding else {})}
            config = load_config(neat_overrides={"pop_size": pop}, genome_overrides=overrides)
            evolution = Evolution(config, levels, settings, args.seed, backend=gpu)
            driver = []
            for _ in range(args.warmup):
                summary = evolution.play_generation()
                evolution.reproduce(summary)
                driver.append(summary)
            timed_generation(evolution, local)  # untimed: the CPU kernel loads, the GPU's scratch grows, once
            timed_generation(evolution, gpu)
            rows: dict[str, list[tuple[Generation, float]]] = {"local": [], "cuda": []}
            reference = None
            for _ in range(args.repeats):  # in turn, so that a busy spell on the machine hits both alike
                for name, backend in (("local", local), ("cuda", gpu)):
                    summary, wall = timed_generation(evolution, backend)
                    rows[name].append((summary, wall))
                    if reference is None:
                        reference = summary.table.array
                    same = same and np.array_equal(summary.table.array, reference)
            frames = rows["local"][0][0].frames
            t_local = statistics.median(w for _, w in rows["local"])
            t_gpu = statistics.median(w for _, w in rows["cuda"])

            def part(name: str, rows=rows) -> float:
                return statistics.median(getattr(s.backend, name) for s, _ in rows["cuda"])

            compile_ = statistics.median(g.compile_seconds - g.backend.pack_seconds for g in driver) if driver else 0.0
            breed = statistics.median(g.reproduce_seconds for g in driver) if driver else 0.0
            speciate = statistics.median(g.speciate_seconds for g in driver) if driver else 0.0
            generation = t_gpu + compile_ + breed + speciate
            speedup = t_local / t_gpu if t_gpu > 0 else float("inf")
            line = (
                f"{len(levels):>7,}{pop:>7,}{frames:>13,}{t_local:>9.3f}{frames / t_local / 1e6:>9.1f}"
                f"{t_gpu:>8.3f}{frames / t_gpu / 1e6:>9.1f}{speedup:>8.1f}x | {part('pack_seconds'):>6.3f}"
                f"{part('ship_seconds'):>6.3f}{part('kernel_seconds'):>7.3f}{part('gather_seconds'):>7.3f} |"
                f" {compile_:>7.3f}{breed:>6.3f}{speciate:>9.3f} | {generation:>9.3f}s"
            )
            if not lines:
                print(header)
            lines.append(line)
            print(line, flush=True)
            if pop == TARGET_POP and len(levels) >= TARGET_LEVELS:
                judged = {"speed-up": speedup, "generation": generation}
    print(
        f"the GPU kernel compiled (or came from Numba's cache) in {gpu.compile_seconds:.1f} s, once a process;"
        f" its threads' scratch {gpu.scratch_bytes / 2**20:,.1f} MiB; the same results on both:"
        f" {'yes' if same else 'NO'}"
    )
    print(
        "columns: seconds to evaluate the generation; the GPU's split (pack the networks, send them, the kernel,"
        " read results); the driver per generation on the warm-up (compile genomes into arrays, neat-python"
        " reproduction, speciation); generation = GPU evaluation + the driver's three"
    )
    if judged:
        s, g = judged["speed-up"], judged["generation"]
        print(
            f"target: GPU evaluation at least {SPEEDUP_TARGET:.0f}x the CPU threads at population 1,000 on 600"
            f" levels: {verdict(s >= SPEEDUP_TARGET)} ({s:.1f}x; milestone {SPEEDUP_MILESTONE:.0f}x:"
            f" {verdict(s >= SPEEDUP_MILESTONE)})"
        )
        print(
            f"target: a whole generation in {GENERATION_TARGET:.0f} s or less at population 1,000 on 600 levels:"
            f" {verdict(g <= GENERATION_TARGET)} ({g:.3f} s)"
        )
    else:
        print("targets: not judged (they need --sizes with 1000 and a --level set of at least 600 levels)")
    return 0 if same else 1
