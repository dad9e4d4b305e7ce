"""`tilerunner evolve`: NEAT learns to play, generation by generation, into a run folder you can resume."""

from __future__ import annotations

import argparse
import re
import signal
import sys
import time
from pathlib import Path

from envs.level import LevelError, load_level, parse_level
from evolve.args import positive_int
from evolve.fitness import AGGREGATES, FitnessSettings

DEFAULT_GENERATIONS = 300
CHECKPOINT_EVERY = 10
INTERRUPTED = 130

# Settings that shape the run; they come from the run folder when resuming and cannot change.
_FITNESS_FLAGS = {
    "frame_skip": (positive_int, "frames per decision (default 5, as MarI/O)"),
    "view_radius": (int, "tiles seen on each side of the player (default 6: 13x13)"),
    "max_frames": (int, "episode frame limit, 0 for none (default 6000)"),
    "stall_frames": (int, "end an episode after this many frames without progress (default 120)"),
    "threshold": (float, "an output above this presses its button (default 0.5)"),
    "time_penalty": (float, "fitness lost per frame (default 0.5, as MarI/O)"),
    "finish_bonus": (float, "fitness for reaching the exit (default 1000, as MarI/O)"),
    "death_penalty": (float, "fitness lost by dying (default 0)"),
    "coin_bonus": (float, "fitness per coin (default 0)"),
    "kill_bonus": (float, "fitness per stomped enemy (default 0)"),
}


def register(sub: argparse._SubParsersAction) -> None:
    """Add `evolve` to the top-level parser."""
    p = sub.add_parser(
        "evolve", help="evolve agents (the main job)",
        description="Evolve NEAT agents on one or more levels until a champion finishes them all"
                    " (or the generation limit). With no flags: built-in level 1-1, seed 0.")
    p.add_argument("--level", action="append", metavar="ID", help="level to play (repeat for several; default 1-1)")
    p.add_argument("--generations", type=positive_int, help=f"generation limit (default {DEFAULT_GENERATIONS})")
    p.add_argument("--pop", type=positive_int, help="population size (default: the config's, 300)")
    p.add_argument("--seed", type=int, help="random seed; the same seed gives the same run (default 0)")
    p.add_argument("--workers", type=positive_int, help="threads for evaluation (default: all cores)")
    p.add_argument("--config", metavar="FILE", help="neat-python config (default: evolve/configs/default.ini)")
    p.add_argument("--memory", action="store_true", help="let add-node mutations make LSTM memory cells")
    p.add_argument("--out", metavar="DIR", help="run folder (default runs/<level>-<date>-s<seed>)")
    p.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its latest checkpoint")
    p.add_argument("--keep-going", action="store_true",
                   help="keep evolving after a champion finishes every level (until --generations)")
    p.add_argument("--aggregate", choices=AGGREGATES, help="combine fitness over levels (default mean)")
    for name, (kind, about) in _FITNESS_FLAGS.items():
        p.add_argument("--" + name.replace("_", "-"), type=kind, help=about)
    p.add_argument("--checkpoint-every", type=positive_int, default=CHECKPOINT_EVERY,
                   help=f"generations between checkpoints (default {CHECKPOINT_EVERY})")
    p.add_argument("--replays", metavar="DIR", default="replays",
                   help="where a champion that first finishes a level is copied (default replays/)")
    p.add_argument("--quiet", action="store_true", help="only the summary")
    p.add_argument("--watch", action="store_true",
                   help="open the viewer: the newest champion plays at game speed while evolution runs on")
    p.set_defaults(run=run)


def _fitness_from_args(args: argparse.Namespace) -> FitnessSettings:
    names = list(_FITNESS_FLAGS) + ["aggregate"]
    return FitnessSettings(**{n: getattr(args, n) for n in names if getattr(args, n) is not None})


def run(args: argparse.Namespace) -> int:
    from evolve.cli import UserError
    from evolve.neat_config import ConfigError, load_config_and_text
    from evolve.run import Evolution
    from evolve.run_folder import RunFolder, RunFolderError, default_name, unique_path

    if args.workers:
        import numba

        numba.set_num_threads(min(args.workers, numba.config.NUMBA_NUM_THREADS))
    try:
        if args.resume:
            fixed = [f"--{n.replace('_', '-')}" for n in ["level", "pop", "seed", "config", "out", "aggregate",
                                                           *_FITNESS_FLAGS]
                     if getattr(args, n) not in (None, False)] + (["--memory"] if args.memory else [])
            if fixed:
                raise UserError(f"{fixed[0]} cannot be changed when resuming (the run keeps its settings);"
                                " only --generations, --workers and --keep-going can")
            folder = RunFolder(args.resume)
            state = folder.latest_checkpoint()
            saved = folder.read_args()
            levels = [parse_level(text, source=f"{args.resume} ({lid})", level_id=lid)
                      for lid, text in state["level_texts"]]
            evolution = Evolution.restore(state, levels)
            generations = args.generations or saved["generations"]
            # A run that stopped because its champion finished goes on improving when resumed.
            keep_going = (args.keep_going or saved["keep_going"]
                          or len(evolution.first_finish) == len(evolution.levels))
            if evolution.generation >= generations:
                print(f"{folder.path} is at generation {evolution.generation}, its limit of {generations};"
                      f" add --generations {evolution.generation + 100} (say) to go on")
                return 0
            stats = state["stats"]
            timing = state["timing"]
            folder.drop_champions_from(evolution.generation)
            copied = state["copied"]
            saved.update(generations=generations, keep_going=keep_going)
            folder.write_args(saved)
            print(f"resuming {folder.path} at generation {evolution.generation}")
        else:
            level_ids = args.level or ["1-1"]
            levels = [load_level(i) for i in level_ids]
            seed = 0 if args.seed is None else args.seed
            fitness = _fitness_from_args(args)
            neat_overrides = {"pop_size": args.pop} if args.pop else {}
            genome_overrides = {"memory_cells": True} if args.memory else {}
            config, text = load_config_and_text(args.config, neat_overrides=neat_overrides,
                                                genome_overrides=genome_overrides)
            evolution = Evolution(config, levels, fitness, seed)
            generations = args.generations or DEFAULT_GENERATIONS
            keep_going = args.keep_going
            out = Path(args.out) if args.out else unique_path(Path("runs"), default_name(level_ids, seed))
            folder = RunFolder(out)
            if (folder.path / "stats.jsonl").exists() or folder.checkpoints.exists():
                raise UserError(f"{out} already holds a run: continue it with --resume {out},"
                                " or choose another --out")
            saved = {
                "levels": [lv.id for lv in levels], "seed": seed, "generations": generations,
                "keep_going": keep_going, "memory": args.memory, "config": args.config,
                "pop_size": config.pop_size, "fitness": fitness.as_dict(),
            }
            folder.create(text, saved)
            stats, timing, copied = [], [], {}
    except LevelError:
        raise
    except (ConfigError, RunFolderError, ValueError) as exc:  # ValueError: settings that do not fit together
        raise UserError(str(exc)) from None

    if not args.quiet and not _kernels_cached():
        print("first run: compiling the Numba kernels (about 20 s, once; later runs start at once)",
              file=sys.stderr, flush=True)
    viewer = start_viewer(folder.path) if args.watch else None
    code = INTERRUPTED  # unless the loop returns
    try:
        code = _loop(evolution, folder, generations, keep_going, stats, timing, copied, args)
    finally:
        if viewer is not None:
            _end_viewer(viewer, interrupted=code != 0)
    return code


def start_viewer(run_dir: Path):
    """`tilerunner watch RUN_DIR` in its own process, so that drawing never holds up evolution.

    It runs in its own session, so Ctrl-C reaches only this process, which then closes it.
    """
    import subprocess

    return subprocess.Popen([sys.executable, "-m", "evolve", "watch", str(run_dir), "--quiet"], start_new_session=True)


def _end_viewer(viewer, interrupted: bool) -> None:
    """At the end of a run: in a terminal, the viewer stays until its window is closed; otherwise close it."""
    import subprocess

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


def _kernels_cached() -> bool:
    """Whether the rollout kernel is in Numba's on-disk cache (True when unsure: no false alarms)."""
    from evolve.rollout import evaluate_population

    try:
        return Path(evaluate_population._cache._cache_file._index_path).exists()
    except AttributeError:  # Numba's private layout changed; say nothing
        return True


def _loop(evolution, folder, generations: int, keep_going: bool, stats: list, timing: list, copied: dict,
          args: argparse.Namespace) -> int:
    from evolve import report

    stop = {"requested": False}

    def on_sigint(signum, frame):
        if stop["requested"]:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now
        stop["requested"] = True

    previous = signal.signal(signal.SIGINT, on_sigint)
    t_start = time.perf_counter()
    finished_at = None
    printer = report.GenerationPrinter(evolution, quiet=args.quiet)
    try:
        while True:
            if stop["requested"]:
                return _interrupted(evolution, folder, stats, timing, copied)
            t0 = time.perf_counter()
            with printer.progress() as progress:
                summary, _ = evolution.evaluate(progress=progress.update, chunks=progress.chunks)
            if stop["requested"]:  # this generation's results are dropped; it is evaluated again on resume
                return _interrupted(evolution, folder, stats, timing, copied)
            stats.append(summary.stats())
            if summary.new_best:
                evolution.champion_replay(summary.best_genome, str(folder.path)).save(
                    folder.champion_path(summary.generation))
            newly = _copy_first_finishes(evolution, summary, copied, Path(args.replays), str(folder.path))
            last = (summary.generation + 1 >= generations
                    or (evolution.champion_finished_all(summary) and not keep_going))
            if evolution.champion_finished_all(summary) and finished_at is None:
                finished_at = summary.generation
            t1 = time.perf_counter()
            evolution.reproduce()
            summary.reproduce_seconds = time.perf_counter() - t1
            summary.total_seconds = time.perf_counter() - t0
            timing.append(summary.timing())
            folder.write_lines("stats.jsonl", stats)
            folder.write_lines("timing.jsonl", timing)
            printer.line(summary)
            for level_id, path in newly:
                printer.say(f"  the champion finished {level_id} for the first time: copied to {path}")
            if last or evolution.generation % args.checkpoint_every == 0:
                _checkpoint(evolution, folder, stats, timing, copied)
            if last:
                break
    finally:
        signal.signal(signal.SIGINT, previous)
    printer.summary(folder, stats, finished_at, time.perf_counter() - t_start)
    return 0


def _checkpoint(evolution, folder, stats, timing, copied) -> None:
    blob = evolution.checkpoint({"stats": stats, "timing": timing, "copied": copied})
    folder.write_checkpoint(evolution.generation, blob)


def _interrupted(evolution, folder, stats, timing, copied) -> int:
    _checkpoint(evolution, folder, stats, timing, copied)
    folder.write_lines("stats.jsonl", stats)
    folder.write_lines("timing.jsonl", timing)
    print(f"\ninterrupted: checkpoint written at generation {evolution.generation}."
          f" Resume with: tilerunner evolve --resume {folder.path}", file=sys.stderr)
    return INTERRUPTED


def _copy_first_finishes(evolution, summary, copied: dict, replays: Path, run: str) -> list[tuple[str, Path]]:
    """Save the generation's champion into replays/ the first time it finishes each level."""
    from evolve.run_folder import unique_path

    new = []
    for level, outcome in zip(evolution.levels, summary.best_outcomes):
        if not outcome.finished or level.id in copied:
            continue
        replays.mkdir(parents=True, exist_ok=True)
        target = unique_path(replays, f"{_safe(level.id)}-f{summary.best_fitness:.0f}", ".json")
        evolution.champion_replay(summary.best_genome, run).save(target)
        copied[level.id] = str(target)
        new.append((level.id, target))
    return new


def _safe(level_id: str) -> str:
    stem = Path(level_id).stem if level_id.endswith(".txt") else level_id
    return re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-") or "level"
