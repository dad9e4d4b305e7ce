"""Every use tilerunner makes of Ray's private names, in one place: Ray has no public way to do these three things.

Checked against Ray 2.60 (what the `ray` extra allows: >=2.60,<3). `tests/test_ray_private.py` fails when an
installed Ray no longer has a name here with the shape used, so that a Ray upgrade that breaks one is seen in
the tests, not in a user's run:

- `ray._private.worker.print_to_stdstream(data, ignore_prefix)`: the one function through which Ray prints what
  its processes publish for the driver (a dead raylet's last log lines); `log_to_driver=False` covers workers'
  output only. Replaced while a Ray this process connected is up (`quiet_driver_messages`).
- `ray._private.services.canonicalize_bootstrap_address(addr, temp_dir=None)`: the address `auto` stands for
  (the cluster `ray start` made on this machine), asked without joining it (`auto_address`), so that the
  address is probed before `ray.init`, which retries a wrong one for a minute and more.
- `ray.init(_temp_dir=...)`: a local Ray's files in a folder of its own, which the watcher that ends what is
  left of it searches for (`start_local`); `ray.init` documents it among its "hidden / experimental" options.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

TESTED_WITH = "2.60"  # the Ray version these were last checked against


def quiet_driver_messages(log: logging.Logger) -> Callable[[], None]:
    """Send what Ray's processes publish for the driver (a dead raylet's last 20 log lines, a worker's crash) to
    `log` rather than the terminal; returns the undo. Nothing (and an undo that does nothing) where this Ray
    has no such function."""
    try:
        from ray._private import worker
    except ImportError:
        return lambda: None
    original = getattr(worker, "print_to_stdstream", None)
    if original is None:
        return lambda: None

    def to_log(data: dict, *args: Any, **kwargs: Any) -> None:
        for line in data.get("lines", ()):
            log.info("(%s) %s", data.get("pid", "ray"), line)

    worker.print_to_stdstream = to_log

    def undo() -> None:
        worker.print_to_stdstream = original

    return undo


def auto_address() -> str | None:
    """The `HOST:PORT` of the cluster `ray start` made on this machine (what `address="auto"` joins), None if no
    cluster is running here; `auto` itself where this Ray cannot be asked (`ray.init` then finds it)."""
    try:
        from ray._private import services
    except ImportError:
        return "auto"
    logging.getLogger("ray").setLevel(logging.ERROR)  # its notes on finding clusters stay off the terminal
    try:
        return services.canonicalize_bootstrap_address("auto") or None
    except ConnectionError:
        return None


def start_local(ray: Any, folder: str, cpus: int, **kwargs: Any) -> None:
    """Start a new Ray for this process (even where RAY_ADDRESS names a cluster), with `cpus` CPUs and every
    file it writes under `folder`."""
    ray.init(address="local", num_cpus=cpus, _temp_dir=folder, **kwargs)
