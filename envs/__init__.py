"""The world: level files, the level generator, Numba platformer physics, and the gymnasium env.

Importing `tilerunner` (or `tilerunner.envs`) registers the gymnasium id
`tilerunner/TileRunner-v0`, so `gymnasium.make("tilerunner/TileRunner-v0", level="1-1")` works; every
argument of `TileRunnerEnv` passes through, `jump_rule="press"` or `"hold"` among them.
"""

from gymnasium.envs.registration import register, registry

from tilerunner.envs.level import BUILTIN_LEVELS, Level, LevelError, load_level, parse_level

ENV_ID = "tilerunner/TileRunner-v0"
if ENV_ID not in registry:
    register(id=ENV_ID, entry_point="tilerunner.envs.env:TileRunnerEnv")

__all__ = ["BUILTIN_LEVELS", "ENV_ID", "Level", "LevelError", "TileRunnerEnv", "load_level", "parse_level"]


def __getattr__(name: str):
    # The env pulls in Numba; import it only when asked for, so `tilerunner levels` starts fast.
    if name == "TileRunnerEnv":
        from tilerunner.envs.env import TileRunnerEnv

        return TileRunnerEnv
    raise AttributeError(f"module 'tilerunner.envs' has no attribute {name!r}")
