"""Nothing lost: a run stopped or crashed at any stage of a generation resumes into the very run that
was not, file by file; a folder has one owner at a time; checkpoints cannot run code."""

from __future__ import annotations

import gzip
import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from run_files import folder_contents

import tilerunner
from tilerunner import Run
from tilerunner.evolve.core.evolution import Evolution
from tilerunner.evolve.runs.replay import Replay
from tilerunner.evolve.runs.run_folder import RunFolder, RunFolderError

# 1-1 with seed 0: the champion first finishes it in generation 2, so generations 0-5 cover a new
# best-ever, a first finish and later generations; checkpoints every 2 generations.
SETTINGS = dict(pop=60, seed=0, generations=6, keep_going=True, checkpoint_every=2)
LEVELS = ["1-1", "gen:4:2"]


class Crash(BaseException):
    """Stands for the process dying: nothing catches it, nothing is cleaned up but the lock."""


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("whole") / "run"
    Run.create(LEVELS, out=folder, **SETTINGS).run()
    return folder_contents(folder)


def crash_when(monkeypatch, target, name: str, should_crash):
    """Make `target.name` raise `Crash` on the call for which `should_crash(*args)` is true."""
    original = getattr(target, name)

    def wrapper(*args, **kwargs):
        if should_crash(*args, **kwargs):
            raise Crash(name)
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, wrapper)


STAGES = {
    # generation 2 is the one whose champion first finishes 1-1 and is a new best-ever
    "evaluation of generation 2": (Evolution, "play_generation", lambda self, **kw: self.generation == 2),
    "the champion file of generation 2": (Replay, "save", lambda self, path, dir_fd=None: "gen-0002" in str(path)),
    "the first-finish file": (Replay, "save", lambda self, path, dir_fd=None: "-f" in str(path)),  # <level>-f<fitness>
    "stats.jsonl after generation 3": (
        RunFolder,
        "write_lines",
        lambda self, name, rows: name == "stats.jsonl" and len(rows) == 4,
    ),
    "the checkpoint of generation 4": (RunFolder, "write_checkpoint", lambda self, generation, blob: generation == 4),
    "breeding generation 5": (Evolution, "reproduce", lambda self, summary: summary.generation == 5),
}


@pytest.mark.parametrize("stage", STAGES)
def test_a_crash_at_any_stage_resumes_into_the_same_run(whole, tmp_path, monkeypatch, stage):
    target, name, should_crash = STAGES[stage]
    folder = tmp_path / "run"
    with monkeypatch.context() as patch:
        crash_when(patch, target, name, should_crash)
        with pytest.raises(Crash):
            Run.create(LEVELS, out=folder, **SETTINGS).run()
    result = Run.resume(folder).run()
    assert not result.interrupted
    assert folder_contents(folder) == whole


@pytest.mark.parametrize("generation", [0, 2, 5])
def test_a_stop_after_evaluation_keeps_only_completed_generations(whole, tmp_path, monkeypatch, generation):
    # The stop arrives while generation `generation` is evaluated (Ctrl-C does exactly this): the generation
    # is dropped, and nothing it did (a new best, a first finish) may leak into the checkpoint.
    folder = tmp_path / "run"
    run = Run.create(LEVELS, out=folder, **SETTINGS)
    original = Evolution.play_generation

    def evaluate_then_stop(self, **kwargs):
        summary = original(self, **kwargs)
        if summary.generation == generation:
            run.request_stop()
        return summary

    monkeypatch.setattr(Evolution, "play_generation", evaluate_then_stop)
    stopped = run.run()
    assert stopped.interrupted and stopped.generations_run == generation
    monkeypatch.undo()
    Run.resume(folder).run()
    assert folder_contents(folder) == whole


def test_sigterm_stops_a_run_like_ctrl_c_and_it_resumes_into_the_same_run(whole, tmp_path):
    from tilerunner.evolve.runs.reporting import RunReporter

    class Terminated(RunReporter):
        """`kill PID` (systemd, a cluster scheduler) once generation 2 is saved."""

        def generation_done(self, summary) -> None:
            if summary.generation == 2:
                os.kill(os.getpid(), signal.SIGTERM)

    def not_heard(signum, frame):
        raise AssertionError("the run did not take SIGTERM")

    folder = tmp_path / "run"
    run = Run.create(LEVELS, out=folder, **SETTINGS)
    run.add_reporter(Terminated())
    previous = signal.signal(signal.SIGTERM, not_heard)
    try:
        stopped = run.run(handle_sigint=True)
        assert signal.getsignal(signal.SIGTERM) is not_heard  # given back after the run
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert stopped.interrupted and stopped.stop_signal == signal.SIGTERM and stopped.generations_run == 3
    assert RunFolder(folder).checkpoint_files()[-1].name == "gen-0003.json.gz"  # not generation 2's
    Run.resume(folder).run()
    assert folder_contents(folder) == whole


@pytest.mark.slow
@pytest.mark.parametrize("moment", range(3))
def test_sigkill_at_a_random_moment_then_resume_gives_the_same_files(
    whole, tmp_path, tilerunner_process, tilerunner_started, moment
):
    # Killed at a seeded random moment after the run got going (so mid-generation, mid-checkpoint or between):
    # whatever it was doing, the folder resumes to the very files of a run never killed.
    folder = tmp_path / "run"
    argv = ["evolve", "--level", LEVELS[0], "--level", LEVELS[1], "--pop", "60", "--seed", "0", "--generations", "6"]
    argv += ["--keep-going", "--checkpoint-every", "2", "--out", folder]
    proc = tilerunner_started(*argv, stderr=subprocess.DEVNULL, cwd=tmp_path)
    for line in proc.stdout:  # the first generation is reported: the kernels are loaded, the run is under way
        if line.startswith("gen    0"):
            break
    time.sleep(random.Random(moment).uniform(0.0, 0.5))
    proc.kill()
    proc.wait(timeout=60)
    assert proc.returncode in (-signal.SIGKILL, 0)  # 0: it had finished before the moment came
    done = tilerunner_process("evolve", "--resume", folder, "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert folder_contents(folder) == whole


def test_a_folder_is_owned_by_one_run_at_a_time(tmp_path):
    folder = tmp_path / "run"
    first = Run.create(["1-1"], pop=20, generations=2, out=folder)
    with pytest.raises(RunFolderError, match=r"is in use by another tilerunner run \(process \d+\)"):
        Run.create(["1-1"], pop=20, generations=2, out=folder)
    with pytest.raises(RunFolderError, match="is in use by another tilerunner run"):
        Run.resume(folder)
    first.run()  # the lock goes with the run's end ...
    Run.resume(folder, generations=3).run()  # ... so the folder can be resumed now


@pytest.mark.slow
def test_two_processes_on_one_folder_one_refused(tmp_path, tilerunner_started):
    folder = tmp_path / "run"
    argv = ["evolve", "--level", "2-4", "--pop", "60", "--generations", "40", "--keep-going", "--quiet"]
    procs = [tilerunner_started(*argv, "--out", folder, "--seed", seed, cwd=tmp_path) for seed in (7, 8)]
    results = [p.communicate(timeout=300) + (p.returncode,) for p in procs]
    codes = sorted(code for _, _, code in results)
    assert codes == [0, 2], results
    refused = next(err for _, err, code in results if code == 2)
    assert len(refused.strip().splitlines()) == 1 and ("in use by another" in refused or "already holds" in refused)
    args = json.loads((folder / "args.json").read_text())
    winner = args["seed"]
    assert all(json.loads(p.read_text())["seed"] == winner for p in (folder / "champions").iterdir())


def test_a_killed_run_leaves_no_stuck_lock(tmp_path, tilerunner_started):
    folder = tmp_path / "run"
    argv = ["evolve", "--level", "2-4", "--pop", "60", "--generations", "500", "--keep-going", "--out", folder]
    proc = tilerunner_started(*argv, stderr=subprocess.DEVNULL, cwd=tmp_path)
    for line in proc.stdout:
        if line.startswith("gen "):
            break
    proc.kill()
    proc.wait(timeout=60)
    run = Run.resume(folder, generations=3)  # the lock died with the process
    assert run.generation == 0  # killed before generation 10's checkpoint: generation 0's is there
    assert run.run().generations_run == 3


def test_every_folder_a_run_was_started_in_can_be_resumed(tmp_path, monkeypatch):
    # A crash before the first generation ends (say, a double Ctrl-C while Numba compiles) ...
    folder = tmp_path / "run"
    with monkeypatch.context() as patch:
        crash_when(patch, Evolution, "play_generation", lambda self, **kw: True)
        with pytest.raises(Crash):
            Run.create(["1-1"], pop=30, generations=3, out=folder).run()
    # ... leaves generation 0's checkpoint, written before anything else.
    assert [p.name for p in RunFolder(folder).checkpoint_files()] == ["gen-0000.json.gz"]
    assert Run.resume(folder).run().generations_run == 3


def test_a_new_run_in_a_started_folder_is_refused_with_how_to_resume(tmp_path):
    folder = tmp_path / "run"
    Run.create(["1-1"], pop=20, generations=1, out=folder).run()
    with pytest.raises(RunFolderError, match=f"already holds a run: resume it \\(tilerunner evolve --resume {folder}"):
        Run.create(["1-1"], pop=20, generations=1, out=folder)


def test_checkpoints_are_data_not_code(tmp_path):
    folder = tmp_path / "run"
    Run.create(["1-1"], pop=20, generations=2, out=folder).run()
    files = RunFolder(folder).checkpoint_files()
    assert files and all(p.name.endswith(".json.gz") for p in files)
    data = json.loads(gzip.decompress(files[-1].read_bytes()))
    assert data["schema"] == "tilerunner-checkpoint" and data["generation"] == 2
    # A pickle where a checkpoint should be is never loaded, whatever it would do.
    evil = folder / "checkpoints" / "gen-0009.json.gz"
    evil.write_bytes(gzip.compress(b"\x80\x04\x95" + b"cos\nsystem\n(S'touch pwned'\ntR."))
    with pytest.raises(RunFolderError, match="gen-0009.json.gz: not a text file"):
        Run.resume(folder)
    assert not (tmp_path / "pwned").exists()
    evil.unlink()
    # A folder from tilerunner 0.1 with pickle checkpoints is refused, not unpickled.
    old = tmp_path / "old"
    (old / "checkpoints").mkdir(parents=True)
    (old / "checkpoints" / "gen-0010.pkl").write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(RunFolderError, match="pickles from tilerunner 0.1, which this version never loads"):
        Run.resume(old)


def test_damaged_checkpoints_are_refused_in_one_line(tmp_path):
    folder = tmp_path / "run"
    Run.create(["1-1"], pop=20, generations=2, out=folder).run()
    newest = RunFolder(folder).checkpoint_files()[-1]
    data = json.loads(gzip.decompress(newest.read_bytes()))
    for damage, message in [
        (lambda d: d.pop("population"), "checkpoint: missing 'population'"),
        (lambda d: d["species"]["list"][0]["members"].append(10**6), "is not in the population"),
        (lambda d: d["random"].update(internal=[1, 2, 3]), "not the state of Python's random generator"),
        (lambda d: d.update(generation=-1), "checkpoint.generation: expected a whole number >= 0"),
    ]:
        broken = json.loads(json.dumps(data))
        damage(broken)
        newest.write_bytes(gzip.compress(json.dumps(broken).encode()))
        with pytest.raises(RunFolderError) as info:
            Run.resume(folder)
        assert message in str(info.value) and str(newest) in str(info.value) and "\n" not in str(info.value)


def test_a_full_disk_mid_run_keeps_the_last_checkpoint_and_says_how_to_go_on(tmp_path, monkeypatch):
    folder = tmp_path / "run"
    run = Run.create(["1-1"], pop=30, generations=6, keep_going=True, checkpoint_every=2, out=folder)
    original = RunFolder.write_lines

    def full(self, name, rows):
        if len(rows) == 4:
            raise OSError(28, "No space left on device", str(self.path / name))
        return original(self, name, rows)

    monkeypatch.setattr(RunFolder, "write_lines", full)
    with pytest.raises(
        RunFolderError,
        match=r"No space left on device; the newest checkpoint is generation 2:"
        r" make room, then tilerunner evolve --resume",
    ):
        run.run()
    monkeypatch.undo()
    assert Run.resume(folder).run().generations_run == 4


def test_a_reporter_whose_reader_went_away_is_no_full_disk(tmp_path):
    """A reporter printing into a closed pipe (`| head`) raises BrokenPipeError as it is, never "make room"."""
    from tilerunner.evolve.runs.reporting import RunReporter

    class IntoClosedPipe(RunReporter):
        def generation_done(self, summary) -> None:
            if summary.generation == 3:
                raise BrokenPipeError(32, "Broken pipe")

    folder = tmp_path / "run"
    run = Run.create(["1-1"], pop=30, generations=6, keep_going=True, checkpoint_every=2, out=folder)
    run.add_reporter(IntoClosedPipe())
    with pytest.raises(BrokenPipeError):
        run.run()
    resumed = Run.resume(folder)
    assert resumed.generation == 4  # generation 3 was saved, its checkpoint too, before the reporters heard of it
    assert resumed.run().generations_run == 2


def test_watch_plot_and_replay_load_no_pickles():
    root = Path(tilerunner.__file__).resolve().parents[1]
    for path in root.rglob("*.py"):
        if ".venv" in path.parts:
            continue
        text = path.read_text()
        assert "import pickle" not in text and "pickle.load" not in text, path


def test_a_crash_after_a_first_finish_copies_it_once(tmp_path, monkeypatch):
    folder, replays = tmp_path / "run", tmp_path / "mine"
    with monkeypatch.context() as patch:  # die right after the first finish was copied, before stats.jsonl
        crash_when(
            patch, RunFolder, "write_lines", lambda self, name, rows: replays.is_dir() and any(replays.iterdir())
        )
        with pytest.raises(Crash):
            Run.create(["1-1"], out=folder, replays_dir=replays, **{**SETTINGS, "generations": 12}).run()
    assert len(list(replays.iterdir())) == 1
    Run.resume(folder, replays_dir=replays).run()  # plays that generation again
    (copy,) = replays.iterdir()
    (kept,) = (folder / "first-finishes").iterdir()
    assert copy.name == kept.name


def test_a_folder_that_cannot_be_locked_is_one_line(tmp_path):
    folder = tmp_path / "run"
    Run.create(["1-1"], pop=20, generations=1, out=folder).run()
    (folder / ".lock").unlink()
    (folder / ".lock").mkdir()  # as unusable as a read-only folder, even for root
    with pytest.raises(RunFolderError, match=r"run: cannot use this folder: its \.lock is not a regular file"):
        Run.resume(folder)


def test_neat_python_failing_mid_run_is_one_line_and_the_folder_is_kept(tmp_path, monkeypatch, capsys):
    from tilerunner.evolve.commands.cli import main
    from tilerunner.evolve.core.neat_config import builtin_config_path, config_text

    monkeypatch.chdir(tmp_path)
    # Five hidden nodes per new genome: neat-python 2.0 cannot fit its spawn counts to population 50
    # ("Internal error adjusting spawn counts"), which no check of the config can foresee.
    config = tmp_path / "hidden.ini"
    config.write_text(
        config_text(builtin_config_path("default")).replace("num_hidden              = 0", "num_hidden = 5")
    )
    code = main(
        [
            "evolve",
            "--config",
            str(config),
            "--pop",
            "50",
            "--generations",
            "3",
            "--quiet",
            "--out",
            str(tmp_path / "run"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "neat-python could not breed generation 1" in err
    assert [p.name for p in RunFolder(tmp_path / "run").checkpoint_files()] == ["gen-0000.json.gz"]
