"""The CUDA backend: a generation's rollouts as one kernel on an NVIDIA GPU (`--backend cuda`).

The run's level set goes to the device once (`set_levels`); each generation sends only its packed
networks (and the indices of the levels it plays, or a small pack of fresh generated levels), runs
`cuda_rollout.rollout_kernel` over every (network, level) pair, and reads the result rows back. The
per-thread scratch the kernel plays in is allocated once and grown only when a generation needs more
(larger networks, larger levels). Every episode is the CPU's `play_episode` compiled for the device,
with the same integer physics and the same float rounding, so the results, and a run's stats.jsonl,
are identical to local threads; a run started on one resumes on the other.

`numba.cuda` is imported only here, and only when the backend is made: `check_cuda` says in one line
what is missing (the `cuda` extra, a GPU, a driver). With `NUMBA_ENABLE_CUDASIM=1` the backend runs on
Numba's CUDA simulator instead (slow: for tests at tiny sizes).
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from tilerunner.envs.foresight import sight_sizes
from tilerunner.evolve.core.backend import BackendTiming, Progress
from tilerunner.evolve.core.plural import plural

if TYPE_CHECKING:
    from tilerunner.agent.kernels import NetArrays
    from tilerunner.evolve.core.rollout import KernelSettings, LevelPack

CUDA_EXTRA = "pip install 'tilerunner[cuda]'"
SIMULATOR_THREADS = 32  # the simulator runs each GPU thread as a Python thread: few of them
THREADS_PER_SM = 1024  # the default thread count on a GPU: this many per multiprocessor


class MissingCudaError(RuntimeError):
    """The CUDA backend asked for where it cannot run: no numba-cuda, no GPU or no driver; the message says which."""


def simulated() -> bool:
    """Whether Numba's CUDA simulator stands in for a GPU (`NUMBA_ENABLE_CUDASIM=1`, as Numba itself read it)."""
    import numba

    return bool(numba.config.ENABLE_CUDASIM)


def check_cuda() -> None:
    """`MissingCudaError` in one line unless a GPU can run the kernel (or the simulator is on)."""
    if simulated():
        return
    if importlib.util.find_spec("numba_cuda") is None:
        raise MissingCudaError(f"the CUDA backend needs numba-cuda and the CUDA toolkit wheels: {CUDA_EXTRA}")
    try:
        from numba import cuda

        available = cuda.is_available()
    except Exception as exc:  # a numba-cuda that cannot load (a NumPy it does not support, a broken toolkit)
        raise MissingCudaError(
            f"numba-cuda cannot load: {str(exc).strip().splitlines()[0]} (reinstall with {CUDA_EXTRA})"
        ) from None
    if not available:
        raise MissingCudaError(
            "no CUDA GPU can be used here (no NVIDIA GPU, or no driver for it): the local and Ray backends need none"
        )


def _max_step(offsets: np.ndarray) -> int:
    return int(np.diff(offsets).max()) if offsets.size > 1 else 0


class DeviceScratch:
    """Each GPU thread's own buffers for the world, the network's state and its inputs and outputs.

    Sized for `threads` threads and the largest network and level seen so far; `fit` grows it (and
    only then allocates) when a generation needs more.
    """

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.sizes: dict[str, int] = {}
        self.arrays: dict[str, Any] = {}
        self.bytes = 0

    def fit(self, need: dict[str, int]) -> bool:
        """Make the buffers at least `need` large (tiles, enemies, slots, nodes, inputs, outputs, scratch, and
        foresight's sight_tiles and sight_ints);
        whether anything was allocated."""
        from numba import cuda

        from tilerunner.envs import physics as P

        if all(self.sizes.get(k, -1) >= v for k, v in need.items()):
            return False
        self.sizes = {k: max(v, self.sizes.get(k, 0), 1) for k, v in need.items()}
        n, z = self.threads, self.sizes
        shapes = {
            "tiles": ((n, z["tiles"]), np.int8),
            "state": ((n, P.STATE_SIZE), np.int64),
            "enemies": ((n, z["enemies"], P.ENEMY_FIELDS), np.int64),
            "values": ((n, 2, z["slots"]), np.float64),
            "cells": ((n, z["nodes"]), np.float64),
            "active": ((n, 1), np.int64),
            "obs": ((n, 1, z["inputs"]), np.float64),
            "out": ((n, 1, z["outputs"]), np.float64),
            "agg": ((n, z["scratch"]), np.float64),
            "sight_tiles": ((n, z["sight_tiles"]), np.int8),
            "sight_ints": ((n, z["sight_ints"]), np.int64),
        }
        self.arrays = {}  # the old buffers go before the new ones are made
        self.arrays = {name: cuda.device_array(shape, dtype) for name, (shape, dtype) in shapes.items()}
        self.bytes = sum(int(np.prod(shape)) * np.dtype(dtype).itemsize for shape, dtype in shapes.values())
        return True


class CudaBackend:
    """A generation's rollouts as one CUDA kernel (`tilerunner evolve --backend cuda`).

    `threads`: GPU threads the kernel runs (each plays its share of the (network, level) pairs in
    turn, in buffers of its own); default 1,024 per multiprocessor (32 on the simulator).
    """

    name = "cuda"

    def __init__(self, threads: int | None = None, notify: Callable[[str], None] | None = None) -> None:
        check_cuda()
        from numba import cuda

        from tilerunner.evolve.core import cuda_rollout

        self._cuda = cuda
        self._kernel = cuda_rollout
        if threads is None:
            threads = (
                SIMULATOR_THREADS if simulated() else cuda.get_current_device().MULTIPROCESSOR_COUNT * THREADS_PER_SM
            )
        self.threads = max(1, int(threads))
        self.notify = notify
        self.compile_seconds = 0.0  # the first launch's compile (and load), kept apart from kernel time
        self._compiled = False
        self._announced = False
        self._levels: LevelPack | None = None
        self._resident: tuple | None = None
        self._scratch = DeviceScratch(self.threads)
        self._empty = (cuda.device_array(0, np.int64), cuda.device_array((0, 2), np.int64))  # nothing recorded

    @property
    def device(self) -> str:
        """The GPU's name (or the simulator's)."""
        if simulated():
            return "Numba CUDA simulator"
        name = self._cuda.get_current_device().name
        return name.decode() if isinstance(name, bytes) else str(name)

    @property
    def scratch_bytes(self) -> int:
        """The device memory the threads' scratch holds now."""
        return self._scratch.bytes

    def set_levels(self, levels: LevelPack | None) -> None:
        self._levels = levels
        self._resident = None if levels is None else self._to_device(levels)

    def _to_device(self, levels: LevelPack) -> tuple:
        return tuple(self._cuda.to_device(np.ascontiguousarray(a)) for a in levels)

    def play_networks(
        self,
        nets: list[NetArrays],
        settings: KernelSettings,
        indices: np.ndarray | None = None,
        levels: LevelPack | None = None,
        progress: Progress | None = None,
        chunks: int = 1,
    ) -> tuple[np.ndarray, BackendTiming]:
        from tilerunner.agent import pack
        from tilerunner.evolve.core.outcome import FIELDS

        timing = BackendTiming()
        t0 = time.perf_counter()
        packed = pack(nets)
        timing.pack_seconds = time.perf_counter() - t0

        t0 = time.perf_counter()
        if levels is not None:
            host, device = levels, self._to_device(levels)
            chosen = np.arange(levels.rows.size, dtype=np.int64)
            timing.shipped_bytes += sum(np.asarray(a).nbytes for a in levels)
        else:
            if self._levels is None or self._resident is None:
                raise ValueError("no level set: call set_levels first, or pass the levels to play")
            host, device = self._levels, self._resident
            chosen = (
                np.arange(host.rows.size, dtype=np.int64)
                if indices is None
                else np.ascontiguousarray(indices, dtype=np.int64)
            )
        arrays = [np.ascontiguousarray(a) for a in packed[2:15]]
        net_dev = [self._cuda.to_device(a) for a in arrays]
        chosen_dev = self._cuda.to_device(chosen)
        s_int, s_float = self._kernel.settings_arrays(settings)
        s_dev = (self._cuda.to_device(s_int), self._cuda.to_device(s_float))
        n_nets = len(nets)
        results = self._cuda.device_array((n_nets, chosen.size, FIELDS), np.float64)
        timing.shipped_bytes += sum(a.nbytes for a in arrays) + chosen.nbytes
        sizes = host.tile_off[1:][chosen] - host.tile_off[:-1][chosen] if chosen.size else np.zeros(1, np.int64)
        crowds = host.enemy_off[1:][chosen] - host.enemy_off[:-1][chosen] if chosen.size else np.zeros(1, np.int64)
        self._scratch.fit(
            {
                "tiles": int(sizes.max()),
                "enemies": int(crowds.max()),
                "slots": _max_step(packed.net_slot_off),
                "nodes": _max_step(packed.net_node_off),
                "inputs": packed.n_inputs,
                "outputs": packed.n_outputs,
                "scratch": int(packed.max_in),
                **dict(zip(("sight_tiles", "sight_ints"), sight_sizes(settings.view_radius))),
            }
        )
        self._cuda.synchronize()
        timing.ship_seconds = time.perf_counter() - t0

        pairs = n_nets * chosen.size
        if pairs:
            threads = min(self.threads, pairs)
            blocks = -(-threads // self._kernel.BLOCK)
            block = min(self._kernel.BLOCK, threads)
            sc = self._scratch.arrays
            args = (
                packed.n_inputs,
                packed.n_outputs,
                packed.max_in,
                *net_dev,
                *device,
                chosen_dev,
                *s_dev,
                sc["tiles"],
                sc["state"],
                sc["enemies"],
                sc["values"],
                sc["cells"],
                sc["active"],
                sc["obs"],
                sc["out"],
                sc["agg"],
                sc["sight_tiles"],
                sc["sight_ints"],
                *self._empty,
                results,
            )
            if not self._compiled:
                t0 = time.perf_counter()
                self._kernel.compile_kernel(args)
                self._compiled = True
                self.compile_seconds = time.perf_counter() - t0
            if not self._announced and self.notify is not None:
                self._announced = True
                n = 0 if self._levels is None else int(self._levels.rows.size)
                resident = f", {plural(n, 'level')} on the device" if n else ""
                self.notify(
                    f"cuda: {self.device}, {plural(self.threads, 'thread', sep=',')}{resident}; kernel ready in"
                    f" {self.compile_seconds:.1f} s"
                )
            t0 = time.perf_counter()
            self._kernel.rollout_kernel[blocks, block](*args)
            self._cuda.synchronize()
            timing.kernel_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        table = results.copy_to_host()
        timing.gather_seconds = time.perf_counter() - t0
        if progress:
            progress(n_nets)
        return table, timing

    def close(self) -> None:
        """Free the device buffers (the levels stay until the backend goes)."""
        self._scratch = DeviceScratch(self.threads)
