"""Timing and rate helpers the benchmarks share (kept here so that no benchmark imports the commands)."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the benches that time a generation import these anyway; the others need not
    from tilerunner.evolve.core.backend import Backend
    from tilerunner.evolve.core.evolution import Evolution, Generation


def median_rate(work: Callable[[], int], repeats: int) -> tuple[float, list[float]]:
    """Run `work` (which returns a count of things done) `repeats` times; median and all rates per second."""
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        count = work()
        rates.append(count / (time.perf_counter() - t0))
    return statistics.median(rates), rates


def fmt_rate(rate: float) -> str:
    """A rate with thousands separators, e.g. 7,950,000."""
    return f"{rate:,.0f}"


def verdict(met: bool) -> str:
    """How a target line reads: `met` or `MISSED`."""
    return "met" if met else "MISSED"


def timed_generation(evolution: Evolution, backend: Backend) -> tuple[Generation, float]:
    """Evaluate `evolution`'s current generation once on `backend`: (its `Generation`, wall seconds). The
    generation is left as it was (`discard`), so every call plays the very same episodes."""
    evolution.use_backend(backend)
    t0 = time.perf_counter()
    summary = evolution.play_generation()
    wall = time.perf_counter() - t0
    evolution.discard()
    return summary, wall


def evolution_seconds(run_dir: Path) -> float:
    """Seconds of evolution a run folder has had: the sum of total_seconds in its timing.jsonl (0 without one)."""
    path = run_dir / "timing.jsonl"
    if not path.exists():
        return 0.0
    return sum(json.loads(line).get("total_seconds", 0.0) for line in path.read_text().splitlines() if line.strip())
