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
resuming it continues it (on any backend).

Every wait on Ray is a short slice (`WAIT_SLICE`), so Ctrl-C is never held up: a KeyboardInterrupt
goes through at once, and `request_stop` (what a run's first Ctrl-C calls) makes `play_networks` give the
generation up (`EvaluationStopped`), to be played again on resume.

Ray is imported only when this backend is chosen (`tilerunner[ray]`). Which Ray it plays on (a local
one started for the run, a cluster at an address, checked first) and how that Ray ends is
`tilerunner.evolve.core.ray_cluster`'s job. Every node of a cluster needs the same tilerunner installed
(the actors check).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tilerunner.agent import pack
from tilerunner.agent.kernels import NetArrays
from tilerunner.evolve.core.backend import BackendError, BackendTiming, EvaluationStopped, Progress, levels_to_play
from tilerunner.evolve.core.plural import plural
from tilerunner.evolve.core.ray_cluster import RayCluster, first_line, local_cpus, ray_initialised
from tilerunner.evolve.core.rollout import KernelSettings, LevelPack
from tilerunner.evolve.core.version import package_version

START_TIMEOUT = 300.0  # seconds for the actors to start (a fresh node compiles the kernels: about a minute)
WAIT_SLICE = 0.2  # seconds: the longest any one wait on Ray blocks, so that Ctrl-C and stop requests go through
# An actor whose chunk is not back after max(stall_after, STALL_FACTOR x the slowest seconds per episode measured so
# far x the chunk's episodes) is taken for stopped or stuck. Episodes grow longer as a run learns, so the factor is
# generous; before any chunk has come back (a run's first generation) the bound is STALL_UNMEASURED.
STALL_FLOOR = 30.0
STALL_FACTOR = 20.0
STALL_UNMEASURED = 600.0


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

        return {"pid": os.getpid(), "host": socket.gethostname(), "threads": self.threads, "version": package_version()}

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
        self._cluster = RayCluster(address)
        self._stop_requested = False
        self._per_episode: float | None = None  # the slowest seconds per (genome, level) a chunk has taken

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
        if self.address is None and not ray_initialised():
            cpus = local_cpus()
            if self.actors_wanted is not None and self.actors_wanted > cpus:
                raise BackendError(
                    f"{plural(self.actors_wanted, 'actor')} wanted, but this machine has {plural(cpus, 'CPU')}"
                    " (each actor needs at least one)"
                )
            return
        self._layout(self._cluster.connect())

    def connect(self) -> None:
        """Connect to the cluster (or start the local Ray) without starting actors; `start` does both."""
        self._cluster.connect()

    def start(self) -> None:
        """Connect to (or start) Ray and start the actors; nothing if they are running."""
        if self._actors:
            return
        ray = self._cluster.connect()
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
                if info["version"] != package_version():
                    raise BackendError(
                        f"node {info['host']} runs tilerunner {info['version']}, this one"
                        f" {package_version()}: install the same version on every node"
                    )
        except BaseException as exc:  # a failure, a stop or Ctrl-C: none of them is any use now
            for h, _ in handles:
                _kill(ray, h)
            if isinstance(exc, ray.exceptions.RayError):
                raise BackendError(f"a Ray actor failed to start: {first_line(exc)}") from None
            raise
        self._actors = [
            _Actor(h, f"actor {i} ({info['host']}, {plural(info['threads'], 'thread')})", cpus, info["pid"])
            for i, ((h, cpus), info) in enumerate(zip(handles, infos))
        ]
        hosts = len({info["host"] for info in infos})
        where = self._cluster.describe(ray)
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
        if self._actors:
            import ray

            for actor in self._actors:
                _kill(ray, actor.handle)
            self._actors = []
        self._cluster.close()

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
                    self._lost(actor, f"died ({first_line(exc)})", "")
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
                give_up(actor, f"died ({first_line(exc)})")
                continue
            except ray.exceptions.RayError as exc:
                raise BackendError(f"a Ray actor failed: {first_line(exc)}") from None
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


def _lost_errors(ray) -> tuple[type[BaseException], ...]:
    """Ray's errors that mean an actor (or the node holding its result) is gone, rather than that its code failed."""
    return ray.exceptions.RayActorError, ray.exceptions.ObjectLostError


def _kill(ray, handle: Any) -> None:
    """Kill an actor (Ray's way: on any node); one already gone is no error."""
    try:
        ray.kill(handle)
    except (ray.exceptions.RayError, ValueError):
        pass
