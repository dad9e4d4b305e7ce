"""Training sets: draws, fresh generated levels (gen:*), curriculum stages, and runs that stop on time."""

from __future__ import annotations

import json

import pytest

from tilerunner.envs.level import LevelError, parse_level
from tilerunner.evolve.commands.cli import main as cli
from tilerunner.evolve.core.level_plan import FRESH_SEEDS, LevelPlan, fresh_difficulties
from tilerunner.evolve.runs.run import Run


def flat(n: int, width: int = 24):
    """A flat level whose exit is `width` columns away: anything that runs right finishes it."""
    return parse_level("-" * width + "\n" + "M" + "-" * (width - 2) + "F\n" + "X" * width + "\n", f"flat{n}.txt")


def test_fresh_levels_are_new_every_generation_reproducible_and_never_held_out_seeds():
    plan = LevelPlan.from_specs(["gen:*:2", "gen:*:4"], per_gen=5)
    assert plan.fresh == (2, 4) and not plan.levels
    first, indices = plan.draw(seed=7, generation=0)
    assert indices == [] and len(first) == 5
    again, _ = plan.draw(seed=7, generation=0)
    assert [lv.id for lv in first] == [lv.id for lv in again]
    later, _ = plan.draw(seed=7, generation=1)
    other_seed, _ = plan.draw(seed=8, generation=0)
    ids = {lv.id for lv in first}
    assert ids.isdisjoint(lv.id for lv in later) and ids.isdisjoint(lv.id for lv in other_seed)
    for lv in first + later:
        _, seed, difficulty = lv.id.split(":")
        assert FRESH_SEEDS[0] <= int(seed) < FRESH_SEEDS[1] and difficulty in ("2", "4")
    assert not plan.whole_set(0)  # an endless set is never all finished
    assert LevelPlan.from_specs(["gen:*"]).per_gen == 10 and fresh_difficulties("gen:*") == tuple(range(1, 11))


@pytest.mark.parametrize(
    "specs, message",
    [(["gen:*", "1-1"], "cannot be mixed"), (["gen:*:11"], "bad fresh-level set"), (["gen:*x"], "bad fresh-level set")],
)
def test_bad_training_sets_are_refused(specs, message):
    with pytest.raises((ValueError, LevelError), match=message):
        LevelPlan.from_specs(specs)


def test_a_curriculum_over_a_list_takes_the_levels_in_order_k_more_a_stage():
    levels = tuple(flat(i) for i in range(7))
    plan = LevelPlan(levels, per_gen=3, curriculum=0.8)
    assert plan.stages == 3
    assert [plan.pool_size(s) for s in range(3)] == [3, 6, 7]
    for stage in range(3):
        played, indices = plan.draw(seed=1, generation=5, stage=stage)
        assert len(played) == 3 and max(indices) < plan.pool_size(stage)
    one_by_one = LevelPlan(levels[:3], curriculum=1.0)  # no draw: one more level a stage, all of them played
    assert [one_by_one.draw(0, 0, s)[1] for s in range(3)] == [[0], [0, 1], [0, 1, 2]]
    assert one_by_one.whole_set(2) and not one_by_one.whole_set(1)


def test_the_curriculum_rises_when_the_champion_finishes_its_share(tmp_path):
    levels = [flat(i, 20 + 4 * i) for i in range(4)]
    run = Run.create(levels, curriculum=1.0, pop=30, seed=2, generations=40, out=tmp_path / "run")
    result = run.run()
    stages = [row["stage"] for row in result.stats]
    assert stages[0] == 0 and stages == sorted(stages)  # it only goes up
    for before, after in zip(result.stats, result.stats[1:]):
        champion_finished_all = all(o["finished"] for o in before["best"])
        assert after["stage"] == min(before["stage"] + champion_finished_all, 3)
        assert len(after["levels"]) == after["stage"] + 1
    assert result.solved and stages[-1] == 3  # solved only once the last stage plays the whole list
    assert all(o.finished for o in result.champion_outcomes)


def test_fresh_curriculum_runs_resume_exactly_and_stop_on_time(tmp_path):
    common = ["--level", "gen:*", "--curriculum", "0.5", "--levels-per-gen", "3", "--pop", "30", "--quiet"]
    assert cli(["evolve", *common, "--generations", "6", "--out", str(tmp_path / "whole")]) == 0
    # A time limit that has passed after the first generation: it stops there, checkpointed.
    cut = Run.create(
        ["gen:*"], curriculum=0.5, levels_per_gen=3, pop=30, generations=6, out=tmp_path / "cut", time_limit=1e-9
    ).run()
    assert cut.out_of_time and not cut.interrupted and cut.generations_run == 1
    stats = (tmp_path / "cut" / "stats.jsonl").read_text().splitlines()
    assert len(stats) == 1
    assert cli(["evolve", "--resume", str(tmp_path / "cut")]) == 0
    whole = (tmp_path / "whole" / "stats.jsonl").read_text().splitlines()
    assert (tmp_path / "cut" / "stats.jsonl").read_text().splitlines() == whole
    rows = [json.loads(line) for line in whole]
    assert all(len(r["levels"]) == 3 and all(lv.startswith("gen:") for lv in r["levels"]) for r in rows)
    assert len({lv for r in rows for lv in r["levels"]}) == 18  # fresh levels every generation
    args = json.loads((tmp_path / "whole" / "args.json").read_text())
    assert args["curriculum"] == 0.5 and args["levels"][0] == "gen:*:1"


def test_cli_refuses_mixed_sets_in_one_line(tmp_path, capsys):
    assert cli(["evolve", "--level", "gen:*", "--level", "1-1", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "cannot be mixed" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_a_huge_generated_range_is_made_as_drawn_not_up_front(tmp_path, monkeypatch):
    """`gen:0-99999` with two levels a generation: only the drawn levels are ever made, and the run folder
    names the range, not 100,000 ids."""
    from tilerunner.envs import generator

    made: list[int] = []
    original = generator.generate_text
    monkeypatch.setattr(
        generator, "generate_text", lambda seed, difficulty: made.append(seed) or original(seed, difficulty)
    )
    folder = tmp_path / "run"
    result = Run.create(["gen:0-99999:2"], levels_per_gen=2, pop=10, generations=2, out=folder).run()
    assert len(result.levels) == 100_000 and result.stats[1]["levels"][0].startswith("gen:")
    assert 0 < len(made) <= 4  # two draws of two levels
    assert json.loads((folder / "args.json").read_text())["levels"] == ["gen:0-99999:2"]
    again = Run.resume(folder, generations=3).run()  # the checkpoint names the levels, which are made again
    assert again.stats[:2] == result.stats and len(made) <= 6


def test_a_set_packed_a_draw_at_a_time_plays_as_one_packed_once(tmp_path, monkeypatch):
    from tilerunner.evolve.core import level_plan

    settings = dict(levels_per_gen=3, pop=20, seed=5, generations=3)
    resident = Run.create(["gen:10-19:2"], **settings).run()
    monkeypatch.setattr(level_plan, "RESIDENT_LEVELS", 5)
    drawn = Run.create(["gen:10-19:2"], **settings).run()
    assert drawn.stats == resident.stats


@pytest.mark.parametrize("spec", ["gen:1-3:11", "gen:1-3:0", "gen:1-3:x"])
def test_a_range_with_a_bad_difficulty_is_named_as_a_range(spec, tmp_path, capsys):
    assert cli(["evolve", "--level", spec, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert not (tmp_path / "run").exists()
    assert f"{spec}: bad generator range: DIFFICULTY must be a whole number from 1 to 10" in err
