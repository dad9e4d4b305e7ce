"""`--validate`: the best genome of each species plays held-out levels; the best of them is kept."""

from __future__ import annotations

import json

import pytest

from tilerunner import Run
from tilerunner.evolve.commands.cli import main
from tilerunner.evolve.core.evolution import Evolution
from tilerunner.evolve.runs.replay import load_replay, verify
from tilerunner.evolve.runs.stats import read_stats

HELD_OUT = "gen:1-3:1"


def test_validation_is_recorded_and_the_best_genome_kept(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(
        [
            "evolve",
            "--level",
            "1-1",
            "--generations",
            "5",
            "--pop",
            "60",
            "--keep-going",
            "--validate",
            HELD_OUT,
            "--validate-every",
            "2",
            "--out",
            str(tmp_path / "run"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    rows = read_stats(tmp_path / "run")  # the stats reader accepts (and checks) the new field
    checked = [r for r in rows if "validation" in r]
    assert [r["generation"] for r in checked] == [0, 2, 4]  # every 2, and the last
    for r in checked:
        v = r["validation"]
        assert v["levels"] == 3 and 0 <= v["finished"] <= 3 and 0.0 <= v["mean_progress"] <= 1.0
        assert v["checked"] == r["species"] and v["finished"] == round(3 * v["finished_share"])
    assert checked[0]["validation"]["best"]
    best = max(checked, key=lambda r: (r["validation"]["finished_share"], r["validation"]["mean_progress"]))
    replay = load_replay(tmp_path / "run" / "champions" / "best-validation.json")
    assert [e.level.id for e in replay.episodes] == ["gen:1:1", "gen:2:1", "gen:3:1"]
    assert replay.genome.key == best["validation"]["genome"] and all(c.identical for c in verify(replay))
    assert sum(e.outcome.finished for e in replay.episodes) == best["validation"]["finished"]
    assert out.count("  held-out: the best of") == 3 and "held-out levels: the best genome checked finished" in out


def test_validation_does_not_change_the_run_and_survives_a_crash(tmp_path, monkeypatch):
    common = dict(pop=40, seed=1, generations=5, keep_going=True, checkpoint_every=2)
    plain = Run.create(["1-2"], out=tmp_path / "plain", **common).run()
    whole = Run.create(["1-2"], out=tmp_path / "whole", validate=[HELD_OUT], validate_every=2, **common).run()
    strip = [{k: v for k, v in r.items() if k != "validation"} for r in whole.stats]
    assert strip == plain.stats  # playing held-out levels takes nothing from the run's randomness

    class Crash(BaseException):
        pass

    original = Evolution.reproduce

    def crash_at_3(self, summary):
        if summary.generation == 3:
            raise Crash
        return original(self, summary)

    with monkeypatch.context() as patch:
        patch.setattr(Evolution, "reproduce", crash_at_3)
        with pytest.raises(Crash):
            Run.create(["1-2"], out=tmp_path / "cut", validate=[HELD_OUT], validate_every=2, **common).run()
    resumed = Run.resume(tmp_path / "cut").run()
    assert resumed.stats == whole.stats
    best = [
        json.loads((tmp_path / name / "champions" / "best-validation.json").read_text())["genome"]
        for name in ("whole", "cut")
    ]
    assert best[0] == best[1]


def test_validate_cannot_change_on_resume(tmp_path, capsys):
    main(["evolve", "--level", "1-1", "--generations", "1", "--pop", "20", "--out", str(tmp_path / "run")])
    capsys.readouterr()
    assert main(["evolve", "--resume", str(tmp_path / "run"), "--validate", "1-2"]) == 2
    assert "--validate cannot be changed when resuming" in capsys.readouterr().err


def test_levels_per_generation_draws_the_same_levels_for_everyone_from_the_seed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    levels = tmp_path / "set"
    levels.mkdir()
    for n in range(8):
        (levels / f"lv-{n}.txt").write_text(
            "-" * 40 + "\n" + "M" + "-" * 39 + "\n" + "X" * (12 + 3 * n) + "--" + "X" * (26 - 3 * n) + "\n"
        )
    common = dict(pop=40, seed=3, generations=6, keep_going=True, checkpoint_every=2, levels_per_gen=3)
    whole = Run.create([str(levels)], out=tmp_path / "whole", **common).run()
    drawn = [r["levels"] for r in whole.stats]
    assert all(len(d) == 3 == len(set(d)) and d == sorted(d) for d in drawn)  # 3 distinct levels, in order
    assert len({tuple(d) for d in drawn}) > 1  # a new draw each generation
    assert all(len(r["best"]) == 3 for r in whole.stats)
    again = Run.create([str(levels)], out=tmp_path / "again", **common).run()
    assert again.stats == whole.stats  # the same seed draws the same levels and makes the same run
    # A crash and a resume draw exactly what the uninterrupted run drew.
    original = Evolution.reproduce

    def crash_at_4(self, summary):
        if summary.generation == 4:
            raise KeyboardInterrupt
        return original(self, summary)

    with monkeypatch.context() as patch:
        patch.setattr(Evolution, "reproduce", crash_at_4)
        with pytest.raises(KeyboardInterrupt):
            Run.create([str(levels)], out=tmp_path / "cut", **common).run()
    assert Run.resume(tmp_path / "cut").run().stats == whole.stats
    # The champion's replay holds the levels it played.
    champion = whole.replay()
    assert [e.level.id for e in champion.episodes] == [lv.id for lv in whole.champion_levels]
    assert len(champion.episodes) == 3 and all(c.identical for c in verify(champion))


def test_levels_per_generation_must_fit_the_set(tmp_path, capsys):
    assert (
        main(["evolve", "--level", "1-1", "--level", "1-2", "--levels-per-gen", "3", "--out", str(tmp_path / "never")])
        == 2
    )
    assert "levels per generation must be from 1 to the 2 levels of the set, got 3" in capsys.readouterr().err
    assert not (tmp_path / "never").exists()
