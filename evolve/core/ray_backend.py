"""Play generations on Ray actors: one per node (or per group of cores), kept for the whole run.

Each actor is a Python process with the Numba kernels loaded and warmed and the run's level set
resident (sent once, through Ray's object store). Each generation the driver packs the
compiled networks into one contiguous chunk per actor, sized by the actor's cores, and ships
only those arrays (a few hundred bytes a network; the whole population, since almost every
genome of a NEAT generation is new); each actor plays its chunk on its own threads and returns
its result rows, which the driver joins in order. The results are the same numbers local
threads give, whatever the number of actors.

If an actor dies mid-generation (its node lost, its process killed), or stops answering (its chunk
not back within a bound the run derives from the chunk times it has measured: `stall_after`
seconds at least), its chunk is played again on another and the generation's results are
unchanged; an actor that stopped answering is killed, and the run is told in one line (`notify`).
If no actor is left, `play_networks` raises `BackendError`: the run checkpoints and stops, and
`--resume` continues it (on any backend).

Every wait on Ray is a short slice (`WAIT_SLICE`), so Ctrl-C is never held up: a KeyboardInterrupt
goes through at once, and `request_stop` (what a run's first Ctrl-C calls) makes `play_networks` give the
generation up (`EvaluationStopped`), to be played again on resume.

Ray is imported only here, and only when this backend is chosen (`tilerunner[ray]`).
Without an address a local Ray starts for the run, on 127.0.0.1 only, with the CPUs this process may
use, in a temporary folder of its own, and stops with it; a small watcher process ends whatever of
that Ray is left when the run ends, even when the run itself was killed (SIGKILL), and removes the
folder. `address="auto"` joins the cluster `ray start` made on this machine, or give `HOST:PORT`;
the address must answer, within `REACH_TIMEOUT`, a gRPC call that only a Ray cluster's GCS answers
(`tilerunner.evolve.core.gcs_probe`) before Ray is asked to join it, since Ray retries a wrong address
for a minute and more, deaf to Ctrl-C. Every node of a cluster needs the same tilerunner installed (the
actors check). What Ray's processes print for the driver (a dead raylet's last log lines, its
warnings) goes to the logger `tilerunner.ray`, not the terminal: tilerunner says what happened, in
one line.
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
from dataclasses import dataclass
from typing import Any

import numpy as np

from tilerunner.agent import pack
from tilerunner.agent.kernels import NetArrays
from tilerunner.evolve.core.backend import (
    RAY_EXTRA,
    BackendError,
    BackendTiming,
    EvaluationStopped,
    MissingRayError,
    Progress,
    levels_to_play,
)
from tilerunner.evolve.core.plural import plural
from tilerunner.evolve.core.renamed import renamed_method
from tilerunner.evolve.core.rollout import KernelSettings, LevelPack

log = logging.getLogger("tilerunner.ray")

START_TIMEOUT = 300.0  # seconds for the actors to start (a fresh node compiles the kernels: about a minute)
WAIT_SLICE = 0.2  # seconds: the longest any one wait on Ray blocks, so that Ctrl-C and stop requests go through
# An actor whose chunk is not back after max(stall_after, STALL_FACTOR x the slowest seconds per episode measured so
# far x the chunk's episodes) is taken for stopped or stuck. Episodes grow longer as a run learns, so the factor is
# generous; before any chunk has come back (a run's first generation) the bound is STALL_UNMEASURED.
STALL_FLOOR = 30.0
STALL_FACTOR = 20.0
STALL_UNMEASURED = 600.0
REACH_TIMEOUT = 10.0  # seconds to open a connection to a cluster's address, and for it to answer
# A Ray this backend starts itself serves this machine only: every socket on 127.0.0.1 (on Linux,
# Ray otherwise binds the machine's network address), and no usage statistics sent anywhere. Its
# actors work at the priority of the command that started them, as local threads do (Ray's default
# runs workers at nice 15, which on a busy machine made the same kernel up to 20% slower).
LOCAL_RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0", "RAY_worker_niceness": "0"}


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


def _ray_initialised() -> bool:
    """Whether Ray is connected in this process (without importing it)."""
    ray = sys.modules.get("ray")
    return ray is not None and ray.is_initialized()


def _version() -> str:
    """The installed tilerunner's version (every node of a cluster must run the same)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tilerunner")
    except PackageNotFoundError:
        return "0+unknown"


def _writable(arrays: Any) -> Any:
    """A NamedTuple of arrays with every array copied: Ray hands over read-only views of its object store,
    and the kernels are compiled (and cached) for ordinary writable arrays."""
    return type(arrays)(*[np.array(a) if isinstance(a, np.ndarray) else a for a in arrays])


def _nbytes(arrays: Any) -> int:
    return sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))


class NetPlayer:
    """The actor: kernels warm, the level set resident, plays chunks of a population on its threads."""

    def __init__(self, threads: int) -> None:
        import numba

        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
        self.threads = numba.get_num_threads()
        self._levels: LevelPack | None = None
        self._warm()

    @staticmethod
    def _warm() -> None:
        """Load (or compile) the rollout kernel now, so that no generation waits for it."""
        import random

        from neat.innovation import InnovationTracker

        from tilerunner.agent import compile_arrays
        from tilerunner.envs.level import load_level
        from tilerunner.evolve.core.fitness import EpisodeSettings
        from tilerunner.evolve.core.neat_config import load_config_and_text
        from tilerunner.evolve.core.rollout import pack_levels, play_networks

        config, _ = load_config_and_text(None)
        config.genome_config.innovation_tracker = InnovationTracker()  # this process's own config
        state = random.getstate()  # genome creation draws from `random`; leave it as it was
        genome = config.genome_type(0)
        genome.configure_new(config.genome_config)
        random.setstate(state)
        net = pack([compile_arrays(genome, config.genome_config)])
        play_networks(net, pack_levels([load_level("1-1")]), EpisodeSettings(max_frames=60).kernel_settings())

    def ready(self) -> dict:
        """Who this actor is: process, host, threads and the tilerunner version it runs."""
        import socket

        return {"pid": os.getpid(), "host": socket.gethostname(), "threads": self.threads, "version": _version()}

    def set_levels(self, levels: LevelPack | None) -> None:
        self._levels = _writable(levels) if levels is not None else None

    def play_networks(
        self, nets: NetArrays, settings: KernelSettings, indices: np.ndarray | None, levels: LevelPack | None
    ) -> tuple[np.ndarray, float]:
        """Result rows of every network of the chunk on the levels, and the kernel's seconds."""
        from tilerunner.evolve.core.rollout import play_networks

        played = levels_to_play(self._levels, indices, _writable(levels) if levels is not None else None)
        nets = _writable(nets)
        t0 = time.perf_counter()
        results = play_networks(nets, played, settings)
        return results, time.perf_counter() - t0


@dataclass(eq=False)  # each actor is itself: compared and hashed by identity
class _Actor:
    handle: Any  # the Ray actor handle
    label: str  # "actor 2 (host, 4 threads)"
    cpus: int
    pid: int


class RayBackend:
    """Generations played on Ray actors; see the module docstring.

    `address`: None starts a local Ray for the run (on 127.0.0.1); `"auto"` joins the cluster
    started on this machine with `ray start`; `"HOST:PORT"` joins that one. `actors`: how many
    (default one per node, each with all of its CPUs); with a number, the cluster's CPUs are
    shared out evenly between that many. `notify` hears one-line messages (the actors started,
    an actor lost). `stall_after`: the fewest seconds a chunk is waited for before its actor is
    taken for stopped (the bound grows with the chunk times measured). If Ray is already
    initialised in this process, the backend uses that Ray and leaves it running.
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        actors: int | None = None,
        notify: Callable[[str], None] | None = None,
        start_timeout: float = START_TIMEOUT,
        stall_after: float = STALL_FLOOR,
    ) -> None:
        if actors is not None and actors < 1:
            raise ValueError(f"actors must be at least 1, got {actors}")
        self.address = address
        self.actors_wanted = actors
        self.notify = notify
        self.start_timeout = start_timeout
        self.stall_after = stall_after
        self._actors: list[_Actor] = []
        self._levels: LevelPack | None = None
        self._started_ray = False
        self._stop_requested = False
        self._per_episode: float | None = None  # the slowest seconds per (genome, level) a chunk has taken
        self._folder: str | None = None  # a local Ray's own temporary folder
        self._watcher: subprocess.Popen | None = None  # ends what is left of a local Ray when this process ends
        self._unquiet: Callable[[], None] | None = None

    def _say(self, message: str) -> None:
        if self.notify is not None:
            self.notify(message)

    @property
    def actors(self) -> list[str]:
        """The living actors, as `notify` names them."""
        return [a.label for a in self._actors]

    def actor_pids(self) -> list[int]:
        """The process id of each living actor (for tests and tools that need to find them)."""
        return [a.pid for a in self._actors]

    def request_stop(self) -> None:
        """Give up the generation being played: `play_networks` raises `EvaluationStopped` within `WAIT_SLICE`.

        A run calls this at its first Ctrl-C; safe from a signal handler or another thread. It holds
        for one `play_networks` (or until `close`).
        """
        self._stop_requested = True

    def _honour_stop(self) -> None:
        if self._stop_requested:
            self._stop_requested = False
            raise EvaluationStopped("a stop was requested: the generation is given up, to be played again")

    # Starting and stopping ---------------------------------------------------------------------

    def check(self) -> None:
        """Refuse, in one line (`BackendError`), what cannot work before a run makes anything: an address
        that is no Ray cluster, more actors than CPUs. A cluster is joined for this; a local Ray is not
        started (it starts with the run, given `local_cpus()`)."""
        if self.address is None and not _ray_initialised():
            cpus = local_cpus()
            if self.actors_wanted is not None and self.actors_wanted > cpus:
                raise BackendError(
                    f"{plural(self.actors_wanted, 'actor')} wanted, but this machine has {plural(cpus, 'CPU')}"
                    " (each actor needs at least one)"
                )
            return
        self._layout(self._ray())

    def connect(self) -> None:
        """Connect to the cluster (or start the local Ray) without starting actors; `start` does both."""
        self._ray()

    def start(self) -> None:
        """Connect to (or start) Ray and start the actors; nothing if they are running."""
        if self._actors:
            return
        ray = self._ray()
        layout = self._layout(ray)
        remote = ray.remote(max_restarts=0, max_concurrency=1)(NetPlayer)
        handles = []
        for cpus, node in layout:
            options: dict[str, Any] = {"num_cpus": cpus}
            if node is not None:
                from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

                options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(node, soft=False)
            elif len(layout) > 1:
                options["scheduling_strategy"] = "SPREAD"
            handles.append((remote.options(**options).remote(cpus), cpus))
        try:
            infos = self._ready(ray, [h.ready.remote() for h, _ in handles], [c for _, c in handles])
            for info in infos:
                if info["version"] != _version():
                    raise BackendError(
                        f"node {info['host']} runs tilerunner {info['version']}, this one"
                        f" {_version()}: install the same version on every node"
                    )
        except BaseException as exc:  # a failure, a stop or Ctrl-C: none of them is any use now
            for h, _ in handles:
                _kill(ray, h)
            if isinstance(exc, ray.exceptions.RayError):
                raise BackendError(f"a Ray actor failed to start: {_first_line(exc)}") from None
            raise
        self._actors = [
            _Actor(h, f"actor {i} ({info['host']}, {plural(info['threads'], 'thread')})", cpus, info["pid"])
            for i, ((h, cpus), info) in enumerate(zip(handles, infos))
        ]
        hosts = len({info["host"] for info in infos})
        if self._started_ray and self.address is None:
            where = f"a local Ray on {ray.util.get_node_ip_address()}"
        else:
            where = f"the Ray cluster at {ray.get_runtime_context().gcs_address}"
        self._say(
            f"ray: {plural(len(self._actors), 'actor')} on {plural(hosts, 'node')}"
            f" ({plural(sum(a.cpus for a in self._actors), 'CPU')}), {where}"
        )
        if self._levels is not None:
            self._send_levels()

    def _ready(self, ray, refs: list, cpus: list[int]) -> list[dict]:
        """What each starting actor says of itself (`NetPlayer.ready`), waited for in slices up to
        `start_timeout`."""
        deadline = time.monotonic() + self.start_timeout
        while True:
            self._honour_stop()
            _, waiting = ray.wait(refs, num_returns=len(refs), timeout=WAIT_SLICE)
            if not waiting:
                return ray.get(refs)
            if time.monotonic() > deadline:
                raise BackendError(
                    f"Ray could not start {plural(len(refs), 'actor')}"
                    f" ({', '.join(str(c) for c in cpus)} CPUs) within {self.start_timeout:.0f} s:"
                    " is the cluster busy or too small? (ray status tells)"
                )

    def _ray(self):
        """Ray, connected: a local Ray started here, the cluster at `address`, or the one already initialised."""
        if self.address is None:
            for key, value in LOCAL_RAY_ENV.items():  # read when Ray is first imported
                os.environ.setdefault(key, value)
        else:
            _check_address(self.address)  # ray.init would retry an address that is no Ray cluster for ever
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
                ray.init(address=_resolved(self.address), **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            if self.address is None:
                raise BackendError(f"cannot start a local Ray: {_first_line(exc)}") from None
            raise BackendError(
                f"--address {self.address}: cannot join the Ray cluster there: {_first_line(exc)}"
            ) from None
        self._started_ray = True
        self._unquiet = _quiet_driver_messages()
        return ray

    def _start_local(self, ray, kwargs: dict[str, Any]) -> None:
        """Start a Ray for this process alone, in a folder of its own that a watcher process cleans up."""
        self._folder = tempfile.mkdtemp(prefix="tilerunner-ray-", dir="/tmp" if os.path.isdir("/tmp") else None)
        self._watcher = _start_watcher(self._folder)
        try:
            # "local": a new Ray even where RAY_ADDRESS names a cluster.
            ray.init(address="local", num_cpus=local_cpus(), _temp_dir=self._folder, **kwargs)
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
            watcher.wait(timeout=30)
        except subprocess.TimeoutExpired:  # it finishes by itself
            pass

    def _layout(self, ray) -> list[tuple[int, str | None]]:
        """(CPUs, node id or None) for each actor to start."""
        nodes = [(n["NodeID"], int(n["Resources"].get("CPU", 0))) for n in ray.nodes() if n.get("Alive")]
        nodes = [(node, cpus) for node, cpus in nodes if cpus > 0]
        total = sum(cpus for _, cpus in nodes)
        if not total:
            raise BackendError("the Ray cluster has no CPUs to run actors on")
        if self.actors_wanted is None:
            return [(cpus, node) for node, cpus in nodes]
        if self.actors_wanted > total:
            raise BackendError(
                f"{plural(self.actors_wanted, 'actor')} wanted, but the Ray cluster has {plural(total, 'CPU')}"
                " (each actor needs at least one)"
            )
        each = total // self.actors_wanted
        return [(each, None)] * self.actors_wanted

    def close(self) -> None:
        """Stop the actors, and the Ray this backend started (a cluster it joined goes on)."""
        self._stop_requested = False
        self._per_episode = None  # the next run measures its own
        if not self._actors and not self._started_ray:
            return
        import ray

        for actor in self._actors:
            _kill(ray, actor.handle)
        self._actors = []
        if self._started_ray:
            ray.shutdown()
            self._started_ray = False
            if self._unquiet is not None:
                self._unquiet()
                self._unquiet = None
            self._end_watcher()

    # Levels and generations --------------------------------------------------------------------

    def set_levels(self, levels: LevelPack | None) -> None:
        self._levels = levels
        if self._actors:
            self._send_levels()

    def _send_levels(self) -> None:
        import ray

        ref = ray.put(self._levels)  # into the object store once; every actor reads it from there
        sent = {actor.handle.set_levels.remote(ref): actor for actor in self._actors}
        bound = max(self.start_timeout, self.stall_after)
        deadline = time.monotonic() + bound
        while sent:
            self._honour_stop()
            ready, _ = ray.wait(list(sent), num_returns=len(sent), timeout=WAIT_SLICE)
            for r in ready:
                actor = sent.pop(r)
                try:
                    ray.get(r)
                except _lost_errors(ray) as exc:
                    self._lost(actor, f"died ({_first_line(exc)})", "")
            if sent and time.monotonic() > deadline:
                for actor in list(sent.values()):
                    _kill(ray, actor.handle)
                    self._lost(actor, f"did not take the level set within {bound:.0f} s, so it was stopped", "")
                return

    def _lost(self, actor: _Actor, why: str, then: str) -> None:
        self._actors.remove(actor)
        left = len(self._actors)
        self._say(f"ray: {actor.label} {why}{then}; {plural(left, 'actor')} left")
        if not left:
            raise BackendError("every Ray actor is gone (their nodes lost, or their processes killed or stopped)")

    def _stall_bound(self, episodes: int) -> float:
        """Seconds a chunk of `episodes` (genomes x levels) is waited for before its actor is taken for stopped."""
        if self._per_episode is None:
            return max(self.stall_after, STALL_UNMEASURED)
        return max(self.stall_after, STALL_FACTOR * self._per_episode * episodes)

    def play_networks(
        self,
        nets: list[NetArrays],
        settings: KernelSettings,
        indices: np.ndarray | None = None,
        levels: LevelPack | None = None,
        progress: Progress | None = None,
        chunks: int = 1,
    ) -> tuple[np.ndarray, BackendTiming]:
        self.start()  # imports Ray (after setting up a local one's environment)
        import ray

        # `chunks` is not needed here: `progress` hears once per actor's chunk, as each comes back.
        timing = BackendTiming()
        t0 = time.perf_counter()
        weights = np.cumsum([0] + [a.cpus for a in self._actors])
        bounds = np.round(weights / weights[-1] * len(nets)).astype(int)
        pieces = [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
        packed = [pack(nets[a:b]) if b > a else None for a, b in pieces]
        t1 = time.perf_counter()
        timing.pack_seconds = t1 - t0
        level_ref = None
        if levels is not None:  # fresh levels: this generation's own, put once for every actor
            level_ref = ray.put(levels)
            timing.shipped_bytes += _nbytes(levels) * len(self._actors)
        refs = [ray.put(p) if p is not None else None for p in packed]
        timing.shipped_bytes += sum(_nbytes(p) for p in packed if p is not None)
        if indices is not None:
            timing.shipped_bytes += indices.nbytes * len(self._actors)
        source = levels if levels is not None else self._levels
        n_levels = len(indices) if indices is not None else len(source.rows) if source is not None else 1
        episodes = [(b - a) * n_levels for a, b in pieces]
        pending: dict[Any, int] = {}  # result ref -> chunk
        queues: dict[_Actor, list[Any]] = {}  # each actor's refs, in the order it plays them
        since: dict[_Actor, float] = {}  # when each actor began the chunk at the head of its queue

        def submit(i: int, actor: _Actor) -> None:
            ref = actor.handle.play_networks.remote(refs[i], settings, indices, level_ref)
            pending[ref] = i
            queue = queues.setdefault(actor, [])
            if not queue:
                since[actor] = time.monotonic()
            queue.append(ref)

        def give_up(actor: _Actor, why: str) -> None:
            """Drop `actor` and play every chunk it holds again on the others (`BackendError` if none is left)."""
            held = [pending.pop(ref) for ref in queues.pop(actor)]
            genomes = sum(pieces[i][1] - pieces[i][0] for i in held)
            self._lost(actor, why, f"; its {plural(genomes, 'genome')} are played again")
            for i in held:  # each to the living actor with the least work in hand
                submit(i, min(self._actors, key=lambda a: len(queues.get(a, ()))))
                timing.retried += 1

        for i, actor in enumerate(list(self._actors)):
            if packed[i] is not None:
                submit(i, actor)
        timing.ship_seconds = time.perf_counter() - t1
        results: list[np.ndarray | None] = [None] * len(pieces)
        done_genomes = 0
        while pending:
            self._honour_stop()
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=WAIT_SLICE)
            now = time.monotonic()
            if not ready:
                for actor, queue in list(queues.items()):
                    waited = now - since[actor]
                    if queue and waited > self._stall_bound(episodes[pending[queue[0]]]):
                        _kill(ray, actor.handle)
                        give_up(
                            actor, f"gave no result in {waited:.0f} s (its process stopped or stuck), so it was stopped"
                        )
                continue
            ref = ready[0]
            i = pending[ref]
            actor = next(a for a, queue in queues.items() if ref in queue)
            try:
                rows, seconds = ray.get(ref)  # ready: no wait
            except _lost_errors(ray) as exc:
                give_up(actor, f"died ({_first_line(exc)})")
                continue
            except ray.exceptions.RayError as exc:
                raise BackendError(f"a Ray actor failed: {_first_line(exc)}") from None
            del pending[ref]
            queues[actor].remove(ref)
            per_episode = (now - since[actor]) / max(1, episodes[i])
            self._per_episode = max(self._per_episode or 0.0, per_episode)
            since[actor] = now
            results[i] = rows
            timing.kernel_seconds = max(timing.kernel_seconds, seconds)
            done_genomes += pieces[i][1] - pieces[i][0]
            if progress:
                progress(done_genomes)
        out = np.concatenate([r for r in results if r is not None])
        timing.gather_seconds = max(0.0, time.perf_counter() - t1 - timing.ship_seconds - timing.kernel_seconds)
        return out, timing

    evaluate = renamed_method("RayBackend", "evaluate", "play_networks")


def _lost_errors(ray) -> tuple[type[BaseException], ...]:
    """Ray's errors that mean an actor (or the node holding its result) is gone, rather than that its code failed."""
    return ray.exceptions.RayActorError, ray.exceptions.ObjectLostError


def _kill(ray, handle: Any) -> None:
    """Kill an actor (Ray's way: on any node); one already gone is no error."""
    try:
        ray.kill(handle)
    except (ray.exceptions.RayError, ValueError):
        pass


# A Ray started here is this process's alone: its raylet and GCS die with it (Ray ties them to it), but the
# agents and workers the raylet starts outlive a killed run by a minute or more (each first tries to tell the
# dead GCS). This watcher, a process of its own, waits for its pipe from the run to close (at `close`, or
# when the run dies, even by SIGKILL), then kills every process that still has a file open in the Ray's own
# folder, or works in it, and removes the folder. Python's standard library only, so that it starts at once.
_WATCHER = r"""
import os, shutil, signal, sys, time
folder, driver = sys.argv[1], int(sys.argv[2])
sys.stdin.buffer.read()

def users():
    found = set()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in (driver, os.getpid()):
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

deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    left = users()
    if not left:
        break
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    time.sleep(0.1)
shutil.rmtree(folder, ignore_errors=True)
"""


def _start_watcher(folder: str) -> subprocess.Popen | None:
    """The watcher of a local Ray in `folder` (Linux; elsewhere None: Ray's own fate-sharing is all there is).

    In a session of its own, so that a Ctrl-C or hang-up meant for the run does not end it before its work.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        return subprocess.Popen(
            [sys.executable, "-I", "-c", _WATCHER, folder, str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:  # no Python to start: the run goes on without it
        log.warning("cannot start the watcher of the local Ray: %s", exc)
        return None


def _quiet_driver_messages() -> Callable[[], None]:
    """Send what Ray's processes publish for the driver (a dead raylet's last 20 log lines, a worker's crash) to the
    logger `tilerunner.ray` rather than the terminal; returns the undo.

    Ray prints these from a thread of its own through one function of its worker module and has no switch for
    it (`log_to_driver` covers workers' output only), so that function is replaced while this Ray is connected.
    """
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


def _check_address(address: str) -> None:
    """`BackendError`, in one line naming `--address`, unless `address` is `auto` with a cluster on this machine
    or a `HOST:PORT` that accepts a connection and answers as a Ray cluster does (`gcs_probe`), all within
    `REACH_TIMEOUT`."""
    typed = address.strip()
    target = _resolved(typed)
    if target == "auto":  # Ray could not be asked where its cluster is: ray.init finds it
        return
    shown = typed if target == typed else f"{typed} ({target})"
    host, sep, port = target.removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BackendError(f"--address {shown!r}: expected auto or HOST:PORT, such as 10.0.0.5:6379")
    deadline = time.monotonic() + REACH_TIMEOUT
    with _connect(host, int(port), shown) as sock:
        if os.environ.get("RAY_USE_TLS", "0").lower() in ("1", "true"):
            return  # the cluster speaks TLS first; Ray checks it
        try:
            ray = _answers_as_ray(sock, f"{host}:{port}", client=target.startswith("ray://"), deadline=deadline)
        except TimeoutError:
            raise BackendError(
                f"--address {shown}: no answer within {REACH_TIMEOUT:.0f} s: is it the address"
                " `ray start --head` printed?"
            ) from None
        except OSError as exc:
            ray = False
            log.info("--address %s: %s", shown, exc)
    if not ray:
        raise BackendError(
            f"--address {shown}: something answers there, but not a Ray cluster: is it the address"
            " `ray start --head` printed (port 6379 unless it was told otherwise)?"
        )


def _connect(host: str, port: int, shown: str) -> socket.socket:
    """A socket connected to `host:port` within `REACH_TIMEOUT`, or `BackendError` in one line naming `--address`."""
    try:
        return socket.create_connection((host.strip("[]"), port), timeout=REACH_TIMEOUT)
    except UnicodeError:  # a label longer than 63 characters, or an empty one
        raise BackendError(f"--address {shown!r}: {host!r} is not a valid host name") from None
    except OSError as exc:
        raise BackendError(
            f"--address {shown}: cannot reach a Ray cluster there: {exc.strerror or exc}"
            " (is `ray start --head` running there?)"
        ) from None
    except ValueError as exc:  # a NUL character, say
        raise BackendError(f"--address {shown!r}: {_first_line(exc)}") from None


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


def _resolved(address: str) -> str:
    """`auto` as Ray resolves it (the cluster `ray start` made on this machine); any other address unchanged."""
    if address.strip() != "auto":
        return address
    try:
        from ray._private import services

        logging.getLogger("ray").setLevel(logging.ERROR)  # its notes on finding clusters stay off the terminal
        found = services.canonicalize_bootstrap_address("auto")
    except ImportError:  # Ray's layout changed: let ray.init find it
        return address
    except ConnectionError:
        found = None
    if not found:
        raise BackendError("--address auto: no Ray cluster is running on this machine (`ray start --head` starts one)")
    return found


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
