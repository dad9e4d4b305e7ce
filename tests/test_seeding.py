"""Seeding a first population with the hand-written reactive controller written as a genome."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from tilerunner.envs import physics as P
from tilerunner.envs.level import load_level, parse_level
from tilerunner.evolve.baselines import rules_network
from tilerunner.evolve.baselines.play import play_controllers
from tilerunner.evolve.commands.cli import main as cli
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.neat_config import load_config
from tilerunner.evolve.core.option_error import OptionError
from tilerunner.evolve.core.seeding import reactive_genome
from tilerunner.evolve.runs.evaluation import genome_results
from tilerunner.evolve.runs.genome_json import genome_to_dict
from tilerunner.evolve.runs.replay import NetworkShape
from tilerunner.evolve.runs.run import Run

SENSES = EpisodeSettings(features=("jump", "probes"), jump_rule="press")
# Flat ground with a three-tile pit ten tiles out: running into it dies, a jump near its edge clears it.
PIT = parse_level(
    "\n".join(["-" * 40] * 12 + ["-M" + "-" * 37 + "F"] + ["X" * 12 + "---" + "X" * 25] * 2) + "\n", "pit.txt"
)


def config_for(settings: EpisodeSettings, pop: int = 20):
    return load_config(neat_overrides={"pop_size": pop}, genome_overrides={"num_inputs": settings.n_inputs})


def test_the_reactive_genome_jumps_the_pit_under_both_rules_and_running_alone_does_not():
    for rule in ("press", "hold"):
        settings = EpisodeSettings(features=("jump", "probes"), jump_rule=rule)
        config = config_for(settings)
        genome = reactive_genome(1, config.genome_config, 6, settings.features)
        (rows,) = genome_results([genome], NetworkShape.from_genome_config(config.genome_config), settings, [PIT])
        assert rows[0].outcome.finished, rule
        for key in [k for k in genome.connections if k[1] == 4]:  # A's inputs cut: it runs into the pit
            del genome.connections[key]
        (rows,) = genome_results([genome], NetworkShape.from_genome_config(config.genome_config), settings, [PIT])
        assert rows[0].outcome.status == "dead" and rows[0].outcome.cause == "pit"


def test_the_seed_needs_the_senses_it_reads_named_as_the_parameter_or_the_flag():
    settings = EpisodeSettings(features=("jump",))
    with pytest.raises(OptionError) as caught:
        reactive_genome(1, config_for(settings).genome_config, 6, settings.features)
    message = "seeding from the hand-written rules needs the senses jump, probes ({} jump,probes); missing probes"
    assert str(caught.value) == message.format("features")
    assert caught.value.as_flags() == message.format("--observe")


def test_a_seeded_run_starts_with_the_controller_and_is_repeatable(tmp_path):
    def create(out):
        return Run.create([PIT], settings=SENSES, pop=20, seed=4, generations=3, seed_rules=0.25, out=out)

    run = create(tmp_path / "a")
    population = run.evolution.population.population
    config = run.evolution.config
    seed = genome_to_dict(reactive_genome(min(population), config.genome_config, 6, SENSES.features))
    assert genome_to_dict(population[min(population)]) == seed  # the first seeded genome as written
    as_written = sum(genome_to_dict(g)["connections"] == seed["connections"] for g in population.values())
    assert as_written < 5  # the other four seeded ones are mutated copies
    first = run.run()
    assert first.stats[0]["finished"] >= 1  # the seed finishes the pit level in generation 0
    second = create(tmp_path / "b").run()
    assert second.stats == first.stats
    assert json.loads((tmp_path / "a" / "args.json").read_text())["seed_rules"] == 0.25


def test_the_cli_seeds_with_the_senses_it_reads_and_only_a_new_run(tmp_path, capsys):
    level = tmp_path / "pit.txt"
    level.write_text(PIT.text)
    out = tmp_path / "run"
    implicit = ["--seed-rules", "--generations", "1", "--out", str(tmp_path / "implicit"), "--pop", "20"]
    assert cli(["evolve", "--level", str(level), *implicit]) == 0
    assert "sees jump and probes" in capsys.readouterr().out  # --seed-rules turns on what the seed reads
    assert (
        cli(
            [
                "evolve",
                "--level",
                str(level),
                "--observe",
                "jump,probes",
                "--seed-rules",
                "--jump-rule",
                "press",
                "--pop",
                "20",
                "--generations",
                "1",
                "--quiet",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert json.loads((out / "args.json").read_text())["seed_rules"] == 0.1
    capsys.readouterr()
    assert cli(["evolve", "--resume", str(out), "--seed-rules", "0.5"]) == 2
    assert "--seed-rules cannot be changed when resuming" in capsys.readouterr().err


# The foresight seed: `rules` as a network (one linear unit per button over jump, probes and foresight).
FORESEEING = ("jump", "probes", "foresight", "no-grid")
GENERATED = [f"gen:{seed}:{d}" for seed in range(700_001, 700_007) for d in (1, 3, 5)]  # never fitted on


@pytest.mark.parametrize("rule", ("hold", "press"))
def test_the_foresight_seed_decides_as_rules_does_and_finishes_what_it_finishes(rule):
    settings = EpisodeSettings(features=FORESEEING, jump_rule=rule)
    config = config_for(settings)
    genome = reactive_genome(1, config.genome_config, 6, settings.features)
    levels = [load_level(spec) for spec in GENERATED]
    (rows,) = genome_results([genome], NetworkShape.from_genome_config(config.genome_config), settings, levels)
    seed_finished = sum(r.outcome.finished for r in rows)
    (rules,) = play_controllers(["rules"], levels, settings)
    rules_finished = sum(o.finished for o in rules)
    assert seed_finished >= rules_finished - 2 and seed_finished > len(levels) // 2, (seed_finished, rules_finished)
    # On the states rules itself reaches, the shipped units press what it presses at least 95% of the time.
    data = json.loads(resources.files("tilerunner.evolve.core").joinpath("configs", "foresight_seed.json").read_text())
    names = rules_network.sense_names()
    weights = np.array([[data["units"][b]["weights"][n] for n in names] for b in rules_network.BUTTONS])
    bias = np.array([data["units"][b]["bias"] for b in rules_network.BUTTONS])
    xs, labels, _ = rules_network.play(levels, settings, weights, bias, units_play=False)
    pressed = xs @ weights.T + bias > 0.0  # Right, Left, A
    wanted = (labels[:, None] & np.array([P.RIGHT, P.LEFT, P.A])[None, :]) != 0
    assert np.mean(np.all(pressed == wanted, axis=1)) >= 0.95


def test_the_foresight_seed_needs_its_senses_and_the_radius_it_was_fitted_at():
    settings = EpisodeSettings(features=("jump", "foresight"))
    with pytest.raises(ValueError, match="needs the senses jump, probes, foresight.*missing probes"):
        reactive_genome(1, config_for(settings).genome_config, 6, settings.features)
    wide = EpisodeSettings(features=FORESEEING, view_radius=8)
    with pytest.raises(ValueError, match="needs view_radius 6, got 8"):
        reactive_genome(1, config_for(wide).genome_config, 8, wide.features)


def test_a_foresight_seed_at_another_radius_is_one_line_naming_the_parameter_or_the_flag(tmp_path, capsys):
    wide = EpisodeSettings(features=FORESEEING, view_radius=8)
    with pytest.raises(OptionError) as caught:
        Run.create([PIT], settings=wide, pop=20, seed=4, generations=1, seed_rules=0.25, out=tmp_path / "python")
    assert str(caught.value) == "seeding from the hand-written rules with foresight needs view_radius 6, got 8"
    level, out = tmp_path / "pit.txt", tmp_path / "cli"
    level.write_text(PIT.text)
    argv = ["evolve", "--level", str(level), "--observe", ",".join(FORESEEING), "--view-radius", "8", "--seed-rules"]
    assert cli([*argv, "--pop", "20", "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        "tilerunner: error: seeding from the hand-written rules with foresight needs --view-radius 6, got 8\n"
    )
    assert not out.exists() and not (tmp_path / "python").exists()
