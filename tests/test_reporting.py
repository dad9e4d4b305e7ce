"""What a run's reporters can count on: a generation they hear of is already saved in the run folder."""

from __future__ import annotations

import json
from pathlib import Path

from tilerunner import Run
from tilerunner.evolve.runs.replay import load_replay
from tilerunner.evolve.runs.reporting import RunReporter


class ReadsTheFolder(RunReporter):
    """Looks into the run folder at each hook, as a reporter that plots or uploads it would."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.generations: list[dict] = []
        self.finishes: list[tuple] = []

    def generation_done(self, summary) -> None:
        rows = [json.loads(line) for line in (self.folder / "stats.jsonl").read_text().splitlines()]
        timing = (self.folder / "timing.jsonl").read_text().splitlines()
        checkpoints = sorted(int(p.name[4:8]) for p in (self.folder / "checkpoints").glob("gen-*.json.gz"))
        champion = self.folder / "champions" / f"gen-{summary.generation:04d}.json"
        best = self.folder / "champions" / "best-validation.json"
        self.generations.append(
            {
                "stats": rows[-1]["generation"],
                "timing": json.loads(timing[-1])["generation"],
                "champion": champion.is_file() and load_replay(champion).generation == summary.generation,
                "new_best": summary.new_best,
                "validated": rows[-1]["validation"]["best"],
                "best_validation": best.is_file() and load_replay(best).generation,
                "checkpoint": checkpoints[-1],
            }
        )

    def first_finish(self, level, generation, path) -> None:
        self.finishes.append((level.id, generation, path is not None and load_replay(path).generation))


def test_a_generation_a_reporter_hears_of_is_saved_checkpoint_included(tmp_path):
    folder = tmp_path / "run"
    # 1-1 with seed 0: the champion first finishes it within 4 generations; checkpoints every 2 generations.
    run = Run.create(
        ["1-1"],
        out=folder,
        pop=60,
        seed=0,
        generations=4,
        keep_going=True,
        checkpoint_every=2,
        validate=["1-2"],
        validate_every=1,
    )
    reads = ReadsTheFolder(folder)
    run.add_reporter(reads)
    result = run.run()
    seen = reads.generations
    assert [g["stats"] for g in seen] == [g["timing"] for g in seen] == [0, 1, 2, 3]
    assert all(g["champion"] == g["new_best"] for g in seen) and seen[0]["new_best"]
    # a checkpoint due after a generation (2 after generation 1, 4 after generation 3) is written before anyone hears
    assert [g["checkpoint"] for g in seen] == [0, 2, 2, 4]
    last_best = None
    for generation, g in enumerate(seen):  # champions/best-validation.json is the newest best on the held-out level
        last_best = generation if g["validated"] else last_best
        assert g["best_validation"] == (last_best if last_best is not None else False)
    ((level, generation, saved_at),) = reads.finishes  # the first finish's replay is there, of that generation
    assert level == "1-1" and saved_at == generation
    assert result.first_finishes["1-1"].parent == folder / "first-finishes"
