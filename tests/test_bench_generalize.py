"""`tilerunner bench generalize`: levels kept apart, the champion picked on validation, runs that go on."""

from __future__ import annotations

import json

from tilerunner.envs.generator import generate_text
from tilerunner.evolve.bench.generalize import HELD_OUT_GEN, split_public
from tilerunner.evolve.commands.cli import main as cli
from tilerunner.evolve.runs.replay import load_replay
from tilerunner.evolve.runs.stats import read_stats


def test_public_levels_split_per_generator_by_number():
    files = [f"v/{g}-lvl-{n}.txt" for g in ("ge", "ore") for n in (210, 201, 300, 251, 250)]
    pick, report = split_public(files)
    assert pick == sorted(f"v/{g}-lvl-{n}.txt" for g in ("ge", "ore") for n in (201, 210, 250))
    assert report == sorted(f"v/{g}-lvl-{n}.txt" for g in ("ge", "ore") for n in (251, 300))


def bench(tmp_path, *extra):
    public = tmp_path / "public"
    if not public.exists():
        public.mkdir()
        for n in range(1, 5):  # our own "public" levels: generated ones saved as files
            (public / f"mine-lvl-{n}.txt").write_text(generate_text(700 + n, 1))
    return cli(
        [
            "bench",
            "generalize",
            "--public",
            str(public),
            "--level",
            "gen:*:1",
            "--seeds",
            "2",
            "--time-limit",
            "0.01",
            "--pop",
            "20",
            "--levels-per-gen",
            "3",
            "--validate-every",
            "1",
            "--workers",
            "1",
            "--out",
            str(tmp_path / "runs"),
            *extra,
        ]
    )


def test_trains_each_seed_picks_on_validation_and_reports_held_out_sets(tmp_path, capsys):
    assert bench(tmp_path, "--json", str(tmp_path / "report.json")) == 0
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "report.json").read_text())
    assert set(report["report"]) == {
        "training",
        "picking",
        "public held-out",
        *(f"gen held-out d{s[-1]}" for s in HELD_OUT_GEN),
    }
    assert report["report"]["public held-out"]["levels"] == 2 and report["report"]["picking"]["levels"] == 2
    # The champion is the seed whose own best on the picking levels was best.
    best = {}
    for seed in (0, 1):
        rows = read_stats(tmp_path / "runs" / f"seed-{seed}" / "stats.jsonl")
        best[seed] = max(
            (r["validation"]["finished_share"], r["validation"]["mean_progress"]) for r in rows if "validation" in r
        )
        played = {lv for r in rows for lv in r["levels"]}
        assert all(int(lv.split(":")[1]) >= 1_000_000 for lv in played)  # never a held-out seed
    assert report["champion_seed"] == max(best, key=best.get)
    champion = load_replay(report["champion"])
    picking = report["report"]["picking"]
    assert (picking["finished_share"], picking["mean_progress"]) == best[report["champion_seed"]]
    assert champion.settings.features == ()
    for line in ("public held-out  finished", "gen held-out d3  finished", "every seed's pick"):
        assert line in out

    # The same command again reuses both finished seeds: nothing is trained, the report is the same.
    before = [(tmp_path / "runs" / f"seed-{s}" / "stats.jsonl").read_text() for s in (0, 1)]
    assert bench(tmp_path, "--json", str(tmp_path / "again.json")) == 0
    assert [(tmp_path / "runs" / f"seed-{s}" / "stats.jsonl").read_text() for s in (0, 1)] == before
    assert json.loads((tmp_path / "again.json").read_text())["report"] == report["report"]


def test_a_missing_public_folder_is_one_line(tmp_path, capsys):
    code = cli(["bench", "generalize", "--public", str(tmp_path / "nowhere"), "--out", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 2 and "no such folder" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()


def test_solve_reports_shares_of_the_solvable_levels(tmp_path, capsys, monkeypatch):
    import tilerunner.evolve.bench.generalize as generalize

    monkeypatch.setattr(generalize, "HELD_OUT_GEN", ["gen:500000-500001:1"])  # the solver's time: keep sets small
    train = tmp_path / "train"
    train.mkdir()
    for n in range(2):
        (train / f"t-lvl-{n}.txt").write_text(generate_text(800 + n, 1))
    public = tmp_path / "public"
    public.mkdir()
    (public / "p-lvl-1.txt").write_text(generate_text(901, 1))
    # A held-out level nobody can finish: the exit is beyond a pit far too wide to jump.
    (public / "p-lvl-2.txt").write_text("-" * 40 + "\n" + "M" + "-" * 38 + "F\n" + "XXX" + "-" * 34 + "XXX\n")
    assert (
        cli(
            [
                "bench",
                "generalize",
                "--public",
                str(public),
                "--level",
                str(train),
                "--seeds",
                "1",
                "--time-limit",
                "0.01",
                "--pop",
                "20",
                "--validate-every",
                "1",
                "--levels-per-gen",
                "2",
                "--workers",
                "1",
                "--solve",
                "--out",
                str(tmp_path / "runs"),
                "--json",
                str(tmp_path / "r.json"),
            ]
        )
        == 0
    )
    report = json.loads((tmp_path / "r.json").read_text())["report"]
    assert report["public held-out"]["levels"] == 1 and report["public held-out"]["solvable"] == 0
    assert report["gen held-out d1"]["solvable"] == 2  # generated levels are finishable by construction
    assert "of the solvable" in capsys.readouterr().out


def test_a_resumed_seed_validates_as_the_command_line_says(tmp_path):
    # Each seed stops after 2 generations validating every one; the same bench given 6 generations and
    # --validate-every 4 resumes them, and from there they validate every 4th generation, as the flag says.
    budget = ["--time-limit", "60", "--seeds", "1"]
    assert bench(tmp_path, *budget, "--generations", "2") == 0
    assert bench(tmp_path, *budget, "--generations", "6", "--validate-every", "4") == 0
    rows = read_stats(tmp_path / "runs" / "seed-0" / "stats.jsonl")
    assert len(rows) == 6
    assert [r["generation"] for r in rows if "validation" in r] == [0, 1, 4]


def test_a_seed_started_with_other_fixed_options_is_refused_in_one_line(tmp_path, capsys):
    # Each option fixed for a run's life is checked against the seed's run folder before anything is trained:
    # --pop, --levels-per-gen, --observe, --recheck given otherwise are refused naming the flag; the same flags go on.
    budget = ["--time-limit", "60", "--seeds", "1", "--generations", "1"]
    assert bench(tmp_path, *budget) == 0
    capsys.readouterr()
    stats = (tmp_path / "runs" / "seed-0" / "stats.jsonl").read_text()
    for flags, said in (
        (["--pop", "12"], "--pop 20, not 12"),
        (["--levels-per-gen", "2"], "--levels-per-gen 3, not 2"),
        (["--observe", "jump"], "--observe none, not jump"),
        (["--recheck", "1"], "--recheck none, not 1"),
    ):
        assert bench(tmp_path, *budget[:-1], "2", *flags) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and f"its run was started with {said}" in err, err
        assert err.endswith("give the same flags, or another --out")
    assert (tmp_path / "runs" / "seed-0" / "stats.jsonl").read_text() == stats
    assert bench(tmp_path, *budget[:-1], "2") == 0
    assert len(read_stats(tmp_path / "runs" / "seed-0" / "stats.jsonl")) == 2
