"""Issue 21's search levers: fitness measured against hold-right on each level, and rechecking the best genomes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tilerunner.envs.level import parse_level
from tilerunner.evolve.commands.cli import main as cli
from tilerunner.evolve.core.fitness import EpisodeSettings, baseline_fitness, relative_fitness
from tilerunner.evolve.core.level_plan import FRESH_SEEDS, RECHECK_SHARE, LevelPlan
from tilerunner.evolve.core.outcome import FIELDS, R_FITNESS, OutcomeTable
from tilerunner.evolve.runs.evaluation import genome_results
from tilerunner.evolve.runs.replay import NetworkShape, load_replay, verify
from tilerunner.evolve.runs.run import Run

# Hold-right runs this one to the exit, and dies in the wide pit of the other near its start.
FLAT = parse_level("-" * 30 + "\nM" + "-" * 28 + "F\n" + "X" * 30 + "\n", "flat.txt")
WIDE_PIT = parse_level(
    "\n".join(["-" * 40] * 12 + ["-M" + "-" * 37 + "F"] + ["X" * 6 + "-" * 14 + "X" * 20] * 2) + "\n", "wide-pit.txt"
)
RELATIVE = EpisodeSettings(relative_to="hold-right")


def rows(per_level: list[list[float]]) -> OutcomeTable:
    array = np.zeros((len(per_level), 2, FIELDS))
    array[:, :, R_FITNESS] = per_level
    return OutcomeTable(array, [FLAT, WIDE_PIT])


def fitness_table(fitness: np.ndarray, levels) -> OutcomeTable:
    array = np.zeros((*fitness.shape, FIELDS))
    array[:, :, R_FITNESS] = fitness
    return OutcomeTable(array, levels)


def test_hold_right_finishes_the_flat_level_and_not_the_wide_pit():
    h = baseline_fitness([FLAT, WIDE_PIT], RELATIVE)
    assert h[0] > RELATIVE.finish_bonus  # finished
    assert h[1] < WIDE_PIT.exit_px / 2  # fell in, short of halfway
    assert np.array_equal(baseline_fitness([WIDE_PIT, FLAT], RELATIVE), h[::-1])  # per level, kept


def test_each_level_counts_from_minus_to_plus_1000_against_hold_right():
    h = baseline_fitness([FLAT, WIDE_PIT], RELATIVE)
    room = np.array([FLAT.exit_px, WIDE_PIT.exit_px]) + RELATIVE.finish_bonus  # finishing at once
    table = rows([list(h), list(room), [0.0, h[1] + (room[1] - h[1]) / 2]])
    relative = relative_fitness(table.fitness, table.levels, RELATIVE)
    assert np.allclose(relative[0], 0.0)  # playing as hold-right does is worth nothing
    assert relative[1, 1] == pytest.approx(1000.0)  # finishing at once where hold-right fell
    assert relative[2, 0] == pytest.approx(-1000.0)  # nothing where hold-right finished
    assert relative[2, 1] == pytest.approx(500.0)  # half the room it left, whatever the level's length
    assert np.allclose(RELATIVE.combine(table), relative.mean(axis=1))


def test_the_setting_is_checked_recorded_and_absent_means_none():
    with pytest.raises(ValueError, match="relative_to must be one of none, hold-right"):
        EpisodeSettings(relative_to="rules")
    assert EpisodeSettings.from_dict(RELATIVE.as_dict()) == RELATIVE
    old = {k: v for k, v in RELATIVE.as_dict().items() if k != "relative_to"}
    assert EpisodeSettings.from_dict(old).relative_to == "none"
    assert "relative_to" not in RELATIVE.kernel_settings()._fields


def test_recheck_levels_are_more_of_the_set_never_in_the_draw_and_repeatable():
    plan = LevelPlan.from_specs(["gen:0-39:1"], per_gen=5, recheck=8)
    levels, drawn = plan.draw(seed=3, generation=2)
    more, indices = plan.recheck_levels(3, 2, 0, drawn)
    assert len(more) == 8 and set(indices).isdisjoint(drawn) and indices == sorted(indices)
    assert [lv.id for lv in more] == [plan.levels[i].id for i in indices]
    assert plan.recheck_levels(3, 2, 0, drawn)[1] == indices
    assert plan.recheck_levels(3, 3, 0, drawn)[1] != indices
    staged = LevelPlan.from_specs(["gen:0-9:1"], per_gen=3, recheck=7, curriculum=0.8)  # stage 1: 6 levels
    _, drawn = staged.draw(seed=3, generation=0, stage=1)
    assert sorted(staged.recheck_levels(3, 0, 1, drawn)[1] + drawn) == list(range(6))  # what is left, no more
    fresh = LevelPlan.from_specs(["gen:*:2"], per_gen=4, recheck=3)
    drawn_ids = {lv.id for lv in fresh.draw(seed=3, generation=0)[0]}
    more, indices = fresh.recheck_levels(3, 0, 0, [])
    assert len(more) == 3 and indices == [] and drawn_ids.isdisjoint(lv.id for lv in more)
    assert all(FRESH_SEEDS[0] <= int(lv.id.split(":")[1]) for lv in more)


@pytest.mark.parametrize(
    "specs, per_gen, recheck, message",
    [
        (["gen:0-9:1"], None, 3, "recheck needs a draw"),
        (["gen:0-9:1"], 3, 0, "recheck must be a number of levels from 1 to 10,000"),
        (["gen:0-9:1"], 3, 10_001, "recheck must be"),
    ],
)
def test_a_recheck_that_cannot_work_is_refused(specs, per_gen, recheck, message):
    with pytest.raises(ValueError, match=message):
        LevelPlan.from_specs(specs, per_gen=per_gen, recheck=recheck)


@pytest.mark.parametrize(
    "per_gen, recheck, message",
    [
        (5, 6, "recheck 6: the set has 10 levels and a generation draws 5 (levels_per_gen): at most 5 are left"),
        (10, 1, "recheck 1: the set has 10 levels and a generation plays all of them (levels_per_gen 10): none is"),
    ],
)
def test_a_recheck_beyond_the_levels_a_draw_leaves_is_refused_naming_the_parameters(
    tmp_path, per_gen, recheck, message
):
    # Before: silently fewer (every level the draw left), whatever N said.
    with pytest.raises(ValueError) as info:
        LevelPlan.from_specs(["gen:0-9:1"], per_gen=per_gen, recheck=recheck)
    assert message in str(info.value)
    with pytest.raises(ValueError) as info:
        Run.create(["gen:0-9:1"], levels_per_gen=per_gen, recheck=recheck, out=tmp_path / "run")
    assert message in str(info.value) and not (tmp_path / "run").exists()
    assert LevelPlan.from_specs(["gen:0-9:1"], per_gen=5, recheck=5).recheck == 5  # every level left is allowed


def test_the_cli_refuses_a_recheck_beyond_the_set_in_one_line_naming_the_flags(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["evolve", "--level", "gen:0-9:1", "--levels-per-gen", "5", "--recheck", "6", "--generations", "1"]
    argv += ["--pop", "20", "--quiet", "--out", str(out)]
    assert cli(argv) == 2 and not out.exists()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--recheck 6: the set has 10 levels" in err and "(--levels-per-gen):" in err
    assert "levels_per_gen" not in err
    with pytest.raises(SystemExit):
        cli(["evolve", "--help"])
    assert "at most the levels a draw leaves" in " ".join(capsys.readouterr().out.split())


def test_the_best_genomes_fitness_is_over_the_draw_and_the_recheck_together():
    run = Run.create(["gen:0-29:1", "gen:0-29:3"], pop=30, seed=2, levels_per_gen=3, recheck=5, settings=RELATIVE)
    ev = run.evolution
    genomes = list(ev.population.population.values())
    summary = ev.play_generation()
    assert len(summary.rechecked) == 5 and set(summary.rechecked).isdisjoint(summary.level_ids)
    assert summary.stats()["rechecked"] == summary.rechecked
    by_id = {lv.id: lv for lv in ev.levels}
    both = summary.levels + [by_id[i] for i in summary.rechecked]
    shape = NetworkShape.from_genome_config(ev.config.genome_config)
    played = genome_results(genomes, shape, ev.settings, both)
    fitness = np.array([[r.outcome.fitness for r in g] for g in played])
    over_both = RELATIVE.combine(fitness_table(fitness, both))
    over_draw = RELATIVE.combine(fitness_table(fitness[:, :3], summary.levels))
    top = np.argsort(-over_draw, kind="stable")[: round(RECHECK_SHARE * 30)]
    expected = over_draw.copy()
    expected[top] = over_both[top]
    assert np.allclose([g.fitness for g in genomes], expected)
    assert summary.best_fitness == pytest.approx(expected.max())


def test_a_run_with_both_levers_resumes_into_the_same_run(tmp_path):
    def create(out, generations):
        return Run.create(
            ["gen:0-19:1", "gen:0-19:4"],
            pop=20,
            seed=5,
            levels_per_gen=3,
            recheck=4,
            settings=RELATIVE,
            generations=generations,
            out=out,
        )

    straight = create(tmp_path / "a", 4).run()
    create(tmp_path / "b", 2).run()
    resumed = Run.resume(tmp_path / "b", generations=4).run()
    assert resumed.stats == straight.stats
    assert all(len(row["rechecked"]) == 4 for row in straight.stats)
    args = json.loads((tmp_path / "a" / "args.json").read_text())
    assert args["recheck"] == 4 and args["settings"]["relative_to"] == "hold-right"
    champion = load_replay(sorted((tmp_path / "a" / "champions").glob("gen-*.json"))[-1])
    assert champion.settings == RELATIVE and all(check.identical for check in verify(champion))


def test_the_cli_takes_both_levers_and_refuses_them_on_resume(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli(["evolve", "--level", "gen:0-9:1", "--recheck", "3", "--quiet", "--out", str(out)]) == 2
    assert "recheck needs a draw" in capsys.readouterr().err and not out.exists()
    assert (
        cli(
            [
                "evolve",
                "--level",
                "gen:0-9:1",
                "--levels-per-gen",
                "2",
                "--recheck",
                "3",
                "--relative-to",
                "hold-right",
                "--pop",
                "20",
                "--generations",
                "1",
                "--quiet",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    args = json.loads((out / "args.json").read_text())
    assert args["recheck"] == 3 and args["settings"]["relative_to"] == "hold-right"
    capsys.readouterr()
    for flag, value in (("--recheck", "5"), ("--relative-to", "none")):
        assert cli(["evolve", "--resume", str(out), flag, value]) == 2
        assert f"{flag} cannot be changed when resuming" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        cli(["evolve", "--relative-to", "rules"])
    assert exit_.value.code == 2
