"""`--jump-rule press|hold` on every command that sets up episodes, and `gym.make(..., jump_rule=...)` (issue 21).

Each test checks that the rule reaches the world: a solver that searches under it, a run that
records it, a person's world that jumps by it, a genome played by it; and that a bad rule is
one line and exit code 2 wherever it is typed.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import itertools
import json
from dataclasses import replace
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from tilerunner.envs import ENV_ID
from tilerunner.envs import physics as P
from tilerunner.envs.buttons import RIGHT, A, B
from tilerunner.envs.level import load_level
from tilerunner.envs.observe import FEATURES
from tilerunner.envs.solver import final_state, parse_buttons
from tilerunner.evolve.commands.cli import build_parser, main
from tilerunner.evolve.flags import types as flag_types
from tilerunner.evolve.runs.evaluation import evaluate
from tilerunner.evolve.runs.replay import load_replay, shipped_replays, verify

LEVELS_DIR = Path(__file__).resolve().parents[1] / "envs" / "levels"
SHIPPED_1_1 = shipped_replays() / "1-1-f2475.json"  # learned under hold: it finishes 1-1 only by holding A
JUMP = np.array([0, 0, 0, 0, 1, 0], dtype=np.int8)  # A alone, held
# A pit 2 tiles wide where a running jump from the start lands: Right+B+A held clears it only under hold, whose
# held A jumps again on landing (press needs A let go on the ground first), and the player dies in it under press.
_PIT_GROUND = "X" * 5 + "--" + "X" * 6
PIT_AFTER_LANDING = (
    "\n".join(["-" * len(_PIT_GROUND)] * 12 + ["M" + "-" * (len(_PIT_GROUND) - 3) + "F-"] + [_PIT_GROUND] * 3) + "\n"
)

# Every command that sets up episodes, as typed up to the flag (replay needs a file; play and solve a level).
COMMANDS = [
    ["evolve"],
    ["play", "1-1"],
    ["levels", "solve", "1-1"],
    ["levels", "check", "x.txt", "--solve"],
    ["replay", "1-1-f2475", "--level", "1-1"],
    ["bench", "learn"],
    ["bench", "env"],
    ["bench", "evolve"],
    ["bench", "ray"],
    ["bench", "watch"],
]


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str, needle: str) -> None:
    assert code == 2 and len(err.strip().splitlines()) == 1 and needle in err, (code, err)


def _subparser(path: list[str]) -> argparse.ArgumentParser:
    parser = build_parser()
    for name in path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


def _commands_with_the_flag() -> set[tuple[str, ...]]:
    found = set()

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, (*path, name))
            elif "--jump-rule" in action.option_strings:
                found.add(path)

    walk(build_parser(), ())
    return found


# ---------------------------------------------------------------------------------------------
# One flag, spelt and explained alike


def test_every_command_that_sets_up_episodes_has_the_same_flag():
    assert _commands_with_the_flag() >= {
        tuple(c[:2]) if c[0] in ("levels", "bench") else tuple(c[:1]) for c in COMMANDS
    }
    assert set(flag_types.JUMP_RULE_ABOUT) == set(P.JUMP_RULES)
    for path in _commands_with_the_flag():
        (action,) = [a for a in _subparser(list(path))._actions if "--jump-rule" in a.option_strings]
        assert tuple(action.choices) == P.JUMP_RULES and action.metavar == "press|hold"
        for rule, about in flag_types.JUMP_RULE_ABOUT.items():  # the help says what each rule does
            assert f"{rule}, {about}" in action.help, path


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_bad_rule_is_one_argparse_line_and_exit_2(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--jump-rule", "jump"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.count("\n") == 1 and "argument --jump-rule: invalid choice: 'jump'" in err and "'press'" in err


def test_the_default_rule_is_one_constant_every_command_uses():
    assert flag_types.DEFAULT_JUMP_RULE in P.JUMP_RULES
    for command in (["play", "1-1"], ["levels", "solve", "1-1"], ["bench", "learn"], ["bench", "env"]):
        assert build_parser().parse_args(command).jump_rule == flag_types.DEFAULT_JUMP_RULE
    # Where a run or a replay keeps its own rule, no flag means "not given" (and evolve fills in the default).
    for command in (["evolve"], ["replay", "x.json"], ["levels", "check", "x.txt"]):
        assert build_parser().parse_args(command).jump_rule is None


def test_every_observe_help_names_the_six_features():
    assert tuple(flag_types.FEATURE_ABOUT) == FEATURES
    for path in (["evolve"], ["bench", "generalize"]):
        (action,) = [a for a in _subparser(path)._actions if "--observe" in a.option_strings]
        assert action.help == flag_types.OBSERVE_HELP
        assert all(f"{name} ({about})" in action.help for name, about in flag_types.FEATURE_ABOUT.items())
    with pytest.raises(argparse.ArgumentTypeError, match=", ".join(FEATURES)):
        flag_types.features_type("sight")


# ---------------------------------------------------------------------------------------------
# levels solve / levels check --solve


def test_levels_solve_under_press_saves_what_the_level_ships_for_press(capsys, tmp_path):
    level = load_level("1-1")
    saved = {}
    for rule in P.JUMP_RULES:
        saved[rule] = tmp_path / f"{rule}.buttons"
        code, out, _ = cli(capsys, "levels", "solve", "1-1", "--jump-rule", rule, "--save", saved[rule])
        assert code == 0 and out.startswith("1-1: finished in ")
        buttons = parse_buttons(saved[rule].read_text())
        assert final_state(level, buttons, P.jump_rule_id(rule))[P.S_STATUS] == P.FINISHED
    # Exactly what the built-in level ships for each rule, and the two differ.
    assert saved["press"].read_text() == (LEVELS_DIR / "1-1.press.buttons").read_text()
    assert saved["hold"].read_text() == (LEVELS_DIR / "1-1.buttons").read_text()
    assert saved["press"].read_text() != saved["hold"].read_text()


def test_levels_check_solve_says_the_rule_it_searches_under(capsys, tmp_path):
    # The real search, on all cores, of a level file given twice; the line before the verdicts names the rule the
    # search played by: the one given, else the default. 1-1 ships the buttons each rule's search finds.
    files = [tmp_path / "a.txt", tmp_path / "b.txt"]
    for file in files:
        file.write_text((LEVELS_DIR / "1-1.txt").read_text())
    for flag, rule, shipped in ((["--jump-rule", "press"], "press", "1-1.press"), ([], "hold", "1-1")):
        code, out, _ = cli(capsys, "levels", "check", *files, "--solve", *flag)
        frames = len(parse_buttons((LEVELS_DIR / f"{shipped}.buttons").read_text()))
        verdict = f"ok, 130x16 tiles, 4 enemies, exit at column 122; finishable in {frames} frames"
        assert code == 0
        assert out.splitlines() == [
            f"searching 2 levels for a way to the exit under jump rule {rule}",
            *(f"{file}: {verdict}" for file in files),
        ]
    assert flag_types.DEFAULT_JUMP_RULE == "hold"


def test_levels_check_refuses_a_rule_without_solve(capsys, tmp_path):
    file = tmp_path / "1-1.txt"
    file.write_text((LEVELS_DIR / "1-1.txt").read_text())
    code, out, err = cli(capsys, "levels", "check", file, "--jump-rule", "press")
    one_line_error(code, err, "--jump-rule is the rule --solve searches under")
    assert out == ""


# ---------------------------------------------------------------------------------------------
# evolve


def test_evolve_records_the_rule_in_the_run_and_its_champions(capsys, tmp_path):
    out = tmp_path / "run"
    code, _, _ = cli(
        capsys, "evolve", "--jump-rule", "press", "--pop", "10", "--generations", "2", "--out", out, "--quiet"
    )
    assert code == 0
    assert json.loads((out / "args.json").read_text())["settings"]["jump_rule"] == "press"
    champions = sorted((out / "champions").glob("gen-*.json"))
    assert champions
    for file in champions:
        assert json.loads(file.read_text())["settings"]["jump_rule"] == "press"
        replay = load_replay(file)
        assert replay.settings.jump_rule == "press" and all(c.identical for c in verify(replay))
    # Without the flag: the default rule.
    code, _, _ = cli(capsys, "evolve", "--pop", "10", "--generations", "1", "--out", tmp_path / "plain", "--quiet")
    assert code == 0
    settings = json.loads((tmp_path / "plain" / "args.json").read_text())["settings"]
    assert settings["jump_rule"] == flag_types.DEFAULT_JUMP_RULE


def test_evolve_resume_refuses_a_jump_rule_in_one_line_and_keeps_its_own(capsys, tmp_path):
    out = tmp_path / "run"
    assert (
        cli(capsys, "evolve", "--jump-rule", "press", "--pop", "10", "--generations", "1", "--out", out, "--quiet")[0]
        == 0
    )
    before = (out / "stats.jsonl").read_text()
    for rule in P.JUMP_RULES:  # even the run's own: a resumed run takes its rule from its folder
        code, _, err = cli(capsys, "evolve", "--resume", out, "--jump-rule", rule, "--generations", "2")
        one_line_error(code, err, "--jump-rule cannot be changed when resuming")
    assert (out / "stats.jsonl").read_text() == before
    assert cli(capsys, "evolve", "--resume", out, "--generations", "2", "--quiet")[0] == 0
    assert len((out / "stats.jsonl").read_text().splitlines()) == 2
    checkpoint = sorted((out / "checkpoints").glob("gen-*.json.gz"))[-1]
    assert '"jump_rule":"press"' in gzip.decompress(checkpoint.read_bytes()).decode().replace(" ", "")


# ---------------------------------------------------------------------------------------------
# replay


def test_replay_on_levels_plays_by_the_rule_given(capsys):
    replay = load_replay(SHIPPED_1_1)
    assert replay.settings.jump_rule == "hold"
    lines = {}
    for rule in (None, "hold", "press"):
        flag = ["--jump-rule", rule] if rule else []
        code, out, _ = cli(capsys, "replay", "1-1-f2475", "--level", "1-1", "--level", "1-2", "--headless", *flag)
        assert code == 0
        lines[rule] = out.splitlines()
    assert lines[None] == lines["hold"]  # the replay's own rule
    for rule in ("hold", "press"):
        settings = replace(replay.settings, jump_rule=rule)
        outcomes = evaluate(replay, ["1-1", "1-2"], settings)
        assert [ln.split(None, 2)[2] for ln in lines[rule][1:3]] == [o.describe(fitness=True) for o in outcomes]
    assert "finished" in lines["hold"][1] and "finished" not in lines["press"][1]  # it learned to hold A


def test_replay_records_frames_under_the_rule_given(capsys, tmp_path):
    frames = {}
    for rule in P.JUMP_RULES:
        folder = tmp_path / rule
        code, out, _ = cli(
            capsys,
            "replay",
            "1-1-f2475",
            "--level",
            "1-1",
            "--jump-rule",
            rule,
            "--png-frames",
            folder,
            "--frame-step",
            "60",
        )
        assert code == 0
        frames[rule] = len(list(folder.glob("frame-*.png")))
    replay = load_replay(SHIPPED_1_1)
    for rule, count in frames.items():
        (outcome,) = evaluate(replay, ["1-1"], replace(replay.settings, jump_rule=rule))
        assert count == outcome.frames // 60 + 1 + (outcome.frames % 60 != 0)
    assert frames["press"] < frames["hold"]


def test_replay_in_the_window_plays_a_folder_on_levels_by_the_rule_given(capsys, tmp_path):
    load_replay(SHIPPED_1_1).save(tmp_path / "a.json")
    code, out, _ = cli(capsys, "replay", tmp_path, "--level", "1-1", "--jump-rule", "press", "--speed", "64")
    assert code == 0
    replay = load_replay(SHIPPED_1_1)
    (outcome,) = evaluate(replay, ["1-1"], replace(replay.settings, jump_rule="press"))
    assert f"1/1  1-1  {outcome.describe(fitness=True)}" in out and not outcome.finished


@pytest.mark.parametrize(
    "extra", [["--headless"], ["--gif", "x.gif"], ["--list"], []], ids=["headless", "gif", "list", "window"]
)
def test_replay_without_levels_refuses_a_rule_in_one_line(capsys, tmp_path, monkeypatch, extra):
    monkeypatch.chdir(tmp_path)
    argv = (
        ["replay", "--jump-rule", "press", *extra]
        if extra == ["--list"]
        else ["replay", "1-1-f2475", "--jump-rule", "press", *extra]
    )
    code, out, err = cli(capsys, *argv)
    one_line_error(code, err, "--jump-rule plays the genome on --level levels")
    assert out == "" and list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# play


def _take_offs(game, buttons: list[int]) -> int:
    for b in buttons:
        game.step(b)
    return int(game.state[P.S_JUMPS])


def test_play_under_press_needs_a_fresh_press_to_jump_again():
    from tilerunner.evolve.viewer.human_play import HumanPlay

    level = load_level("1-1")
    held = [A] * 240  # A held for 4 s: a jump lasts well under one
    assert _take_offs(HumanPlay(level, jump_rule="hold"), held) >= 3  # jumps again on every landing
    press = HumanPlay(level, jump_rule="press")
    assert _take_offs(press, held) == 1
    assert int(press.state[P.S_GROUND]) == 1  # back on the ground, A still held, not jumping
    assert _take_offs(press, [0, A]) == 2  # let go, press again: a second jump
    assert HumanPlay(level).settings.jump_rule == "hold"
    with pytest.raises(ValueError, match="jump rule"):
        HumanPlay(level, jump_rule="tap")


def test_play_says_how_to_jump_again_under_its_rule():
    from tilerunner.evolve.viewer.human_play import JUMP_AGAIN, HumanPlay
    from tilerunner.evolve.viewer.viewer import GAME_PX, STATUS_H

    level = load_level("1-1")
    games = {rule: HumanPlay(level, jump_rule=rule) for rule in P.JUMP_RULES}
    for rule, game in games.items():
        assert ("", JUMP_AGAIN[rule]) in game.keys and ("", JUMP_AGAIN[_other(rule)]) not in game.keys
    shots = {rule: _pixels(game.draw()) for rule, game in games.items()}
    below = (slice(STATUS_H + GAME_PX, None), slice(0, GAME_PX))  # the lines under the game
    game_area = (slice(STATUS_H, STATUS_H + GAME_PX), slice(0, GAME_PX))
    assert np.array_equal(shots["hold"][game_area], shots["press"][game_area])  # the same world at the start
    assert not np.array_equal(shots["hold"][below], shots["press"][below])  # a different line about jumping
    for game in games.values():
        game.help = True
    helps = {rule: _pixels(game.draw()) for rule, game in games.items()}
    assert not np.array_equal(helps["hold"], helps["press"])  # H lists how to jump again under the rule


def _other(rule: str) -> str:
    return next(r for r in P.JUMP_RULES if r != rule)


def _pixels(surface) -> np.ndarray:
    import pygame

    return pygame.surfarray.array3d(surface).swapaxes(0, 1)


def test_play_command_plays_the_players_world_by_the_rule(capsys, monkeypatch, tmp_path):
    import pygame

    # The person holds Right, B and A for 120 frames (the window reads the keys once a frame), then closes it.
    keys = collections.defaultdict(bool, {pygame.K_RIGHT: True, pygame.K_x: True, pygame.K_z: True})
    frames = itertools.count(1)

    def held_keys():
        if next(frames) % 120 == 0:
            pygame.event.post(pygame.event.Event(pygame.QUIT))
        return keys

    monkeypatch.setattr(pygame.key, "get_pressed", held_keys)
    file = tmp_path / "pit.txt"
    file.write_text(PIT_AFTER_LANDING)
    level = load_level(str(file))
    ends = {rule: final_state(level, np.full(600, RIGHT | B | A), P.jump_rule_id(rule)) for rule in P.JUMP_RULES}
    code, out, _ = cli(capsys, "play", file, "--jump-rule", "hold")
    assert code == 0 and out.startswith(f"{level.id}: finished in {ends['hold'][P.S_FRAMES]} frames, fitness ")
    code, out, _ = cli(capsys, "play", file, "--jump-rule", "press")
    assert code == 0 and out.startswith(f"{level.id}: dead (pit) at ")
    assert f" after {ends['press'][P.S_FRAMES]} frames, fitness " in out


# ---------------------------------------------------------------------------------------------
# gymnasium


def _env_take_offs(env, steps: int = 48) -> int:
    env.reset()
    for _ in range(steps):  # 48 steps of 5 frames: 4 s with A held
        env.step(JUMP)
    return int(env.unwrapped.world[1][P.S_JUMPS])


def test_gym_make_passes_the_jump_rule_through():
    press = gym.make(ENV_ID, level="1-1", jump_rule="press", stall_frames=0)
    hold = gym.make(ENV_ID, level="1-1", jump_rule="hold", stall_frames=0)
    default = gym.make(ENV_ID, level="1-1", stall_frames=0)
    assert press.unwrapped.jump_rule == "press" and int(press.unwrapped.world[1][P.S_RULE]) == P.PRESS
    assert _env_take_offs(press) == 1
    assert _env_take_offs(hold) >= 3 and _env_take_offs(default) == _env_take_offs(hold)
    # A fresh press jumps again under press; and reset keeps the rule.
    press.step(np.zeros(6, dtype=np.int8))
    press.step(JUMP)
    assert int(press.unwrapped.world[1][P.S_JUMPS]) == 2
    assert _env_take_offs(press) == 1
    for env in (press, hold, default):
        env.close()


@pytest.mark.parametrize("bad", ["tap", "", "PRESS", 1, None])
def test_gym_make_refuses_a_bad_rule_in_one_line(bad):
    with pytest.raises(ValueError) as error:
        gym.make(ENV_ID, level="1-1", jump_rule=bad)
    assert "\n" not in str(error.value) and "hold, press" in str(error.value)


# ---------------------------------------------------------------------------------------------
# bench


def test_bench_learn_evolves_under_the_rule(capsys, monkeypatch, tmp_path):
    # Networks that hold A learn to clear the pit under hold within 3 generations; under press they cannot.
    monkeypatch.chdir(tmp_path)
    file = tmp_path / "pit.txt"
    file.write_text(PIT_AFTER_LANDING)
    seeds = {}
    for rule in P.JUMP_RULES:
        argv = ["bench", "learn", "--level", file, "--seeds", "1", "--pop", "30", "--generations", "3"]
        code, out, _ = cli(capsys, *argv, "--jump-rule", rule)
        assert code == 0 and out.splitlines()[0].endswith(f"jump rule {rule}")
        seeds[rule] = out.splitlines()[1].split(",")[0]
    assert seeds["hold"] == "  seed  0: finished after   2 generations"
    assert seeds["press"] == "  seed  0: not finished (furthest 98 px)"


def test_bench_env_runs_kernel_and_env_under_the_rule(capsys, monkeypatch):
    from tilerunner.evolve.bench import env as bench_env

    made = []
    real_make = gym.make

    def make(*args, **kwargs):
        made.append(kwargs.get("jump_rule"))
        return real_make(*args, **kwargs)

    monkeypatch.setattr(gym, "make", make)  # bench env imports gymnasium when it runs
    code, out, _ = cli(
        capsys,
        "bench",
        "env",
        "--level",
        "1-1",
        "--frames",
        "2000",
        "--steps",
        "20",
        "--repeats",
        "1",
        "--jump-rule",
        "press",
    )
    assert code == 0 and "jump rule press" in out.splitlines()[0] and made == ["press"]
    # The kernel plays the same script by the rule: A held most of the time jumps less often under press.
    level = load_level("1-1")
    col, row = level.start
    script = np.full(8, RIGHT | A, dtype=np.int64)
    runs = {
        rule: bench_env.run_kernel(
            level.tiles, level.enemies, col, row, level.exit_col, script, 5, 6, 3000, P.jump_rule_id(rule)
        )
        for rule in P.JUMP_RULES
    }
    assert not np.array_equal(runs["hold"], runs["press"])
