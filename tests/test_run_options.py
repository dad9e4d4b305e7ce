"""`RunOptions` is the one list of a run's options: the library's checks, the flags of `evolve` and `bench
generalize`, args.json and what a resume may change all follow its fields; old run folders still resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tilerunner import Run, RunOptions
from tilerunner.evolve.commands.cli import build_parser, main
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.runs.run_options import applied_on_resume, option_fields

DATA = Path(__file__).parent / "data"
DOCS = Path(__file__).parent.parent / "evolve" / "docs" / "pages" / "guides" / "python-api.md"


def subparser(*path: str):
    parser = build_parser()
    for name in path:
        (sub,) = [a for a in parser._actions if a.dest in ("command", "bench_command")]
        parser = sub.choices[name]
    return parser


def flag(parser, name: str):
    (action,) = [a for a in parser._actions if name in a.option_strings]
    return action


@pytest.mark.parametrize("name", [n for n, a in option_fields().items() if a.kind in ("whole", "number")])
def test_the_library_and_the_flag_take_the_same_range(name):
    # The ends of the flag's range are taken by RunOptions, and one step past them refused, naming the field.
    action = flag(subparser("evolve"), option_fields()[name].flag or "--" + name.replace("_", "-"))
    lo, hi = action.type.range
    assert action.type(str(lo)) == lo and action.type(str(hi)) == hi
    if name != "time_limit":  # the library takes any positive minutes (a test's budget is a fraction of one)
        assert getattr(RunOptions(**{name: lo}), name) == lo
        below = lo - 1 if isinstance(lo, int) else lo / 2
        with pytest.raises(ValueError, match=f"^{name} must be"):
            RunOptions(**{name: below})
    assert getattr(RunOptions(**{name: hi}), name) == hi
    above = hi + 1 if isinstance(hi, int) else hi * 2
    with pytest.raises(ValueError, match=f"^{name} must be"):
        RunOptions(**{name: above})


def test_evolve_and_bench_generalize_give_a_shared_option_the_same_flag():
    evolve, bench = subparser("evolve"), subparser("bench", "generalize")
    shared = ["--generations", "--pop", "--levels-per-gen", "--curriculum", "--validate-every", "--time-limit"]
    shared += ["--seed-rules", "--recheck", "--config", "--observe", "--jump-rule", "--relative-to"]
    for name in shared:
        a, b = flag(evolve, name), flag(bench, name)
        assert (a.nargs, a.const, a.metavar, a.choices) == (b.nargs, b.const, b.metavar, b.choices), name
        assert getattr(a.type, "range", None) == getattr(b.type, "range", None), name
    assert bench.parse_args(["--curriculum"]).curriculum == evolve.parse_args(["--curriculum"]).curriculum == 0.8


def test_evolve_help_is_in_groups():
    text = subparser("evolve").format_help()
    titles = ["levels", "population", "episode", "senses", "search", "output", "backend"]
    at = [text.index(f"\n{title} (") for title in titles]
    assert at == sorted(at)
    assert text.index("\n  --pop N") > at[1] and text.index("\n  --observe") > at[3]
    assert text.index("\n  --workers") > at[6]
    assert "{" not in text  # choices are shown as press|hold, not {press,hold}


def test_resume_takes_the_options_that_may_change_and_refuses_the_fixed_ones(tmp_path):
    assert set(applied_on_resume()) == {
        "generations",
        "keep_going",
        "checkpoint_every",
        "replays_dir",
        "validate_every",
        "time_limit",
        "backend",
    }
    folder = tmp_path / "run"
    Run.create(["1-1"], pop=10, generations=1, out=folder)
    with pytest.raises(TypeError, match="pop is fixed for a run's life"):
        Run.resume(folder, pop=20)
    with pytest.raises(TypeError, match="unknown run option 'generation'"):
        Run.resume(folder, generation=2)
    with pytest.raises(ValueError, match="checkpoint_every must be"):
        Run.resume(folder, checkpoint_every=0)


def test_args_json_is_what_the_options_say(tmp_path):
    folder = tmp_path / "run"
    options = RunOptions(seed=4, pop=10, generations=3, validate=["1-2"], recheck=None, out=folder)
    Run.create(["1-1"], options)
    kept = json.loads((folder / "args.json").read_text())
    assert kept["levels"] == ["1-1"] and kept["pop_size"] == 10 and kept["validate"] == ["1-2"]
    assert kept["custom_fitness"] is False and kept["settings"] == EpisodeSettings().as_dict()
    again = RunOptions.from_dict(kept)
    assert (again.seed, again.pop, again.generations, tuple(again.validate)) == (4, 10, 3, ("1-2",))


def test_seed_rules_turns_on_the_senses_it_reads(tmp_path, capsys):
    code = main(["evolve", "--seed-rules", "--pop", "10", "--generations", "1", "--out", str(tmp_path / "r")])
    assert code == 0, capsys.readouterr().err
    settings = json.loads((tmp_path / "r" / "args.json").read_text())["settings"]
    assert settings["features"] == ["jump", "probes"]
    run = Run.create(["1-1"], pop=10, seed_rules=0.2, settings=EpisodeSettings(features=("foresight",)))
    assert run.evolution.settings.features == ("jump", "probes", "foresight")


def test_a_run_folder_written_by_tilerunner_0_3_resumes_into_the_same_run(tmp_path):
    # tests/data/run-0.3.0: args.json and a version 2 checkpoint (generation 2) as tilerunner 0.3.0 wrote them, of
    # a run with most fixed options set. Resumed, it goes on as the same run made at once does.
    folder = Path(shutil.copytree(DATA / "run-0.3.0", tmp_path / "old"))
    kept = json.loads((folder / "args.json").read_text())
    Run.resume(folder, generations=3).run()
    options = RunOptions.from_dict(kept).but(generations=3, out=tmp_path / "whole")
    Run.create(kept["levels"], options).run()
    rows = [json.loads(line) for line in (folder / "stats.jsonl").read_text().splitlines()]
    whole = [json.loads(line) for line in (tmp_path / "whole" / "stats.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and rows == whole
    assert json.loads((folder / "args.json").read_text()) == {**kept, "generations": 3}


def test_the_python_guide_names_every_option():
    text = DOCS.read_text()
    missing = [name for name in option_fields() if f"`{name}`" not in text]
    assert not missing
