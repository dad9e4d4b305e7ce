"""Play generations on Ray actors: one per node (or per group of cores), kept for the whole run.

Each actor is a Python process with the Numba kernels loaded and warmed and the run's level set
resident (sent once, through Ray's object store). Each generation the driver packs the
compiled networks into one contiguous chunk per actor, sized by the actor's cores, and ships
only those arrays (a few hundred bytes a network; the whole population, since almost every
genome of a NEAT generation is new); each actor plays its chunk on its own threads and returns
its result rows, which the driver joins in order. The results are the same numbers local
threads give, whatever the number of actors.

If an actor dies mid-generation (its node lost, its process killed), its chunk is played again
on another and the generation's results are unchanged; the run is told in one line
(`notify`). If no actor is left, `evaluate` raises `BackendError`: the run checkpoints and
stops, and `--resume` continues it (on any backend).

Ray is imported only here, and only when this backend is chosen (`tilerunner[ray]`).
Without an address a local Ray starts for the run, on 127.0.0.1 only, and stops with it;
`address="auto"` joins the cluster `ray start` made on this machine, or give `HOST:PORT`.
Every node of a cluster needs the same tilerunner installed (the actors check).
"""

from __future__ import annotations

import importlib.util
import logging
import os
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
    MissingRayError,
    Progress,
    levels_to_play,
)
from tilerunner.evolve.core.rollout import LevelPack, Settings

START_TIMEOUT = 300.0  # seconds for the actors to start (a fresh node compiles the kernels: about a minute)
# A Ray this backend starts itself serves this machine only: every socket on 127.0.0.1 (on Linux,
# Ray otherwise binds the machine's network address), and no usage statistics sent anywhere. Its
# actors work at the priority of the command that started them, as local threads do (Ray's default
# runs workers at nice 15, which on a busy machine made the same kernel up to 20% slower).
LOCAL_RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0",
                 "RAY_worker_niceness": "0"}


def check_ray() -> None:
    """`MissingRayError`, naming the extra, unless Ray can be imported (without importing it)."""
    if importlib.util.find_spec("ray") is None:
        raise MissingRayError(f"the Ray backend needs Ray, which is not installed: {RAY_EXTRA}")


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


class Evaluator:
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
        from tilerunner.evolve.core.rollout import evaluate_population, pack_levels

        config, _ = load_config_and_text(None)
        config.genome_config.innovation_tracker = InnovationTracker()  # this process's own config
        state = random.getstate()  # genome creation draws from `random`; leave it as it was
        genome = config.genome_type(0)
        genome.configure_new(config.genome_config)
        random.setstate(state)
        net = pack([compile_arrays(genome, config.genome_config)])
        evaluate_population(net, pack_levels([load_level("1-1")]), EpisodeSettings(max_frames=60).kernel_settings())

    def ready(self) -> dict:
        """Who this actor is: process, host, threads and the tilerunner version it runs."""
        import socket

        return {"pid": os.getpid(), "host": socket.gethostname(), "threads": self.threads, "version": _version()}

    def set_levels(self, levels: LevelPack | None) -> None:
        self._levels = _writable(levels) if levels is not None else None

    def evaluate(self, nets: NetArrays, settings: Settings, indices: np.ndarray | None,
                 levels: LevelPack | None) -> tuple[np.ndarray, float]:
        """Result rows of every network of the chunk on the levels, and the kernel's seconds."""
        from tilerunner.evolve.core.rollout import evaluate_population

        played = levels_to_play(self._levels, indices, _writable(levels) if levels is not None else None)
        nets = _writable(nets)
        t0 = time.perf_counter()
        results = evaluate_population(nets, played, settings)
        return results, time.perf_counter() - t0


@dataclass
class _Actor:
    handle: Any  # the Ray actor handle
    label: str  # "actor 2 (host, 4 threads)"
    cpus: int


class RayBackend:
    """Generations played on Ray actors; see the module docstring.

    `address`: None starts a local Ray for the run (on 127.0.0.1); `"auto"` joins the cluster
    started on this machine with `ray start`; `"HOST:PORT"` joins that one. `actors`: how many
    (default one per node, each with all of its CPUs); with a number, the cluster's CPUs are
    shared out evenly between that many. `notify` hears one-line messages (the actors started,
    an actor lost). If Ray is already initialised in this process, the backend uses that Ray
    and leaves it running.
    """

    name = "ray"

    def __init__(self, address: str | None = None, actors: int | None = None,
                 notify: Callable[[str], None] | None = None, start_timeout: float = START_TIMEOUT) -> None:
        if actors is not None and actors < 1:
            raise ValueError(f"actors must be at least 1, got {actors}")
        self.address = address
        self.actors_wanted = actors
        self.notify = notify
        self.start_timeout = start_timeout
        self._actors: list[_Actor] = []
        self._levels: LevelPack | None = None
        self._started_ray = False

    def _say(self, message: str) -> None:
        if self.notify is not None:
            self.notify(message)

    @property
    def actors(self) -> list[str]:
        """The living actors, as `notify` names them."""
        return [a.label for a in self._actors]

    def actor_pids(self) -> list[int]:
        """The process id of each living actor (for tests and tools that need to find them)."""
        import ray

        return [ray.get(a.handle.ready.remote())["pid"] for a in self._actors]

    # Starting and stopping ---------------------------------------------------------------------

    def connect(self) -> None:
        """Connect to the cluster (or start the local Ray) without starting actors; `start` does both."""
        self._ray()

    def start(self) -> None:
        """Connect to (or start) Ray and start the actors; nothing if they are running."""
        if self._actors:
            return
        ray = self._ray()
        layout = self._layout(ray)
        remote = ray.remote(max_restarts=0, max_concurrency=1)(Evaluator)
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
            infos = ray.get([h.ready.remote() for h, _ in handles], timeout=self.start_timeout)
            for info in infos:
                if info["version"] != _version():
                    raise BackendError(f"node {info['host']} runs tilerunner {info['version']}, this one"
                                       f" {_version()}: install the same version on every node")
        except (BackendError, ray.exceptions.RayError) as exc:
            for h, _ in handles:  # none of them is any use now
                ray.kill(h)
            if isinstance(exc, BackendError):
                raise
            if isinstance(exc, ray.exceptions.GetTimeoutError):
                raise BackendError(f"Ray could not start {len(handles)} actor{'s' if len(handles) != 1 else ''}"
                                   f" ({', '.join(str(c) for _, c in handles)} CPUs) within"
                                   f" {self.start_timeout:.0f} s: is the cluster busy or too small?"
                                   " (ray status tells)") from None
            raise BackendError(f"a Ray actor failed to start: {_first_line(exc)}") from None
        self._actors = [_Actor(h, f"actor {i} ({info['host']}, {info['threads']} thread"
                                  f"{'s' if info['threads'] != 1 else ''})", cpus)
                        for i, ((h, cpus), info) in enumerate(zip(handles, infos))]
        hosts = len({info["host"] for info in infos})
        if self._started_ray and self.address is None:
            where = f"a local Ray on {ray.util.get_node_ip_address()}"
        else:
            where = f"the Ray cluster at {ray.get_runtime_context().gcs_address}"
        self._say(f"ray: {len(self._actors)} actor{'s' if len(self._actors) != 1 else ''} on {hosts}"
                  f" node{'s' if hosts != 1 else ''} ({sum(a.cpus for a in self._actors)} CPUs), {where}")
        if self._levels is not None:
            self._send_levels()

    def _ray(self):
        """Ray, connected: a local Ray started here, the cluster at `address`, or the one already initialised."""
        if self.address is None:
            for key, value in LOCAL_RAY_ENV.items():  # read when Ray is first imported
                os.environ.setdefault(key, value)
        if self.address not in (None, "auto"):
            _check_reachable(self.address)  # ray.init would retry an unreachable address for many minutes
        import ray

        if ray.is_initialized():
            return ray
        # Ray announces at every start that its cluster token is on, which a tilerunner user cannot act on;
        # that one line is quieted, Ray's other warnings stay.
        logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
        kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING,
                                  "log_to_driver": False}
        try:
            if self.address is None:
                ray.init(**kwargs)
            else:
                ray.init(address=self.address, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise BackendError(f"cannot reach a Ray cluster at {self.address or 'this machine'}:"
                               f" {_first_line(exc)}") from None
        self._started_ray = True
        return ray

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
            raise BackendError(f"{self.actors_wanted} actors asked for, but the Ray cluster has {total} CPUs"
                               " (one actor needs at least one)")
        each = total // self.actors_wanted
        return [(each, None)] * self.actors_wanted

    def close(self) -> None:
        """Stop the actors, and the Ray this backend started (a cluster it joined goes on)."""
        if not self._actors and not self._started_ray:
            return
        import ray

        for actor in self._actors:
            try:
                ray.kill(actor.handle)
            except ray.exceptions.RayError:
                pass
        self._actors = []
        if self._started_ray:
            ray.shutdown()
            self._started_ray = False

    # Levels and generations --------------------------------------------------------------------

    def set_levels(self, levels: LevelPack | None) -> None:
        self._levels = levels
        if self._actors:
            self._send_levels()

    def _send_levels(self) -> None:
        import ray

        ref = ray.put(self._levels)  # into the object store once; every actor reads it from there
        for actor in list(self._actors):
            try:
                ray.get(actor.handle.set_levels.remote(ref))
            except ray.exceptions.RayActorError as exc:
                self._lost(actor, exc, "")

    def _lost(self, actor: _Actor, exc: BaseException, then: str) -> None:
        self._actors.remove(actor)
        left = len(self._actors)
        self._say(f"ray: {actor.label} died ({_first_line(exc)}){then}; {left} actor{'s' if left != 1 else ''}"
                    " left")
        if not left:
            raise BackendError("every Ray actor is gone (their nodes lost or their processes killed)")

    def evaluate(self, nets: list[NetArrays], settings: Settings, indices: np.ndarray | None = None,
                 levels: LevelPack | None = None, progress: Progress | None = None,
                 chunks: int = 1) -> tuple[np.ndarray, BackendTiming]:
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
        pending: dict[Any, tuple[int, _Actor]] = {}

        def submit(i: int, actor: _Actor) -> None:
            pending[actor.handle.evaluate.remote(refs[i], settings, indices, level_ref)] = (i, actor)

        for i, actor in enumerate(list(self._actors)):
            if packed[i] is not None:
                submit(i, actor)
        timing.ship_seconds = time.perf_counter() - t1
        results: list[np.ndarray | None] = [None] * len(pieces)
        done_genomes = 0
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            i, actor = pending.pop(ready[0])
            try:
                rows, seconds = ray.get(ready[0])
            except ray.exceptions.RayActorError as exc:
                # Another living actor with the least work in hand plays the chunk again.
                busy = {id(a): 0 for a in self._actors if a is not actor}
                for _, other in pending.values():
                    if id(other) in busy:
                        busy[id(other)] += 1
                self._lost(actor, exc, f"; its {pieces[i][1] - pieces[i][0]} genomes are played again")
                substitute = min((a for a in self._actors), key=lambda a: busy.get(id(a), 0))
                submit(i, substitute)
                timing.retried += 1
                continue
            except ray.exceptions.RayTaskError as exc:
                raise BackendError(f"a Ray actor failed: {_first_line(exc)}") from None
            results[i] = rows
            timing.kernel_seconds = max(timing.kernel_seconds, seconds)
            done_genomes += pieces[i][1] - pieces[i][0]
            if progress:
                progress(done_genomes)
        out = np.concatenate([r for r in results if r is not None])
        timing.gather_seconds = max(0.0, time.perf_counter() - t1 - timing.ship_seconds - timing.kernel_seconds)
        return out, timing


REACH_TIMEOUT = 10.0  # seconds to open a connection to a cluster's address before giving up


def _check_reachable(address: str) -> None:
    """`BackendError` in one line unless `HOST:PORT` (a Ray head's address) accepts a connection."""
    import socket

    host, sep, port = address.strip().removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BackendError(f"--address {address!r}: expected auto or HOST:PORT, such as 10.0.0.5:6379")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=REACH_TIMEOUT):
            pass
    except OSError as exc:
        raise BackendError(f"cannot reach a Ray cluster at {address}: {exc.strerror or exc}"
                           " (is `ray start --head` running there?)") from None


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
