"""Checkpoints: one belongs to its folder's run only (every setting fixed for a run's life, and its config), and
what it holds makes sense, not only has the right types (level texts, stats rows, first finishes, the solve, the
champion), or it is refused in one line naming the file and the field."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from tilerunner import Run
from tilerunner.envs.level import load_level
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.neat_config import builtin_config_path
from tilerunner.evolve.runs.run_folder import RunFolder, RunFolderError
from tilerunner.evolve.runs.run_options import fixed_args

LEVELS = ["1-1", "1-2", "1-3"]
SENSES = EpisodeSettings(features=("jump", "probes"))  # what seed_rules needs, so every run here has them
OURS = dict(pop=20, seed=3, generations=1, levels_per_gen=1, settings=SENSES)


def custom_fitness(table):
    return table.array[:, :, 0].sum(axis=1)  # any function of the outcomes


def other_config(folder: Path) -> Path:
    """The shipped config adding connections more often: another neat config."""
    path = folder / "other.ini"
    text = Path(builtin_config_path("default")).read_text()
    assert "conn_add_prob           = 0.5\n" in text
    path.write_text(text.replace("conn_add_prob           = 0.5\n", "conn_add_prob           = 0.6\n"))
    return path


# For each setting fixed for a run's life: how another run differs in it, and what the refusal says.
OTHER_RUN = {
    "levels": (lambda tmp: dict(levels=["1-1", "1-2", "2-1"]), "it trains on other levels"),
    "seed": (lambda tmp: dict(seed=4), "a checkpoint of a run with seed 4"),
    "config": (lambda tmp: dict(config=other_config(tmp)), "made with another neat config"),
    "settings": (
        lambda tmp: dict(settings=EpisodeSettings(features=("jump", "probes"), frame_skip=4)),
        "its episode settings differ",
    ),
    "pop_size": (lambda tmp: dict(pop=30), "made with another neat config"),
    "memory": (lambda tmp: dict(memory=True), "made with another neat config"),
    "batch_breeding": (lambda tmp: dict(batch_breeding=True), "made with another neat config"),
    "custom_fitness": (lambda tmp: dict(fitness=custom_fitness), "its custom_fitness is true, but this run's is false"),
    "validate": (lambda tmp: dict(validate=["2-1"]), "it validates on other held-out levels"),
    "levels_per_gen": (lambda tmp: dict(levels_per_gen=2), "its levels_per_gen is 2, but this run's is 1"),
    "curriculum": (lambda tmp: dict(curriculum=0.8), "its curriculum is 0.8, but this run's is null"),
    "seed_rules": (lambda tmp: dict(seed_rules=0.1), "its seed_rules is 0.1, but this run's is null"),
    "recheck": (lambda tmp: dict(recheck=1), "its recheck is 1, but this run's is null"),
}


def make_run(folder: Path, **changes) -> Path:
    """A finished run of one generation: `OURS` on `LEVELS`, with `changes`."""
    options = {**OURS, **changes}
    Run.create(options.pop("levels", LEVELS), out=folder, **options).run()
    return folder


def newest(folder: Path) -> Path:
    return RunFolder(folder).checkpoint_files()[-1]


def read_checkpoint(path: Path) -> dict:
    return json.loads(gzip.decompress(path.read_bytes()))


def write_checkpoint(path: Path, data: dict) -> None:
    path.write_bytes(gzip.compress(json.dumps(data).encode()))


def refusal(folder: Path) -> str:
    """The one line `Run.resume` refuses `folder` with."""
    with pytest.raises(RunFolderError) as info:
        Run.resume(folder, generations=3)
    text = str(info.value)
    assert "\n" not in text and "Traceback" not in text
    return text


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Our run, and for each fixed setting another run that differs from it only there."""
    tmp = tmp_path_factory.mktemp("runs")
    made = {"ours": make_run(tmp / "ours")}
    for key, (change, _) in OTHER_RUN.items():
        made[key] = make_run(tmp / key, **change(tmp))
    return made


@pytest.fixture
def ours(runs, tmp_path) -> Path:
    """A copy of our run to damage."""
    return Path(shutil.copytree(runs["ours"], tmp_path / "ours"))


# Belonging: every fixed setting, and nothing skipped -------------------------------------------------------


def test_every_setting_fixed_for_a_runs_life_has_another_run_here():
    assert set(OTHER_RUN) == set(fixed_args())


@pytest.mark.parametrize("key", OTHER_RUN)
def test_a_checkpoint_of_a_run_with_any_other_fixed_setting_is_refused(runs, ours, key):
    theirs = newest(runs[key])
    shutil.copy(theirs, newest(ours))
    before = (ours / "args.json").read_text()
    text = refusal(ours)
    assert OTHER_RUN[key][1] in text and "it is not this run's checkpoint" in text and str(newest(ours)) in text
    assert (ours / "args.json").read_text() == before  # it still says what the run plays


@pytest.mark.parametrize("key", ["pop_size", "memory", "batch_breeding", "config"])
@pytest.mark.parametrize("digest", ["deleted", None])
def test_a_checkpoint_without_its_config_digest_is_refused_not_let_through(runs, ours, key, digest):
    # Before: a checkpoint of population 20 resumed in a folder of population 30 once its digest was deleted.
    data = read_checkpoint(newest(runs[key]))
    if digest == "deleted":
        del data["config_digest"]
    else:
        data["config_digest"] = digest
    write_checkpoint(newest(ours), data)
    text = refusal(ours)
    assert "config_digest" in text and str(newest(ours)) in text


@pytest.mark.parametrize(
    "field", ["levels_per_gen", "curriculum", "recheck", "seed_rules", "custom_fitness", "fresh", "stage"]
)
def test_a_field_missing_from_a_checkpoint_is_a_refusal_never_a_check_skipped(ours, field):
    path = newest(ours)
    data = read_checkpoint(path)
    del data[field]
    write_checkpoint(path, data)
    text = refusal(ours)
    assert f"missing '{field}'" in text and str(path) in text


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda a: a.update(pop_size=30), "its population is 20 (config.ini), but this run's is 30"),
        (lambda a: a.update(memory=True), "it evolves without memory cells (config.ini), but this run's args.json"),
        (lambda a: a.update(levels_per_gen=2), "its levels_per_gen is 1, but this run's is 2"),
        (lambda a: a.pop("recheck"), "args.json has no 'recheck'"),
        (lambda a: a.pop("validate"), "args.json has no 'validate'"),
    ],
)
def test_an_args_json_that_says_what_the_run_does_not_play_is_refused(ours, edit, message):
    args = json.loads((ours / "args.json").read_text())
    edit(args)
    (ours / "args.json").write_text(json.dumps(args))
    assert message in refusal(ours)


def test_a_checkpoint_of_version_1_still_resumes_into_the_same_run(runs, tmp_path):
    # What tilerunner wrote before checkpoints kept level digests, seed_rules and custom_fitness. A run seeded
    # from the rules, resumed from one and then from the checkpoint that resume wrote, is the run made at once.
    folder = Path(shutil.copytree(runs["seed_rules"], tmp_path / "run"))
    path = newest(folder)
    data = read_checkpoint(path)
    for entry in data["levels"]:
        entry.pop("sha256", None)
    for key in ("seed_rules", "custom_fitness"):
        data.pop(key, None)
    write_checkpoint(path, {**data, "version": 1})
    Run.resume(folder, generations=2).run()
    Run.resume(folder, generations=3).run()
    whole = make_run(tmp_path / "whole", generations=3, seed_rules=0.1)
    assert (folder / "stats.jsonl").read_text() == (whole / "stats.jsonl").read_text()


# Contents: valid JSON that makes no sense is refused ----------------------------------------------------------


def swap_text(entry: dict, level_id: str, digest: bool) -> None:
    """Store another level's text under `entry`'s id (its sha256 made to match when `digest`)."""
    other = load_level(level_id)
    entry["text"] = other.text
    if digest:
        entry["sha256"] = other.sha256


NONSENSE = {
    "another level's text under a built-in id": (
        lambda d: swap_text(d["levels"][0], "2-4", digest=True),
        "checkpoint.levels[0].text: not the text of built-in level 1-1",
    ),
    "a level's text not its sha256": (
        lambda d: swap_text(d["levels"][1], "2-4", digest=False),
        "checkpoint.levels[1].text: does not match its sha256",
    ),
    "a level without its sha256": (lambda d: d["levels"][2].pop("sha256"), "checkpoint.levels[2]: missing 'sha256'"),
    "a stats number that is text": (
        lambda d: d["stats"][0].update(best_fitness="x"),
        'checkpoint.stats[0].best_fitness: expected a finite number, got "x"',
    ),
    "a stats outcome with no status": (
        lambda d: d["stats"][0]["best"][0].pop("status"),
        "checkpoint.stats[0].best[0]: missing 'status'",
    ),
    "a timing row that is not numbers": (
        lambda d: d["timing"][0].update(eval_seconds="slow"),
        "checkpoint.timing[0].eval_seconds",
    ),
    "a stats row naming levels it did not draw": (
        lambda d: d["stats"][0].update(levels=["2-4"]),
        "checkpoint.stats[0].levels: not the levels generation 0 draws",
    ),
    "solved when nothing finished": (
        lambda d: d.update(solved_at=0),
        "checkpoint.solved_at: 0, but the champions' outcomes (checkpoint.stats) say never",
    ),
    "a first finish when nothing finished": (
        lambda d: d.update(first_finish=[[0, 0]]),
        "checkpoint.first_finish: level 1-1 first finished in generation 0, but the champions' outcomes",
    ),
    "a champion with no levels": (
        lambda d: d.update(best_ever_levels=[]),
        "checkpoint.best_ever_levels: 0 levels for the champion's 1 outcomes",
    ),
    "a champion with other outcomes": (
        lambda d: d["best_ever_outcomes"][0].update(fitness=99999.0),
        "checkpoint.best_ever_outcomes: not the outcomes and levels of generation 0's champion",
    ),
}


@pytest.mark.parametrize("damage", NONSENSE, ids=list(NONSENSE))
def test_valid_json_that_makes_no_sense_is_one_line_naming_the_file_and_the_field(ours, damage):
    change, message = NONSENSE[damage]
    path = newest(ours)
    data = read_checkpoint(path)
    change(data)
    write_checkpoint(path, data)
    text = refusal(ours)
    assert message in text and str(path) in text


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A run on 1-1 (seed 0, population 60) whose champion first finishes it, and so solves it, in generation 3."""
    folder = tmp_path_factory.mktemp("finished") / "run"
    Run.create(["1-1"], pop=60, generations=4, keep_going=True, out=folder).run()
    assert read_checkpoint(newest(folder))["first_finish"] == [[0, 3]]
    return folder


@pytest.mark.parametrize(
    "edit, message",
    [
        (dict(first_finish=[]), "level 1-1 never finished, but the champions' outcomes (checkpoint.stats) say first"),
        (dict(first_finish=[[0, 2]]), "level 1-1 first finished in generation 2, but"),
        (dict(solved_at=None), "checkpoint.solved_at: null, but the champions' outcomes (checkpoint.stats) say gen"),
        (dict(solved_at=2), "checkpoint.solved_at: 2"),
    ],
)
def test_first_finishes_and_the_solve_must_be_what_the_outcomes_say(finished, tmp_path, edit, message):
    # A first finish recorded too early, or one left out, would leave no first-finishes/ file for the real one.
    folder = Path(shutil.copytree(finished, tmp_path / "run"))
    path = newest(folder)
    write_checkpoint(path, {**read_checkpoint(path), **edit})
    assert message in refusal(folder)


def test_a_file_level_edited_in_the_checkpoint_is_refused(tmp_path):
    level = tmp_path / "mine.txt"
    level.write_text(load_level("1-1").text)
    folder = tmp_path / "run"
    Run.create([str(level)], pop=20, generations=1, out=folder).run()
    path = newest(folder)
    data = read_checkpoint(path)
    data["levels"][0]["text"] = load_level("1-2").text  # a valid level, not the one the run began on
    write_checkpoint(path, data)
    assert "checkpoint.levels[0].text: does not match its sha256" in refusal(folder)
