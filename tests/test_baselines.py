"""Baselines beside every figure (issue 21): `hold-right` and `rules` as kernels, `planner`, `eval --baseline`.

Everything here plays tiny levels written in the tests (never the shared public levels): a flat
run with small gaps, a wide gap, a tall wall and a walker, each placed where holding Right and
hopping fails, so that what the rules controller adds is seen, under both jump rules.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numba
import numpy as np
import pytest

from tilerunner.envs import foresight as F
from tilerunner.envs import physics as P
from tilerunner.envs.level import load_level, parse_level
from tilerunner.envs.observe import observe_inputs
from tilerunner.envs.solver import search
from tilerunner.evolve import baselines
from tilerunner.evolve.baselines import senses as S
from tilerunner.evolve.baselines.play import (
    CONTROLLERS,
    controller_buttons,
    controller_id,
    play_controller_ids,
    play_controllers,
)
from tilerunner.evolve.baselines.rules import rules_buttons
from tilerunner.evolve.commands.cli import main
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.rollout import episode_outcome, pack_levels
from tilerunner.evolve.runs.evaluation import BASELINES, NO_PLAN, WALLED_IN, baseline_results, evaluate, planner_outcome
from tilerunner.evolve.runs.replay import load_replay, shipped_replays

RULES = ("hold", "press")


def level(ground: str, row: str | None = None, sky: int = 3, name: str = "mine/test.txt"):
    """A level of `sky` empty rows, a row with the start (and enemies), and two rows of `ground`."""
    width = len(ground)
    row = row or "M" + "-" * (width - 2) + "F"
    return parse_level("\n".join(["-" * width] * sky + [row, ground, ground]) + "\n", name)


SMALL_GAPS = level("XXXXXXXXXX-XXXXXXXXXX-XXXXXXXXXX-XXXXXXXX")
WIDE_GAP = level("X" * 12 + "-" * 5 + "X" * 20)  # 5 tiles, 12 from the start: a running jump from its edge


def wall_level(height: int = 5) -> object:
    """A wall `height` tiles tall four tiles from the start: more than a standing jump clears (4.5 tiles)."""
    width = 20
    rows = ["-" * width for _ in range(8)]
    for r in range(8 - height, 8):
        rows[r] = rows[r][:4] + "X" + rows[r][5:]
    rows[-1] = "M" + rows[-1][1:-1] + "F"
    ground = "X" * width
    return parse_level("\n".join([*rows, ground, ground]) + "\n", "mine/wall.txt")


def walker_level(at: int) -> object:
    """A walker `at` tiles from the start, on flat ground."""
    row = ["-"] * (at + 16)
    row[0], row[at], row[-1] = "M", "g", "F"
    return level("X" * len(row), "".join(row), name="mine/walker.txt")


# Where hopping meets the walker: a hop's landing points are fixed, so each rule has its own spot.
WALKER_AT = {"hold": 17, "press": 8}


def outcomes(lv, rule: str) -> dict:
    hold_right, rules = play_controllers(["hold-right", "rules"], [lv], EpisodeSettings(jump_rule=rule))
    return {"hold-right": hold_right[0], "rules": rules[0]}


# ---------------------------------------------------------------------------------------------
# hold-right: the Mario AI ForwardJumpingAgent


@pytest.mark.slow
def test_hold_right_under_press_lets_go_of_a_once_after_each_landing_and_finishes_small_gaps():
    o, buttons = controller_buttons("hold-right", SMALL_GAPS, EpisodeSettings(jump_rule="press"))
    assert o.finished
    assert all(b & P.RIGHT and b & P.B for b in buttons)
    pressed = "".join("A" if b & P.A else "." for b in buttons)
    presses = [run for run in pressed.split(".") if run]
    assert len(presses) >= 4 and ".." not in pressed  # A re-pressed at the next decision, every time
    # Under hold the same controller holds A the whole way: jumping again on landing needs no release.
    o, buttons = controller_buttons("hold-right", SMALL_GAPS, EpisodeSettings(jump_rule="hold"))
    assert o.finished and all(b & P.A for b in buttons)


def test_hold_right_replayed_through_the_physics_gives_the_same_row():
    """The kernel plays as rollout plays a genome: its buttons, held frame_skip frames each, give its row."""
    for rule in RULES:
        settings = EpisodeSettings(jump_rule=rule)
        for name in CONTROLLERS:
            o, buttons = controller_buttons(name, WIDE_GAP, settings)
            s = settings.kernel_settings()
            tiles, state, enemies = P.new_world(WIDE_GAP, s.jump_rule)
            for b in buttons:
                P.advance(tiles, state, enemies, int(b), s.frame_skip, s.max_frames, s.stall_frames)
            assert episode_outcome(state, s) == o


# ---------------------------------------------------------------------------------------------
# rules: finishes what hopping does not


@pytest.mark.slow
@pytest.mark.parametrize("rule", RULES)
def test_rules_jumps_a_wide_gap_from_its_edge_where_hopping_falls_in(rule):
    got = outcomes(WIDE_GAP, rule)
    assert (got["hold-right"].status, got["hold-right"].cause) == ("dead", "pit")
    assert got["rules"].finished


@pytest.mark.parametrize("rule", RULES)
def test_rules_climbs_a_wall_too_tall_for_a_standing_jump(rule):
    got = outcomes(wall_level(5), rule)
    assert got["hold-right"].status == "stalled"
    assert got["rules"].finished


@pytest.mark.parametrize("rule", RULES)
def test_rules_gets_past_a_walker_that_hopping_lands_on(rule):
    got = outcomes(walker_level(WALKER_AT[rule]), rule)
    assert (got["hold-right"].status, got["hold-right"].cause) == ("dead", "enemy")
    assert got["rules"].finished


def test_controllers_are_deterministic_and_the_same_on_one_thread_or_two():
    levels = [SMALL_GAPS, WIDE_GAP, wall_level(5), walker_level(8), *(load_level(f"gen:{n}:3") for n in (1, 2, 3))]
    pack = pack_levels(levels)
    ids = np.array([controller_id(n) for n in CONTROLLERS], dtype=np.int64)
    before = numba.get_num_threads()
    try:
        for rule in RULES:
            s = EpisodeSettings(jump_rule=rule).kernel_settings()
            numba.set_num_threads(1)
            one = play_controller_ids(ids, pack, s)
            numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
            two = play_controller_ids(ids, pack, s)
            again = play_controller_ids(ids, pack, s)
            assert np.array_equal(one, two) and np.array_equal(two, again)
            assert one[controller_id("rules"), :4, 1].all()  # the rules finish the four built here
    finally:
        numba.set_num_threads(before)


# ---------------------------------------------------------------------------------------------
# rules decides on foresight: the physics' own forecasts (`tilerunner.envs.foresight`), not a copy of its own


def rules_senses(level, *pre: tuple[int, int]) -> np.ndarray:
    """What `rules` senses after holding each (buttons, frames) of `pre` from the start of `level`."""
    tiles, state, enemies = P.new_world(level)
    for buttons, frames in pre:
        P.advance(tiles, state, enemies, buttons, frames, 0, 0)
    senses = np.zeros(S.N_SENSES)
    sight = F.sight_buffers(S.RADIUS, 5)
    observe_inputs(tiles, state, enemies, S.RADIUS, S.SENSES, senses, sight)
    return senses


def foreseen(senses: np.ndarray, **moves: tuple[float, float]) -> np.ndarray:
    """`senses` with the foresight of each named move (`keep_a=...`) set to (progress, dies)."""
    out = senses.copy()
    rows = out[S.FORESIGHT_AT :].reshape(len(F.MOVES), F.N_PARTS)  # a view into `out`
    for name, (progress, dies) in moves.items():
        rows[F.MOVES.index(name.replace("_", "-")), :2] = progress, dies
    return out


def test_rules_decides_on_what_foresight_says_and_nothing_else_of_the_physics():
    decide = rules_buttons
    run, jump = P.RIGHT | P.B, P.RIGHT | P.B | P.A
    ground = rules_senses(SMALL_GAPS)  # standing at the start, nothing near: every move safe
    assert decide(ground) == run
    assert decide(foreseen(ground, run=(0.1, 1))) == jump  # running on dies: jump instead
    assert decide(foreseen(ground, run=(0.1, 1), jump=(0.5, 1))) == P.B  # neither: wait
    assert decide(foreseen(ground, run=(0.1, 1), jump=(0.5, 1), wait=(0, 1))) == P.LEFT | P.B  # back off
    air = rules_senses(SMALL_GAPS, (P.RIGHT | P.B | P.A, 8))  # rising, A held: keep-a applies
    assert decide(air) & P.A
    assert decide(foreseen(air, keep_a=(0.9, 1))) == P.RIGHT | P.B  # holding on dies: let go
    assert decide(foreseen(air, keep_a=(0.9, 1), let_go=(0.8, 1), drift=(0.2, 0))) == P.B
    dying = {"keep_a": (0.9, 1), "let_go": (0.8, 1), "drift": (0.7, 1)}
    assert decide(foreseen(air, **dying, steer_back=(-0.2, 0))) == P.LEFT | P.B  # only backing off lives
    # The controllers keep no copy of the player's motion: no simulator, none of its constants.
    motion = ("WALK_MAX", "RUN_MAX", "RUN_ACCEL", "AIR_ACCEL", "JUMP_V", "RUN_JUMP_V", "GRAVITY", "MAX_FALL")
    sources = sorted(Path(baselines.__file__).parent.glob("*.py"))
    assert len(sources) > 1
    for path in sources:
        source = path.read_text()
        assert "_simulate" not in source, path.name
        assert not [name for name in motion if f"P.{name}" in source or f" {name}," in source], path.name


def test_rules_on_foresight_beats_holding_right_on_generated_levels():
    levels = [load_level(f"gen:{seed}:3") for seed in range(1, 7)]
    for rule in RULES:
        hold_right, rules = play_controllers(["hold-right", "rules"], levels, EpisodeSettings(jump_rule=rule))
        assert sum(o.finished for o in rules) > sum(o.finished for o in hold_right) + 1, rule
        assert sum(o.distance for o in rules) > sum(o.distance for o in hold_right), rule


# What `rules` finished of the built-in levels before it decided on foresight (measured on commit 8f358e7, when it
# simulated jumps with its own copy of the physics): with foresight it must finish as many, and these still but for
# the one it lost: 2-3 under press, where it stomps a spiky enemy that the old copy's guesses happened to avoid.
RULES_FINISHED_BEFORE = {"hold": {"1-2", "2-1", "2-2"}, "press": {"1-2", "1-3", "2-1", "2-2", "2-3"}}
RULES_LOST = {"hold": set(), "press": {"2-3"}}


@pytest.mark.parametrize("rule", RULES)
def test_rules_on_foresight_finishes_the_builtin_levels_it_finished_before(rule):
    ids = [f"{world}-{stage}" for world in (1, 2) for stage in range(1, 5)]
    (rows,) = play_controllers(["rules"], [load_level(i) for i in ids], EpisodeSettings(jump_rule=rule))
    finished = {i for i, o in zip(ids, rows) if o.finished}
    lost = {
        i: f"{o.status} {o.cause} at {o.distance:.0f} px"
        for i, o in zip(ids, rows)
        if i in RULES_FINISHED_BEFORE[rule] - finished - RULES_LOST[rule]
    }
    assert not lost, lost
    assert len(finished) >= len(RULES_FINISHED_BEFORE[rule])


def test_an_unknown_controller_is_a_one_line_value_error():
    with pytest.raises(ValueError, match="unknown controller 'forward'; the controllers are hold-right, rules"):
        controller_id("forward")
    with pytest.raises(ValueError, match="unknown baseline"):
        baseline_results(["forward"], [WIDE_GAP], EpisodeSettings())


# ---------------------------------------------------------------------------------------------
# planner: the solver's solutions, played back under the episode rules

PIT = level("XX" + "-" * 28, name="mine/pit-1.txt")  # nothing to stand on after column 2
SHUT = parse_level("SSSS----------\nM--t---------F\nXXXXXXXXXXXXXX\n", "mine/shut-1.txt")  # walled in


@pytest.mark.slow
def test_the_planner_finishes_what_the_solver_solves_and_says_why_it_did_not():
    levels = [WIDE_GAP, PIT, SHUT]
    settings = EpisodeSettings(jump_rule="press")
    searches = [search(lv, rule=P.PRESS) for lv in levels]
    (rows,) = baseline_results(["planner"], levels, settings, searches)
    assert rows[0].outcome.finished and rows[0].progress == 1.0
    assert rows[0].outcome.frames == searches[0].solution.frames  # its solution, played back
    assert [r.outcome.status for r in rows[1:]] == [NO_PLAN, WALLED_IN]
    assert all(not r.outcome.finished and r.progress == 0.0 for r in rows[1:])
    assert planner_outcome(WIDE_GAP, searches[0], settings) == rows[0].outcome
    with pytest.raises(ValueError, match="needs the solver's search"):
        baseline_results(["planner"], levels, settings)


# ---------------------------------------------------------------------------------------------
# tilerunner eval --baseline


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def write_levels(tmp_path) -> str:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "gap-1.txt").write_text(WIDE_GAP.text)
    (folder / "wall-1.txt").write_text(wall_level(5).text)
    (folder / "walker-1.txt").write_text(walker_level(WALKER_AT["press"]).text)
    return str(folder)


def test_eval_baselines_print_rows_above_the_genomes_and_write_them_to_json(tmp_path, capsys):
    levels = write_levels(tmp_path)
    code, out, _ = run_cli(
        capsys,
        "eval",
        "1-1-f2475",
        "--baseline",
        "rules",
        "--baseline",
        "hold-right",
        "--baseline",
        "rules",
        "--level",
        levels,
        "--level",
        "1-1",
        "--jump-rule",
        "press",
        "--json",
        tmp_path / "out.json",
    )
    assert code == 0
    lines = out.splitlines()
    heads = [ln for ln in lines if not ln.startswith(" ")]
    assert heads[:3] == [
        "baseline: rules: 4 levels, jump rule press",  # each baseline once, in the order given
        "baseline: hold-right: 4 levels, jump rule press",
        "1-1-f2475.json: 4 levels, jump rule press",
    ]
    rules_total = next(ln for ln in lines[lines.index(heads[0]) :] if ln.startswith("  total"))
    assert rules_total.split()[:3] == ["total", "finished", "4/4"]  # the three built here, and the built-in 1-1
    assert {ln.split()[0] for ln in lines[1:6]} == {"gap", "wall", "walker", "built-in", "total"}
    data = json.loads((tmp_path / "out.json").read_text())
    assert [(b["baseline"], b["jump_rule"]) for b in data["baselines"]] == [("rules", "press"), ("hold-right", "press")]
    (genome,) = data["genomes"]
    assert genome["baseline"] is None and genome["jump_rule"] == "press"
    rules = data["baselines"][0]
    assert rules["total"]["finished"] == sum(r["finished"] for r in rules["levels"]) == 4
    assert [r["level"].split("/")[-1] for r in rules["levels"]] == ["gap-1.txt", "walker-1.txt", "wall-1.txt", "1-1"]
    hold_right = data["baselines"][1]
    assert {r["level"].split("/")[-1]: r["status"] for r in hold_right["levels"][:3]} == {
        "gap-1.txt": "dead",
        "walker-1.txt": "dead",
        "wall-1.txt": "stalled",
    }
    # The genome played under --jump-rule press, as `evaluate` plays it under that rule.
    replay = load_replay(shipped_replays() / "1-1-f2475.json")
    (expected,) = evaluate(replay, ["1-1"], replace(replay.settings, jump_rule="press"))
    assert genome["levels"][-1]["frames"] == expected.frames and genome["levels"][-1]["status"] == expected.status


def test_eval_baselines_alone_play_by_hold_and_the_planner_comes_with_the_solver(tmp_path, capsys):
    levels = write_levels(tmp_path)
    code, out, err = run_cli(
        capsys, "eval", "--baseline", "planner", "--level", levels, "--solve", "--json", tmp_path / "out.json"
    )
    assert code == 0 and "searching 3 levels" in err
    assert out.splitlines()[0] == "baseline: planner: 3 levels, jump rule hold"
    assert "finished    3/3    (100%)  of solvable    3/3    (100%)  progress 100%" in out
    data = json.loads((tmp_path / "out.json").read_text())
    assert data["genomes"] == [] and data["solver"]["solved"] == 3
    assert data["baselines"][0]["baseline"] == "planner" and data["baselines"][0]["jump_rule"] == "hold"


def test_baselines_need_one_jump_rule_from_replays_that_differ(tmp_path, capsys):
    press = json.loads((shipped_replays() / "1-1-f2475.json").read_text())
    press["settings"]["jump_rule"] = "press"
    (tmp_path / "press.json").write_text(json.dumps(press))
    code, _, err = run_cli(
        capsys, "eval", "1-1-f2475", tmp_path / "press.json", "--baseline", "rules", "--level", "1-1"
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "the replays play by different jump rules (hold, press); give --jump-rule" in err
    code, out, _ = run_cli(
        capsys,
        "eval",
        "1-1-f2475",
        tmp_path / "press.json",
        "--baseline",
        "rules",
        "--level",
        "1-1",
        "--jump-rule",
        "hold",
    )
    assert code == 0 and out.count("jump rule hold") == 3


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["eval", "--baseline", "forward", "--level", "1-1"], "argument --baseline: invalid choice: 'forward'"),
        (["eval", "--level", "1-1"], "give replay files to evaluate, or --baseline hold-right|rules|planner"),
        (["eval", "--baseline", "rules", "--level", "1-1", "--jump-rule", "jump"], "argument --jump-rule: invalid"),
    ],
)
def test_bad_baseline_input_is_one_line_and_exit_code_2(capsys, argv, needle):
    try:
        code = main(argv)
    except SystemExit as done:  # argparse's own refusals
        code = done.code
    err = capsys.readouterr().err
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_the_eval_help_names_every_baseline_of_the_library(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "1000")  # one line a flag: no name broken at its hyphen
    with pytest.raises(SystemExit) as done:
        main(["eval", "--help"])
    assert done.value.code == 0
    options = " ".join(capsys.readouterr().out.split("\noptions:", 1)[1].split())
    baseline = options[options.index("--baseline") : options.index("--jump-rule")]  # the flag and its help
    assert baseline.startswith(f"--baseline {'|'.join(BASELINES)} ")  # every one is accepted ...
    for name in BASELINES:  # ... and each is said in a few words of its own
        assert re.search(rf"[:;] {name}, \w+[^;]{{20,}}(;|\(repeat)", baseline), (name, baseline)


# ---------------------------------------------------------------------------------------------
# tilerunner bench generalize: the baselines' lines above the champion's


def test_bench_generalize_prints_the_baselines_above_its_champion_under_its_jump_rule(tmp_path, capsys, monkeypatch):
    import tilerunner.evolve.bench.generalize as generalize

    monkeypatch.setattr(generalize, "HELD_OUT_GEN", ["gen:500000-500003:1"])
    public = tmp_path / "public"
    public.mkdir()
    (public / "mine-lvl-1.txt").write_text(WIDE_GAP.text)
    (public / "mine-lvl-2.txt").write_text(wall_level(5).text)
    argv = [
        "bench",
        "generalize",
        "--public",
        public,
        "--level",
        "gen:*:1",
        "--seeds",
        "1",
        "--time-limit",
        "0.01",
        "--pop",
        "20",
        "--levels-per-gen",
        "2",
        "--validate-every",
        "1",
        "--workers",
        "1",
        "--out",
        tmp_path / "runs",
        "--jump-rule",
        "press",
    ]
    code, out, _ = run_cli(capsys, *argv, "--json", tmp_path / "r.json")
    assert code == 0
    heads = [ln for ln in out.splitlines() if ln.startswith(("baseline:", "champion:"))]
    assert [h.split(" (")[0] for h in heads] == [
        "baseline: hold-right",
        "baseline: rules",
        "champion: seed 0's best on the picking levels",
    ]
    assert all(h.endswith("jump rule press") for h in heads[:2])
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["jump_rule"] == "press" and load_replay(report["champion"]).settings.jump_rule == "press"
    assert set(report["baselines"]) == {"hold-right", "rules"}
    rules = report["baselines"]["rules"]
    assert set(rules) == set(report["report"]) and rules["public held-out"]["finished"] == 1  # the wall, lvl-2
    assert report["baselines"]["hold-right"]["public held-out"]["ended"] == {"stalled": 1}
    # The runs in --out evolve under press: asking for hold there is one line, and nothing is trained.
    code, _, err = run_cli(capsys, *argv[:-2], "--jump-rule", "hold")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "its run evolves under the press jump rule, not hold; give --jump-rule press, or another --out" in err
