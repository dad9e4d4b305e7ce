"""A run folder nobody can turn against its user: nothing in it is followed out of it, one folder holds
one run (one process at a time, its own checkpoints only), and a damaged checkpoint is one line."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tilerunner import Run
from tilerunner.evolve.commands.cli import main
from tilerunner.evolve.runs.run_folder import RunFolder, RunFolderError


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """A finished tiny run folder (checkpoints at generations 0 and 2), copied afresh by `run_folder`."""
    folder = tmp_path_factory.mktemp("made") / "run"
    Run.create(["1-1"], pop=20, seed=3, generations=2, out=folder).run()
    return folder


@pytest.fixture
def run_folder(made, tmp_path) -> Path:
    folder = tmp_path / "run"
    shutil.copytree(made, folder, symlinks=True)
    return folder


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text
    return text


def newest(folder: Path) -> Path:
    return RunFolder(folder).checkpoint_files()[-1]


def read_checkpoint(path: Path) -> dict:
    return json.loads(gzip.decompress(path.read_bytes()))


def write_checkpoint(path: Path, data: dict) -> None:
    path.write_bytes(gzip.compress(json.dumps(data).encode()))


# Links: nothing is followed out of a run folder ------------------------------------------------------


@pytest.mark.parametrize("absolute", [False, True])
def test_a_lock_file_linked_to_a_file_outside_is_refused_and_the_file_untouched(run_folder, tmp_path, absolute):
    victim = tmp_path / "victim.txt"
    victim.write_text("my notes\n")
    (run_folder / ".lock").unlink()
    (run_folder / ".lock").symlink_to(victim if absolute else Path("..") / "victim.txt")
    with pytest.raises(RunFolderError) as info:
        Run.resume(run_folder, generations=3)
    assert ".lock: a symbolic link" in one_line(info.value)
    assert victim.read_text() == "my notes\n"


def test_a_lock_file_linked_to_dev_null_is_one_line(run_folder):
    (run_folder / ".lock").unlink()
    (run_folder / ".lock").symlink_to("/dev/null")
    with pytest.raises(RunFolderError, match=r"\.lock: a symbolic link \(to /dev/null\)"):
        Run.resume(run_folder, generations=3)


def test_a_checkpoints_folder_linked_to_another_run_is_refused_and_that_run_untouched(made, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    shutil.copytree(made, first)
    shutil.copytree(made, second)
    shutil.rmtree(second / "checkpoints")
    (second / "checkpoints").symlink_to(first / "checkpoints")
    before = sorted(p.name for p in (first / "checkpoints").iterdir())
    with pytest.raises(RunFolderError, match=r"second/checkpoints: a symbolic link"):
        Run.resume(second, generations=9, checkpoint_every=1)
    assert sorted(p.name for p in (first / "checkpoints").iterdir()) == before


@pytest.mark.parametrize("name", ["config.ini", "args.json", "stats.jsonl", "champions"])
def test_no_file_or_folder_of_a_run_may_be_a_link(run_folder, tmp_path, name):
    outside = tmp_path / f"outside-{name}"
    os.replace(run_folder / name, outside)
    (run_folder / name).symlink_to(outside)
    with pytest.raises(RunFolderError, match=f"{name}: a symbolic link"):
        Run.resume(run_folder, generations=3)


def test_a_checkpoint_linked_to_dev_zero_or_a_fifo_is_refused_at_once(run_folder):
    path = newest(run_folder)
    path.unlink()
    path.symlink_to("/dev/zero")
    with pytest.raises(RunFolderError, match="a symbolic link"):
        Run.resume(run_folder, generations=3)
    path.unlink()
    os.mkfifo(path)  # opening a FIFO for reading would wait for a writer for ever
    with pytest.raises(RunFolderError, match="not a regular file"):
        Run.resume(run_folder, generations=3)


# One folder, one run ----------------------------------------------------------------------------------


def test_removing_the_lock_file_does_not_free_the_folder(tmp_path):
    folder = tmp_path / "run"
    running = Run.create(["1-1"], pop=20, generations=2, out=folder)  # holds the folder from here on
    assert (folder / ".lock").read_text().strip() == str(os.getpid())
    (folder / ".lock").unlink()
    with pytest.raises(RunFolderError) as info:
        Run.resume(folder, generations=3)
    assert "is in use by another tilerunner run" in one_line(info.value)
    running.run()  # ... and the run it belongs to goes on, then lets the folder go
    Run.resume(folder, generations=3).run()


@pytest.mark.parametrize(
    "change, what",
    [
        (lambda d: d.update(seed=99), "a checkpoint of a run with seed 99"),
        (lambda d: d["settings"].update(frame_skip=4), "its episode settings differ"),
        (lambda d: d.update(config_digest="0" * 64), "made with another neat config"),
        (lambda d: d["levels"][0].update(id="1-2"), "it trains on other levels"),
    ],
)
def test_a_checkpoint_of_another_run_is_refused(run_folder, change, what):
    path = newest(run_folder)
    data = read_checkpoint(path)
    change(data)
    write_checkpoint(path, data)
    with pytest.raises(RunFolderError) as info:
        Run.resume(run_folder, generations=3)
    assert what in one_line(info.value) and "it is not this run's checkpoint" in str(info.value)


def test_a_checkpoint_from_a_run_with_another_population_is_refused(tmp_path):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    Run.create(["1-1"], pop=20, seed=3, generations=1, out=ours).run()
    Run.create(["1-1"], pop=30, seed=3, generations=1, out=theirs).run()
    shutil.copy(newest(theirs), newest(ours))
    with pytest.raises(RunFolderError) as info:
        Run.resume(ours, generations=3)
    assert "it is not this run's checkpoint" in one_line(info.value)


# Damaged checkpoints: every field checked, one line naming the file and the field ----------------------


def _first_hidden_key(data: dict) -> int:
    return max(n["key"] for g in data["population"] for n in g["nodes"])


DAMAGE = {
    "next node key behind the genomes'": (lambda d: d.update(next_node_key=0), "checkpoint.next_node_key: 0"),
    "next genome key behind": (
        lambda d: d["reproduction"].update(next_genome_key=1),
        "checkpoint.reproduction.next_genome_key",
    ),
    "innovation counter behind": (
        lambda d: d["reproduction"].update(innovation_counter=0),
        "checkpoint.reproduction.innovation_counter: 0",
    ),
    "duplicate genome key": (lambda d: d["population"][1].update(key=d["population"][0]["key"]), "appears twice"),
    "duplicate species key": (
        lambda d: d["species"]["list"].append(dict(d["species"]["list"][0], members=[])),
        "appears twice",
    ),
    "species with no members": (lambda d: d["species"]["list"][0].update(members=[]), "a species with no members"),
    "genome in no species": (lambda d: d["species"]["list"][0]["members"].pop(), "is in no species"),
    "generation past any run's": (lambda d: d.update(generation=2**62), "past the 1,000,000 generations"),
    "a stats row missing": (lambda d: d["stats"].pop(0), "checkpoint.stats: not one row for each"),
    "best-ever later than the checkpoint": (
        lambda d: d.update(best_ever_generation=7),
        "checkpoint.best_ever_generation: generation 7",
    ),
    "innovations not entries": (
        lambda d: d["reproduction"].update(innovations=[[1, 2]]),
        "checkpoint.reproduction.innovations: expected [in, out, kind, number]",
    ),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_checkpoint_is_one_line_naming_the_file_and_the_field(run_folder, damage):
    change, message = DAMAGE[damage]
    path = newest(run_folder)
    data = read_checkpoint(path)
    change(data)
    write_checkpoint(path, data)
    with pytest.raises(RunFolderError) as info:
        Run.resume(run_folder, generations=3)
    assert message in one_line(info.value) and str(path) in str(info.value)


def test_an_empty_validation_set_in_a_checkpoint_is_one_line(tmp_path):
    folder = tmp_path / "run"
    Run.create(["1-1"], pop=20, generations=1, validate=["1-2"], out=folder).run()
    path = newest(folder)
    data = read_checkpoint(path)
    data["validation"]["levels"] = []
    write_checkpoint(path, data)
    with pytest.raises(RunFolderError, match=r"checkpoint.validation.levels: empty"):
        Run.resume(folder, generations=3)


@pytest.mark.slow
def test_a_checkpoint_of_sixty_thousand_genomes_is_refused_before_any_is_built(run_folder):
    path = newest(run_folder)
    data = read_checkpoint(path)
    data["population"] = [data["population"][0]] * 60_000
    write_checkpoint(path, data)
    started = time.perf_counter()
    with pytest.raises(RunFolderError) as info:
        Run.resume(run_folder, generations=3)
    assert "60,000 genomes, more than the run's population of 20" in one_line(info.value)
    assert time.perf_counter() - started < 60  # today: refused at once; before: not done in 120 s


# Leftovers and full disks --------------------------------------------------------------------------------


def test_temporary_files_a_killed_writer_left_are_removed_when_the_folder_is_next_used(run_folder):
    stale = [run_folder / ".config.k2x9_q0a.tmp.ini", run_folder / "checkpoints" / ".gen-0004.json.a1b2c3d4.tmp.gz"]
    for path in stale:
        path.write_text("half")
    mine = run_folder / "notes.tmp.txt"  # not a name tilerunner makes: left alone
    mine.write_text("keep")
    Run.resume(run_folder, generations=3).run()
    assert not any(path.exists() for path in stale) and mine.read_text() == "keep"


def test_a_run_that_cannot_start_on_a_full_disk_is_one_line_and_leaves_no_folder(full_disk, capsys):
    code = main(["evolve", "--pop", "20", "--generations", "1", "--quiet", "--out", str(full_disk / "run")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "No space left on device" in err
    assert "Traceback" not in err and not (full_disk / "run").exists()


def test_a_full_replays_folder_is_named_as_what_could_not_be_written(full_disk, tmp_path, capsys):
    # 1-1 with seed 0 and population 60: a champion first finishes the level in generation 2.
    code = main(
        [
            "evolve",
            "--pop",
            "60",
            "--generations",
            "4",
            "--quiet",
            "--out",
            str(tmp_path / "run"),
            "--replays",
            str(full_disk / "reps"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"cannot write {full_disk / 'reps'}" in err and "No space left on device" in err
    assert "run folder" not in err.split(";")[0]
    Run.resume(tmp_path / "run", generations=4, replays_dir=tmp_path / "elsewhere").run()  # resumable


# Validation is a property of the run, not of where a call stopped --------------------------------------


def test_validation_in_a_run_done_in_two_calls_is_that_of_one_call(tmp_path):
    settings = dict(pop=20, seed=1, validate=["1-2"], validate_every=5)
    Run.create(["1-1"], generations=8, out=tmp_path / "whole", **settings).run()
    Run.create(["1-1"], generations=4, out=tmp_path / "split", **settings).run()
    Run.resume(tmp_path / "split", generations=8).run()
    whole = (tmp_path / "whole" / "stats.jsonl").read_text()
    assert (tmp_path / "split" / "stats.jsonl").read_text() == whole
    validated = [json.loads(line)["generation"] for line in whole.splitlines() if "validation" in json.loads(line)]
    assert validated == [0, 5]


def test_validate_every_applies_when_resuming_and_is_refused_without_held_out_levels(tmp_path, capsys):
    folder = tmp_path / "run"
    Run.create(["1-1"], pop=20, generations=2, keep_going=True, validate=["1-2"], validate_every=10, out=folder).run()
    assert main(["evolve", "--resume", str(folder), "--generations", "4", "--validate-every", "1", "--quiet"]) == 0
    rows = [json.loads(line) for line in (folder / "stats.jsonl").read_text().splitlines()]
    assert [r["generation"] for r in rows if "validation" in r] == [0, 2, 3]
    assert json.loads((folder / "args.json").read_text())["validate_every"] == 1
    capsys.readouterr()
    plain = tmp_path / "plain"
    Run.create(["1-1"], pop=20, generations=1, out=plain).run()
    assert main(["evolve", "--resume", str(plain), "--generations", "2", "--validate-every", "1"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "no held-out levels" in err


def test_the_generation_limit_of_the_flag_is_the_one_checkpoints_are_held_to():
    from tilerunner.evolve.runs.checkpoint import MAX_GENERATIONS
    from tilerunner.evolve.runs.run_options import GENERATIONS_RANGE

    assert GENERATIONS_RANGE[1] == MAX_GENERATIONS


# A moved folder keeps its files; paths outside the run come only from the command line ------------------

# `tilerunner evolve` with its printer paused once generation 1 is saved, until a file appears: the moment a
# test moves the folder while the run holds it. argv: the file it makes when paused, the file it waits for,
# then evolve's flags.
PAUSED_EVOLVE = """
import pathlib, sys, time
from tilerunner.evolve.commands import evolve_output
from tilerunner.evolve.commands.cli import main

paused, go = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
printed = evolve_output.GenerationPrinter.generation_done

def generation_done(self, summary):
    printed(self, summary)
    if summary.generation == 1:
        paused.touch()
        while not go.exists():
            time.sleep(0.01)

evolve_output.GenerationPrinter.generation_done = generation_done
sys.exit(main(["evolve", *sys.argv[3:]]))
"""
# 1-1 from seed 0 with population 60: new bests in generations 2 and 3, and the first finish in 3, after the move.
MOVED_RUN = ["--pop", "60", "--seed", "0", "--generations", "6", "--keep-going", "--checkpoint-every", "1"]


def every_file(folder: Path) -> dict[str, bytes | str]:
    """Every file under `folder` by its relative path: its bytes, or for a link where it leads."""
    return {
        str(p.relative_to(folder)): os.readlink(p) if p.is_symlink() else p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_symlink() or p.is_file()
    }


def the_run(folder: Path) -> dict[str, object]:
    """What two runs with the same settings share: stats.jsonl, and the names of the files they keep."""
    kept = {name: sorted(p.name for p in (folder / name).iterdir()) for name in ("champions", "first-finishes")}
    checkpoints = [p.name for p in RunFolder(folder).checkpoint_files()]
    return {"stats": (folder / "stats.jsonl").read_text(), "checkpoints": checkpoints, **kept}


def evolve_paused_then_moved(tmp_path: Path, folder: Path, replace) -> subprocess.CompletedProcess:
    """Run `PAUSED_EVOLVE` into `folder`; when paused, move the folder to run-moved beside it and `replace(folder)`."""
    paused, go = tmp_path / "paused", tmp_path / "go"
    argv = [sys.executable, "-c", PAUSED_EVOLVE, str(paused), str(go), *MOVED_RUN, "--tensorboard", "--quiet"]
    proc = subprocess.Popen(
        argv + ["--out", str(folder)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        deadline = time.monotonic() + 240
        while not paused.exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.01)
        folder.rename(folder.with_name("run-moved"))
        replace(folder)
        go.touch()
        out, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


@pytest.mark.parametrize("replacement", ["a link to another run", "a new folder"])
def test_a_folder_moved_mid_run_keeps_its_files_and_nothing_lands_under_its_old_name(made, tmp_path, replacement):
    other = tmp_path / "other"
    shutil.copytree(made, other)
    before = every_file(other)
    folder, moved = tmp_path / "run", tmp_path / "run-moved"
    done = evolve_paused_then_moved(
        tmp_path, folder, lambda old: old.symlink_to(other) if replacement.startswith("a link") else old.mkdir()
    )
    assert done.returncode == 0, done.stderr
    assert every_file(other) == before  # another run's stats, champions and checkpoints untouched: still resumable
    assert folder.is_symlink() or list(folder.iterdir()) == []
    # The moved folder holds the whole run, that of a run never moved, and goes on.
    whole = tmp_path / "whole"
    assert main(["evolve", *MOVED_RUN, "--quiet", "--out", str(whole)]) == 0
    assert the_run(moved) == the_run(whole)
    assert list((moved / "tensorboard").glob("events.out.tfevents.*"))
    assert main(["evolve", "--resume", str(moved), "--generations", "8", "--quiet"]) == 0
    assert len((moved / "stats.jsonl").read_text().splitlines()) == 8


def test_resuming_copies_first_finishes_nowhere_its_args_json_names(tmp_path, capsys):
    # 1-1 from seed 0 with population 60: the champion first finishes it in generation 3.
    folder, elsewhere = tmp_path / "run", tmp_path / "some" / "where"
    assert main(["evolve", "--pop", "60", "--generations", "2", "--quiet", "--out", str(folder)]) == 0
    args = json.loads((folder / "args.json").read_text())
    (folder / "args.json").write_text(json.dumps({**args, "replays": str(elsewhere)}))  # a folder from elsewhere
    capsys.readouterr()
    assert main(["evolve", "--resume", str(folder), "--generations", "4", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert list((folder / "first-finishes").iterdir())  # a first finish was kept, in the run folder only
    assert not (tmp_path / "some").exists()
    assert len(err.strip().splitlines()) == 1
    assert f"first finishes are not copied to {elsewhere} this time" in err and "add --replays DIR" in err


@pytest.mark.parametrize("when", ["resuming", "a new run"])
def test_a_folder_where_a_champion_file_goes_is_named_in_one_line(run_folder, tmp_path, capsys, when):
    folder = run_folder if when == "resuming" else tmp_path / "new"
    blocked = folder / "champions" / ("gen-0005.json" if when == "resuming" else "gen-0000.json")
    blocked.mkdir(parents=True)
    argv = (
        ["--resume", str(folder), "--generations", "6"] if when == "resuming" else ["--pop", "20", "--out", str(folder)]
    )
    code = main(["evolve", *argv, "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"cannot write {blocked}: Is a directory" in err
