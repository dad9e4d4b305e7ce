"""Ends what is left of a local Ray when the run that started it ends, however it ends (Linux: it reads /proc).

A Ray started by a run is that process's alone: its raylet and GCS die with it (Ray ties them to it), but the
agents and workers the raylet starts outlive a killed run by a minute or more (each first tries to tell the dead
GCS). `tilerunner.evolve.core.ray_cluster` starts this as a process of its own, with a pipe from the run:

    python -I ray_watcher.py FOLDER DRIVER_PID

It waits for the pipe to close (the run closed its Ray, or died, even by SIGKILL), then kills every process that
still has a file open in the Ray's own folder, or works in it, and removes the folder. The standard library
only, so that it starts at once.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time

GIVE_UP_AFTER = 20.0  # seconds of killing before the watcher removes the folder anyway


def users(folder: str, skip: set[int]) -> set[int]:
    """Processes (not in `skip`) working in `folder` or holding a file in it open."""
    found = set()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in skip:
            continue
        try:
            paths = [os.readlink(f"/proc/{name}/cwd")]
            for fd in os.listdir(f"/proc/{name}/fd"):
                try:
                    paths.append(os.readlink(f"/proc/{name}/fd/{fd}"))
                except OSError:
                    pass
        except OSError:
            continue
        if any(p == folder or p.startswith(folder + "/") for p in paths):
            found.add(int(name))
    return found


def end_users(folder: str, skip: set[int], seconds: float = GIVE_UP_AFTER) -> None:
    """SIGKILL every user of `folder` (`users`) until none is left, for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = users(folder, skip)
        if not left:
            return
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.1)


def main(argv: list[str]) -> None:
    """`FOLDER DRIVER_PID`: wait for standard input to close, end the folder's users, remove the folder."""
    folder, driver = argv[1], int(argv[2])
    sys.stdin.buffer.read()
    end_users(folder, {driver, os.getpid()})
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv)
