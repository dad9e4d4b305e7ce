"""The Ray backend's cluster life without a Ray: an address that cannot be used is one line naming `address` (the
command: `--address`) before anything is made, and the watcher ends a local Ray's leftovers and its folder.

(A real local Ray, started, killed and cleaned up: tests/test_ray_backend.py, marked slow.)"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time

import pytest

from tilerunner.evolve.core.backend import AddressError, BackendError
from tilerunner.evolve.core.ray_cluster import check_address, start_watcher

LONG = "a" * 70 + ".example"  # a host name with a label longer than 63 characters


@pytest.mark.parametrize(
    "address, message",
    [
        ("127.0.0.1:1", "address 127.0.0.1:1: cannot reach a Ray cluster there: Connection refused"),
        ("nonsense", "address 'nonsense': expected auto or HOST:PORT, such as 10.0.0.5:6379"),
        ("127.0.0.1:99999", "address '127.0.0.1:99999': expected auto or HOST:PORT, such as 10.0.0.5:6379"),
        (LONG + ":6379", f"address '{LONG}:6379': '{LONG}' is not a valid host name"),
        ("{x}:{y}", "address '{x}:{y}': expected auto or HOST:PORT, such as 10.0.0.5:6379"),
    ],
)
def test_an_address_that_cannot_be_used_names_the_parameter_and_the_command_names_the_flag(
    tmp_path, capsys, address, message
):
    with pytest.raises(AddressError) as caught:
        check_address(address)
    error = caught.value
    assert isinstance(error, BackendError) and isinstance(error, ValueError)  # a backend failing, from a bad value
    assert str(error).startswith(message) and "--address" not in str(error)
    assert error.as_flags().startswith("--" + message)
    if importlib.util.find_spec("ray") is None:
        return  # the command first says that Ray is missing
    from tilerunner.evolve.commands.cli import main

    started = time.monotonic()
    code = main(["evolve", "--backend", "ray", "--address", address, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("tilerunner: error: --" + message) and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists() and time.monotonic() - started < 60


def test_the_ray_backend_refuses_a_bad_address_naming_the_parameter_before_importing_ray():
    pytest.importorskip("ray")
    from tilerunner.evolve.core.ray_backend import RayBackend

    backend = RayBackend(address="nonsense")
    with pytest.raises(AddressError, match=r"^address 'nonsense': expected auto or HOST:PORT"):
        backend.check()
    with pytest.raises(ValueError, match=r"^actors must be at least 1, got 0$"):
        RayBackend(actors=0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the watcher reads /proc (Linux)")
def test_the_watcher_ends_what_works_in_the_folder_and_removes_it_once_its_pipe_closes(tmp_path):
    folder = tmp_path / "tilerunner-ray-x"
    (folder / "session").mkdir(parents=True)
    (folder / "session" / "log.txt").write_text("a raylet's log\n")
    # A leftover: a process working in the folder, in a session of its own (as Ray's agents are, after the run).
    leftover = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"], cwd=folder / "session", start_new_session=True
    )
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], cwd=tmp_path)
    watcher = start_watcher(str(folder))
    try:
        time.sleep(0.5)
        assert watcher.poll() is None and leftover.poll() is None  # it waits for its pipe
        watcher.stdin.close()  # the run closed its Ray, or died
        assert watcher.wait(timeout=30) == 0
        assert leftover.wait(timeout=5) == -9  # SIGKILL
        assert not folder.exists()
        assert bystander.poll() is None  # what does not work in the folder is left alone
    finally:
        for proc in (leftover, bystander, watcher):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
