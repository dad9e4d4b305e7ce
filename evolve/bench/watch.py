"""`tilerunner bench watch`: how much `evolve --watch` slows evolution, and how smoothly the viewer draws.

Each repeat runs the same evolution (same level, seed and generations, so the same work)
twice as separate `tilerunner evolve` processes, once plain and once with `--watch`,
alternating which goes first. Evolution's own seconds come from each run's
timing.jsonl (so process start-up is left out of both); the viewer reports the frames
per second it drew. Without a display the viewer draws with SDL's dummy driver: all of
the drawing work, none of the screen.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

_VIEWER_LINE = re.compile(r"viewer: (\d+) frames drawn in ([\d.]+) s \(median (\d+) frames/s\)")


def _evolve(level: str, generations: int, seed: int, out: Path, watch: bool, env: dict) -> tuple[float, float | None]:
    """Seconds evolution spent (from timing.jsonl) and the viewer's median frames/s (None without --watch)."""
    cmd = [sys.executable, "-m", "tilerunner", "evolve", "--level", level, "--generations", str(generations),
           "--seed", str(seed), "--keep-going", "--out", str(out), "--replays", str(out / "replays"), "--quiet"]
    if watch:
        cmd.append("--watch")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.strip()[-300:]}")
    rows = [json.loads(line) for line in (out / "timing.jsonl").read_text().splitlines()]
    seconds = sum(r["total_seconds"] for r in rows)
    fps = None
    if watch:
        m = _VIEWER_LINE.search(done.stdout)
        fps = float(m.group(3)) if m else 0.0
    return seconds, fps


def run(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    headless = not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")) and "SDL_VIDEODRIVER" not in env
    if headless:
        env["SDL_VIDEODRIVER"] = "dummy"
    print(f"tilerunner bench watch: level {args.level}, {args.generations} generations, {args.repeats} repeats,"
          f" evolve vs evolve --watch{' (no display: the viewer draws with the dummy driver)' if headless else ''}")
    slowdowns, rates = [], []
    with tempfile.TemporaryDirectory(prefix="tilerunner-bench-watch-") as tmp:
        # One untimed run first, so that both kinds find the Numba kernels compiled and cached.
        _evolve(args.level, 1, 0, Path(tmp) / "warm", True, env)
        for r in range(args.repeats):
            order = [False, True] if r % 2 == 0 else [True, False]
            seconds = {}
            for watch in order:
                seconds[watch] = _evolve(args.level, args.generations, args.seed, Path(tmp) / f"{r}-{watch}",
                                         watch, env)
            plain, (watched, fps) = seconds[False][0], seconds[True]
            slowdowns.append(watched / plain - 1)
            rates.append(fps)
            print(f"  repeat {r}: plain {plain:6.2f} s, with --watch {watched:6.2f} s"
                  f" ({100 * slowdowns[-1]:+5.1f}%), viewer {fps:.0f} frames/s", flush=True)
    slow = statistics.median(slowdowns)
    fps = statistics.median(rates)
    print(f"median: evolution {100 * slow:+.1f}% with the viewer open; viewer {fps:.0f} frames/s")
    print(f"targets: at most 10% slower ({'met' if slow <= 0.10 else 'missed'}),"
          f" at least 30 frames/s ({'met' if fps >= 30 else 'missed'})")
    return 0
