"""The Ray the Ray backend plays on: a cluster joined at an address that was checked first, or a local Ray started
for this process alone, and all of it ended afterwards.

Without an address a local Ray starts, on 127.0.0.1 only, with the CPUs this process may use, in a temporary
folder of its own, and stops when the backend closes; a small watcher process (`ray_watcher`, Linux) ends
whatever of that Ray is left when the run ends, even when the run itself was killed (SIGKILL), and removes the
folder. `address="auto"` joins the cluster `ray start` made on this machine, or give `HOST:PORT`; the address
must answer, within `REACH_TIMEOUT`, a gRPC call that only a Ray cluster's GCS answers
(`tilerunner.evolve.core.gcs_probe`) before Ray is asked to join it, since Ray retries a wrong address for a
minute and more, deaf to Ctrl-C. An address that cannot be used is an `AddressError` naming `address`.

What Ray's processes print for the driver (a dead raylet's last log lines, its warnings) goes to the logger
`tilerunner.ray`, not the terminal: tilerunner says what happened, in one line. Ray is imported only when a
cluster is joined or started; its private names are used only in `ray_private`.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from tilerunner.evolve.core import ray_private, ray_watcher
from tilerunner.evolve.core.backend import RAY_EXTRA, AddressError, BackendError, MissingRayError

log = logging.getLogger("tilerunner.ray")

REACH_TIMEOUT = 10.0  # seconds to open a connection to a cluster's address, and for it to answer
# A Ray started here serves this machine only: every socket on 127.0.0.1 (on Linux, Ray otherwise binds the
# machine's network address), and no usage statistics sent anywhere. Its actors work at the priority of the
# command that started them, as local threads do (Ray's default runs workers at nice 15, which on a busy machine
# made the same kernel up to 20% slower).
LOCAL_RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0", "RAY_worker_niceness": "0"}
WATCHER_WAIT = 30.0  # seconds `close` waits for the watcher to end a local Ray's leftovers


def check_ray() -> None:
    """`MissingRayError`, naming the extra, unless Ray can be imported (without importing it)."""
    if importlib.util.find_spec("ray") is None:
        raise MissingRayError(f"the Ray backend needs Ray, which is not installed: {RAY_EXTRA}")


def local_cpus() -> int:
    """The CPUs this process may run on (its affinity, where the system tells it): what a local Ray is given."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def ray_initialised() -> bool:
    """Whether Ray is connected in this process (without importing it)."""
    ray = sys.modules.get("ray")
    return ray is not None and ray.is_initialized()


def first_line(exc: BaseException) -> str:
    """An error's first non-blank line (Ray's errors run to many), or its type's name."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


class RayCluster:
    """Ray, connected for one backend: the cluster at `address` (`auto`, `HOST:PORT`), or with None a local Ray
    started here; or the Ray this process already had, which is used and left running."""

    def __init__(self, address: str | None = None) -> None:
        self.address = address
        self.connected_here = False  # whether `connect` called ray.init (and `close` ends the connection)
        self._folder: str | None = None  # a local Ray's own temporary folder
        self._watcher: subprocess.Popen | None = None  # ends what is left of a local Ray when this process ends
        self._unquiet: Callable[[], None] | None = None

    def connect(self):
        """Ray, connected: `BackendError` in one line if it cannot be (`AddressError` for the address)."""
        if self.address is None:
            for key, value in LOCAL_RAY_ENV.items():  # read when Ray is first imported
                os.environ.setdefault(key, value)
        else:
            check_address(self.address)  # ray.init would retry an address that is no Ray cluster for ever
        import ray

        if ray.is_initialized():
            return ray
        # Ray's own log lines (its Python loggers; what its processes publish for the driver) stay off the
        # terminal: tilerunner says what happened in one line. They go to Ray's session logs, as ever.
        logging.getLogger("ray").setLevel(logging.ERROR)
        kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.ERROR, "log_to_driver": False}
        try:
            if self.address is None:
                self._start_local(ray, kwargs)
            else:
                ray.init(address=resolved_address(self.address), **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            if self.address is None:
                raise BackendError(f"cannot start a local Ray: {first_line(exc)}") from None
            raise AddressError(
                "{address} {shown}: cannot join the Ray cluster there: {why}", shown=self.address, why=first_line(exc)
            ) from None
        self.connected_here = True
        self._unquiet = ray_private.quiet_driver_messages(log)
        return ray

    def describe(self, ray) -> str:
        """Where the actors run, for a notice: `a local Ray on 127.0.0.1`, `the Ray cluster at HOST:PORT`."""
        if self.connected_here and self.address is None:
            return f"a local Ray on {ray.util.get_node_ip_address()}"
        return f"the Ray cluster at {ray.get_runtime_context().gcs_address}"

    def close(self) -> None:
        """End the connection `connect` made: a local Ray stops and its leftovers go; a joined cluster goes on."""
        if not self.connected_here:
            return
        import ray

        ray.shutdown()
        self.connected_here = False
        if self._unquiet is not None:
            self._unquiet()
            self._unquiet = None
        self._end_watcher()

    def _start_local(self, ray, kwargs: dict[str, Any]) -> None:
        """Start a Ray for this process alone, in a folder of its own that a watcher process cleans up."""
        self._folder = tempfile.mkdtemp(prefix="tilerunner-ray-", dir="/tmp" if os.path.isdir("/tmp") else None)
        self._watcher = start_watcher(self._folder)
        try:
            ray_private.start_local(ray, self._folder, local_cpus(), **kwargs)
        except BaseException:
            self._end_watcher()
            raise

    def _end_watcher(self) -> None:
        """Let the watcher end what is left of the local Ray and remove its folder; wait for it a while."""
        watcher, folder = self._watcher, self._folder
        self._watcher = self._folder = None
        if watcher is None:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
            return
        watcher.stdin.close()
        try:
            watcher.wait(timeout=WATCHER_WAIT)
        except subprocess.TimeoutExpired:  # it finishes by itself
            pass


def start_watcher(folder: str) -> subprocess.Popen | None:
    """The watcher (`ray_watcher`) of a local Ray in `folder`, told to act by closing its standard input (Linux;
    elsewhere None: Ray's own fate-sharing is all there is).

    In a session of its own, so that a Ctrl-C or hang-up meant for the run does not end it before its work.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        return subprocess.Popen(
            [sys.executable, "-I", ray_watcher.__file__, folder, str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:  # no Python to start: the run goes on without it
        log.warning("cannot start the watcher of the local Ray: %s", exc)
        return None


# Checking an address before Ray is asked to join it ---------------------------------------------------------------


def check_address(address: str) -> None:
    """`AddressError`, in one line naming `address`, unless it is `auto` with a cluster on this machine or a
    `HOST:PORT` that accepts a connection and answers as a Ray cluster does (`gcs_probe`), all within
    `REACH_TIMEOUT`."""
    typed = address.strip()
    target = resolved_address(typed)
    if target == "auto":  # Ray could not be asked where its cluster is: ray.init finds it
        return
    shown = typed if target == typed else f"{typed} ({target})"
    host, sep, port = target.removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise AddressError("{address} {shown!r}: expected auto or HOST:PORT, such as 10.0.0.5:6379", shown=shown)
    deadline = time.monotonic() + REACH_TIMEOUT
    with _connect(host, int(port), shown) as sock:
        if os.environ.get("RAY_USE_TLS", "0").lower() in ("1", "true"):
            return  # the cluster speaks TLS first; Ray checks it
        try:
            ray = _answers_as_ray(sock, f"{host}:{port}", client=target.startswith("ray://"), deadline=deadline)
        except TimeoutError:
            raise AddressError(
                "{address} {shown}: no answer within {seconds:.0f} s: is it the address `ray start --head` printed?",
                shown=shown,
                seconds=REACH_TIMEOUT,
            ) from None
        except OSError as exc:
            ray = False
            log.info("address %s: %s", shown, exc)
    if not ray:
        raise AddressError(
            "{address} {shown}: something answers there, but not a Ray cluster: is it the address"
            " `ray start --head` printed (port 6379 unless it was told otherwise)?",
            shown=shown,
        )


def resolved_address(address: str) -> str:
    """`auto` as Ray resolves it (the cluster `ray start` made on this machine); any other address unchanged."""
    if address.strip() != "auto":
        return address
    found = ray_private.auto_address()
    if found is None:
        raise AddressError("{address} auto: no Ray cluster is running on this machine (`ray start --head` starts one)")
    return found


def _connect(host: str, port: int, shown: str) -> socket.socket:
    """A socket connected to `host:port` within `REACH_TIMEOUT`, or `AddressError` in one line naming `address`."""
    try:
        return socket.create_connection((host.strip("[]"), port), timeout=REACH_TIMEOUT)
    except UnicodeError:  # a label longer than 63 characters, or an empty one
        raise AddressError("{address} {shown!r}: {host!r} is not a valid host name", shown=shown, host=host) from None
    except OSError as exc:
        raise AddressError(
            "{address} {shown}: cannot reach a Ray cluster there: {why} (is `ray start --head` running there?)",
            shown=shown,
            why=exc.strerror or exc,
        ) from None
    except ValueError as exc:  # a NUL character, say
        raise AddressError("{address} {shown!r}: {why}", shown=shown, why=first_line(exc)) from None


def _answers_as_ray(sock: socket.socket, authority: str, client: bool, deadline: float) -> bool:
    """Whether the server answers as Ray's GCS does (`gcs_probe`): a message, or a call refused for its token (Ray
    then says what is wrong with the token). A `ray://` address, Ray's client server: answering HTTP/2 is all."""
    from tilerunner.evolve.core.gcs_probe import OK, UNAUTHENTICATED, answers_http2, gcs_status

    if not answers_http2(sock, deadline):
        return False
    return client or gcs_status(sock, authority, _ray_token(), deadline) in (OK, UNAUTHENTICATED)


def _ray_token() -> str | None:
    """The token Ray would send the cluster: `RAY_AUTH_TOKEN`, else the file `RAY_AUTH_TOKEN_PATH` names, else
    ~/.ray/auth_token; None with `RAY_AUTH_MODE=disabled` or where there is none (or it is no printable text)."""
    if os.environ.get("RAY_AUTH_MODE", "").strip().lower() == "disabled":
        return None
    token = os.environ.get("RAY_AUTH_TOKEN", "").strip()
    if not token:
        path = os.environ.get("RAY_AUTH_TOKEN_PATH") or os.path.join(os.path.expanduser("~"), ".ray", "auth_token")
        try:
            if os.path.isfile(path):  # a regular file: a FIFO or device is not waited on or read for ever
                with open(path, "rb") as file:
                    token = file.read(4096).decode("ascii", "replace").strip()
        except OSError:
            return None
    return token if token and token.isprintable() and token.isascii() else None
