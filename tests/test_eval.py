"""`tilerunner eval`: saved genomes on sets of levels, per group and in total, as the kernel plays them."""

from __future__ import annotations

import json
import pathlib

import pytest

from tilerunner.envs.level import LevelError, level_set, load_level
from tilerunner.evolve.commands.cli import main
from tilerunner.evolve.runs.replay import load_replay, play, shipped_replays

ROOT = pathlib.Path(__file__).resolve().parents[1]
FLAT = "-" * 30 + "\n" + "M" + "-" * 29 + "\n" + "X" * 30 + "\n"  # walk right to finish
PIT = "-" * 30 + "\n" + "M" + "-" * 29 + "\n" + "XX" + "-" * 28 + "\n"  # nothing to stand on after column 2


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
    code, out, _ = run_cli(capsys, "eval", "2-3-f3311", "--level", "2-3", "--level", "gen:1-4:3",
                           "--level", levels, "--json", tmp_path / "out.json")
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
        outcome, _ = play(replay.genome, replay.network, load_level(row["level"]), replay.settings)
        assert (row["frames"], row["distance"], row["status"]) == (outcome.frames, outcome.distance, outcome.status)


def test_eval_takes_a_folder_of_replays_and_reports_every_genome(capsys):
    code, out, _ = run_cli(capsys, "eval", ROOT / "replays", "--level", "1-1")
    assert code == 0 and out.count(": 1 levels") == 8
    assert "8 genomes x 1 levels in" in out


@pytest.mark.parametrize("argv, needle", [
    (["eval", "nope.json", "--level", "1-1"], "nope.json: no such replay file"),
    (["eval", "1-1-f2475", "--level", "gen:9-3"], "bad generator range"),
    (["eval", "1-1-f2475", "--level", "no/such/*.txt"], "matches no level file"),
])
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
