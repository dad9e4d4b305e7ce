"""neat configs: the shipped ones load, overrides apply, and every bad config is one line naming the problem."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tilerunner.evolve.core.neat_config import (
    BUILTIN_CONFIGS,
    ConfigError,
    builtin_config_path,
    config_from_text,
    config_text,
    load_config,
)


@pytest.mark.parametrize("name", BUILTIN_CONFIGS)
def test_shipped_configs_load(name):
    config = load_config(builtin_config_path(name))
    assert config.genome_config.memory_cells is False


def test_default_config_is_mario_shaped():
    gc = load_config().genome_config
    assert (gc.num_inputs, gc.num_outputs, gc.feed_forward) == (169, 6, False)
    assert load_config().pop_size == 300


def test_overrides_change_only_what_they_name():
    config = load_config(neat_overrides={"pop_size": 12}, genome_overrides={"memory_cells": True})
    assert config.pop_size == 12 and config.genome_config.memory_cells is True
    assert config.genome_config.num_inputs == 169


def write(tmp_path, text):
    path = tmp_path / "bad.ini"
    path.write_text(text)
    return str(path)


GOOD = config_text(builtin_config_path("default"))


@pytest.mark.parametrize(
    "edit, needle",
    [
        (lambda t: t.replace("pop_size               = 300", "pop_size = many"), "pop_size"),
        (lambda t: t.replace("num_inputs              = 169\n", ""), "num_inputs"),
        (lambda t: t.replace("[NEAT]", "[NEAT]\npopsize = 3"), "popsize"),
        (lambda t: t.replace("[TileGenome]", "[TileGenome]\nweight_mutate_rat = 0.1"), "weight_mutate_rat"),
        (lambda t: t.replace("activation_options      = sigmoid", "activation_options = swish"), "swish"),
        (lambda t: t.replace("[DefaultStagnation]", "[Stagnation]"), "DefaultStagnation"),
        (lambda t: "not an ini file", "bad.ini"),
        (lambda t: t.replace("memory_cells            = false", "memory_cells = perhaps"), "memory_cells"),
    ],
)
def test_bad_configs_are_one_line_naming_the_problem(tmp_path, edit, needle):
    path = write(tmp_path, edit(GOOD))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and needle in message and "\n" not in message


def test_missing_and_folder_paths(tmp_path):
    with pytest.raises(ConfigError, match="no such neat config file"):
        load_config(str(tmp_path / "nope.ini"))
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(str(tmp_path))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_garbled_configs_load_or_raise_config_error(data):
    lines = GOOD.splitlines()
    for _ in range(data.draw(st.integers(1, 4))):
        k = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["drop", "garble", "dup"]))
        if action == "drop":
            lines.pop(k)
        elif action == "dup":
            lines.insert(k, lines[k])
        else:
            lines[k] = data.draw(st.text(alphabet="abc_=[]. -019e\t", max_size=20))
    try:
        config_from_text("\n".join(lines))
    except ConfigError as exc:
        assert "\n" not in str(exc)
