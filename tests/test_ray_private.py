"""Ray's private names that `tilerunner.evolve.core.ray_private` relies on are still there, with the shape it uses:
a Ray upgrade that moves one fails here, not in a user's run. No Ray is started."""

from __future__ import annotations

import importlib.util
import inspect
import logging

import pytest

if importlib.util.find_spec("ray") is None:  # the test extra brings Ray; CI always has it
    pytest.skip("Ray is not installed (pip install -e '.[test]')", allow_module_level=True)

from tilerunner.evolve.core import ray_private


def test_the_driver_messages_ray_prints_go_to_the_log_while_patched_and_to_the_terminal_after(capsys, caplog):
    from ray._private import worker

    assert list(inspect.signature(worker.print_to_stdstream).parameters) == ["data", "ignore_prefix"]
    # Ray's thread that prints a dead raylet's lines calls the function by its module-level name, so replacing
    # that name is what reroutes them.
    assert "print_to_stdstream" in worker.listen_error_messages.__code__.co_names
    message = {"lines": ["the raylet died"], "pid": "raylet", "is_err": False}
    undo = ray_private.quiet_driver_messages(logging.getLogger("tilerunner.ray"))
    try:
        with caplog.at_level(logging.INFO, logger="tilerunner.ray"):
            worker.print_to_stdstream(message, ignore_prefix=False)
    finally:
        undo()
    assert capsys.readouterr().out == "" and "(raylet) the raylet died" in caplog.text
    worker.print_to_stdstream(message, ignore_prefix=False)
    assert "the raylet died" in capsys.readouterr().out  # Ray's own, put back


def test_auto_is_the_address_ray_itself_would_join(monkeypatch):
    from ray._private import services

    assert list(inspect.signature(services.canonicalize_bootstrap_address).parameters) == ["addr", "temp_dir"]
    monkeypatch.setenv("RAY_ADDRESS", "10.1.2.3:6379")  # what Ray reads first for `auto`
    assert ray_private.auto_address() == "10.1.2.3:6379"


def test_ray_init_still_takes_the_folder_a_local_ray_writes_in():
    import ray

    assert "_temp_dir" in inspect.getsource(ray.init)  # a hidden option, taken from **kwargs
    assert "_temp_dir" in (ray.init.__doc__ or "")
