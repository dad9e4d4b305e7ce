"""Complete extinction: every species dies out and the neat config says `reset_on_extinction = False`.

neat-python raises `CompleteExtinctionException` there; tilerunner ends the run in one line (exit code 2) that
says what happened and what to do, and the run folder keeps its checkpoint.
"""

from __future__ import annotations

import re

import pytest

from tilerunner import Run
from tilerunner.evolve.commands.cli import main
from tilerunner.evolve.core.evolution import EvolutionError
from tilerunner.evolve.core.neat_config import builtin_config_path, config_text
from tilerunner.evolve.runs.run_folder import RunFolder

# Every species is stagnant after one generation without improving, and none is kept by species elitism.
DIES_OUT = {"reset_on_extinction": "False", "max_stagnation": "1", "species_elitism": "0"}


@pytest.fixture
def dying_config(tmp_path):
    lines = config_text(builtin_config_path("default")).splitlines()
    changed = [
        f"{ln.split('=')[0].strip()} = {DIES_OUT[ln.split('=')[0].strip()]}"
        if ln.split("=")[0].strip() in DIES_OUT
        else ln
        for ln in lines
    ]
    assert sum(a != b for a, b in zip(lines, changed)) == len(DIES_OUT)
    path = tmp_path / "dies-out.ini"
    path.write_text("\n".join(changed) + "\n")
    return path


def test_the_library_raises_one_line_naming_the_generation_and_the_setting(dying_config):
    run = Run.create(["1-1"], config=dying_config, pop=20, generations=10, keep_going=True)
    with pytest.raises(EvolutionError) as info:
        run.run()
    message = str(info.value)
    assert "\n" not in message
    assert re.fullmatch(
        r"every species died out in generation \d+ and the config says reset_on_extinction = False", message
    )


def test_the_command_ends_in_one_line_exit_2_and_keeps_the_folder(dying_config, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        [
            "evolve",
            "--config",
            str(dying_config),
            "--pop",
            "20",
            "--generations",
            "10",
            "--keep-going",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    died = re.fullmatch(
        r"tilerunner: error: every species died out in generation (\d+) and the config says reset_on_extinction ="
        r" False; the run folder keeps its last checkpoint, but this neat config cannot go on: start a new run"
        r" with another\n",
        err,
    )
    assert died, err
    generation = int(died.group(1))
    assert 0 < generation < 10  # it died before the generation limit
    folder = RunFolder(out)
    assert folder.checkpoint_files()  # the folder is kept, with the checkpoint it names
    assert len((out / "stats.jsonl").read_text().splitlines()) == generation  # every completed generation
