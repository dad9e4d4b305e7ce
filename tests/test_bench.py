"""`tilerunner bench ...` run end to end on small settings and print what they promise; bench watch's processes."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time

import pytest

from tilerunner.agent import CompiledNetwork, compile_arrays
from tilerunner.evolve.bench.errors import BenchError
from tilerunner.evolve.bench.watch import ViewerProcess, timed_run
from tilerunner.evolve.commands.bench import BENCHES
from tilerunner.evolve.commands.cli import main
from tilerunner.evolve.core.playback import Playback
from tilerunner.evolve.runs.run import Run


@pytest.fixture(autouse=True)
def run_elsewhere(tmp_path, monkeypatch):
    """The benchmarks evolve (some in processes of their own): here, in an empty folder, never in the repository."""
    monkeypatch.chdir(tmp_path)


def number(text: str) -> int:
    return int(text.replace(",", ""))


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def run_cli(capsys, *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("name", BENCHES)
def test_each_bench_offers_the_flags_its_module_declares(capsys, name):
    # A benchmark's module declares its own flags and --help next to the run that reads them; the command
    # lists the module under its name, and `tilerunner bench NAME --help` shows all of them.
    bench = BENCHES[name]
    declared = argparse.ArgumentParser()
    bench.add_arguments(declared)
    flags = [flag for action in declared._actions for flag in action.option_strings if flag not in ("-h", "--help")]
    with pytest.raises(SystemExit) as done:
        main(["bench", name, "--help"])
    shown = capsys.readouterr().out
    assert done.value.code == 0 and flags
    assert shown.startswith(f"usage: tilerunner bench {name} ")
    for flag in flags:
        assert re.search(rf"^  {re.escape(flag)}\b", shown, re.M), f"bench {name} --help lacks {flag}"
    assert "".join(bench.DESCRIPTION.split()) in "".join(shown.split())  # however argparse wraps it
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    listed = rf"^    {name}\s+{re.escape(bench.HELP.split()[0])}"  # with its one-line help, beside or below
    assert re.search(listed, capsys.readouterr().out, re.M)


def test_bench_env_prints_both_rates_and_their_ratio(capsys):
    out = run_cli(capsys, "bench", "env", "--level", "1-1", "--frames", "20000", "--steps", "300", "--repeats", "1")
    # The shape of the report only: tests do not time things (the figures are whatever this machine gives).
    assert re.search(
        r"^\(a\) physics kernel, 1 core, 13x13 observation every 5 frames: [\d,]+ frames/s"
        r"   \(runs: [\d,]+\)$",
        out,
        re.M,
    )
    assert re.search(
        r"^\(b\) gymnasium env\.step via gym\.make: +[\d,]+ steps/s = [\d,]+ frames/s"
        r"   \(runs: [\d,]+\)$",
        out,
        re.M,
    )
    assert re.search(r"^ratio: the kernel simulates [\d.,]+x as many frames per second as env\.step$", out, re.M)
    # Each verdict follows from the figures printed beside it.
    frames = number(re.search(r"^\(a\) .*: ([\d,]+) frames/s", out, re.M).group(1))
    steps = number(re.search(r"^\(b\) .*: +([\d,]+) steps/s", out, re.M).group(1))
    target = re.search(
        r"^targets: \(a\) >= ([\d,]+) frames/s: (met|MISSED); \(b\) >= ([\d,]+) steps/s: (met|MISSED)$", out, re.M
    )
    assert target.group(2) == verdict(frames >= number(target.group(1)))
    assert target.group(4) == verdict(steps >= number(target.group(3)))


@pytest.mark.slow
def test_bench_net_prints_four_rates_against_neat(capsys):
    out = run_cli(
        capsys,
        "bench",
        "net",
        "--genomes",
        "2",
        "--hidden",
        "5",
        "--links",
        "20",
        "--steps",
        "300",
        "--pop",
        "4",
        "--repeats",
        "1",
    )
    # The shape of the report only (a row per way to activate, its rate and its ratio); tests do not time things.
    rows = [ln for ln in out.splitlines() if "activations/s" in ln]
    names = [
        "neat-python RecurrentNetwork.activate",
        "CompiledNetwork.activate (from Python)",
        "activate_steps kernel (1 core)",
        "activate_population kernel (4 nets, all cores)",
    ]
    assert len(rows) == 4
    for row, name in zip(rows, names):
        assert re.fullmatch(re.escape(name) + r" +[\d,]+ activations/s +[\d.,]+x neat-python", row), row
    assert rows[0].endswith(" 1.0x neat-python")  # the baseline against itself
    ratios = [float(re.search(r"([\d.,]+)x neat-python$", row).group(1).replace(",", "")) for row in rows]
    target = re.search(r"^targets: many-steps >= 50x: (met|MISSED); population >= 80x: (met|MISSED)$", out, re.M)
    for ratio, goal, said in zip(ratios[2:], (50, 80), target.groups()):  # as the ratios printed say
        assert said == verdict(ratio >= goal) or round(ratio, 1) == goal  # (a ratio printed as the goal: either)


@pytest.mark.slow
def test_bench_memory_prints_a_row_per_delay_and_setting(capsys):
    out = run_cli(
        capsys,
        "bench",
        "memory",
        "--seeds",
        "1",
        "--delays",
        "3,5",
        "--generations",
        "3",
        "--pop",
        "20",
        "--pairs",
        "2",
    )
    rows = [ln.split() for ln in out.splitlines() if re.match(r"\s+\d+\s+(yes|no)\s", ln)]
    assert [(r[0], r[1]) for r in rows] == [("3", "no"), ("3", "yes"), ("5", "no"), ("5", "yes")]
    assert all(re.fullmatch(r"\d/1", r[2]) for r in rows)


@pytest.mark.parametrize("delays", ["10,x", "10,0", ""])
def test_bench_memory_rejects_bad_delays_in_one_line(capsys, delays):
    with pytest.raises(SystemExit) as exited:  # argparse rejects it before anything runs
        main(["bench", "memory", "--delays", delays])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert "--delays" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_bench_learn_reports_generations_and_seconds_per_seed(capsys):
    out = run_cli(capsys, "bench", "learn", "--seeds", "2", "--pop", "40", "--generations", "15")
    seeds = [ln for ln in out.splitlines() if ln.strip().startswith("seed")]
    assert len(seeds) == 2 and all(
        ("finished after" in ln or "not finished" in ln) and ln.endswith(" s") for ln in seeds
    )
    assert re.search(r"^finished by 2/2 seeds;.* failures 0$", out, re.M)  # 1-1 is learnt in a few generations


def test_bench_evolve_splits_a_generation_and_checks_the_naive_way_agrees(capsys):
    out = run_cli(
        capsys,
        "bench",
        "evolve",
        "--pop",
        "30",
        "--generations",
        "2",
        "--naive",
        "5",
        "--sizes",
        "40",
        "--links",
        "12",
        "--book-generations",
        "1",
    )
    assert re.search(r"population kernel: [\d,]+ frames/s", out)
    assert re.search(
        r"seconds per generation: [\d.]+\s+=\s+compile\+pack [\d.]+ \+ kernel [\d.]+"
        r" \+ neat reproduce [\d.]+ \+ neat speciate [\d.]+",
        out,
    )
    assert "same fitness both ways: yes" in out
    # The bookkeeping table: stock neat-python and the exact path bred the same population; batch timed too.
    row = re.search(
        r"^ +40 +\d+ +\d+ +([\d.]+) +[\d.]+ +[\d.]+ +([\d.]+) +[\d.]+x +[\d.]+x +(met|MISSED) +yes", out, re.M
    )
    assert row, out
    batch, evaluation = float(row.group(2)), float(row.group(1))
    assert row.group(3) == verdict(batch < evaluation) or batch == evaluation  # batch < eval, as printed
    rate = number(re.search(r"population kernel: ([\d,]+) frames/s", out).group(1))
    assert re.search(rf"^targets: >= 4,000,000 frames/s: {verdict(rate >= 4_000_000)};", out, re.M)


@pytest.mark.slow
def test_bench_watch_prints_each_repeat_and_the_medians(capsys):
    out = run_cli(capsys, "bench", "watch", "--level", "1-1", "--generations", "2", "--repeats", "1")
    # The shape only: the figures are this machine's (on a cold Numba cache a 2-generation run can end before
    # the viewer's first frame; test_the_viewer_process_follows_... below requires frames drawn).
    assert re.search(
        r"^  repeat 0: plain +[\d.]+ s, with --watch +[\d.]+ s \( *[+-][\d.]+%\),"
        r" viewer \d+ frames/s$",
        out,
        re.M,
    )
    assert re.search(r"^median: evolution [+-][\d.]+% with the viewer open; viewer \d+ frames/s$", out, re.M)
    assert re.search(
        r"^targets: at most 10% slower \((met|missed)\), at least 30 frames/s \((met|missed)\)$", out, re.M
    )


def test_a_timed_run_evolves_in_its_own_process_and_reads_its_seconds_from_the_run_folder(tmp_path):
    run = timed_run("1-1", 2, 0, tmp_path / "run", watched=False)
    rows = [json.loads(line) for line in (tmp_path / "run" / "timing.jsonl").read_text().splitlines()]
    assert [r["generation"] for r in rows] == [0, 1]
    assert run.shown is None and run.seconds == pytest.approx(sum(r["total_seconds"] for r in rows))


def test_the_viewer_process_follows_a_run_folder_and_sends_back_what_it_drew(tmp_path):
    result = Run.create(["1-1"], generations=2, pop=20, out=tmp_path / "run").run()  # a finished run folder
    # Play the champion here first, so that the kernels the viewer steps are in Numba's cache (shared with
    # the child): on a cold cache the child's first frame would otherwise wait for them to compile.
    playback = Playback(
        CompiledNetwork(compile_arrays(result.champion, result.network)), result.levels[0], result.settings
    )
    while playback.step():
        pass
    viewer = ViewerProcess(tmp_path / "run", {"SDL_VIDEODRIVER": "dummy"})
    try:
        viewer.wait_until_ready()
        time.sleep(1.0)  # let it draw a while: SIGTERM must then end Viewer.run normally, with its figures
        shown = viewer.close()
    finally:
        viewer.kill()
    assert viewer.process.exitcode == 0
    assert set(shown) == {"frames_drawn", "seconds", "fps"}
    assert shown["frames_drawn"] > 0 and shown["seconds"] > 0 and shown["fps"] > 0


def test_a_run_that_cannot_start_is_one_bench_error_naming_why(tmp_path):
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    (tmp_path / "run" / "checkpoints" / "gen-0000.json.gz").write_bytes(b"")  # a run started here: no new one
    with pytest.raises(BenchError, match=r"the evolution process failed: .*already holds a run"):
        timed_run("1-1", 2, 0, tmp_path / "run", watched=True)


def test_bench_ray_without_ray_names_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    code = main(["bench", "ray", "--pop", "4", "--warmup", "0", "--repeats", "1"])
    assert code == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith("the Ray backend needs Ray, which is not installed: pip install 'tilerunner[ray]'")
    )


@pytest.mark.parametrize("actors", ["0", "1,x", "5000"])
def test_bench_ray_rejects_bad_actor_counts_in_one_line(capsys, actors):
    with pytest.raises(SystemExit) as stop:
        main(["bench", "ray", "--actor-counts", actors])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "argument --actor-counts: expected up to 20" in err and len(err.splitlines()) == 1


def test_bench_foresight_counts_the_frames_foresight_simulates_and_times_each_variant(capsys):
    out = run_cli(capsys, "bench", "foresight", "--level", "gen:1-2:1", "--pop", "4", "--repeats", "1")
    cost = re.search(
        r"^rules playing them: ([\d,]+) decisions, ([\d,]+) frames played; foresight simulated ([\d,]+) frames:"
        r" ([\d,]+) a decision, ([\d.,]+) per frame played$",
        out,
        re.M,
    )
    assert cost, out
    decisions, played, simulated = (number(cost.group(i)) for i in (1, 2, 3))
    # Every decision plays at least the five ground moves or the three air moves forward, a frame or more each.
    assert decisions > 0 and simulated >= 3 * decisions
    assert number(cost.group(4)) == round(simulated / decisions)
    rows = re.findall(
        r"^  (grid|grid \+ foresight|foresight alone) \(and jump\) +(\d+) inputs .*\( *([\d.]+)x the grid's\)",
        out,
        re.M,
    )
    assert [(name, int(n)) for name, n, _ in rows] == [
        ("grid", 172),
        ("grid + foresight", 217),
        ("foresight alone", 48),
    ]
    assert float(rows[0][2]) == 1.0
