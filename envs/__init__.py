"""The world: level files, the level generator, Numba platformer physics, and the gymnasium env.

Importing `envs` registers `TileRunner-v0` with gymnasium, so after installing,
`gymnasium.make("envs:TileRunner-v0", level="1-1")` works.
"""

from gymnasium.envs.registration import register

from envs.level import BUILTIN_LEVELS, Level, LevelError, load_level, parse_level

register(id="TileRunner-v0", entry_point="envs.env:TileRunnerEnv")

__all__ = ["BUILTIN_LEVELS", "Level", "LevelError", "TileRunnerEnv", "load_level", "parse_level"]


def __getattr__(name: str):
    # The env pulls in Numba; import it only when asked for, so `tilerunner levels` starts fast.
    if name == "TileRunnerEnv":
        from envs.env import TileRunnerEnv

        return TileRunnerEnv
    raise AttributeError(f"module 'envs' has no attribute {name!r}")
