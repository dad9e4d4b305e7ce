"""`tilerunner evolve`: NEAT learns to play, generation by generation, into a run folder you can resume."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.commands.evolve_output import GenerationPrinter
from tilerunner.evolve.commands.flags import ACTORS_RANGE, check_output_folder
from tilerunner.evolve.commands.option_flags import (
    EPISODE_FLAGS,
    add_episode_flags,
    add_option_flags,
    episode_settings,
    flag_of,
    given_options,
    groups,
)
from tilerunner.evolve.core.backend import BackendError, MissingRayError, make_backend
from tilerunner.evolve.core.cuda_backend import MissingCudaError
from tilerunner.evolve.core.evolution import EvolutionError
from tilerunner.evolve.core.option_error import OptionError
from tilerunner.evolve.core.rollout import play_networks, use_threads
from tilerunner.evolve.flags.types import int_in, span
from tilerunner.evolve.runs.json_fields import printable
from tilerunner.evolve.runs.run import Run
from tilerunner.evolve.runs.run_folder import default_name, unique_path
from tilerunner.evolve.runs.run_options import (
    GENERATIONS_RANGE,
    WORKERS_RANGE,
    RunOptions,
    applied_on_resume,
    option_fields,
)
from tilerunner.evolve.runs.tensorboard import MissingExtraError, TensorBoardReporter

BACKEND_FAILED = 1  # the backend could not go on (every Ray actor gone): checkpointed, resume to go on
INTERRUPTED = 130
TERMINATED = 143  # 128 + SIGTERM's 15, as a shell reports a process SIGTERM ended

# The run options given by flags of their own (a custom fitness comes only from Python, the episode settings by
# their flags, the backend is made from --backend and the flags beside it).
_OPTIONS = [n for n, about in option_fields().items() if about.flag is not None]


def declare(p: argparse.ArgumentParser) -> None:
    """`tilerunner evolve`'s flags: one for each run option and episode setting, in --help's groups."""
    p.description = (
        "Evolve NEAT agents on one or more levels until a champion finishes them all"
        " (or the generation limit). With no flags: built-in level 1-1, seed 0. With --resume, the flags"
        " of how long, where and how often it runs apply; those that shape the run are refused."
    )
    where = groups(p)
    where["levels"].add_argument(
        "--level",
        action="append",
        metavar="SET",
        help="levels to play: an id, a file, a folder, a quoted glob, gen:A-B[:DIFFICULTY], or"
        " gen:*[:DIFFICULTY] for fresh levels each generation (repeat for several; default 1-1)",
    )
    add_option_flags(where, _OPTIONS)
    add_episode_flags(where, list(EPISODE_FLAGS), jump_rule_text="hold")
    where["output"].add_argument(
        "--resume",
        metavar="DIR",
        help="continue the run in DIR from its latest checkpoint; only flags of how long, where and how often"
        " it runs may be given",
    )
    where["output"].add_argument(
        "--tensorboard",
        action="store_true",
        help="log each generation for TensorBoard in RUN/tensorboard/ (pip install 'tilerunner[tensorboard]')",
    )
    where["output"].add_argument("--quiet", action="store_true", help="only the summary")
    where["output"].add_argument(
        "--watch",
        action="store_true",
        help="open the viewer: the newest champion plays at game speed while evolution runs on",
    )
    where["backend"].add_argument(
        "--workers",
        type=int_in(*WORKERS_RANGE),
        metavar="N",
        help=f"threads for evaluation on this machine; {span(*WORKERS_RANGE)} (default all cores)",
    )
    where["backend"].add_argument(
        "--address",
        metavar="ADDR",
        help="with --backend ray: the cluster to join, auto or HOST:PORT (default a local Ray, started for the run)",
    )
    where["backend"].add_argument(
        "--actors",
        type=int_in(*ACTORS_RANGE),
        metavar="N",
        help=f"with --backend ray: how many actors, the cluster's CPUs shared out evenly; {span(*ACTORS_RANGE)}"
        " (default one per node, with all its CPUs)",
    )
    refused = refused_when_resuming()
    applied = [
        a.option_strings[0] for a in p._actions if a.option_strings and a.dest not in (*refused, "help", "resume")
    ]
    p.set_defaults(run=run, applied_when_resuming=applied)


def refused_when_resuming() -> list[str]:
    """The destinations of the flags `--resume` refuses: those that shape the run, fixed for its life (its levels,
    its fixed options, its episode settings); every other flag applies to the resumed run or to this call."""
    fixed = [n for n in _OPTIONS if option_fields()[n].fixed]
    return ["level", *fixed, *(("observe" if n == "features" else n) for n in EPISODE_FLAGS)]


def run(args: argparse.Namespace) -> int:
    if args.replays_dir is not None:  # a folder that cannot be written is refused before anything is created
        check_output_folder(args.replays_dir, "--replays")
    use_threads(args.workers)
    tensorboard = _tensorboard_reporter() if args.tensorboard else None  # a missing extra fails before anything
    backend = _backend(args)
    try:
        with _ctrl_c_held():
            run_ = _resume(args, backend) if args.resume else _create(args, backend)
    except OptionError as exc:  # options that do not fit together, named as flags
        raise UserError(exc.as_flags()) from None
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


@contextlib.contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Hold a Ctrl-C until the run is made, then end the command with it (KeyboardInterrupt).

    On a first run Numba compiles the speciation kernels while the run is made (seconds), and a KeyboardInterrupt
    raised inside llvmlite's callbacks then is lost (the run went on) or crashes the process. Once made, the run
    handles Ctrl-C itself (`Run.run`)."""
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return
    asked = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda signum, frame: asked.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if asked.is_set():
        raise KeyboardInterrupt


def _backend(args: argparse.Namespace):
    """The backend the flags ask for; a missing Ray or GPU or flags that do not fit are one line and exit 2.

    All of it is checked here, before any run folder is made: an --address that is no Ray cluster (it is
    joined now), more --actors than the CPUs of the cluster or, for a local Ray, of this machine.
    """
    try:
        backend = make_backend(args.backend or "local", args.address, args.actors)
        if args.backend == "ray":
            backend.check()
    except OptionError as exc:  # an --address that cannot be used, or Ray's flags without --backend ray
        raise UserError(exc.as_flags()) from None
    except (MissingRayError, MissingCudaError, BackendError, ValueError) as exc:
        raise UserError(str(exc)) from None
    return backend


def _create(args: argparse.Namespace, backend):
    level_ids = args.level or ["1-1"]
    given = {n: v for n, v in given_options(args, _OPTIONS).items() if n != "backend"}  # the flag's name -> object
    options = RunOptions(**given, settings=episode_settings(args), backend=backend)
    out = options.out or unique_path(Path("runs"), default_name(level_ids, options.seed))
    return Run.create(level_ids, options.but(out=out))


def _resume(args: argparse.Namespace, backend):
    refused = [flag_of(n) for n in given_options(args, refused_when_resuming())]
    if refused:
        applied = args.applied_when_resuming
        raise UserError(
            f"{refused[0]} cannot be changed when resuming (the run keeps its settings);"
            f" only {', '.join(applied[:-1])} and {applied[-1]} can"
        )
    run_ = Run.resume(
        args.resume,
        **{n: v for n, v in given_options(args, applied_on_resume()).items() if n != "backend"},
        backend=backend,
    )
    if run_.unused_replays is not None:
        _say_replays_are_off(run_.unused_replays)
    return run_


def _say_replays_are_off(named: str) -> None:
    """Say in one line that first finishes are not copied to the --replays folder args.json names, this call:
    a path outside the run folder comes only from the command line (the folder may come from elsewhere)."""
    print(
        f"note: first finishes are not copied to {printable(named)} this time (args.json names it, but paths"
        " outside the run folder come only from the command line): add --replays DIR to copy them",
        file=sys.stderr,
        flush=True,
    )


def _tensorboard_reporter():
    """The TensorBoard reporter class, or one line naming the extra to install."""
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
    try:
        return Path(play_networks._cache._cache_file._index_path).exists()
    except AttributeError:  # Numba's private layout changed; say nothing
        return True
