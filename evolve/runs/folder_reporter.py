"""The run's own files, kept by a reporter: what each generation leaves in its run folder and `replays_dir`.

A `Run` tells a `RunFolderReporter` of every generation before its other reporters, so that they hear
of files already written (`first_finish` gets the replay's path). Per generation it writes, in this order:
the champion's replay when it is a new best-ever (champions/gen-NNNN.json), the champion's replay for
each level it finished for the first time in the run (first-finishes/, and a copy in `replays_dir`),
the best on the held-out levels when it is the best so far (champions/best-validation.json),
stats.jsonl and timing.jsonl (the run's rows so far), and every `checkpoint_every` generations a
checkpoint. The run asks for one more checkpoint where it ends or stops (`checkpoint`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from tilerunner.evolve.runs.checkpoint import checkpoint_to_dict, encode
from tilerunner.evolve.runs.genome_json import genome_to_dict
from tilerunner.evolve.runs.replay import NetworkShape, Replay, make_replay
from tilerunner.evolve.runs.reporting import RunReporter
from tilerunner.evolve.runs.run_folder import safe_stem, unique_path

if TYPE_CHECKING:
    from tilerunner.agent import TileGenome
    from tilerunner.envs.level import Level
    from tilerunner.evolve.core.evolution import Generation
    from tilerunner.evolve.runs.run import Run


def _already_copied(path: Path, replay: Replay) -> bool:
    """Whether `path` holds this very replay's genome already (a resumed run copies nothing twice)."""
    try:
        return path.is_file() and json.loads(path.read_text())["genome"] == genome_to_dict(replay.genome)
    except (OSError, ValueError, KeyError, TypeError):
        return False


class RunFolderReporter(RunReporter):
    """Writes a run's files as its generations end (see the module docstring); a run without a folder
    or `replays_dir` has it write nothing. `first_finishes`: level id -> replay file, this call of `Run.run`."""

    def __init__(self) -> None:
        self.run: Run | None = None
        self.first_finishes: dict[str, Path] = {}
        self._checkpointed: int | None = None  # the generation of the checkpoint this call wrote last

    def run_started(self, run: Run) -> None:
        self.run = run
        self.first_finishes = {}
        self._checkpointed = None

    def generation_done(self, summary: Generation) -> None:
        run = self.run
        newly = [run.levels[li] for li in summary.first_finishes]
        if newly or (run.folder is not None and summary.new_best):
            self._keep_champion(summary, newly)
        if run.folder is None:
            return
        if run.stats[-1].get("validation", {}).get("best"):
            kept = self._replay(run.best_on_validation, run.validation.levels, summary.generation)
            run.folder.save_replay(kept, "champions", "best-validation.json")
        run.folder.write_lines("stats.jsonl", run.stats)
        run.folder.write_lines("timing.jsonl", run.timing)
        if run.generation % run.checkpoint_every == 0:
            self.checkpoint()

    def checkpoint(self) -> None:
        """Write the run's checkpoint as it stands (in its folder, if it has one); nothing if this generation's
        was the last thing written, as when the run ends or stops right after a checkpoint was due."""
        run = self.run
        if run.folder is None or self._checkpointed == run.generation:
            return
        blob = encode(checkpoint_to_dict(run.evolution, run.stats, run.timing, run.validation, run.config_text))
        run.folder.write_checkpoint(run.generation, blob)
        self._checkpointed = run.generation

    def _replay(self, genome: TileGenome, levels: list[Level], generation: int) -> Replay:
        """`genome` as a replay of `levels`, made in `generation` of this run."""
        run, ev = self.run, self.run.evolution
        return make_replay(
            genome,
            NetworkShape.from_genome_config(ev.config.genome_config),
            levels,
            ev.settings,
            seed=ev.seed,
            generation=generation,
            run=str(run.folder.location()) if run.folder is not None else None,
        )

    def _keep_champion(self, summary: Generation, newly: list[Level]) -> None:
        """Save the generation's champion: as champions/gen-NNNN.json if a new best-ever, and for each level it
        finished first in the run."""
        run = self.run
        replay = self._replay(summary.best_genome, summary.levels, summary.generation)
        if run.folder is not None and summary.new_best:
            run.folder.save_replay(replay, "champions", run.folder.champion_path(summary.generation).name)
        for level in newly:
            path = self._keep_first_finish(level, summary.best_fitness, replay)
            if path is not None:
                self.first_finishes[level.id] = path

    def _keep_first_finish(self, level: Level, fitness: float, replay: Replay) -> Path | None:
        """Save the champion that first finished `level`: in the run folder, and in `replays_dir` if asked."""
        run = self.run
        # The same name every time the same generation is played: a run resumed after a crash writes the same file.
        stem = f"{safe_stem(level.id)}-f{fitness:.0f}"
        kept = run.folder.save_replay(replay, "first-finishes", f"{stem}.json") if run.folder is not None else None
        if run.replays_dir is not None:
            copy = run.replays_dir / f"{stem}.json"
            try:
                run.replays_dir.mkdir(parents=True, exist_ok=True)
                if not _already_copied(copy, replay):  # e.g. resumed after a crash
                    copy = unique_path(run.replays_dir, stem, ".json")
                    replay.save(copy)
            except OSError as exc:  # the --replays folder, not the run folder, is what could not be written
                raise OSError(exc.errno, exc.strerror, os.fspath(copy)) from None
            kept = kept or copy
        return kept
