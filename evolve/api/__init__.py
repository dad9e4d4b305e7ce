"""tilerunner: MarI/O-style neuroevolution. NEAT evolves recurrent networks that play a tile platformer.

The Python API (the `tilerunner` command is a thin layer over it):

    import tilerunner

    level = tilerunner.parse_level(text, level_id="mine")   # or tilerunner.load_level("1-1")
    result = tilerunner.evolve_agents([level], generations=100, seed=1)
    result.champion_outcomes[0].finished
    result.replay().save("mine.json")

- levels: `load_level`, `parse_level`, `Level`, `BUILTIN_LEVELS`, `LevelError`;
- evolving: `evolve_agents` (a whole run, returns a `RunResult`), `Run` (the same, step by step, kept in
  a run folder if you give one), `RunOptions` (everything a new run can be told; its fields are also
  keyword arguments of both), `Evolution` (the population driver alone), `EpisodeSettings`
  (episode rules and fitness terms), `OutcomeTable` (what a custom fitness function receives),
  `RunReporter` (neat-python's reporter interface plus tilerunner's per-generation summary),
  `load_config`; backends: `LocalBackend` (threads, the default), `RayBackend` (Ray actors, on a
  cluster with `address="auto"`; needs `tilerunner[ray]`), `CudaBackend` (one kernel on an NVIDIA GPU;
  needs `tilerunner[cuda]`), `BackendError`;
- genomes and replays: `evaluate` (a genome's outcomes on levels), `trace` (one episode's outcome and the
  buttons of every frame), `record` (a replay's play as a GIF or PNG frames), `Replay`, `load_replay` (a
  file, or a shipped champion by name), `make_replay`, `verify`, `Outcome`, `NetworkShape` (what shapes a
  network: what `trace` and `evaluate` take beside a bare genome).

Times are in the command line's units: `time_limit` is minutes, as `tilerunner evolve --time-limit`.

Importing this package registers the gymnasium id `tilerunner/TileRunner-v0` (at once where gymnasium is
loaded, else the moment it is). Everything else, gymnasium included, is imported on first use, so `import
tilerunner` stays quick.
"""

from __future__ import annotations

import importlib

from tilerunner.gymnasium_id import register_with_gymnasium

# gymnasium, numpy and the version lookup are imported on first use too: the `tilerunner` command imports this
# package before it can catch a Ctrl-C, so `import tilerunner` imports nothing heavy (`tilerunner.gymnasium_id`).
register_with_gymnasium()

# Public name -> the module that defines it; imported when first asked for.
_LAZY = {
    "BUILTIN_LEVELS": "tilerunner.envs.level",
    "Level": "tilerunner.envs.level",
    "LevelError": "tilerunner.envs.level",
    "load_level": "tilerunner.envs.level",
    "parse_level": "tilerunner.envs.level",
    "Evolution": "tilerunner.evolve.core.evolution",
    "Generation": "tilerunner.evolve.core.evolution",
    "EpisodeSettings": "tilerunner.evolve.core.fitness",
    "Outcome": "tilerunner.evolve.core.outcome",
    "OutcomeTable": "tilerunner.evolve.core.outcome",
    "load_config": "tilerunner.evolve.core.neat_config",
    "ConfigError": "tilerunner.evolve.core.neat_config",
    "LocalBackend": "tilerunner.evolve.core.backend",
    "BackendError": "tilerunner.evolve.core.backend",
    "RayBackend": "tilerunner.evolve.core.ray_backend",
    "CudaBackend": "tilerunner.evolve.core.cuda_backend",
    "Run": "tilerunner.evolve.runs.run",
    "RunResult": "tilerunner.evolve.runs.run",
    "RunOptions": "tilerunner.evolve.runs.run_options",
    "RunReporter": "tilerunner.evolve.runs.reporting",
    "evolve_agents": "tilerunner.evolve.runs.run",
    "evaluate": "tilerunner.evolve.runs.evaluation",
    "trace": "tilerunner.evolve.runs.evaluation",
    "Replay": "tilerunner.evolve.runs.replay",
    "ReplayError": "tilerunner.evolve.runs.replay",
    "load_replay": "tilerunner.evolve.runs.replay",
    "make_replay": "tilerunner.evolve.runs.replay",
    "verify": "tilerunner.evolve.runs.replay",
    "record": "tilerunner.evolve.viewer.recording",
    "NetworkShape": "tilerunner.evolve.runs.replay",
    "TileGenome": "tilerunner.agent",
    "compile": "tilerunner.agent",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name == "__version__":
        from tilerunner.evolve.core.version import package_version

        globals()[name] = package_version()
        return globals()[name]
    if name in ("agent", "envs", "evolve"):  # the subpackages, as attributes, as when envs was imported eagerly
        return importlib.import_module(f"tilerunner.{name}")
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tilerunner' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
