"""`tilerunner evolve --tensorboard`: one scalar of each kind per generation, and a clear line without the extra."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pytest

from tilerunner.evolve.commands.cli import main


def scalars(folder: Path) -> dict[str, dict[int, float]]:
    """Every scalar in the TensorBoard event files of `folder`: tag -> {step: value}."""
    from tensorboardX.proto import event_pb2

    found: dict[str, dict[int, float]] = {}
    for file in sorted(folder.glob("events.out.tfevents.*")):
        data = file.read_bytes()
        at = 0
        while at < len(data):  # TFRecord: length (8 bytes), its CRC (4), the record, its CRC (4)
            (length,) = struct.unpack("<Q", data[at : at + 8])
            event = event_pb2.Event.FromString(data[at + 12 : at + 12 + length])
            at += 16 + length
            for value in event.summary.value:
                found.setdefault(value.tag, {})[event.step] = value.simple_value
    return found


def test_tensorboard_logs_fitness_species_and_finishers_per_generation(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "run"
    assert (
        main(
            [
                "evolve",
                "--level",
                "1-1",
                "--generations",
                "4",
                "--pop",
                "50",
                "--keep-going",
                "--out",
                str(run),
                "--tensorboard",
                "--quiet",
            ]
        )
        == 0
    )
    rows = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    logged = scalars(run / "tensorboard")
    assert set(logged) == {
        "fitness/best",
        "fitness/mean",
        "fitness/best_ever",
        "species",
        "finished",
        "levels_finished",
    }
    for tag, key in [
        ("fitness/best", "best_fitness"),
        ("fitness/mean", "mean_fitness"),
        ("fitness/best_ever", "best_ever"),
        ("species", "species"),
        ("finished", "finished"),
    ]:
        # TensorBoard keeps 32-bit floats.
        assert logged[tag] == {r["generation"]: pytest.approx(r[key], rel=1e-6) for r in rows}, tag


def test_without_the_extra_it_is_one_line_naming_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # as if it were not installed
    code = main(["evolve", "--level", "1-1", "--generations", "1", "--out", str(tmp_path / "run"), "--tensorboard"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "pip install 'tilerunner[tensorboard]'" in err
    assert not (tmp_path / "run").exists()  # refused before anything was written
