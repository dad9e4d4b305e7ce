"""Writing a command's output onto a full disk: one line on stderr naming the path, exit code 2, nothing left behind.

`check_output_file` passes on a full disk (a folder can still be made there), so these are the
failures that come while writing: each command's output flag is pointed into the `full_disk`
fixture (a tiny tmpfs with every block taken by its `filler`), and afterwards the filler is all
that is there: no partial file, no temporary, no folder the command made.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tilerunner.evolve.commands.cli import main

FULL = "cannot write: No space left on device"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A run folder from the smallest real run: one generation of ten genomes on 1-1."""
    folder = tmp_path_factory.mktemp("full-disk") / "run"
    assert main(["evolve", "--level", "1-1", "--generations", "1", "--pop", "10", "--out", str(folder), "--quiet"]) == 0
    return folder


def champion(run_dir: Path) -> Path:
    (file,) = (run_dir / "champions").glob("gen-*.json")
    return file


def flat_level(run_dir: Path) -> Path:
    """A level the solver finishes at once (walk right), in a file beside the run folder."""
    path = run_dir.parent / "flat.txt"
    path.write_text("-" * 30 + "\n" + "M" + "-" * 29 + "\n" + "X" * 30 + "\n")
    return path


def run_cli(capsys, argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_naming(err: str, path: Path) -> None:
    assert "Traceback" not in err
    assert err.endswith("\n") and len(err.splitlines()) == 1, err
    assert err == f"tilerunner: error: {path}: {FULL}\n"


# (what is asked, the argv given the run folder and where the output goes, the path the error names)
CASES = [
    ("eval --json", lambda run, to: ["eval", champion(run), "--level", "1-1", "--json", to / "e.json"], "e.json"),
    ("plot --png", lambda run, to: ["plot", run, "--png", to / "p.png"], "p.png"),
    ("levels show --png", lambda run, to: ["levels", "show", "1-1", "--png", to / "l.png"], "l.png"),
    ("levels solve --save", lambda run, to: ["levels", "solve", flat_level(run), "--save", to / "sol.txt"], "sol.txt"),
    ("watch --screenshot", lambda run, to: ["watch", run, "--screenshot", to / "s.png"], "s.png"),
    ("replay --screenshot", lambda run, to: ["replay", champion(run), "--screenshot", to / "r.png"], "r.png"),
    ("replay --gif", lambda run, to: ["replay", champion(run), "--gif", to / "r.gif"], "r.gif"),
    ("replay --png-frames", lambda run, to: ["replay", champion(run), "--png-frames", to / "frames"], "frames"),
    (
        "replay --png-frames, folders to make",
        lambda run, to: ["replay", champion(run), "--png-frames", to / "a" / "b"],
        "a/b",
    ),
]


@pytest.mark.parametrize("argv, named", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_output_onto_a_full_disk_is_one_line_exit_2_and_leaves_nothing(run_dir, full_disk, capsys, argv, named):
    code, _, err = run_cli(capsys, argv(run_dir, full_disk))
    assert code == 2
    assert_one_line_naming(err, full_disk / named)
    assert sorted(os.listdir(full_disk)) == ["filler"]


def test_a_recording_that_fills_the_disk_removes_the_frames_it_wrote(run_dir, full_disk, capsys, monkeypatch):
    """Room for a few PNG frames, not all: those written are removed again with the folder, as is a failed GIF."""
    from tilerunner.envs import render

    filler = full_disk / "filler"
    os.truncate(filler, filler.stat().st_size - 16 * 1024)  # room for a few 1-2 KiB frames (4 KiB pages)
    saved = []
    real_save = render.save_png

    def save_png(image, path):
        real_save(image, path)
        saved.append(Path(path))

    monkeypatch.setattr(render, "save_png", save_png)
    code, _, err = run_cli(capsys, ["replay", champion(run_dir), "--png-frames", full_disk / "frames"])
    assert code == 2
    assert_one_line_naming(err, full_disk / "frames")
    assert len(saved) >= 2 and all(p.parent == full_disk / "frames" for p in saved)  # some frames were written ...
    assert sorted(os.listdir(full_disk)) == ["filler"]  # ... and are gone again, with their folder


def test_a_gif_that_cannot_be_written_takes_its_png_frames_with_it(run_dir, full_disk, tmp_path, capsys):
    """--gif and --png-frames record in one pass; the GIF failing leaves neither half of the recording."""
    code, _, err = run_cli(
        capsys, ["replay", champion(run_dir), "--gif", full_disk / "r.gif", "--png-frames", tmp_path / "frames"]
    )
    assert code == 2
    assert_one_line_naming(err, full_disk / "r.gif")
    assert sorted(os.listdir(full_disk)) == ["filler"]
    assert not (tmp_path / "frames").exists()


def test_frames_that_cannot_be_written_fail_a_gif_recorded_beside_them(run_dir, full_disk, tmp_path, capsys):
    """The other way round: the frames fail, the GIF elsewhere is not written, and the error names the frames."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code, _, err = run_cli(
        capsys, ["replay", champion(run_dir), "--gif", elsewhere / "r.gif", "--png-frames", full_disk / "frames"]
    )
    assert code == 2
    assert_one_line_naming(err, full_disk / "frames")
    assert sorted(os.listdir(full_disk)) == ["filler"]
    assert os.listdir(elsewhere) == []


def test_the_viewers_screenshot_key_on_a_full_disk_warns_and_plays_on(run_dir, full_disk, capsys):
    """S in the window: a screenshot that cannot be saved is a warning naming the folder; the viewer goes on."""
    import pygame

    from tilerunner.evolve.viewer.shows import RunFollower
    from tilerunner.evolve.viewer.viewer import Viewer

    viewer = Viewer(RunFollower(run_dir), screenshot_dir=full_disk, report=False)
    assert viewer.handle_key(pygame.K_s) is True  # still playing
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"tilerunner: warning: screenshot not saved in {full_disk}: No space left on device\n"
    assert sorted(os.listdir(full_disk)) == ["filler"]
