"""The art of the world, painted with numpy and no sprite files: tile pictures, creature sprites, the palette.

Tiles are 16x16 patches and creatures are small sprites, all built once on first use from
rectangles, ellipses and triangles, in a Super Mario Bros-like palette. `tile_patches` are indexed by
display id: a tile's id, or a variant `display_ids` picks from its neighbours (pipe lips and halves,
cannon barrels, the flagpole). `creature_sprites` are the player's and the enemies' pictures with
their masks. `tilerunner.envs.render` puts them together into frames; nothing here needs pygame.
"""

from __future__ import annotations

import numpy as np

from tilerunner.envs import tiles as T

# Palette.
SKY = (92, 148, 252)
BLACK = (0, 0, 0)
WHITE = (252, 252, 252)
OUTLINE = (24, 16, 8)

# Display ids: the tile ids, then variants that depend on a tile's neighbours.
PIPE_TOP_L, PIPE_TOP_R, PIPE_TOP_1 = T.N_TILES, T.N_TILES + 1, T.N_TILES + 2
PIPE_BODY_L, PIPE_BODY_R, PIPE_BODY_1 = T.N_TILES + 3, T.N_TILES + 4, T.N_TILES + 5
CANNON_TOP, CANNON_BASE = T.N_TILES + 6, T.N_TILES + 7
PLATFORM_ON_SUPPORT = T.N_TILES + 8
POLE, POLE_TOP, POLE_FLAG, FLAG_TIP = T.N_TILES + 9, T.N_TILES + 10, T.N_TILES + 11, T.N_TILES + 12
N_DISPLAY = T.N_TILES + 13
POLE_HEIGHT = 10  # tiles of flagpole (ball and flag included) standing on the floor of the exit column
_POLE_OVER = np.zeros(T.N_TILES, dtype=np.bool_)  # tiles the flagpole is drawn over
_POLE_OVER[[T.EMPTY, T.HIDDEN, T.EXIT]] = True

# ---------------------------------------------------------------------------------------------
# Painting helpers


class _Canvas:
    """An RGB image with a coverage mask, painted with boolean shape masks."""

    def __init__(self, h: int, w: int, fill: tuple[int, int, int] | None = None) -> None:
        self.rgb = np.zeros((h, w, 3), dtype=np.uint8)
        self.mask = np.zeros((h, w), dtype=np.bool_)
        yy, xx = np.mgrid[0:h, 0:w]
        self.y = yy + 0.5  # pixel centres
        self.x = xx + 0.5
        if fill is not None:
            self.rgb[:] = fill
            self.mask[:] = True

    def paint(self, where: np.ndarray, color: tuple[int, int, int]) -> None:
        self.rgb[where] = color
        self.mask |= where

    def rect(self, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        """Pixels with y0 <= row < y1 and x0 <= column < x1."""
        return (self.y >= y0) & (self.y < y1) & (self.x >= x0) & (self.x < x1)

    def ellipse(self, cy: float, cx: float, ry: float, rx: float) -> np.ndarray:
        return ((self.y - cy) / ry) ** 2 + ((self.x - cx) / rx) ** 2 <= 1.0

    def outline(self, where: np.ndarray) -> np.ndarray:
        """The pixels of `where` that touch (4-neighbour) a pixel outside it."""
        pad = np.pad(where, 1, constant_values=False)
        inner = pad[:-2, 1:-1] & pad[2:, 1:-1] & pad[1:-1, :-2] & pad[1:-1, 2:]
        return where & ~inner

    def bitmap(self, y0: int, x0: int, rows: list[str]) -> np.ndarray:
        """Pixels set ('X') in a small glyph placed at (y0, x0)."""
        out = np.zeros_like(self.mask)
        for r, line in enumerate(rows):
            for c, ch in enumerate(line):
                if ch == "X":
                    out[y0 + r, x0 + c] = True
        return out


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(int(round(a[i] * (1 - t) + b[i] * t)) for i in range(3))  # type: ignore[return-value]


_QUESTION_GLYPH = [".XXXX.", "XX..XX", "....XX", "...XX.", "..XX..", "......", "..XX..", "..XX.."]

# ---------------------------------------------------------------------------------------------
# Tiles


def _ground() -> _Canvas:
    base, dark, light = (180, 92, 36), (96, 44, 16), (236, 160, 108)
    c = _Canvas(16, 16, base)
    # Two courses of long stones with staggered joints; each stone lit along its top and left edges.
    c.paint(c.rect(0, 1, 0, 16) | c.rect(8, 9, 0, 16) | c.rect(0, 7, 11, 12) | c.rect(9, 15, 5, 6), light)
    c.paint(c.rect(7, 8, 0, 16) | c.rect(15, 16, 0, 16) | c.rect(0, 7, 10, 11) | c.rect(8, 15, 4, 5), dark)
    c.paint(c.rect(3, 4, 3, 5) | c.rect(11, 12, 10, 13) | c.rect(4, 5, 13, 14), dark)  # pits in the rock
    return c


def _brick() -> _Canvas:
    base, mortar, light = (200, 76, 12), (56, 20, 4), (252, 160, 116)
    c = _Canvas(16, 16, base)
    c.paint(c.rect(0, 1, 0, 16), light)
    for course in range(4):
        y = course * 4
        c.paint(c.rect(y + 3, y + 4, 0, 16), mortar)
        for xj in (7, 15) if course % 2 == 0 else (3, 11):
            c.paint(c.rect(y, y + 3, xj, xj + 1), mortar)
    return c


def _block() -> _Canvas:
    base, light, dark = (196, 140, 84), (244, 208, 160), (104, 60, 24)
    c = _Canvas(16, 16, base)
    # Bevelled: light top-left, dark bottom-right, split along the anti-diagonal.
    upper_left = (c.x + c.y) < 16
    c.paint((c.rect(0, 3, 0, 16) | c.rect(0, 16, 0, 3)) & upper_left, light)
    c.paint((c.rect(13, 16, 0, 16) | c.rect(0, 16, 13, 16)) & ~upper_left, dark)
    c.paint(c.outline(c.rect(0, 16, 0, 16)), OUTLINE)
    return c


def _question() -> _Canvas:
    base, edge, mark = (244, 172, 28), (136, 64, 0), (252, 240, 208)
    c = _Canvas(16, 16, base)
    c.paint(c.outline(c.rect(0, 16, 0, 16)), edge)
    for y, x in ((2, 2), (2, 13), (13, 2), (13, 13)):
        c.paint(c.rect(y, y + 1, x, x + 1), edge)
    c.paint(c.bitmap(4, 6, _QUESTION_GLYPH), edge)  # shadow
    c.paint(c.bitmap(3, 5, _QUESTION_GLYPH), mark)
    return c


def _used() -> _Canvas:
    base, edge = (140, 76, 28), (64, 28, 4)
    c = _Canvas(16, 16, base)
    c.paint(c.outline(c.rect(0, 16, 0, 16)), edge)
    for y, x in ((2, 2), (2, 13), (13, 2), (13, 13)):
        c.paint(c.rect(y, y + 1, x, x + 1), edge)
    return c


_SUPPORT = _mix((236, 220, 176), SKY, 0.45)
_SUPPORT_LINE = _mix(_SUPPORT, SKY, 0.5)


def _support() -> _Canvas:
    c = _Canvas(16, 16, _SUPPORT)
    # Pale bark: thin vertical grooves, staggered short marks; low contrast against the sky.
    c.paint(
        c.rect(0, 16, 3, 4)
        | c.rect(0, 16, 11, 12)
        | c.rect(4, 6, 7, 8)
        | c.rect(11, 13, 15, 16)
        | c.rect(12, 14, 7, 8)
        | c.rect(2, 4, 15, 16),
        _SUPPORT_LINE,
    )
    return c


def _platform(on_support: bool) -> _Canvas:
    top, base, dark = (168, 236, 88), (60, 168, 40), (16, 80, 16)
    c = _support() if on_support else _Canvas(16, 16, SKY)
    c.paint(c.rect(0, 6, 0, 16), base)
    c.paint(c.rect(0, 2, 0, 16), top)
    c.paint(c.rect(5, 6, 0, 16) | c.rect(2, 5, 7, 8) | c.rect(2, 5, 15, 16), dark)
    return c


def _coin() -> _Canvas:
    gold, edge, shine = (252, 204, 36), (156, 92, 0), (255, 248, 184)
    c = _Canvas(16, 16, SKY)
    disc = c.ellipse(8, 8, 6.5, 4.5)
    c.paint(disc, gold)
    c.paint(c.outline(disc), edge)
    c.paint(c.rect(4, 12, 7, 8) & disc, shine)
    c.paint(c.rect(5, 11, 8, 9) & disc, edge)
    return c


_PIPE = {"base": (56, 180, 36), "light": (164, 236, 112), "dark": (16, 100, 16), "edge": (8, 40, 8)}


def _pipe(lip: bool, side: str) -> _Canvas:
    """One tile of pipe: `side` is 'L' or 'R' (half of a two-wide pipe) or '1' (a one-wide pipe)."""
    c = _Canvas(16, 16, SKY)
    x0 = 2 if side in "L1" else 0
    x1 = 14 if side in "R1" else 16
    body = c.rect(8 if lip else 0, 16, x0, x1)
    lip_box = c.rect(0, 8, 0, 16) if lip else np.zeros_like(c.mask)
    for part, (a, b) in ((body, (x0, x1)), (lip_box, (0, 16))):
        if not part.any():
            continue
        c.paint(part, _PIPE["base"])
        # Shading runs across the whole pipe: highlight on the left half, shadow on the right.
        if side in "L1":
            c.paint(part & (c.rect(0, 16, a + 2, a + 4) | c.rect(0, 16, a + 5, a + 6)), _PIPE["light"])
            c.paint(part & c.rect(0, 16, a, a + 1), _PIPE["edge"])
        if side in "R1":
            c.paint(part & (c.rect(0, 16, b - 4, b - 1) | c.rect(0, 16, b - 6, b - 5)), _PIPE["dark"])
            c.paint(part & c.rect(0, 16, b - 1, b), _PIPE["edge"])
    if lip:
        c.paint(c.rect(0, 1, 0, 16) | c.rect(7, 8, 0, 16), _PIPE["edge"])
    return c


def _cannon(top: bool) -> _Canvas:
    body, light, dark = (60, 60, 72), (148, 148, 164), (20, 20, 28)
    c = _Canvas(16, 16, SKY)
    if top:
        c.paint(c.rect(1, 16, 1, 15), dark)
        barrel = c.rect(2, 14, 2, 14)
        c.paint(barrel, body)
        c.paint(c.rect(2, 3, 2, 14) | c.rect(2, 14, 2, 3), light)
        c.paint(c.rect(11, 13, 1, 15), light)  # band
        c.paint(c.ellipse(6.5, 8, 3.2, 3.2), dark)  # muzzle
        c.paint(c.ellipse(6.0, 7.5, 1.2, 1.2), light)
    else:
        c.paint(c.rect(0, 16, 3, 13), body)
        c.paint(c.rect(0, 16, 3, 4) | c.rect(0, 16, 12, 13) | c.rect(0, 16, 7, 8), dark)
        c.paint(c.rect(0, 16, 5, 6), light)
    return c


_POLE_C, _POLE_EDGE, _FLAG_C, _FLAG_MARK = (188, 240, 160), (24, 88, 24), (252, 252, 252), (32, 168, 32)


def _pole(part: str) -> _Canvas:
    """A piece of the flagpole: 'shaft', 'top' (with the ball), 'flag', or 'flag_tip' (the tile left of 'flag')."""
    wide = _Canvas(16, 32, SKY)  # the flag tile and the tile to its left, side by side
    if part != "flag_tip":
        shaft = wide.rect(8 if part == "top" else 0, 16, 23, 25)
        wide.paint(wide.rect(0, 16, 22, 26) & (wide.y > (8 if part == "top" else 0)), _POLE_EDGE)
        wide.paint(shaft, _POLE_C)
    if part == "top":
        ball = wide.ellipse(5, 24, 3.5, 3.5)
        wide.paint(ball, _FLAG_MARK)
        wide.paint(wide.outline(ball), _POLE_EDGE)
        wide.paint(wide.rect(3, 5, 22, 23), _POLE_C)
    if part in ("flag", "flag_tip"):
        # A pennant hanging left of the pole, pointing away from it, with an emblem.
        pennant = (wide.x > 7) & (wide.x < 23) & (np.abs(wide.y - 7.5) <= (wide.x - 7) * (7.0 / 16.0))
        wide.paint(pennant, _FLAG_C)
        wide.paint(wide.outline(pennant) & (wide.x < 22), _POLE_EDGE)
        wide.paint(wide.ellipse(7.5, 17.5, 2.6, 2.2), _FLAG_MARK)
    c = _Canvas(16, 16)
    half = slice(0, 16) if part == "flag_tip" else slice(16, 32)
    c.rgb, c.mask = wide.rgb[:, half].copy(), wide.mask[:, half].copy()
    return c


def _build_tiles() -> np.ndarray:
    patches = np.empty((N_DISPLAY, 16, 16, 3), dtype=np.uint8)
    sky = _Canvas(16, 16, SKY).rgb
    brick = _brick().rgb
    table = {
        T.EMPTY: sky,
        T.GROUND: _ground().rgb,
        T.BLOCK: _block().rgb,
        T.BRICK: brick,
        T.QUESTION: _question().rgb,
        T.BRICK_COIN: brick,
        T.USED: _used().rgb,
        T.HIDDEN: sky,
        T.PLATFORM: _platform(False).rgb,
        T.PLATFORM_BG: _support().rgb,
        T.COIN: _coin().rgb,
        T.PIPE: _pipe(False, "1").rgb,
        T.CANNON: _cannon(False).rgb,
        T.EXIT: _pole("shaft").rgb,
        PIPE_TOP_L: _pipe(True, "L").rgb,
        PIPE_TOP_R: _pipe(True, "R").rgb,
        PIPE_TOP_1: _pipe(True, "1").rgb,
        PIPE_BODY_L: _pipe(False, "L").rgb,
        PIPE_BODY_R: _pipe(False, "R").rgb,
        PIPE_BODY_1: _pipe(False, "1").rgb,
        CANNON_TOP: _cannon(True).rgb,
        CANNON_BASE: _cannon(False).rgb,
        PLATFORM_ON_SUPPORT: _platform(True).rgb,
        POLE: _pole("shaft").rgb,
        POLE_TOP: _pole("top").rgb,
        POLE_FLAG: _pole("flag").rgb,
        FLAG_TIP: _pole("flag_tip").rgb,
    }
    assert len(table) == N_DISPLAY
    for i, rgb in table.items():
        patches[i] = rgb
    patches.setflags(write=False)
    return patches


# ---------------------------------------------------------------------------------------------
# Creatures: each sprite is (rgb, mask, dx, dy), drawn with its top-left at the body's top-left + (dx, dy).

Sprite = tuple[np.ndarray, np.ndarray, int, int]


def _player(facing_right: bool) -> _Canvas:
    red, skin, hair, blue, shoe, eye = (216, 40, 0), (252, 188, 124), (104, 56, 8), (28, 40, 176), (96, 48, 8), BLACK
    c = _Canvas(16, 12)
    # Drawn facing right; mirrored for left.
    c.paint(c.rect(0, 3, 2, 9) | c.rect(2, 3, 2, 11), red)  # cap and brim
    c.paint(c.rect(3, 8, 2, 10) | c.rect(5, 7, 10, 11), skin)  # face and nose
    c.paint(c.rect(3, 7, 1, 3) | c.rect(6, 7, 3, 4), hair)  # sideburn
    c.paint(c.rect(4, 6, 7, 8), eye)
    c.paint(c.rect(6, 7, 7, 10), hair)  # moustache
    c.paint(c.rect(8, 12, 1, 11), red)  # shirt and arms
    c.paint(c.rect(10, 12, 0, 2) | c.rect(10, 12, 10, 12), skin)  # hands
    c.paint(c.rect(9, 14, 3, 9) | c.rect(8, 9, 3, 4) | c.rect(8, 9, 7, 8), blue)  # overalls
    c.paint(c.rect(10, 11, 4, 5) | c.rect(10, 11, 6, 7), (252, 220, 80))  # buttons
    c.paint(c.rect(14, 16, 1, 5) | c.rect(14, 16, 7, 11), shoe)
    if not facing_right:
        c.rgb = c.rgb[:, ::-1].copy()
        c.mask = c.mask[:, ::-1].copy()
    return c


def _walker() -> _Canvas:
    brown, dark, tan, white = (168, 80, 20), (56, 24, 4), (240, 200, 148), WHITE
    c = _Canvas(16, 14)
    head = c.ellipse(7.0, 7.0, 7.0, 7.0) & (c.y < 12)
    c.paint(head, brown)
    c.paint(c.outline(head) & (c.y < 6), dark)
    c.paint(c.rect(10, 14, 4, 10), tan)  # stem
    for ex in (4.5, 9.5):
        c.paint(c.ellipse(6.5, ex, 2.2, 1.6), white)
    c.paint(c.rect(6, 9, 4, 5) | c.rect(6, 9, 9, 10), BLACK)  # pupils
    c.paint(c.rect(4, 5, 2, 6) | c.rect(4, 5, 8, 12), dark)  # frowning brows
    c.paint(c.rect(14, 16, 1, 6) | c.rect(14, 16, 8, 13) | c.rect(13, 14, 2, 5) | c.rect(13, 14, 9, 12), dark)
    return c


def _ledge_turner(facing_right: bool) -> _Canvas:
    shell, rim, head, dark, foot = (208, 36, 24), (252, 236, 184), (252, 196, 64), (88, 12, 8), (232, 128, 24)
    c = _Canvas(16, 14)
    # Drawn facing left (the way enemies wake up walking); mirrored for right.
    dome = c.ellipse(11.0, 8.5, 6.0, 5.5) & (c.y < 14)
    c.paint(dome, shell)
    c.paint(c.rect(12, 14, 3, 14) & c.ellipse(11, 8.5, 6.5, 6), rim)
    c.paint(c.outline(dome) & (c.y < 12), dark)
    c.paint((np.abs(c.x - 8.5) < 0.6) & (c.y > 6) & (c.y < 12) | c.rect(8, 9, 5, 12), dark)  # plates
    h = c.ellipse(3.5, 3.0, 3.2, 2.8)
    c.paint(h | c.rect(5, 10, 2, 5), head)
    c.paint(c.rect(2, 4, 2, 3), BLACK)  # eye
    c.paint(c.rect(14, 16, 2, 6) | c.rect(14, 16, 9, 13), foot)
    if facing_right:
        c.rgb = c.rgb[:, ::-1].copy()
        c.mask = c.mask[:, ::-1].copy()
    return c


def _spiky(facing_right: bool) -> _Canvas:
    body, dark, spike, face, foot = (104, 40, 152), (40, 8, 64), (248, 248, 240), (252, 196, 148), (232, 128, 24)
    c = _Canvas(16, 14)
    # Drawn facing left; mirrored for right.
    for sx in (3.0, 7.0, 11.0):
        tri = (c.y >= 0.5) & (c.y < 8) & (np.abs(c.x - sx) <= (c.y - 0.5) * 0.36 + 0.3)
        c.paint(tri, spike)
        c.paint(c.outline(tri) & (c.y > 4), (160, 160, 168))
    shell = c.ellipse(10.0, 7.0, 5.5, 7.0) & (c.y < 14)
    c.paint(shell, body)
    c.paint(c.outline(shell), dark)
    c.paint(c.ellipse(10.5, 3.0, 2.6, 2.4), face)
    c.paint(c.rect(9, 11, 2, 3), BLACK)
    c.paint(c.rect(14, 16, 2, 6) | c.rect(14, 16, 8, 12), foot)
    if facing_right:
        c.rgb = c.rgb[:, ::-1].copy()
        c.mask = c.mask[:, ::-1].copy()
    return c


WING_PX = 6  # wings stick out this far on each side of a winged enemy
WING_UP_PX = 4  # and this far above it when raised


def _with_wings(body: _Canvas, up: bool) -> _Canvas:
    """The body with a white wing on each side, raised (`up`) or lowered, drawn behind it."""
    h, w = body.mask.shape
    c = _Canvas(h + WING_UP_PX, w + 2 * WING_PX)
    cy = WING_UP_PX + (0.0 if up else 4.5)
    for cx, sign in ((WING_PX - 1.0, -1), (WING_PX + w + 1.0, 1)):
        wing = c.ellipse(cy, cx, 3.2, 4.2) | c.ellipse(cy + 1.8 if up else cy - 1.8, cx + 2.5 * sign, 1.6, 2.2)
        c.paint(wing, WHITE)
        c.paint(c.outline(wing), (96, 96, 120))
        # Feather lines.
        c.paint(
            c.rect(int(cy), int(cy) + 1, 0, c.mask.shape[1]) & wing & ~c.outline(wing) & ((c.x - cx) * sign > 0.5),
            (176, 176, 196),
        )
    inside = body.mask
    c.rgb[WING_UP_PX:, WING_PX : WING_PX + w][inside] = body.rgb[inside]
    c.mask[WING_UP_PX:, WING_PX : WING_PX + w] |= inside
    return c


def _squashed(c: _Canvas) -> _Canvas:
    """The body flattened to half height, resting on the same floor."""
    h, w = c.mask.shape
    out = _Canvas(h, w)
    out.rgb[h // 2 :] = c.rgb[1::2]
    out.mask[h // 2 :] = c.mask[1::2]
    return out


def _sprite(c: _Canvas, dx: int = 0, dy: int = 0) -> Sprite:
    c.rgb.setflags(write=False)
    c.mask.setflags(write=False)
    return c.rgb, c.mask, dx, dy


def _build_sprites() -> dict[tuple, Sprite]:
    sprites: dict[tuple, Sprite] = {}
    for right in (False, True):
        body = _player(right)
        sprites["player", right, False] = _sprite(body)
        dead = _Canvas(*body.mask.shape)
        dead.rgb, dead.mask = body.rgb[::-1].copy(), body.mask[::-1].copy()
        sprites["player", right, True] = _sprite(dead)
        for kind, make in ((T.WALKER, lambda r: _walker()), (T.LEDGE_TURNER, _ledge_turner), (T.SPIKY, _spiky)):
            enemy = make(right)
            sprites[kind, False, right, False, False] = _sprite(enemy)
            sprites[kind, False, right, True, False] = _sprite(_squashed(enemy))
            for up in (False, True):
                winged = _with_wings(enemy, up)
                sprites[kind, True, right, False, up] = _sprite(winged, -WING_PX, -WING_UP_PX)
                sprites[kind, True, right, True, up] = _sprite(_squashed(winged), -WING_PX, -WING_UP_PX)
    return sprites


_TILE_PATCHES: np.ndarray | None = None
_SPRITES: dict[tuple, Sprite] | None = None


def tile_patches() -> np.ndarray:
    """The (N_DISPLAY, 16, 16, 3) uint8 tile pictures, indexed by display id (tile ids come first)."""
    global _TILE_PATCHES
    if _TILE_PATCHES is None:
        _TILE_PATCHES = _build_tiles()
    return _TILE_PATCHES


def creature_sprites() -> dict[tuple, Sprite]:
    """The creatures' sprites, built on first use: ("player", facing_right, dead) and, per enemy kind,
    (kind, winged, facing_right, squashed, wings_up)."""
    global _SPRITES
    if _SPRITES is None:
        _SPRITES = _build_sprites()
    return _SPRITES


# ---------------------------------------------------------------------------------------------
# Which picture each tile shows


def display_ids(tiles: np.ndarray, exit_col: int) -> np.ndarray:
    """The display id of every tile: the tile id, or a variant chosen from the neighbours.

    Pipes get a lip where the tile above is not pipe and a left/right half from their
    place in a horizontal run; cannons get a barrel on top; a platform over supports
    keeps the supports behind it; the exit column gets a flagpole standing on its floor.
    """
    rows, cols = tiles.shape
    disp = tiles.astype(np.int16)
    above = np.full_like(tiles, T.EMPTY)
    above[1:] = tiles[:-1]
    below = np.full_like(tiles, T.EMPTY)
    below[:-1] = tiles[1:]

    pipe = tiles == T.PIPE
    if pipe.any():
        col = np.arange(cols)
        last_other = np.maximum.accumulate(np.where(pipe, -1, col[None, :]), axis=1)
        odd = ((col[None, :] - last_other - 1) % 2) == 1
        next_pipe = np.zeros_like(pipe)
        next_pipe[:, :-1] = pipe[:, 1:]
        top = above != T.PIPE
        left = pipe & ~odd & next_pipe
        right = pipe & odd
        single = pipe & ~odd & ~next_pipe
        for part, lipped, body in (
            (left, PIPE_TOP_L, PIPE_BODY_L),
            (right, PIPE_TOP_R, PIPE_BODY_R),
            (single, PIPE_TOP_1, PIPE_BODY_1),
        ):
            disp[part & top] = lipped
            disp[part & ~top] = body
    cannon = tiles == T.CANNON
    if cannon.any():
        disp[cannon & (above != T.CANNON)] = CANNON_TOP
        disp[cannon & (above == T.CANNON)] = CANNON_BASE
    disp[(tiles == T.PLATFORM) & (below == T.PLATFORM_BG)] = PLATFORM_ON_SUPPORT

    if 0 <= exit_col < cols:
        column = tiles[:, exit_col]
        marker = np.flatnonzero(column == T.EXIT)
        exit_row = int(marker[0]) if marker.size else -1
        floor = np.flatnonzero(T.FLOOR[column[exit_row + 1 :]])
        base = exit_row + 1 + int(floor[0]) if floor.size else rows
        top_row = max(0, min(base - POLE_HEIGHT, exit_row if exit_row >= 0 else rows))
        for r in range(top_row, base):
            if _POLE_OVER[column[r]]:
                disp[r, exit_col] = POLE_TOP if r == top_row else (POLE_FLAG if r == top_row + 1 else POLE)
        flag_row = top_row + 1
        if (
            flag_row < base
            and disp[flag_row, exit_col] == POLE_FLAG
            and exit_col > 0
            and _POLE_OVER[tiles[flag_row, exit_col - 1]]
        ):
            disp[flag_row, exit_col - 1] = FLAG_TIP
    return disp
