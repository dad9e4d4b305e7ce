"""The default episode rules, in one place: the gymnasium env and evolution's `EpisodeSettings` both
read them, so `gym.make("tilerunner/TileRunner-v0")` plays the episode a run plays by default."""

from __future__ import annotations

from tilerunner.envs.observe import DEFAULT_RADIUS

FRAME_SKIP = 5  # frames per decision: MarI/O decided every 5 frames
VIEW_RADIUS = DEFAULT_RADIUS  # cells each side of the player: a 13x13 grid, as MarI/O
MAX_FRAMES = 6000  # 100 s of game time
STALL_FRAMES = 120  # 2 s without getting further right ends the episode (MarI/O's timeout)
JUMP_RULE = "hold"  # `tilerunner.envs.physics.JUMP_RULES`; the project's first rule
