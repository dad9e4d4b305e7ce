"""How the commands behave as command-line tools: every `evolve --resume` flag refused or applied, never
ignored; a closed pipe is a quiet stop, not a full disk; progress only on a terminal; `eval --json` a schema."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path

import numba
import pytest

from tilerunner import Run
from tilerunner.evolve.commands import evaluate, evolve, terminal
from tilerunner.evolve.commands.cli import build_parser, main
from tilerunner.evolve.core.neat_config import builtin_config_path
from tilerunner.evolve.core.rollout import use_threads
from tilerunner.evolve.runs.run_folder import RunFolder


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def stats(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "stats.jsonl").read_text().splitlines()]


@pytest.fixture(autouse=True)
def run_elsewhere(tmp_path, monkeypatch):
    """Every test runs in an empty folder of its own, so that nothing lands in the repository."""
    monkeypatch.chdir(tmp_path)


# 1. evolve --resume: every flag refused or applied --------------------------------------------------------


def evolve_flags() -> list[argparse.Action]:
    """Every flag `tilerunner evolve --help` shows (--help and --resume aside)."""
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    return [a for a in sub.choices["evolve"]._actions if a.option_strings and a.dest not in ("help", "resume")]


def a_value(action: argparse.Action) -> list[str]:
    """A value a flag takes, read off the flag itself: its lowest number, its first choice, a level, a file. The
    lowest numbers of the episode settings are 0 for several: a 0 is a value given, not a flag left out."""
    if action.nargs in (0, "?"):
        return []
    if action.choices:
        return [list(action.choices)[0]]
    if hasattr(action.type, "range"):
        return [str(action.type.range[0])]
    return {"SET": ["1-2"], "FILE": [str(builtin_config_path("default"))], "FEATURE[,FEATURE]": ["jump"]}.get(
        action.metavar, ["elsewhere"]
    )


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> Path:
    """A run of one generation on 1-1 (seed 0, population 20), not yet solved (it is in generation 1)."""
    folder = tmp_path_factory.mktemp("small") / "run"
    Run.create(["1-1"], pop=20, generations=1, validate=["1-2"], out=folder).run()
    return folder


@pytest.fixture(scope="module")
def applied_flags(small_run) -> list[str]:
    """The flags the refusal of a flag that shapes the run says do apply on resume."""
    code, _, err = run_cli_plain("evolve", "--resume", small_run, "--pop", "30")
    assert code == 2
    return err.split(" only ")[1].removesuffix(" can\n").replace(" and ", ", ").split(", ")


def run_cli_plain(*argv) -> tuple[int, str, str]:
    """`run_cli` without pytest's capsys (for module fixtures)."""
    import contextlib

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("flag", [a.option_strings[0] for a in evolve_flags()])
def test_every_evolve_flag_is_refused_on_resume_in_one_line_or_named_as_applied(small_run, applied_flags, flag):
    # Nothing is silently ignored: each flag of --help either stops the resume before anything changes, or is
    # one of those the refusal names as applied (their effects are tested below).
    if flag in applied_flags:
        return
    (action,) = [a for a in evolve_flags() if a.option_strings[0] == flag]
    before = (small_run / "args.json").read_text()
    code, out, err = run_cli_plain("evolve", "--resume", small_run, flag, *a_value(action))
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [err.strip()] and f"{flag} cannot be changed when resuming" in err
    assert (small_run / "args.json").read_text() == before and len(stats(small_run)) == 1


def test_what_shapes_a_run_is_refused_and_how_long_where_and_how_often_it_runs_applies(applied_flags):
    shapes = {"--level", "--pop", "--seed", "--config", "--observe", "--jump-rule", "--frame-skip", "--recheck"}
    shapes |= {"--seed-rules", "--levels-per-gen", "--curriculum", "--validate", "--memory", "--out"}
    runs = {"--generations", "--keep-going", "--checkpoint-every", "--validate-every", "--time-limit"}
    runs |= {"--replays", "--backend", "--workers", "--address", "--actors", "--quiet", "--watch", "--tensorboard"}
    assert runs <= set(applied_flags) and not shapes & set(applied_flags)
    assert set(applied_flags) <= {a.option_strings[0] for a in evolve_flags()}


@pytest.fixture
def run_copy(small_run, tmp_path) -> Path:
    """A copy of the small run to resume (each test changes its own)."""
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(small_run, copy)
    return copy


def test_generations_checkpoint_every_validate_every_and_quiet_apply_on_resume(run_copy, capsys):
    code, out, _ = run_cli(
        capsys,
        "evolve",
        "--resume",
        run_copy,
        "--generations",
        "4",
        "--keep-going",
        "--checkpoint-every",
        "1",
        "--validate-every",
        "1",
        "--quiet",
    )
    assert code == 0
    assert [r["generation"] for r in stats(run_copy)] == [0, 1, 2, 3]  # --generations
    names = [p.name for p in RunFolder(run_copy).checkpoint_files()]
    assert {"gen-0002.json.gz", "gen-0003.json.gz"} <= set(names)  # --checkpoint-every 1 (the run had 10)
    assert [r["generation"] for r in stats(run_copy) if "validation" in r] == [0, 1, 2, 3]  # --validate-every 1
    assert not [ln for ln in out.splitlines() if ln.startswith("gen ")] and out.startswith("done: 3 generations")
    saved = json.loads((run_copy / "args.json").read_text())
    assert (saved["generations"], saved["checkpoint_every"], saved["validate_every"]) == (4, 1, 1)


@pytest.mark.parametrize("keep_going", [False, True])
def test_keep_going_applies_on_resume(run_copy, capsys, keep_going):
    code, out, _ = run_cli(
        capsys,
        "evolve",
        "--resume",
        run_copy,
        "--generations",
        "4",
        "--quiet",
        *(["--keep-going"] if keep_going else []),
    )
    assert code == 0
    # 1-1 is first finished in generation 1: without --keep-going the run ends there.
    assert len(stats(run_copy)) == (4 if keep_going else 2)


def test_replays_applies_on_resume(run_copy, tmp_path, capsys):
    code, _, _ = run_cli(
        capsys, "evolve", "--resume", run_copy, "--generations", "2", "--quiet", "--replays", tmp_path / "copies"
    )
    assert code == 0
    (kept,) = (run_copy / "first-finishes").iterdir()
    assert [p.name for p in (tmp_path / "copies").iterdir()] == [kept.name]


def test_time_limit_applies_on_resume(run_copy, capsys):
    code, out, _ = run_cli(
        capsys, "evolve", "--resume", run_copy, "--generations", "1000000", "--keep-going", "--time-limit", "0.01"
    )
    assert code == 0 and "stops after 0.01 min" in out and "time limit reached after generation" in out
    assert len(stats(run_copy)) < 1000


def test_workers_applies_on_resume(run_copy, capsys):
    before = numba.get_num_threads()
    try:
        assert (
            run_cli(capsys, "evolve", "--resume", run_copy, "--generations", "2", "--workers", "1", "--quiet")[0] == 0
        )
        assert numba.get_num_threads() == 1
    finally:
        use_threads(before)


def test_tensorboard_applies_on_resume(run_copy, capsys):
    pytest.importorskip("tensorboardX")
    assert run_cli(capsys, "evolve", "--resume", run_copy, "--generations", "2", "--tensorboard", "--quiet")[0] == 0
    assert list((run_copy / "tensorboard").iterdir())


def test_watch_applies_on_resume(run_copy, capsys, monkeypatch):
    opened = []

    class Viewer:  # stands for the viewer's process
        def poll(self):
            return 0

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(evolve, "start_viewer", lambda folder: opened.append(folder) or Viewer())
    assert run_cli(capsys, "evolve", "--resume", run_copy, "--generations", "2", "--watch", "--quiet")[0] == 0
    assert opened == [Path(str(run_copy))]


def test_backend_flags_apply_on_resume_and_are_checked_as_on_create(run_copy, capsys):
    code, _, err = run_cli(capsys, "evolve", "--resume", run_copy, "--actors", "2")
    assert code == 2 and "--address and --actors are for the Ray backend" in err and len(stats(run_copy)) == 1
    code, _, _ = run_cli(capsys, "evolve", "--resume", run_copy, "--generations", "2", "--backend", "local", "--quiet")
    assert code == 0 and len(stats(run_copy)) == 2


# 2. A closed pipe is a quiet stop, not a full disk ----------------------------------------------------------


def test_evolve_into_a_pipe_closed_early_stops_quietly_and_resumes(tmp_path, tilerunner_process, tilerunner_started):
    run = tmp_path / "run"
    proc = tilerunner_started(
        "evolve", "--level", "2-4", "--pop", "20", "--generations", "100000", "--keep-going", "--out", run, cwd=tmp_path
    )
    try:
        lines = [proc.stdout.readline() for _ in range(3)]  # `| head -3`
        proc.stdout.close()
        err = proc.stderr.read()
        proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert lines[0].startswith("evolving on 2-4") and lines[2].startswith("gen    0")
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "make room" not in err and "Broken pipe" not in err
    # It stopped at the next generation's end, with a checkpoint there (checkpoints are every 10 otherwise).
    played = len(stats(run))
    assert played < 100 and RunFolder(run).checkpoint_files()[-1].name == f"gen-{played:04d}.json.gz"
    done = tilerunner_process("evolve", "--resume", run, "--generations", played + 2, "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [r["generation"] for r in stats(run)] == list(range(played + 2))


def test_levels_show_into_a_closed_pipe_exits_quietly(tmp_path, tilerunner_started):
    proc = tilerunner_started("levels", "show", "gen:3:5", cwd=tmp_path)
    proc.stdout.close()  # before anything was read: every write meets a closed pipe
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0 and err == ""


# 3. Progress: bars on a terminal only -----------------------------------------------------------------------


def level_files(tmp_path, n: int) -> list[str]:
    from tilerunner.envs.generator import generate_text

    paths = []
    for i in range(n):
        path = tmp_path / f"lvl-{i}.txt"
        path.write_text(generate_text(40 + i, 1))
        paths.append(str(path))
    return paths


@pytest.mark.parametrize(
    "argv",
    [
        ["eval", "2-3-f3311", "--level", "gen:1-12:2"],
        ["levels", "solve", "gen:4:1"],
        ["levels", "check", "--solve", "LEVELS"],
    ],
)
def test_off_a_terminal_output_is_whole_lines_without_bars(tmp_path, tilerunner_process, argv):
    argv = [a for arg in argv for a in (level_files(tmp_path, 2) if arg == "LEVELS" else [arg])]
    done = tilerunner_process(*argv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for stream in (done.stdout, done.stderr):
        assert "\r" not in stream and "\x1b[" not in stream and "it/s" not in stream and "%|" not in stream
    assert done.stdout.strip()


def test_a_bar_shows_on_a_terminal_and_nothing_off_one(monkeypatch):
    screen = io.StringIO()
    monkeypatch.setattr(sys, "stderr", screen)
    with terminal.progress_bar("searched", total=4, unit="level") as update:
        update(2)
    assert screen.getvalue() == ""  # a StringIO is no terminal
    monkeypatch.setattr(terminal, "live", lambda: True)
    monkeypatch.setattr(terminal, "TICK_SECONDS", 0.01)
    with terminal.progress_bar("searched", total=4, unit="level") as update:
        update(3)
        time.sleep(0.2)  # the bar is redrawn while the work goes on
    assert "searched" in screen.getvalue() and "3/4" in screen.getvalue()


def test_eval_hears_progress_through_the_library_and_results_do_not_change():
    from tilerunner.evolve.runs.evaluation import replay_results
    from tilerunner.evolve.runs.replay import load_replay, shipped_replays
    from tilerunner.evolve.runs.run import as_levels

    replays = [load_replay(shipped_replays() / name) for name in ("2-3-f3311.json", "1-1-f2475.json")]
    levels = as_levels(["gen:1-10:2", "1-1"])
    heard: list[tuple[int, int]] = []
    followed = replay_results(replays, levels, progress=lambda done, total: heard.append((done, total)))
    assert len(heard) > 2 and all(total == 22 for _, total in heard)
    assert [done for done, _ in heard] == sorted(done for done, _ in heard) and heard[-1][0] == 22
    plain = replay_results(replays, levels)
    assert [[r.outcome for r in rows] for rows in followed] == [[r.outcome for r in rows] for rows in plain]


def test_bench_generalize_hears_each_generation_of_a_seed(tmp_path):
    import argparse

    from tilerunner.evolve.bench.generalize import train_seed
    from tilerunner.evolve.runs.run import as_levels

    args = argparse.Namespace(
        time_limit=0.005,
        generations=None,
        jump_rule="hold",
        observe=None,
        relative_to="none",
        config=None,
        pop=20,
        validate_every=1,
        levels_per_gen=2,
        curriculum=None,
        seed_rules=None,
        recheck=None,
    )
    heard: list[tuple[int, float]] = []
    seconds = train_seed(
        0,
        tmp_path / "seed-0",
        ["gen:*:1"],
        as_levels(["gen:900000-900001:1"]),
        args,
        progress=lambda generation, spent: heard.append((generation, spent)),
    )
    rows = stats(tmp_path / "seed-0")
    assert [g for g, _ in heard] == [r["generation"] for r in rows] and heard
    assert [s for _, s in heard] == sorted(s for _, s in heard) and heard[-1][1] == pytest.approx(seconds, abs=0.01)


def test_bench_generalize_generations_stops_each_seed_after_that_many_whatever_the_time_left(tmp_path):
    import argparse

    from tilerunner.evolve.bench.generalize import train_seed
    from tilerunner.evolve.runs.run import as_levels

    args = argparse.Namespace(
        time_limit=600.0,
        generations=3,
        jump_rule="hold",
        observe=None,
        relative_to="none",
        config=None,
        pop=10,
        validate_every=1,
        levels_per_gen=2,
        curriculum=None,
        seed_rules=None,
        recheck=None,
    )
    train_seed(0, tmp_path / "seed-0", ["gen:*:1"], as_levels(["gen:900000-900001:1"]), args)
    assert [r["generation"] for r in stats(tmp_path / "seed-0")] == [0, 1, 2]
    # The same budget again finds the seed done and plays nothing more.
    train_seed(0, tmp_path / "seed-0", ["gen:*:1"], as_levels(["gen:900000-900001:1"]), args)
    assert len(stats(tmp_path / "seed-0")) == 3


# 4. eval --json: a schema, documented fields, progress as printed, and stdout ---------------------------------


def documented_keys(report: dict) -> set[str]:
    """Every field name of an eval report, at every level (group names and how episodes ended are data)."""
    keys = set(report)
    for entry in [*report.get("baselines", []), *report["genomes"]]:
        keys |= set(entry)
        for tally in [entry["total"], *entry["groups"].values()]:
            keys |= set(tally)
        for row in entry["levels"]:
            keys |= set(row)
    if "solver" in report:
        keys |= set(report["solver"])
        for row in report["solver"]["per_level"]:
            keys |= set(row)
    return keys


def test_eval_json_has_a_schema_and_every_field_is_documented(tmp_path, capsys):
    code, _, _ = run_cli(
        capsys,
        "eval",
        "2-3-f3311",
        "--level",
        "gen:1-3:2",
        "--level",
        "2-3",
        "--baseline",
        "hold-right",
        "--solve",
        "--json",
        tmp_path / "out.json",
    )
    report = json.loads((tmp_path / "out.json").read_text())
    assert code == 0 and (report["schema"], report["version"]) == ("tilerunner-eval", 1)
    assert report["level_sets"] == ["gen:1-3:2", "2-3"] and report["levels"] == 4
    doc = evaluate.eval_report.__doc__
    undocumented = [key for key in documented_keys(report) if f"`{key}`" not in doc]
    assert not undocumented
    assert "tilerunner-eval" in evaluate.eval_report.__doc__


def test_eval_json_progress_is_the_progress_printed(tmp_path, capsys):
    code, out, _ = run_cli(
        capsys, "eval", "2-3-f3311", "--level", "gen:1-6:3", "--level", "2-3", "--json", tmp_path / "out.json"
    )
    (genome,) = json.loads((tmp_path / "out.json").read_text())["genomes"]
    assert code == 0
    rows = genome["levels"]
    assert genome["total"]["progress"] == pytest.approx(sum(r["progress"] for r in rows) / len(rows))
    assert 0 < genome["total"]["progress"] < 1 and genome["total"]["mean_progress"] == genome["total"]["progress"]
    printed = {ln.split()[0]: ln for ln in out.splitlines() if ln.startswith("  ")}
    for name, tally in [("total", genome["total"]), *genome["groups"].items()]:
        assert f"progress {tally['progress']:4.0%}" in printed[name]


def test_eval_json_dash_writes_the_json_alone_to_stdout_and_the_report_to_stderr(tmp_path, capsys):
    code, out, err = run_cli(capsys, "eval", "2-3-f3311", "--level", "gen:1-2:3", "--json", "-")
    assert code == 0
    report = json.loads(out)  # nothing but the JSON
    assert report["schema"] == "tilerunner-eval" and report["genomes"][0]["total"]["levels"] == 2
    assert "2-3-f3311.json: 2 levels" in err and "total" in err and "wrote" not in err + out
    assert not os.path.exists("-")


def test_eval_json_with_an_empty_path_is_refused_not_skipped(capsys):
    code, out, err = run_cli(capsys, "eval", "2-3-f3311", "--level", "2-3", "--json", "")
    assert code == 2 and out == "" and err.strip() == "tilerunner: error: --json: empty path"


# Every (command, output flag) with the input it must not replace: the protected file, its content, and the command
# line, given how the protected file is spelled on it (`inp`) and how the output is (`out`).
_OUTPUT_OVER_INPUT = {
    "eval --json over the replay": (
        "R.json",
        "replay",
        lambda inp, out: ["eval", inp, "--level", "1-1", "--json", out],
    ),
    "eval --json over a level": (
        "L.txt",
        "level",
        lambda inp, out: ["eval", "--baseline", "hold-right", "--level", inp, "--json", out],
    ),
    "levels solve --save": ("L.txt", "level", lambda inp, out: ["levels", "solve", inp, "--save", out]),
    "levels show --png": ("L.txt", "level", lambda inp, out: ["levels", "show", inp, "--png", out]),
    "replay --gif over the replay": ("R.json", "replay", lambda inp, out: ["replay", inp, "--gif", out]),
    "replay --gif over a level": (
        "L.txt",
        "level",
        lambda inp, out: ["replay", "1-1-f2475", "--level", inp, "--gif", out],
    ),
    "replay --screenshot": ("R.json", "replay", lambda inp, out: ["replay", inp, "--screenshot", out]),
    "replay --png-frames": (
        "D/frame-00000.png",
        "replay",
        lambda inp, out: ["replay", inp, "--png-frames", os.path.dirname(out)],
    ),
    "plot --png": ("S.png", "stats", lambda inp, out: ["plot", inp, "--png", out]),
    "watch --screenshot": (
        "run/stats.jsonl",
        "stats",
        lambda inp, out: ["watch", os.path.dirname(inp), "--screenshot", out],
    ),
    "bench generalize --json": (
        "L.txt",
        "level",
        lambda inp, out: ["bench", "generalize", "--level", inp, "--json", out],
    ),
}


@pytest.fixture
def no_work(monkeypatch):
    """What each command does once its flags pass fails loudly: a refusal proves it came before any work."""
    import tilerunner.envs.render as render
    import tilerunner.envs.solver as solver
    import tilerunner.evolve.bench.generalize as generalize
    import tilerunner.evolve.commands.replay as replay_command
    import tilerunner.evolve.commands.watch as watch_command
    import tilerunner.evolve.runs.stats as stats

    def boom(*args, **kwargs):
        raise AssertionError("the work started before the output was checked")

    for module, name in [
        (solver, "search"),
        (evaluate, "_measure"),
        (replay_command, "record"),
        (replay_command, "watch"),
        (watch_command, "show_in_viewer"),
        (render, "level_image"),
        (stats, "read_stats"),
        (generalize, "run"),
    ]:
        monkeypatch.setattr(module, name, boom)


@pytest.mark.parametrize("spelling", ["same", "dotted", "symlink", "hardlink"])
@pytest.mark.parametrize("case", sorted(_OUTPUT_OVER_INPUT))
def test_an_output_that_is_one_of_the_inputs_is_refused_before_any_work(
    tmp_path, monkeypatch, capsys, no_work, case, spelling
):
    # `eval R.json --json R.json` replaced the replay with the report, `levels solve L.txt --save L.txt` the level
    # with buttons; spelled ./R.json, or through a link, it is the same file.
    from tilerunner.envs.level import builtin_text
    from tilerunner.evolve.runs.replay import shipped_replays

    protected, kind, argv = _OUTPUT_OVER_INPUT[case]
    monkeypatch.chdir(tmp_path)
    content = {
        "replay": (shipped_replays() / "1-1-f2475.json").read_bytes(),
        "level": builtin_text("1-1").encode(),
        "stats": b'{"generation": 0}\n',
    }[kind]
    Path(protected).parent.mkdir(parents=True, exist_ok=True)
    Path(protected).write_bytes(content)
    inp, out = protected, protected
    if spelling == "dotted":
        out = f"./{protected}"
    elif spelling == "symlink":  # the input named through a link to the output (or, for frames, to its folder)
        inp = f"link-{Path(protected).name}"
        os.symlink(protected, inp)
    elif spelling == "hardlink":  # the input named by another link to the same file
        inp = f"hard-{Path(protected).name}"
        os.link(protected, inp)
    if case == "watch --screenshot" and spelling in ("symlink", "hardlink"):
        inp, out = protected, inp  # watch reads the run folder: the output is the link
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    code, stdout, err = run_cli(capsys, *argv(inp, out))
    assert code == 2 and not stdout and len(err.strip().splitlines()) == 1, (code, stdout, err)
    assert "which this command reads, and writing there would destroy it" in err, err
    assert Path(protected).read_bytes() == content
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before  # nothing made
