"""Where a generation is played: local threads (the default) or Ray actors, with the same results.

A backend takes the generation's compiled networks and plays each of them on each level,
returning the kernel's result rows, (genomes, levels, FIELDS). Every (network, level) episode
is independent and deterministic, so how the population is split between threads, actors or
machines cannot change a single number: a run's stats.jsonl is the same on every backend, and
a run started on one resumes on another.

The run's level set is handed over once (`set_levels`) and kept where the work happens; each
generation then names the levels it plays as indices into that set, or, for fresh generated
levels, brings a small pack of its own.

    LocalBackend()                          Numba threads in this process (`rollout.use_threads` sets how many)
    RayBackend(address=None, actors=None)   long-lived Ray actors; see `ray_backend` (and `ray_cluster`)
    CudaBackend(threads=None)               one CUDA kernel on an NVIDIA GPU; see `cuda_backend`
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from tilerunner.agent import pack
from tilerunner.agent.kernels import NetArrays
from tilerunner.evolve.core.option_error import OptionError
from tilerunner.evolve.core.rollout import KernelSettings, LevelPack, play_networks, subset_levels

BACKENDS = ("local", "ray", "cuda")
RAY_EXTRA = "pip install 'tilerunner[ray]'"

Progress = Callable[[int], None]
"""Told how many genomes of the generation have been played so far."""


class BackendError(RuntimeError):
    """The backend cannot go on (every Ray actor is gone, the cluster cannot be reached); one line."""


class AddressError(OptionError, BackendError):
    """A Ray cluster `address` that cannot be used (malformed, unreachable, not a Ray cluster), in one line naming
    `address` (`as_flags`: its flag)."""


class EvaluationStopped(Exception):
    """A stop was requested mid-generation (`request_stop`, a run's first Ctrl-C) and the backend gave the
    generation up rather than wait for it; nothing of it is kept, and a resumed run plays it again."""


class MissingRayError(ImportError):
    """The Ray backend asked for without Ray installed; the message names the extra to install."""


@dataclass
class BackendTiming:
    """Where one generation's evaluation time went (seconds), and what crossed the network (bytes)."""

    pack_seconds: float = 0.0  # packing the compiled networks into arrays on the driver
    ship_seconds: float = 0.0  # putting the packed networks where the actors can read them
    kernel_seconds: float = 0.0  # the rollout kernel (on Ray: the slowest actor's)
    gather_seconds: float = 0.0  # waiting for results beyond the slowest kernel, and reading them
    shipped_bytes: int = 0  # networks (and fresh levels) sent to actors this generation
    retried: int = 0  # chunks played again because their actor died


class Backend(Protocol):
    """What `Evolution` needs from a backend."""

    name: str
    notify: Callable[[str], None] | None  # hears one-line notices (None: `Evolution` routes them to reporters)

    def set_levels(self, levels: LevelPack | None) -> None:
        """The run's level set (None: the run plays only fresh levels), kept where the work happens."""

    def play_networks(
        self,
        nets: list[NetArrays],
        settings: KernelSettings,
        indices: np.ndarray | None = None,
        levels: LevelPack | None = None,
        progress: Progress | None = None,
        chunks: int = 1,
    ) -> tuple[np.ndarray, BackendTiming]:
        """Play every network on the levels `indices` of the set (all if None), or on `levels` if given;
        results (networks, levels, FIELDS). `chunks` > 1 reports `progress` that many times."""

    def close(self) -> None:
        """Release what the backend holds (threads stay; a Ray it started stops)."""

    # Optional: `request_stop()`, which makes a running `play_networks` give its generation up soon
    # (`EvaluationStopped`); a run calls it, where a backend has it, when a stop is requested.


def levels_to_play(resident: LevelPack | None, indices: np.ndarray | None, levels: LevelPack | None) -> LevelPack:
    """The pack a generation plays: its own `levels`, or `indices` of the resident set (all if None)."""
    if levels is not None:
        return levels
    if resident is None:
        raise ValueError("no level set: call set_levels first, or pass the levels to play")
    return resident if indices is None else subset_levels(resident, indices)


class LocalBackend:
    """Numba threads in this process: one parallel kernel call per chunk of the population."""

    name = "local"

    def __init__(self) -> None:
        self._levels: LevelPack | None = None
        self.notify: Callable[[str], None] | None = None  # nothing to say: threads do not die

    def set_levels(self, levels: LevelPack | None) -> None:
        self._levels = levels

    def play_networks(
        self,
        nets: list[NetArrays],
        settings: KernelSettings,
        indices: np.ndarray | None = None,
        levels: LevelPack | None = None,
        progress: Progress | None = None,
        chunks: int = 1,
    ) -> tuple[np.ndarray, BackendTiming]:
        played = levels_to_play(self._levels, indices, levels)
        timing = BackendTiming()
        bounds = np.linspace(0, len(nets), max(1, min(chunks, len(nets))) + 1).astype(int)
        parts = []
        for a, b in zip(bounds[:-1], bounds[1:]):
            t0 = time.perf_counter()
            packed = pack(nets[a:b])
            t1 = time.perf_counter()
            parts.append(play_networks(packed, played, settings))
            timing.pack_seconds += t1 - t0
            timing.kernel_seconds += time.perf_counter() - t1
            if progress:
                progress(int(b))
        return np.concatenate(parts), timing

    def close(self) -> None:
        pass


def as_backend(backend: Backend | str | None) -> Backend:
    """A backend from a name (`local`, `ray`: a local Ray), an instance, or None (local threads)."""
    if backend is None:
        return LocalBackend()
    if isinstance(backend, str):
        return make_backend(backend)
    return backend


def make_backend(
    name: str = "local",
    address: str | None = None,
    actors: int | None = None,
    notify: Callable[[str], None] | None = None,
) -> Backend:
    """A backend by name: `local`, `ray` (with a cluster `address`, `auto`, or None for a local Ray) or `cuda`.

    Raises `MissingRayError` (naming the extra) if Ray is asked for and not installed, `MissingCudaError`
    (saying what is missing) if the GPU cannot be used, `ValueError` for an unknown name, `OptionError` for
    options the backend does not take.
    """
    if name in ("local", "cuda") and (address is not None or actors is not None):
        raise OptionError("{address} and {actors} are for the Ray backend: add {backend} ray")
    if name == "local":
        return LocalBackend()
    if name == "ray":
        from tilerunner.evolve.core.ray_backend import RayBackend
        from tilerunner.evolve.core.ray_cluster import check_ray

        check_ray()
        return RayBackend(address=address, actors=actors, notify=notify)
    if name == "cuda":
        from tilerunner.evolve.core.cuda_backend import CudaBackend

        return CudaBackend(notify=notify)
    raise ValueError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")
