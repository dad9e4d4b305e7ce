"""Which levels can be finished at all, as far as the solver can tell: the ceiling of a finished share.

A genome that finishes 60% of a level set may be finishing every level that can be finished, so
finished shares are reported against the solvable levels as well as against all. `search_levels`
runs `envs.solver.search` on every level on a pool of threads (the search lets go of the GIL, so
they really run side by side); `solvable` says which it finished. Both are deterministic: the
solver counts its budget in simulated worlds, never in seconds, so the same levels give the same
answer on any machine, whatever the number of threads. A level the solver does not finish is not
proven unfinishable unless its `Search` says `walled_in`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from tilerunner.envs.level import Level
from tilerunner.envs.physics import HOLD
from tilerunner.envs.solver import Search, search


def search_levels(
    levels: Sequence[Level],
    workers: int | None = None,
    done: Callable[[int, Search], None] | None = None,
    rule: int = HOLD,
) -> list[Search]:
    """`envs.solver.search` on every level under jump rule `rule`, on `workers` threads (default: one per core);
    results in level order.

    Levels with the same text are searched once. `done(i, result)` is called in the calling
    thread for level i as soon as it and the levels before it are searched, in level order.
    Ctrl-C (KeyboardInterrupt in the calling thread) stops every search within a fraction of
    a second and is raised again.
    """
    workers = max(1, workers or os.cpu_count() or 1)
    unique: dict[str, Level] = {}
    for level in levels:
        unique.setdefault(level.sha256, level)
    stop = threading.Event()
    results: list[Search] = []
    with ThreadPoolExecutor(min(workers, max(1, len(unique)))) as pool:
        futures = {sha: pool.submit(search, level, stop=stop, rule=rule) for sha, level in unique.items()}
        try:
            for i, level in enumerate(levels):
                results.append(replace(futures[level.sha256].result(), level_id=level.id))
                if done is not None:
                    done(i, results[-1])
        except BaseException:
            stop.set()  # the searches still running give up at their next return to Python
            for future in futures.values():
                future.cancel()
            raise
    return results


def solvable(levels: Sequence[Level], workers: int | None = None, rule: int = HOLD) -> list[bool]:
    """For each level, whether the solver finds a button sequence that finishes it under jump rule `rule`
    (see `search_levels`).

    False means the solver found none within its budget, which does not prove there is none;
    `search_levels` tells the two apart. `workers` threads (default: one per core).
    """
    return [result.found for result in search_levels(levels, workers, rule=rule)]
