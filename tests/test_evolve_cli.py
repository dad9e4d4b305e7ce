"""`tilerunner evolve`: learns 1-1, writes a complete run folder, reproduces, resumes, and refuses bad input."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tilerunner.evolve.commands.cli import main
from tilerunner.evolve.core.neat_config import builtin_config_path, config_text
from tilerunner.evolve.runs.genome_json import genome_from_dict

SMALL = ["--pop", "60"]


def evolve(capsys, *argv) -> tuple[int, str, str]:
    code = main(["evolve", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def stats(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "stats.jsonl").read_text().splitlines()]


ROOT = Path(__file__).resolve().parents[1]


def repository_outputs() -> dict[str, list[str]]:
    """What is in the repository's folders a run could write into by default (runs/, replays/)."""
    return {
        name: sorted(p.name for p in (ROOT / name).iterdir()) if (ROOT / name).is_dir() else []
        for name in ("runs", "replays")
    }


@pytest.fixture(autouse=True)
def run_elsewhere(tmp_path, monkeypatch):
    """Every test here runs in an empty folder of its own (runs/ and ./replays land there), never in the repository."""
    before = repository_outputs()
    monkeypatch.chdir(tmp_path)
    yield
    assert repository_outputs() == before, "a test wrote into the repository"


def test_with_no_flags_it_learns_1_1_and_says_where_the_champion_is(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, _ = evolve(capsys)
    assert code == 0
    (folder,) = (tmp_path / "runs").iterdir()
    assert folder.name.startswith("1-1-") and folder.name.endswith("-s0")
    rows = stats(folder)
    # It learned: generation 0's best did not finish, a later champion did, within 10 generations.
    assert not rows[0]["best"][0]["finished"]
    assert rows[-1]["best"][0]["finished"] and len(rows) <= 10
    champion = sorted((folder / "champions").iterdir())[-1]
    assert f"champion: {Path('runs') / folder.name / 'champions' / champion.name}" in out
    assert "watch it: tilerunner replay" in out and "finished 1-1" in out
    record = json.loads(champion.read_text())
    episode = record["episodes"][0]
    assert episode["outcome"]["finished"] and episode["level"]["id"] == "1-1"
    genome_from_dict(record["genome"])
    # The first finish is kept inside the run folder, named by level and fitness; nothing is written outside it.
    (first,) = (folder / "first-finishes").iterdir()
    assert first.name == f"1-1-f{record['genome']['fitness']:.0f}.json"
    assert f"the champion finished 1-1 for the first time: {Path('runs') / folder.name / 'first-finishes'}" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]
    # The start says where the run goes and how it is set up.
    assert out.splitlines()[0] == f"evolving on 1-1: run folder {Path('runs') / folder.name}"
    assert out.splitlines()[1].startswith("  seed 0, population 300, generations 0-299")
    # The rest of the run folder.
    assert (folder / "config.ini").read_text() == config_text(builtin_config_path("default"))
    args = json.loads((folder / "args.json").read_text())
    assert args["levels"] == ["1-1"] and args["seed"] == 0
    assert list((folder / "checkpoints").iterdir())
    lines = [ln for ln in out.splitlines() if ln.startswith("gen ")]
    assert len(lines) == len(rows) and "best-ever" in lines[0] and "frames/s" in lines[0] and "species" in lines[0]


def test_first_finishes_are_copied_elsewhere_only_when_asked(tmp_path, capsys):
    code, out, _ = evolve(capsys, "--level", "1-1", "--out", str(tmp_path / "run"), "--replays", str(tmp_path / "r"))
    assert code == 0
    (kept,) = (tmp_path / "run" / "first-finishes").iterdir()
    (copy,) = (tmp_path / "r").iterdir()
    assert copy.name == kept.name and copy.read_text() == kept.read_text()


def test_a_resumed_run_reports_only_its_own_generations(tmp_path, capsys):
    run = tmp_path / "run"
    evolve(capsys, "--level", "1-1", "--generations", "2", "--out", str(run))
    code, out, _ = evolve(capsys, "--resume", str(run), "--generations", "10")
    assert code == 0 and out.startswith(f"resuming on 1-1: run folder {run}")
    # 1-1 with seed 0 is first finished in generation 2: the one generation this resumed run played.
    assert "done: 1 generation (generation 2) in " in out
    assert "the champion of generation 2 finished 1-1" in out
    assert [r["generation"] for r in stats(run)] == [0, 1, 2]


def test_several_levels_say_how_many_the_champion_finished(tmp_path, capsys):
    code, out, _ = evolve(
        capsys, "--level", "1-1", "--level", "2-4", "--generations", "3", *SMALL, "--out", str(tmp_path / "run")
    )
    assert code == 0
    done = next(ln for ln in out.splitlines() if ln.startswith("done: "))
    finished = sum(o["finished"] for o in max(stats(tmp_path / "run"), key=lambda r: r["best_ever"])["best"])
    assert done.endswith(f"no champion finished all 2 levels yet; the best-ever champion finished {finished} of 2")


def test_same_seed_same_stats(tmp_path, capsys):
    for name in ("a", "b"):
        assert (
            evolve(
                capsys,
                "--level",
                "2-1",
                "--generations",
                "6",
                "--seed",
                "4",
                *SMALL,
                "--out",
                str(tmp_path / name),
                "--replays",
                str(tmp_path / "r"),
            )[0]
            == 0
        )
    assert (tmp_path / "a" / "stats.jsonl").read_text() == (tmp_path / "b" / "stats.jsonl").read_text()
    other = tmp_path / "c"
    evolve(capsys, "--level", "2-1", "--generations", "6", "--seed", "5", *SMALL, "--out", str(other))
    assert (other / "stats.jsonl").read_text() != (tmp_path / "a" / "stats.jsonl").read_text()


# `tilerunner evolve` through its command line, in a process whose Numba has two threads whatever the
# machine (NUMBA_NUM_THREADS=2, set by the test); last it prints how many threads it played on.
EVOLVE_AND_SAY_THREADS = """
import sys
import numba
from tilerunner.evolve.commands.cli import main
code = main(sys.argv[1:])
print("threads:", numba.get_num_threads())
sys.exit(code)
"""


def champions(folder: Path) -> dict[str, dict]:
    """The champion files of a run: the same genomes and outcomes; only where and when they were written differ."""
    out = {}
    for p in (folder / "champions").iterdir():
        record = json.loads(p.read_text())
        record.pop("run"), record.pop("created")
        out[p.name] = record
    return out


@pytest.mark.slow
def test_one_worker_and_two_workers_give_the_same_run(tmp_path):
    env = dict(os.environ, NUMBA_NUM_THREADS="2")
    for workers in ("1", "2"):
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                EVOLVE_AND_SAY_THREADS,
                "evolve",
                "--level",
                "2-1",
                "--level",
                "gen:3:4",
                "--generations",
                "8",
                "--seed",
                "4",
                *SMALL,
                "--keep-going",
                "--workers",
                workers,
                "--out",
                str(tmp_path / f"workers-{workers}"),
                "--quiet",
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[-1] == f"threads: {workers}"  # it really played on that many
    one, two = tmp_path / "workers-1", tmp_path / "workers-2"
    assert (one / "stats.jsonl").read_text() == (two / "stats.jsonl").read_text()
    assert len(stats(one)) == 8 and len({row["best_fitness"] for row in stats(one)}) > 1  # it evolved
    assert champions(one) == champions(two)


def test_resumed_run_equals_uninterrupted_run(tmp_path, capsys):
    common = ["--level", "2-3", "--seed", "2", *SMALL, "--checkpoint-every", "3", "--replays", str(tmp_path / "r")]
    evolve(capsys, *common, "--generations", "9", "--out", str(tmp_path / "whole"))
    evolve(capsys, *common, "--generations", "4", "--out", str(tmp_path / "parts"))
    code, out, _ = evolve(capsys, "--resume", str(tmp_path / "parts"), "--generations", "9")
    assert code == 0 and "resuming" in out
    assert stats(tmp_path / "parts") == stats(tmp_path / "whole")
    assert champions(tmp_path / "parts") == champions(tmp_path / "whole")


def signal_after_first_generation(proc: subprocess.Popen[str], run: Path, signum: int) -> str:
    """Send `signum` to the evolving `proc` once its first generation is in `run`'s stats, and return its stderr
    when it has ended (killed if it has not within 2 minutes)."""
    try:
        deadline = time.monotonic() + 300
        while not ((run / "stats.jsonl").exists() and (run / "stats.jsonl").read_text().strip()):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.01)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return err


def resume_and_play_whole(tilerunner_process, argv: list, run: Path, generations: int, whole: Path) -> None:
    """Resume the stopped `run` (`tilerunner ARGV` cut short) up to `generations`, and play ARGV uninterrupted to
    as many into `whole`, to compare the two."""
    done = tilerunner_process("evolve", "--resume", run, "--keep-going", "--generations", generations, cwd=run.parent)
    assert done.returncode == 0, done.stderr
    done = tilerunner_process(*argv, "--generations", generations, "--out", whole, cwd=run.parent)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_ctrl_c_checkpoints_and_resume_continues_the_same_run(tmp_path, tilerunner_process, tilerunner_started):
    argv = ["evolve", "--level", "2-4", "--seed", "1", *SMALL, "--checkpoint-every", "1000", "--keep-going"]
    argv += ["--replays", tmp_path / "r"]
    run = tmp_path / "cut"
    # A run that cannot end before Ctrl-C: it keeps going after any finish, for 100,000 generations.
    proc = tilerunner_started(*argv, "--generations", "100000", "--out", run, cwd=tmp_path)
    err = signal_after_first_generation(proc, run, signal.SIGINT)  # Ctrl-C, once the first generation is complete
    assert proc.returncode == 130, err
    assert f"Resume with: tilerunner evolve --resume {run}" in err and "Traceback" not in err
    played = len(stats(run))
    assert played >= 1
    # Resumed up to a few generations more, it is the run that was never interrupted.
    resume_and_play_whole(tilerunner_process, argv, run, played + 3, tmp_path / "whole")
    assert stats(run) == stats(tmp_path / "whole") and len(stats(run)) == played + 3
    assert champions(run) == champions(tmp_path / "whole")


@pytest.mark.slow
def test_sigterm_checkpoints_exits_143_and_resume_continues_the_same_run(
    tmp_path, tilerunner_process, tilerunner_started
):
    argv = ["evolve", "--level", "1-1", *SMALL, "--checkpoint-every", "1000", "--keep-going"]
    run = tmp_path / "cut"
    # A run that cannot end before SIGTERM: it keeps going after any finish, for 100,000 generations.
    proc = tilerunner_started(*argv, "--generations", "100000", "--out", run, cwd=tmp_path)
    err = signal_after_first_generation(proc, run, signal.SIGTERM)  # as `kill`, systemd or a cluster scheduler
    assert proc.returncode == 143, err
    assert "terminated (SIGTERM, exit code 143): checkpoint written at generation" in err
    assert f"Resume with: tilerunner evolve --resume {run}" in err and "Traceback" not in err
    played = len(stats(run))
    assert played >= 1
    resume_and_play_whole(tilerunner_process, argv, run, played + 3, tmp_path / "whole")
    assert stats(run) == stats(tmp_path / "whole") and len(stats(run)) == played + 3


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--level", "9-9"], "9-9: unknown level"),
        (["--pop", "-5"], "argument --pop: must be at least 2"),
        (["--generations", "0"], "argument --generations: must be at least 1"),
        (["--config", "missing.ini"], "missing.ini: no such neat config file"),
        (["--resume", "nowhere"], "nowhere: no such run folder"),
        (["--stall-frames", "0", "--max-frames", "0"], "cannot both be 0"),
        (["--address", "auto"], "--address and --actors are for the Ray backend: add --backend ray"),
        (["--actors", "2"], "--address and --actors are for the Ray backend: add --backend ray"),
        (["--backend", "slurm"], "argument --backend: invalid choice: 'slurm'"),
        (["--actors", "0", "--backend", "ray"], "argument --actors: must be at least 1"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, monkeypatch, capsys, argv, needle):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(["evolve", *argv])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_the_ray_backend_without_ray_names_the_extra_and_makes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed: it cannot be imported
    code, out, err = evolve(capsys, "--backend", "ray", "--out", str(tmp_path / "run"))
    assert code == 2 and not out
    assert err.strip() == (
        "tilerunner: error: the Ray backend needs Ray, which is not installed: pip install 'tilerunner[ray]'"
    )
    assert not (tmp_path / "run").exists()


def test_a_backend_that_fails_for_good_leaves_a_checkpoint_exit_1_and_how_to_go_on(tmp_path, monkeypatch, capsys):
    from tilerunner.evolve.commands import evolve as evolve_command
    from tilerunner.evolve.core.backend import BackendError, LocalBackend

    class LosesItsActors(LocalBackend):  # as the Ray backend does when its last actor dies
        calls = 0

        def play_networks(self, *args, **kwargs):
            LosesItsActors.calls += 1
            if LosesItsActors.calls == 3:
                raise BackendError("every Ray actor is gone (their nodes lost or their processes killed)")
            return super().play_networks(*args, **kwargs)

    monkeypatch.setattr(evolve_command, "_backend", lambda args: LosesItsActors())
    code, out, err = evolve(capsys, "--level", "2-3", *SMALL, "--generations", "9", "--out", str(tmp_path / "run"))
    assert code == 1
    assert err.strip().splitlines()[-1] == (
        "tilerunner: error: every Ray actor is gone (their nodes lost or their processes killed); the run is"
        f" checkpointed at generation 2: go on with tilerunner evolve --resume {tmp_path / 'run'} (on any backend)"
    )
    assert len(stats(tmp_path / "run")) == 2
    monkeypatch.undo()
    code, _, _ = evolve(capsys, "--resume", str(tmp_path / "run"), "--quiet")
    assert code == 0 and len(stats(tmp_path / "run")) == 9


def test_bad_config_names_the_offending_key(tmp_path, capsys):
    text = config_text(builtin_config_path("default")).replace("conn_add_prob           = 0.5", "conn_add_prob = lots")
    path = tmp_path / "bad.ini"
    path.write_text(text)
    code, _, err = evolve(capsys, "--config", str(path), "--out", str(tmp_path / "run"))
    assert code == 2 and "conn_add_prob" in err and str(path) in err


def test_resume_refuses_empty_folders_and_changed_settings(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, _, err = evolve(capsys, "--resume", str(tmp_path / "empty"))
    assert code == 2 and "no checkpoint to resume from" in err
    evolve(capsys, "--generations", "1", *SMALL, "--level", "2-4", "--out", str(tmp_path / "run"))
    code, _, err = evolve(capsys, "--resume", str(tmp_path / "run"), "--level", "1-1")
    assert code == 2 and "--level cannot be changed when resuming" in err
    for old in (tmp_path / "run" / "checkpoints").iterdir():
        os.remove(old)
    (tmp_path / "run" / "checkpoints" / "gen-0001.json.gz").write_bytes(b"garbage")
    code, _, err = evolve(capsys, "--resume", str(tmp_path / "run"))
    assert code == 2 and "gen-0001.json.gz: not a readable checkpoint" in err


def test_memory_flag_evolves_memory_cells(tmp_path, capsys):
    code, _, _ = evolve(
        capsys, "--memory", "--level", "2-4", "--generations", "8", *SMALL, "--out", str(tmp_path / "run")
    )
    assert code == 0
    assert "memory_cells = true" in (tmp_path / "run" / "config.ini").read_text()
    state = json.loads(gzip.decompress(sorted((tmp_path / "run" / "checkpoints").iterdir())[-1].read_bytes()))
    assert any(node["memory"] for genome in state["population"] for node in genome["nodes"])


def test_batch_breeding_is_said_kept_and_resumes_into_the_same_run(tmp_path, capsys):
    common = ["--batch-breeding", "--level", "2-3", "--seed", "4", *SMALL, "--checkpoint-every", "2"]
    code, out, _ = evolve(capsys, *common, "--generations", "6", "--out", str(tmp_path / "whole"))
    assert code == 0 and "population 60, batch breeding" in out
    assert "breeding = batch" in (tmp_path / "whole" / "config.ini").read_text()
    evolve(capsys, *common, "--generations", "3", "--out", str(tmp_path / "parts"))
    code, _, err = evolve(capsys, "--resume", str(tmp_path / "parts"), "--batch-breeding")
    assert code == 2 and "--batch-breeding cannot be changed when resuming" in err
    code, out, _ = evolve(capsys, "--resume", str(tmp_path / "parts"), "--generations", "6")
    assert code == 0 and "batch breeding" in out
    assert stats(tmp_path / "parts") == stats(tmp_path / "whole")
    assert champions(tmp_path / "parts") == champions(tmp_path / "whole")


def test_a_folder_or_a_glob_of_level_files_is_a_set_of_levels(tmp_path, capsys):
    levels = tmp_path / "levels"
    levels.mkdir()
    flat = "-" * 30 + "\n" + "M" + "-" * 29 + "\n" + "X" * 30 + "\n"
    for name in ("b-two.txt", "a-one.txt", "c-three.txt"):
        (levels / name).write_text(flat)
    (levels / "notes.md").write_text("not a level")
    code, out, _ = evolve(capsys, "--level", str(levels), "--generations", "1", *SMALL, "--out", str(tmp_path / "all"))
    assert code == 0
    ids = json.loads((tmp_path / "all" / "args.json").read_text())["levels"]
    assert ids == [str(levels / n) for n in ("a-one.txt", "b-two.txt", "c-three.txt")]  # sorted, *.txt only
    code, _, _ = evolve(
        capsys,
        "--level",
        str(levels / "[ab]-*.txt"),
        "--level",
        "1-1",
        "--generations",
        "1",
        *SMALL,
        "--out",
        str(tmp_path / "some"),
    )
    assert code == 0
    assert json.loads((tmp_path / "some" / "args.json").read_text())["levels"] == [
        str(levels / "a-one.txt"),
        str(levels / "b-two.txt"),
        "1-1",
    ]
    (tmp_path / "empty").mkdir()
    for spec, needle in [
        (tmp_path / "empty", "a folder with no level files (*.txt) in it"),
        (levels / "z*.txt", "matches no level file"),
    ]:
        code, _, err = evolve(capsys, "--level", str(spec), "--out", str(tmp_path / "never"))
        assert code == 2 and needle in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "never").exists()
