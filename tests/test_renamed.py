"""Renamed public names: code written against 0.2 still runs, gets the same results, and is told the new name."""

from __future__ import annotations

import neat
import numpy as np
import pytest

import tilerunner
from tilerunner.agent import compile_arrays
from tilerunner.envs.level import load_level
from tilerunner.evolve.core.backend import LocalBackend
from tilerunner.evolve.core.evolution import Evolution
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.neat_config import load_config
from tilerunner.evolve.core.renamed import REMOVED_IN
from tilerunner.evolve.core.rollout import pack_levels

SETTINGS = EpisodeSettings(max_frames=300)


def small_evolution(backend=None) -> Evolution:
    return Evolution(load_config(neat_overrides={"pop_size": 12}), [load_level("1-1")], SETTINGS, 4, backend=backend)


def test_tilerunner_play_is_trace_and_says_so():
    with pytest.warns(DeprecationWarning, match=rf"tilerunner\.play is now called tilerunner\.trace.*{REMOVED_IN}"):
        old = tilerunner.play
    assert old is tilerunner.trace
    assert "play" not in dir(tilerunner)  # listed under its new name only
    assert "trace" in dir(tilerunner)


def test_from_tilerunner_import_play_warns_at_the_importing_line():
    with pytest.warns(DeprecationWarning) as caught:
        from tilerunner import play  # noqa: F401
    assert caught[0].filename == __file__  # the warning points at the user's line, not at tilerunner


def test_an_unknown_name_is_still_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'evaluate_on'"):
        tilerunner.evaluate_on  # noqa: B018


def test_evolution_evaluate_plays_the_generation_as_play_generation_does():
    with pytest.warns(DeprecationWarning, match=r"Evolution\.evaluate is now called Evolution\.play_generation"):
        old = small_evolution().evaluate()
    new = small_evolution().play_generation()
    np.testing.assert_array_equal(old.table.array, new.table.array)
    assert old.best_fitness == new.best_fitness


def test_the_old_method_name_reaches_a_subclass_override():
    class Counting(Evolution):
        played = 0

        def play_generation(self, *args, **kwargs):
            Counting.played += 1
            return super().play_generation(*args, **kwargs)

    evolution = Counting(load_config(neat_overrides={"pop_size": 12}), [load_level("1-1")], SETTINGS, 4)
    with pytest.warns(DeprecationWarning):
        evolution.evaluate()
    assert Counting.played == 1


def test_a_backend_written_before_the_rename_is_used_through_its_evaluate():
    class OldBackend:  # the 0.2 protocol: `evaluate`, no `play_networks`
        name = "old"
        notify = None

        def __init__(self):
            self.inner = LocalBackend()
            self.calls = 0

        def set_levels(self, levels):
            self.inner.set_levels(levels)

        def evaluate(self, *args, **kwargs):
            self.calls += 1
            return self.inner.play_networks(*args, **kwargs)

        def close(self):
            pass

    old = OldBackend()
    with pytest.warns(DeprecationWarning, match=r"OldBackend\.evaluate is now called play_networks"):
        evolution = small_evolution(backend=old)
    summary = evolution.play_generation()
    assert old.calls == 1
    np.testing.assert_array_equal(summary.table.array, small_evolution().play_generation().table.array)


def test_a_shipped_backends_evaluate_still_plays_networks():
    config = load_config(neat_overrides={"pop_size": 12})
    genomes = list(neat.Population(config, seed=4).population.values())[:3]
    nets = [compile_arrays(g, config.genome_config) for g in genomes]
    backend = LocalBackend()
    backend.set_levels(pack_levels([load_level("1-1")]))
    kernel = SETTINGS.kernel_settings()
    with pytest.warns(DeprecationWarning, match=r"LocalBackend\.evaluate is now called LocalBackend\.play_networks"):
        old, _ = backend.evaluate(nets, kernel)
    new, _ = backend.play_networks(nets, kernel)
    np.testing.assert_array_equal(old, new)
    assert old.shape[:2] == (3, 1)
