"""Input that must be refused: every number has a documented range, every file a bounded size, every path a check.

Issue 11's "nothing crashes" half, case by case: numeric flags (property tests over every
numeric flag of evolve, replay, watch, play, plot and bench), numeric fields of every JSON file
the project reads (replays, stats.jsonl, args.json), neat configs neat-python fails on only at
run time, output paths given on the command line, oversized levels and pictures, and paths
inside files that name devices. Each refusal is one line and exit code 2, and nothing is created.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tilerunner.envs import render
from tilerunner.envs.bounded_read import read_regular_file
from tilerunner.envs.level import MAX_COLUMNS, MAX_LEVEL_BYTES, MAX_ROWS, LevelError, load_level, parse_level
from tilerunner.evolve.commands import flags
from tilerunner.evolve.commands.cli import build_parser, main
from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.commands.plot import parse_size
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.level_plan import RECHECK_RANGE
from tilerunner.evolve.core.neat_config import (
    POP_SIZE_RANGE,
    ConfigError,
    builtin_config_path,
    config_text,
    load_config,
)
from tilerunner.evolve.runs import run_options
from tilerunner.evolve.runs.json_fields import FieldReader, FormatError
from tilerunner.evolve.runs.replay import ReplayError, load_replay, shipped_replays, verify
from tilerunner.evolve.runs.run_folder import RunFolder, RunFolderError
from tilerunner.evolve.runs.stats import StatsError, read_stats
from tilerunner.evolve.viewer import recording

ROOT = pathlib.Path(__file__).resolve().parents[1]
REPLAY = shipped_replays() / "1-1-f2475.json"


def fast(max_examples: int) -> settings:
    """Hypothesis settings for these tests: no deadline (the first call compiles), fixtures allowed."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def cli(capsys, *argv) -> tuple[int, str, str]:
    """Run `tilerunner ARGV` in this process: (exit code, stdout, stderr); argparse's exits count as codes."""
    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, (code, err)
    assert "error:" in lines[0] and all(n in lines[0] for n in needles), (lines[0], needles)


# ---------------------------------------------------------------------------------------------
# Numeric flags: one documented range each, refused by argparse outside it (property tests)

WHOLE, REAL = "whole", "real"


def _setting(name: str) -> tuple[str, float, float]:
    lo, hi = EpisodeSettings.LIMITS[name]
    return (WHOLE if name in EpisodeSettings.WHOLE else REAL), lo, hi


# (command prefix, flag, kind, lowest, highest): every numeric flag a user can give.
NUMERIC_FLAGS = [
    *[(["evolve"], "--" + n.replace("_", "-"), *_setting(n)) for n in EpisodeSettings.LIMITS],
    (["evolve"], "--pop", WHOLE, *POP_SIZE_RANGE),
    (["evolve"], "--generations", WHOLE, *run_options.GENERATIONS_RANGE),
    (["evolve"], "--seed", WHOLE, *run_options.SEED_RANGE),
    (["evolve"], "--workers", WHOLE, *run_options.WORKERS_RANGE),
    (["evolve"], "--actors", WHOLE, *flags.ACTORS_RANGE),
    (["evolve"], "--checkpoint-every", WHOLE, *run_options.CHECKPOINT_EVERY_RANGE),
    (["evolve"], "--validate-every", WHOLE, *run_options.CHECKPOINT_EVERY_RANGE),
    (["evolve"], "--levels-per-gen", WHOLE, *run_options.LEVELS_PER_GEN_RANGE),
    (["evolve"], "--curriculum", REAL, *run_options.CURRICULUM_RANGE),
    (["evolve"], "--seed-rules", REAL, *run_options.SEED_SHARE_RANGE),
    (["evolve"], "--recheck", WHOLE, *RECHECK_RANGE),
    (["evolve"], "--time-limit", REAL, *run_options.MINUTES_RANGE),
    (["bench", "generalize"], "--time-limit", REAL, *run_options.MINUTES_RANGE),
    (["bench", "net"], "--pop", WHOLE, *POP_SIZE_RANGE),
    (["bench", "ray"], "--warmup", WHOLE, 0, 10_000),
    (["bench", "generalize"], "--levels-per-gen", WHOLE, *run_options.LEVELS_PER_GEN_RANGE),
    (["bench", "generalize"], "--seed-rules", REAL, *run_options.SEED_SHARE_RANGE),
    (["bench", "generalize"], "--recheck", WHOLE, *RECHECK_RANGE),
    (["bench", "cuda"], "--warmup", WHOLE, 0, 10_000),
    (["bench", "cuda"], "--repeats", WHOLE, 1, 1000),
    (["replay", "x.json"], "--scale", WHOLE, *recording.SCALE_RANGE),
    (["replay", "x.json"], "--frame-step", WHOLE, *recording.FRAME_STEP_RANGE),
    (["replay", "x.json"], "--speed", REAL, *flags.SPEED_RANGE),
    (["replay", "x.json"], "--duration", REAL, *flags.DURATION_RANGE),
    (["watch", "run"], "--speed", REAL, *flags.SPEED_RANGE),
    (["watch", "run"], "--duration", REAL, *flags.DURATION_RANGE),
    (["play", "1-1"], "--view-radius", WHOLE, *EpisodeSettings.LIMITS["view_radius"]),
    (["play", "1-1"], "--duration", REAL, *flags.DURATION_RANGE),
    (["levels", "solve", "1-1"], "--width", WHOLE, *flags.BEAM_WIDTH_RANGE),
    (["bench", "env"], "--frame-skip", *_setting("frame_skip")),
    (["bench", "evolve"], "--pop", WHOLE, *POP_SIZE_RANGE),
    (["bench", "evolve"], "--seed", WHOLE, *run_options.SEED_RANGE),
    (["bench", "memory"], "--generations", WHOLE, *run_options.GENERATIONS_RANGE),
]
_PARSER = build_parser()


def parse(argv: list[str]) -> tuple[argparse.Namespace | None, int | None, str]:
    """argparse alone: (namespace, None, "") or (None, exit code, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            return _PARSER.parse_args(argv), None, ""
        except SystemExit as exc:
            return None, exc.code, err.getvalue()


def _as_text(value) -> str:
    return value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)


numbers = st.one_of(
    st.integers(-(10**6), 10**7),
    st.integers(-(10**40), 10**40),
    st.sampled_from(
        [0, 1, -1, 2, 16, 17, 20, 21, 600, 601, 10**6, 10**6 + 1, 2**53, 2**62, 2**63 - 1, 2**63, 10**20, 10**400]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-1e12, 1e12),
    st.sampled_from(
        [
            "nan",
            "-nan",
            "inf",
            "-inf",
            "Infinity",
            "1e309",
            "-1e309",
            "9" * 5000,
            "1" + "0" * 400,
            "",
            " ",
            "1_000",
            "0x10",
            "1e3",
            "٣",
            "5\x1b[31m",
            "many",
        ]
    ),
    st.text(max_size=12),
)


def in_range(kind: str, lo: float, hi: float, value) -> bool | None:
    """Whether `value` (as generated) must be accepted; None when only the range of the result can be checked."""
    if isinstance(value, str):
        return None
    if kind == WHOLE:
        return isinstance(value, int) and lo <= value <= hi
    if isinstance(value, int) and abs(value) > 10**300:
        return False  # beyond any float
    return math.isfinite(value) and lo <= float(value) <= hi


@fast(400)
@given(flag=st.sampled_from(NUMERIC_FLAGS), value=numbers)
def test_every_numeric_flag_is_in_its_range_or_refused_in_one_argparse_line(flag, value):
    prefix, name, kind, lo, hi = flag
    text = _as_text(value)
    args, code, err = parse([*prefix, f"{name}={text}"])
    expected = in_range(kind, lo, hi, value)
    if args is None:
        assert expected is not True, f"{name}={text!r} is in the documented range {lo}..{hi} but was refused: {err}"
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and f"argument {name}:" in lines[0], err
        assert len(lines[0]) < 300 and "\x1b" not in lines[0]  # short and escaped, whatever was typed
        return
    assert expected is not False, f"{name}={text!r} is outside {lo}..{hi} but was accepted"
    got = getattr(args, name.lstrip("-").replace("-", "_"))
    assert lo <= got <= hi and (isinstance(got, int) if kind == WHOLE else math.isfinite(got))
    if prefix == ["evolve"] and name.lstrip("-").replace("-", "_") in EpisodeSettings.LIMITS:
        # The flag and the library agree: whatever the flag takes, EpisodeSettings takes (the 0/0 pair aside).
        field = name.lstrip("-").replace("-", "_")
        extra = {"stall_frames": 120} if field == "max_frames" else {"max_frames": 6000}
        assert getattr(EpisodeSettings(**{**extra, field: got}), field) == got


def _all_actions(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _all_actions(sub, (*path, name))
        else:
            yield path, action


def test_every_flag_with_a_type_has_a_range():
    # A numeric flag added later without a range fails here: plain int and float are not allowed.
    from tilerunner.evolve.bench.memory import delays
    from tilerunner.evolve.bench.ray_overhead import actor_counts
    from tilerunner.evolve.flags.types import features_type

    not_numbers = (delays, actor_counts, features_type)  # lists, checked by their own tests
    typed = [
        (path, action)
        for path, action in _all_actions(build_parser())
        if action.type is not None and action.type not in not_numbers
    ]
    assert typed
    for path, action in typed:
        assert action.type.__name__.startswith(("whole number from", "number from")), (
            f"tilerunner {' '.join(path)} {action.option_strings}: type {action.type!r} has no documented range"
        )
    listed = {
        (tuple(prefix[:2] if prefix[0] in ("levels", "bench") else prefix[:1]), flag)
        for prefix, flag, *_ in NUMERIC_FLAGS
    }
    for path, action in typed:
        if path[:1] in (("evolve",), ("replay",), ("watch",), ("play",)) and action.option_strings[0] != "--parent-pid":
            assert (path, action.option_strings[0]) in listed, (path, action.option_strings)


@fast(150)
@given(
    size=st.tuples(st.integers(100, 10_500), st.integers(60, 10_500)) | st.tuples(numbers, numbers),
    sep=st.sampled_from(["x", "X", "x", "*", ""]),
)
def test_plot_size_is_in_range_or_one_line(size, sep):
    width, height = size
    text = f"{_as_text(width)}{sep}{_as_text(height)}"
    try:
        w, h = parse_size(text)
    except UserError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 200
        assert not (
            sep in "xX"
            and sep
            and isinstance(width, int)
            and isinstance(height, int)
            and 200 <= width <= 10_000
            and 120 <= height <= 10_000
        ), f"{text} is in range but was refused"
        return
    if isinstance(width, int) and isinstance(height, int):
        assert (w, h) == (width, height)
    assert 200 <= w <= 10_000 and 120 <= h <= 10_000


def test_out_of_range_flags_create_nothing(tmp_path, monkeypatch, capsys):
    # The cases issue 11 names: non-finite and huge numbers, refused before any folder exists.
    monkeypatch.chdir(tmp_path)
    for argv in (
        ["--threshold", "nan"],
        ["--threshold", "inf"],
        ["--time-penalty", "nan"],
        ["--finish-bonus", "inf"],
        ["--max-frames", "99999999999999999999"],
        ["--stall-frames", "99999999999999999999"],
        ["--frame-skip", "99999999999999999999"],
        ["--max-frames", "1000000000000"],
        ["--pop", "1"],
        ["--seed", "-1"],
        ["--seed", str(2**63)],
    ):
        code, _, err = cli(capsys, "evolve", *argv, "--out", tmp_path / "run")
        one_line_error(code, err, argv[0])
    code, _, err = cli(capsys, "evolve", "--max-frames", "0", "--stall-frames", "0", "--out", tmp_path / "run")
    one_line_error(code, err, "cannot both be 0")
    for argv in (["--scale", "100000"], ["--frame-step", str(10**20)]):
        code, _, err = cli(capsys, "replay", REPLAY, *argv, "--gif", tmp_path / "x.gif")
        one_line_error(code, err, argv[0])
    assert list(tmp_path.iterdir()) == []


def test_the_flags_and_the_library_share_one_table():
    for name, (_lo, hi) in EpisodeSettings.LIMITS.items():
        with pytest.raises(ValueError, match=name):
            EpisodeSettings(**{name: hi + (1 if name in EpisodeSettings.WHOLE else hi)})
        with pytest.raises(ValueError, match=name):
            EpisodeSettings(**{name: float("nan") if name not in EpisodeSettings.WHOLE else 1.5})
    assert EpisodeSettings(threshold=1).threshold == 1.0 and isinstance(EpisodeSettings(threshold=1).threshold, float)


# ---------------------------------------------------------------------------------------------
# Numeric fields of every JSON file the project reads (property tests)

HOSTILE_NUMBERS = st.one_of(
    st.sampled_from(
        [
            10**400,
            -(10**400),
            10**20,
            2**62,
            2**63,
            2**63 - 1,
            -(2**63) - 1,
            10**12,
            1e308,
            -1e308,
            float("nan"),
            float("inf"),
            float("-inf"),
            -1,
            -5.5,
            0,
            2**53 + 1,
        ]
    ),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
)


def numeric_slots(doc) -> list[tuple]:
    """Every (container, key) in a parsed JSON document that holds a number (not true/false)."""
    slots = []

    def walk(node):
        for k, v in node.items() if isinstance(node, dict) else enumerate(node):
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                slots.append((node, k))
            elif isinstance(v, (dict, list)):
                walk(v)

    walk(doc)
    return slots


def damage(doc, data) -> str:
    """Replace 1-3 numbers of `doc` (in place) with hostile ones; the document as JSON text."""
    slots = numeric_slots(doc)
    for _ in range(data.draw(st.integers(1, 3))):
        container, key = slots[data.draw(st.integers(0, len(slots) - 1))]
        container[key] = data.draw(HOSTILE_NUMBERS)
    return json.dumps(doc)  # nan and inf as NaN and Infinity, as a careless writer would


def refused_in_one_line(exc: FormatError, path) -> None:
    assert "\n" not in str(exc) and str(exc).startswith(str(path)), str(exc)


@fast(120)
@given(data=st.data())
def test_replay_numbers_load_within_range_or_are_refused_in_one_line(tmp_path, data):
    path = tmp_path / "damaged.json"
    path.write_text(damage(json.loads(REPLAY.read_text()), data))
    try:
        replay = load_replay(path)
    except ReplayError as exc:
        refused_in_one_line(exc, path)
        return
    s = replay.settings  # what loads is usable: settings in range, numbers finite, counts whole
    for name, (lo, hi) in EpisodeSettings.LIMITS.items():
        assert lo <= getattr(s, name) <= hi
    for e in replay.episodes:
        assert math.isfinite(e.outcome.fitness) and math.isfinite(e.outcome.distance)
        assert 0 <= e.outcome.frames < 2**63 and 0 <= e.outcome.coins < 2**63
    assert all(math.isfinite(c.weight) for c in replay.genome.connections.values())
    assert all(math.isfinite(n.bias) for n in replay.genome.nodes.values())
    for check in verify(replay):  # and it plays: the outcome is finite whatever the weights
        assert math.isfinite(check.outcome.fitness) and check.outcome.frames >= 0


def stats_line(generation: int) -> dict:
    return {
        "generation": generation,
        "best_fitness": 5.0,
        "mean_fitness": 2.5,
        "best_ever": 5.0,
        "species": 3,
        "finished": 0,
        "population": 150,
        "frames": 1234,
        "best_genome": 7,
        "best": [
            {
                "fitness": 5.0,
                "finished": False,
                "distance": 100.0,
                "frames": 300,
                "coins": 0,
                "kills": 0,
                "status": "dead",
                "cause": "pit",
            }
        ],
    }


@fast(120)
@given(data=st.data())
def test_stats_numbers_load_and_draw_or_are_refused_in_one_line(tmp_path, data):
    from tilerunner.evolve.viewer.chart import chart_image

    rows = [stats_line(0), stats_line(1)]
    text = "\n".join([json.dumps(rows[0]), damage(rows[1], data)]) + "\n"
    path = tmp_path / "stats.jsonl"
    path.write_text(text)
    try:
        loaded = read_stats(path)
    except StatsError as exc:
        refused_in_one_line(exc, path)
        return
    for row in loaded:
        assert all(math.isfinite(row[k]) for k in ("best_fitness", "mean_fitness", "best_ever"))
        assert all(0 <= row[k] < 2**63 for k in ("generation", "species", "finished", "population", "frames"))
    chart_image(loaded, 300, 160)  # whatever loads can be drawn


ARGS = {
    "levels": ["1-1"],
    "seed": 7,
    "generations": 30,
    "keep_going": False,
    "memory": False,
    "config": None,
    "pop_size": 50,
    "settings": EpisodeSettings().as_dict(),
    "custom_fitness": False,
    "replays": None,
}


@fast(120)
@given(data=st.data())
def test_args_json_numbers_load_within_range_or_are_refused_in_one_line(tmp_path, data):
    (tmp_path / "args.json").write_text(damage(json.loads(json.dumps(ARGS)), data))
    try:
        args = RunFolder(tmp_path).read_args()
    except RunFolderError as exc:
        refused_in_one_line(exc, tmp_path / "args.json")
        return
    assert isinstance(args["seed"], int) and -(2**63) <= args["seed"] < 2**63  # what resume uses is usable
    assert isinstance(args["generations"], int) and 0 <= args["generations"] < 2**63


@pytest.mark.parametrize("text", ["[]", "{}", "null", '{"levels": ["1-1"], "seed": 1e400}'])
def test_args_json_that_is_not_args_is_refused_in_one_line(tmp_path, text):
    (tmp_path / "args.json").write_text(text)
    with pytest.raises(RunFolderError) as info:
        RunFolder(tmp_path).read_args()
    refused_in_one_line(info.value, tmp_path / "args.json")


def test_whole_numbers_fit_64_bits_and_numbers_fit_a_float():
    read = FieldReader()
    assert read.check(2**63 - 1, "int", "x") == 2**63 - 1 and read.check(-(2**63), "int", "x") == -(2**63)
    assert read.check(10**300, "number", "x") == 10**300
    for value, kind, message in [
        (2**63, "int", "x: expected a whole number from -2**63 to 2**63-1, got"),
        (-1, "count", "x: expected a whole number >= 0, got -1"),
        (10**400, "number", "x: expected a finite number (at most about 1.8e308)"),
        ("many", "int", 'x: expected a whole number, got "many"'),
    ]:
        with pytest.raises(FormatError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
            read.check(value, kind, "x")


# ---------------------------------------------------------------------------------------------
# Replay files with huge numbers (item 7): refused, and skipped by watch and replay --list


def edited_replay(folder: pathlib.Path, name: str, change) -> pathlib.Path:
    doc = json.loads(REPLAY.read_text())
    change(doc)
    path = folder / name
    path.write_text(json.dumps(doc))
    return path


HUGE_REPLAYS = {
    "weight": (lambda d: d["genome"]["connections"][0].update(weight=10**400), "genome.connections[0].weight"),
    "fitness": (lambda d: d["genome"].update(fitness=10**400), "genome.fitness"),
    "outcome": (lambda d: d["episodes"][0]["outcome"].update(fitness=10**400), "episodes[0].outcome.fitness"),
    "threshold": (lambda d: d["settings"].update(threshold=10**400), "settings.threshold"),
    "skip20": (lambda d: d["settings"].update(frame_skip=10**20), "settings.frame_skip"),
    "skip62": (lambda d: d["settings"].update(frame_skip=2**62), "frame_skip must be from 1 to 600"),
    "frames12": (lambda d: d["settings"].update(max_frames=10**12), "max_frames must be from 0 to 1,000,000"),
    "status": (lambda d: d["episodes"][0]["outcome"].update(status="\x1b[2J\x1b[31mfinished"), "status"),
    "status2": (lambda d: d["episodes"][0]["outcome"].update(status="won"), "expected one of running, dead"),
    "cause": (lambda d: d["episodes"][0]["outcome"].update(cause="pit\nforged line"), "cause"),
    "level": (lambda d: d["episodes"][0]["level"].update(id="1-1\x1b]0;title\x07"), "level.id"),
    "created": (lambda d: d.update(created="2026\r\x1b[K"), "created"),
}


@pytest.mark.parametrize("case", sorted(HUGE_REPLAYS))
def test_hostile_replays_are_refused_in_one_escaped_line(tmp_path, capsys, case):
    change, needle = HUGE_REPLAYS[case]
    path = edited_replay(tmp_path, f"{case}.json", change)
    with pytest.raises(ReplayError) as info:
        load_replay(path)
    assert needle in str(info.value) and "\n" not in str(info.value) and "\x1b" not in str(info.value)
    code, _, err = cli(capsys, "replay", path, "--headless")
    one_line_error(code, err, needle)
    assert "\x1b" not in err and "\r" not in err and "\x07" not in err


def test_watch_and_list_skip_a_huge_champion_instead_of_crashing(tmp_path, capsys):
    run = tmp_path / "run"
    (run / "champions").mkdir(parents=True)
    edited_replay(run / "champions", "gen-0000.json", lambda d: d.update(generation=0))
    for n, case in enumerate(["weight", "skip62", "frames12", "status"], start=1):
        edited_replay(run / "champions", f"gen-{n:04d}.json", HUGE_REPLAYS[case][0])
    code, out, _ = cli(capsys, "replay", "--list", run / "champions")
    assert code == 0 and "\x1b" not in out
    rows = {ln.split()[0]: ln for ln in out.splitlines()[1:]}
    assert "2474.7" in rows["gen-0000.json"]
    assert all("unreadable" in rows[f"gen-{n:04d}.json"] for n in range(1, 5))
    # watch meets the broken newest champions first: it skips them with a warning, never a traceback,
    # and shows the newest readable one.
    code, out, err = cli(capsys, "watch", run, "--screenshot", tmp_path / "w.png")
    assert "Traceback" not in err and "warning: skipping" in err and "gen-0004.json" in err and "\x1b" not in err
    assert code == 0 and "champion of gen 0" in out
    # With a readable newest champion the broken older ones are no obstacle.
    edited_replay(run / "champions", "gen-0005.json", lambda d: d.update(generation=5))
    code, out, err = cli(capsys, "watch", run, "--screenshot", tmp_path / "w.png")
    assert code == 0 and "champion of gen 5" in out and (tmp_path / "w.png").stat().st_size > 0


def test_huge_integer_in_stats_is_one_line_for_plot_and_a_warning_for_watch(tmp_path, capsys):
    run = tmp_path / "run"
    (run / "champions").mkdir(parents=True)
    edited_replay(run / "champions", "gen-0000.json", lambda d: None)
    rows = [stats_line(0), dict(stats_line(1), frames=10**400)]
    (run / "stats.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, _, err = cli(capsys, "plot", run, "--png", tmp_path / "p.png")
    one_line_error(code, err, "stats.jsonl:2: frames: expected a whole number from 0 to 2**63-1")
    assert not (tmp_path / "p.png").exists()
    code, out, err = cli(capsys, "watch", run, "--screenshot", tmp_path / "w.png")
    assert code == 0 and (tmp_path / "w.png").exists() and "Traceback" not in err


# ---------------------------------------------------------------------------------------------
# neat configs neat-python refuses only at run time (item 8): refused before the run folder exists


def config_with(**changes: object) -> str:
    text = config_text(builtin_config_path("default"))
    for key, value in changes.items():
        lines = [f"{key} = {value}" if ln.split("=")[0].strip() == key else ln for ln in text.splitlines()]
        assert lines != text.splitlines(), key
        text = "\n".join(lines) + "\n"
    return text


@pytest.mark.parametrize(
    "changes, extra, needle",
    [
        ({"pop_size": 0}, [], "[NEAT] pop_size = 0: must be from 2 to 100,000"),
        ({"pop_size": 1}, [], "[NEAT] pop_size = 1"),
        ({"compatibility_threshold": -1}, [], "[DefaultSpeciesSet] compatibility_threshold = -1: must be above 0"),
        ({"compatibility_threshold": 1.0}, [], "[DefaultSpeciesSet] compatibility_threshold = 1: new genomes are"),
        ({"elitism": 1000}, [], "[DefaultReproduction] elitism = 1000: more than pop_size = 300"),
        ({"num_hidden": 500}, ["--pop", "50"], "[TileGenome] num_hidden = 500: new genomes share no hidden node"),
        ({"species_fitness_func": "evil"}, [], "[DefaultStagnation] species_fitness_func = 'evil': expected one of"),
        ({"initial_connection": "bogus"}, [], "[TileGenome] initial_connection = 'bogus': expected one of"),
        ({"initial_connection": "partial_direct 2"}, [], "initial_connection = 'partial_direct 2'"),
        ({"survival_threshold": 0}, [], "[DefaultReproduction] survival_threshold = 0"),
        ({"num_inputs": 10**12}, [], "[TileGenome] num_inputs = '1000000000000': must be a whole number"),
        ({"bias_init_type": "bogus"}, [], "bogus"),
        ({"weight_mutate_power": "nan"}, [], "weight_mutate_power = nan"),
    ],
)
def test_configs_neat_python_fails_on_at_run_time_are_refused_before_the_run(
    tmp_path, monkeypatch, capsys, changes, extra, needle
):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "bad.ini"
    path.write_text(config_with(**changes))
    with pytest.raises(ConfigError) as info:
        load_config(str(path), neat_overrides={"pop_size": int(extra[1])} if extra else None)
    assert needle in str(info.value) and "\n" not in str(info.value)
    code, _, err = cli(
        capsys, "evolve", "--level", "1-1", "--generations", "3", "--out", tmp_path / "run", "--config", path, *extra
    )
    one_line_error(code, err, needle)
    assert not (tmp_path / "run").exists()


def test_config_checks_leave_the_run_unchanged():
    import random

    random.seed(5)
    before = random.random()
    random.seed(5)
    config = load_config(neat_overrides={"pop_size": 2})
    assert random.random() == before  # the trial genomes used their own random state
    assert config.genome_config.node_indexer is None and config.genome_config.innovation_tracker is None


# ---------------------------------------------------------------------------------------------
# Output paths given on the command line (item 9): one line naming the path, before any long work


@pytest.fixture
def no_long_work(monkeypatch):
    """Make the long work of each command fail loudly, so a refusal proves the check came first.

    The commands import these where they use them, so each tripwire sits where the command looks: the run
    (`evolve`), the solver (`levels solve`), every picture written (`levels show`, `plot`), recording a replay
    (`replay --gif/--png-frames`), checking one (`replay --headless`) and the viewer (`replay`, `watch`).
    """
    import tilerunner.envs.solver as solver
    import tilerunner.evolve.runs.replay as replay_module
    import tilerunner.evolve.runs.run as run_module
    import tilerunner.evolve.viewer.viewer as viewer

    def boom(*args, **kwargs):
        raise AssertionError("the long work started before the path was checked")

    monkeypatch.setattr(solver, "search", boom)
    monkeypatch.setattr(run_module.Run, "create", boom)
    monkeypatch.setattr(render, "save_png", boom)
    monkeypatch.setattr(recording, "record", boom)
    monkeypatch.setattr(replay_module, "verify", boom)
    monkeypatch.setattr(viewer, "Viewer", boom)


def test_the_tripwires_sit_where_the_commands_do_their_work(tmp_path, capsys, no_long_work):
    # Valid outputs: each command reaches its long work and trips, so a refusal above proves a check came first.
    (tmp_path / "run" / "champions").mkdir(parents=True)
    edited_replay(tmp_path / "run" / "champions", "gen-0000.json", lambda d: None)
    for argv in (
        ["replay", REPLAY, "--gif", tmp_path / "x.gif"],
        ["replay", REPLAY, "--png-frames", tmp_path / "frames"],
        ["replay", REPLAY, "--headless"],
        ["replay", REPLAY, "--screenshot", tmp_path / "x.png"],
        ["watch", tmp_path / "run", "--screenshot", tmp_path / "x.png"],
        ["levels", "show", "1-1", "--png", tmp_path / "x.png"],
        ["levels", "solve", "1-1", "--save", tmp_path / "x.buttons"],
        ["evolve", "--generations", "1", "--out", tmp_path / "r"],
    ):
        with pytest.raises(AssertionError, match="the long work started"):
            cli(capsys, *argv)


@pytest.mark.parametrize(
    "flag, value",
    [("--speed", "0"), ("--speed", "1001"), ("--speed", "nan"), ("--duration", "0"), ("--duration", "inf")],
)
def test_viewer_speed_and_duration_out_of_range_end_in_one_line_before_anything_plays(
    tmp_path, capsys, no_long_work, flag, value
):
    run = _paths(tmp_path)["run"]
    for command in (["replay", REPLAY], ["watch", run]):
        code, _, err = cli(capsys, *command, flag, value)
        one_line_error(code, err, f"argument {flag}:", repr(value))


def _paths(tmp_path: pathlib.Path) -> dict[str, pathlib.Path]:
    (tmp_path / "afile").write_text("not a folder")
    (tmp_path / "adir").mkdir()
    run = tmp_path / "run"
    (run / "champions").mkdir(parents=True)
    edited_replay(run / "champions", "gen-0000.json", lambda d: None)
    return {"file": tmp_path / "afile", "dir": tmp_path / "adir", "run": run}


def test_output_paths_are_refused_in_one_line_before_long_work(tmp_path, capsys, no_long_work):
    p = _paths(tmp_path)
    under_file, missing = p["file"] / "x.png", tmp_path / "missing" / "x.png"
    cases = [
        (["evolve", "--replays", p["file"], "--out", tmp_path / "r1"], "--replays", "is a file, not a folder"),
        (["evolve", "--replays", p["file"] / "sub", "--out", tmp_path / "r2"], "--replays", "is a file"),
        (["replay", REPLAY, "--gif", p["dir"]], "--gif", "is a folder"),
        (["replay", REPLAY, "--gif", tmp_path / "missing" / "x.gif"], "--gif", "no such folder"),
        (["replay", REPLAY, "--gif", under_file], "--gif", "is not a folder"),
        (["replay", REPLAY, "--gif", "/dev/null"], "--gif", "not a regular file"),
        (["replay", REPLAY, "--png-frames", p["file"]], "--png-frames", "is a file, not a folder"),
        (["replay", REPLAY, "--screenshot", p["dir"]], "--screenshot", "is a folder"),
        (["replay", REPLAY, "--screenshot", missing], "--screenshot", "no such folder"),
        (["watch", p["run"], "--screenshot", missing], "--screenshot", "no such folder"),
        (["watch", p["run"], "--screenshot", under_file], "--screenshot", "is not a folder"),
        (["plot", p["run"], "--png", missing], "--png", "no such folder"),
        (["levels", "show", "1-1", "--png", missing], "--png", "no such folder"),
        (["levels", "show", "1-1", "--png", p["dir"]], "--png", "is a folder"),
        (["levels", "solve", "1-1", "--save", under_file], "--save", "is not a folder"),
        (["levels", "solve", "1-1", "--save", missing], "--save", "no such folder"),
    ]
    before = sorted(tmp_path.rglob("*"))
    for argv, flag, reason in cases:
        code, _, err = cli(capsys, *argv)
        one_line_error(code, err, flag, reason)
        assert str(argv[argv.index(flag) + 1]) in err  # the path is named
    assert sorted(tmp_path.rglob("*")) == before  # nothing created: no run folder, no file, no folder


def test_read_only_folders_are_refused(tmp_path, capsys, no_long_work, read_only_folder):
    code, _, err = cli(capsys, "evolve", "--replays", read_only_folder / "replays", "--out", tmp_path / "run")
    one_line_error(code, err, "--replays", "cannot write in")
    code, _, err = cli(capsys, "replay", REPLAY, "--gif", read_only_folder / "x.gif")
    one_line_error(code, err, "--gif", "cannot write in")
    assert not (tmp_path / "run").exists()


def test_a_writable_place_is_tried_not_guessed(tmp_path):
    # /proc refuses new folders even to root, whom os.access would let through.
    if not pathlib.Path("/proc/self").exists():
        pytest.skip("no /proc here")
    with pytest.raises(UserError, match="cannot write in /proc"):
        flags.check_output_folder("/proc/tilerunner-test/replays", "--replays")
    with pytest.raises(UserError, match="cannot write in /proc"):
        flags.check_output_file("/proc/tilerunner-test.gif", "--gif")
    assert flags.check_output_folder(tmp_path / "new" / "deeper", "--replays") == tmp_path / "new" / "deeper"
    assert list(tmp_path.iterdir()) == []  # the probe left nothing behind


def test_a_gif_beyond_its_pixel_budget_is_refused_before_drawing(tmp_path, capsys):
    code, _, err = cli(capsys, "replay", REPLAY, "--gif", tmp_path / "big.gif", "--scale", "16", "--frame-step", "1")
    one_line_error(code, err, "--gif", "more than a GIF may hold", "--frame-step")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# Level size (item 10): limited on load, and pictures limited before pygame sees them


def level_text(width: int, height: int = 16) -> str:
    return "".join(("X" if r == height - 1 else "-") * width + "\n" for r in range(height))


def test_levels_up_to_the_limits_load_and_beyond_them_are_refused_with_file_line_col(tmp_path):
    assert parse_level(level_text(MAX_COLUMNS, MAX_ROWS)).tiles.shape == (MAX_ROWS, MAX_COLUMNS)
    with pytest.raises(LevelError, match=rf"^wide\.txt:1:{MAX_COLUMNS + 1}: level too wide: 4,097 columns"):
        parse_level(level_text(MAX_COLUMNS + 1), "wide.txt")
    with pytest.raises(LevelError, match=rf"^tall\.txt:{MAX_ROWS + 1}:1: level too tall: 65 rows"):
        parse_level(level_text(10, MAX_ROWS + 1), "tall.txt")
    big = tmp_path / "big.txt"
    big.write_text("-" * (MAX_LEVEL_BYTES + 1))
    with pytest.raises(LevelError, match=r"big\.txt: too big for a level file"):
        load_level(str(big))


@pytest.mark.parametrize(
    "columns, rows, message",
    [
        (
            655_360,
            16,
            "WIDE.txt: too big for a level file (10,485,776 bytes; at most 1,048,576)",
        ),  # issue 11's 10 MB case
        (MAX_COLUMNS + 1, 16, "WIDE.txt:1:4097: level too wide: 4,097 columns (at most 4,096)"),
    ],
)
def test_levels_show_png_on_an_over_wide_level_is_one_line_not_a_crash(
    tmp_path, tilerunner_process, columns, rows, message
):
    wide = tmp_path / "WIDE.txt"
    wide.write_text(level_text(columns, rows))  # 10,485,760 px wide: pygame died with SIGSEGV on it
    done = tilerunner_process("levels", "show", wide, "--png", tmp_path / "w.png", timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr  # not -11 (SIGSEGV)
    assert message in done.stderr
    assert not (tmp_path / "w.png").exists() and done.stdout == ""


def test_pictures_beyond_the_limit_are_refused_before_pygame(tmp_path):
    class Wide:  # what a level would look like if it got past the loader
        tiles = np.zeros((16, 655_360), np.int8)

    with pytest.raises(ValueError, match="10,485,760x256 px picture is too big"):
        render.level_image(Wide())
    with pytest.raises(ValueError, match="too big"):
        render.save_png(np.zeros((1, render.MAX_IMAGE_SIDE + 1, 3), np.uint8), tmp_path / "x.png")
    with pytest.raises(ValueError, match="too big"):
        render.check_image_size(render.MAX_IMAGE_SIDE, render.MAX_IMAGE_PIXELS // render.MAX_IMAGE_SIDE + 1)
    render.check_image_size(MAX_ROWS * 16, MAX_COLUMNS * 16)  # the largest level fits exactly
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# Paths inside files and text from files (item 12)


@pytest.mark.parametrize(
    "reader, error",
    [
        (lambda p: load_replay(p), ReplayError),
        (lambda p: read_stats(p), StatsError),
        (lambda p: load_level(p), LevelError),
        (lambda p: config_text(p), ConfigError),
        (lambda p: read_regular_file(p, 100, FormatError), FormatError),
    ],
)
def test_devices_are_refused_without_reading_them(reader, error):
    for device in ("/dev/zero", "/dev/urandom"):
        if os.path.exists(device):
            with pytest.raises(error, match="not a regular file"):
                reader(device)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for reader, error in [
        (load_replay, ReplayError),
        (read_stats, StatsError),
        (load_level, LevelError),
        (config_text, ConfigError),
    ]:
        with pytest.raises(error, match="not a regular file"):
            reader(str(fifo))


def test_files_above_their_size_limit_are_refused(tmp_path):
    big = tmp_path / "big"
    with open(big, "wb") as fh:
        fh.truncate(100)  # sparse: a size costs nothing to make
    with pytest.raises(FormatError, match="too big for a file \\(100 bytes; at most 99\\)"):
        read_regular_file(big, 99, FormatError)
    assert read_regular_file(big, 100, FormatError) == b"\0" * 100


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/stdin", "fifo"])
def test_a_replay_whose_run_names_a_device_plays_without_reading_it(tmp_path, target):
    if target == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        target = str(tmp_path / "fifo")
        os.mkfifo(target)
    path = edited_replay(tmp_path, "r.json", lambda d: d.update(run=target))
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    # stdin is a pipe nobody writes to or closes: reading it would hang until the timeout.
    with subprocess.Popen(
        [sys.executable, "-m", "tilerunner", "replay", str(path), "--screenshot", str(tmp_path / "s.png")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as proc:
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "wrote" in out and (tmp_path / "s.png").stat().st_size > 0


def test_a_level_path_that_is_not_printable_is_refused_escaped(tmp_path):
    path = tmp_path / "bad\x1b[31m.txt"
    path.write_text(level_text(20))
    with pytest.raises(LevelError, match=r"bad\\x1b\[31m\.txt: a level file's path must be printable") as info:
        load_level(str(path))
    assert "\x1b" not in str(info.value)


def test_config_errors_print_file_text_escaped(tmp_path, capsys):
    path = tmp_path / "bad.ini"
    path.write_text(config_with(species_fitness_func="\x1b[31mevil"))
    code, _, err = cli(capsys, "evolve", "--config", path, "--out", tmp_path / "run")
    one_line_error(code, err, "species_fitness_func", "\\x1b[31mevil")
    assert "\x1b" not in err and not (tmp_path / "run").exists()


@fast(200)
@given(
    text=st.text(max_size=60)
    | st.lists(st.integers(-5, 2000).map(str) | st.text(max_size=4), max_size=25).map(",".join)
)
def test_bench_ray_actor_lists_are_in_range_or_one_line(text):
    from tilerunner.evolve.bench.ray_overhead import actor_counts

    try:
        counts = actor_counts(text)
    except argparse.ArgumentTypeError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 200
        return
    assert 1 <= len(counts) <= 20 and all(1 <= n <= 1000 for n in counts)
