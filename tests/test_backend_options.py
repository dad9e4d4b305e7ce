"""`make_backend` refuses options its backend does not take: in Python naming the parameters, on the command line
naming the flags (a bad Ray address: tests/test_ray_cluster.py)."""

from __future__ import annotations

import pytest

from tilerunner.evolve.core.backend import make_backend
from tilerunner.evolve.core.option_error import OptionError


@pytest.mark.parametrize("name", ["local", "cuda"])
@pytest.mark.parametrize("options", [{"address": "auto"}, {"actors": 2}])
def test_ray_options_on_another_backend_name_the_parameters(name, options):
    with pytest.raises(OptionError) as caught:
        make_backend(name, **options)
    assert str(caught.value) == "address and actors are for the Ray backend: add backend ray"


@pytest.mark.parametrize("flags", [["--address", "auto"], ["--actors", "2"], ["--backend", "local", "--actors", "2"]])
def test_the_command_names_the_flags(tmp_path, capsys, flags):
    from tilerunner.evolve.commands.cli import main

    code = main(["evolve", *flags, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and err == (
        "tilerunner: error: --address and --actors are for the Ray backend: add --backend ray\n"
    )
    assert not (tmp_path / "run").exists()


def test_an_unknown_backend_is_a_value_error_naming_the_choices():
    with pytest.raises(ValueError, match=r"^unknown backend 'slurm': choose one of local, ray, cuda$"):
        make_backend("slurm")
