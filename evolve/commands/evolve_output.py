"""What `tilerunner evolve` prints: the run's settings, a progress bar while a generation plays,
a line per generation, and a summary. A `RunReporter`, so the run itself knows nothing of terminals."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from tqdm import tqdm

from tilerunner.evolve.commands.terminal import discard_stdout, live
from tilerunner.evolve.core.plural import plural
from tilerunner.evolve.runs.reporting import RunReporter
from tilerunner.evolve.runs.run_options import GENERATIONS_RANGE

PROGRESS_CHUNKS = 8  # kernel calls per generation while a progress bar is showing


class GenerationPrinter(RunReporter):
    """Prints one run's progress to stdout (lines) and stderr (the bar, only on a terminal)."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.run = None
        self.stdout_closed = False  # whoever read stdout stopped reading (`| head -3`): the run stops quietly
        self._bar: tqdm | None = None

    def _say(self, text: str = "") -> None:
        """Print a line to stdout at once; if its reader has gone, stop the run at its next safe point instead.

        A closed pipe is no error of the run: it checkpoints as after Ctrl-C, and the command exits quietly.
        """
        if self.stdout_closed:
            return
        try:
            print(text, flush=True)
        except BrokenPipeError:
            self.stdout_closed = True
            discard_stdout()
            if self.run is not None:
                self.run.request_stop()

    def run_started(self, run) -> None:
        self.run = run
        if not self.quiet and live():
            run.progress_chunks = PROGRESS_CHUNKS
        if self.quiet:
            return
        ev = run.evolution
        levels = describe_levels(ev.plan)
        s = ev.settings
        where = f"run folder {run.folder.path}" if run.folder is not None else "no run folder"
        verb = "resuming" if run.generation > 0 else "evolving"
        memory = ", memory cells" if ev.config.genome_config.memory_cells else ""
        if getattr(ev.config.genome_config, "breeding", "exact") == "batch":
            memory += ", batch breeding"
        self._say(f"{verb} on {levels}: {where}")
        self._say(
            f"  seed {ev.seed}, population {ev.config.pop_size}{memory}, generations {run.generation}"
            f"-{run.generations - 1}{' (keep going after a finish)' if run.keep_going else ''},"
            f" {s.view_radius * 2 + 1}x{s.view_radius * 2 + 1} view,"
            f" decides every {plural(s.frame_skip, 'frame')},"
            f" fitness {s.aggregate} over levels"
            f"{', each against hold-right' if s.relative_to == 'hold-right' else ''}"
            f"{f', the best also on {ev.plan.recheck} more' if ev.plan.recheck else ''}"
            f"{', sees ' + ' and '.join(s.features) if s.features else ''}"
        )
        if run.time_limit is not None:
            self._say(f"  stops after {run.time_limit:.4g} min (at the end of a generation; resume to go on)")

    def start_generation(self, generation: int) -> None:
        if self.run is not None and self.run.progress_chunks > 1:
            self._bar = tqdm(
                total=len(self.run.evolution.population.population),
                desc=f"gen {generation}",
                unit="genome",
                leave=False,
                file=sys.stderr,
            )

    def evaluation_progress(self, generation: int, done: int, total: int) -> None:
        if self._bar is not None:
            self._bar.update(done - self._bar.n)

    def post_evaluate(self, config, population, species, best_genome) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def generation_done(self, g) -> None:
        if self.quiet:
            return
        fps = g.frames / max(g.kernel_seconds, 1e-9)
        if g.level_ids is None:  # every genome played the whole set: how many genomes finished it all
            finished = f"finished {g.finished:3d}/{g.population}"
        else:  # a draw: how many of its levels the generation's champion finished
            finished = f"champion finished {sum(o.finished for o in g.best_outcomes):2d}/{len(g.best_outcomes)}"
        stage = f"  stage {g.stage + 1}/{self.run.evolution.plan.stages}" if g.stage is not None and self.run else ""
        self._say(
            f"gen {g.generation:4d}  best {g.best_fitness:9.1f}  mean {g.mean_fitness:8.1f}"
            f"  best-ever {g.best_ever:9.1f}  species {g.species:3d}  {finished}{stage}"
            f"  {g.total_seconds:5.2f} s/gen  {fps / 1e6:5.1f}M frames/s"
        )
        checked = self.run.stats[-1].get("validation") if self.run is not None and self.run.stats else None
        if checked:
            self._say(
                f"  held-out: the best of {checked['checked']} species finished {checked['finished']}"
                f"/{checked['levels']} ({checked['finished_share']:.0%}), progress {checked['mean_progress']:.0%}"
                f"{', best so far: champions/best-validation.json' if checked['best'] else ''}"
            )

    def notice(self, message: str) -> None:
        if self._bar is not None:
            self._bar.clear()
        self._say(message)

    def first_finish(self, level, generation: int, path: Path | None) -> None:
        if not self.quiet:
            kept = f": {path}" if path is not None else ""
            self._say(f"  the champion finished {level.id} for the first time{kept}")

    def run_ended(self, result) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self.stdout_closed:  # the reader went away (`| head`): a Unix tool stops quietly
            return
        if result.interrupted:
            stopped = "terminated (SIGTERM, exit code 143)" if result.stop_signal == signal.SIGTERM else "interrupted"
            print(
                f"\n{stopped}: checkpoint written at generation {result.first_generation + result.generations_run}."
                f" Resume with: tilerunner evolve --resume {result.folder}",
                file=sys.stderr,
            )
            return
        n = result.generations_run
        if result.out_of_time:
            self._say(f"time limit reached after generation {result.first_generation + n - 1}; checkpoint written")
        span = (
            f"generation {result.first_generation}"
            if n == 1
            else f"generations {result.first_generation}-{result.first_generation + n - 1}"
        )
        self._say(
            f"done: {plural(n, 'generation')} ({span}) in {result.seconds:.1f} s"
            f" ({result.seconds / max(n, 1):.2f} s each); {_verdict(result)}"
        )
        if result.champion is not None:
            champions = sorted((result.folder / "champions").glob("gen-*.json")) if result.folder else []
            if champions:
                self._say(f"champion: {champions[-1]} (fitness {result.champion.fitness:.1f})")
            for lv, o in zip(result.champion_levels, result.champion_outcomes):
                what = "finished" if o.finished else f"{o.status}{' (' + o.cause + ')' if o.cause else ''}"
                self._say(
                    f"  {lv.id}: {what} at {o.distance:.0f} px after {o.frames} frames,"
                    f" {o.coins} coins, {o.kills} kills"
                )
            if champions:
                self._say(f"watch it: tilerunner replay {champions[-1]}")
        held_out = [r["validation"] for r in result.stats if "validation" in r]
        if held_out:
            top = max(held_out, key=lambda c: (c["finished_share"], c["mean_progress"]))
            self._say(
                f"held-out levels: the best genome checked finished {top['finished']}/{top['levels']}"
                f" ({top['finished_share']:.0%}), progress {top['mean_progress']:.0%}"
                + (f": {result.folder / 'champions' / 'best-validation.json'}" if result.folder else "")
            )
        if result.folder is not None:
            reached = result.first_generation + n
            more = min(reached + 100, GENERATIONS_RANGE[1])
            more_text = (
                f"  (more generations: tilerunner evolve --resume {result.folder} --generations {more})"
                if more > reached
                else ""
            )
            self._say(f"run folder: {result.folder}{more_text}")


def describe_levels(plan) -> str:
    """The training set in a line: its levels (or how many), how a generation draws, the curriculum."""
    if plan.fresh:
        difficulties = ", ".join(map(str, plan.fresh))
        text = f"fresh generated levels of difficulty {difficulties}, {plan.per_gen} a generation"
    else:
        ids = plan.levels.ids()
        text = ", ".join(ids) if len(ids) <= 4 else f"{len(ids)} levels ({ids[0]} ... {ids[-1]})"
        if plan.per_gen is not None:
            text += f", {plan.per_gen} drawn each generation"
    if plan.curriculum is not None:
        text += f"; curriculum of {plan.stages} stages, up when the champion finishes {plan.curriculum:.0%}"
    return text


def _verdict(result) -> str:
    """How far the champion got: which generation finished everything, or how many levels it finished."""
    levels = result.levels
    if not levels:  # fresh generated levels: never all finished
        return (
            f"the best-ever champion finished {result.levels_finished} of the {len(result.champion_levels)}"
            " fresh levels it played"
        )
    names = levels[0].id if len(levels) == 1 else f"all {len(levels)} levels"
    if result.solved_at is not None:
        return f"the champion of generation {result.solved_at} finished {names}"
    outcomes = result.champion_outcomes
    if len(levels) == 1:
        furthest = f"{outcomes[0].distance:.0f} px" if outcomes else "-"
        return f"no champion finished {names} yet (furthest: {furthest})"
    played = len(result.champion_levels)
    of = f"of {played} it played (a draw from the {len(levels)})" if played < len(levels) else f"of {len(levels)}"
    return f"no champion finished {names} yet; the best-ever champion finished {result.levels_finished} {of}"
