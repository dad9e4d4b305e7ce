"""The `tilerunner` command: levels list/show/check/solve/chars, bench env, and one-line errors."""

from __future__ import annotations

import json
import pathlib
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neatcfg import json_slots

from tilerunner.envs import physics as P
from tilerunner.envs import render
from tilerunner.envs.level import BUILTIN_LEVELS, builtin_text, load_level, parse_level
from tilerunner.envs.solver import final_state, parse_buttons, solve
from tilerunner.evolve.commands.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[1]
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
    drawn = pygame.surfarray.array3d(image).swapaxes(0, 1)
    assert np.array_equal(drawn, render.level_image(level))  # the whole level, pixel for pixel
    assert len(np.unique(drawn.reshape(-1, 3), axis=0)) > 10  # sky, ground, blocks, pipes, walkers ...
    assert [p.name for p in tmp_path.iterdir()] == ["level.png"]  # no temporary file left behind


def test_levels_check_reports_each_bad_file_in_one_line(capsys, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(GOOD)
    bad = tmp_path / "bad.txt"
    bad.write_text("M-Z\nXXX\n")
    code, out, err = run_cli(capsys, "levels", "check", str(good), str(bad))
    assert code == 2
    assert f"{good}: ok" in out
    assert err.strip() == f"{bad}:1:3: unknown character 'Z' (tilerunner levels chars lists the characters)"


def test_levels_check_solve_proves_a_level_finishable(capsys, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(GOOD)
    impossible = tmp_path / "pit.txt"
    impossible.write_text("M" + "-" * 59 + "\n" + "X" * 20 + "-" * 20 + "X" * 20 + "\n")  # a 20-tile pit
    shut = tmp_path / "shut.txt"
    shut.write_text("SSSS----------\nM--t---------F\nXXXXXXXXXXXXXX\n")  # ceiling, pipe, edge: no way out
    code, out, _ = run_cli(capsys, "levels", "check", "--solve", str(good), str(impossible), str(shut))
    assert code == 1
    header, *lines = out.splitlines()
    assert header == "searching 3 levels for a way to the exit under jump rule hold"
    assert lines[0].startswith(f"{good}: ok,") and lines[0].endswith(" frames") and "; finishable in " in lines[0]
    # A search that fails proves nothing, and says so; only a real wall is proof.
    assert lines[1].startswith(f"{impossible}: ok,") and "; no solution found (searched 6 beams" in lines[1]
    assert "finishable" not in lines[1]
    assert lines[2] == (
        f"{shut}: ok, 14x3 tiles, 0 enemies, exit at column 14;"
        " NOT finishable: walled in (no open path leads from the start to the exit)"
    )


def test_levels_check_solve_exits_0_when_all_are_solved_and_2_on_a_bad_file(capsys, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(GOOD)
    assert run_cli(capsys, "levels", "check", "--solve", str(good), str(good))[0] == 0
    bad = tmp_path / "bad.txt"
    bad.write_text("M-Z\nXXX\n")
    code, out, err = run_cli(capsys, "levels", "check", "--solve", str(bad), str(good))
    assert code == 2 and f"{good}: ok" in out and "finishable in" in out and "bad.txt:1:3" in err


def test_levels_solve_says_no_solution_found_and_exits_1(capsys, tmp_path):
    pit = tmp_path / "pit.txt"
    pit.write_text("M" + "-" * 59 + "\n" + "X" * 20 + "-" * 20 + "X" * 20 + "\n")
    saved = tmp_path / "pit.buttons"
    code, out, _ = run_cli(capsys, "levels", "solve", str(pit), "--width", "8", "--save", str(saved))
    assert code == 1 and not saved.exists()
    assert out == f"{pit}: no solution found (searched 6 beams up to 16 wide, " + out.split(" wide, ")[1]
    assert "finishable" not in out and "that does not prove there is none" in out


def test_levels_solve_saves_a_sequence_that_finishes(capsys, tmp_path):
    level_file = tmp_path / "good.txt"
    level_file.write_text(GOOD)
    saved = tmp_path / "good.buttons"
    code, out, _ = run_cli(capsys, "levels", "solve", str(level_file), "--save", str(saved))
    assert code == 0 and "finished in" in out
    state = final_state(load_level(str(level_file)), parse_buttons(saved.read_text()))
    assert state[P.S_STATUS] == P.FINISHED


def wide_unfinishable_level(width: int = 1500) -> str:
    """A level `width` tiles wide whose exit lies past a pit no jump clears: the solver searches to its frame limit."""
    ground = "X" * (width - 40) + "-" * 20 + "X" * 20
    return "\n".join(["-" * width] * 13 + ["-M" + "-" * (width - 2), ground, ground]) + "\n"


# `tilerunner levels solve ...` through the command line, saying on stdout when the search itself has begun.
SOLVE_AND_SAY_WHEN_SEARCHING = """
import sys
from tilerunner.envs import solver
from tilerunner.evolve.commands.cli import main
search = solver._search_depths
def searching(*args):
    print("searching", flush=True)
    solver._search_depths = search
    return search(*args)
solver._search_depths = searching
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_stops_the_solver_at_once_even_on_a_huge_level(tmp_path):
    wide = tmp_path / "wide.txt"
    wide.write_text(wide_unfinishable_level())
    assert solve(parse_level(wide_unfinishable_level(60)), width=8) is None  # the kernels are compiled and cached
    proc = subprocess.Popen(
        [sys.executable, "-c", SOLVE_AND_SAY_WHEN_SEARCHING, "levels", "solve", str(wide)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout.readline() == "searching\n"
        time.sleep(1.0)  # deep in the search (it would take most of a minute to give up)
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        # Stopped long before the search could end by itself (most of a minute): a bounded wait, not a stopwatch,
        # so that a loaded machine cannot fail it.
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130 and err == "tilerunner: interrupted\n" and out == ""


@pytest.mark.parametrize("moment", range(8))
def test_ctrl_c_at_any_moment_of_start_up_is_one_line_and_130(tmp_path, moment):
    # Ctrl-C at a seeded random moment of `tilerunner evolve`'s first 1.5 s: Python importing numpy, gymnasium,
    # Numba and the commands (a traceback of those imports and exit code -2, once), the parser, the kernels'
    # loading, the first generation. From 0.2 s: Python's own start (its site module, the environment's .pth
    # files: some 50 ms) comes before any code of tilerunner's and is no program's to handle.
    proc = subprocess.Popen(
        [str(SCRIPT), "evolve", "--keep-going", "--out", str(tmp_path / "run")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        time.sleep(random.Random(moment).uniform(0.2, 1.5))
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # the run had begun: a first Ctrl-C stops it after its generation, which
            proc.send_signal(signal.SIGINT)  # takes minutes while Numba compiles the kernels; a second one, at once
            _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    notice = "first run: compiling the Numba kernels"  # said on a cold cache before the wait, as it should be
    said = [line for line in err.splitlines() if line.strip() and not line.startswith(notice)]
    assert proc.returncode == 130 and len(said) == 1 and "Traceback" not in err, (proc.returncode, err)
    assert said[0] == "tilerunner: interrupted" or said[0].startswith("interrupted: checkpoint written"), err


def test_the_solver_finds_the_same_sequence_however_its_calls_are_split():
    from tilerunner.envs.solver import SEARCH_ACTIONS, beam_search

    for level in (load_level("1-3"), load_level("gen:8:9"), parse_level(wide_unfinishable_level(60))):
        col, row = level.start
        paths = [
            beam_search(
                level.tiles, level.enemies, col, row, level.exit_col, SEARCH_ACTIONS, 4, 96, 6000, depths_per_call=n
            )[0]
            for n in (None, 1, 7, 10**6)
        ]
        assert all(np.array_equal(p, paths[0]) for p in paths[1:]), level.id
    assert paths[0].size == 0  # the last one cannot be finished; the others were


def test_levels_chars_prints_the_table(capsys):
    code, out, _ = run_cli(capsys, "levels", "chars")
    assert code == 0 and "| `%` | jump-through platform |" in out


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["levels", "show", "no-such-level"], "no-such-level: unknown level"),
        (["levels", "show", "gen:abc"], "gen:abc: bad generator id"),
        (["levels", "solve", "1-1", "--width", "0"], "argument --width: must be at least 1"),
        (["bench", "env", "--frames", "x"], "argument --frames: expected a whole number"),
        (["levels", "frobnicate"], "invalid choice"),
        ([], "required"),
    ],
)
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


SHIPPED = ROOT / "replays" / "1-1-f2475.json"  # a shipped champion, to damage


def test_replay_headless_refuses_any_damaged_file_in_one_line_with_exit_code_2(tmp_path, capsys):
    """Replay files damaged at random, through the command line: one verdict line (exit 0 or 1) or one error, exit 2."""
    verdicts = {"refused": 0, "played": 0}
    leaf = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 10**6),
        st.floats(allow_nan=True),
        st.text(max_size=8),
        st.just([]),
        st.just({}),
    )

    @settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def check(data):
        doc = json.loads(SHIPPED.read_text())
        if data.draw(st.integers(0, 3)) == 0:  # a well-formed file that lies about what happened
            outcome = doc["episodes"][0]["outcome"]
            outcome[data.draw(st.sampled_from(["fitness", "distance", "frames", "coins", "kills"]))] += data.draw(
                st.integers(1, 1000)
            )
        slots = json_slots(doc)
        for _ in range(data.draw(st.integers(0, 3))):  # and damage anywhere
            container, key = slots[data.draw(st.integers(0, len(slots) - 1))]
            if data.draw(st.booleans()) and isinstance(container, dict):
                container.pop(key, None)
            else:
                container[key] = data.draw(leaf)
        path = tmp_path / "damaged.json"
        path.write_text(json.dumps(doc))
        code = main(["replay", str(path), "--headless"])
        out, err = capsys.readouterr()
        if code == 2:
            assert out == "" and err.startswith(f"tilerunner: error: {path}") and len(err.splitlines()) == 1, err
            verdicts["refused"] += 1
        else:
            assert err == "" and len(out.splitlines()) == 1, (code, out, err)
            assert (code, out.split(":")[0]) in ((0, "identical"), (1, "DIFFERENT")), (code, out)
            verdicts["played"] += 1

    check()
    assert verdicts["refused"] >= 40 and verdicts["played"] >= 5, verdicts  # both ways, many times
