"""Foresight's paths over the game view: where each move the agent could make would take it, and the one it made.

A genome that sees foresight weighs, at each decision, where each of its candidate moves leads
(`tilerunner.envs.foresight`). `Playback(foresee=True)` keeps what it foresaw at its last decision
(`Foreseen`), and `draw_foreseen` draws that over the game view until the next decision: each move
that applies as a thin line of the player's centre in its fate's colour (`panels.FATE_COLOURS`),
ending in a dot, or a cross where it dies; the move the network chose (the one its buttons begin)
thicker, with a bigger end. Every line has a dark edge, so it reads over sky, bricks and ground
alike. `draw_fate_key` is the small key to the colours in the view's top-right corner. The viewer
draws both into its game view and `record` into each GIF or PNG frame, each at its own scale, so the
lines stay thin however large the picture.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from tilerunner.envs import foresight as F
from tilerunner.envs import physics as P
from tilerunner.envs import render
from tilerunner.evolve.core.playback import Foreseen, Playback
from tilerunner.evolve.viewer.panels import FATE_COLOURS, OVERLAY_FILL, TEXT

EDGE = (16, 16, 24)  # the dark edge around every line and mark
VIEW_PX = 16 * render.TILE_PX  # the game view's width in game pixels (`render.frame`'s 16 columns)
KEY_MARGIN = 6  # the key's distance from the view's top-right corner, in screen pixels
KEY_PAD = 5  # and from its box's edge to its text
KEY_SAMPLE = 14  # the length of the line shown beside each fate's name
KEY_FONT = 16  # the key's text size in GIF and PNG frames: the viewer's small text,
KEY_FONT_1X = 14  # or a little smaller at scale 1, where the key would fill too much of a 256 px picture


def to_screen(xy: np.ndarray, camera: int, scale: tuple[float, float]) -> list[tuple[int, int]]:
    """Points of the player's centre on the screen, for its top-left `xy` (rows of level sub-pixels), with the view
    starting at level pixel `camera` and `scale` screen pixels per game pixel across and down."""
    x = (xy[:, 0] / P.SUB + render.PLAYER_W_PX / 2 - camera) * scale[0]
    y = (xy[:, 1] / P.SUB + P.PLAYER_H / P.SUB / 2) * scale[1]
    return [(round(a), round(b)) for a, b in zip(x.tolist(), y.tolist())]


def line_widths(scale: tuple[float, float]) -> tuple[int, int]:
    """(a path's width, the chosen path's) in screen pixels: a game pixel's worth (at least 1), and twice that and 1."""
    thin = max(1, round(min(scale)))
    return thin, 2 * thin + 1


def _polyline(surface, colour: tuple[int, int, int], points: list[tuple[int, int]], width: int) -> None:
    """A line through `points`, `width` pixels wide, with round joints (pygame leaves notches in wide lines)."""
    pg = render.load_pygame()
    pg.draw.lines(surface, colour, False, points, width)
    if width >= 3:
        for p in points:
            pg.draw.circle(surface, colour, p, width // 2)


def _end_mark(surface, colour: tuple[int, int, int], at: tuple[int, int], fate: int, size: int) -> None:
    """Where a path ends: a cross if it dies, else a dot, `size` pixels from its centre, edged dark."""
    pg = render.load_pygame()
    x, y = at
    if fate == F.DIES:
        w = max(2, size // 2)
        for edge, width in ((EDGE, w + 2), (colour, w)):
            pg.draw.line(surface, edge, (x - size, y - size), (x + size, y + size), width)
            pg.draw.line(surface, edge, (x - size, y + size), (x + size, y - size), width)
    else:
        pg.draw.circle(surface, EDGE, at, size + 1)
        pg.draw.circle(surface, colour, at, size)


def draw_path(surface, fate: int, points: list[tuple[int, int]], width: int) -> None:
    """One foreseen path: a line in its fate's colour with a dark edge, and its end marked."""
    colour = FATE_COLOURS[fate]
    _polyline(surface, EDGE, points, width + 2)
    _polyline(surface, colour, points, width)
    _end_mark(surface, colour, points[-1], fate, width + 1)


def draw_foreseen(surface, foreseen: Foreseen, tiles: np.ndarray, state: np.ndarray) -> None:
    """What foresight foresaw at the last decision, over the game view `surface` (drawn from `render.frame` of
    `tiles` and `state`, scaled to fill it): every path, the chosen one last and thicker."""
    scale = (surface.get_width() / VIEW_PX, surface.get_height() / (tiles.shape[0] * render.TILE_PX))
    camera = render.camera_x(tiles, state)
    thin, thick = line_widths(scale)
    start = np.array([foreseen.origin], np.int64)
    chosen = None
    for move, fate, path in foreseen.paths:
        points = to_screen(np.concatenate([start, path]), camera, scale)
        if move == foreseen.chosen:
            chosen = (fate, points)
        else:
            draw_path(surface, fate, points, thin)
    if chosen is not None:
        draw_path(surface, *chosen, thick)


# The key's lines: each fate's name beside a line of its colour, then the chosen move's thick line.
KEY_LINES = (*((name, FATE_COLOURS[fate], 3) for fate, name in enumerate(F.FATE_NAMES)), ("chosen", TEXT, 5))


def fate_key_rect(surface, font):
    """Where `draw_fate_key` draws its box in `font`: the top-right corner of `surface` (a pygame Rect)."""
    pg = render.load_pygame()
    w = KEY_SAMPLE + 5 + max(font.size(name)[0] for name, _, _ in KEY_LINES) + 2 * KEY_PAD
    h = len(KEY_LINES) * font.get_height() + 2 * KEY_PAD
    return pg.Rect(surface.get_width() - KEY_MARGIN - w, KEY_MARGIN, w, h)


def draw_fate_key(surface, font):
    """The key to the paths, a line each in `font` (the fates' colours, the chosen move's thick line), in a
    small dark box at the top right of `surface`; its Rect."""
    pg = render.load_pygame()
    box = fate_key_rect(surface, font)
    shade = pg.Surface(box.size, pg.SRCALPHA)
    shade.fill((*OVERLAY_FILL, 200))
    surface.blit(shade, box.topleft)
    x, y = box.x + KEY_PAD, box.y + KEY_PAD
    for name, colour, width in KEY_LINES:
        mid = y + font.get_height() // 2
        pg.draw.line(surface, colour, (x, mid), (x + KEY_SAMPLE, mid), width)
        surface.blit(font.render(name, True, TEXT), (x + KEY_SAMPLE + 5, y + 1))
        y += font.get_height()
    return box


@cache
def key_font(size: int):
    """pygame's default font at `size` (the viewer's small text is 16), made once."""
    pg = render.load_pygame()
    pg.font.init()
    return pg.font.Font(None, size)


def game_picture(playback: Playback, scale: int = 1) -> np.ndarray:
    """The game view of `playback` now, uint8 (height, width, 3) at `scale` pixels per game pixel, with what
    foresight foresaw at the last decision drawn over it (as the viewer draws it) when the playback kept that."""
    image = render.frame(playback.tiles, playback.state, playback.enemies)
    if scale > 1:
        image = np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)
    if playback.foreseen is None:
        return image
    pg = render.load_pygame()
    surface = pg.surfarray.make_surface(image.swapaxes(0, 1))
    draw_foreseen(surface, playback.foreseen, playback.tiles, playback.state)
    draw_fate_key(surface, key_font(KEY_FONT if scale > 1 else KEY_FONT_1X))
    return pg.surfarray.array3d(surface).swapaxes(0, 1)
