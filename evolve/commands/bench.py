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
    add_old_name,
    check_not_an_input,
    check_output_file,
    features_type,
    float_in,
    int_in,
    int_list,
    level_files,
    setting_type,
    span,
)

# Ranges of the benchmark flags: big enough for any measurement, small enough to finish.
_FRAMES_RANGE = (1, 10**9)
_STEPS_RANGE = (1, 10**8)
_REPEATS_RANGE = (1, 1000)
_COUNT_RANGE = (1, 100_000)  # genomes, networks, hidden nodes, seeds, trial pairs
_LINKS_RANGE = (1, 10**6)
_WARMUP_RANGE = (0, 10_000)
_BENCH_MINUTES_RANGE = (0.01, 100_000.0)  # bench generalize --time-limit, per seed
_FRAMES = int_in(*_FRAMES_RANGE)
_STEPS = int_in(*_STEPS_RANGE)
_REPEATS = int_in(*_REPEATS_RANGE)
_COUNT = int_in(*_COUNT_RANGE)
_LINKS = int_in(*_LINKS_RANGE)
_POP_RANGE = (2, 100_000)  # as --pop of evolve (the neat config's POP_SIZE_RANGE)
_POP = int_in(*_POP_RANGE)
_GENERATIONS = int_in(*GENERATIONS_RANGE)
_SEED = int_in(*SEED_RANGE)
MAX_DELAY = 100_000
MAX_ACTORS = 1000  # bench ray --actor-counts: each count from 1 to this


# Lists of counts: one parser each, from the one factory (each bad list is one argparse line naming it).
pop_sizes = int_list("population sizes", *_POP_RANGE, most=20)
actor_counts = int_list("numbers of actors", 1, MAX_ACTORS, most=20)
delays = int_list("delays", 1, MAX_DELAY, most=100)


def _seeds_help(default: int, what: str = "one run each") -> str:
    """--seeds means the same on every bench: a count N, the seeds 0 to N-1."""
    return f"seeds 0 to N-1, {what}; N from {span(*_COUNT_RANGE)} (default {default})"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `bench` command and its subcommands."""
    from tilerunner.evolve.core.fitness import RELATIVE_TO, EpisodeSettings
    from tilerunner.evolve.core.level_plan import RECHECK_RANGE

    p = sub.add_parser(
        "bench",
        help="measure speed (prints ratios against baselines from the same run)",
        description="Measurements that print their figures beside baselines measured in the same"
        " run: speed (env, net, evolve, watch, ray, cuda), learning (memory, learn, neat)"
        " and levels never seen (generalize). tilerunner bench WHAT --help says what"
        " each measures and takes.",
    )
    bsub = p.add_subparsers(dest="bench_command", metavar="WHAT")
    bsub.required = True

    env = bsub.add_parser(
        "env",
        help="physics kernel frames/s vs gymnasium env.step steps/s",
        description="Time the Numba physics kernel (frames/s on one core, observing every"
        " --frame-skip frames) against the gymnasium env's step() on the same level,"
        " and print the ratio.",
    )
    env.add_argument(
        "--level", default="2-3", metavar="ID", help="the level to run on, an id or a file (default 2-3: 12 enemies)"
    )
    env.add_argument(
        "--frames",
        type=_FRAMES,
        default=5_000_000,
        metavar="N",
        help=f"frames per kernel run, {span(*_FRAMES_RANGE)} (default 5,000,000)",
    )
    env.add_argument(
        "--steps",
        type=_STEPS,
        default=60_000,
        metavar="N",
        help=f"env steps per env run, {span(*_STEPS_RANGE)} (default 60,000)",
    )
    env.add_argument(
        "--repeats",
        type=_REPEATS,
        default=5,
        metavar="N",
        help=f"runs of each, {span(*_REPEATS_RANGE)}; the median is reported (default 5)",
    )
    lo, hi = EpisodeSettings.LIMITS["frame_skip"]
    env.add_argument(
        "--frame-skip",
        type=setting_type("frame_skip"),
        default=5,
        metavar="N",
        help=f"frames per decision, {span(lo, hi)} (default 5)",
    )
    add_jump_rule_flag(env)
    env.set_defaults(run=_lazy("tilerunner.evolve.bench.env"))

    net = bsub.add_parser(
        "net",
        help="network activations/s: neat-python vs the Numba kernels",
        description="Time the same MarI/O-sized networks in neat-python's RecurrentNetwork, in"
        " CompiledNetwork from Python, in the one-network kernel and in the population"
        " kernel on all cores; print each rate and its ratio to neat-python's.",
    )
    net.add_argument(
        "--genomes",
        type=_COUNT,
        default=20,
        metavar="N",
        help=f"different networks, {span(*_COUNT_RANGE)} (default 20)",
    )
    net.add_argument(
        "--hidden",
        type=_COUNT,
        default=30,
        metavar="N",
        help=f"hidden nodes per network, {span(*_COUNT_RANGE)} (default 30)",
    )
    net.add_argument(
        "--links",
        type=_LINKS,
        default=100,
        metavar="N",
        help=f"connections per network, {span(*_LINKS_RANGE)} (default 100)",
    )
    net.add_argument(
        "--steps",
        type=_STEPS,
        default=10_000,
        metavar="N",
        help=f"steps per kernel run, {span(*_STEPS_RANGE)} (default 10,000)",
    )
    pop = net.add_argument(
        "--pop",
        type=_COUNT,
        default=300,
        metavar="N",
        help=f"networks in the population kernel, {span(*_COUNT_RANGE)} (default 300)",
    )
    add_old_name(net, "--population", pop)
    net.add_argument(
        "--repeats",
        type=_REPEATS,
        default=5,
        metavar="N",
        help=f"runs of each, {span(*_REPEATS_RANGE)}; the median is reported (default 5)",
    )
    net.set_defaults(run=_lazy("tilerunner.evolve.bench.net"))

    memory = bsub.add_parser(
        "memory",
        help="delayed recall evolved with and without memory cells",
        description="Evolve networks to recall a cue after a delay, with and without LSTM"
        " memory cells, for each delay and seed; print how often and how fast each"
        " setting solves it, and how it does on held-out trials.",
    )
    memory.add_argument("--seeds", type=_COUNT, default=5, metavar="N", help=_seeds_help(5, "one run per setting"))
    memory.add_argument(
        "--delays",
        type=delays,
        default="10,30,100",
        metavar="N,N,...",
        help=f"comma-separated delays, each {span(1, MAX_DELAY)} (default 10,30,100)",
    )
    memory.add_argument(
        "--generations",
        type=_GENERATIONS,
        default=200,
        metavar="N",
        help=f"limit per run, {span(*GENERATIONS_RANGE)} (default 200)",
    )
    memory.add_argument(
        "--pop", type=_POP, default=150, metavar="N", help=f"population size, {span(*_POP_RANGE)} (default 150)"
    )
    memory.add_argument(
        "--pairs",
        type=_COUNT,
        default=16,
        metavar="N",
        help=f"training trial pairs (cue +1 and -1 with the same distractors), {span(*_COUNT_RANGE)} (default 16)",
    )
    memory.set_defaults(run=_lazy("tilerunner.evolve.bench.memory"))

    neat_ = bsub.add_parser(
        "neat",
        help="the NEAT paper's XOR and double-pole experiments with our networks, beside the paper's figures",
        description="Rerun Stanley and Miikkulainen (2002): XOR, double pole balancing with velocities (dpv) and"
        " without (dpnv, with the generalisation test), the poles with plain nodes and with memory"
        " cells; print generations, evaluations, hidden nodes and failures beside the paper's.",
    )
    neat_.add_argument(
        "--experiment",
        action="append",
        choices=("xor", "dpv", "dpnv"),
        help="run only this experiment (repeatable; default all three)",
    )
    neat_.add_argument(
        "--xor-runs",
        type=_COUNT,
        default=100,
        metavar="N",
        help=f"XOR runs, {span(*_COUNT_RANGE)} (default 100, as the paper)",
    )
    neat_.add_argument(
        "--dpv-runs",
        type=_COUNT,
        default=10,
        metavar="N",
        help=f"runs per setting of dpv, {span(*_COUNT_RANGE)} (default 10)",
    )
    neat_.add_argument(
        "--dpnv-runs",
        type=_COUNT,
        default=3,
        metavar="N",
        help=f"runs per setting of dpnv, {span(*_COUNT_RANGE)} (default 3)",
    )
    neat_.add_argument(
        "--generations",
        type=_GENERATIONS,
        default=100,
        metavar="N",
        help=f"limit per run, {span(*GENERATIONS_RANGE)}; a run that reaches it counts as failed (default 100)",
    )
    neat_.add_argument(
        "--pop",
        type=_POP,
        metavar="N",
        help=f"population size, {span(*_POP_RANGE)} (default: the paper's, 150; 1,000 for dpnv)",
    )
    neat_.add_argument(
        "--seed",
        type=_SEED,
        default=0,
        metavar="N",
        help=f"run i uses seed N+i; N from {span(*SEED_RANGE)} (default 0)",
    )
    neat_.add_argument(
        "--batch-breeding",
        action="store_true",
        help="breed a generation at once (breeding = batch) instead of neat-python's way",
    )
    neat_.set_defaults(run=_lazy("tilerunner.evolve.bench.neat_paper"))

    learn = bsub.add_parser(
        "learn",
        help="generations and seconds until a champion first finishes, per seed",
        description="Evolve from each seed until a champion first finishes every level given;"
        " print the generations and seconds it took per seed, then medians and worst"
        " cases.",
    )
    learn.add_argument(
        "--level",
        action="append",
        metavar="ID",
        help="a level to finish, an id or a file (repeat for several; default 1-1)",
    )
    learn.add_argument("--seeds", type=_COUNT, default=10, metavar="N", help=_seeds_help(10))
    learn.add_argument(
        "--generations",
        type=_GENERATIONS,
        default=300,
        metavar="N",
        help=f"limit per seed, {span(*GENERATIONS_RANGE)} (default 300)",
    )
    learn.add_argument(
        "--pop", type=_POP, metavar="N", help=f"population size, {span(*_POP_RANGE)} (default: the config's, 300)"
    )
    learn.add_argument("--memory", action="store_true", help="with memory cells")
    add_jump_rule_flag(learn)
    learn.set_defaults(run=_lazy("tilerunner.evolve.bench.learn"))

    evo = bsub.add_parser(
        "evolve",
        help="a generation's time, split; fused kernel vs the naive way",
        description="Time generations of evolution split into their parts (compile, rollouts,"
        " breeding, speciation), the fused rollout kernel against the naive way (one"
        " gymnasium episode per genome), and a table of NEAT's bookkeeping, stock"
        " neat-python against this project's, per population size.",
    )
    evo.add_argument("--level", default="1-1", metavar="ID", help="the level, an id or a file (default 1-1)")
    evo.add_argument(
        "--pop", type=_POP, default=300, metavar="N", help=f"population size, {span(*_POP_RANGE)} (default 300)"
    )
    evo.add_argument(
        "--generations",
        type=_GENERATIONS,
        default=10,
        metavar="N",
        help=f"generations timed, {span(*GENERATIONS_RANGE)} (default 10)",
    )
    evo.add_argument("--seed", type=_SEED, default=0, metavar="N", help=f"seed, {span(*SEED_RANGE)} (default 0)")
    evo.add_argument(
        "--warmup",
        type=int_in(*_WARMUP_RANGE),
        default=0,
        metavar="N",
        help=f"untimed generations before timing, {span(*_WARMUP_RANGE)} (default 0)",
    )
    evo.add_argument(
        "--naive",
        type=_COUNT,
        metavar="N",
        help=f"time the naive way on N genomes, {span(*_COUNT_RANGE)} (default: the whole last generation)",
    )
    evo.add_argument(
        "--sizes",
        type=pop_sizes,
        default=[300, 1000, 3000, 10_000],
        metavar="N,N,...",
        help="population sizes of the bookkeeping table, stock neat-python vs fast, comma-separated,"
        f" each {span(*_POP_RANGE)} (default 300,1000,3000,10000)",
    )
    evo.add_argument(
        "--links",
        type=int_in(1, 10_000),
        default=80,
        metavar="N",
        help=f"connections per genome the table's populations are grown to ({span(1, 10_000)}; default 80)",
    )
    evo.add_argument(
        "--book-generations",
        type=int_in(1, 100),
        default=3,
        metavar="N",
        help=f"generations timed per size in the table; the median is reported ({span(1, 100)}; default 3)",
    )
    add_jump_rule_flag(evo)
    evo.set_defaults(run=_lazy("tilerunner.evolve.bench.evolve"))

    watch = bsub.add_parser(
        "watch",
        help="evolution's speed with and without the live viewer open",
        description="Time the same evolution with and without evolve --watch's viewer open, in"
        " pairs of runs, and print the medians and the viewer's cost.",
    )
    watch.add_argument("--level", default="2-4", metavar="ID", help="the level, an id or a file (default 2-4)")
    watch.add_argument(
        "--generations",
        type=_GENERATIONS,
        default=60,
        metavar="N",
        help=f"generations per run, {span(*GENERATIONS_RANGE)} (default 60)",
    )
    watch.add_argument(
        "--repeats",
        type=_REPEATS,
        default=5,
        metavar="N",
        help=f"pairs of runs, {span(*_REPEATS_RANGE)}; medians reported (default 5)",
    )
    watch.add_argument("--seed", type=_SEED, default=0, metavar="N", help=f"seed, {span(*SEED_RANGE)} (default 0)")
    add_jump_rule_flag(watch)
    watch.set_defaults(run=_lazy("tilerunner.evolve.bench.watch"))

    foresight = bsub.add_parser(
        "foresight",
        help="what the foresight sense costs: frames simulated per decision, seconds a generation with and without",
        description="Play rules (which sees foresight) on the levels and count the frames foresight simulates"
        " per decision; then time one first generation with the grid, the grid and foresight, and foresight"
        " alone, and print the medians and the cost per frame played against the grid's.",
    )
    foresight.add_argument(
        "--level",
        action="append",
        metavar="SET",
        help="the levels, as evolve --level takes (repeat for several; default gen:1-20:3)",
    )
    foresight.add_argument(
        "--pop", type=_POP, default=300, metavar="N", help=f"population size, {span(*_POP_RANGE)} (default 300)"
    )
    foresight.add_argument(
        "--repeats",
        type=_REPEATS,
        default=3,
        metavar="N",
        help=f"timed evaluations of each, {span(*_REPEATS_RANGE)}; medians reported (default 3)",
    )
    foresight.add_argument("--seed", type=_SEED, default=0, metavar="N", help=f"seed, {span(*SEED_RANGE)} (default 0)")
    foresight.add_argument(
        "--workers",
        type=int_in(*WORKERS_RANGE),
        metavar="N",
        help=f"threads for evaluation, {span(*WORKERS_RANGE)} (default: all cores)",
    )
    add_jump_rule_flag(foresight)
    foresight.set_defaults(run=_lazy("tilerunner.evolve.bench.foresight"))

    ray = bsub.add_parser(
        "ray",
        help="one heavy generation on local threads and on Ray actors: Ray's overhead, bytes shipped, scaling",
        description="Evolve a population for --warmup generations, then evaluate that generation --repeats times"
        " on local threads and on Ray with each number of actors in --actor-counts; report medians, the"
        " split (pack, ship, kernel, gather), bytes shipped, Ray's overhead, and a scaling model. Needs"
        " pip install 'tilerunner[ray]'.",
    )
    level = ray.add_argument(
        "--level",
        action="append",
        metavar="SET",
        help="the levels every genome plays, as evolve --level takes (repeat for several; default gen:1-32:1)",
    )
    add_old_name(ray, "--levels", level)
    ray.add_argument(
        "--pop", type=_POP, default=300, metavar="N", help=f"population size, {span(*_POP_RANGE)} (default 300)"
    )
    ray.add_argument(
        "--warmup",
        type=int_in(*_WARMUP_RANGE),
        default=10,
        metavar="N",
        help=f"generations evolved first, {span(*_WARMUP_RANGE)}, so that episodes are as long as in a"
        " run (default 10)",
    )
    ray.add_argument(
        "--repeats",
        type=_REPEATS,
        default=5,
        metavar="N",
        help=f"evaluations per backend, {span(*_REPEATS_RANGE)}; medians (default 5)",
    )
    counts = ray.add_argument(
        "--actor-counts",
        type=actor_counts,
        default="1,2",
        metavar="N,N,...",
        help=f"comma-separated numbers of Ray actors to time, each {span(1, MAX_ACTORS)} (default 1,2)",
    )
    add_old_name(ray, "--actors", counts)
    ray.add_argument(
        "--address",
        metavar="ADDR",
        help="the Ray cluster to time on (auto, HOST:PORT; default: a local Ray on 127.0.0.1)",
    )
    ray.add_argument("--seed", type=_SEED, default=0, metavar="N", help=f"seed, {span(*SEED_RANGE)} (default 0)")
    ray.add_argument(
        "--workers",
        type=int_in(*WORKERS_RANGE),
        metavar="N",
        help=f"threads for local evaluation, {span(*WORKERS_RANGE)} (default: all cores)",
    )
    add_jump_rule_flag(ray)
    ray.set_defaults(run=_lazy("tilerunner.evolve.bench.ray_overhead"))

    gpu = bsub.add_parser(
        "cuda",
        help="one generation on local threads and on the GPU: frames/s, the split, the targets",
        description="For each level set and population size, evolve --warmup generations on the GPU, then evaluate"
        " that generation --repeats times on local threads and on the GPU: frames/s, the GPU's speed-up,"
        " its split (pack, send, kernel, gather), the driver's compile, reproduction and speciation,"
        " and a whole generation on the GPU. Needs an NVIDIA GPU and pip install 'tilerunner[cuda]'.",
    )
    gpu.add_argument(
        "--level",
        action="append",
        metavar="SET",
        help="a level set, as evolve --level takes; repeat to measure several sets, each on its own"
        " (default gen:1-32:3 and gen:1-600:3)",
    )
    gpu.add_argument(
        "--sizes",
        type=pop_sizes,
        default="300,1000,3000",
        metavar="N,N,...",
        help=f"comma-separated population sizes, each {span(*_POP_RANGE)} (default 300,1000,3000)",
    )
    gpu.add_argument(
        "--warmup",
        type=int_in(*_WARMUP_RANGE),
        default=3,
        metavar="N",
        help=f"generations evolved first, {span(*_WARMUP_RANGE)}, so that episodes are as long as a run's (default 3)",
    )
    gpu.add_argument(
        "--repeats",
        type=_REPEATS,
        default=3,
        metavar="N",
        help=f"evaluations per backend, {span(*_REPEATS_RANGE)}; medians (default 3)",
    )
    gpu.add_argument(
        "--batch-breeding",
        action="store_true",
        help="breed the warm-up generations in batch (the driver's columns then time batch breeding)",
    )
    gpu.add_argument("--seed", type=_SEED, default=0, metavar="N", help=f"seed, {span(*SEED_RANGE)} (default 0)")
    gpu.add_argument(
        "--workers",
        type=int_in(*WORKERS_RANGE),
        metavar="N",
        help=f"CPU threads to compare with, {span(*WORKERS_RANGE)} (default: all cores)",
    )
    gpu.add_argument(
        "--observe",
        type=features_type,
        default=None,
        metavar="FEATURE[,FEATURE]",
        help="the networks' opt-in senses, as evolve --observe takes (e.g. jump,foresight,no-grid to time"
        " foresight on the GPU; default none, the grid alone)",
    )
    add_jump_rule_flag(gpu)
    gpu.set_defaults(run=_lazy("tilerunner.evolve.bench.cuda"), level=None)

    gen = bsub.add_parser(
        "generalize",
        help="train per seed on a time budget, pick on validation, report levels never seen",
        description="Evolve from several seeds on training levels only (each on a time budget), pick the"
        " champion that was best on validation levels, and report what it finishes on held-out"
        " public and generated levels nothing was picked on. Run folders are kept in --out: run"
        " the same command again to resume an interrupted bench or reuse finished seeds.",
    )
    gen.add_argument(
        "--public",
        metavar="DIR",
        help="a folder of public levels never trained on (e.g. the Mario AI Framework's levels/ folder, or a part"
        " of it), split per generator by level number: the first half picks the champion, the second half is"
        " reported (default: none; picking and reporting on generated levels only)",
    )
    train = gen.add_argument(
        "--level",
        action="append",
        metavar="SET",
        help="the training levels, as evolve --level takes (repeat for several; default: the"
        " train/ folder beside --public, else gen:*)",
    )
    add_old_name(gen, "--train", train)
    gen.add_argument("--seeds", type=_COUNT, default=3, metavar="N", help=_seeds_help(3))
    budget = gen.add_argument(
        "--time-limit",
        type=float_in(*_BENCH_MINUTES_RANGE),
        default=45.0,
        metavar="MINUTES",
        help=f"minutes of evolution per seed, {span(*_BENCH_MINUTES_RANGE)} (default 45)",
    )
    add_old_name(gen, "--minutes", budget)
    gen.add_argument(
        "--generations",
        type=_GENERATIONS,
        default=None,
        metavar="N",
        help=f"also stop each seed after N generations, {span(*GENERATIONS_RANGE)}, whichever comes first"
        " (default: the time limit alone); on a shared machine a generation budget compares variants alike",
    )
    gen.add_argument(
        "--pop", type=_POP, default=300, metavar="N", help=f"population size, {span(*_POP_RANGE)} (default 300)"
    )
    gen.add_argument(
        "--levels-per-gen",
        type=int_in(*LEVELS_PER_GEN_RANGE),
        default=20,
        metavar="K",
        help=f"levels each generation plays, drawn from the training set, {span(*LEVELS_PER_GEN_RANGE)} (default 20)",
    )
    gen.add_argument(
        "--validate-every",
        type=int_in(*CHECKPOINT_EVERY_RANGE),
        default=10,
        metavar="N",
        help=f"generations between checks on the picking levels, {span(*CHECKPOINT_EVERY_RANGE)} (default 10)",
    )
    gen.add_argument("--observe", type=features_type, metavar="FEATURE[,FEATURE]", help=OBSERVE_HELP)
    gen.add_argument(
        "--curriculum",
        type=float_in(*CURRICULUM_RANGE),
        metavar="SHARE",
        help=f"train in stages, as evolve --curriculum; {span(*CURRICULUM_RANGE)}",
    )
    gen.add_argument("--config", metavar="FILE", help="neat-python config (default: the shipped default.ini)")
    gen.add_argument(
        "--workers",
        type=int_in(*WORKERS_RANGE),
        metavar="N",
        help=f"threads for evaluation, {span(*WORKERS_RANGE)} (default: all cores)",
    )
    add_jump_rule_flag(gen, default_text=f"{DEFAULT_JUMP_RULE}; the runs evolve, and the baselines play, under it")
    gen.add_argument(
        "--seed-rules",
        type=float_in(*SEED_SHARE_RANGE),
        nargs="?",
        const=DEFAULT_SEED_SHARE,
        metavar="SHARE",
        help="seed SHARE of each run's first population from the hand-written rules,"
        f" as evolve --seed-rules (default {DEFAULT_SEED_SHARE}); needs"
        f" --observe jump,probes; {span(*SEED_SHARE_RANGE)}",
    )
    gen.add_argument(
        "--recheck",
        type=int_in(*RECHECK_RANGE),
        metavar="N",
        help="the best tenth of each generation also plays N more training levels, as evolve --recheck;"
        f" {span(*RECHECK_RANGE)}",
    )
    gen.add_argument(
        "--relative-to",
        choices=RELATIVE_TO,
        default="none",
        help="fitness of each level against hold-right's, as evolve --relative-to (default none)",
    )
    gen.add_argument(
        "--solve",
        action="store_true",
        help="also run the solver on the reported levels, give shares of the solvable ones, and"
        " the planner's line beside the baselines'",
    )
    gen.add_argument(
        "--out",
        metavar="DIR",
        default="runs/bench-generalize",
        help="where the seeds' run folders are kept (default runs/bench-generalize)",
    )
    gen.add_argument("--json", metavar="PATH", help="also write the report as JSON")
    gen.set_defaults(run=_lazy("tilerunner.evolve.bench.generalize"))


def _inputs(args: argparse.Namespace) -> list[str]:
    """The files a benchmark reads: its levels (--level, one or several), --config, the --public folder."""
    levels = getattr(args, "level", None)
    files = level_files([levels] if isinstance(levels, str) else levels)
    return files + [path for path in (getattr(args, "config", None), getattr(args, "public", None)) if path]


def _lazy(module: str) -> Callable[[argparse.Namespace], int]:
    # Benchmarks import Numba kernels; load them only when that benchmark runs.
    def run(args: argparse.Namespace) -> int:
        from tilerunner.evolve.bench.errors import BenchError

        if getattr(args, "json", None):  # an output path that cannot be written fails before the work
            check_output_file(args.json, "--json")
            check_not_an_input(args.json, "--json", _inputs(args))
        try:
            return importlib.import_module(module).run(args)
        except BenchError as exc:
            raise UserError(str(exc)) from None

    return run
