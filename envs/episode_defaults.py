"""The default episode rules and their ranges, in one place: the gymnasium env, evolution's `EpisodeSettings`
(and so replays, args.json and checkpoints) and the `tilerunner` flags all read them, so
`gym.make("tilerunner/TileRunner-v0")` plays the episode a run plays by default, and no door lets in a
value another refuses."""

from __future__ import annotations

from tilerunner.envs.arguments import whole_number
from tilerunner.envs.observe import DEFAULT_RADIUS

FRAME_SKIP = 5  # frames per decision: MarI/O decided every 5 frames
VIEW_RADIUS = DEFAULT_RADIUS  # cells each side of the player: a 13x13 grid, as MarI/O
MAX_FRAMES = 6000  # 100 s of game time
STALL_FRAMES = 120  # 2 s without getting further right ends the episode (MarI/O's timeout)
JUMP_RULE = "hold"  # `tilerunner.envs.physics.JUMP_RULES`; the project's first rule

# The range of each whole-number rule: (lowest, highest), both allowed.
LIMITS: dict[str, tuple[int, int]] = {
    "frame_skip": (1, 600),  # 600: one decision per 10 s of game
    "view_radius": (0, 20),  # a 41x41 grid at most
    "max_frames": (0, 1_000_000),  # 0 turns the limit off; 1,000,000 is 4.6 hours of game time
    "stall_frames": (0, 1_000_000),  # 0 turns the limit off
}


def check_rule(name: str, value: object) -> int:
    """`value` as an int if the rule `name` allows it (`LIMITS`); else a TypeError or ValueError naming it."""
    return whole_number(name, value, *LIMITS[name])
