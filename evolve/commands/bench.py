"""`tilerunner bench`: speed measurements that print ratios against baselines timed in the same run."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable

from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.commands.flags import (
    CHECKPOINT_EVERY_RANGE,
    CURRICULUM_RANGE,
    DEFAULT_JUMP_RULE,
    DEFAULT_SEED_SHARE,
    GENERATIONS_RANGE,
    LEVELS_PER_GEN_RANGE,
    OBSERVE_HELP,
    SEED_RANGE,
    SEED_SHARE_RANGE,
    WORKERS_RANGE,
    add_jump_rule_flag,
    check_output_file,
    features_type,
    float_in,
    int_in,
    setting_type,
)

# Ranges of the benchmark flags: big enough for any measurement, small enough to finish.
_FRAMES = int_in(1, 10**9)
_STEPS = int_in(1, 10**8)
_REPEATS = int_in(1, 1000)
_COUNT = int_in(1, 100_000)  # genomes, networks, hidden nodes, seeds, trial pairs
_LINKS = int_in(1, 10**6)
_POP_RANGE = (2, 100_000)  # as --pop of evolve (the neat config's POP_SIZE_RANGE)
_POP = int_in(*_POP_RANGE)
_GENERATIONS = int_in(*GENERATIONS_RANGE)
_SEED = int_in(*SEED_RANGE)
MAX_DELAY = 100_000


def pop_sizes(text: str) -> list[int]:
    """argparse type for bench evolve --sizes: comma-separated population sizes from 2 to 100,000, e.g. `300,1000`."""
    parse = int_in(*_POP_RANGE)
    parts = text.split(",")
    if len(parts) > 20:
        raise argparse.ArgumentTypeError(f"expected up to 20 comma-separated population sizes, got {len(parts)}")
    return [parse(part) for part in parts]


pop_sizes.__name__ = "whole number from 2 to 100000, comma-separated"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `bench` command and its subcommands."""
    from tilerunner.evolve.core.fitness import RELATIVE_TO
    from tilerunner.evolve.core.level_plan import RECHECK_RANGE

    p = sub.add_parser("bench", help="measure speed (prints ratios against baselines from the same run)")
    bsub = p.add_subparsers(dest="bench_command", metavar="WHAT")
    bsub.required = True

    env = bsub.add_parser("env", help="physics kernel frames/s vs gymnasium env.step steps/s")
    env.add_argument("--level", default="2-3", help="level to run on (default 2-3: 12 enemies)")
    env.add_argument("--frames", type=_FRAMES, default=5_000_000, help="frames per kernel run (default 5,000,000)")
    env.add_argument("--steps", type=_STEPS, default=60_000, help="env steps per env run (default 60,000)")
    env.add_argument("--repeats", type=_REPEATS, default=5, help="runs of each; the median is reported (default 5)")
    env.add_argument("--frame-skip", type=setting_type("frame_skip"), default=5, help="frames per decision (default 5)")
    add_jump_rule_flag(env)
    env.set_defaults(run=_lazy("tilerunner.evolve.bench.env"))

    net = bsub.add_parser("net", help="network activations/s: neat-python vs the Numba kernels")
    net.add_argument("--genomes", type=_COUNT, default=20, help="different networks (default 20)")
    net.add_argument("--hidden", type=_COUNT, default=30, help="hidden nodes per network (default 30)")
    net.add_argument("--links", type=_LINKS, default=100, help="connections per network (default 100)")
    net.add_argument("--steps", type=_STEPS, default=10_000, help="steps per kernel run (default 10,000)")
    net.add_argument("--population", type=_COUNT, default=300, help="networks in the population kernel")
    net.add_argument("--repeats", type=_REPEATS, default=5, help="runs of each; the median is reported")
    net.set_defaults(run=_lazy("tilerunner.evolve.bench.net"))

    memory = bsub.add_parser("memory", help="delayed recall evolved with and without memory cells")
    memory.add_argument("--seeds", type=_COUNT, default=5, help="runs per setting (default 5)")
    memory.add_argument("--delays", type=delays, default="10,30,100",
                        help="comma-separated delays, each at least 1 (default 10,30,100)")
    memory.add_argument("--generations", type=_GENERATIONS, default=200, help="limit per run (default 200)")
    memory.add_argument("--pop", type=_POP, default=150, help="population size (default 150)")
    memory.add_argument("--pairs", type=_COUNT, default=16,
                        help="training trial pairs (cue +1 and -1 with the same distractors; default 16)")
    memory.set_defaults(run=_lazy("tilerunner.evolve.bench.memory"))

    neat_ = bsub.add_parser(
        "neat", help="the NEAT paper's XOR and double-pole experiments with our networks, beside the paper's figures",
        description="Rerun Stanley and Miikkulainen (2002): XOR, double pole balancing with velocities (dpv) and"
                    " without (dpnv, with the generalisation test), the poles with plain nodes and with memory"
                    " cells; print generations, evaluations, hidden nodes and failures beside the paper's.")
    neat_.add_argument("--experiment", action="append", choices=("xor", "dpv", "dpnv"),
                       help="run only this experiment (repeatable; default all three)")
    neat_.add_argument("--xor-runs", type=_COUNT, default=100, help="XOR runs (default 100, as the paper)")
    neat_.add_argument("--dpv-runs", type=_COUNT, default=10, help="runs per setting of dpv (default 10)")
    neat_.add_argument("--dpnv-runs", type=_COUNT, default=3, help="runs per setting of dpnv (default 3)")
    neat_.add_argument("--generations", type=_GENERATIONS, default=100,
                       help="limit per run; a run that reaches it counts as failed (default 100)")
    neat_.add_argument("--pop", type=_POP, help="population size (default: the paper's, 150; 1,000 for dpnv)")
    neat_.add_argument("--seed", type=_SEED, default=0, help="run i uses seed SEED+i (default 0)")
    neat_.add_argument("--batch-breeding", action="store_true",
                       help="breed a generation at once (breeding = batch) instead of neat-python's way")
    neat_.set_defaults(run=_lazy("tilerunner.evolve.bench.neat_paper"))

    learn = bsub.add_parser("learn", help="generations and seconds until a champion first finishes, per seed")
    learn.add_argument("--level", action="append", metavar="ID", help="level (repeatable; default 1-1)")
    learn.add_argument("--seeds", type=_COUNT, default=10, help="seeds 0..N-1 (default 10)")
    learn.add_argument("--generations", type=_GENERATIONS, default=300, help="limit per seed (default 300)")
    learn.add_argument("--pop", type=_POP, help="population size (default: the config's, 300)")
    learn.add_argument("--memory", action="store_true", help="with memory cells")
    add_jump_rule_flag(learn)
    learn.set_defaults(run=_lazy("tilerunner.evolve.bench.learn"))

    evo = bsub.add_parser("evolve", help="a generation's time, split; fused kernel vs the naive way")
    evo.add_argument("--level", default="1-1", help="level (default 1-1)")
    evo.add_argument("--pop", type=_POP, default=300, help="population size (default 300)")
    evo.add_argument("--generations", type=_GENERATIONS, default=10, help="generations timed (default 10)")
    evo.add_argument("--seed", type=_SEED, default=0, help="seed (default 0)")
    evo.add_argument("--warmup", type=int_in(0, 10_000), default=0,
                     help="untimed generations before timing (default 0)")
    evo.add_argument("--naive", type=_COUNT,
                     help="time the naive way on this many genomes (default: the whole last generation)")
    evo.add_argument("--sizes", type=pop_sizes, default=[300, 1000, 3000, 10_000],
                     help="population sizes of the bookkeeping table, stock neat-python vs fast, comma-separated,"
                          " each 2 to 100,000 (default 300,1000,3000,10000)")
    evo.add_argument("--links", type=int_in(1, 10_000), default=80,
                     help="connections per genome the table's populations are grown to (1 to 10,000; default 80)")
    evo.add_argument("--book-generations", type=int_in(1, 100), default=3,
                     help="generations timed per size in the table; the median is reported (1 to 100; default 3)")
    add_jump_rule_flag(evo)
    evo.set_defaults(run=_lazy("tilerunner.evolve.bench.evolve"))

    watch = bsub.add_parser("watch", help="evolution's speed with and without the live viewer open")
    watch.add_argument("--level", default="2-4", help="level (default 2-4)")
    watch.add_argument("--generations", type=_GENERATIONS, default=60, help="generations per run (default 60)")
    watch.add_argument("--repeats", type=_REPEATS, default=5, help="pairs of runs; medians reported (default 5)")
    watch.add_argument("--seed", type=_SEED, default=0, help="seed (default 0)")
    add_jump_rule_flag(watch)
    watch.set_defaults(run=_lazy("tilerunner.evolve.bench.watch"))

    ray = bsub.add_parser(
        "ray", help="one heavy generation on local threads and on Ray actors: Ray's overhead, bytes shipped, scaling",
        description="Evolve a population for --warmup generations, then evaluate that generation --repeats times"
                    " on local threads and on Ray with each number of actors in --actors; report medians, the split"
                    " (pack, ship, kernel, gather), bytes shipped, Ray's overhead, and a scaling model. Needs"
                    " pip install 'tilerunner[ray]'.")
    ray.add_argument("--levels", default="gen:1-32:1", metavar="SET",
                     help="the levels every genome plays, as evolve --level takes (default gen:1-32:1)")
    ray.add_argument("--pop", type=_POP, default=300, help="population size (default 300)")
    ray.add_argument("--warmup", type=int_in(0, 10_000), default=10,
                     help="generations evolved first, so that episodes are as long as in a run (default 10)")
    ray.add_argument("--repeats", type=_REPEATS, default=5, help="evaluations per backend; medians (default 5)")
    ray.add_argument("--actors", type=actor_counts, default="1,2",
                     help="comma-separated numbers of Ray actors to time (default 1,2)")
    ray.add_argument("--address", metavar="ADDR",
                     help="the Ray cluster to time on (auto, HOST:PORT; default: a local Ray on 127.0.0.1)")
    ray.add_argument("--seed", type=_SEED, default=0, help="seed (default 0)")
    ray.add_argument("--workers", type=int_in(*WORKERS_RANGE), help="threads for local evaluation (default: all cores)")
    add_jump_rule_flag(ray)
    ray.set_defaults(run=_lazy("tilerunner.evolve.bench.ray_overhead"))

    gpu = bsub.add_parser(
        "cuda", help="one generation on local threads and on the GPU: frames/s, the split, the targets",
        description="For each level set and population size, evolve --warmup generations on the GPU, then evaluate"
                    " that generation --repeats times on local threads and on the GPU: frames/s, the GPU's speed-up,"
                    " its split (pack, send, kernel, gather), the driver's compile, reproduction and speciation,"
                    " and a whole generation on the GPU. Needs an NVIDIA GPU and pip install 'tilerunner[cuda]'.")
    gpu.add_argument("--level", action="append", metavar="SET",
                     help="a level set, as evolve --level takes; repeat to measure several sets, each on its own"
                          " (default gen:1-32:3 and gen:1-600:3)")
    gpu.add_argument("--sizes", type=pop_sizes, default="300,1000,3000",
                     help="comma-separated population sizes, each 2 to 100,000 (default 300,1000,3000)")
    gpu.add_argument("--warmup", type=int_in(0, 10_000), default=3, metavar="N",
                     help="generations evolved first, 0 to 10,000, so that episodes are as long as a run's (default 3)")
    gpu.add_argument("--repeats", type=_REPEATS, default=3, metavar="N",
                     help="evaluations per backend, 1 to 1,000; medians (default 3)")
    gpu.add_argument("--batch-breeding", action="store_true",
                     help="breed the warm-up generations in batch (the driver's columns then time batch breeding)")
    gpu.add_argument("--seed", type=_SEED, default=0, help="seed (default 0)")
    gpu.add_argument("--workers", type=int_in(*WORKERS_RANGE), help="CPU threads to compare with (default: all cores)")
    add_jump_rule_flag(gpu)
    gpu.set_defaults(run=_lazy("tilerunner.evolve.bench.cuda"), level=None)

    gen = bsub.add_parser(
        "generalize", help="train per seed on a time budget, pick on validation, report levels never seen",
        description="Evolve from several seeds on training levels only (each on a time budget), pick the"
                    " champion that was best on validation levels, and report what it finishes on held-out"
                    " public and generated levels nothing was picked on. Run folders are kept in --out: run"
                    " the same command again to resume an interrupted bench or reuse finished seeds.")
    gen.add_argument("--public", metavar="DIR",
                     help="public levels never trained on, split per generator by level number: the first half"
                          " picks the champion, the second half is reported (default"
                          " ../shared/mario-ai-levels/validation if it exists)")
    gen.add_argument("--train", action="append", metavar="SET",
                     help="training levels, as evolve --level takes (default: the train/ folder beside --public,"
                          " else gen:*)")
    gen.add_argument("--seeds", type=_COUNT, default=3, help="seeds 0..N-1 (default 3)")
    gen.add_argument("--minutes", type=float_in(0.01, 100_000.0), default=45.0,
                     help="minutes of evolution per seed (default 45)")
    gen.add_argument("--pop", type=_POP, default=300, help="population size (default 300)")
    gen.add_argument("--levels-per-gen", type=int_in(*LEVELS_PER_GEN_RANGE), default=20, metavar="K",
                     help="levels each generation plays, drawn from the training set (default 20)")
    gen.add_argument("--validate-every", type=int_in(*CHECKPOINT_EVERY_RANGE), default=10, metavar="N",
                     help="generations between checks on the picking levels (default 10)")
    gen.add_argument("--observe", type=features_type, metavar="FEATURE[,FEATURE]", help=OBSERVE_HELP)
    gen.add_argument("--curriculum", type=float_in(*CURRICULUM_RANGE), metavar="SHARE",
                     help="train in stages, as evolve --curriculum")
    gen.add_argument("--config", metavar="FILE", help="neat-python config (default: the shipped default.ini)")
    gen.add_argument("--workers", type=int_in(*WORKERS_RANGE), help="threads for evaluation (default: all cores)")
    add_jump_rule_flag(gen, default_text=f"{DEFAULT_JUMP_RULE}; the runs evolve, and the baselines play, under it")
    gen.add_argument("--seed-rules", type=float_in(*SEED_SHARE_RANGE), nargs="?", const=DEFAULT_SEED_SHARE,
                     metavar="SHARE", help="seed SHARE of each run's first population from the hand-written rules,"
                                           f" as evolve --seed-rules (default {DEFAULT_SEED_SHARE}); needs"
                                           " --observe jump,probes")
    gen.add_argument("--recheck", type=int_in(*RECHECK_RANGE), metavar="N",
                     help="the best tenth of each generation also plays N more training levels, as evolve --recheck;"
                          f" {RECHECK_RANGE[0]} to {RECHECK_RANGE[1]:,}")
    gen.add_argument("--relative-to", choices=RELATIVE_TO, default="none",
                     help="fitness of each level against hold-right's, as evolve --relative-to (default none)")
    gen.add_argument("--solve", action="store_true",
                     help="also run the solver on the reported levels, give shares of the solvable ones, and"
                          " the planner's line beside the baselines'")
    gen.add_argument("--out", metavar="DIR", default="runs/bench-generalize",
                     help="where the seeds' run folders are kept (default runs/bench-generalize)")
    gen.add_argument("--json", metavar="PATH", help="also write the report as JSON")
    gen.set_defaults(run=_lazy("tilerunner.evolve.bench.generalize"))


def actor_counts(text: str) -> list[int]:
    """argparse type for bench ray --actors: comma-separated numbers of actors from 1 to 1,000, e.g. `1,2`."""
    shown = repr(text) if len(text) <= 40 else repr(text[:37] + "...")
    if len(shown) > 80:  # escapes (\U0001019d) make a short text long
        shown = shown[:76] + "...'"
    parts = text.split(",")
    try:
        values = [int(p) for p in parts] if len(parts) <= 20 and all(len(p.strip()) <= 6 for p in parts) else None
    except ValueError:
        values = None
    if not values or not all(1 <= v <= 1000 for v in values):
        raise argparse.ArgumentTypeError(f"expected up to 20 comma-separated numbers of actors from 1 to 1,000,"
                                         f" got {shown}")
    return values


def delays(text: str) -> list[int]:
    """argparse type for --delays: comma-separated whole numbers from 1 to 100,000, e.g. `10,30,100`."""
    shown = repr(text) if len(text) <= 40 else repr(text[:37] + "...")
    if len(shown) > 80:  # escapes (\U0001019d) make a short text long
        shown = shown[:76] + "...'"
    parts = text.split(",")
    if len(parts) > 100 or any(len(d.strip()) > 12 for d in parts):
        raise argparse.ArgumentTypeError(f"expected up to 100 comma-separated delays from 1 to {MAX_DELAY:,},"
                                         f" got {shown}")
    try:
        values = [int(d) for d in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {shown}") from None
    if any(not 1 <= d <= MAX_DELAY for d in values):
        raise argparse.ArgumentTypeError(f"every delay must be from 1 to {MAX_DELAY:,}, got {shown}")
    return values


def _lazy(module: str) -> Callable[[argparse.Namespace], int]:
    # Benchmarks import Numba kernels; load them only when that benchmark runs.
    def run(args: argparse.Namespace) -> int:
        from tilerunner.evolve.bench.errors import BenchError

        if getattr(args, "json", None):  # an output path that cannot be written fails before the work
            check_output_file(args.json, "--json")
        try:
            return importlib.import_module(module).run(args)
        except BenchError as exc:
            raise UserError(str(exc)) from None

    return run

