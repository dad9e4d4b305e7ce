"""Tile and enemy ids, and the table that maps Mario AI Framework characters onto them.

The level format is the Mario AI Framework's ASCII format, so public levels load
unchanged. This engine models fewer things than Super Mario Bros (one player size,
no power-ups, no projectiles), so several characters map to the nearest thing it
does model. `CHAR_TABLE` is that mapping, and the levels guide's tile table is generated
from the same rows, so the documentation cannot drift from the code.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# Tile ids stored in a level's int8 grid. Order matters only for the lookup tables below.
EMPTY = 0
GROUND = 1
BLOCK = 2
BRICK = 3
QUESTION = 4  # gives one coin when bumped from below, then becomes USED
BRICK_COIN = 5  # looks like a brick, gives one coin when bumped, then becomes USED
USED = 6
HIDDEN = 7  # invisible and not solid until bumped from below; then USED, one coin
PLATFORM = 8  # jump-through: solid only when landing on it from above
PLATFORM_BG = 9  # the supports drawn under a platform; not solid
COIN = 10  # collected on touch
PIPE = 11
CANNON = 12
EXIT = 13  # the exit marker; not solid
N_TILES = 14

TILE_NAMES = (
    "empty",
    "ground",
    "block",
    "brick",
    "question block",
    "brick with coin",
    "used block",
    "hidden block",
    "jump-through platform",
    "platform support",
    "coin",
    "pipe",
    "cannon",
    "exit",
)

# Solid from every side (walls, floors, ceilings).
SOLID = np.zeros(N_TILES, dtype=np.bool_)
SOLID[[GROUND, BLOCK, BRICK, QUESTION, BRICK_COIN, USED, PIPE, CANNON]] = True
# Something the player can stand on (solid tiles plus jump-through platforms); the
# observation shows these as 1, as MarI/O showed every non-empty tile.
FLOOR = SOLID.copy()
FLOOR[PLATFORM] = True
# Gives a coin when the player's head bumps it (then turns into USED).
COIN_BLOCK = np.zeros(N_TILES, dtype=np.bool_)
COIN_BLOCK[[QUESTION, BRICK_COIN, HIDDEN]] = True

# Enemy kinds.
WALKER = 0  # walks, turns at walls, walks off ledges
LEDGE_TURNER = 1  # walks, turns at walls and at ledges
SPIKY = 2  # like a walker, but stomping it hurts the player


class CharInfo(NamedTuple):
    """What one level-file character becomes in this engine."""

    tile: int  # tile id placed in the grid (EMPTY under enemies and the start)
    enemy: int  # enemy kind, or -1 for none
    winged: bool  # winged enemies hop
    meaning: str  # what the character means in the Mario AI Framework
    becomes: str  # what this engine makes of it


CHAR_TABLE: dict[str, CharInfo] = {
    "-": CharInfo(EMPTY, -1, False, "empty", "empty"),
    "M": CharInfo(EMPTY, -1, False, "player start", "player start"),
    "F": CharInfo(EXIT, -1, False, "level exit", "exit: reaching its column finishes the level"),
    "X": CharInfo(GROUND, -1, False, "ground", "ground"),
    "#": CharInfo(BLOCK, -1, False, "pyramid/stair block", "block"),
    "%": CharInfo(PLATFORM, -1, False, "jump-through platform", "jump-through platform"),
    "|": CharInfo(PLATFORM_BG, -1, False, "platform background", "platform support (not solid)"),
    "*": CharInfo(CANNON, -1, False, "bullet bill cannon", "cannon block (no bullets)"),
    "B": CharInfo(CANNON, -1, False, "bullet bill head", "cannon block (no bullets)"),
    "b": CharInfo(CANNON, -1, False, "bullet bill neck", "cannon block (no bullets)"),
    "?": CharInfo(QUESTION, -1, False, "question block, mushroom", "question block, one coin"),
    "@": CharInfo(QUESTION, -1, False, "question block, mushroom", "question block, one coin"),
    "Q": CharInfo(QUESTION, -1, False, "question block, coin", "question block, one coin"),
    "!": CharInfo(QUESTION, -1, False, "question block, coin", "question block, one coin"),
    "1": CharInfo(HIDDEN, -1, False, "hidden block, 1-up", "hidden block, one coin"),
    "2": CharInfo(HIDDEN, -1, False, "hidden block, coin", "hidden block, one coin"),
    "D": CharInfo(USED, -1, False, "used block", "used block"),
    "S": CharInfo(BRICK, -1, False, "brick", "brick (not breakable: one player size)"),
    "C": CharInfo(BRICK_COIN, -1, False, "brick with coin", "brick with one coin"),
    "U": CharInfo(BRICK_COIN, -1, False, "brick with mushroom", "brick with one coin"),
    "L": CharInfo(BRICK_COIN, -1, False, "brick with 1-up", "brick with one coin"),
    "o": CharInfo(COIN, -1, False, "coin", "coin"),
    "t": CharInfo(PIPE, -1, False, "pipe", "pipe"),
    "T": CharInfo(PIPE, -1, False, "pipe with piranha plant", "pipe (no piranha plant)"),
    "<": CharInfo(PIPE, -1, False, "pipe top left", "pipe"),
    ">": CharInfo(PIPE, -1, False, "pipe top right", "pipe"),
    "[": CharInfo(PIPE, -1, False, "pipe body left", "pipe"),
    "]": CharInfo(PIPE, -1, False, "pipe body right", "pipe"),
    "g": CharInfo(EMPTY, WALKER, False, "goomba", "walker"),
    "E": CharInfo(EMPTY, WALKER, False, "goomba", "walker"),
    "G": CharInfo(EMPTY, WALKER, True, "winged goomba", "winged walker (hops)"),
    "k": CharInfo(EMPTY, WALKER, False, "green koopa", "walker (no shells)"),
    "K": CharInfo(EMPTY, WALKER, True, "winged green koopa", "winged walker (hops)"),
    "r": CharInfo(EMPTY, LEDGE_TURNER, False, "red koopa", "ledge-turning walker"),
    "R": CharInfo(
        EMPTY,
        LEDGE_TURNER,
        True,
        "winged red koopa",
        "winged walker (hops); a stomp clips its wings and it then turns at ledges",
    ),
    "y": CharInfo(EMPTY, SPIKY, False, "spiny", "spiky walker (cannot be stomped)"),
    "Y": CharInfo(EMPTY, SPIKY, True, "winged spiny", "winged spiky walker (hops)"),
}


def char_table_markdown() -> str:
    """The character table as a Markdown table, for the levels guide and `tilerunner levels chars`."""
    rows = ["| char | Mario AI Framework | tilerunner |", "|---|---|---|"]
    for ch, info in CHAR_TABLE.items():
        shown = "\\|" if ch == "|" else ch
        rows.append(f"| `{shown}` | {info.meaning} | {info.becomes} |")
    return "\n".join(rows)
