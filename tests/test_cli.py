"""The `tilerunner` command: levels list/show/check/solve/chars, bench env, and one-line errors."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

from tilerunner.envs import physics as P
from tilerunner.envs.level import BUILTIN_LEVELS, builtin_text, load_level
from tilerunner.envs.solver import parse_buttons, play
from tilerunner.evolve.commands.cli import main

SCRIPT = pathlib.Path(sys.executable).parent / "tilerunner"
GOOD = "M-------------\n--------------\nXXXX--XXXXXXXX\n"


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_levels_lists_every_builtin_level(capsys):
    code, out, _ = run_cli(capsys, "levels")
    assert code == 0
    for level_id, about in BUILTIN_LEVELS.items():
        assert level_id in out and about in out


def test_levels_show_prints_the_level_file(capsys):
    code, out, _ = run_cli(capsys, "levels", "show", "1-1")
    assert code == 0 and out == builtin_text("1-1").replace("\r\n", "\n")


def test_levels_show_png_draws_the_whole_level(capsys, tmp_path):
    import pygame

    path = tmp_path / "level.png"
    code, _, err = run_cli(capsys, "levels", "show", "1-2", "--png", str(path))
    level = load_level("1-2")
    assert code == 0 and "wrote" in err
    image = pygame.image.load(str(path))
    assert image.get_size() == (level.width * 16, level.height * 16)
    assert [p.name for p in tmp_path.iterdir()] == ["level.png"]  # no temporary file left behind


def test_levels_check_reports_each_bad_file_in_one_line(capsys, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(GOOD)
    bad = tmp_path / "bad.txt"
    bad.write_text("M-Z\nXXX\n")
    code, out, err = run_cli(capsys, "levels", "check", str(good), str(bad))
    assert code == 2
    assert f"{good}: ok" in out
    assert err.strip() == f"{bad}:1:3: unknown character 'Z' (the tile table in the README lists the characters)"


def test_levels_check_solve_proves_a_level_finishable(capsys, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(GOOD)
    impossible = tmp_path / "pit.txt"
    impossible.write_text("M" + "-" * 59 + "\n" + "X" * 20 + "-" * 20 + "X" * 20 + "\n")  # a 20-tile pit
    code, out, _ = run_cli(capsys, "levels", "check", "--solve", str(good), str(impossible))
    assert code == 1
    assert "good.txt: ok" in out and "finishable in" in out
    assert "pit.txt: ok" in out and "NOT finishable" in out


def test_levels_solve_saves_a_sequence_that_finishes(capsys, tmp_path):
    level_file = tmp_path / "good.txt"
    level_file.write_text(GOOD)
    saved = tmp_path / "good.buttons"
    code, out, _ = run_cli(capsys, "levels", "solve", str(level_file), "--save", str(saved))
    assert code == 0 and "finished in" in out
    state = play(load_level(str(level_file)), parse_buttons(saved.read_text()))
    assert state[P.S_STATUS] == P.FINISHED


def test_levels_chars_prints_the_table(capsys):
    code, out, _ = run_cli(capsys, "levels", "chars")
    assert code == 0 and "| `%` | jump-through platform |" in out


@pytest.mark.parametrize("argv, needle", [
    (["levels", "show", "no-such-level"], "no-such-level: unknown level"),
    (["levels", "show", "gen:abc"], "gen:abc: bad generator id"),
    (["levels", "solve", "1-1", "--width", "0"], "argument --width: must be at least 1"),
    (["bench", "env", "--frames", "x"], "argument --frames: expected a whole number"),
    (["levels", "frobnicate"], "invalid choice"),
    ([], "required"),
])
def test_bad_input_is_one_line_and_exit_code_2(capsys, argv, needle):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse exits by itself
        code = exc.code
    _, err = capsys.readouterr()
    assert code == 2
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_console_script_and_python_m_evolve_are_the_same_command(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    for cmd in ([str(SCRIPT)], [sys.executable, "-m", "tilerunner"]):
        ok = subprocess.run(cmd + ["levels", "show", "1-1"], capture_output=True, text=True)
        assert ok.returncode == 0 and ok.stdout == builtin_text("1-1")
        res = subprocess.run(cmd + ["levels", "check", str(bad)], capture_output=True, text=True)
        assert res.returncode == 2
        assert res.stderr.strip() == f"{bad}:1:1: not a text file (byte 0x89 is not UTF-8)"

