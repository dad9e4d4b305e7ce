"""`OptionError`: one message, naming parameters for the library's callers and flags for the commands'."""

from __future__ import annotations

import pickle

import pytest

from tilerunner.evolve.core.option_error import OptionError, flag


def test_the_message_names_parameters_and_as_flags_names_flags():
    error = OptionError("{recheck} 5: the set has 4 levels and {levels_per_gen} draws 2")
    assert str(error) == "recheck 5: the set has 4 levels and levels_per_gen draws 2"
    assert error.as_flags() == "--recheck 5: the set has 4 levels and --levels-per-gen draws 2"
    assert error.spelled(str.upper) == "RECHECK 5: the set has 4 levels and LEVELS_PER_GEN draws 2"
    assert isinstance(error, ValueError)


def test_a_parameter_whose_flag_is_spelt_otherwise_gets_that_flag():
    assert flag("features") == "--observe" and flag("view_radius") == "--view-radius"
    error = OptionError("seeding needs the senses jump ({features} jump,probes)")
    assert str(error) == "seeding needs the senses jump (features jump,probes)"
    assert error.as_flags() == "seeding needs the senses jump (--observe jump,probes)"


@pytest.mark.parametrize("given", ["{address}", "a}b{", "{0}", "{x!r}"])
def test_what_a_user_typed_is_shown_as_typed_never_read_as_a_name(given):
    error = OptionError("{address} {given!r}: expected HOST:PORT ({why})", given=given, why="{port}")
    assert str(error) == f"address {given!r}: expected HOST:PORT ({{port}})"
    assert error.as_flags() == f"--address {given!r}: expected HOST:PORT ({{port}})"


def test_it_crosses_processes_whole():
    error = pickle.loads(pickle.dumps(OptionError("{address} {given}: no", given="x{y}")))
    assert type(error) is OptionError and str(error) == "address x{y}: no" and error.as_flags() == "--address x{y}: no"
