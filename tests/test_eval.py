"""`tilerunner eval`: saved genomes on sets of levels, per group and in total, as the kernel plays them."""

from __future__ import annotations

import json
import pathlib

import pytest

from tilerunner.envs.level import LevelError, level_set, load_level, parse_level
from tilerunner.evolve.commands.cli import main
from tilerunner.evolve.core.outcome import Outcome
from tilerunner.evolve.runs.evaluation import LevelResult, solvable_levels, summarize, trace, with_solvable
from tilerunner.evolve.runs.replay import load_replay, shipped_replays
from tilerunner.evolve.runs.solvable import search_levels, solvable

ROOT = pathlib.Path(__file__).resolve().parents[1]
FLAT = "-" * 30 + "\n" + "M" + "-" * 29 + "\n" + "X" * 30 + "\n"  # walk right to finish
PIT = "-" * 30 + "\n" + "M" + "-" * 29 + "\n" + "XX" + "-" * 28 + "\n"  # nothing to stand on after column 2
SHUT = "SSSS----------\nM--t---------F\nXXXXXXXXXXXXXX\n"  # a ceiling, a pipe and the level's edge around the start


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_eval_reports_each_group_and_a_total_and_writes_json(tmp_path, capsys):
    levels = tmp_path / "mine"
    levels.mkdir()
    (levels / "flat-1.txt").write_text(FLAT)
    (levels / "flat-2.txt").write_text(FLAT)
    (levels / "pit-1.txt").write_text(PIT)
    code, out, _ = run_cli(
        capsys,
        "eval",
        "2-3-f3311",
        "--level",
        "2-3",
        "--level",
        "gen:1-4:3",
        "--level",
        levels,
        "--json",
        tmp_path / "out.json",
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "2-3-f3311.json: 8 levels"
    groups = {ln.split()[0]: ln for ln in lines[1:6]}
    assert set(groups) == {"built-in", "gen:*:3", "flat", "pit", "total"}
    assert "finished    1/1    (100%)  progress 100%" in groups["built-in"]
    assert "finished    0/1" in groups["pit"] and "dead (pit)" in groups["pit"]
    data = json.loads((tmp_path / "out.json").read_text())
    (genome,) = data["genomes"]
    assert [r["level"] for r in genome["levels"]][:5] == ["2-3", "gen:1:3", "gen:2:3", "gen:3:3", "gen:4:3"]
    assert genome["total"]["levels"] == 8
    assert genome["total"]["finished"] == sum(r["finished"] for r in genome["levels"])
    assert f"finished {genome['total']['finished']:>4}/8 " in groups["total"]
    assert genome["groups"]["pit"]["mean_progress"] < 1.0
    # What the parallel kernel reports is what the replay recorded, and what `play` gives one level at a time.
    replay = load_replay(shipped_replays() / "2-3-f3311.json")
    first = genome["levels"][0]
    recorded = replay.episodes[0].outcome
    assert first["finished"] and first["frames"] == recorded.frames and first["fitness"] == recorded.fitness
    for row in genome["levels"][1:5]:
        outcome, _ = trace(replay.genome, replay.network, load_level(row["level"]), replay.settings)
        assert (row["frames"], row["distance"], row["status"]) == (outcome.frames, outcome.distance, outcome.status)


def test_eval_takes_a_folder_of_replays_and_reports_every_genome(capsys):
    shipped = len(list((ROOT / "replays").glob("*.json")))
    code, out, _ = run_cli(capsys, "eval", ROOT / "replays", "--level", "1-1")
    assert shipped >= 8 and code == 0 and out.count(": 1 levels") == shipped
    assert f"{shipped} genomes x 1 levels in" in out


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["eval", "nope.json", "--level", "1-1"], "nope.json: no such replay file"),
        (["eval", "1-1-f2475", "--level", "gen:9-3"], "bad generator range"),
        (["eval", "1-1-f2475", "--level", "no/such/*.txt"], "matches no level file"),
    ],
)
def test_bad_eval_input_is_one_line_and_exit_code_2(capsys, argv, needle):
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_eval_needs_a_level_set(capsys):
    with pytest.raises(SystemExit) as done:
        main(["eval", "1-1-f2475"])
    assert done.value.code == 2 and "--level" in capsys.readouterr().err


def test_generator_ranges_name_one_level_per_seed():
    assert level_set("gen:7-9:4") == ["gen:7:4", "gen:8:4", "gen:9:4"]
    assert level_set("gen:7-9") == ["gen:7", "gen:8", "gen:9"]
    assert level_set("gen:5") == ["gen:5"] and level_set("1-1") == ["1-1"]
    for bad in ("gen:9-7", "gen:a-3", "gen:0-200000"):
        with pytest.raises(LevelError):
            level_set(bad)


def test_eval_solve_gives_the_finished_share_of_the_solvable_levels_too(tmp_path, capsys):
    levels = tmp_path / "mine"
    levels.mkdir()
    (levels / "flat-1.txt").write_text(FLAT)
    (levels / "flat-2.txt").write_text(FLAT)
    (levels / "pit-1.txt").write_text(PIT)
    (levels / "shut-1.txt").write_text(SHUT)
    code, out, _ = run_cli(
        capsys,
        "eval",
        "2-3-f3311",
        "--level",
        "2-3",
        "--level",
        "gen:1-2:3",
        "--level",
        levels,
        "--solve",
        "--json",
        tmp_path / "out.json",
    )
    assert code == 0
    lines = out.splitlines()
    groups = {ln.split()[0]: ln for ln in lines[1:7]}
    assert "finished    1/1    (100%)  of solvable    1/1    (100%)  progress 100%" in groups["built-in"]
    assert "finished    2/2    (100%)  of solvable    2/2    (100%)" in groups["flat"]
    assert "finished    0/1    (  0%)  of solvable    0/0    (   -)" in groups["pit"]
    assert "finished    0/1    (  0%)  of solvable    0/0    (   -)" in groups["shut"]
    data = json.loads((tmp_path / "out.json").read_text())
    (genome,) = data["genomes"]
    finished = genome["total"]["finished"]
    assert (
        f"finished {finished:>4}/7    ({finished / 7:4.0%})  of solvable {finished:>4}/5    ({finished / 5:4.0%})"
        in groups["total"]
    )
    assert (
        "solvable: 5 of 7 levels (5 solved by the solver); the solver could not solve 2:"
        " no solution found for 1, 1 proved unfinishable (walled in); searched in "
    ) in out
    assert [r["solvable"] for r in genome["levels"]] == [True, True, True, True, True, False, False]
    assert genome["total"]["solvable"] == 5 and genome["total"]["finished_share_of_solvable"] == finished / 5
    assert genome["groups"]["pit"]["solvable"] == 0
    solver = data["solver"]
    assert (
        solver["levels"],
        solver["solvable"],
        solver["solved"],
        solver["no_solution_found"],
        solver["walled_in"],
    ) == (7, 5, 5, 1, 1)
    assert [r["solver"] for r in solver["per_level"]][-2:] == ["no solution found", "walled in"]


def test_eval_without_solve_says_nothing_of_solvable_levels(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "eval", "2-3-f3311", "--level", "2-3", "--json", tmp_path / "out.json")
    assert code == 0 and "solvable" not in out
    data = json.loads((tmp_path / "out.json").read_text())
    assert "solver" not in data and "solvable" not in json.dumps(data)


def _result(level, finished: bool) -> LevelResult:
    outcome = Outcome(
        fitness=0.0,
        finished=finished,
        distance=0.0,
        frames=1,
        coins=0,
        kills=0,
        status="finished" if finished else "dead",
        cause="" if finished else "pit",
    )
    return LevelResult(level, "mine", outcome, 1.0 if finished else 0.0)


def test_a_level_a_genome_finished_counts_as_solvable_even_if_the_solver_missed_it():
    a, b, c = (parse_level(FLAT, f"mine/{n}.txt") for n in "abc")
    genomes = [
        [_result(a, False), _result(b, True), _result(c, False)],
        [_result(a, False), _result(b, False), _result(c, False)],
    ]
    flags = solvable_levels([True, False, False], genomes)
    assert flags == [True, True, False]
    _, total = summarize(with_solvable(genomes[0], flags))
    assert (total.levels, total.finished, total.solvable) == (3, 1, 2) and total.finished_share_of_solvable == 0.5
    _, plain = summarize(genomes[0])
    assert plain.solvable is None and plain.finished_share_of_solvable is None and "solvable" not in plain.as_dict()


def test_solvable_is_the_same_whatever_the_threads_and_names_each_level():
    levels = [
        parse_level(text, f"mine/{name}.txt")
        for name, text in [("flat-1", FLAT), ("pit-1", PIT), ("shut-1", SHUT), ("flat-2", FLAT)]
    ] + [load_level("gen:5:2")]
    one = search_levels(levels, workers=1)
    two = search_levels(levels, workers=2)
    assert [s.level_id for s in one] == [lv.id for lv in levels]
    assert [(s.found, s.walled_in, s.beams, s.worlds) for s in one] == [
        (s.found, s.walled_in, s.beams, s.worlds) for s in two
    ]
    assert solvable(levels) == [True, False, False, True, True]


def test_ctrl_c_while_solving_on_threads_is_raised_again():
    levels = [
        parse_level(FLAT, "mine/flat.txt"),
        parse_level(PIT, "mine/pit-1.txt"),
        parse_level(PIT.replace("XX-", "X--"), "mine/pit-2.txt"),
    ]

    def interrupt(i, result):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        search_levels(levels, workers=2, done=interrupt)
