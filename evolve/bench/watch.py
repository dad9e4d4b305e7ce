"""`tilerunner bench watch`: how much a live viewer slows evolution, and how smoothly the viewer draws.

Each repeat runs the same evolution (same level, seed and generations, so the same work)
twice, each in a fresh process through the library (`Run.create(...).run()`): once plain and
once watched, alternating which goes first. Watched means what `tilerunner evolve --watch`
does: as soon as the run folder exists, a viewer in a process of its own follows it
(`Viewer` on a `RunFollower`), and when evolution ends the viewer is closed with SIGTERM.
Evolution's own seconds come from each run's timing.jsonl (so process start-up is left out
of both); the viewer's median frames per second is what `Viewer.run` returns, sent back
through a pipe. Without a display the viewer draws with SDL's dummy driver: all of the
drawing work, none of the screen.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import statistics
import tempfile
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from tilerunner.evolve.bench.errors import BenchError
from tilerunner.evolve.bench.flags import add_generations, add_level, add_repeats, add_seed
from tilerunner.evolve.bench.timing import evolution_seconds
from tilerunner.evolve.core.plural import plural
from tilerunner.evolve.flags.types import add_jump_rule_flag

# How long to wait for a child process's word before giving up (a cold Numba cache compiles first).
PATIENCE = 600.0
EVOLUTION_LIMIT = 1800  # seconds a timed run may take at most before the bench gives up on it
HELP = "evolution's speed with and without the live viewer open"
DESCRIPTION = (
    "Time the same evolution with and without evolve --watch's viewer open, in pairs of runs, and print the"
    " medians and the viewer's cost."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of `tilerunner bench watch`."""
    add_level(p, "2-4")
    add_generations(p, "generations per run", 60)
    add_repeats(p, "pairs of runs", 5)
    add_seed(p)
    add_jump_rule_flag(p)


@dataclass(frozen=True)
class TimedRun:
    """One evolution run: the seconds evolution spent, and what the viewer showed (None when plain)."""

    seconds: float
    shown: dict[str, Any] | None


def viewer_environment() -> dict[str, str]:
    """Environment the viewer process needs: SDL's dummy video driver when there is no display."""
    env = os.environ
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or "SDL_VIDEODRIVER" in env:
        return {}
    return {"SDL_VIDEODRIVER": "dummy"}


def view_in_child(run_dir: str, environ: dict[str, str], conn: Connection) -> None:
    """Viewer process: follow `run_dir` until SIGTERM, then send back what `Viewer.run` returned.

    Sends ("ready", None) just before the window opens, then ("shown", {"frames_drawn", "seconds",
    "fps"}), or ("error", text) if the viewer could not start.
    """
    closing = threading.Event()  # SIGTERM sets it; the viewer closes at its next frame (or never opens)
    signal.signal(signal.SIGTERM, lambda signum, frame: closing.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it closes us
    os.environ.update(environ)
    # SIGTERM stays ours: SDL would take it over while it starts and turn it into a quit event, which is lost
    # when the signal comes before SDL's event queue is up (the parent closes us as soon as we say "ready").
    os.environ["SDL_NO_SIGNAL_HANDLERS"] = "1"
    try:
        from tilerunner.evolve.viewer.shows import RunFollower
        from tilerunner.evolve.viewer.viewer import Viewer

        viewer = Viewer(
            RunFollower(run_dir),
            title=f"tilerunner bench watch {run_dir}",
            speed=1.0,
            report=False,
            close_requested=closing,
        )
        conn.send(("ready", None))
        message = ("shown", viewer.run())
    except Exception as exc:  # whatever stopped the viewer, the parent reports it in one line
        message = ("error", f"{type(exc).__name__}: {exc}")
    conn.send(message)


def evolve_in_child(
    level: str, generations: int, seed: int, out: str, conn: Connection, jump_rule: str = "hold"
) -> None:
    """Evolution process: a run into folder `out`; sends ("ready", None) once the folder exists, then evolves.

    If the run cannot start (say, `out` holds a run already), sends ("error", text) instead.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it ends us
    from tilerunner.evolve.core.fitness import EpisodeSettings
    from tilerunner.evolve.runs.run import Run

    try:
        run = Run.create(
            [level],
            seed=seed,
            generations=generations,
            keep_going=True,
            out=out,
            settings=EpisodeSettings(jump_rule=jump_rule),
        )
    except Exception as exc:  # the parent reports it in one line
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", None))
    conn.close()
    run.run()


def _receive(conn: Connection, process: multiprocessing.process.BaseProcess, what: str) -> tuple[str, Any]:
    """The next message from a child process; BenchError if it fails, dies or says nothing in time."""
    if not conn.poll(PATIENCE):
        raise BenchError(f"the {what} process said nothing for {PATIENCE:.0f} s")
    try:
        kind, value = conn.recv()
    except EOFError:
        process.join(timeout=10)
        raise BenchError(
            f"the {what} process ended without a word (exit code {process.exitcode}; its error, if any, is above)"
        ) from None
    if kind == "error":
        raise BenchError(f"the {what} process failed: {value}")
    return kind, value


class ViewerProcess:
    """A viewer following a run folder in a process of its own, as `tilerunner evolve --watch` opens one."""

    def __init__(self, run_dir: str | os.PathLike, environ: dict[str, str] | None = None) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child_end = ctx.Pipe(duplex=False)
        self.process = ctx.Process(
            target=view_in_child,
            name="tilerunner-bench-viewer",
            args=(os.fspath(run_dir), viewer_environment() if environ is None else environ, child_end),
        )
        self.process.start()
        child_end.close()  # ours: so that a dead child reads as end-of-file, not silence
        self._ready = False

    def wait_until_ready(self) -> None:
        """Block until the viewer is about to open its window."""
        if not self._ready:
            kind, _ = _receive(self._conn, self.process, "viewer")
            if kind != "ready":
                raise BenchError(f"the viewer process said {kind!r} before it was ready")
            self._ready = True

    def close(self) -> dict[str, Any]:
        """Close the viewer (SIGTERM, as `evolve --watch` does at the end) and return what it showed."""
        self.wait_until_ready()
        self.process.terminate()
        kind, shown = _receive(self._conn, self.process, "viewer")
        self.process.join(timeout=30)
        if kind != "shown":
            raise BenchError(f"the viewer process said {kind!r} when closed")
        return shown

    def kill(self) -> None:
        """Make sure the process is gone (after `close`, or instead of it after an error)."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self._conn.close()


def timed_run(
    level: str,
    generations: int,
    seed: int,
    out: Path,
    watched: bool,
    environ: dict[str, str] | None = None,
    jump_rule: str = "hold",
) -> TimedRun:
    """Evolve in a fresh process into `out` (with a viewer following it if `watched`); seconds and what was shown.

    The world plays by `jump_rule` (`"hold"` or `"press"`).
    """
    ctx = multiprocessing.get_context("spawn")
    conn, child_end = ctx.Pipe(duplex=False)
    evolution = ctx.Process(
        target=evolve_in_child,
        name="tilerunner-bench-evolution",
        args=(level, generations, seed, os.fspath(out), child_end, jump_rule),
    )
    evolution.start()
    child_end.close()
    viewer = None
    try:
        _receive(conn, evolution, "evolution")
        if watched:
            viewer = ViewerProcess(out, environ)
        evolution.join(timeout=EVOLUTION_LIMIT)
        if evolution.is_alive():  # a hung child must not hang the bench (the finally below kills it)
            raise BenchError(f"the evolution process did not finish within {EVOLUTION_LIMIT // 60} minutes")
        if evolution.exitcode != 0:
            raise BenchError(f"the evolution process failed (exit code {evolution.exitcode}; its error is above)")
        shown = viewer.close() if viewer is not None else None
    finally:
        if evolution.is_alive():
            evolution.kill()
            evolution.join()
        conn.close()
        if viewer is not None:
            viewer.kill()
    return TimedRun(evolution_seconds(out), shown)


def run(args: argparse.Namespace) -> int:
    """Print each repeat's plain and watched seconds and the viewer's frames/s, then the medians and targets."""
    from tilerunner.envs.level import load_level

    load_level(args.level)  # a bad level id fails here, in one line, before any process starts
    environ = viewer_environment()
    headless = bool(environ)
    print(
        f"tilerunner bench watch: level {args.level}, jump rule {args.jump_rule},"
        f" {plural(args.generations, 'generation')},"
        f" {args.repeats} repeats,"
        f" evolve vs evolve --watch{' (no display: the viewer draws with the dummy driver)' if headless else ''}",
        flush=True,
    )
    slowdowns, rates = [], []
    with tempfile.TemporaryDirectory(prefix="tilerunner-bench-watch-") as tmp:
        # One untimed run first, so that both kinds find the Numba kernels compiled and cached.
        timed_run(args.level, 1, 0, Path(tmp) / "warm", True, environ, args.jump_rule)
        for r in range(args.repeats):
            order = [False, True] if r % 2 == 0 else [True, False]
            runs = {
                watched: timed_run(
                    args.level,
                    args.generations,
                    args.seed,
                    Path(tmp) / f"{r}-{watched}",
                    watched,
                    environ,
                    args.jump_rule,
                )
                for watched in order
            }
            plain, watched = runs[False].seconds, runs[True].seconds
            fps = runs[True].shown["fps"]
            slowdowns.append(watched / plain - 1)
            rates.append(fps)
            print(
                f"  repeat {r}: plain {plain:6.2f} s, with --watch {watched:6.2f} s"
                f" ({100 * slowdowns[-1]:+5.1f}%), viewer {fps:.0f} frames/s",
                flush=True,
            )
    slow = statistics.median(slowdowns)
    fps = statistics.median(rates)
    print(f"median: evolution {100 * slow:+.1f}% with the viewer open; viewer {fps:.0f} frames/s")
    print(
        f"targets: at most 10% slower ({'met' if slow <= 0.10 else 'missed'}),"
        f" at least 30 frames/s ({'met' if fps >= 30 else 'missed'})"
    )
    return 0
