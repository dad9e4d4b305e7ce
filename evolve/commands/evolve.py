"""`tilerunner evolve`: NEAT learns to play, generation by generation, into a run folder you can resume."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from pathlib import Path

from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.commands.flags import (
    ACTORS_RANGE,
    CHECKPOINT_EVERY_RANGE,
    CURRICULUM_RANGE,
    DEFAULT_SEED_SHARE,
    GENERATIONS_RANGE,
    LEVELS_PER_GEN_RANGE,
    MINUTES_RANGE,
    SEED_RANGE,
    SEED_SHARE_RANGE,
    WORKERS_RANGE,
    check_output_folder,
    features_type,
    float_in,
    int_in,
    setting_type,
    span,
)
from tilerunner.evolve.core.backend import BACKENDS
from tilerunner.evolve.runs.run_options import CHECKPOINT_EVERY, DEFAULT_GENERATIONS, RunOptions, fixed_options

DEFAULT_CURRICULUM = 0.8
BACKEND_FAILED = 1  # the backend could not go on (every Ray actor gone): checkpointed, resume to go on
VALIDATE_EVERY = 10  # the library's default too (Run.create)
INTERRUPTED = 130
TERMINATED = 143  # 128 + SIGTERM's 15, as a shell reports a process SIGTERM ended

# Settings that shape the run; they come from the run folder when resuming and cannot change.
# Their ranges are EpisodeSettings.LIMITS (tilerunner.evolve.core.fitness), shown in --help.
_SETTINGS_FLAGS = {
    "frame_skip": "frames per decision (default 5, as MarI/O)",
    "view_radius": "tiles seen on each side of the player (default 6: 13x13)",
    "max_frames": "episode frame limit, 0 for none (default 6000)",
    "stall_frames": "end an episode after this many frames without progress (default 120)",
    "threshold": "an output above this presses its button (default 0.5)",
    "time_penalty": "fitness lost per frame (default 0.5, as MarI/O)",
    "finish_bonus": "fitness for reaching the exit (default 1000, as MarI/O)",
    "death_penalty": "fitness lost by dying (default 0)",
    "coin_bonus": "fitness per coin (default 0)",
    "kill_bonus": "fitness per stomped enemy (default 0)",
    "jump_penalty": "fitness lost per jump (default 0): makes jumping a choice rather than a habit",
    "novelty": "fitness per unit of behavioural novelty: how unlike its generation a genome played (default 0, off)",
}
# Every flag is one or the other when resuming (a test holds the two lists to the parser): a flag that shapes
# the run comes from its folder and is refused, so that none is ever silently ignored. The run options say which
# (`fixed_options`): each has a flag of its own name, except the episode settings, given by the flags below, and a
# custom fitness, which no flag gives ...
_FIXED_WHEN_RESUMING = [
    "level",
    *(name for name in fixed_options() if name not in ("settings", "fitness")),
    *("aggregate", "observe", "jump_rule", "relative_to", *_SETTINGS_FLAGS),  # the episode settings' flags
]
# ... and these are applied: to the run from here on (kept in args.json where the run keeps them), or to this call.
_APPLIED_WHEN_RESUMING = [
    "generations",
    "workers",
    "backend",
    "address",
    "actors",
    "keep_going",
    "checkpoint_every",
    "validate_every",
    "replays",
    "time_limit",
    "tensorboard",
    "quiet",
    "watch",
]


def _setting_metavar(name: str) -> str:
    """What an episode setting's flag takes: frames or tiles (N), an output level (X), or fitness."""
    from tilerunner.evolve.core.fitness import EpisodeSettings

    return "N" if name in EpisodeSettings.WHOLE else "X" if name == "threshold" else "FITNESS"


def register(sub: argparse._SubParsersAction) -> None:
    """Add `evolve` to the top-level parser."""
    from tilerunner.evolve.commands.flags import DEFAULT_JUMP_RULE, OBSERVE_HELP, add_jump_rule_flag
    from tilerunner.evolve.core.fitness import AGGREGATES, RELATIVE_TO, EpisodeSettings
    from tilerunner.evolve.core.level_plan import RECHECK_RANGE
    from tilerunner.evolve.core.neat_config import POP_SIZE_RANGE

    p = sub.add_parser(
        "evolve",
        help="evolve agents (the main job)",
        description="Evolve NEAT agents on one or more levels until a champion finishes them all"
        " (or the generation limit). With no flags: built-in level 1-1, seed 0.",
    )
    p.add_argument(
        "--level",
        action="append",
        metavar="SET",
        help="levels to play: an id, a file, a folder of level files, a quoted glob, gen:A-B[:DIFFICULTY]"
        " ranges, or gen:* / gen:*:DIFFICULTY for fresh generated levels every generation"
        " (repeat for several; default 1-1)",
    )
    p.add_argument(
        "--generations",
        type=int_in(*GENERATIONS_RANGE),
        metavar="N",
        help=f"generation limit, {span(*GENERATIONS_RANGE)} (default {DEFAULT_GENERATIONS})",
    )
    p.add_argument(
        "--pop",
        type=int_in(*POP_SIZE_RANGE),
        metavar="N",
        help=f"population size, {span(*POP_SIZE_RANGE)} (default: the config's, 300)",
    )
    p.add_argument(
        "--seed",
        type=int_in(*SEED_RANGE),
        metavar="N",
        help=f"random seed, {span(*SEED_RANGE)}; the same seed gives the same run (default 0)",
    )
    p.add_argument(
        "--workers",
        type=int_in(*WORKERS_RANGE),
        metavar="N",
        help=f"threads for evaluation on this machine, {span(*WORKERS_RANGE)} (default: all cores)",
    )
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        help="where generations are played: local threads (default); ray, Ray actors on a local Ray or"
        " the cluster at --address (needs pip install 'tilerunner[ray]'); or cuda, one kernel on an"
        " NVIDIA GPU (needs pip install 'tilerunner[cuda]'); the same run on each",
    )
    p.add_argument(
        "--address",
        metavar="ADDR",
        help="with --backend ray: the cluster to join, auto (the one ray start made on this machine) or"
        " HOST:PORT (default: start a local Ray on 127.0.0.1 for the run)",
    )
    p.add_argument(
        "--actors",
        type=int_in(*ACTORS_RANGE),
        metavar="N",
        help=f"with --backend ray: how many actors, {span(*ACTORS_RANGE)}, the cluster's CPUs shared out"
        " evenly (default: one per node, with all its CPUs)",
    )
    p.add_argument("--config", metavar="FILE", help="neat-python config (default: the shipped default.ini)")
    p.add_argument("--memory", action="store_true", help="let add-node mutations make LSTM memory cells")
    p.add_argument(
        "--batch-breeding",
        action="store_true",
        help="breed each generation at once in Numba: faster at large populations, by neat-python's"
        " rules but not draw for draw (breeding = batch; see the batch breeding benchmark in the docs)",
    )
    p.add_argument("--out", metavar="DIR", help="run folder (default runs/<level>-<date>-s<seed>)")
    p.add_argument(
        "--resume",
        metavar="DIR",
        help="continue the run in DIR from its latest checkpoint; flags that shape the run (--level,"
        " --pop, --seed, the episode settings ...) are refused, those of how long, where and how"
        " often it runs apply",
    )
    p.add_argument(
        "--keep-going",
        action="store_true",
        help="keep evolving after a champion finishes every level (until --generations)",
    )
    p.add_argument("--aggregate", choices=AGGREGATES, help="combine fitness over levels (default mean)")
    p.add_argument(
        "--relative-to",
        choices=RELATIVE_TO,
        help="measure each level's fitness against the built-in hold-right controller's on it, from"
        " -1000 (nothing where it finished) to +1000 (finished where it got nowhere), so that easy"
        " levels do not drown hard ones (default none)",
    )
    for name, about in _SETTINGS_FLAGS.items():
        lo, hi = EpisodeSettings.LIMITS[name]
        p.add_argument(
            "--" + name.replace("_", "-"),
            type=setting_type(name),
            metavar=_setting_metavar(name),
            help=f"{about}; {span(lo, hi)}",
        )
    p.add_argument("--observe", type=features_type, metavar="FEATURE[,FEATURE]", help=OBSERVE_HELP)
    add_jump_rule_flag(p, default=None, default_text=f"{DEFAULT_JUMP_RULE}; a resumed run keeps its own")
    p.add_argument(
        "--checkpoint-every",
        type=int_in(*CHECKPOINT_EVERY_RANGE),
        metavar="N",
        help=f"generations between checkpoints, {span(*CHECKPOINT_EVERY_RANGE)} (default"
        f" {CHECKPOINT_EVERY}; a resumed run keeps its own)",
    )
    p.add_argument(
        "--replays",
        metavar="DIR",
        help="also copy each champion that first finishes a level into DIR (they are always kept in"
        " the run folder's first-finishes/); with --resume, give it again: a path outside the run folder"
        " is taken only from the command line, never from args.json",
    )
    p.add_argument(
        "--levels-per-gen",
        type=int_in(*LEVELS_PER_GEN_RANGE),
        metavar="K",
        help="each generation, every genome plays the same K levels drawn from the set (from the seed"
        f" and the generation number), rather than all of them; {span(*LEVELS_PER_GEN_RANGE)}",
    )
    p.add_argument(
        "--seed-rules",
        type=float_in(*SEED_SHARE_RANGE),
        nargs="?",
        const=DEFAULT_SEED_SHARE,
        metavar="SHARE",
        help="start SHARE of the first population (default"
        f" {DEFAULT_SEED_SHARE}) as a hand-written reactive controller, timed jumps at gaps, walls and"
        f" enemies, and mutated copies of it; needs --observe jump,probes; {span(*SEED_SHARE_RANGE)}",
    )
    p.add_argument(
        "--recheck",
        type=int_in(*RECHECK_RANGE),
        metavar="N",
        help="the best tenth of each generation also plays N more training levels before its fitness is"
        " kept, so that a lucky draw does not make a champion; needs --levels-per-gen or gen:*; at most the"
        " levels a draw leaves (the set's size minus --levels-per-gen; more is refused, and a --curriculum"
        f" stage rechecks on the fewer it has left); {span(*RECHECK_RANGE)}",
    )
    p.add_argument(
        "--curriculum",
        type=float_in(*CURRICULUM_RANGE),
        nargs="?",
        const=DEFAULT_CURRICULUM,
        metavar="SHARE",
        help="play the set in stages, up a stage when the champion finishes SHARE of its levels"
        f" (default {DEFAULT_CURRICULUM}): gen:* difficulties lowest first, or a list of levels in the"
        f" order given, K more levels (--levels-per-gen) a stage; {span(*CURRICULUM_RANGE)}",
    )
    p.add_argument(
        "--time-limit",
        type=float_in(*MINUTES_RANGE),
        metavar="MINUTES",
        help="stop at the end of the first generation after this many minutes, with a checkpoint"
        f" (resume to go on); {span(*MINUTES_RANGE)}",
    )
    p.add_argument(
        "--validate",
        action="append",
        metavar="SET",
        help="held-out levels (a set, as --level takes): every --validate-every generations the best"
        " genome of each species plays them; the best is kept as champions/best-validation.json",
    )
    p.add_argument(
        "--validate-every",
        type=int_in(*CHECKPOINT_EVERY_RANGE),
        metavar="N",
        help=f"generations between validations, {span(*CHECKPOINT_EVERY_RANGE)} (default"
        f" {VALIDATE_EVERY}; and the generation whose champion finishes every level); may change when"
        " resuming",
    )
    p.add_argument(
        "--tensorboard",
        action="store_true",
        help="log fitness, species and finishers per generation for TensorBoard, in RUN/tensorboard/"
        " (needs the extra: pip install 'tilerunner[tensorboard]')",
    )
    p.add_argument("--quiet", action="store_true", help="only the summary")
    p.add_argument(
        "--watch",
        action="store_true",
        help="open the viewer: the newest champion plays at game speed while evolution runs on",
    )
    p.set_defaults(run=run)


def check_flags(args: argparse.Namespace) -> None:
    """Refuse flags that cannot work before anything is created: a --replays folder that cannot be written."""
    if args.replays is not None:
        check_output_folder(args.replays, "--replays")


def run(args: argparse.Namespace) -> int:
    from tilerunner.evolve.commands.evolve_output import GenerationPrinter
    from tilerunner.evolve.core.backend import BackendError
    from tilerunner.evolve.core.evolution import EvolutionError
    from tilerunner.evolve.core.option_error import OptionError
    from tilerunner.evolve.core.rollout import use_threads

    check_flags(args)
    use_threads(args.workers)
    tensorboard = _tensorboard_reporter() if args.tensorboard else None  # a missing extra fails before anything
    backend = _backend(args)
    try:
        run_ = _resume(args, backend) if args.resume else _create(args, backend)
    except OptionError as exc:  # options that do not fit together, named as flags
        raise UserError(exc.spelled(_flag)) from None
    except ValueError as exc:  # a bad level, config or folder, or settings that do not fit together
        raise UserError(str(exc)) from None
    if run_.at_limit:
        more = min(run_.generation + 100, GENERATIONS_RANGE[1])
        print(
            f"{run_.folder.path} is at generation {run_.generation}, its limit of {run_.generations};"
            + (
                f" add --generations {more} (say) to go on"
                if more > run_.generation
                else f" {GENERATIONS_RANGE[1]:,} generations is the most a run may have"
            )
        )
        return 0
    if tensorboard is not None:
        run_.add_reporter(tensorboard(run_.folder.tensorboard_logdir(), purge_step=run_.generation))
    printer = GenerationPrinter(quiet=args.quiet)
    run_.add_reporter(printer)
    if not args.quiet:
        say_if_compiling()
    viewer = start_viewer(run_.folder.path) if args.watch else None
    interrupted = True  # unless the run returns
    try:
        try:
            result = run_.run(handle_sigint=True)
        except EvolutionError as exc:
            raise UserError(
                f"{exc}; the run folder keeps its last checkpoint, but this neat config cannot go"
                " on: start a new run with another"
            ) from None
        except BackendError as exc:
            print(
                f"tilerunner: error: {exc}; the run is checkpointed at generation {run_.generation}: go on with"
                f" tilerunner evolve --resume {run_.folder.path} (on any backend)",
                file=sys.stderr,
                flush=True,
            )
            return BACKEND_FAILED
        interrupted = result.interrupted
    finally:
        if viewer is not None:
            _end_viewer(viewer, interrupted=interrupted)
    if printer.stdout_closed:  # `| head`: the run stopped at a checkpoint when its reader went; a quiet exit
        return 0
    if not interrupted:
        return 0
    return TERMINATED if result.stop_signal == signal.SIGTERM else INTERRUPTED


def _backend(args: argparse.Namespace):
    """The backend the flags ask for; a missing Ray or GPU or flags that do not fit are one line and exit 2.

    All of it is checked here, before any run folder is made: an --address that is no Ray cluster (it is
    joined now), more --actors than the CPUs of the cluster or, for a local Ray, of this machine.
    """
    from tilerunner.evolve.core.backend import BackendError, MissingRayError, make_backend
    from tilerunner.evolve.core.cuda_backend import MissingCudaError

    try:
        backend = make_backend(args.backend or "local", args.address, args.actors)
        if args.backend == "ray":
            backend.check()
    except (MissingRayError, MissingCudaError, BackendError, ValueError) as exc:
        raise UserError(str(exc)) from None
    return backend


def _create(args: argparse.Namespace, backend):
    from tilerunner.evolve.commands.flags import DEFAULT_JUMP_RULE
    from tilerunner.evolve.core.fitness import EpisodeSettings
    from tilerunner.evolve.runs.run import Run
    from tilerunner.evolve.runs.run_folder import default_name, unique_path

    level_ids = args.level or ["1-1"]
    seed = 0 if args.seed is None else args.seed
    names = [*_SETTINGS_FLAGS, "aggregate", "relative_to"]
    settings = EpisodeSettings(
        **{n: getattr(args, n) for n in names if getattr(args, n) is not None},
        features=args.observe or (),
        jump_rule=args.jump_rule or DEFAULT_JUMP_RULE,
    )
    out = Path(args.out) if args.out else unique_path(Path("runs"), default_name(level_ids, seed))
    options = RunOptions(
        config=args.config,
        settings=settings,
        seed=seed,
        pop=args.pop,
        memory=args.memory,
        batch_breeding=args.batch_breeding,
        generations=args.generations or DEFAULT_GENERATIONS,
        keep_going=args.keep_going,
        out=out,
        checkpoint_every=args.checkpoint_every or CHECKPOINT_EVERY,
        replays_dir=args.replays,
        validate=args.validate or (),
        validate_every=args.validate_every or VALIDATE_EVERY,
        levels_per_gen=args.levels_per_gen,
        curriculum=args.curriculum,
        seed_rules=args.seed_rules,
        recheck=args.recheck,
        time_limit=args.time_limit,
        backend=backend,
    )
    return Run.create(level_ids, options)


def _resume(args: argparse.Namespace, backend):
    from tilerunner.evolve.runs.run import Run

    fixed = [_flag(n) for n in _FIXED_WHEN_RESUMING if _given(getattr(args, n))]
    if fixed:
        applied = [_flag(n) for n in _APPLIED_WHEN_RESUMING]
        raise UserError(
            f"{fixed[0]} cannot be changed when resuming (the run keeps its settings);"
            f" only {', '.join(applied[:-1])} and {applied[-1]} can"
        )
    run_ = Run.resume(
        args.resume,
        generations=args.generations,
        keep_going=args.keep_going,
        replays_dir=args.replays,
        checkpoint_every=args.checkpoint_every,
        time_limit=args.time_limit,
        backend=backend,
        validate_every=args.validate_every,
    )
    if run_.unused_replays is not None:
        _say_replays_are_off(run_.unused_replays)
    return run_


def _say_replays_are_off(named: str) -> None:
    """Say in one line that first finishes are not copied to the --replays folder args.json names, this call:
    a path outside the run folder comes only from the command line (the folder may come from elsewhere)."""
    from tilerunner.evolve.runs.json_fields import printable

    print(
        f"note: first finishes are not copied to {printable(named)} this time (args.json names it, but paths"
        " outside the run folder come only from the command line): add --replays DIR to copy them",
        file=sys.stderr,
        flush=True,
    )


def _flag(dest: str) -> str:
    """The command-line spelling of argparse destination `dest`: `--levels-per-gen`."""
    return "--" + dest.replace("_", "-")


def _given(value: object) -> bool:
    """Whether a flag was given: not None, and not an unset switch (0 and 0.0 are given values, not absent)."""
    return value is not None and value is not False


def _tensorboard_reporter():
    """The TensorBoard reporter class, or one line naming the extra to install."""
    from tilerunner.evolve.runs.tensorboard import MissingExtraError, TensorBoardReporter

    try:
        TensorBoardReporter.check_available()
    except MissingExtraError as exc:
        raise UserError(str(exc)) from None
    return TensorBoardReporter


def start_viewer(run_dir: Path) -> subprocess.Popen:
    """`tilerunner watch RUN_DIR` in its own process, so that drawing never holds up evolution.

    It runs in its own session, so Ctrl-C reaches only this process, which then closes it; it is told
    this process's id, so that it also closes if this process is killed.
    """
    import os

    return subprocess.Popen(
        [sys.executable, "-m", "tilerunner", "watch", str(run_dir), "--quiet", "--parent-pid", str(os.getpid())],
        start_new_session=True,
    )


def _end_viewer(viewer: subprocess.Popen, interrupted: bool) -> None:
    """At the end of a run: in a terminal, the viewer stays until its window is closed; otherwise close it."""
    if viewer.poll() is None and not interrupted and sys.stdin.isatty():
        print("evolution is over; the viewer plays on until you close its window (or press Esc)", flush=True)
        try:
            viewer.wait()
            return
        except KeyboardInterrupt:
            pass
    if viewer.poll() is None:
        viewer.terminate()  # SIGTERM: the viewer closes its window and says what it showed
    try:
        viewer.wait(timeout=10)
    except subprocess.TimeoutExpired:
        viewer.kill()
        viewer.wait()


def say_if_compiling() -> None:
    """Say on stderr, before the wait, that the Numba kernels are compiled first (once: then they are cached)."""
    if not _kernels_cached():
        print(
            "first run: compiling the Numba kernels (about 20 s, once; later runs start at once)",
            file=sys.stderr,
            flush=True,
        )


def _kernels_cached() -> bool:
    """Whether the rollout kernel is in Numba's on-disk cache (True when unsure: no false alarms)."""
    from tilerunner.evolve.core.rollout import play_networks

    try:
        return Path(play_networks._cache._cache_file._index_path).exists()
    except AttributeError:  # Numba's private layout changed; say nothing
        return True
