"""What `tilerunner evolve` prints: a progress bar while a generation plays, a line per generation, a summary."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from tqdm import tqdm

PROGRESS_CHUNKS = 8  # kernel calls per generation while a progress bar is showing


class _Progress:
    def __init__(self, bar: tqdm | None) -> None:
        self.bar = bar
        self.chunks = PROGRESS_CHUNKS if bar is not None else 1
        self._done = 0

    def update(self, done: int) -> None:
        if self.bar is not None:
            self.bar.update(done - self._done)
        self._done = done


class GenerationPrinter:
    """Prints one run's progress to stdout (lines) and stderr (the bar, only on a terminal)."""

    def __init__(self, evolution, quiet: bool = False) -> None:
        self.evolution = evolution
        self.quiet = quiet

    @contextlib.contextmanager
    def progress(self) -> Iterator[_Progress]:
        show = not self.quiet and sys.stderr.isatty()
        bar = None
        if show:
            bar = tqdm(total=len(self.evolution.population.population), desc=f"gen {self.evolution.generation}",
                       unit="genome", leave=False, file=sys.stderr)
        try:
            yield _Progress(bar)
        finally:
            if bar is not None:
                bar.close()

    def line(self, g) -> None:
        if self.quiet:
            return
        fps = g.frames / max(g.eval_seconds, 1e-9)
        print(f"gen {g.generation:4d}  best {g.best_fitness:9.1f}  mean {g.mean_fitness:8.1f}"
              f"  best-ever {g.best_ever:9.1f}  species {g.species:3d}  finished {g.finished:3d}/{g.population}"
              f"  {g.total_seconds:5.2f} s/gen  {fps / 1e6:5.1f}M frames/s", flush=True)

    def say(self, message: str) -> None:
        if not self.quiet:
            print(message, flush=True)

    def summary(self, folder, stats: list[dict], finished_at: int | None, seconds: float) -> None:
        ev = self.evolution
        levels = ", ".join(lv.id for lv in ev.levels)
        n = len(stats)
        if finished_at is not None:
            result = f"the champion of generation {finished_at} finished {levels}"
        else:
            best = max(stats, key=lambda s: s["best_fitness"]) if stats else None
            reached = ", ".join(f"{o['distance']:.0f} px" for o in best["best"]) if best else "-"
            result = f"no champion finished {levels} yet (furthest: {reached})"
        print(f"done: {n} generations in {seconds:.1f} s ({seconds / max(n, 1):.2f} s each); {result}")
        champions = folder.champion_files()
        if champions:
            latest = champions[-1]
            print(f"champion: {latest} (fitness {ev.best_ever.fitness:.1f})")
            for lv, o in zip(ev.levels, ev.best_ever_outcomes):
                what = "finished" if o.finished else f"{o.status}{' (' + o.cause + ')' if o.cause else ''}"
                print(f"  {lv.id}: {what} at {o.distance:.0f} px after {o.frames} frames,"
                      f" {o.coins} coins, {o.kills} kills")
            print(f"watch it: tilerunner replay {latest}")
        print(f"run folder: {folder.path}  (more generations: tilerunner evolve --resume {folder.path}"
              f" --generations {ev.generation + 100})")
