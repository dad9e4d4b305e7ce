"""How the commands talk to a terminal: progress bars on stderr only when it is one, and a quiet end on a closed pipe.

One rule for every command, `evolve`'s: long work shows a tqdm bar on stderr when stderr is a
terminal (`live()`), and nothing when it is not (a log, a pipe, a test's capture), so that captured
output holds whole lines only, never carriage returns or bars. stdout keeps its plain lines either way.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator

from tqdm import tqdm

TICK_SECONDS = 0.5  # how often a bar without a count (a compile, one search) shows the time it has taken


def live() -> bool:
    """Whether progress bars are shown: stderr is a terminal (as `tilerunner evolve` decides)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed
        return False


@contextlib.contextmanager
def progress_bar(desc: str, total: int | None = None, unit: str = "it") -> Iterator[Callable[[int], None]]:
    """On a terminal, a bar on stderr while the work inside runs: `total` `unit`s if known, and the seconds spent
    (kept ticking, so a compile or a long search shows it is alive); yields `update(done)`. Nothing off one."""
    if not live():
        yield lambda done: None
        return
    shape = {"bar_format": "{desc}: {elapsed}"} if total is None else {}
    bar = tqdm(total=total, desc=desc, unit=unit, leave=False, file=sys.stderr, **shape)
    lock = threading.Lock()
    stop = threading.Event()

    def update(done: int) -> None:
        with lock:
            bar.update(done - bar.n)

    def tick() -> None:
        while not stop.wait(TICK_SECONDS):
            with lock:
                bar.refresh()

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield update
    finally:
        stop.set()
        ticker.join()
        bar.close()


def write_line(text: str) -> None:
    """Print a whole line to stdout at once, above any bar on the terminal."""
    if live():
        tqdm.write(text, file=sys.stdout)
        sys.stdout.flush()
    else:
        print(text, flush=True)


def discard_stdout() -> None:
    """Point stdout at /dev/null once its reader has gone, so that what is still buffered (and Python's flush
    at exit) goes nowhere instead of raising `BrokenPipeError` again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real stdout (a test's capture): nothing flushes to a pipe
        pass
    finally:
        os.close(devnull)
