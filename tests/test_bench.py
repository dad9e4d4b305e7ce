"""`tilerunner bench env|net|memory` run end to end on small settings and print what they promise."""

from __future__ import annotations

import re

from tilerunner.evolve.commands.cli import main


def run_cli(capsys, *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_bench_env_prints_both_rates_and_their_ratio(capsys):
    out = run_cli(capsys, "bench", "env", "--level", "1-1", "--frames", "20000", "--steps", "300", "--repeats", "1")
    lines = out.splitlines()
    assert any(ln.startswith("(a) physics kernel") and "frames/s" in ln for ln in lines)
    assert any(ln.startswith("(b) gymnasium env.step") and "steps/s" in ln for ln in lines)
    assert any(ln.startswith("ratio:") for ln in lines)


def test_bench_net_prints_four_rates_against_neat(capsys):
    out = run_cli(capsys, "bench", "net", "--genomes", "2", "--hidden", "5", "--links", "20", "--steps", "300",
                  "--population", "4", "--repeats", "1")
    rows = [ln for ln in out.splitlines() if "activations/s" in ln]
    assert len(rows) == 4 and rows[0].startswith("neat-python") and rows[0].rstrip().endswith("1.0x neat-python")
    ratios = [float(re.search(r"([\d.]+)x neat-python", r).group(1)) for r in rows]
    assert ratios[2] > 1.0  # the kernel beats neat-python even on a tiny run
    assert "targets:" in out


def test_bench_memory_prints_a_row_per_delay_and_setting(capsys):
    out = run_cli(capsys, "bench", "memory", "--seeds", "1", "--delays", "3,5", "--generations", "3",
                  "--pop", "20", "--pairs", "2")
    rows = [ln.split() for ln in out.splitlines() if re.match(r"\s+\d+\s+(yes|no)\s", ln)]
    assert [(r[0], r[1]) for r in rows] == [("3", "no"), ("3", "yes"), ("5", "no"), ("5", "yes")]
    assert all(re.fullmatch(r"\d/1", r[2]) for r in rows)


def test_bench_memory_rejects_bad_delays(capsys):
    assert main(["bench", "memory", "--delays", "10,x"]) == 2
    assert "--delays" in capsys.readouterr().err


def test_bench_learn_reports_generations_and_seconds_per_seed(capsys):
    out = run_cli(capsys, "bench", "learn", "--seeds", "2", "--pop", "40", "--generations", "15")
    seeds = [ln for ln in out.splitlines() if ln.strip().startswith("seed")]
    assert len(seeds) == 2 and all(("finished after" in ln or "not finished" in ln) and ln.endswith(" s")
                                   for ln in seeds)
    assert re.search(r"finished by \d/2 seeds", out)


def test_bench_evolve_splits_a_generation_and_checks_the_naive_way_agrees(capsys):
    out = run_cli(capsys, "bench", "evolve", "--pop", "30", "--generations", "2", "--naive", "5")
    assert re.search(r"population kernel: [\d,]+ frames/s", out)
    assert re.search(r"seconds per generation: [\d.]+\s+=\s+compile [\d.]+ \+ pack [\d.]+ \+ kernel [\d.]+"
                     r" \+ neat reproduce [\d.]+ \+ neat speciate [\d.]+", out)
    assert "same fitness both ways: yes" in out
